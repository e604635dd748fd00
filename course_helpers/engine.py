"""Connect to the Docker engine and turn its failures into one clear sentence.

Introduced in chapter 00 (setup). Similar to what the ``docker`` CLI does
before every command: find the engine (``DOCKER_HOST`` or the default socket)
and ask for its version.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import docker
import requests

from .errors import DockerRefused, EngineUnavailable

DEFAULT_SOCKET = "unix:///var/run/docker.sock"


def engine_address() -> str:
    """The address the SDK will try: ``DOCKER_HOST`` if set, else the default socket."""
    return os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET


def _explain_connection_failure(exc: BaseException) -> str:
    """One sentence for a failed connection, chosen by what lies underneath."""
    text = repr(exc)
    host = engine_address()
    if "PermissionError" in text or "Permission denied" in text:
        return (
            f"You may not use the Docker socket at {host}: add your user to the "
            "'docker' group (`sudo usermod -aG docker $USER`, then log in again) or run as root."
        )
    if os.environ.get("DOCKER_HOST"):
        return (
            f"DOCKER_HOST is set to {host} but no Docker engine answers there: "
            "fix DOCKER_HOST or unset it to use the local engine."
        )
    return (
        f"No Docker engine answers at {host}: start one (`make engine`, or "
        "`sudo dockerd &`, or open Docker Desktop) and run this cell again."
    )


def connect(timeout: int = 30) -> docker.DockerClient:
    """Connect to the engine. Similar to ``docker version``.

    Args:
        timeout: seconds allowed for each API request.

    Returns:
        A connected ``docker.DockerClient``.

    Raises:
        EngineUnavailable: no engine answers, the socket may not be used, or
            ``DOCKER_HOST`` points nowhere. The message names the fix.
    """
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise EngineUnavailable(_explain_connection_failure(exc)) from None
    return client


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
    except docker.errors.APIError as exc:
        reason = docker_reason(exc)
        raise DockerRefused(
            f"Docker refused to {what}: {reason}.", status=exc.status_code, reason=reason
        ) from None
    except (requests.exceptions.ConnectionError, ConnectionError) as exc:
        raise EngineUnavailable(
            f"The Docker engine went away while trying to {what}: start it again "
            "(`make engine`) and re-run the cell; the next session removes anything half-made."
        ) from exc
