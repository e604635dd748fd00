"""Processes read from ``/proc``: what ``ps`` shows, without ``ps``.

Chapters 04 and 05 read the engine host's process table through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Proc:
    """One process, as ``/proc/PID`` describes it."""

    pid: int
    ppid: int
    name: str
    argv: tuple[str, ...]


def read_proc(root: str | Path = "/proc") -> dict[int, Proc]:
    """Every process visible in ``root``. Similar to ``ps -eo pid,ppid,comm,args``.

    Processes that vanish while being read, or may not be read, are skipped.
    """
    procs = {}
    for entry in Path(root).iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        procs[int(entry.name)] = Proc(
            pid=int(entry.name), ppid=int(fields.get("PPid", "0").strip() or 0),
            name=fields.get("Name", "").strip(),
            argv=tuple(a.decode(errors="replace") for a in argv if a),
        )
    return procs


def ancestors(procs: dict[int, Proc], pid: int) -> list[int]:
    """The pids above ``pid`` (its parent, that one's parent …, up to PID 1), nearest first."""
    found: list[int] = []
    current = procs.get(pid)
    while current is not None and current.ppid and current.ppid not in found:
        found.append(current.ppid)
        current = procs.get(current.ppid)
    return found
