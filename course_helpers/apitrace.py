"""One ``docker run``, seen as the HTTP requests it makes and the events it causes.

Introduced in chapter 04 (Docker平台架构图解): Docker is a client/server
system. The ``docker`` CLI is run for real, with ``DOCKER_HOST`` pointing at
a :class:`~course_helpers.httplog.LoggingProxy` that forwards to the engine, so
every request line and status is seen as it passes. Similar to::

    DOCKER_HOST=unix:///tmp/proxy.sock docker run --rm --network none IMAGE true
    docker events --since T --filter label=…

Where no ``docker`` CLI is installed (a notebook image with only the Python
SDK), the same container is run through the SDK and its requests are read
from the SDK's response hook instead; the trace says which way was used.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import docker

from .engine import translated
from .errors import CourseError
from .httplog import LoggingProxy
from .replay import recorded, replayable
from .sessions import LABEL_SESSION

if TYPE_CHECKING:
    from .lab import Lab

VIA_CLI = "docker CLI through a logging proxy"
VIA_SDK = "Docker SDK for Python (no docker CLI found), requests read from its response hook"
DEFAULT_SOCKET = "/var/run/docker.sock"
#: Seconds the traced ``docker run`` may take before it is stopped.
RUN_TIMEOUT = 60
_VERSION_PREFIX = re.compile(r"^/v\d+\.\d+(?=/)")


@replayable
@dataclass(frozen=True)
class ApiCall:
    """One HTTP request the client made and the daemon's answer.

    Attributes:
        seq: its place in the trace (0, 1, …), in the order the requests were sent.
        connection: which client connection carried it (attach gets its own).
        method: ``HEAD``, ``GET``, ``POST`` …
        path: the request target as sent (``/v1.41/containers/create?name=…``).
        route: the same with the API version, container id and name replaced by
            ``{id}`` and ``{name}`` (``/containers/{id}/start``).
        status: the daemon's HTTP status (101 when attach took the connection over).
    """

    seq: int
    connection: int
    method: str
    path: str
    route: str
    status: int | None

    def __str__(self) -> str:
        return f"{self.method:<5} {self.route}  ->  {self.status}"


@replayable
@dataclass(frozen=True)
class EngineEvent:
    """One event the engine emitted about the traced container (``docker events``).

    Attributes:
        type: ``container`` …
        action: ``create``, ``attach``, ``start``, ``die``, ``destroy`` …
        name: the container's name.
        time_nano: when, in nanoseconds since the epoch (engine clock).
        exit_code: for ``die``, the exit code the engine reported.
    """

    type: str
    action: str
    name: str
    time_nano: int
    exit_code: str | None = None


@replayable
@dataclass(frozen=True)
class RunTrace:
    """What one ``docker run`` asked of the daemon, and what the daemon reported.

    Attributes:
        via: how the requests were seen (:data:`VIA_CLI` or :data:`VIA_SDK`).
        command: the command that was run.
        container: the container's name; container_id: its full id.
        client_agent: the ``User-Agent`` the client sent (``Docker-Client/28.2.2 (linux)``).
        server_agent: the ``Server`` header the daemon answered with.
        api_version: the daemon's ``Api-Version`` header.
        exit_code: the command's exit status (0: the container ran ``true``).
        calls: the requests, in the order they were sent.
        events: the engine's events for the container, in order.
    """

    via: str
    command: str
    container: str
    container_id: str
    client_agent: str
    server_agent: str
    api_version: str
    exit_code: int
    calls: tuple[ApiCall, ...]
    events: tuple[EngineEvent, ...]

    @property
    def requests(self) -> list[str]:
        """``METHOD route`` of every call, in order."""
        return [f"{c.method} {c.route}" for c in self.calls]

    def first(self, method: str, route_prefix: str) -> ApiCall | None:
        """The first call with this method whose route starts with ``route_prefix``."""
        return next((c for c in self.calls
                     if c.method == method and c.route.startswith(route_prefix)), None)

    @property
    def actions(self) -> list[str]:
        """The events' actions, in order (``create``, ``attach``, ``start`` …)."""
        return [e.action for e in self.events]


def route_of(path: str, container_id: str = "", name: str = "") -> str:
    """A request target without the machine-specific parts.

    Args:
        path: as sent, e.g. ``/v1.41/containers/3f…a1/wait?condition=removed``.
        container_id: the full id to replace with ``{id}``.
        name: the container name to replace with ``{name}``.

    Returns:
        e.g. ``/containers/{id}/wait?condition=removed``.
    """
    route = _VERSION_PREFIX.sub("", path)
    if container_id:
        route = route.replace(container_id, "{id}")
    if name:
        route = route.replace(name, "{name}")
    return route


def find_container_id(paths: list[str]) -> str:
    """The first full (64 hex digit) container id in a list of request targets, or ``""``."""
    for path in paths:
        match = re.search(r"/containers/([0-9a-f]{64})(?:/|$|\?)", path)
        if match:
            return match.group(1)
    return ""


def event_from(raw: dict[str, Any]) -> EngineEvent:
    """An :class:`EngineEvent` from one decoded ``/events`` message."""
    attributes = (raw.get("Actor") or {}).get("Attributes") or {}
    return EngineEvent(
        type=raw.get("Type", ""),
        action=raw.get("Action", raw.get("status", "")),
        name=attributes.get("name", ""),
        time_nano=int(raw.get("timeNano") or int(raw.get("time", 0)) * 10**9),
        exit_code=attributes.get("exitCode"),
    )


def rfc3339_to_unix(stamp: str) -> str:
    """``2026-01-02T03:04:05.123456789Z`` as ``"<seconds>.<nanoseconds>"`` (for ``--since``).

    Args:
        stamp: an RFC 3339 time with up to nine fractional digits, as
            ``docker info`` reports ``SystemTime``.
    """
    import datetime as dt

    match = re.fullmatch(r"(.+?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", stamp.strip())
    if not match:
        raise ValueError(f"not an RFC 3339 time: {stamp!r}")
    base, frac, zone = match.groups()
    zone = "+00:00" if zone == "Z" else zone
    seconds = int(dt.datetime.fromisoformat(base + zone).timestamp())
    return f"{seconds}.{(frac or '0')[:9].ljust(9, '0')}"


# -- the engine side ---------------------------------------------------------

def engine_socket(lab: Lab) -> str | None:
    """The unix socket the Lab's client talks to, or None for tcp/ssh engines."""
    host = os.environ.get("DOCKER_HOST", "")
    if host:
        return host[len("unix://"):] if host.startswith("unix://") else None
    adapter = getattr(lab.client.api, "_custom_adapter", None)
    path = getattr(adapter, "socket_path", None)
    if path:
        return path
    return DEFAULT_SOCKET if Path(DEFAULT_SOCKET).exists() else None


class _EventTap:
    """Reads the session's container events from ``since`` until ``name`` is destroyed."""

    def __init__(self, lab: Lab, name: str) -> None:
        self.name = name
        self.events: list[EngineEvent] = []
        self.done = threading.Event()
        since = rfc3339_to_unix(lab.client.api.info()["SystemTime"])
        self.stream = lab.client.api.events(
            since=since, filters={"label": f"{LABEL_SESSION}={lab.session}"}, decode=True)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        with contextlib.suppress(Exception):  # closing the stream ends the loop
            for raw in self.stream:
                event = event_from(raw)
                if event.name == self.name:
                    self.events.append(event)
                    if event.action == "destroy":
                        break
        self.done.set()

    def stop(self, timeout: float = 10) -> list[EngineEvent]:
        """Wait (at most ``timeout`` s) for the destroy event, then close the stream."""
        self.done.wait(timeout)
        with contextlib.suppress(Exception):
            self.stream.close()
        self.thread.join(timeout=2)
        return list(self.events)


def cli_args(lab: Lab, name: str) -> list[str]:
    """The ``docker run`` argv of the traced container: a course container.

    It carries the session's labels and the course limits, has no network and
    runs ``true``, so it exits at once and ``--rm`` removes it.
    """
    from .lab import MEM_LIMIT, PIDS_LIMIT

    args = ["docker", "run", "--rm", "--network", "none", "--name", name]
    for key, value in lab.labels.items():
        args += ["--label", f"{key}={value}"]
    args += ["--memory", MEM_LIMIT, "--pids-limit", str(PIDS_LIMIT),
             "--security-opt", "no-new-privileges", lab.image, "true"]
    return args


@recorded
def trace_docker_run(lab: Lab) -> RunTrace:
    """Run ``docker run --rm --network none IMAGE true`` and log every API request it makes.

    Similar to ``DOCKER_HOST=unix://PROXY docker run --rm --network none IMAGE true``
    with a logging proxy in front of the engine, while ``docker events`` watches.

    Args:
        lab: the session; the container carries its labels and limits.

    Returns:
        The trace: requests in order, with statuses, and the engine's events.

    Raises:
        CourseError: the run failed or timed out (its output is in the message).
    """
    lab._check_open()
    name = lab.name("traced")
    docker_cli = shutil.which("docker")
    upstream = engine_socket(lab)
    with translated("watch the engine's events"):
        tap = _EventTap(lab, name)
    ran = False
    try:
        if docker_cli and upstream:
            calls, agents, code, command = _run_cli(lab, name, docker_cli, upstream)
            via = VIA_CLI
        else:
            calls, agents, code, command = _run_sdk(lab, name)
            via = VIA_SDK
        ran = True
    finally:
        events = tap.stop(timeout=10 if ran else 0)
        _remove_if_left(lab, name)
    cid = find_container_id([path for _, path, _, _ in calls])
    return RunTrace(
        via=via, command=command, container=name, container_id=cid,
        client_agent=agents.get("user-agent", ""), server_agent=agents.get("server", ""),
        api_version=agents.get("api-version", ""), exit_code=code,
        calls=tuple(ApiCall(i, conn, method, path, route_of(path, cid, name), status)
                    for i, (method, path, status, conn) in enumerate(calls)),
        events=tuple(events),
    )


#: (method, target, status, connection) of each request; the agents' headers; exit; command.
_Run = tuple[list[tuple[str, str, int | None, int]], dict[str, str], int, str]


def _run_cli(lab: Lab, name: str, docker_cli: str, upstream: str) -> _Run:
    args = cli_args(lab, name)
    env = {k: v for k, v in os.environ.items()
           if k not in ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")}
    env["DOCKER_CLI_HINTS"] = "false"
    with LoggingProxy(upstream) as proxy:
        env["DOCKER_HOST"] = f"unix://{proxy.path}"
        try:
            done = subprocess.run([docker_cli, *args[1:]], env=env, capture_output=True,
                                  text=True, timeout=RUN_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise CourseError(f"`docker run` took longer than {RUN_TIMEOUT} s: check the engine "
                              "(`docker info`) and run the cell again.") from None
    if done.returncode != 0:
        raise CourseError(f"`docker run` failed (exit {done.returncode}): "
                          f"{done.stderr.strip()[:300]}")
    requests = proxy.requests
    agents: dict[str, str] = {}
    for r in requests:
        agents.setdefault("user-agent", r.headers.get("user-agent", ""))
        if "server" in r.response_headers:
            agents.setdefault("server", r.response_headers["server"])
            agents.setdefault("api-version", r.response_headers.get("api-version", ""))
    command = " ".join(args)
    calls = [(r.method, r.target, r.status, r.connection) for r in requests]
    return calls, agents, done.returncode, command


def _run_sdk(lab: Lab, name: str) -> _Run:
    from .lab import MEM_LIMIT, PIDS_LIMIT

    api = lab.client.api
    seen: list[tuple[str, str, int | None, int]] = []
    agents: dict[str, str] = {}

    def hook(response: Any, *args: object, **kwargs: object) -> None:
        url = urlsplit(response.request.url)
        seen.append((response.request.method, url.path + (f"?{url.query}" if url.query else ""),
                     response.status_code, 0))
        agents.setdefault("user-agent", response.request.headers.get("User-Agent", ""))
        agents.setdefault("server", response.headers.get("Server", ""))
        agents.setdefault("api-version", response.headers.get("Api-Version", ""))

    api.hooks["response"].append(hook)
    try:
        with translated(f"run {name}"):
            api.ping()
            host_config = api.create_host_config(
                network_mode="none", mem_limit=MEM_LIMIT, pids_limit=PIDS_LIMIT,
                security_opt=["no-new-privileges"])
            cid = api.create_container(lab.image, ["true"], name=name, labels=lab.labels,
                                       host_config=host_config)["Id"]
            api.start(cid)
            code = api.wait(cid)["StatusCode"]
            api.remove_container(cid)
    finally:
        api.hooks["response"].remove(hook)
    command = f"(SDK) create + start + wait + remove of {lab.image} true, as `docker run --rm`"
    return seen, agents, code, command


def _remove_if_left(lab: Lab, name: str) -> None:
    """Remove the traced container if a failed run left it (exact name, this session only)."""
    with contextlib.suppress(Exception):
        for found in lab.client.api.containers(
                all=True, filters={"name": name, "label": f"{LABEL_SESSION}={lab.session}"}):
            if f"/{name}" in found.get("Names", []):
                with contextlib.suppress(docker.errors.NotFound):
                    lab.client.api.remove_container(found["Id"], force=True)
