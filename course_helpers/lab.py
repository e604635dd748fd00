"""``Lab``: one course session, live on the engine or replayed from recordings.

Introduced in chapter 00 (setup). A live Lab labels every container and
network it creates with the course label and its own session id, and removes
exactly those (by full id) when it closes: on ``with`` exit, on an exception,
and at interpreter exit. It never touches anything it did not create.

Every method that asks the engine something returns plain data (strings,
dataclasses) and is wrapped in :func:`~course_helpers.replay.recorded`, so a
replaying Lab (no engine: Binder) serves the same API from recordings.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as _dt
import itertools
import os
import platform
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker

from . import sessions
from .engine import connect, engine_address, translated
from .errors import BadInput, CourseError, EngineUnavailable
from .image import ensure_image
from .ipaddr import Interface, parse_ip_addr
from .replay import RECORDINGS, Recording, backend_choice, recorded, replayable

#: Seconds a course container lives before it exits and removes itself.
DEFAULT_LIFETIME = 900
#: Resource limits of every course container.
MEM_LIMIT = "32m"
PIDS_LIMIT = 64

_open_labs: weakref.WeakSet[Lab] = weakref.WeakSet()


@atexit.register
def _close_open_labs() -> None:
    for lab in list(_open_labs):
        lab.close()


@replayable
@dataclass(frozen=True)
class ContainerRef:
    """A course container: its name and full id. Similar to a line of ``docker ps``."""

    name: str
    id: str

    @property
    def short_id(self) -> str:
        """The 12-character id the CLI shows."""
        return self.id[:12]


@replayable
@dataclass(frozen=True)
class NetworkRef:
    """A course network: its name and full id. Similar to a line of ``docker network ls``."""

    name: str
    id: str


def _ref_id(obj: Any) -> str:
    return obj if isinstance(obj, str) else obj.id


class Lab:
    """A course session. Similar to a shell in which you run ``docker run --label …``.

    Args:
        chapter: the notebook's name (``"03_network_modes"``); selects the
            recording a replaying Lab serves and the file a recording Lab writes.
        client: a connected client (live only); by default
            :func:`course_helpers.engine.connect`.
        backend: ``live``, ``replay`` or ``auto`` (the default, from
            ``COURSE_BACKEND``): live when an engine answers, replay otherwise.
        lifetime: seconds before a course container exits on its own.
        reap: remove what dead sessions on this machine left behind.

    Raises:
        EngineUnavailable: live was asked for and no engine answers.
        ImageUnavailable: the course image can be neither found nor built.
    """

    def __init__(
        self,
        chapter: str = "default",
        client: docker.DockerClient | None = None,
        *,
        backend: str | None = None,
        lifetime: int = DEFAULT_LIFETIME,
        reap: bool = True,
    ) -> None:
        self.chapter = chapter
        self.lifetime = lifetime
        self.closed = False
        self.recorder: Recording | None = None
        self.recording: Recording | None = None
        self._containers: dict[str, str] = {}  # full id -> name, in creation order
        self._networks: dict[str, str] = {}
        self._counter = itertools.count(1)
        self._mutex = threading.Lock()
        self._probe: ContainerRef | None = None
        self._probe_lock = threading.Lock()
        self._depth = 0
        self.reaped: list[sessions.Orphan] = []
        choice = (backend or backend_choice()).lower()
        if choice not in ("auto", "live", "replay"):
            raise BadInput(f"COURSE_BACKEND is {choice!r}: set it to live, replay or auto.")
        if choice == "auto" and client is None:
            try:
                client = connect()
            except EngineUnavailable:
                choice = "replay"
        if choice == "replay":
            self._init_replay()
        else:
            self._init_live(client or connect(), reap)

    def _init_replay(self) -> None:
        path = RECORDINGS / f"{self.chapter}.json"
        if not path.exists():
            raise BadInput(
                f"No recording for chapter {self.chapter!r} ({path.name}): start a Docker engine "
                "or record one with `python -m course_helpers record`."
            )
        self.backend = "replay"
        self.client = None
        self.recording = Recording.load(path)
        self.session = self.recording.meta["session"]
        self.image = self.recording.meta["image"]
        self.labels = sessions.labels_for(self.session)
        self.closed = False

    def _init_live(self, client: docker.DockerClient, reap: bool) -> None:
        self.backend = "live"
        self.client = client
        self._lock = sessions.SessionLock()
        self.session = self._lock.session
        self.labels = sessions.labels_for(self.session)
        _open_labs.add(self)
        try:
            self.image = ensure_image(self.client)
            if reap:
                orphans = sessions.find_orphans(self.client)
                self.reaped = sessions.remove_orphans(self.client, orphans)
        except BaseException:
            self.close()
            raise
        if os.environ.get("COURSE_RECORD_DIR"):
            self.recorder = Recording(self._meta())

    def _meta(self) -> dict[str, Any]:
        version = self.client.version()
        return {
            "chapter": self.chapter,
            "session": self.session,
            "image": self.image,
            "engine": version.get("Version"),
            "api": version.get("ApiVersion"),
            "os": self.client.info().get("OperatingSystem"),
            "host": platform.node(),
            "date": _dt.date.today().isoformat(),
        }

    # -- context management -------------------------------------------------
    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{len(self._containers)} containers"
        return f"<Lab {self.backend} session={self.session} {state}>"

    # -- what runs ------------------------------------------------------------
    @property
    def is_live(self) -> bool:
        """True on a real engine, False when replaying recordings."""
        return self.backend == "live"

    def describe(self) -> str:
        """One line: LIVE with engine and host, or REPLAY with what was recorded where and when."""
        if self.is_live:
            version = self.client.version()
            return (f"LIVE: Docker Engine {version.get('Version')} at {engine_address()} "
                    f"on {platform.node()}")
        meta = self.recording.meta
        return (f"REPLAY: no engine here; showing a run recorded with Docker Engine "
                f"{meta.get('engine')} on {meta.get('os')} ({meta.get('date')})")

    def require_live(self, what: str) -> bool:
        """True when live; otherwise print that ``what`` needs a live engine and return False."""
        if self.is_live:
            return True
        print(f"{what} needs a live Docker engine; this is a replay, so it is skipped here.")
        return False

    # -- names and bookkeeping ---------------------------------------------
    def name(self, role: str) -> str:
        """A fresh name for an object of this session: ``dnc-<session>-<role>-<n>``."""
        return f"dnc-{self.session}-{role}-{next(self._counter)}"

    @property
    def container_ids(self) -> list[str]:
        """Full ids of the containers this session created and has not removed."""
        return list(self._containers)

    @property
    def network_ids(self) -> list[str]:
        """Full ids of the networks this session created and has not removed."""
        return list(self._networks)

    def _check_open(self) -> None:
        if self.closed:
            raise BadInput("This Lab is closed: create a new one with `lab = Lab()`.")

    # -- containers ----------------------------------------------------------
    @recorded
    def start_container(
        self, role: str, *, network_mode: str = "bridge", command: list[str] | None = None,
        **options: Any,
    ) -> ContainerRef:
        """Create and start a labelled, limited, self-expiring course container.

        Similar to ``docker run -d --label … --memory 32m --pids-limit 64 IMAGE sleep N``.

        Args:
            role: a word that goes into the name (``bridge``, ``web`` …).
            network_mode: ``bridge``, ``host``, ``none``, ``container:ID`` or a network name.
            command: what to run; by default ``sleep <lifetime>``.
            **options: further ``containers.create`` options (``ports``, ``hostname`` …).

        Returns:
            The started container's name and id.

        Raises:
            DockerRefused: the engine refused; nothing is left behind.
        """
        self._check_open()
        name = options.pop("name", None) or self.name(role)
        with translated(f"create container {name}"):
            container = self.client.containers.create(
                self.image,
                command=command or ["sleep", str(self.lifetime)],
                name=name,
                labels=self.labels,
                network_mode=network_mode,
                mem_limit=MEM_LIMIT,
                pids_limit=PIDS_LIMIT,
                security_opt=["no-new-privileges"],
                auto_remove=True,
                **options,
            )
        with self._mutex:
            self._containers[container.id] = name
        try:
            with translated(f"start container {name}"):
                container.start()
        except BaseException:
            self._remove_quietly(container.id)
            raise
        return ContainerRef(name, container.id)

    def remove_container(self, container: ContainerRef | str) -> None:
        """Remove a container this session created (by full id). Similar to ``docker rm -f``.

        Raises:
            BadInput: the container is not one of this session's.
        """
        if not self.is_live:
            return
        cid = _ref_id(container)
        if cid not in self._containers:
            raise BadInput(
                f"Container {cid[:12]} was not created by this Lab, so the course will not "
                "remove it: use `docker rm` yourself if you mean to."
            )
        with translated(f"remove container {self._containers[cid]}"):
            try:
                self.client.api.remove_container(cid, force=True)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:
                if "in progress" not in str(exc):  # auto-remove already under way
                    raise
        with self._mutex:
            self._containers.pop(cid, None)

    @recorded
    def exec(self, container: ContainerRef | str, command: list[str] | str) -> str:
        """Run a command in a running container and return its output.

        Similar to ``docker exec CONTAINER COMMAND``.

        Args:
            container: a reference, a name or an id.
            command: an argv list, or a string run by ``sh -c``.

        Raises:
            CourseError: the command failed; the message holds its output.
        """
        ref = _ref_id(container)
        cmd = ["sh", "-c", command] if isinstance(command, str) else list(command)
        with translated(f"run {' '.join(cmd)!r} in {ref}"):
            exec_id = self.client.api.exec_create(ref, cmd)["Id"]
            output = self.client.api.exec_start(exec_id).decode(errors="replace")
            code = self.client.api.exec_inspect(exec_id)["ExitCode"]
        if code != 0:
            raise CourseError(
                f"`{' '.join(cmd)}` failed in {getattr(container, 'name', ref)} (exit {code}): "
                f"{output.strip()[:200]}"
            )
        return output

    def ip_addr(self, container: ContainerRef | str) -> list[Interface]:
        """Parsed ``ip addr`` inside a container. Similar to ``docker exec C ip addr``."""
        return parse_ip_addr(self.exec(container, ["ip", "addr"]))

    # -- the host, seen through a host-mode container ----------------------
    def host_probe(self) -> ContainerRef:
        """This session's host-mode container, started on first use."""
        with self._probe_lock:
            if self._probe is None or (self.is_live and self._probe.id not in self._containers):
                self._probe = self.start_container("host", network_mode="host")
            return self._probe

    @recorded
    def host_interfaces(self) -> list[Interface]:
        """The Docker host's interfaces, read from inside a host-mode container.

        Similar to ``docker run --rm --network host IMAGE ip addr``. Reading them
        this way also works where the engine runs in a VM (Docker Desktop).
        """
        return self.ip_addr(self.host_probe())

    # -- networks -------------------------------------------------------------
    @recorded
    def create_network(self, role: str = "net", **options: Any) -> NetworkRef:
        """Create a labelled course network. Similar to ``docker network create``.

        Args:
            role: a word that goes into the name.
            **options: further ``networks.create`` options (``driver``, ``ipam`` …).
        """
        self._check_open()
        name = options.pop("name", None) or self.name(role)
        with translated(f"create network {name}"):
            network = self.client.networks.create(name, labels=self.labels, **options)
        with self._mutex:
            self._networks[network.id] = name
        return NetworkRef(name, network.id)

    @recorded
    def remove_network(self, network: NetworkRef | str) -> None:
        """Remove a network this session created, by full id. Similar to ``docker network rm``.

        Networks this session did not create are refused before Docker is asked;
        Docker's own refusals (active endpoints …) come back as :class:`DockerRefused`.
        """
        nid = _ref_id(network)
        if nid not in self._networks:
            raise BadInput(
                f"Network {getattr(network, 'name', nid)} was not created by this Lab, so the "
                "course will not remove it: use `docker network rm` yourself if you mean to."
            )
        with translated(f"remove network {self._networks[nid]}"), \
                contextlib.suppress(docker.errors.NotFound):
            self.client.api.remove_network(nid)
        with self._mutex:
            self._networks.pop(nid, None)

    # -- the modes ------------------------------------------------------------
    @recorded
    def run_in_mode(self, mode: str, target: Any = None):
        """Start a container in a network mode and snapshot its network.

        See :func:`course_helpers.modes.run_in_mode`.
        """
        from .modes import run_in_mode

        return run_in_mode(self, mode, target)

    @recorded
    def run_all_modes(self, target: Any = None):
        """Snapshots of all four modes, started side by side.

        See :func:`course_helpers.modes.run_all_modes`.
        """
        from .modes import run_all_modes

        return run_all_modes(self, target)

    # -- closing --------------------------------------------------------------
    def close(self) -> None:
        """Remove every container, then every network, this session created (idempotent).

        A recording Lab also writes its recording here.
        """
        if self.closed:
            return
        self.closed = True
        if not self.is_live:
            return
        try:
            ids = list(reversed(self._containers))
            if ids:
                with ThreadPoolExecutor(max_workers=4) as pool:
                    list(pool.map(self._remove_quietly, ids))
            for nid in list(reversed(self._networks)):
                try:
                    self.client.api.remove_network(nid)
                except docker.errors.NotFound:
                    pass
                except Exception:  # noqa: BLE001 - engine gone: the reaper gets it later
                    continue
                self._networks.pop(nid, None)
            if self.recorder is not None:
                self.recorder.save(Path(os.environ["COURSE_RECORD_DIR"]) / f"{self.chapter}.json")
        finally:
            if not self._containers and not self._networks:
                self._lock.release()
            _open_labs.discard(self)

    def _remove_quietly(self, cid: str) -> None:
        # The engine may be gone: then the reaper removes the container later.
        with contextlib.suppress(Exception):
            self.remove_container(cid)
