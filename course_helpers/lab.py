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
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker

from . import sessions
from .engine import connect, engine_address, translated
from .errors import (
    BadInput,
    CommandFailed,
    CourseError,
    DockerRefused,
    EngineUnavailable,
    as_clause,
)
from .image import ensure_image
from .ipaddr import IP_ADDR_WITH_LINKS, Interface, parse_ip_addr_with_links
from .replay import RECORDINGS, NoEngine, Recording, backend_choice, recorded, replayable
from .warm import WARMABLE, Spares

#: ``ip addr`` (without BusyBox's complaints about vanishing interfaces), then the
#: kernel's own link table, which names each veth's peer without ambiguity.
IP_ADDR = IP_ADDR_WITH_LINKS
#: Seconds a course container lives before it exits and removes itself.
DEFAULT_LIFETIME = 900
#: Resource limits of every course container.
MEM_LIMIT = "32m"
PIDS_LIMIT = 64
#: How ``docker stop`` (and an engine shutting down) stops a course container: ``sleep``
#: as PID 1 ignores SIGTERM, so Docker's default would only wait 10 s before killing it.
STOP_SIGNAL = "SIGKILL"
#: The networks every engine starts with, and their drivers (``docker network ls``).
DEFAULT_NETWORKS = {"bridge": "bridge", "host": "host", "none": "null"}
#: Options fixed for every course container (limits, labels' safety net, expiry).
FIXED_OPTIONS = ("mem_limit", "pids_limit", "security_opt", "auto_remove", "image")
#: What a role (the word in a name) may hold: what Docker allows in names.
ROLE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,40}")
#: Generated names tried before giving up when a learner's object holds the name.
NAME_ATTEMPTS = 20

#: Live Labs not closed yet: closed at interpreter exit (strong references, so a
#: Lab whose variable was reassigned still removes its objects).
_open_labs: set[Lab] = set()


@atexit.register
def _close_open_labs() -> None:
    for lab in list(_open_labs):
        with contextlib.suppress(Exception):
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


def _describe_ref(obj: Any) -> str:
    return getattr(obj, "name", None) or str(obj)[:12]


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
        BadInput: an unknown backend or a lifetime that is not a positive number of seconds.
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
        self._spares = Spares(self)
        self._depth = 0
        self._lock: sessions.SessionLock | None = None
        self._saved = False
        self.reaped: list[sessions.Orphan] = []
        self.reap_failures: list[tuple[sessions.Orphan, str]] = []
        if isinstance(lifetime, bool) or not isinstance(lifetime, int) or lifetime < 1:
            raise BadInput(
                f"lifetime is {lifetime!r}: pass a whole number of seconds of at least 1 "
                f"(the default is {DEFAULT_LIFETIME})."
            )
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
        self.client = NoEngine()
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
            if reap:
                self._reap()
            self.image = ensure_image(self.client)
            if os.environ.get("COURSE_RECORD_DIR"):
                self.recorder = Recording(self._meta())
        except BaseException:
            self.close()
            raise

    def _reap(self) -> None:
        """Remove what dead sessions left (see :mod:`course_helpers.sessions`)."""
        orphans = sessions.find_orphans(self.client)
        self.reaped = sessions.remove_orphans(self.client, orphans, failures=self.reap_failures)

    def _meta(self) -> dict[str, Any]:
        with translated("ask for the engine's version"):
            version = self.client.version()
            info = self.client.info()
        return {
            "chapter": self.chapter,
            "session": self.session,
            "image": self.image,
            "engine": version.get("Version"),
            "api": version.get("ApiVersion"),
            "os": info.get("OperatingSystem"),
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
            with translated("ask for the engine's version"):
                version = self.client.version()
            return (f"LIVE: Docker Engine {version.get('Version')} at {engine_address()} "
                    f"on {platform.node()}")
        meta = self.recording.meta
        return (f"REPLAY: not using a Docker engine; showing a run recorded with Docker Engine "
                f"{meta.get('engine')} on {meta.get('os')} ({meta.get('date')})")

    def require_live(self, what: str) -> bool:
        """True when live; otherwise print that ``what`` needs a live engine and return False."""
        if self.is_live:
            return True
        print(f"{what} needs a live Docker engine; this is a replay, so it is skipped here.")
        return False

    # -- names and bookkeeping ---------------------------------------------
    def name(self, role: str) -> str:
        """A fresh name for an object of this session: ``dnc-<session>-<role>-<n>``.

        Raises:
            BadInput: ``role`` holds characters Docker does not allow in names.
        """
        if not isinstance(role, str) or not ROLE.fullmatch(role):
            raise BadInput(
                f"The role {role!r} cannot go into a name: use letters, digits, '.', '_' or '-' "
                "(up to 41 characters), such as role='web'."
            )
        return f"dnc-{self.session}-{role}-{next(self._counter)}"

    @property
    def container_ids(self) -> list[str]:
        """Full ids of the containers this session created and has not removed."""
        return list(self._containers)

    @property
    def container_names(self) -> list[str]:
        """Names of the containers this session created and has not removed, oldest first."""
        return list(self._containers.values())

    @property
    def network_ids(self) -> list[str]:
        """Full ids of the networks this session created and has not removed."""
        return list(self._networks)

    def _check_open(self) -> None:
        if self.closed:
            raise BadInput("This Lab is closed: create a new one with `lab = Lab()`.")

    # -- containers ----------------------------------------------------------
    @staticmethod
    def _refuse_unsafe(name: str, network_mode: str, options: dict[str, Any]) -> None:
        """Refuse what the course never does to a container (see DESIGN: safety rules)."""
        fixed = sorted(set(options) & set(FIXED_OPTIONS))
        if fixed:
            raise BadInput(
                f"{', '.join(fixed)} cannot be changed for course containers (they keep memory "
                "and pid limits and remove themselves): leave those options out."
            )
        if options.get("privileged"):
            raise BadInput(
                "Course containers never run privileged: leave out privileged=True "
                "(every lesson works without it)."
            )
        mounts = repr(options.get("volumes")) + repr(options.get("mounts"))
        if "docker.sock" in mounts:
            raise BadInput(
                "Course containers never get the Docker socket: leave out that volume "
                "(the Lab talks to Docker for them)."
            )
        if network_mode in (f"container:{name}", f"container:/{name}"):
            raise BadInput(
                f"Container {name} cannot join its own network namespace: pass another "
                "running container as the target (network_mode='container:OTHER')."
            )

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
            **options: further ``containers.create`` options (``ports``, ``hostname`` …);
                ``name=`` picks the name yourself, ``labels=`` adds labels.

        Returns:
            The started container's name and id.

        Raises:
            BadInput: an unsafe or fixed option, or a container joining itself.
            DockerRefused: the engine refused (a name in use …); nothing is left behind.
            EngineUnavailable: the engine went away; what was half-made is removed by
                :meth:`close` or the next session.
        """
        self._check_open()
        options = dict(options)
        chosen = options.pop("name", None)
        labels = {**(options.pop("labels", None) or {}), **self.labels}
        for attempt in range(NAME_ATTEMPTS):
            name = chosen or self.name(role)
            self._refuse_unsafe(name, network_mode, options)
            try:
                with translated(f"create container {name}"):
                    container = self.client.containers.create(
                        self.image,
                        command=command or ["sleep", str(self.lifetime)],
                        name=name,
                        labels=labels,
                        network_mode=network_mode,
                        mem_limit=MEM_LIMIT,
                        pids_limit=PIDS_LIMIT,
                        security_opt=["no-new-privileges"],
                        auto_remove=True,
                        **{"stop_signal": STOP_SIGNAL, **options},
                    )
            except DockerRefused as exc:
                # A generated name a learner's own container already holds: take the next one.
                if chosen or exc.status != 409 or attempt == NAME_ATTEMPTS - 1:
                    raise
                continue
            break
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
            EngineUnavailable: the engine went away (the container stays on the list).
        """
        if not self.is_live:
            return
        cid = _ref_id(container)
        if cid not in self._containers:
            raise BadInput(
                f"Container {_describe_ref(container)} was not created by this Lab, so the "
                "course will not remove it: use `docker rm` yourself if you mean to."
            )
        sessions.remove_container(self.client, cid, self._containers[cid])
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
            CommandFailed: the command exited non-zero; the message holds its output.
            DockerRefused: no such container, or it is not running.
        """
        ref = _ref_id(container)
        cmd = ["sh", "-c", command] if isinstance(command, str) else list(command)
        shown = " ".join(cmd)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        try:
            with translated(f"run `{shown}` in {_describe_ref(container)}"):
                exec_id = self.client.api.exec_create(ref, cmd)["Id"]
                output = self.client.api.exec_start(exec_id).decode(errors="replace")
                code = self.client.api.exec_inspect(exec_id)["ExitCode"]
        except DockerRefused as exc:
            if exc.status != 404 or ref not in self._containers:
                raise
            with self._mutex:  # it expired, or an engine restart removed it: forget it
                name = self._containers.pop(ref, ref[:12])
            raise DockerRefused(
                f"Docker refused to run `{shown}` in {name}: {as_clause(exc.reason)} (HTTP 404); "
                "that course container is gone (its lifetime ended, or the engine restarted), so "
                "start a new one with lab.start_container().",
                status=404, reason=exc.reason,
            ) from None
        if code != 0:
            text = " | ".join(line.strip() for line in output.strip().splitlines()).rstrip(".")
            raise CommandFailed(
                f"`{shown}` failed in {_describe_ref(container)} (exit {code}): "
                f"{text[:200] or 'no output'}.",
                exit_code=code, output=output,
            )
        return output

    def ip_addr(self, container: ContainerRef | str) -> list[Interface]:
        """Parsed ``ip addr`` inside a container. Similar to ``docker exec C ip addr``."""
        # BusyBox reports an interface that vanishes mid-listing (another
        # container stopping) on stderr, e.g. "ip: SIOCGIFTXQLEN: No such device":
        # that is not part of the listing. The peers come from sysfs (see
        # course_helpers.ipaddr.with_kernel_links: BusyBox misnames them on Engine 28).
        return parse_ip_addr_with_links(self.exec(container, IP_ADDR))

    # -- the host, seen through a host-mode container ----------------------
    @recorded
    def host_probe(self) -> ContainerRef:
        """This session's host-mode container, started on first use."""
        with self._probe_lock:
            if self._probe is None or (self.is_live and self._probe.id not in self._containers):
                self._probe = self.start_container("host", network_mode="host")
            return self._probe

    def _with_probe(self, fn):
        """``fn(probe)``; if the probe has gone (it expired, the engine restarted), once more
        with a new one."""
        probe = self.host_probe()
        try:
            return fn(probe)
        except DockerRefused as exc:
            if not self.is_live or exc.status not in (404, 409):
                raise
        with self._probe_lock:
            if self._probe == probe:
                self._probe = None
        if probe.id in self._containers:
            self._remove_quietly(probe.id)
            with self._mutex:
                self._containers.pop(probe.id, None)
        return fn(self.host_probe())

    @recorded
    def host_interfaces(self) -> list[Interface]:
        """The Docker host's interfaces, read from inside a host-mode container.

        Similar to ``docker run --rm --network host IMAGE ip addr``. Reading them
        this way also works where the engine runs in a VM (Docker Desktop).
        """
        return self._with_probe(self.ip_addr)

    # -- networks -------------------------------------------------------------
    @recorded
    def create_network(self, role: str = "net", **options: Any) -> NetworkRef:
        """Create a labelled course network. Similar to ``docker network create``.

        Args:
            role: a word that goes into the name.
            **options: further ``networks.create`` options (``driver``, ``ipam`` …);
                ``name=`` picks the name yourself.

        Raises:
            DockerRefused: the engine refused (the name is taken …); nothing is left behind.
        """
        self._check_open()
        options = dict(options)
        chosen = options.pop("name", None)
        labels = {**(options.pop("labels", None) or {}), **self.labels}
        options.setdefault("check_duplicate", True)  # as the CLI does: a taken name is a 409
        for attempt in range(NAME_ATTEMPTS):
            name = chosen or self.name(role)
            try:
                with translated(f"create network {name}"):
                    network = self.client.networks.create(name, labels=labels, **options)
            except DockerRefused as exc:
                if chosen or exc.status != 409 or attempt == NAME_ATTEMPTS - 1:
                    raise
                continue
            break
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
                f"Network {_describe_ref(network)} was not created by this Lab, so the "
                "course will not remove it: use `docker network rm` yourself if you mean to."
            )
        sessions.remove_network(self.client, nid, self._networks[nid])
        with self._mutex:
            self._networks.pop(nid, None)

    @recorded
    def try_remove_network(self, network: NetworkRef | str) -> str:
        """Ask Docker to remove a network, to see what it answers. Similar to ``docker network rm``.

        Only two kinds of network are ever sent to Docker: the three default
        ones (``bridge``, ``host``, ``none``: Docker refuses, and that refusal is
        the lesson) and networks this Lab created (removed by full id). Anything
        else, a learner's own network above all, is refused before Docker is asked.

        Args:
            network: a name, an id, or a :class:`NetworkRef`.

        Returns:
            The removed network's name, as ``docker network rm`` prints it.

        Raises:
            DockerRefused: Docker refused; ``reason`` holds its words ("bridge is a
                pre-defined network and cannot be removed", "… has active endpoints").
            BadInput: the network is neither a default one nor this Lab's.
        """
        self._check_open()
        ref = network if isinstance(network, str) else getattr(network, "id", None)
        if not isinstance(ref, str) or not ref.strip():
            raise BadInput(
                f"{network!r} does not name a network: pass a network's name or id, "
                "or what lab.create_network() returned."
            )
        ref = ref.strip()
        for nid, name in list(self._networks.items()):
            if ref in (nid, name):
                self.remove_network(nid)
                return name
        with translated(f"look up network {ref}"):
            info = self.client.api.inspect_network(ref)
        nid, name, labels = info["Id"], info["Name"], info.get("Labels") or {}
        if nid in self._networks:
            self.remove_network(nid)
            return name
        if DEFAULT_NETWORKS.get(name) == info.get("Driver") and not labels:
            with translated(f"remove network {name}"):
                self.client.api.remove_network(nid)
            return name
        owner = labels.get(sessions.LABEL_SESSION)
        if labels.get(sessions.LABEL_COURSE) == sessions.COURSE_VALUE and owner:
            raise BadInput(
                f"Network {name} belongs to another course session ({owner}), so this Lab will "
                "not remove it: close that session's Lab, or run `python -m course_helpers "
                "cleanup` once it has ended."
            )
        raise BadInput(
            f"Network {name} was not created by the course, so the course will not remove it: "
            f"use `docker network rm {name}` yourself if you mean to."
        )

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
    def keep_warm(self, modes: tuple[str, ...] = WARMABLE) -> None:
        """Keep one started container ready per mode, so ``run_in_mode`` only reads.

        Introduced in chapter 03 (the mode explorer). No effect when replaying
        or recording (a recording must hold only what the notebook asked for).
        """
        if self.is_live and self.recorder is None:
            self._spares.enable(tuple(modes))

    def _take(self, mode: str) -> ContainerRef:
        """A running course container in ``bridge`` or ``none`` mode (a spare if ready)."""
        return self._spares.take(mode)

    def close(self) -> None:
        """Remove every container, then every network, this session created.

        Idempotent; calling it again retries what could not be removed the
        first time (the engine was away). Objects Docker refuses to remove (a
        learner attached their own container to a course network) are left
        to the reaper, which tries again from the next session. A recording
        Lab also writes its recording here.
        """
        if not self.is_live:
            self.closed = True
            return
        if self.closed and not (self._containers or self._networks):
            return
        self.closed = True
        try:
            self._spares.stop()
            self._adopt_labelled()
            ids = list(reversed(self._containers))
            try:
                with ThreadPoolExecutor(max_workers=4) as pool:
                    list(pool.map(self._remove_quietly, ids))
            except RuntimeError:  # at interpreter exit no new threads start: one by one
                for cid in ids:
                    self._remove_quietly(cid)
            for nid in list(reversed(self._networks)):
                try:
                    sessions.remove_network(self.client, nid, self._networks[nid])
                except CourseError:
                    continue  # in use by someone else's container, or the engine is gone
                with self._mutex:
                    self._networks.pop(nid, None)
            if self.recorder is not None and not self._saved:
                self._saved = True
                self.recorder.save(Path(os.environ["COURSE_RECORD_DIR"]) / f"{self.chapter}.json")
        finally:
            leftovers = bool(self._containers or self._networks)
            if self._lock is not None:
                if self._lock.held:
                    # Leftovers keep the lock file as a tombstone: the reaper removes them later.
                    self._lock.release(tombstone=leftovers)
                elif not leftovers:  # a second close() removed what the first could not
                    sessions.forget_session(self.session, self._lock.directory)
            _open_labs.discard(self)

    def _adopt_labelled(self) -> None:
        """Add objects carrying this session's label that the bookkeeping missed
        (a call interrupted between Docker's answer and the bookkeeping)."""
        selector = sessions.course_selector(self.session)
        try:
            with translated("list this session's objects"):
                containers = self.client.api.containers(all=True, filters=selector)
                networks = self.client.api.networks(filters=selector)
        except CourseError:
            return
        with self._mutex:
            for c in containers:
                self._containers.setdefault(c["Id"], (c.get("Names") or ["?"])[0].lstrip("/"))
            for n in networks:
                self._networks.setdefault(n["Id"], n.get("Name", "?"))

    def _remove_quietly(self, cid: str) -> None:
        # The engine may be gone: then close() again, or the reaper, removes it later.
        with contextlib.suppress(Exception):
            self.remove_container(cid)
