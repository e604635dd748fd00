"""``Lab``: one course session, live on the engine or replayed from recordings.

Introduced in chapter 00 (setup). A live Lab labels every container and
network it creates with the course label and its own session id, and removes
exactly those (by full id) when it closes: on ``with`` exit, on an exception,
and at interpreter exit. It never touches anything it did not create.

Every method that asks the engine something returns plain data (strings,
dataclasses) and is wrapped in :func:`~course_helpers.core.replay.recorded`, so a
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
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .. import figures
from ..ipaddr import IP_ADDR_WITH_LINKS, Interface, parse_ip_addr_with_links
from . import sessions
from .display import Banner, SessionSummary, closed_sentence
from .engine import connect, docker_host_set, translated
from .errors import (
    BadInput,
    CommandFailed,
    CommandTimedOut,
    CourseError,
    DockerRefused,
    EngineUnavailable,
    as_clause,
    shorten,
)
from .execstream import close_stream, read_and_close
from .image import APPLETS, ensure_image
from .keptshell import KeptShell, ShellBroke, ShellLost, suits
from .options import (
    DEFAULT_LIFETIME,
    EXEC_TIMEOUT,
    MAX_EXEC_TIMEOUT,
    NAME_ATTEMPTS,
    check_container_ref,
    check_create_network,
    check_exec,
    check_lifetime,
    check_network_mode,
    check_network_options,
    check_network_ref,
    check_role,
    check_start,
    container_request,
    self_join_sentence,
)
from .refs import ContainerRef, NetworkRef, describe_ref, ref_id
from .replay import (
    RECORDINGS,
    NoEngine,
    Recording,
    backend_choice,
    recorded,
    recording_dir,
)
from .spares import WARMABLE, Spares
from .teardown import remove_side_by_side

if TYPE_CHECKING:  # imported on first use: a replaying Lab never needs the SDK
    import docker

T = TypeVar("T")

#: ``ip addr`` (without BusyBox's complaints about vanishing interfaces), then the
#: kernel's own link table, which names each veth's peer without ambiguity.
IP_ADDR = IP_ADDR_WITH_LINKS
#: Bytes of output ``lab.exec`` keeps (1 MiB); the rest is read and dropped, and the
#: returned text says it was cut.
EXEC_OUTPUT_LIMIT = 1 << 20
#: Seconds ``close()`` may take in all, and each request it makes, on an engine that
#: has stopped answering (what is left is removed later by the reaper).
CLOSE_BUDGET = 20
CLOSE_REQUEST_TIMEOUT = 5
#: What a chapter name may hold: it names a file in the recordings folder, nothing else.
CHAPTER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}")

#: Live Labs not closed yet: closed at interpreter exit (strong references, so a
#: Lab whose variable was reassigned still removes its objects).
_open_labs: set[Lab] = set()


@atexit.register
def _close_open_labs() -> None:
    for lab in list(_open_labs):
        with contextlib.suppress(Exception):
            lab.close()


class Lab:
    """A course session. Similar to a shell in which you run ``docker run --label …``.

    Args:
        chapter: the notebook's name (``"03_network_modes"``); selects the
            recording a replaying Lab serves and the file a recording Lab writes.
        client: a connected client (live only); by default
            :func:`course_helpers.core.engine.connect`.
        backend: ``live``, ``replay`` or ``auto`` (the default, from
            ``COURSE_BACKEND``): live when an engine answers, replay otherwise.
        lifetime: seconds before a course container is killed and removed, whatever
            it runs (1 to :data:`MAX_LIFETIME`).
        reap: remove what dead sessions on this machine left behind.

    What the course treats as its own: any container or network carrying the
    course's labels (``sessions.labels_for``, prefix ``sessions.LABEL_PREFIX``).
    Copying those labels onto an object of yours makes it the course's: the
    session the labels name removes it on :meth:`close`, and the reaper
    (``python -m course_helpers cleanup``) removes it once that session has
    ended. ``start_container`` and ``create_network`` therefore refuse labels
    under that prefix.

    Closing removes this session's containers even when a container of yours
    joined one of them (``--network container:NAME``: yours then loses its
    network) or a course network; a course network your container is still
    attached to is kept (Docker refuses, and the course never disconnects
    yours) and reported by ``cleanup``.

    Raises:
        BadInput: an unknown backend, a chapter name that is not a file stem, or a
            lifetime that is not a whole number of seconds from 1 to :data:`MAX_LIFETIME`.
        EngineUnavailable: live was asked for and no engine answers (within seconds, even
            at an address that accepts and never answers). With ``auto`` a Lab replays
            instead, and says so on stderr when ``DOCKER_HOST`` names the broken engine.
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
        self.backend = "new"
        #: Why ``auto`` chose replay although ``DOCKER_HOST`` names an engine (else None).
        self.fallback: str | None = None
        #: What a recording Lab writes (``python -m course_helpers record``), else None.
        self.record_into: Recording | None = None
        #: What a replaying Lab serves, else None.
        self.replay_from: Recording | None = None
        self._containers: dict[str, str] = {}  # full id -> name, in creation order
        self._networks: dict[str, str] = {}
        self._counter = itertools.count(1)
        self._mutex = threading.Lock()
        self._probe: ContainerRef | None = None
        #: Per thread: what start_container does instead of a bare start (set by
        #: start_and_read only, for the call it makes in its own thread).
        self._starting = threading.local()
        self._probe_lock = threading.Lock()
        #: A shell kept open in the host probe (host reads without a `docker exec` each).
        self._shell: KeptShell | None = None
        self._shell_lock = threading.Lock()
        #: Spares' ids from the moment Docker made them until handed out (never offered).
        self._spare_ids: set[str] = set()
        self._spares = Spares(start=self._start_spare, discard=self.discard,
                               max_age=lifetime / 2 if isinstance(lifetime, int) else 0,
                               closed=lambda: self.closed)
        self._lock: sessions.SessionLock | None = None
        self._saved = False
        self.reaped: list[sessions.Orphan] = []
        self.reap_failures: list[tuple[sessions.Orphan, str]] = []
        check_lifetime(lifetime)
        if not isinstance(chapter, str) or not CHAPTER.fullmatch(chapter):
            raise BadInput(
                f"The chapter name {shorten(chapter)} cannot name a recording: use the "
                "notebook's file stem, letters, digits, '_' and '-' only, such as "
                "Lab('03_network_modes')."
            )
        if backend is not None and not isinstance(backend, str):
            raise BadInput(f"backend is {shorten(backend)}: pass 'live', 'replay' or 'auto' "
                           "(or leave it out to follow COURSE_BACKEND).")
        choice = (backend or backend_choice()).strip().lower()
        if choice not in ("auto", "live", "replay"):
            what = "backend" if backend is not None else "COURSE_BACKEND"
            raise BadInput(f"{what} is {shorten(choice)}: set it to live, replay or auto.")
        if choice == "auto" and client is None:
            try:
                client = connect()
            except EngineUnavailable as exc:
                if docker_host_set():  # a broken setting is said, never papered over
                    self.fallback = (f"{str(exc).rstrip('.')}; until then this Lab replays "
                                     "recordings.")
                    print(self.fallback, file=sys.stderr)
                choice = "replay"
        if choice == "replay":
            self._init_replay()
        else:
            self._init_live(client or connect(), reap)

    def _init_replay(self) -> None:
        folder = recording_dir(RECORDINGS)
        path = folder / f"{self.chapter}.json"
        if path.resolve().parent != folder.resolve() or not path.is_file():
            raise BadInput(
                f"No recording for chapter {self.chapter!r} ({path.name}): start a Docker engine "
                "or record one with `python -m course_helpers record`."
            )
        self.backend = "replay"
        self.client = NoEngine()
        self.replay_from = Recording.load(path)
        self.session = self.replay_from.meta["session"]
        self.image = self.replay_from.meta["image"]
        self.labels = sessions.labels_for(self.session)
        self.closed = False
        figures.note_recording(self.recorded_on())

    def _init_live(self, client: docker.DockerClient, reap: bool) -> None:
        self.backend = "live"
        self.client = client
        figures.note_recording("")  # live figures carry no mark
        self._lock = sessions.SessionLock()
        self.session = self._lock.session
        self.labels = sessions.labels_for(self.session)
        _open_labs.add(self)
        try:
            if reap:
                self._reap()
            self.image = ensure_image(self.client)
            if os.environ.get("COURSE_RECORD_DIR"):
                self.record_into = Recording(self._meta())
        except BaseException:
            self.close()
            raise

    def _reap(self) -> None:
        """Remove what dead sessions left (see :mod:`course_helpers.core.sessions`)."""
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
        """One line: LIVE with the engine and the date, or REPLAY with what was recorded when."""
        if self.is_live:
            with translated("ask for the engine's version"):
                version = self.client.version()
            where = f"{version.get('Os', 'linux')} {version.get('KernelVersion', '')}".strip()
            return (f"LIVE: Docker Engine {version.get('Version')} ({where}), "
                    f"run on {_dt.date.today().isoformat()}")
        meta = self.replay_from.meta
        return (f"REPLAY: not using a Docker engine; showing a run recorded with Docker Engine "
                f"{meta.get('engine')} on {meta.get('os')} ({meta.get('date')})")

    def banner(self) -> Banner:
        """The chapter's banner: :meth:`describe` in a coloured box, green when live, orange
        when replaying, saying whose engine the outputs below come from."""
        return Banner(self.describe(), self.is_live)

    def recorded_on(self) -> str:
        """``recorded on Docker Engine X (DATE)`` when replaying, else ``""``: the one mark of
        what comes from a recording (figures' stamp, explorer, :meth:`say`)."""
        if self.is_live or self.replay_from is None:
            return ""
        meta = self.replay_from.meta
        return f"recorded on Docker Engine {meta.get('engine')} ({meta.get('date')})"

    def say(self, *lines: str) -> None:
        """Print result lines; when replaying, one more line says they were recorded.

        Similar to ``print`` with each line on its own; the mark
        (:meth:`recorded_on`) keeps a replayed result from passing for this machine's.
        """
        for line in lines:
            print(line)
        if not self.is_live:
            print(f"({self.recorded_on()})")

    def require_live(self, what: str) -> bool:
        """True when live; otherwise print that ``what`` needs a live engine and return False."""
        if self.is_live:
            return True
        print(f"{what} needs a live Docker engine; this is a replay, so it is skipped here.")
        return False

    # -- names and bookkeeping ---------------------------------------------
    def new_name(self, role: str) -> str:
        """A fresh name for an object of this session: ``dnc-<session>-<role>-<n>``.

        Raises:
            BadInput: ``role`` holds characters Docker does not allow in names.
        """
        return f"dnc-{self.session}-{check_role(role)}-{next(self._counter)}"

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

    def ensure_open(self) -> None:
        """Refuse to go on once this Lab is closed.

        Raises:
            BadInput: it is closed.
        """
        if self.closed:
            raise BadInput(closed_sentence(self.is_live))

    def summary(self) -> SessionSummary:
        """What this session still holds, and what ends it: a chapter's last cell.

        Similar to ``docker ps --filter label=…session=ID`` (from the session's own
        bookkeeping: no request to the engine).
        """
        with self._mutex:
            containers = len([c for c in self._containers if c not in self._spare_ids])
            networks = len(self._networks)
        return SessionSummary(live=self.is_live, closed=self.closed, containers=containers,
                              networks=networks, lifetime=self.lifetime)

    # -- containers ----------------------------------------------------------
    @recorded(check=check_start)
    def start_container(
        self, role: str, *, network_mode: str | None = None, command: list[str] | None = None,
        **options: Any,
    ) -> ContainerRef:
        """Create and start a labelled, limited, self-expiring course container.

        Similar to ``docker run -d --rm --label … --memory 32m --pids-limit 64 IMAGE sleep N``.
        Only the options in :data:`ALLOWED_OPTIONS` are accepted (see
        :func:`container_request`); the container is killed once the Lab's
        lifetime is over, whatever its command.

        Args:
            role: a word that goes into the name (``bridge``, ``web`` …).
            network_mode: ``bridge``, ``host``, ``none``, ``container:NAME`` (a running
                container's exact name or full id) or a network's name or id; left out,
                Docker's default (the default bridge), as ``docker run`` with no ``--network``.
            command: what to run (a list, or a string split like a shell does);
                by default ``sleep <lifetime>``.
            **options: ``name=`` (your own name), ``labels=`` (added to the course's),
                ``ports=`` (published on loopback only: ``{'80/tcp': ('127.0.0.1', None)}``;
                in host mode Docker discards them, as ``docker run -p`` does),
                ``hostname=``, ``environment=``.

        Returns:
            The started container's name and id.

        Raises:
            BadInput: an option outside the allow-list, a container joining itself, or a
                ``container:`` target that is not a running container's exact name or id.
            DockerRefused: the engine refused (a name in use …); nothing is left behind.
            EngineUnavailable: the engine went away; what was half-made is removed by
                :meth:`close` or the next session.
        """
        self.ensure_open()
        chosen = options.get("name")
        mode = check_network_mode(network_mode)
        if mode is not None and mode.startswith("container:"):
            if chosen and mode == f"container:{chosen}":
                raise BadInput(self_join_sentence(chosen))
            wanted = mode.split(":", 1)[1]
            known = getattr(self._starting, "joined", None)  # looked up by start_and_read's caller
            joined = known if known is not None and wanted == known.id \
                else self.running_container(wanted)
            network_mode = f"container:{joined.id}"
        for attempt in range(NAME_ATTEMPTS):
            name = chosen or self.new_name(role)
            request = container_request(name, self.image, self.lifetime, self.labels,
                                        network_mode, command,
                                        **{k: v for k, v in options.items() if k != "name"})
            try:
                with translated(f"create container {name}"):
                    api = self.client.api
                    host_config = api.create_host_config(**request["host_config"])
                    if request["port_bindings"]:
                        # Set here rather than through create_host_config, which refuses
                        # them in host mode: Docker itself accepts and discards them there,
                        # as `docker run --network host -p …` shows.
                        from docker.utils import convert_port_bindings

                        host_config["PortBindings"] = convert_port_bindings(
                            request["port_bindings"])
                    cid = api.create_container(host_config=host_config,
                                               **request["create"])["Id"]
            except DockerRefused as exc:
                # A generated name a learner's own container already holds: take the next one.
                if chosen or exc.status != 409 or attempt == NAME_ATTEMPTS - 1:
                    raise
                continue
            break
        with self._mutex:
            self._containers[cid] = name
            if getattr(self._starting, "spare", False):
                self._spare_ids.add(cid)
        ref = ContainerRef(name, cid)
        try:
            with translated(f"start container {name}"):
                on_create = getattr(self._starting, "hook", None)
                if on_create is None:
                    self.client.api.start(cid)
                else:  # see start_and_read: attached before it starts, as `docker run` does
                    on_create(ref)
        except BaseException:
            self._remove_quietly(cid)
            raise
        return ref

    def start_and_read(self, role: str, script: str, until: str, *,
                       network_mode: str | None = None, joined: ContainerRef | None = None,
                       timeout: float = EXEC_TIMEOUT) -> tuple[ContainerRef, str]:
        """Start a course container whose command first runs ``script``, then sleeps out
        its lifetime, and return what ``script`` printed (up to the line ``until``).
        ``joined``: the running container ``network_mode='container:ID'`` names, as the
        caller has just looked it up (:meth:`running_container`): not asked for again
        (should it stop meanwhile, Docker refuses the start).

        Similar to ``docker run -d --network MODE IMAGE sh -c 'SCRIPT; exec sleep N'`` and
        ``docker attach``: attached before it starts, as ``docker run`` without ``-d``
        is, so the output is read as it is written (no ``docker exec`` afterwards).
        Called inside recorded helpers (:func:`course_helpers.modes.run_in_mode`); it is
        not recorded itself.

        Raises:
            CommandTimedOut: ``until`` was not printed within ``timeout`` seconds.
            CommandFailed: the output ended before ``until`` (the script failed).
            What :meth:`start_container` raises.
        """
        command = ["sh", "-c", f"{script}; echo '{until}'; exec sleep {self.lifetime}"]
        read: dict[str, Any] = {}

        def attach_then_start(ref: ContainerRef) -> None:
            api = self.client.api
            sock = api.attach_socket(ref.id, params={"stdout": 1, "stderr": 1, "stream": 1})
            try:
                api.start(ref.id)
            except BaseException:
                close_stream(sock)
                raise
            read["out"] = read_and_close(sock, deadline=time.monotonic() + timeout,
                                         limit=EXEC_OUTPUT_LIMIT, until=f"{until}\n".encode())

        self._starting.hook, self._starting.joined = attach_then_start, joined
        try:
            ref = self.start_container(role, network_mode=network_mode, command=command)
        finally:
            self._starting.hook = self._starting.joined = None
        data, _, finished = read["out"]
        output = data.decode(errors="replace")
        marker = f"{until}\n"
        if marker not in output:
            self.discard(ref)
            shown = shorten(script, 60)
            if finished:
                raise CommandFailed(f"`{shown}` ended early in {ref.name}: "
                                    f"{output.strip()[:200] or 'no output'}.", exit_code=None,
                                    output=output)
            raise CommandTimedOut(f"`{shown}` did not finish within {timeout:g} s in "
                                  f"{ref.name}: run it again once the engine is less busy.",
                                  timeout=timeout, output=output)
        return ref, output.partition(marker)[0]

    def running_container(self, ref: Any) -> ContainerRef:
        """A running container named exactly ``ref``, or whose full id is ``ref``.

        Similar to ``docker inspect --format '{{.State.Status}}' REF``, but an id
        prefix is never accepted: ``"a"`` could match anyone's container.

        Raises:
            BadInput: no such container, only a prefix given, or it is not running.
        """
        text = check_container_ref(ref).lstrip("/")
        fix = ("pass a running container's exact name or full id (`docker ps --no-trunc` "
               "lists them), or what lab.start_container() returned")
        try:
            with translated(f"look up container {shorten(text)}"):
                info = self.client.api.inspect_container(text)
        except DockerRefused as exc:
            if exc.status != 404:
                raise
            raise BadInput(
                f"There is no container {shorten(text)} to join: start it first (`docker ps -a` "
                "lists containers; course containers remove themselves when their lifetime "
                "ends) or pass the name of a running one."
            ) from None
        name = info.get("Name", "").lstrip("/")
        if text not in (info.get("Id"), name):
            raise BadInput(f"{shorten(text)} is only the start of container {name}'s id: {fix}.")
        state = (info.get("State") or {}).get("Status", "unknown")
        if state != "running":
            raise BadInput(
                f"Container {name} is {state}, and only a running container's network can be "
                f"joined: start it with `docker start {name}` or pick another target."
            )
        return ContainerRef(name, info["Id"])

    def remove_container(self, container: ContainerRef | str) -> None:
        """Remove a container this session created (by full id). Similar to ``docker rm -f``.

        Raises:
            BadInput: the container is not one of this session's.
            EngineUnavailable: the engine went away (the container stays on the list).
        """
        if not self.is_live:
            return
        self._remove_own(self._containers, check_container_ref(container), container,
                         "Container", "docker rm", sessions.remove_container)

    @recorded(check=check_exec)
    def exec(self, container: ContainerRef | str, command: list[str] | str, *,
             timeout: float | None = None) -> str:
        """Run a command in a running container and return its output.

        Similar to ``docker exec CONTAINER COMMAND``, bounded: the call returns
        after ``timeout`` seconds at most, and keeps at most
        :data:`EXEC_OUTPUT_LIMIT` bytes of output (a last line then says the
        output was cut).

        Args:
            container: a reference, a name or an id.
            command: an argv list, or a string run by ``sh -c``.
            timeout: seconds to wait (default :data:`EXEC_TIMEOUT`, at most
                :data:`MAX_EXEC_TIMEOUT`); a command still running then is left to end
                with its container.

        Raises:
            BadInput: not a container, or not a command.
            CommandFailed: the command exited non-zero; the message holds its output.
            CommandTimedOut: it did not finish in time.
            DockerRefused: no such container, or it is not running.
        """
        ref = check_container_ref(container)
        cmd = ["sh", "-c", command] if isinstance(command, str) else list(command)
        limit = EXEC_TIMEOUT if timeout is None else timeout
        shown = " ".join(cmd)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        where = shorten(describe_ref(container), 70).strip("'\"")
        deadline = time.monotonic() + limit
        try:
            with translated(f"run `{shown}` in {where}"):
                output, cut, code = self._exec_once(ref, cmd, deadline)
                if code is None:
                    raise CommandTimedOut(
                        f"`{shown}` did not finish within {limit:g} s in {where}: make it end "
                        f"sooner, or pass lab.exec(..., timeout=SECONDS) (at most "
                        f"{MAX_EXEC_TIMEOUT}).",
                        timeout=limit, output=output,
                    )
        except DockerRefused as exc:
            if exc.status != 404 or ref not in self._containers:
                raise
            with self._mutex:  # it expired, or an engine restart removed it: forget it
                name = self._containers.pop(ref, ref[:12])
            raise DockerRefused(
                f"Docker refused to run `{shown}` in {name}: {as_clause(exc.reason)} (HTTP 404); "
                "that course container is gone (its lifetime ended, or the engine restarted), so "
                "run the cell that started it again, then this one.",
                status=404, reason=exc.reason,
            ) from None
        except ShellBroke as exc:
            raise CommandFailed(
                f"`{shown}` stopped in {where} before it said how it ended (the shell it ran in "
                "ended): run it again.", exit_code=None, output=exc.output) from None
        if cut:
            output += (f"\n[lab.exec: output cut after {EXEC_OUTPUT_LIMIT} bytes; the rest was "
                       "dropped: narrow the command, e.g. pipe it through `head`]\n")
        if code != 0:
            text = " | ".join(line.strip() for line in output.strip().splitlines()).rstrip(".")
            raise CommandFailed(
                f"`{shown}` failed in {where} (exit {code}): "
                f"{text[:200] or 'no output'}.",
                exit_code=code, output=output,
            )
        return output

    def _exec_once(self, ref: str, cmd: list[str], deadline: float) -> tuple[str, bool, int | None]:
        """``(output, cut, exit code)`` of one command; the code is None when it did not end
        by ``deadline``. In the host probe through its kept shell when that is free (see
        :mod:`course_helpers.core.keptshell`), else by one ``docker exec``."""
        api = self.client.api
        shell = self._kept_shell(ref) if suits(cmd, APPLETS) else None
        if shell is not None and shell.lock.acquire(blocking=False):
            try:
                return shell.run(cmd, deadline=deadline, limit=EXEC_OUTPUT_LIMIT)
            except TimeoutError as exc:
                return str(exc), False, None
            except ShellLost:
                pass  # nothing was sent: the usual way runs it, or says the container is gone
            except ShellBroke:
                api.inspect_container(ref)  # gone: Docker's 404 says so (and the probe is renewed)
                raise  # still there: the command may have run, so it is not run again
            finally:
                shell.lock.release()
        exec_id = api.exec_create(ref, cmd)["Id"]
        data, cut, finished = read_and_close(api.exec_start(exec_id, socket=True),
                                             deadline=deadline, limit=EXEC_OUTPUT_LIMIT)
        code = api.exec_inspect(exec_id)["ExitCode"] if finished else None
        return data.decode(errors="replace"), cut, code

    def _kept_shell(self, ref: str) -> KeptShell | None:
        """The host probe's kept shell, opened on first use; None for any other container."""
        probe = self._probe
        if not self.is_live or self.closed or probe is None or ref != probe.id:
            return None
        with self._shell_lock:
            shell = self._shell
            if shell is None or not shell.alive or shell.container_id != ref:
                if shell is not None:
                    shell.close()
                try:
                    shell = self._shell = KeptShell(self.client.api, ref)
                except Exception:  # noqa: BLE001 - the usual `docker exec` says what is wrong
                    self._shell = None
                    return None
            if self.closed:  # close() ran meanwhile: this shell must not outlive it
                shell.close()
                return None
            return shell

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

    def with_host_probe(self, fn: Callable[[ContainerRef], T]) -> T:
        """``fn(probe)`` with this session's host-mode container; if the probe has gone
        (it expired, the engine restarted), once more with a new one.

        Similar to ``docker exec PROBE …``, where PROBE runs with ``--network host``.
        """
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

    def is_spare(self, ref: ContainerRef) -> bool:
        """True when ``ref`` is a spare kept ready by :meth:`keep_warm`, not handed out yet."""
        return getattr(ref, "id", None) in self._spare_ids

    def is_host_probe(self, ref: ContainerRef) -> bool:
        """True when ``ref`` is this session's host-mode container (see :meth:`host_probe`)."""
        probe = self._probe
        return probe is not None and getattr(ref, "id", None) == probe.id

    @recorded
    def host_interfaces(self) -> list[Interface]:
        """The Docker host's interfaces, read from inside a host-mode container.

        Similar to ``docker run --rm --network host IMAGE ip addr``. Reading them
        this way also works where the engine runs in a VM (Docker Desktop).
        """
        return self.with_host_probe(self.ip_addr)

    # -- networks -------------------------------------------------------------
    @recorded(check=check_create_network)
    def create_network(self, role: str = "net", **options: Any) -> NetworkRef:
        """Create a labelled course network. Similar to ``docker network create``.

        Args:
            role: a word that goes into the name.
            **options: only :data:`NETWORK_OPTIONS` (``driver='bridge'``, ``internal``,
                ``ipam`` …); ``name=`` picks the name yourself, ``labels=`` adds labels.

        Raises:
            BadInput: another option, or a driver other than bridge.
            DockerRefused: the engine refused (the name is taken …); nothing is left behind.
        """
        self.ensure_open()
        check_network_options(role, **options)
        options = dict(options)
        chosen = options.pop("name", None)
        labels = {**(options.pop("labels", None) or {}), **self.labels}
        options.setdefault("check_duplicate", True)  # as the CLI does: a taken name is a 409
        for attempt in range(NAME_ATTEMPTS):
            name = chosen or self.new_name(role)
            try:
                with translated(f"create network {name}"):
                    nid = self.client.api.create_network(name, labels=labels, **options)["Id"]
            except DockerRefused as exc:
                if chosen or exc.status != 409 or attempt == NAME_ATTEMPTS - 1:
                    raise
                continue
            break
        with self._mutex:
            self._networks[nid] = name
        return NetworkRef(name, nid)

    @recorded(check=check_network_ref)
    def remove_network(self, network: NetworkRef | str) -> None:
        """Remove a network this session created, by full id. Similar to ``docker network rm``.

        Networks this session did not create are refused before Docker is asked;
        Docker's own refusals (active endpoints …) come back as :class:`DockerRefused`.
        """
        check_network_ref(self, network)
        self._remove_own(self._networks, ref_id(network), network, "Network", "docker network rm",
                         sessions.remove_network)

    def _remove_own(self, owned: dict[str, str], oid: str, given: Any, kind: str, command: str,
                    remove: Callable[..., object]) -> None:
        """Remove an object of this session by full id, then forget it; refuse anyone else's."""
        if oid not in owned:
            raise BadInput(
                f"{kind} {describe_ref(given)} was not created by this Lab, so the course will "
                f"not remove it: use `{command}` yourself if you mean to."
            )
        remove(self.client, oid, owned[oid])
        with self._mutex:
            owned.pop(oid, None)

    def owned_network(self, ref: str) -> NetworkRef | None:
        """This session's network whose full id or name is ``ref``, else None."""
        with self._mutex:
            for nid, name in self._networks.items():
                if ref in (nid, name):
                    return NetworkRef(name, nid)
        return None

    def adopt_network(self, network: NetworkRef) -> None:
        """Treat a network carrying this session's labels as this session's own (as
        :meth:`close` does): it was labelled by hand, or made by an interrupted call."""
        with self._mutex:
            self._networks.setdefault(network.id, network.name)

    # -- the modes ------------------------------------------------------------
    def run_in_mode(self, mode: str, target: Any = None):
        """Start a container in a network mode and snapshot its network.

        Similar to ``docker run --network MODE IMAGE ip addr``; see
        :func:`course_helpers.modes.run_in_mode`.
        """
        from .. import modes

        return modes.run_in_mode(self, mode, target)

    # -- closing --------------------------------------------------------------
    def keep_warm(self, modes: tuple[str, ...] = WARMABLE) -> None:
        """Keep one started container ready per mode, so ``run_in_mode`` only reads; for
        container mode, one in the namespace of the target joined last (:meth:`joiner_for`).

        Introduced in chapter 03 (the mode explorer). No effect when replaying
        or recording (a recording must hold only what the notebook asked for).
        """
        if self.is_live and self.record_into is None:
            self._spares.enable(tuple(modes))

    def keeps_warm(self, mode: str) -> bool:
        """True when a spare of ``mode`` is kept ready (see :meth:`keep_warm`)."""
        return mode in self._spares.modes

    def refill_later(self) -> contextlib.AbstractContextManager[None]:
        """A block after which the spares it took are refilled (see :meth:`keep_warm`), so
        no refill competes with the call still reading the spare it was handed."""
        return self._spares.held()

    def wait_warm(self) -> None:
        """Wait until the spares being started (see :meth:`keep_warm`) are ready."""
        self._spares.wait()

    def container_for_mode(self, mode: str) -> ContainerRef:
        """A running course container in ``bridge`` or ``none`` mode: a spare if one is
        ready (see :meth:`keep_warm`), else a new one. Similar to ``docker run -d
        --network MODE IMAGE sleep N``."""
        ref = self._spares.take(mode)
        with self._mutex:
            self._spare_ids.discard(ref.id)
        return ref

    def joiner_for(self, target: ContainerRef) -> ContainerRef | None:
        """A spare container already in ``target``'s network namespace, if one is ready;
        either way, one is kept ready for the next call that joins ``target`` (see
        :meth:`keep_warm`). None when not keeping warm.

        Similar to ``docker run -d --network container:TARGET IMAGE sleep N``, run ahead
        of time. A spare is handed out only while ``target`` is still in the run it
        joined: a restarted target has a new namespace, and a new start time.
        """
        if not self.keeps_warm("container"):
            return None
        try:
            with translated(f"look up container {target.name}"):
                state = self.client.api.inspect_container(target.id).get("State") or {}
        except DockerRefused:
            return None  # gone meanwhile: the plain start says so in its own words
        if not state.get("Running"):
            return None  # stopped meanwhile: its last run's spare is no use
        key = f"container:{target.id}@{state.get('StartedAt', '')}"
        ref = self._spares.take_ready(key)
        self._spares.follow(key)
        if ref is not None:
            with self._mutex:
                self._spare_ids.discard(ref.id)
        return ref

    def _start_spare(self, key: str) -> ContainerRef:
        mode = key.partition("@")[0]  # container:ID@START, see joiner_for
        self._starting.spare = True  # this thread's start makes a spare (see is_spare)
        try:
            return self.start_container(mode.partition(":")[0], network_mode=mode)
        finally:
            self._starting.spare = False

    def discard(self, ref: ContainerRef) -> None:
        """Remove a course container this session no longer needs, quietly (the engine may
        be gone: then :meth:`close`, or the reaper, removes it later); never the host probe.

        Similar to ``docker rm -f ID``.
        """
        if not self.is_host_probe(ref):
            self._remove_quietly(ref.id)
            with self._mutex:
                self._spare_ids.discard(ref.id)

    def close(self) -> None:
        """Remove every container, then every network, this session created.

        Idempotent; calling it again retries what could not be removed the
        first time (the engine was away). Bounded: on an engine that has stopped
        answering it gives up after about :data:`CLOSE_REQUEST_TIMEOUT` seconds (at
        most :data:`CLOSE_BUDGET`) and leaves the rest to the reaper. A course
        container is removed even if one of your own containers joined its network
        namespace or network; a course network that one of your containers is
        attached to is kept (Docker refuses, and the course never disconnects your
        container), and the reaper tries again from the next session. Objects
        carrying this session's labels are removed too, even if you made them
        yourself. A recording Lab also writes its recording here.
        """
        if not self.is_live:
            self.closed = True
            return
        if self.closed and not (self._containers or self._networks):
            return
        self.closed = True
        deadline = time.monotonic() + CLOSE_BUDGET
        api = self.client.api
        saved_timeout = getattr(api, "timeout", None)
        if isinstance(saved_timeout, (int, float)):
            api.timeout = min(saved_timeout, CLOSE_REQUEST_TIMEOUT)
        try:
            self._spares.stop()
            if self._shell is not None:
                self._shell.close()
            if self._adopt_labelled():
                self._remove_all(deadline)
            folder = os.environ.get("COURSE_RECORD_DIR")
            if self.record_into is not None and folder and not self._saved:
                self._saved = True
                self.record_into.save(Path(folder) / f"{self.chapter}.json")
        finally:
            if isinstance(saved_timeout, (int, float)):
                api.timeout = saved_timeout
            leftovers = bool(self._containers or self._networks)
            if self._lock is not None:
                if self._lock.held:
                    # Leftovers keep the lock file as a tombstone: the reaper removes them later.
                    self._lock.release(tombstone=leftovers)
                elif not leftovers:  # a second close() removed what the first could not
                    sessions.forget_session(self.session, self._lock.directory)
            _open_labs.discard(self)

    def _remove_all(self, deadline: float) -> None:
        """Remove containers (side by side), then networks, until ``deadline``; stop at the
        first sign that the engine has gone away."""
        gone = remove_side_by_side(list(reversed(self._containers)), self.remove_container,
                                   deadline)
        for nid in list(reversed(self._networks)):
            if gone or time.monotonic() > deadline:
                return
            try:
                sessions.remove_network(self.client, nid, self._networks[nid])
            except EngineUnavailable:
                return
            except CourseError:
                continue  # in use by someone else's container
            with self._mutex:
                self._networks.pop(nid, None)

    def _adopt_labelled(self) -> bool:
        """Add objects carrying this session's label that the bookkeeping missed
        (a call interrupted between Docker's answer and the bookkeeping, or an object
        of yours onto which you copied the course's labels: the course treats it as
        its own). False when the engine does not answer."""
        selector = sessions.course_selector(self.session)
        try:
            with translated("list this session's objects"):
                containers = self.client.api.containers(all=True, filters=selector)
                networks = self.client.api.networks(filters=selector)
        except EngineUnavailable:
            return False
        except CourseError:
            return True
        with self._mutex:
            for c in containers:
                self._containers.setdefault(c["Id"], (c.get("Names") or ["?"])[0].lstrip("/"))
            for n in networks:
                self._networks.setdefault(n["Id"], n.get("Name", "?"))
        return True

    def _remove_quietly(self, cid: str) -> None:
        # The engine may be gone: then close() again, or the reaper, removes it later.
        with contextlib.suppress(Exception):
            self.remove_container(cid)
