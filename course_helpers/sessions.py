"""Course sessions: labels that mark what a session made, and the reaper.

Introduced in chapter 00 (setup). Every container and network a
:class:`~course_helpers.lab.Lab` creates carries :data:`LABEL_COURSE` and
:data:`LABEL_SESSION`. A live session holds an ``flock`` on its lock file; the
kernel drops that lock when the process dies, even by SIGKILL, so the reaper
can tell a dead session's leftovers from a live one's. Similar to
``docker ps -a --filter label=…`` followed by ``docker rm -f ID``.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

import docker

from .engine import translated

LABEL_PREFIX = "io.github.docker-networking-course"
LABEL_COURSE = f"{LABEL_PREFIX}.course"
LABEL_SESSION = f"{LABEL_PREFIX}.session"
LABEL_HOST = f"{LABEL_PREFIX}.host"
COURSE_VALUE = "docker-networking"


def lock_dir() -> Path:
    """Where session lock files live (shared by every user of this machine)."""
    path = Path(os.environ.get("COURSE_LOCK_DIR") or Path(tempfile.gettempdir()) / "dnc-sessions")
    path.mkdir(mode=0o1777, parents=True, exist_ok=True)
    return path


class SessionLock:
    """An ``flock`` held for as long as the session lives.

    Args:
        session: the session id; a new random one when None.
    """

    def __init__(self, session: str | None = None) -> None:
        self.session = session or secrets.token_hex(4)
        self.path = lock_dir() / f"{self.session}.lock"
        self._fh = self.path.open("a+")
        os.chmod(self.path, 0o644)
        fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release(self) -> None:
        """Drop the lock and delete the file (idempotent)."""
        if self._fh.closed:
            return
        self.path.unlink(missing_ok=True)
        self._fh.close()


def session_alive(session: str) -> bool:
    """True while some process on this machine holds the session's lock."""
    path = lock_dir() / f"{session}.lock"
    try:
        fh = path.open("r")
    except OSError:
        return False
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
    path.unlink(missing_ok=True)
    return False


def labels_for(session: str) -> dict[str, str]:
    """The labels every object of a session carries."""
    return {LABEL_COURSE: COURSE_VALUE, LABEL_SESSION: session, LABEL_HOST: socket.gethostname()}


@dataclass(frozen=True)
class Orphan:
    """A course object whose session is gone."""

    kind: str  # "container" or "network"
    id: str
    name: str
    session: str


def find_orphans(client: docker.DockerClient) -> list[Orphan]:
    """Course objects made on this machine by sessions that no longer run.

    Objects made from another machine (another ``LABEL_HOST``) are left alone:
    their sessions cannot be seen from here. Containers come before networks.
    """
    here = socket.gethostname()
    selector = {"label": f"{LABEL_COURSE}={COURSE_VALUE}"}
    found: list[Orphan] = []
    alive: dict[str, bool] = {}
    with translated("list course objects"):
        containers = client.containers.list(all=True, filters=selector)
        networks = client.networks.list(filters=selector)
    for kind, objects in (("container", containers), ("network", networks)):
        for obj in objects:
            labels = obj.attrs.get("Labels") or obj.attrs.get("Config", {}).get("Labels") or {}
            session = labels.get(LABEL_SESSION, "")
            if labels.get(LABEL_COURSE) != COURSE_VALUE or labels.get(LABEL_HOST) != here:
                continue
            if session not in alive:
                alive[session] = session_alive(session)
            if not alive[session]:
                found.append(Orphan(kind, obj.id, obj.name, session))
    return found


def remove_orphans(client: docker.DockerClient, orphans: list[Orphan]) -> list[Orphan]:
    """Remove orphans by full id, containers first; return those removed."""
    removed = []
    for orphan in sorted(orphans, key=lambda o: o.kind != "container"):
        try:
            with translated(f"remove {orphan.kind} {orphan.name}"):
                if orphan.kind == "container":
                    client.api.remove_container(orphan.id, force=True)
                else:
                    client.api.remove_network(orphan.id)
        except Exception as exc:  # noqa: BLE001 - a vanished object is fine
            if "No such" in str(exc) or "not found" in str(exc) or "in progress" in str(exc):
                continue
            raise
        removed.append(orphan)
    return removed
