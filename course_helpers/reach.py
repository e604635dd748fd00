"""Who can reach whom: one ping from every playground container to every other's addresses.

Introduced in chapter 05 (going further, beyond the source). Containers on a
common network reach each other; Docker isolates different bridge networks
from each other. Similar to, for every pair::

    docker exec A ping -c3 -i0.5 -W1 IP_OF_B
    iptables -S DOCKER-ISOLATION-STAGE-1     # on the engine's host, as root

Every target is a course container's address; nothing else is pinged.
:func:`draw_by_address` draws the result one column per *address*, so a
container on two networks shows which of its addresses a pinger reached.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .core import firewall
from .core.engine import translated
from .core.replay import recorded, replayable
from .hostview import bridge_of

if TYPE_CHECKING:
    from .core.lab import Lab
    from .playground import Member, Playground


@replayable
@dataclass(frozen=True)
class Ping:
    """One ping from a container to one address of another.

    Attributes:
        source: the role of the container that pinged.
        target: the role of the container that owns the address.
        network: the network role that address is on.
        ip: the address.
        ok: an echo reply came back (see :func:`ping_script`).
    """

    source: str
    target: str
    network: str
    ip: str
    ok: bool


def ping_script(ips: list[str]) -> str:
    """A shell line that pings every address in parallel and prints ``IP ok|fail``.

    Three echo requests half a second apart, then a second's wait for the last reply: an
    address counts as reached when any one is answered within about two seconds, so one
    lost or slow reply on a busy machine is not taken for isolation.
    """
    jobs = " ".join(
        f"(ping -c3 -i0.5 -W1 {ip} >/dev/null 2>&1 && echo '{ip} ok' || echo '{ip} fail') &"
        for ip in ips)
    return f"{jobs} wait"


def parse_ping_lines(text: str) -> dict[str, bool]:
    """``{ip: ok}`` from the lines :func:`ping_script` prints."""
    result = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) == 2 and words[1] in ("ok", "fail"):
            result[words[0]] = words[1] == "ok"
    return result


def targets_of(playground: Playground, source: Member) -> list[tuple[Member, str, str]]:
    """``(member, network, ip)`` of every address of every other member."""
    return [(m, net, ip) for m in playground.members if m.role != source.role
            for net, ip in m.addresses]


@recorded
def ping_all(lab: Lab, playground: Playground) -> list[Ping]:
    """Ping every address of every other member from every member, in parallel.

    Similar to ``docker exec A ping -c3 -i0.5 -W1 IP`` for every container A and address
    IP (:func:`ping_script`). Takes about two seconds: unanswered pings wait, all at once.

    Args:
        lab: the session that owns the playground.
        playground: :func:`course_helpers.playground.build_playground`.

    Returns:
        One :class:`Ping` per (source, address), sources in playground order.
    """
    def from_source(source: Member) -> list[Ping]:
        targets = targets_of(playground, source)
        seen = parse_ping_lines(lab.exec(source, ping_script([ip for _, _, ip in targets])))
        return [Ping(source.role, m.role, net, ip, seen.get(ip, False))
                for m, net, ip in targets]

    with ThreadPoolExecutor(max_workers=len(playground.members)) as pool:
        return [p for pings in pool.map(from_source, playground.members) for p in pings]


def reach_matrix(roles: list[str], pings: list[Ping]) -> list[list[bool | None]]:
    """``matrix[i][j]``: did ``roles[i]`` reach any address of ``roles[j]``? (None on the diagonal).

    For :func:`course_helpers.plots.reachability_matrix`.
    """
    reached = {(p.source, p.target) for p in pings if p.ok}
    tried = {(p.source, p.target) for p in pings}
    return [[None if (s, t) not in tried else (s, t) in reached for t in roles] for s in roles]


def expected_matrix(playground: Playground) -> list[list[bool | None]]:
    """What Docker's isolation predicts: reachable exactly when two members share a network."""
    roles = [m.role for m in playground.members]
    return [[None if s == t else playground.share_network(s, t) for t in roles] for s in roles]


def expected_ping(playground: Playground, ping: Ping) -> bool:
    """What isolation predicts for one address: reachable iff the source is on its network."""
    return ping.network in playground.member(ping.source).networks


def by_address(playground: Playground, pings: list[Ping]) -> tuple[
        list[str], list[tuple[str, str]], list[list[bool | None]]]:
    """Reachability per address, from the results of ``docker exec A ping -c3 -i0.5 -W1 IP``.

    One row per member, one column per (member, network) address.

    Args:
        playground: the members, in row order; their addresses give the columns, grouped
            by network (``alpha``, ``beta``, ``bridge``).
        pings: :func:`ping_all`.

    Returns:
        ``(rows, columns, cells)``: row labels (``a [alpha]``), columns as
        ``(member role, network)``, and ``cells[i][j]``: True when row i reached that
        address, False when not, None for a member's own address (not pinged).
    """
    order = {"alpha": 0, "beta": 1, "bridge": 2}
    columns = sorted(((m.role, net) for m in playground.members for net, _ in m.addresses),
                     key=lambda c: (order.get(c[1], 3), c[1]))
    outcome = {(p.source, p.target, p.network): p.ok for p in pings}
    cells = [[None if m.role == role else outcome.get((m.role, role, net)) for role, net in columns]
             for m in playground.members]
    return [m.label for m in playground.members], columns, cells


@replayable
@dataclass(frozen=True)
class IsolationView:
    """Docker's isolation rules for the playground's bridges, read on the engine's host.

    Attributes:
        readable: True when the rules could be read here (root, on the engine's host).
        reason: when not readable, why.
        rules: the ``DOCKER-ISOLATION-STAGE-1`` and ``-2`` rules that name one of the
            playground's bridges, each bridge written as ``[alpha]``, ``[beta]`` or ``[bridge]``.
    """

    readable: bool
    reason: str = ""
    rules: tuple[str, ...] = ()


def isolation_from(chains: list[str], bridges: dict[str, str]) -> tuple[str, ...]:
    """The rules that name one of ``bridges``, each bridge replaced by ``[role]``, sorted per chain.

    Args:
        chains: ``iptables -S`` output of the isolation chains.
        bridges: Linux bridge name -> network role (``{"br-0123456789ab": "alpha"}``).
    """
    kept: list[str] = []
    for text in chains:
        kept += sorted(" ".join(f"[{bridges[w]}]" if w in bridges else w for w in words)
                       for words in (line.split() for line in text.splitlines())
                       if any(w in bridges for w in words))
    return tuple(kept)


def with_bridges(rule: str, bridges: dict[str, str]) -> str:
    """A rule of :func:`isolation_from` as ``iptables -S`` prints it: each ``[network]``
    back to that network's Linux bridge; a network not in ``bridges`` keeps its brackets.

    >>> with_bridges("-A DOCKER-ISOLATION-STAGE-2 -o [alpha] -j DROP", {"alpha": "br-0a1b"})
    '-A DOCKER-ISOLATION-STAGE-2 -o br-0a1b -j DROP'

    Args:
        rule: one rule, each bridge written as ``[network]``.
        bridges: network name -> its Linux bridge (``{"bridge": "docker0"}``), as
            ``docker network inspect`` names it.
    """
    words = rule.split()
    return " ".join(bridges.get(w[1:-1], w) if w[:1] == "[" and w[-1:] == "]" else w
                    for w in words)


@recorded
def isolation_rules(lab: Lab, playground: Playground) -> IsolationView:
    """The iptables rules that keep the playground's networks apart, when readable here.

    Similar to ``iptables -S DOCKER-ISOLATION-STAGE-1`` and ``-2`` on the engine's host.
    Rules about anything but the playground's bridges (and docker0) are left out.

    Returns:
        The view; ``readable=False`` with the reason when this notebook is not root
        on the engine's host.
    """
    first = playground.members[0]
    with translated("inspect the playground's networks"):
        pid = firewall.container_pid(lab.client, first.id)
        nets = [(role, lab.client.api.inspect_network(ref.id)) for role, ref in playground.networks]
        nets.append(("bridge", lab.client.api.inspect_network("bridge")))
    reason = firewall.why_unreadable(pid, first.id)
    if reason:
        return IsolationView(False, reason)
    bridges = {bridge_of(data): role for role, data in nets}
    host = firewall.engine_host_pid(lab)
    chains = [firewall.rules("filter", f"DOCKER-ISOLATION-STAGE-{n}", host) for n in (1, 2)]
    return IsolationView(True, rules=isolation_from(chains, bridges))
