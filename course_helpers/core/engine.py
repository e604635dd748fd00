"""Connect to the Docker engine and turn its failures into one clear sentence.

Introduced in chapter 00 (setup). Similar to what the ``docker`` CLI does
before every command: find the engine (``DOCKER_HOST`` or the default socket)
and ask for its version.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .errors import DockerRefused, EngineUnavailable, as_clause

if TYPE_CHECKING:  # the SDK is imported on first use: a replaying Lab never needs it
    import docker

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
#: Seconds the first request may take: an address that accepts and never answers fails
#: this fast, instead of after the per-request timeout.
CONNECT_TIMEOUT = 5



def connection_errors() -> tuple[type[BaseException], ...]:
    """What goes wrong underneath when the engine is gone or never answered (importing
    requests and urllib3, which the Docker SDK needs anyway, on first use)."""
    import requests
    import urllib3

    return (
        requests.exceptions.ConnectionError,
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.Timeout,
        urllib3.exceptions.HTTPError,
        ConnectionError,
    )


def __getattr__(name: str) -> Any:
    # CONNECTION_ERRORS, built on first use so that importing this module (as every
    # replaying Lab does) costs no import of the Docker SDK and its HTTP stack.
    if name == "CONNECTION_ERRORS":
        return connection_errors()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def context_host() -> str | None:
    """The engine address of the docker CLI's current context, unless it is ``default``.

    Similar to ``docker context inspect --format '{{.Endpoints.docker.Host}}'``.
    Rootless engines and Docker Desktop register such contexts; ``docker.from_env()``
    alone ignores them.
    """
    try:
        from docker.context import ContextAPI

        context = ContextAPI.get_current_context()
    except Exception:  # noqa: BLE001 - an unreadable CLI config: fall back to the defaults
        return None
    if context is None or context.name == "default":
        return None
    return context.Host or None


def engine_address() -> str:
    """Where the course looks for the engine, in the CLI's order: ``DOCKER_HOST``, else
    the current ``docker context``, else the default socket."""
    return os.environ.get("DOCKER_HOST") or context_host() or DEFAULT_SOCKET


def _explain_connection_failure(exc: BaseException, host: str | None = None) -> str:
    """One sentence for a failed connection, chosen by what lies underneath."""
    import docker

    text = repr(exc) + repr(exc.__context__) + repr(exc.__cause__)
    host = host or engine_address()
    if "PermissionError" in text or "Permission denied" in text:
        return (
            f"You may not use the Docker socket at {host}: add your user to the "
            "'docker' group (`sudo usermod -aG docker $USER`, then log in again) or run as root."
        )
    if isinstance(exc, docker.errors.TLSParameterError) or any(
            word in text for word in ("SSLError", "SSL:", "certificate", "TLSParameterError")):
        return (
            f"The TLS settings for the engine at {host} do not work (DOCKER_TLS_VERIFY="
            f"{os.environ.get('DOCKER_TLS_VERIFY', '')!r}, DOCKER_CERT_PATH="
            f"{os.environ.get('DOCKER_CERT_PATH', '')!r}): point DOCKER_CERT_PATH at the folder "
            "holding ca.pem, cert.pem and key.pem, or unset DOCKER_TLS_VERIFY."
        )
    silent = "timed out" in text.lower() or "Timeout" in text
    if os.environ.get("DOCKER_HOST") and host == os.environ["DOCKER_HOST"]:
        if silent:
            return (
                f"DOCKER_HOST is set to {host} but what listens there does not answer like a "
                f"Docker engine (no reply within {CONNECT_TIMEOUT} s): fix DOCKER_HOST or unset "
                "it to use the local engine."
            )
        return (
            f"DOCKER_HOST is set to {host} but no Docker engine answers there: "
            "fix DOCKER_HOST or unset it to use the local engine."
        )
    return (
        f"No Docker engine answers at {host}: start one (`make engine`, or "
        "`sudo dockerd &`, or open Docker Desktop) and run this cell again."
    )


def connect(timeout: int = 30, base_url: str | None = None) -> docker.DockerClient:
    """Connect to the engine. Similar to ``docker version``.

    Args:
        timeout: seconds allowed for each API request.
        base_url: the engine's address (``unix:///path/docker.sock``); by
            default ``DOCKER_HOST`` or the CLI's current context.

    Returns:
        A connected ``docker.DockerClient``.

    Raises:
        EngineUnavailable: no engine answers, the socket may not be used, or
            ``DOCKER_HOST`` points nowhere (or at something that never answers: that
            fails within :data:`CONNECT_TIMEOUT` seconds), or the TLS settings do not
            work. The message names the fix.
    """
    import docker

    if not base_url and not os.environ.get("DOCKER_HOST"):
        base_url = context_host()
    first = min(timeout, CONNECT_TIMEOUT)  # the first answer must come quickly
    try:
        if base_url:
            client = docker.DockerClient(base_url=base_url, timeout=first)
        else:
            client = docker.from_env(timeout=first)
        client.ping()
    except (docker.errors.DockerException, *connection_errors()) as exc:
        raise EngineUnavailable(_explain_connection_failure(exc, base_url)) from None
    client.api.timeout = timeout
    return client


def docker_host_set() -> bool:
    """True when ``DOCKER_HOST`` names an engine explicitly (a broken one is then an error
    to report, never a reason to fall back to replay)."""
    return bool(os.environ.get("DOCKER_HOST", "").strip())


def engine_answers() -> bool:
    """True when an engine answers; never raises."""
    try:
        connect(timeout=5).close()
    except EngineUnavailable:
        return False
    return True


def docker_reason(exc: docker.errors.APIError) -> str:
    """Docker's own explanation of a refusal, as the CLI prints it."""
    explanation = exc.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode(errors="replace")
    return str(explanation or exc).strip()


#: What to do about Docker's commonest refusals: (words in Docker's reason, the fix).
_FIXES: tuple[tuple[str, str], ...] = (
    ("pre-defined network",
     "the default networks bridge, host and none always exist, so remove a network you "
     "created instead (`docker network ls` lists them)"),
    ("active endpoints",
     "disconnect or remove the containers attached to it first (`docker network inspect` "
     "lists them)"),
    ("cannot join own network",
     "a container cannot join its own network namespace, so pass another running container "
     "as the target"),
    ("non running container",
     "start that container first (`docker start NAME`) or pick a running one"),
    ("is not running",
     "start that container first (`docker start NAME`) or start a new one"),
    ("already in progress",
     "wait until Docker has finished removing it and run the cell again"),
    ("already in use",
     "choose another name, or remove the object that holds it if it is yours"),
    ("already exists",
     "choose another name, or remove the object that holds it if it is yours"),
)


def refusal_fix(status: int | None, reason: str, what: str = "") -> str:
    """What to do about a refusal, as a clause (no full stop).

    Args:
        status: the HTTP status, if any.
        reason: Docker's own words.
        what: what was being done (``look up network X``): a missing network is sent to
            ``docker network ls``, a missing container to ``docker ps -a``.
    """
    lowered = reason.lower()
    for words, fix in _FIXES:
        if words in lowered:
            return fix
    if status == 404:
        about = f"{what} {lowered}"
        containers = ("`docker ps -a` (course containers remove themselves when their lifetime "
                      "ends)")
        if "network" in about and "container" not in about:
            return "check the name with `docker network ls`"
        if "container" in about or what.startswith("run `"):
            return f"check the name with {containers}"
        return f"check the name with `docker network ls` or {containers}"
    if status == 409:
        return "resolve the conflict Docker names and run the cell again"
    return "correct what Docker names and run the cell again"


def refusal(what: str, exc: docker.errors.APIError) -> DockerRefused:
    """A :class:`DockerRefused` for an SDK ``APIError``, keeping Docker's reason."""
    reason = docker_reason(exc)
    status = exc.status_code
    return DockerRefused(
        f"Docker refused to {what}: {as_clause(reason)} (HTTP {status}); "
        f"{refusal_fix(status, reason, what)}.",
        status=status, reason=reason,
    )


def engine_gone(what: str, exc: BaseException | None = None) -> EngineUnavailable:
    """The one sentence for an engine that stopped answering in the middle of a session."""
    if exc is not None and ("PermissionError" in repr(exc) or "Permission denied" in repr(exc)):
        return EngineUnavailable(_explain_connection_failure(exc))
    return EngineUnavailable(
        f"The Docker engine went away while trying to {what}: start it again (`make engine`, "
        "or `sudo dockerd &`) and re-run the cell; what was half-made is removed when the Lab "
        "closes or by the next session."
    )


@contextlib.contextmanager
def translated(what: str) -> Iterator[None]:
    """Turn SDK and connection errors raised inside into :class:`CourseError`.

    Args:
        what: a short description of the request ("start a container"), used
            in the message.

    Raises:
        EngineUnavailable: the engine stopped answering mid-way.
        DockerRefused: the engine answered with an error; Docker's reason is kept.
    """
    try:
        yield
    except Exception as exc:
        import docker  # raised by the SDK, so it is imported already

        if isinstance(exc, docker.errors.APIError):
            raise refusal(what, exc) from None
        if isinstance(exc, connection_errors()):
            raise engine_gone(what, exc) from exc
        if not isinstance(exc, docker.errors.DockerException) \
                or "Error while fetching server API version" not in str(exc):
            raise
        raise engine_gone(what, exc) from exc
