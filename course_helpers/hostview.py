"""The Docker host's own interfaces, grouped by kind, and which of them Docker made.

Introduced in chapter 01 (docker 不启动，默认网络情况: the host before and after the
daemon starts). Similar to running ``ip addr`` on the host and comparing it
with ``docker network inspect`` of every bridge network. Also the network
namespace a container is in (``readlink /proc/self/ns/net``) and the kernel's
own word on what kind of device a host interface is (sysfs).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .core.engine import translated
from .core.errors import BadInput, CommandFailed
from .core.replay import recorded, replayable
from .ipaddr import Interface, by_index

if TYPE_CHECKING:
    from .core.lab import Lab

#: Kinds of interface, in the order the chapter shows them (see ``Interface.kind``).
KINDS = ("loopback", "nic", "bridge", "veth", "virtual")

#: The option that names a bridge network's Linux bridge (``docker0`` for ``bridge``).
BRIDGE_NAME_OPTION = "com.docker.network.bridge.name"

#: The source's CentOS 7 host (its first two screenshots, 2022): DATA FROM THE SOURCE,
#: not read from any engine. ``after_docker`` marks what appeared once the daemon ran.
SOURCE_CENTOS7_HOST: tuple[dict[str, str | bool], ...] = (
    {"name": "ens33", "kind": "nic", "address": "192.168.x.x/24 (set by the VM's network)",
     "made_by": "VMware virtual NIC, named by systemd's predictable naming",
     "after_docker": False},
    {"name": "lo", "kind": "loopback", "address": "127.0.0.1/8",
     "made_by": "the kernel (every network namespace has one)", "after_docker": False},
    {"name": "virbr0", "kind": "bridge", "address": "192.168.122.1/24",
     "made_by": "libvirt: NAT bridge for virtual machines (yum remove libvirt-libs)",
     "after_docker": False},
    {"name": "docker0", "kind": "bridge", "address": "172.17.0.1/16",
     "made_by": "the Docker daemon, when it starts", "after_docker": True},
)


@replayable
@dataclass(frozen=True)
class DockerBridge:
    """A Docker network of the ``bridge`` driver and the Linux bridge behind it.

    Attributes:
        network: the network's name (``bridge`` for the default one).
        network_id: its full id.
        bridge: the Linux bridge interface Docker made for it (``docker0``, ``br-…``).
        subnets: the IPAM subnets, as ``docker network inspect`` prints them.
        gateways: the IPAM gateways it prints (Engine 20.10 may leave the default
            bridge's out).
    """

    network: str
    network_id: str
    bridge: str
    subnets: tuple[str, ...] = ()
    gateways: tuple[str, ...] = ()


def bridge_of(network: dict) -> str:
    """The Linux bridge name of a bridge-driver network, from its inspect data.

    Docker uses the ``com.docker.network.bridge.name`` option when set (the
    default network sets it to ``docker0``), else ``br-`` and the first 12
    characters of the network id.

    Args:
        network: a network as ``docker network inspect`` returns it.

    Returns:
        The interface name, e.g. ``docker0`` or ``br-0123456789ab``.
    """
    options = network.get("Options") or {}
    return options.get(BRIDGE_NAME_OPTION) or f"br-{network['Id'][:12]}"


@recorded
def docker_bridges(lab: Lab) -> list[DockerBridge]:
    """Every bridge-driver network and its Linux bridge, in ``docker network ls`` order.

    Similar to ``docker network ls --filter driver=bridge`` followed by
    ``docker network inspect`` of each.

    Args:
        lab: the session that asks.

    Returns:
        One :class:`DockerBridge` per network (the learner's own networks included:
        they are only read).
    """
    with translated("list the bridge networks"):
        networks = lab.client.api.networks(filters={"driver": "bridge"})
    result = []
    for net in sorted(networks, key=lambda n: n["Name"]):
        config = (net.get("IPAM") or {}).get("Config") or []
        result.append(DockerBridge(
            network=net["Name"], network_id=net["Id"], bridge=bridge_of(net),
            subnets=tuple(c["Subnet"] for c in config if c.get("Subnet")),
            gateways=tuple(c["Gateway"] for c in config if c.get("Gateway")),
        ))
    return result


def group_by_kind(interfaces: list[Interface]) -> dict[str, list[str]]:
    """Interface names grouped by kind: loopback, nic, bridge, veth, virtual.

    Similar to reading ``ip addr`` and sorting its lines by hand. The kind is
    the coarse guess of :attr:`Interface.kind` (from link type, ``@ifN`` and name).

    Args:
        interfaces: parsed ``ip addr`` output.

    Returns:
        ``{kind: [names in printed order]}``, every kind of :data:`KINDS` present.
    """
    groups: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for iface in interfaces:
        groups.setdefault(iface.kind, []).append(iface.name)
    return groups


def veths_on(bridge_name: str, interfaces: list[Interface]) -> list[Interface]:
    """The veth ends attached to a bridge. Similar to ``ip link show master BRIDGE``.

    Args:
        bridge_name: the bridge, e.g. ``docker0``.
        interfaces: parsed ``ip addr`` output of the bridge's namespace.

    Returns:
        The veths whose ``master`` is that bridge, in printed order.

    Raises:
        BadInput: the arguments come the other way round, or the bridge is not named.
    """
    if not isinstance(bridge_name, str) or isinstance(interfaces, str):
        raise BadInput("veths_on takes the bridge's name first, then the interfaces, "
                       "as in hostview.veths_on(\"docker0\", host).")
    return [i for i in interfaces if i.master == bridge_name and i.kind == "veth"]


def made_by_docker(bridges: list[DockerBridge], interfaces: list[Interface]) -> set[str]:
    """The interfaces Docker made, derived from data rather than from names.

    A bridge counts when a Docker network names it or when it carries one of
    a network's gateway addresses; a veth counts when its master is one of
    those bridges. A ``veth…`` or ``br…`` made by anything else does not.

    Args:
        bridges: Docker's bridge networks (:func:`docker_bridges`).
        interfaces: the host's parsed ``ip addr``.

    Returns:
        Names of the Docker-made interfaces present in ``interfaces``.
    """
    names = {b.bridge for b in bridges}
    gateways = {g for b in bridges for g in b.gateways}
    made = {i.name for i in interfaces
            if i.name in names or any(str(a.ip) in gateways for a in i.ipv4)}
    return made | {v.name for bridge in made for v in veths_on(bridge, interfaces)}


def carries_gateway(bridge: DockerBridge, iface: Interface) -> bool:
    """Whether an interface holds the gateway address Docker reports for a network.

    Similar to comparing ``docker network inspect -f '{{range .IPAM.Config}}{{.Gateway}}
    {{end}}' NET`` with ``ip addr show IFACE``. When the network reports no gateway
    (Engine 20.10 may leave the default bridge's out), an address of the interface
    whose network is one of the reported subnets counts instead.

    Args:
        bridge: a Docker bridge network (:func:`docker_bridges`).
        iface: a parsed interface, usually the Linux bridge of that network.

    Returns:
        True when every reported gateway is one of ``iface``'s addresses (or, with no
        gateway reported, an address lies in a reported subnet); False otherwise,
        including when the network reports neither.
    """
    held = {a.interface for a in iface.addresses}
    if bridge.gateways:
        return {ipaddress.ip_address(g) for g in bridge.gateways} <= {a.ip for a in held}
    subnets = {ipaddress.ip_network(s, strict=False) for s in bridge.subnets}
    return any(a.network in subnets for a in held)


def docker_made(lab: Lab, interfaces: list[Interface]) -> set[str]:
    """The host interfaces Docker made: its bridges and the veths attached to them.

    Similar to comparing ``ip addr`` with ``docker network inspect``. The engine
    is asked through :func:`docker_bridges` (recorded, so this replays too).

    Args:
        lab: the session that asks.
        interfaces: the host's interfaces (``lab.host_interfaces()``).

    Returns:
        Names of the Docker-made interfaces.
    """
    return made_by_docker(docker_bridges(lab), interfaces)


#: What ``readlink /proc/self/ns/net`` prints: the namespace type and its inode.
NETNS = re.compile(r"net:\[(\d+)\]")
#: A Linux interface name: 1-15 characters, no ``/``, no whitespace, not ``.`` or ``..``.
IFNAME = re.compile(r"(?!\.\.?$)[^/\s:]{1,15}")


@recorded
def netns_of(lab: Lab, container: Any) -> str:
    """The network namespace a container's processes are in, as ``net:[INODE]``.

    Similar to ``docker exec CONTAINER readlink /proc/self/ns/net``. Two
    processes that print the same inode share one network stack.

    Args:
        lab: the session that owns the container.
        container: a reference, name or id of a running container.

    Returns:
        The link's text, e.g. ``net:[4026531840]``.

    Raises:
        CommandFailed: the output is not a ``net:[INODE]`` link.
    """
    text = lab.exec(container, ["readlink", "/proc/self/ns/net"]).strip()
    if not NETNS.fullmatch(text):
        raise CommandFailed(
            f"`readlink /proc/self/ns/net` printed {text[:60]!r}, not net:[INODE]: "
            "the container's /proc is not what the course expects, so run it in a course "
            "container (lab.start_container()).", exit_code=0, output=text)
    return text


def parse_uevent(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines of a sysfs ``uevent`` file as a dict.

    Args:
        text: the file's content (e.g. ``DEVTYPE=bridge\nINTERFACE=docker0\nIFINDEX=3``).

    Returns:
        ``{"DEVTYPE": "bridge", "INTERFACE": "docker0", "IFINDEX": "3"}``.
    """
    pairs = (line.strip().partition("=") for line in text.splitlines())
    return {key: value for key, sep, value in pairs if sep and key}


@recorded
def host_devtype(lab: Lab, name: str) -> str | None:
    """The kernel's device type of one of the Docker host's interfaces.

    Read in the Lab's host-mode container, from sysfs, so it is the kernel's
    word rather than a guess from the name. Similar to
    ``docker run --rm --network host IMAGE cat /sys/class/net/NAME/uevent``
    (``ip -d link show NAME`` prints the same kind, e.g. ``bridge``).

    Args:
        lab: the session that asks.
        name: an interface name, e.g. ``docker0`` or ``br-0123456789ab``.

    Returns:
        ``bridge`` for a Linux bridge, other ``DEVTYPE`` values as the kernel
        reports them (``vxlan`` …), ``""`` for devices without one (NICs, veths),
        None when the host has no interface of that name.

    Raises:
        BadInput: ``name`` cannot be an interface name.
    """
    if not isinstance(name, str) or not IFNAME.fullmatch(name):
        raise BadInput(f"{name!r} is not an interface name: pass a name as `ip addr` prints it, "
                       "such as 'docker0'.")

    def read(probe):
        try:
            return lab.exec(probe, ["cat", f"/sys/class/net/{name}/uevent"])
        except CommandFailed:
            return None

    text = lab.with_host_probe(read)
    return None if text is None else parse_uevent(text).get("DEVTYPE", "")


def plugged_into(ends: CableEnds | None, bridges: list[DockerBridge]) -> DockerBridge | None:
    """The Docker network whose Linux bridge holds the host's end of a cable, else None.

    Similar to ``ip link show VETH`` (its ``master``) beside ``docker network inspect``.
    """
    if ends is None:
        return None
    return next((b for b in bridges if b.bridge == ends.outside_master), None)


def bridge_problems(lab: Lab, bridges: list[DockerBridge],
                    interfaces: list[Interface]) -> list[str]:
    """What the kernel contradicts in Docker's account of its bridges on this host.

    For every bridge network whose Linux bridge is on the host: the kernel must call
    that interface a bridge (sysfs ``DEVTYPE``, :func:`host_devtype`) and it must hold
    the gateway Docker reports for the network (:func:`carries_gateway`). Similar to
    ``docker network inspect NET`` beside ``cat /sys/class/net/BRIDGE/uevent`` and
    ``ip addr show BRIDGE``.

    Args:
        lab: the session that asks (the host-mode probe reads sysfs).
        bridges: :func:`docker_bridges`.
        interfaces: the host's interfaces (``lab.host_interfaces()``).

    Returns:
        One sentence per contradiction; empty when the kernel agrees with Docker.
    """
    names = {i.name: i for i in interfaces}
    problems = []
    for b in bridges:
        if b.bridge not in names:
            continue  # its bridge is made lazily, or removed since: nothing to compare
        devtype = host_devtype(lab, b.bridge)
        if devtype != "bridge":
            problems.append(f"the kernel calls {b.bridge} {devtype or 'a plain device'!r}, "
                            "not a bridge")
        if not carries_gateway(b, names[b.bridge]):
            problems.append(f"{b.bridge} does not hold the gateway of network {b.network!r}")
    return problems


#: The first Engine that creates a bridge veth with one end already in the container's
#: namespace (moby#49302), so the container's eth0 is that namespace's second interface.
VETH_MADE_INSIDE_FROM = 28


@replayable
@dataclass(frozen=True)
class CableEnds:
    """Both ends of a container's veth, as the kernel numbers them.

    Attributes:
        inside: the container's end (``eth0``).
        inside_index: its ifindex, in the container's namespace.
        inside_iflink: its ``iflink``: the ifindex of the other end.
        outside: the host's end (``vethXXXXXXX``).
        outside_index: its ifindex, in the host's namespace.
        outside_iflink: its ``iflink``: the ifindex of the container's end.
        outside_master: the bridge the host's end is plugged into.
    """

    inside: str
    inside_index: int
    inside_iflink: int
    outside: str
    outside_index: int
    outside_iflink: int
    outside_master: str | None

    @property
    def name_each_other(self) -> bool:
        """True when each end's ``iflink`` is the other end's ifindex."""
        return (self.inside_iflink, self.outside_iflink) == (self.outside_index,
                                                             self.inside_index)


def cable_ends(container_interfaces: list[Interface],
               host_interfaces: list[Interface]) -> CableEnds | None:
    """The container's veth and the host interface its ``iflink`` points at.

    Similar to ``docker exec C cat /sys/class/net/eth0/iflink`` and then
    ``ip link`` on the host, looking for that index. Both lists must come with
    the kernel's links (``lab.ip_addr`` and ``lab.host_interfaces()`` do).

    Args:
        container_interfaces: the container's interfaces.
        host_interfaces: the host's interfaces.

    Returns:
        The two ends, or None when the container has no veth or its peer is not on
        the host any more.
    """
    inside = next((i for i in container_interfaces if i.peer_index is not None), None)
    outside = by_index(host_interfaces).get(inside.peer_index) if inside else None
    if inside is None or outside is None or inside.peer_index is None:
        return None
    return CableEnds(inside.name, inside.index, inside.peer_index, outside.name, outside.index,
                     outside.peer_index if outside.peer_index is not None else 0,
                     outside.master)


def expected_inside_index(ends: CableEnds, engine_major: int,
                          inside: list[Interface] | None = None) -> int:
    """The ifindex the container's end should have, by engine version.

    From Engine 28 (moby#49302) Docker creates the pair with one end already in the
    container's namespace, which numbers its interfaces from 1: that end takes the
    number after the devices the namespace was born with. That is ``lo`` (1) alone, so
    the end is number 2, unless the host's kernel gives every new namespace its fallback
    tunnels too (``tunl0``, ``sit0`` …: when their modules are loaded and
    ``net.core.fb_tunnels_only_for_init_net`` is 0). Before 28, both ends were made
    together in the host's namespace (the container's end first) and that end was then
    moved, keeping its number: one below the host's end.

    Args:
        ends: the cable's two ends (:func:`cable_ends`).
        engine_major: the engine's major version.
        inside: the container's interfaces; from 28, those that are not a veth are the
            devices its namespace was born with (without them: ``lo`` alone).

    >>> ends = CableEnds("eth0", 14, 15, "veth1", 15, 14, "docker0")
    >>> expected_inside_index(ends, 20), expected_inside_index(ends, 28)
    (14, 2)
    """
    if engine_major < VETH_MADE_INSIDE_FROM:
        return ends.outside_index - 1
    born = [i for i in inside or () if i.peer_index is None and i.name != ends.inside]
    return 1 + (len(born) or 1)


def busybox_suffix(iface: Interface, interfaces: list[Interface]) -> str:
    """What BusyBox's ``ip addr`` prints after ``@`` for a veth of this namespace.

    BusyBox looks the peer's index up among *this* namespace's interfaces and
    prints the name it finds there: right for a peer in the same namespace, a
    name from the wrong namespace when the peer lives elsewhere and a local
    interface happens to have the same number (``veth…@eth0`` on an Engine 28
    host whose own index 2 is ``eth0``). iproute2 prints ``@ifN`` there.

    Args:
        iface: an interface with the kernel's links (``ipaddr.with_kernel_links``).
        interfaces: the other interfaces of its namespace.

    Returns:
        The text after ``@`` (``if2``, ``eth0`` …), or ``""`` for no peer.
    """
    if iface.link:
        return iface.link
    if iface.peer_index is None:
        return ""
    local = by_index(interfaces).get(iface.peer_index)
    return local.name if local is not None else f"if{iface.peer_index}"
