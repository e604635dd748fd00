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

:func:`daemon_process` finds the program at the other end of the engine's
socket (similar to ``ss -xlp src /var/run/docker.sock`` as root), to show that
the client and the daemon are two programs.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .core.engine import translated
from .core.errors import CourseError
from .core.httplog import LoggingProxy
from .core.procfs import read_proc
from .core.replay import recorded, replayable
from .core.sessions import LABEL_SESSION

if TYPE_CHECKING:
    from .core.lab import Lab

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

    @property
    def version(self) -> str:
        """The API version the request was sent with (``1.41``), or ``""`` for an unversioned
        path (the CLI's first ``/_ping``)."""
        match = _VERSION_PREFIX.match(self.path)
        return match.group(0)[2:] if match else ""

    @property
    def versioned_route(self) -> str:
        """The route with its version prefix, as sent: ``/v1.41/containers/{id}/start``."""
        return f"/v{self.version}{self.route}" if self.version else self.route


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
        cli_path: where the ``docker`` program that ran lives (symlinks resolved);
            ``""`` when the SDK was used instead.
        client_version: the CLI's own version (``docker version``'s ``Client.Version``).
        client_api_max: the newest API the CLI speaks (``Client.DefaultAPIVersion``);
            ``""`` for the SDK, which adopts whatever the daemon reports.
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
    cli_path: str = ""
    client_version: str = ""
    client_api_max: str = ""

    @property
    def negotiated_api(self) -> str:
        """The API version the client should speak: see :func:`negotiated_api`."""
        return negotiated_api(self.client_api_max, self.api_version)

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

    @property
    def versions_after_ping(self) -> set[str]:
        """The API versions in the paths of every call after the first ping."""
        return {c.version for c in self.calls[1:]}

    def between(self, first: ApiCall, last: ApiCall) -> int:
        """How many calls came after ``first`` and before ``last``."""
        return sum(1 for c in self.calls if first.seq < c.seq < last.seq)


def api_tuple(version: str) -> tuple[int, ...]:
    """``"1.41"`` as ``(1, 41)``, for comparing API versions (``"1.9" < "1.41"``)."""
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def negotiated_api(client_max: str, daemon_max: str) -> str:
    """The API version a client and a daemon agree on: the older of their newest ones.

    The CLI pings first; the daemon's ``API-Version`` header names its newest API.
    The CLI then speaks ``min(its own newest, the daemon's)``: a newer CLI steps down
    to an older daemon, and an older CLI keeps its own version with a newer daemon.

    Args:
        client_max: the newest API the client speaks (``""``: unknown, adopt the daemon's).
        daemon_max: the daemon's ``API-Version`` header.
    """
    if not client_max:
        return daemon_max
    if not daemon_max:
        return client_max
    return min(client_max, daemon_max, key=api_tuple)


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
    from .core.options import MEM_LIMIT, PIDS_LIMIT

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
    lab.ensure_open()
    name = lab.new_name("traced")
    docker_cli = shutil.which("docker")
    upstream = engine_socket(lab)
    with translated("watch the engine's events"):
        tap = _EventTap(lab, name)
    ran = False
    try:
        if docker_cli and upstream:
            calls, agents, code, command = _run_cli(lab, name, docker_cli, upstream)
            via, cli_path = VIA_CLI, os.path.realpath(docker_cli)
            client = cli_client_versions(docker_cli)
        else:
            calls, agents, code, command = _run_sdk(lab, name)
            via, cli_path, client = VIA_SDK, "", {}
        ran = True
    finally:
        events = tap.stop(timeout=10 if ran else 0)
        _remove_if_left(lab, name)
    cid = find_container_id([path for _, path, _, _ in calls])
    return RunTrace(
        via=via, command=command, cli_path=cli_path, container=name, container_id=cid,
        client_agent=agents.get("user-agent", ""), server_agent=agents.get("server", ""),
        api_version=agents.get("api-version", ""), exit_code=code,
        client_version=client.get("Version", ""),
        client_api_max=client.get("DefaultAPIVersion", ""),
        calls=tuple(ApiCall(i, conn, method, path, route_of(path, cid, name), status)
                    for i, (method, path, status, conn) in enumerate(calls)),
        events=tuple(events),
    )


def cli_client_versions(docker_cli: str) -> dict[str, str]:
    """The CLI's own versions, asking no engine. Like ``docker version -f '{{json .Client}}'``.

    ``DOCKER_HOST`` points at a socket path that does not exist, so the CLI prints its
    client half and fails to reach a daemon (that failure is expected and ignored).

    Returns:
        ``Version`` and ``DefaultAPIVersion`` (the newest API it speaks); ``{}`` if unreadable.
    """
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_CONTEXT"}
    with tempfile.TemporaryDirectory(prefix="dnc-nohost-") as empty:
        env["DOCKER_HOST"] = f"unix://{empty}/no-engine.sock"
        try:
            done = subprocess.run([docker_cli, "version", "--format", "{{json .Client}}"],
                                  env=env, capture_output=True, text=True, timeout=20,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired):
            return {}
    try:
        found = json.loads(done.stdout.strip().splitlines()[0])
    except (IndexError, ValueError):
        return {}
    return {k: str(found.get(k, "")) for k in ("Version", "DefaultAPIVersion")}


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
    from .core.options import MEM_LIMIT, PIDS_LIMIT

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
    import docker  # on first use: a replaying Lab never imports the SDK

    with contextlib.suppress(Exception):
        for found in lab.client.api.containers(
                all=True, filters={"name": name, "label": f"{LABEL_SESSION}={lab.session}"}):
            if f"/{name}" in found.get("Names", []):
                with contextlib.suppress(docker.errors.NotFound):
                    lab.client.api.remove_container(found["Id"], force=True)


# -- the program at the other end of the socket ------------------------------------

@replayable
@dataclass(frozen=True)
class DaemonProcess:
    """The process that answers on the engine's unix socket, as this machine sees it.

    Attributes:
        visible: True when that process was found in this machine's ``/proc``.
        reason: when not visible, why.
        socket: the engine's socket (``/var/run/docker.sock``).
        pid: the process id; program: its name (``dockerd``); exe: its program file.
        found_by: ``"socket peer"`` (the kernel's record of who listens on the socket)
            or ``"process list"`` (systemd opened the socket and passed it on).
    """

    visible: bool
    reason: str = ""
    socket: str = ""
    pid: int = 0
    program: str = ""
    exe: str = ""
    found_by: str = ""


def socket_peer_pid(path: str) -> int:
    """The pid of the process listening on a unix socket (``SO_PEERCRED``); 0 if unknown.

    Connects and disconnects without sending a byte. Linux only: elsewhere 0.
    """
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return 0
    fmt = "3i"  # struct ucred: pid, uid, gid
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(path)
        pid, _, _ = struct.unpack(fmt, sock.getsockopt(socket.SOL_SOCKET, option,
                                                       struct.calcsize(fmt)))
    return pid


def program_of(pid: int, root: str | Path = "/proc") -> tuple[str, str]:
    """``(name, program file)`` of a process; ``""`` for what cannot be read."""
    base = Path(root) / str(pid)
    try:
        status = (base / "status").read_text()
    except OSError:
        status = ""
    name = next((line.split(":", 1)[1].strip() for line in status.splitlines()
                 if line.startswith("Name:")), "")
    try:
        exe = os.path.realpath(os.readlink(base / "exe"))
    except OSError:
        exe = ""
    return name, exe


#: Names of the process that opened the socket on behalf of dockerd (socket activation).
_SOCKET_ACTIVATORS = ("systemd", "init", "launchd")


def find_daemon(path: str, peer_pid: int, root: str | Path = "/proc") -> DaemonProcess:
    """Name the process behind the engine's socket, from its peer pid and a process table.

    Args:
        path: the socket.
        peer_pid: :func:`socket_peer_pid` of it (0: unknown).
        root: the process table to read (``/proc``).
    """
    name, exe = program_of(peer_pid, root) if peer_pid else ("", "")
    if name and name not in _SOCKET_ACTIVATORS:
        return DaemonProcess(True, socket=path, pid=peer_pid, program=name, exe=exe,
                             found_by="socket peer")
    if name:  # socket activation: systemd listens; dockerd took the socket over
        daemons = [p.pid for p in read_proc(root).values() if p.name == "dockerd"]
        if len(daemons) == 1:
            name, exe = program_of(daemons[0], root)
            return DaemonProcess(True, socket=path, pid=daemons[0], program=name, exe=exe,
                                 found_by="process list")
    return DaemonProcess(
        False, socket=path,
        reason="the process behind the engine's socket is not visible from here (Docker "
               "Desktop and remote engines run dockerd in another machine or VM)")


@recorded
def daemon_process(lab: Lab) -> DaemonProcess:
    """The program that answers on the engine's socket. Similar to ``ss -xlp src SOCKET``.

    Args:
        lab: a live or replaying session.

    Returns:
        The process; ``visible=False`` (with the reason) for an engine reached over
        the network, or one whose processes this machine cannot see.
    """
    path = engine_socket(lab)
    if not path:
        return DaemonProcess(False, reason="the engine is reached over the network (tcp or ssh), "
                                           "so its process cannot be seen from here")
    try:
        pid = socket_peer_pid(path)
    except OSError as exc:
        return DaemonProcess(False, socket=path,
                             reason=f"the engine's socket could not be asked ({exc.strerror})")
    return find_daemon(path, pid)
