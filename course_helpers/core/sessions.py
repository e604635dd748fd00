"""Course sessions: labels that mark what a session made, and the reaper.

Introduced in chapter 00 (setup). Every container and network a
:class:`~course_helpers.core.lab.Lab` creates carries :data:`LABEL_COURSE` and
:data:`LABEL_SESSION`. A live session holds an ``flock`` on its lock file; the
kernel drops that lock when the process dies, even by SIGKILL, so the reaper
can tell a dead session's leftovers from a live one's. Similar to
``docker ps -a --filter label=…`` followed by ``docker rm -f ID``.

Rules the reaper keeps:

- Only objects carrying the course label *and* a well-formed session id, made
  on this machine, are considered; anything else (the learner's objects,
  whatever their names) is never looked at again.
- An object is removed only when its session is gone: its lock is free, or,
  when its lock file has vanished (a /tmp cleaner, a reboot of /tmp), the
  process its labels name (:data:`LABEL_PID`, checked with its start time, on
  this machine: :data:`LABEL_HOST`) no longer runs. Liveness never rests on the
  file alone. A lock file appears already locked (it is locked under
  a temporary name, then hard-linked into place), so a session being born is
  never mistaken for a dead one.
- A dead session's lock file stays as a tombstone until its objects are gone,
  so its id is never handed to a new session meanwhile.
- Removal is by full id, containers before networks.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .engine import translated
from .errors import CourseError, DockerRefused

if TYPE_CHECKING:  # imported on first use (a replaying Lab never needs the SDK)
    import docker

LABEL_PREFIX = "io.github.docker-networking-course"
LABEL_COURSE = f"{LABEL_PREFIX}.course"
LABEL_SESSION = f"{LABEL_PREFIX}.session"
LABEL_HOST = f"{LABEL_PREFIX}.host"
#: The folder holding the session's lock file (sessions may use different ones).
LABEL_LOCK_DIR = f"{LABEL_PREFIX}.lock-dir"
#: The process that made the object, and when it started (clock ticks since boot, from
#: ``/proc/PID/stat``): how a session whose lock file vanished is still known to be alive.
LABEL_PID = f"{LABEL_PREFIX}.pid"
LABEL_STARTED = f"{LABEL_PREFIX}.started"
COURSE_VALUE = "docker-networking"
#: What a session id looks like; objects claiming any other id are not the course's.
SESSION_ID = re.compile(r"[0-9a-f]{8,32}")
#: Seconds to wait for a container Docker is already removing (auto-remove) to be gone.
REMOVAL_WAIT = 15


def lock_dir() -> Path:
    """Where session lock files live (shared by every user of this machine), as an
    absolute path: a relative ``COURSE_LOCK_DIR`` is taken from the current folder."""
    path = Path(os.environ.get("COURSE_LOCK_DIR") or Path(tempfile.gettempdir()) / "dnc-sessions")
    path = Path(os.path.abspath(path))
    try:
        path.mkdir(parents=True)
    except FileExistsError:
        with contextlib.suppress(OSError):
            info = path.stat()
            if info.st_uid == os.getuid() and info.st_mode & 0o1777 != 0o1777:
                os.chmod(path, 0o1777)
    else:
        os.chmod(path, 0o1777)  # every user's sessions lock here; sticky, like /tmp
    return path


def lock_path(session: str, directory: Path | str | None = None) -> Path:
    """The lock file of ``session`` in ``directory`` (by default :func:`lock_dir`)."""
    return Path(directory or lock_dir()) / f"{session}.lock"


class SessionLock:
    """An ``flock`` held for as long as the session lives.

    The lock file is created and locked under a temporary name, then
    hard-linked to ``<session>.lock``; the link fails when that name exists
    (a live session, or a dead one's tombstone), and another id is drawn.

    Args:
        session: the session id; a new random one when None.
        directory: where the lock file goes; by default :func:`lock_dir`.

    Raises:
        CourseError: the lock folder cannot be written, or ``session`` is taken.
    """

    def __init__(self, session: str | None = None, directory: Path | None = None) -> None:
        self.directory = Path(directory or lock_dir())
        try:
            fd, tmp = tempfile.mkstemp(prefix=".new-", suffix=".lock", dir=self.directory)
        except OSError:
            raise CourseError(
                f"Cannot create a session lock in {self.directory}: set COURSE_LOCK_DIR to a "
                "folder you may write to."
            ) from None
        self._fh = os.fdopen(fd, "a+")
        try:
            os.fchmod(fd, 0o644)
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            for _ in range(64):
                candidate = session or secrets.token_hex(4)
                try:
                    os.link(tmp, lock_path(candidate, self.directory))
                except FileExistsError:
                    if session:
                        raise CourseError(
                            f"Session id {session} is in use or left objects behind: let the "
                            "course pick an id (pass no session)."
                        ) from None
                    continue
                break
            else:  # pragma: no cover - 64 collisions of 32 random bits
                raise CourseError("Could not find a free session id: run the cell again.")
        except BaseException:
            self._fh.close()
            raise
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        self.session = candidate
        self.path = lock_path(candidate, self.directory)

    @property
    def held(self) -> bool:
        """True until :meth:`release`."""
        return not self._fh.closed

    def release(self, *, tombstone: bool = False) -> None:
        """Drop the lock (idempotent).

        Args:
            tombstone: keep the (now unlocked) file, because objects of the
                session remain: the reaper removes them, then the file.
        """
        if self._fh.closed:
            return
        if not tombstone:
            with contextlib.suppress(OSError):
                if os.stat(self.path).st_ino == os.fstat(self._fh.fileno()).st_ino:
                    self.path.unlink()
        self._fh.close()


def process_started(pid: int) -> str | None:
    """When process ``pid`` of this machine started (clock ticks since boot), or None when
    there is no such process. Similar to ``ps -o lstart= -p PID``."""
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text()
    except (OSError, ValueError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def process_alive(pid: str | int | None, started: str | None) -> bool:
    """True when the process ``pid`` that started at ``started`` still runs on this machine
    (a PID reused by another process does not count)."""
    try:
        number = int(pid or 0)
    except ValueError:
        return False
    if number < 1:
        return False
    now = process_started(number)
    return now is not None and (not started or now == started)


def session_alive(session: str, directory: Path | str | None = None,
                  pid: str | int | None = None, started: str | None = None) -> bool:
    """True while the session lives: some process holds its lock, or, when its lock file
    is gone, the process that made it (``pid``, started at ``started``) still runs.

    An unlocked lock file (a tombstone) means the session ended, whatever ``pid`` says.

    Args:
        session: the session id.
        directory: the lock folder the session used; by default :func:`lock_dir`.
        pid: the process id from the session's labels (:data:`LABEL_PID`).
        started: that process's start time from the labels (:data:`LABEL_STARTED`).
    """
    if not SESSION_ID.fullmatch(session or ""):
        return False
    try:
        fh = lock_path(session, directory).open("r")
    except OSError:
        return process_alive(pid, started)
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
    return False


def machine_name() -> str:
    """This machine's name in the labels: ``COURSE_HOST`` if set, else the host name.

    A reaper only judges objects labelled with its own machine name: sessions
    on other machines (or that chose another ``COURSE_HOST``) cannot be seen
    from here, so their objects are never taken for orphans.
    """
    return os.environ.get("COURSE_HOST") or socket.gethostname()


def labels_for(session: str) -> dict[str, str]:
    """The labels every object of a session carries."""
    return {
        LABEL_COURSE: COURSE_VALUE,
        LABEL_SESSION: session,
        LABEL_HOST: machine_name(),
        LABEL_LOCK_DIR: str(lock_dir()),
        LABEL_PID: str(os.getpid()),
        LABEL_STARTED: process_started(os.getpid()) or "",
    }


def course_selector(session: str | None = None) -> dict[str, list[str]]:
    """A ``filters`` argument selecting course objects (of one session, if given)."""
    labels = [f"{LABEL_COURSE}={COURSE_VALUE}"]
    if session:
        labels.append(f"{LABEL_SESSION}={session}")
    return {"label": labels}


@dataclass(frozen=True)
class Orphan:
    """A course object whose session is gone."""

    kind: str  # "container" or "network"
    id: str
    name: str
    session: str
    lock_dir: str = ""
    pid: str = ""
    started: str = ""


def _owner(labels: dict[str, str] | None) -> tuple[str, str, str, str] | None:
    """(session, lock folder, pid, start time) of a course object made on this machine,
    else None."""
    labels = labels or {}
    session = labels.get(LABEL_SESSION, "")
    if labels.get(LABEL_COURSE) != COURSE_VALUE or not SESSION_ID.fullmatch(session):
        return None
    if labels.get(LABEL_HOST) != machine_name():
        return None  # made from another machine: its sessions cannot be seen from here
    folder = labels.get(LABEL_LOCK_DIR) or str(lock_dir())
    if not os.path.isabs(folder):
        # Made while COURSE_LOCK_DIR was relative (before lock folders were made absolute):
        # the file cannot be found from here, so the process decides alone.
        folder = "/nonexistent/relative-lock-dir"
    return session, folder, labels.get(LABEL_PID, ""), labels.get(LABEL_STARTED, "")


def find_orphans(client: docker.DockerClient) -> list[Orphan]:
    """Course objects made on this machine by sessions that no longer run.

    Similar to ``docker ps -a --filter label=…`` and ``docker network ls
    --filter label=…``. Objects made from another machine (another
    ``LABEL_HOST``, see :func:`machine_name`) are left alone: their sessions
    cannot be seen from here.
    Containers come before networks.
    """
    with translated("list course objects"):
        containers = client.api.containers(all=True, filters=course_selector())
        networks = client.api.networks(filters=course_selector())
    alive: dict[tuple[str, str], bool] = {}
    found: list[Orphan] = []
    for kind, objects in (("container", containers), ("network", networks)):
        for obj in objects:
            owner = _owner(obj.get("Labels"))
            if owner is None:
                continue
            if owner not in alive:
                alive[owner] = session_alive(*owner)
            if not alive[owner]:
                name = obj.get("Name") or (obj.get("Names") or ["?"])[0].lstrip("/")
                found.append(Orphan(kind, obj["Id"], name, owner[0], owner[1], owner[2],
                                    owner[3]))
    return found


def _gone(exc: DockerRefused) -> bool:
    """True when Docker's refusal only says the object is (being) removed already."""
    return exc.status == 404 or "already in progress" in exc.reason


def wait_removed(client: docker.DockerClient, container_id: str,
                 timeout: int = REMOVAL_WAIT) -> None:
    """Wait (bounded) until Docker has finished removing a container. Never raises.

    Similar to ``docker wait --condition removed ID``.
    """
    with contextlib.suppress(Exception):
        client.api.wait(container_id, timeout=timeout, condition="removed")


def remove_container(client: docker.DockerClient, container_id: str, name: str = "") -> bool:
    """Remove a container by full id (``docker rm -f ID``) and wait until it is gone.

    Returns:
        True when it is gone (also when it was gone already).

    Raises:
        DockerRefused: Docker refused for another reason.
        EngineUnavailable: the engine went away.
    """
    try:
        with translated(f"remove container {name or container_id[:12]}"):
            client.api.remove_container(container_id, force=True)
    except DockerRefused as exc:
        if not _gone(exc):
            raise
        if exc.status != 404:
            wait_removed(client, container_id)
    return True


def remove_network(client: docker.DockerClient, network_id: str, name: str = "") -> bool:
    """Remove a network by full id (``docker network rm ID``); True when gone.

    Raises:
        DockerRefused: Docker refused (active endpoints …).
        EngineUnavailable: the engine went away.
    """
    try:
        with translated(f"remove network {name or network_id[:12]}"):
            client.api.remove_network(network_id)
    except DockerRefused as exc:
        if exc.status != 404:
            raise
    return True


def remove_orphans(
    client: docker.DockerClient,
    orphans: list[Orphan],
    *,
    failures: list[tuple[Orphan, str]] | None = None,
) -> list[Orphan]:
    """Remove orphans by full id, containers first; return those removed.

    Similar to ``docker rm -f ID …`` then ``docker network rm ID …``. An
    object Docker refuses to remove (say, a network a learner attached their
    own container to) is kept and reported; nothing of the learner's is
    touched to make it removable.

    Args:
        client: a connected client.
        orphans: what :func:`find_orphans` found.
        failures: if given, receives ``(orphan, Docker's reason)`` for each kept object.

    Raises:
        EngineUnavailable: the engine went away.
    """
    removed: list[Orphan] = []
    kept: set[str] = set()
    for orphan in sorted(orphans, key=lambda o: o.kind != "container"):
        remove = remove_container if orphan.kind == "container" else remove_network
        try:
            remove(client, orphan.id, orphan.name)
        except DockerRefused as exc:
            kept.add(orphan.session)
            if failures is not None:
                failures.append((orphan, exc.reason))
            continue
        removed.append(orphan)
    for o in {o for o in removed if o.session not in kept}:
        if not session_alive(o.session, o.lock_dir or None, o.pid, o.started):
            forget_session(o.session, o.lock_dir or None)
    return removed


def forget_session(session: str, directory: Path | str | None = None) -> None:
    """Delete a dead session's lock file (its tombstone), if nobody holds it."""
    path = lock_path(session, directory)
    try:
        fh = path.open("r")
    except OSError:
        return
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return
        with contextlib.suppress(OSError):
            if os.stat(path).st_ino == os.fstat(fh.fileno()).st_ino:
                path.unlink()


def stale_lock_files(client: docker.DockerClient, directory: Path | str | None = None) -> list[str]:
    """Sessions whose lock file is left in ``directory`` though nobody holds it and no course
    object of theirs is on this engine (a session killed before it made anything).

    Similar to ``ls /tmp/dnc-sessions`` checked against ``docker ps -a --filter label=…``.

    Raises:
        EngineUnavailable: the engine went away.
    """
    folder = Path(directory or lock_dir())
    with translated("list course objects"):
        objects = (client.api.containers(all=True, filters=course_selector())
                   + client.api.networks(filters=course_selector()))
    owners = {(obj.get("Labels") or {}).get(LABEL_SESSION) for obj in objects}
    stale = []
    for path in sorted(folder.glob("*.lock")):
        session = path.name[: -len(".lock")]
        if SESSION_ID.fullmatch(session) and session not in owners \
                and not session_alive(session, folder):
            stale.append(session)
    return stale
