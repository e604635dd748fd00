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

from .engine import translated
from .errors import BadInput, CommandFailed
from .ipaddr import Interface
from .replay import recorded, replayable

if TYPE_CHECKING:
    from .lab import Lab

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
    """
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

    text = lab._with_probe(read)
    return None if text is None else parse_uevent(text).get("DEVTYPE", "")
