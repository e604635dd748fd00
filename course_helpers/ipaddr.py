"""Parse the text of ``ip addr`` (iproute2 or BusyBox) into :class:`Interface` objects.

Introduced in chapter 01 (the host's interfaces). Similar to ``ip -j addr``,
which BusyBox lacks: that JSON is the oracle the tests compare against.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field, replace
from typing import Any

from .core.errors import ParseError
from .core.replay import replayable

IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_HEADER = re.compile(r"^([0-9]+):\s+([^\s:]+?)(?:@([^\s:]+))?:\s+<([^>]*)>(.*)$")
_PEER_IFINDEX = re.compile(r"if([0-9]+)")
_UINT = re.compile(r"[0-9]+")
_LIFETIME = re.compile(r"forever|-?[0-9]+sec")
_HEX = re.compile(r"[0-9a-f]+")
#: BusyBox prints link flags it has no name for as hex glued to the last name
#: (``<BROADCAST,MULTICAST300>``); names are upper case, the hex is lower case.
_GLUED_HEX = re.compile(r"([A-Z][A-Z_-]*)?([0-9a-f]+)")
_HEADER_INT_KEYS = {"mtu", "qlen"}
_HEADER_STR_KEYS = {"qdisc", "master", "state", "mode", "group"}
_LINK_PAIR_KEYS = {"brd", "peer", "link-netnsid", "link-netns", "permaddr"}
_ADDR_PAIR_KEYS = {"peer", "brd", "any", "scope", "metric", "proto", "flags"}
#: Words iproute2 prints after an address (ip-address(8), "FLAGS").
ADDRESS_FLAGS = frozenset({
    "secondary", "temporary", "primary", "dynamic", "permanent", "tentative",
    "deprecated", "dadfailed", "home", "nodad", "optimistic", "mngtmpaddr",
    "noprefixroute", "autojoin", "stable-privacy",
})
#: Link flag bits (linux/if.h) by the name iproute2 prints for them.
LINK_FLAG_BITS = {
    "UP": 0x1, "BROADCAST": 0x2, "DEBUG": 0x4, "LOOPBACK": 0x8, "POINTOPOINT": 0x10,
    "NOTRAILERS": 0x20, "NOARP": 0x80, "PROMISC": 0x100, "ALLMULTI": 0x200,
    "MASTER": 0x400, "SLAVE": 0x800, "MULTICAST": 0x1000, "PORTSEL": 0x2000,
    "AUTOMEDIA": 0x4000, "DYNAMIC": 0x8000, "LOWER_UP": 0x10000, "DORMANT": 0x20000,
    "ECHO": 0x40000,
}


@replayable
@dataclass(frozen=True)
class Address:
    """One address line (``inet`` or ``inet6``) of an interface.

    Attributes:
        family: ``"inet"`` or ``"inet6"``.
        interface: the address with its prefix, e.g. ``IPv4Interface('172.17.0.2/16')``.
        scope: ``global``, ``link``, ``host`` … or None.
        broadcast: the ``brd`` address, if printed.
        peer: the ``peer`` address of a point-to-point link, if printed, with
            the address's prefix length (``ip -j`` calls it ``address``).
        label: the IPv4 label (``eth0``, ``eth0:1``), if printed.
        flags: words such as ``dynamic`` or ``noprefixroute``; BusyBox's numeric
            IPv6 flags appear as ``flags 02``.
        valid_lft: the valid lifetime as printed (``forever``, ``86300sec``).
        preferred_lft: the preferred lifetime as printed.
    """

    family: str
    interface: IPInterface
    scope: str | None = None
    broadcast: IPAddress | None = None
    peer: IPInterface | None = None
    label: str | None = None
    flags: tuple[str, ...] = ()
    valid_lft: str | None = None
    preferred_lft: str | None = None

    @property
    def ip(self) -> IPAddress:
        """The address without its prefix."""
        return self.interface.ip

    @property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        """The network the address lives in."""
        return self.interface.network


@replayable
@dataclass(frozen=True)
class Interface:
    """One network interface as ``ip addr`` shows it.

    Attributes:
        index: the ifindex (the number before the name).
        name: the interface name without its ``@…`` suffix.
        peer_index: N of ``@ifN``: the ifindex of the other end of a veth
            pair that lives in another network namespace.
        link: the name after ``@`` when it is not ``ifN`` (a peer in the
            same namespace, or ``NONE``).
        flags: the words between ``<`` and ``>`` (``UP``, ``LOWER_UP`` …);
            flags BusyBox prints as hex are given their iproute2 names.
        mtu: the MTU.
        qdisc: the queueing discipline, if printed.
        state: the operational state (iproute2 only; BusyBox omits it).
        master: the bridge (or bond) this interface is attached to.
        group: the interface group, if printed.
        qlen: the transmit queue length, if printed.
        link_type: ``ether``, ``loopback``, ``none`` …
        mac: the link-layer address.
        link_broadcast: the link-layer broadcast address (``brd``), or the
            peer's address on a point-to-point link (``peer``).
        link_netnsid: the namespace id of the peer, as printed by iproute2.
        altnames: alternative names (``altname`` lines).
        addresses: the ``inet`` and ``inet6`` addresses, in printed order.
    """

    index: int
    name: str
    peer_index: int | None = None
    link: str | None = None
    flags: tuple[str, ...] = ()
    mtu: int | None = None
    qdisc: str | None = None
    state: str | None = None
    master: str | None = None
    group: str | None = None
    qlen: int | None = None
    link_type: str | None = None
    mac: str | None = None
    link_broadcast: str | None = None
    link_netnsid: int | None = None
    altnames: tuple[str, ...] = ()
    addresses: tuple[Address, ...] = field(default=())

    @property
    def is_up(self) -> bool:
        """True when the ``UP`` flag is set."""
        return "UP" in self.flags

    @property
    def ipv4(self) -> list[Address]:
        """The IPv4 addresses."""
        return [a for a in self.addresses if a.family == "inet"]

    @property
    def ipv6(self) -> list[Address]:
        """The IPv6 addresses."""
        return [a for a in self.addresses if a.family == "inet6"]

    @property
    def kind(self) -> str:
        """A coarse kind for grouping: loopback, veth-like, bridge, nic or virtual."""
        if self.link_type == "loopback":
            return "loopback"
        if self.peer_index is not None or self.name.startswith("veth"):
            return "veth"
        if self.name.startswith(("docker", "br-", "virbr", "br")):
            return "bridge"
        if self.name.startswith(("en", "eth", "wl")):
            return "nic"
        return "virtual"


def _uint(word: str, what: str) -> int:
    """``int(word)`` for plain ASCII digits only (no sign, ``_`` or other scripts)."""
    if not _UINT.fullmatch(word):
        raise ValueError(f"{what} {word!r} is not a number")
    return int(word)


def _pairs(words: list[str], keys: set[str], start: int = 0):
    """Yield (key, value) for ``key value`` pairs and (word, None) for lone words."""
    i = start
    while i < len(words):
        word = words[i]
        if word in keys:
            if i + 1 >= len(words):
                raise ValueError(f"'{word}' has no value")
            yield word, words[i + 1]
            i += 2
        else:
            yield word, None
            i += 1


def _link_flags(text: str) -> tuple[str, ...]:
    flags: list[str] = []
    for word in (w.strip() for w in text.split(",")):
        if not word:
            continue
        glued = _GLUED_HEX.fullmatch(word)
        if glued is None:
            flags.append(word)
            continue
        name, bits = glued.group(1), int(glued.group(2), 16)
        if name:
            flags.append(name)
        for flag, bit in LINK_FLAG_BITS.items():
            if bits & bit:
                flags.append(flag)
                bits &= ~bit
        if bits:
            flags.append(f"{bits:x}")
    return tuple(flags)


def _parse_header(match: re.Match[str]) -> dict[str, Any]:
    index, name, link, flags, rest = match.groups()
    info: dict[str, Any] = {"index": _uint(index, "ifindex"), "name": name}
    if link is not None:
        peer = _PEER_IFINDEX.fullmatch(link)
        if peer:
            info["peer_index"] = int(peer.group(1))
        else:
            info["link"] = link
    info["flags"] = _link_flags(flags)
    for key, value in _pairs(rest.split(), _HEADER_INT_KEYS | _HEADER_STR_KEYS):
        if key in _HEADER_INT_KEYS:
            info[key] = _uint(value, key)
        elif key in _HEADER_STR_KEYS and key != "mode":
            info[key] = value
    if "mtu" not in info:
        raise ValueError("no 'mtu' in the interface line")
    return info


def _parse_link(words: list[str], info: dict[str, Any]) -> None:
    info["link_type"] = words[0].split("/", 1)[1]
    rest = words[1:]
    if rest and rest[0] not in _LINK_PAIR_KEYS:
        info["mac"] = rest[0]
        rest = rest[1:]
    for key, value in _pairs(rest, _LINK_PAIR_KEYS):
        if key in ("brd", "peer"):
            info["link_broadcast"] = value
        elif key == "link-netnsid":
            info["link_netnsid"] = _uint(value, "link-netnsid")


def _is_label(word: str, ifname: str) -> bool:
    """Whether the last lone word of an ``inet`` line is its label.

    iproute2 and BusyBox print the label last, and the kernel always sends one
    for IPv4. A label can only be mistaken for a flag word when an interface
    is named like one (``home``); then it equals the interface name.
    """
    return word not in ADDRESS_FLAGS or word == ifname or word.startswith(f"{ifname}:")


def _parse_address(words: list[str], ifname: str) -> Address:
    family, local = words[0], words[1]
    version = 4 if family == "inet" else 6
    values: dict[str, Any] = {"family": family}
    flags: list[str] = []
    items = list(_pairs(words, _ADDR_PAIR_KEYS, start=2))
    if family == "inet" and items and items[-1][1] is None and _is_label(items[-1][0], ifname):
        values["label"] = items.pop()[0]
    for key, value in items:
        if key == "peer":
            values["peer"] = ipaddress.ip_interface(value)
        elif key == "brd":
            values["broadcast"] = ipaddress.ip_address(value)
        elif key == "scope":
            values["scope"] = value
        elif key == "flags":
            if not _HEX.fullmatch(value):
                raise ValueError(f"'flags {value}' is not hexadecimal")
            flags.append(f"flags {value}")
        elif value is None and key in ADDRESS_FLAGS:
            flags.append(key)
        elif value is None:
            raise ValueError(f"unexpected word {key!r} after an address")
    for key in ("peer", "broadcast"):
        if key in values and values[key].version != version:
            raise ValueError(f"{key} {values[key]} is not an {family} address")
    peer = values.get("peer")
    if "/" not in local:
        # "inet 10.0.0.1 peer 10.0.0.2/32": the prefix after the peer is the address's.
        prefixlen = peer.network.prefixlen if peer is not None else (32 if version == 4 else 128)
        local = f"{local}/{prefixlen}"
    values["interface"] = ipaddress.ip_interface(local)
    if values["interface"].version != version:
        raise ValueError(f"{local} is not an {family} address")
    return Address(flags=tuple(flags), **values)


def _parse_lifetimes(words: list[str], last: Address) -> Address:
    if len(words) != 4 or words[0] != "valid_lft" or words[2] != "preferred_lft":
        raise ValueError("expected 'valid_lft … preferred_lft …'")
    for value in (words[1], words[3]):
        if not _LIFETIME.fullmatch(value):
            raise ValueError(f"lifetime {value!r} is neither 'forever' nor 'NNNsec'")
    return replace(last, valid_lft=words[1], preferred_lft=words[3])


def parse_ip_addr(text: str) -> list[Interface]:
    """Parse ``ip addr`` output into interfaces.

    Similar to ``ip -j addr``, but works on BusyBox output too.

    Args:
        text: the unmodified output of ``ip addr`` (iproute2 or BusyBox).

    Returns:
        The interfaces in printed order; an empty list for empty text.

    Raises:
        ParseError: a line is not part of ``ip addr`` output; the message names it.
    """
    if not isinstance(text, str):
        raise ParseError(f"expected text, got {type(text).__name__}")
    interfaces: list[Interface] = []
    current: dict[str, Any] | None = None
    addresses: list[Address] = []

    def finish() -> None:
        if current is not None:
            interfaces.append(Interface(addresses=tuple(addresses), **current))

    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            if not line[0].isspace():
                match = _HEADER.match(line)
                if match is None:
                    raise ValueError("expected an interface line such as '2: eth0: <…> mtu 1500'")
                header = _parse_header(match)
                finish()
                current, addresses = header, []
                continue
            if current is None:
                raise ValueError("an indented line comes before any interface line")
            words = line.split()
            head = words[0]
            if head.startswith("link/"):
                _parse_link(words, current)
            elif head in ("inet", "inet6"):
                if len(words) < 2:
                    raise ValueError("an address line without an address")
                addresses.append(_parse_address(words, current["name"]))
            elif head == "valid_lft":
                if not addresses:
                    raise ValueError("a lifetime line before any address")
                addresses[-1] = _parse_lifetimes(words, addresses[-1])
            elif head == "altname" and len(words) == 2:
                current["altnames"] = (*current.get("altnames", ()), words[1])
            else:
                raise ValueError(f"unknown line starting with {head!r}")
        except ParseError:
            raise
        except (ValueError, IndexError, KeyError, TypeError, AttributeError) as exc:
            raise ParseError(str(exc), lineno=lineno, line=line) from None
    finish()
    return interfaces


def by_name(interfaces: list[Interface]) -> dict[str, Interface]:
    """Index interfaces by name."""
    return {iface.name: iface for iface in interfaces}


def by_index(interfaces: list[Interface]) -> dict[int, Interface]:
    """Index interfaces by ifindex."""
    return {iface.index: iface for iface in interfaces}


#: Printed after ``ip addr`` by :data:`IP_ADDR_WITH_LINKS`, before the kernel's link table.
LINKS_MARK = "--- sysfs ifindex iflink ---"
#: ``ip addr``, then each interface's ifindex and iflink as the kernel keeps them (sysfs).
#: BusyBox's ``ip`` leaves out the errors of interfaces that vanish mid-listing.
IP_ADDR_WITH_LINKS = [
    "sh", "-c",
    f"ip addr 2>/dev/null; echo '{LINKS_MARK}'; for d in /sys/class/net/*; do "
    'echo "${d##*/} $(cat $d/ifindex) $(cat $d/iflink)"; done 2>/dev/null',
]


def parse_links(text: str) -> dict[str, tuple[int, int]]:
    """``name -> (ifindex, iflink)`` from the lines :data:`IP_ADDR_WITH_LINKS` prints.

    Similar to ``cat /sys/class/net/*/iflink``. Lines that are not three words
    ending in two numbers (an interface that vanished while it was read) are left out.
    """
    links = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) == 3 and words[1].isdigit() and words[2].isdigit():
            links[words[0]] = (int(words[1]), int(words[2]))
    return links


def with_kernel_links(interfaces: list[Interface],
                      links: dict[str, tuple[int, int]]) -> list[Interface]:
    """The interfaces with each veth's peer taken from the kernel's ``iflink``.

    ``ip addr`` prints ``vethX@ifN`` for a peer in another namespace, but BusyBox's
    ``ip`` looks N up among *this* namespace's interfaces and prints a name when one
    has that index: from Engine 28 a container's ``eth0`` has ifindex 2 on most
    hosts, so a host whose ``eth0`` is also number 2 shows ``vethX@eth0``. The kernel's
    ``iflink`` is unambiguous: a peer whose index and iflink point at each other in
    this listing is in the same namespace (``link``), any other is elsewhere
    (``peer_index``).

    Args:
        interfaces: parsed ``ip addr`` output.
        links: :func:`parse_links` of the same namespace.

    Returns:
        The interfaces in the same order, peers corrected where the kernel disagrees.
    """
    by_index = {i.index: i for i in interfaces}
    fixed = []
    for iface in interfaces:
        index, iflink = links.get(iface.name, (iface.index, iface.index))
        if index != iface.index or iflink in (0, iface.index):
            fixed.append(iface)  # no peer, or the listing and sysfs were read at other times
            continue
        other = by_index.get(iflink)
        same_ns = other is not None and links.get(other.name, (0, 0))[1] == iface.index
        if same_ns:
            fixed.append(replace(iface, link=other.name, peer_index=None))
        else:
            fixed.append(replace(iface, link=None, peer_index=iflink))
    return fixed


def parse_ip_addr_with_links(text: str) -> list[Interface]:
    """Parse what :data:`IP_ADDR_WITH_LINKS` printed: ``ip addr``, peers from the kernel.

    Similar to ``ip -j addr`` (whose ``link_index`` also comes from the kernel).

    Raises:
        ParseError: a line of the ``ip addr`` part is not ``ip addr`` output.
    """
    listing, _, table = text.partition(LINKS_MARK)
    return with_kernel_links(parse_ip_addr(listing), parse_links(table))
