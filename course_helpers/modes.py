"""The four network modes: start a container in each and snapshot its network.

Introduced in chapter 03 (网络模式, network modes). Similar to::

    docker run --rm --network bridge|host|none|container:NAME IMAGE ip addr
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .engine import translated
from .errors import BadInput, DockerRefused
from .ipaddr import Interface, by_index, parse_ip_addr
from .replay import replayable

if TYPE_CHECKING:
    from docker.models.containers import Container

    from .lab import ContainerRef, Lab

MODES = ("bridge", "host", "none", "container")
_MARK = "--- course:ip-addr ---"
#: One exec reads the namespace inode, the hostname and ``ip addr``.
_SNAPSHOT_CMD = ["sh", "-c",
                 f"readlink /proc/self/ns/net; hostname; echo '{_MARK}'; ip addr 2>/dev/null"]


@replayable
@dataclass(frozen=True)
class ModeSnapshot:
    """What a container sees of the network in one mode.

    Attributes:
        mode: ``bridge``, ``host``, ``none`` or ``container``.
        container: the name of the container that was started.
        container_id: its full id.
        interfaces: its parsed ``ip addr``.
        netns: its network namespace, as ``readlink /proc/self/ns/net`` prints it.
        hostname: its hostname.
        target: for container mode, the name of the container whose network it joined.
        target_id: that container's full id.
        host_peer: for bridge mode, the host-side end of eth0's veth pair.
        bridge: for bridge mode, the bridge that host-side end is attached to.
        cli: the equivalent ``docker`` commands (see :func:`cli_line`).
    """

    mode: str
    container: str
    container_id: str
    interfaces: tuple[Interface, ...]
    netns: str
    hostname: str
    cli: str
    target: str | None = None
    target_id: str | None = None
    host_peer: Interface | None = None
    bridge: Interface | None = None

    @property
    def names(self) -> list[str]:
        """Interface names, in order."""
        return [iface.name for iface in self.interfaces]

    def interface(self, name: str) -> Interface:
        """The interface called ``name``.

        Raises:
            BadInput: there is none; the message lists those there are.
        """
        for iface in self.interfaces:
            if iface.name == name:
                return iface
        raise BadInput(f"No interface {name!r} in this {self.mode}-mode container: "
                       f"it has {', '.join(self.names)}.")

    @property
    def ipv4(self) -> list[str]:
        """IPv4 addresses with prefix, loopback excluded."""
        return [str(a.interface) for i in self.interfaces if i.link_type != "loopback"
                for a in i.ipv4]

    def table(self) -> list[dict[str, Any]]:
        """One row per interface: name, index, peer, state, MAC, addresses."""
        return [
            {
                "name": i.name,
                "index": i.index,
                "peer": f"if{i.peer_index}" if i.peer_index is not None else "",
                "up": i.is_up,
                "mac": i.mac or "",
                "addresses": ", ".join(str(a.interface) for a in i.addresses),
            }
            for i in self.interfaces
        ]


def cli_line(mode: str, image: str, name: str, target: str | None = None,
             lifetime: int = 900) -> str:
    """The ``docker`` commands equivalent to what the helper did for a snapshot.

    The helper starts a container that stays up for a while (so others can join
    it) and then runs ``ip addr`` in it; in host mode it reuses the Lab's
    host-mode container, which was started the same way.

    >>> cli_line("none", "IMAGE", "c1")
    'docker run -d --name c1 --network none IMAGE sleep 900 && docker exec c1 ip addr'
    """
    network = f"container:{target}" if mode == "container" else mode
    return (f"docker run -d --name {name} --network {network} {image} sleep {lifetime} "
            f"&& docker exec {name} ip addr")


def check_mode(mode: str, target: Any = None) -> tuple[str, Any]:
    """Validate a mode (and split ``container:NAME``); return (mode, target).

    Modes are matched without regard to case or surrounding blanks (``" Bridge"`` is bridge).

    Raises:
        BadInput: unknown mode, or container mode without a target.
    """
    if isinstance(mode, str):
        mode = mode.strip()
        if mode.lower().startswith("container:"):
            mode, target = "container", target or mode.split(":", 1)[1].strip()
        mode = mode.lower()
    if mode not in MODES:
        raise BadInput(
            f"Unknown network mode {mode!r}: choose one of {', '.join(MODES)} "
            "(container mode also needs target=NAME)."
        )
    if mode == "container" and (target is None or (isinstance(target, str) and not target.strip())):
        raise BadInput(
            "Container mode joins another container's network: pass target=NAME "
            "(a running container's name or id, or a ModeSnapshot)."
        )
    return mode, target


def target_ref(target: Any) -> str:
    """The id or name a target stands for (a name, an id, a ContainerRef, a Container or a
    ModeSnapshot).

    Raises:
        BadInput: the target is none of those.
    """
    ref = getattr(target, "container_id", None) or getattr(target, "id", None) or target
    if not isinstance(ref, str) or not ref.strip():
        raise BadInput(
            f"{target!r} cannot be a target: pass a running container's name or id, "
            "a ContainerRef or a ModeSnapshot."
        )
    return ref.strip()


def resolve_target(lab: Lab, target: Any) -> Container:
    """The running container to join; never modified, only read.

    Similar to ``docker inspect TARGET``.

    Raises:
        BadInput: no such container, or it is not running.
    """
    ref = target_ref(target)
    try:
        with translated(f"look up container {ref}"):
            container = lab.client.containers.get(ref)
    except DockerRefused as exc:
        if exc.status != 404:
            raise
        raise BadInput(
            f"There is no container {ref!r} to join: start it first (`docker ps -a` lists "
            "containers; course containers remove themselves when their lifetime ends) or pass "
            "the name of a running one."
        ) from None
    if container.status != "running":
        raise BadInput(
            f"Container {container.name} is {container.status}, and only a running container's "
            f"network can be joined: start it with `docker start {container.name}` or pick "
            "another target."
        )
    return container


def _read(lab: Lab, container: ContainerRef) -> tuple[str, str, list[Interface]]:
    out = lab.exec(container, _SNAPSHOT_CMD)
    head, _, body = out.partition(_MARK + "\n")
    netns, hostname = (head.splitlines() + ["", ""])[:2]
    return netns.strip(), hostname.strip(), parse_ip_addr(body)


def _snapshot(lab: Lab, mode: str, container: ContainerRef, target: Container | None,
              host_ifaces: list[Interface] | None,
              reading: tuple[str, str, list[Interface]] | None = None) -> ModeSnapshot:
    netns, hostname, interfaces = reading or _read(lab, container)
    peer = bridge = None
    if mode in ("bridge", "container") and host_ifaces is not None:
        eth0 = next((i for i in interfaces if i.peer_index is not None), None)
        host_index = by_index(host_ifaces)
        peer = host_index.get(eth0.peer_index) if eth0 else None
        if peer is not None and peer.master:
            bridge = next((i for i in host_ifaces if i.name == peer.master), None)
    return ModeSnapshot(
        mode=mode,
        container=container.name,
        container_id=container.id,
        interfaces=tuple(interfaces),
        netns=netns,
        hostname=hostname,
        cli=cli_line(mode, lab.image, container.name, target.name if target else None,
                     lab.lifetime),
        target=target.name if target else None,
        target_id=target.id if target else None,
        host_peer=peer,
        bridge=bridge,
    )


def _discard(lab: Lab, started: list[ContainerRef]) -> None:
    """Remove what a failed snapshot started (never the Lab's host probe)."""
    for ref in started:
        if ref != lab._probe:
            lab._remove_quietly(ref.id)


def run_in_mode(lab: Lab, mode: str, target: Any = None) -> ModeSnapshot:
    """Start a container in ``mode`` and snapshot what it sees.

    Similar to ``docker run -d --network MODE IMAGE sleep N`` followed by
    ``docker exec NAME ip addr``. Host mode reads through the Lab's host-mode
    container; bridge and container mode also read the host side (through that
    same container) to find eth0's veth peer and its bridge.

    Args:
        lab: the session that owns the container.
        mode: ``bridge``, ``host``, ``none``, ``container`` or ``container:NAME``.
        target: for container mode, the container to join (name, id, Container
            or ModeSnapshot). It is joined, never modified. A container-mode
            snapshot is a fine target: the new container joins the same namespace.

    Returns:
        The snapshot.

    Raises:
        BadInput: unknown mode; container mode without a usable target.
        DockerRefused: the engine refused; what this call started is removed again.
    """
    mode, target = check_mode(mode, target)
    lab._check_open()
    if mode == "host":
        return lab._with_probe(lambda probe: _snapshot(lab, mode, probe, None, None))
    joined = resolve_target(lab, target) if mode == "container" else None
    network_mode = f"container:{joined.id}" if joined else mode
    started: list[ContainerRef] = []
    try:
        if mode == "none":
            started.append(lab._take(mode))
            return _snapshot(lab, mode, started[0], joined, None)
        with ThreadPoolExecutor(max_workers=2) as pool:
            probe = pool.submit(lab.host_probe)  # starts alongside, if not running yet
            if mode == "container":
                # The joined namespace exists already: read the host side meanwhile.
                host_ifaces = pool.submit(lambda: lab.ip_addr(probe.result()))
            started.append(lab._take(mode) if mode == "bridge"
                           else lab.start_container(mode, network_mode=network_mode))
            if mode == "bridge":
                # Read the host side only once the container runs: its veth must be in place.
                host_ifaces = pool.submit(lambda: lab.ip_addr(probe.result()))
            reading = _read(lab, started[0])
            return _snapshot(lab, mode, started[0], joined, host_ifaces.result(), reading)
    except BaseException:
        _discard(lab, started)
        raise


def run_all_modes(lab: Lab, target: Any = None) -> dict[str, ModeSnapshot]:
    """Snapshots of all four modes, started side by side.

    Container mode joins ``target`` if given, else the bridge-mode container.

    Returns:
        ``{"bridge": …, "host": …, "none": …, "container": …}``.

    Raises:
        BadInput: a target that is missing or not running.
        DockerRefused: the engine refused; what this call started is removed again.
    """
    lab._check_open()
    joined = resolve_target(lab, target) if target is not None else None
    started: list[ContainerRef] = []
    none = None
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            probe = pool.submit(lab.host_probe)
            none = pool.submit(lab._take, "none")
            bridge = lab._take("bridge")
            started.append(bridge)
            joined = joined or bridge
            joiner = lab.start_container("container", network_mode=f"container:{joined.id}")
            started.append(joiner)
            host_ifaces = pool.submit(lab.ip_addr, probe.result())
            futures = {
                "bridge": pool.submit(_snapshot, lab, "bridge", bridge, None, host_ifaces.result()),
                "host": pool.submit(_snapshot, lab, "host", probe.result(), None, None),
                "none": pool.submit(_snapshot, lab, "none", none.result(), None, None),
                "container": pool.submit(_snapshot, lab, "container", joiner, joined,
                                         host_ifaces.result()),
            }
            return {mode: fut.result() for mode, fut in futures.items()}
    except BaseException:
        if none is not None and none.done() and none.exception() is None:
            started.append(none.result())
        _discard(lab, started)
        raise
