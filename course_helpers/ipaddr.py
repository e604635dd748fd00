"""Parse the text of ``ip addr`` (iproute2 or BusyBox) into :class:`Interface` objects.

Introduced in chapter 01 (the host's interfaces). Similar to ``ip -j addr``,
which BusyBox lacks: that JSON is the oracle the tests compare against.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import ParseError
from .replay import replayable

IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_HEADER = re.compile(r"^(\d+):\s+([^\s:]+?)(?:@([^\s:]+))?:\s+<([^>]*)>(.*)$")
_HEADER_INT_KEYS = {"mtu", "qlen"}
_HEADER_STR_KEYS = {"qdisc", "master", "state", "mode", "group"}
_LINK_PAIR_KEYS = {"brd", "link-netnsid", "link-netns", "permaddr", "peer"}
_ADDR_PAIR_KEYS = {"peer", "brd", "any", "scope", "metric", "proto", "flags"}
#: Words iproute2 prints after an address (ip-address(8), "FLAGS").
ADDRESS_FLAGS = frozenset({
    "secondary", "temporary", "primary", "dynamic", "permanent", "tentative",
    "deprecated", "dadfailed", "home", "nodad", "optimistic", "mngtmpaddr",
    "noprefixroute", "autojoin", "stable-privacy",
})


@replayable
@dataclass(frozen=True)
class Address:
    """One address line (``inet`` or ``inet6``) of an interface.

    Attributes:
        family: ``"inet"`` or ``"inet6"``.
        interface: the address with its prefix, e.g. ``IPv4Interface('172.17.0.2/16')``.
        scope: ``global``, ``link``, ``host`` … or None.
        broadcast: the ``brd`` address, if printed.
        peer: the ``peer`` address of a point-to-point link, if printed.
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
        flags: the words between ``<`` and ``>`` (``UP``, ``LOWER_UP`` …).
        mtu: the MTU.
        qdisc: the queueing discipline, if printed.
        state: the operational state (iproute2 only; BusyBox omits it).
        master: the bridge (or bond) this interface is attached to.
        group: the interface group, if printed.
        qlen: the transmit queue length, if printed.
        link_type: ``ether``, ``loopback``, ``none`` …
        mac: the link-layer address.
        link_broadcast: the link-layer broadcast address.
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


def _parse_header(match: re.Match[str]) -> dict[str, Any]:
    index, name, link, flags, rest = match.groups()
    info: dict[str, Any] = {"index": int(index), "name": name}
    if link is not None:
        if re.fullmatch(r"if\d+", link):
            info["peer_index"] = int(link[2:])
        else:
            info["link"] = link
    info["flags"] = tuple(f for f in flags.split(",") if f)
    for key, value in _pairs(rest.split(), _HEADER_INT_KEYS | _HEADER_STR_KEYS):
        if key in _HEADER_INT_KEYS:
            info[key] = int(value)
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
        if key == "brd":
            info["link_broadcast"] = value
        elif key == "link-netnsid":
            info["link_netnsid"] = int(value)


def _parse_address(words: list[str]) -> Address:
    family, local = words[0], words[1]
    if "/" not in local and family == "inet6":
        local += "/128"
    values: dict[str, Any] = {"family": family}
    extra_flags: list[str] = []
    tail = words[2:]
    label = None
    for key, value in _pairs(tail, _ADDR_PAIR_KEYS):
        if key == "peer":
            values["peer"] = ipaddress.ip_interface(value)
        elif key == "brd":
            values["broadcast"] = ipaddress.ip_address(value)
        elif key == "scope":
            values["scope"] = value
        elif key == "flags":
            extra_flags.append(f"flags {value}")
        elif value is None and key in ADDRESS_FLAGS:
            extra_flags.append(key)
        elif value is None and family == "inet":
            label = key
        elif value is None:
            raise ValueError(f"unexpected word {key!r} after an address")
    peer = values.get("peer")
    if "/" not in local and peer is not None:
        # "inet 10.0.0.1 peer 10.0.0.2/32": the prefix belongs to the peer.
        local = f"{local}/{peer.network.prefixlen}"
    values["interface"] = ipaddress.ip_interface(local)
    if values["interface"].version != (4 if family == "inet" else 6):
        raise ValueError(f"{local} is not an {family} address")
    return Address(label=label, flags=tuple(extra_flags), **values)


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
                finish()
                current, addresses = _parse_header(match), []
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
                addresses.append(_parse_address(words))
            elif head == "valid_lft":
                if not addresses:
                    raise ValueError("a lifetime line before any address")
                life = dict(_pairs(words, {"valid_lft", "preferred_lft"}))
                last = addresses[-1]
                addresses[-1] = Address(**{
                    **{k: getattr(last, k) for k in last.__dataclass_fields__},
                    "valid_lft": life.get("valid_lft"),
                    "preferred_lft": life.get("preferred_lft"),
                })
            elif head == "altname" and len(words) == 2:
                current["altnames"] = (*current.get("altnames", ()), words[1])
            else:
                raise ValueError(f"unknown line starting with {head!r}")
        except ParseError:
            raise
        except (ValueError, IndexError, KeyError, TypeError) as exc:
            raise ParseError(str(exc), lineno=lineno, line=line) from None
    finish()
    return interfaces


def by_name(interfaces: list[Interface]) -> dict[str, Interface]:
    """Index interfaces by name."""
    return {iface.name: iface for iface in interfaces}


def by_index(interfaces: list[Interface]) -> dict[int, Interface]:
    """Index interfaces by ifindex."""
    return {iface.index: iface for iface in interfaces}
