"""Docker's embedded DNS (127.0.0.11): on user-defined networks, not on the default bridge.

Introduced in chapter 05 (going further, beyond the source). Similar to::

    docker exec A cat /etc/resolv.conf /etc/hosts
    docker exec A nslookup -type=a B. 127.0.0.11
    docker exec A busybox netstat -lnu               # who listens at 127.0.0.11
    sudo nsenter -t PID -n ss -lnup                  # … and which process that is

Look-ups only ever go to 127.0.0.11 inside a course container, and only for
names of course containers the embedded DNS can answer itself: a name it does
not know would be forwarded to the host's own DNS servers, and the course
sends no traffic outside its containers.
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import firewall
from .architecture import read_proc
from .engine import translated
from .errors import BadInput
from .replay import recorded, replayable

if TYPE_CHECKING:
    from .lab import ContainerRef, Lab
    from .playground import Member

#: Where Docker's embedded DNS server answers inside a container on a user-defined network.
EMBEDDED_DNS = "127.0.0.11"
_MARK = "--- course:hosts ---"


@replayable
@dataclass(frozen=True)
class ResolverView:
    """How a container resolves names: its ``/etc/resolv.conf`` and ``/etc/hosts``.

    Attributes:
        nameservers: the ``nameserver`` lines, in order.
        search: the ``search`` domains.
        options: the ``options`` (``ndots:0`` …).
        hosts: ``(address, names)`` lines of ``/etc/hosts``.
    """

    nameservers: tuple[str, ...]
    search: tuple[str, ...]
    options: tuple[str, ...]
    hosts: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def uses_embedded_dns(self) -> bool:
        """True when the container asks Docker's embedded DNS (127.0.0.11)."""
        return EMBEDDED_DNS in self.nameservers

    @property
    def upstream(self) -> tuple[str, ...]:
        """The non-loopback IPv4 nameservers, in order.

        What Docker keeps of the host's ``resolv.conf`` for a container on a bridge
        network without IPv6: it drops loopback nameservers (``127.0.0.53`` …), which
        would mean the container itself, and IPv6 ones, and falls back to public
        defaults when nothing is left. Only the text is read: no server is contacted.
        """
        kept = []
        for server in self.nameservers:
            try:
                address = ipaddress.ip_address(server)
            except ValueError:
                continue
            if address.version == 4 and not address.is_loopback:
                kept.append(server)
        return tuple(kept)

    def hosts_names(self) -> set[str]:
        """Every name ``/etc/hosts`` maps."""
        return {name for _, names in self.hosts for name in names}


@replayable
@dataclass(frozen=True)
class Lookup:
    """The outcome of ``nslookup -type=a NAME. 127.0.0.11`` in a container.

    Attributes:
        asker: the role of the container that asked.
        name: the name looked up (a course container's name).
        answered: a DNS server answered with at least one address.
        addresses: the IPv4 addresses in the answer.
        refused: nothing listens at 127.0.0.11 there (``Connection refused``).
        output: nslookup's output, with the name replaced by ``NAME``.
    """

    asker: str
    name: str
    answered: bool
    addresses: tuple[str, ...]
    refused: bool
    output: str


def parse_resolv_conf(text: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """``(nameservers, search domains, options)`` from ``/etc/resolv.conf`` text."""
    servers, search, options = [], [], []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) < 2:
            continue
        if words[0] == "nameserver":
            servers.append(words[1])
        elif words[0] in ("search", "domain"):
            search = words[1:]
        elif words[0] == "options":
            options += words[1:]
    return tuple(servers), tuple(search), tuple(options)


def parse_hosts(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``(address, names)`` for every line of ``/etc/hosts`` text."""
    rows = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2:
            rows.append((words[0], tuple(words[1:])))
    return tuple(rows)


def parse_nslookup(text: str) -> tuple[tuple[str, ...], bool]:
    """``(addresses in the answer, connection refused?)`` from BusyBox nslookup output.

    The first ``Address:`` lines (before any ``Name:``) describe the server and
    are skipped.
    """
    addresses, seen_name = [], False
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Name":
            seen_name = True
        elif key.strip() == "Address" and seen_name:
            addresses.append(value.strip())
    return tuple(addresses), "Connection refused" in text


@recorded
def resolver(lab: Lab, member: Member | ContainerRef) -> ResolverView:
    """How a container resolves names. Similar to ``docker exec C cat /etc/resolv.conf /etc/hosts``.

    Args:
        lab: the session that owns the container.
        member: a playground container, or any running course container.
    """
    out = lab.exec(member, f"cat /etc/resolv.conf; echo '{_MARK}'; cat /etc/hosts")
    resolv, _, hosts = out.partition(_MARK + "\n")
    servers, search, options = parse_resolv_conf(resolv)
    return ResolverView(servers, search, options, parse_hosts(hosts))


def check_lookup_is_local(asker: Member, target: Member) -> None:
    """Refuse a look-up the embedded DNS would forward outside (see the module's docstring).

    On a user-defined network the embedded DNS answers names of containers on
    the asker's user-defined networks and forwards every other name to the
    host's DNS servers. On the default bridge nothing answers at 127.0.0.11.

    Raises:
        BadInput: the asker is on a user-defined network the target is not on.
    """
    user_nets = {n for n in asker.networks if n != "bridge"}
    if user_nets and not user_nets & set(target.networks):
        raise BadInput(
            f"{asker.role} shares no user-defined network with {target.role}, so its embedded DNS "
            "would forward the question to your own DNS servers, and the course sends no traffic "
            f"outside its containers: ask from a container on {' or '.join(target.networks)}."
        )


@recorded
def lookup(lab: Lab, asker: Member, target: Member) -> Lookup:
    """Ask 127.0.0.11, from inside ``asker``, for the address of ``target``'s name.

    Similar to ``docker exec ASKER nslookup -type=a TARGET. 127.0.0.11``. The
    trailing dot makes the name absolute, so no search domain is appended;
    ``-type=a`` asks for IPv4 only; one try of one second.

    Args:
        lab: the session that owns both containers.
        asker: the container that asks.
        target: the course container whose name is looked up.

    Raises:
        BadInput: the question would leave the embedded DNS (see
            :func:`check_lookup_is_local`).
    """
    check_lookup_is_local(asker, target)
    out = lab.exec(asker, f"nslookup -timeout=1 -retry=1 -type=a {target.name}. {EMBEDDED_DNS} "
                          "2>&1; true")
    addresses, refused = parse_nslookup(out)
    shown = "\n".join(line.rstrip() for line in out.replace(target.name, "NAME").splitlines())
    return Lookup(asker.role, target.name, bool(addresses), addresses, refused, shown.strip())


# -- who answers at 127.0.0.11 --------------------------------------------------------

@replayable
@dataclass(frozen=True)
class DnsServerView:
    """Who listens at 127.0.0.11 in one container's network namespace.

    Attributes:
        container: the container's role.
        visible: this notebook sees the engine host's processes (it runs there).
        reason: when not visible, why.
        listeners: ``(protocol, port)`` of every socket listening at 127.0.0.11 there.
        owners: the name of the process that holds each listener, in the same order
            (``""`` where it could not be found: that needs root).
        redirects: ``(protocol, port)`` that the namespace's own NAT rules send
            ``127.0.0.11:53`` to (its ``DOCKER_OUTPUT`` chain; empty if not readable).
    """

    container: str
    visible: bool
    reason: str = ""
    listeners: tuple[tuple[str, int], ...] = ()
    owners: tuple[str, ...] = ()
    redirects: tuple[tuple[str, int], ...] = ()


def _address_of(hex_address: str) -> str:
    """An IPv4 ``/proc/net`` address (``0B00007F``: a u32 in host byte order) as text."""
    return str(ipaddress.IPv4Address(int(hex_address, 16).to_bytes(4, sys.byteorder)))


def listeners_in(tables: dict[str, str], address: str = EMBEDDED_DNS) -> list[tuple[str, int, str]]:
    """``(protocol, port, socket inode)`` of the sockets listening at ``address``.

    Args:
        tables: ``{"udp": text, "tcp": text}`` of a namespace's ``/proc/net/udp`` and ``tcp``.
        address: the IPv4 address to look for.
    """
    found = []
    for proto, text in tables.items():
        for line in text.splitlines()[1:]:
            fields = line.split()
            if len(fields) < 10 or ":" not in fields[1]:
                continue
            where, port = fields[1].split(":")
            if len(where) != 8 or _address_of(where) != address:
                continue
            if proto == "tcp" and fields[3] != "0A":  # only listening TCP sockets
                continue
            found.append((proto, int(port, 16), fields[9]))
    return sorted(found)


def socket_owners(inodes: set[str], root: str | Path = "/proc") -> dict[str, str]:
    """``{socket inode: process name}`` for the processes (visible here) that hold them."""
    owners: dict[str, str] = {}
    wanted = {f"socket:[{inode}]": inode for inode in inodes}
    procs = read_proc(root)
    for pid in sorted(procs, key=lambda p: procs[p].name != "dockerd"):  # dockerd first
        try:
            fds = os.listdir(Path(root) / str(pid) / "fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(Path(root) / str(pid) / "fd" / fd)
            except OSError:
                continue
            if target in wanted:
                owners[wanted[target]] = procs[pid].name
        if len(owners) == len(inodes):
            break
    return owners


def redirects_from(rules: str) -> tuple[tuple[str, int], ...]:
    """``(protocol, port)`` that a ``DOCKER_OUTPUT`` chain sends ``127.0.0.11:53`` to."""
    found = []
    for line in rules.splitlines():
        match = re.search(r"-p (tcp|udp) .*--dport 53 .*-j DNAT --to-destination "
                          r"127\.0\.0\.11:(\d+)", line)
        if match:
            found.append((match.group(1), int(match.group(2))))
    return tuple(sorted(found))


@recorded
def dns_server(lab: Lab, member: Member) -> DnsServerView:
    """Who listens at 127.0.0.11 inside a container, and which process that is.

    Similar to ``docker exec C busybox netstat -lnu`` (and ``-lnt``), then, on the engine's
    host as root, ``nsenter -t PID -n ss -lnup`` (the owning process) and
    ``nsenter -t PID -n iptables -t nat -S DOCKER_OUTPUT`` (the redirect of port 53).
    Only reads; no question is sent to any DNS server.

    Args:
        lab: the session that owns the container.
        member: a playground container.

    Returns:
        The view; ``visible=False`` with the reason when this notebook does not run on
        the engine's host.
    """
    with translated(f"inspect {member.name}"):
        pid = int(lab.client.api.inspect_container(member.id)["State"].get("Pid") or 0)
    if not firewall.runs_on_engine_host(pid, member.id):
        return DnsServerView(member.role, False, reason=(
            "this notebook does not run on the engine's host (Docker Desktop, a remote engine, "
            "or its own PID namespace), so the container's sockets cannot be read from here"))
    tables = {}
    for proto in ("udp", "tcp"):
        try:
            tables[proto] = Path(f"/proc/{pid}/net/{proto}").read_text()
        except OSError:
            tables[proto] = ""
    found = listeners_in(tables)
    owners = socket_owners({inode for _, _, inode in found}) if found else {}
    redirects = (redirects_from(firewall.rules_in_netns(pid, "nat", "DOCKER_OUTPUT"))
                 if found and os.geteuid() == 0 else ())
    return DnsServerView(member.role, True,
                         listeners=tuple((proto, port) for proto, port, _ in found),
                         owners=tuple(owners.get(inode, "") for _, _, inode in found),
                         redirects=redirects)
