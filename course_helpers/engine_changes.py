"""What changed between engines, read from the runs the course ships recorded.

Introduced in chapter 03 (network modes). The course ships one recording of
every chapter per engine (``course_helpers/recordings/28.5`` and ``/20.10``):
real runs, made by ``python -m course_helpers record``. Reading the bridge-mode
container of each, side by side, shows two changes of Engine 28 that no single
engine can show: a bridge container's MAC address is no longer derived from
its IPv4 address, and its ``eth0`` is created inside the container's namespace
(where the engine can), so in the shipped runs it is interface number 2, right after
``lo``. Similar to comparing ``docker exec C ip addr`` on two machines that run
different engines.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .core.replay import RECORDINGS, Recording, decode, recording_sets

#: The chapter whose recordings hold a bridge-mode snapshot.
CHAPTER = "03_network_modes"
#: The first engine whose bridge MACs are random, and whose containers' eth0 is made inside
#: their namespace (ifindex 2, right after lo, in the shipped runs).
CHANGED_IN = (28, 0)


@dataclass(frozen=True)
class RecordedBridge:
    """A bridge-mode container as one recorded run saw it.

    Attributes:
        engine: the engine version the run was recorded on (``28.5.2+dfsg4``).
        date: when it was recorded.
        ipv4: the container's address on the bridge.
        mac: its ``eth0`` MAC address.
        eth0_index: its ``eth0``'s interface number (ifindex) inside the container.
        host_index: the number of the host-side end of its veth pair.
    """

    engine: str
    date: str
    ipv4: str
    mac: str
    eth0_index: int
    host_index: int | None

    @property
    def version(self) -> tuple[int, int]:
        """(major, minor) of the engine."""
        major, minor = re.match(r"(\d+)\.(\d+)", self.engine).groups()
        return int(major), int(minor)

    @property
    def mac_from_ipv4(self) -> bool:
        """True when the MAC is ``02:42:`` followed by the IPv4 address in hex."""
        octets = [int(o) for o in self.ipv4.split(".")]
        return self.mac.lower() == "02:42:" + ":".join(f"{o:02x}" for o in octets)


def bridge_snapshot(recording: Recording):
    """The first ``run_in_mode("bridge")`` result a recording holds, or None."""
    for key, result in recording.calls:
        name, _args, kwargs = json.loads(key)  # replay's key: [name, args, kwargs] as JSON
        if name == "run_in_mode" and kwargs.get("mode") == "bridge":
            return decode(result)
    return None


def recorded_bridges(root: Path = RECORDINGS) -> list[RecordedBridge]:
    """The bridge-mode container of chapter 03, from every shipped recording, oldest engine first.

    Similar to running ``docker run -d IMAGE`` and ``docker exec C ip addr`` on each engine.

    Args:
        root: the recordings folder (one sub-folder per engine version).

    Returns:
        One :class:`RecordedBridge` per recording set that holds such a run.
    """
    found = []
    for engine_set in reversed(recording_sets(root)):
        path = root / engine_set / f"{CHAPTER}.json"
        if not path.is_file():
            continue
        recording = Recording.load(path)
        snap = bridge_snapshot(recording)
        if snap is None:
            continue
        eth0 = next(i for i in snap.interfaces if i.name == "eth0")
        found.append(RecordedBridge(
            engine=str(recording.meta.get("engine", engine_set)),
            date=str(recording.meta.get("date", "")),
            ipv4=str(eth0.ipv4[0].ip),
            mac=eth0.mac or "",
            eth0_index=eth0.index,
            host_index=snap.host_peer.index if snap.host_peer else None,
        ))
    return found


def table(bridges: list[RecordedBridge]) -> str:
    """The recorded bridge containers as a small text table, one engine per line."""
    lines = [f"{'recorded on Engine':<20} {'IPv4':<12} {'MAC':<18} {'from IPv4?':<11} "
             f"{'eth0 ifindex':>12} {'host end':>9}"]
    for b in bridges:
        lines.append(f"{b.engine:<20} {b.ipv4:<12} {b.mac:<18} "
                     f"{'yes' if b.mac_from_ipv4 else 'no':<11} {b.eth0_index:>12} "
                     f"{b.host_index if b.host_index is not None else '?':>9}")
    return "\n".join(lines)
