"""Publishing a port, and the NAT rules behind it (in, and out).

Introduced in chapter 05 (going further, beyond the source). Similar to::

    docker run -d -p 127.0.0.1::80 IMAGE sh -c 'mkdir -p /tmp/www &&
        echo "hello from a course container" > /tmp/www/index.html &&
        exec httpd -f -p 80 -h /tmp/www'
    docker port CONTAINER 80
    curl http://127.0.0.1:HOSTPORT/index.html
    iptables -t nat -S DOCKER          # on the engine's host, as root: DNAT, coming in
    iptables -t nat -S POSTROUTING     # the MASQUERADE rules, going out
    iptables -t raw -S PREROUTING      # Engine 28+: loopback-published ports closed to others

The page is fetched over loopback only; the rules are only read. No packet
is sent anywhere to show the outbound NAT: reading its rule is the lesson.
"""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .core import firewall
from .core.engine import translated
from .core.errors import BadInput, CourseError
from .core.procfs import read_proc
from .core.replay import recorded, replayable
from .hostview import bridge_of
from .networks import ipam_config
from .playground import DEFAULT_BRIDGE

if TYPE_CHECKING:
    from .core.lab import Lab
    from .playground import Playground

#: The port busybox httpd listens on inside the container.
CONTAINER_PORT = 80
#: The page the web server serves (written at start: the image's own files are not relied on,
#: since on Docker Desktop the course image may be a stock busybox without them).
PAGE = "hello from a course container\n"
#: Where the page is written inside the container, and what serves it.
WEB_ROOT = "/tmp/www"
WEB_SCRIPT = (f"mkdir -p {WEB_ROOT} && echo '{PAGE.strip()}' > {WEB_ROOT}/index.html && "
              f"exec httpd -f -p {CONTAINER_PORT} -h {WEB_ROOT}")
#: How long the first fetch may wait for httpd to be listening (seconds).
READY_WITHIN = 5.0


@replayable
@dataclass(frozen=True)
class Published:
    """A course web server and where Docker published it.

    Attributes:
        name / id: the container.
        container_port: ``80/tcp``.
        host_ip / host_port: where it is published (``127.0.0.1`` and a port Docker chose).
        container_ip: its address on the default bridge.
        cli: the equivalent ``docker run``.
    """

    name: str
    id: str
    container_port: str
    host_ip: str
    host_port: int
    container_ip: str
    cli: str


@replayable
@dataclass(frozen=True)
class Fetched:
    """One HTTP GET over loopback: status and body."""

    url_path: str
    status: int
    body: str


@replayable
@dataclass(frozen=True)
class NatView:
    """The NAT side of a published port, read on the engine's host.

    Attributes:
        readable: True when the rules could be read here (root, on the engine's host).
        reason: when not readable, why.
        dnat_rule: the ``DOCKER`` chain's DNAT rule for this port, as ``iptables -S`` prints it.
        host_ip: the rule's destination address (``-d``, without the ``/32``).
        host_port: the rule's destination port (``--dport``).
        destination: where it sends the packets (``--to-destination``: container ip:port).
        output_skips_loopback: the ``OUTPUT`` rule that sends local traffic to ``DOCKER``
            excludes ``127.0.0.0/8``.
        proxy_args: the userland ``docker-proxy`` for this port, if one runs (its
            arguments), else ``()``.
        dnat_count: how many DNAT rules lead to the container (one per published port).
    """

    readable: bool
    reason: str = ""
    dnat_rule: str = ""
    host_ip: str = ""
    host_port: int = 0
    destination: str = ""
    output_skips_loopback: bool = False
    proxy_args: tuple[str, ...] = ()
    dnat_count: int = 0


@replayable
@dataclass(frozen=True)
class LoopbackGuard:
    """The ``raw`` table's rules that keep a port published on 127.0.0.1 off the network.

    From Engine 28.0 ``dockerd`` adds, for each port published on a loopback address,
    ``-A PREROUTING -d 127.0.0.1/32 ! -i lo -p tcp -m tcp --dport PORT -j DROP``: a
    packet for that address and port arriving on any interface but ``lo`` is dropped
    before NAT sees it. Older engines write no such rule, and a neighbour on the same
    L2 segment that routes ``127.0.0.1`` to the host could reach the port (moby#45610).

    Attributes:
        readable: True when the rules could be read here (root, on the engine's host).
        reason: when not readable, why.
        rules: the ``raw`` table's DROP rules for this host port (``iptables -S`` lines).
    """

    readable: bool
    reason: str = ""
    rules: tuple[str, ...] = ()


#: The first engine that guards loopback-published ports with raw-table rules (moby#49325).
LOOPBACK_GUARD_SINCE = "28.0"


@replayable
@dataclass(frozen=True)
class Masquerade:
    """One network's MASQUERADE rule in the ``nat`` table's ``POSTROUTING`` chain.

    Attributes:
        network: the network's role in the chapter (``bridge``, ``alpha``, ``beta``).
        bridge: its Linux bridge (``docker0``, ``br-…``).
        subnet: its subnet, from ``docker network inspect``.
        rule: the rule as ``iptables -S`` prints it, or ``""`` when there is none.
        source: the rule's source (``-s``); its ``! -o BRIDGE`` leaves alone what stays
            on the network's own bridge.
    """

    network: str
    bridge: str
    subnet: str
    rule: str = ""
    source: str = ""


@replayable
@dataclass(frozen=True)
class MasqueradeView:
    """The outbound NAT of Docker's bridge networks, read on the engine's host.

    Attributes:
        readable: True when the rules could be read here (root, on the engine's host).
        reason: when not readable, why.
        rules: one :class:`Masquerade` per network asked about, in the order asked.
    """

    readable: bool
    reason: str = ""
    rules: tuple[Masquerade, ...] = ()

    def of(self, network: str) -> Masquerade | None:
        """The rule of a network role, or None."""
        return next((m for m in self.rules if m.network == network), None)


def rule_options(rule: str) -> dict[str, str]:
    """The options of an ``iptables -S`` line, negated ones as ``!-o``: ``{"-d": "…", …}``.

    Options without a value (none in the rules read here) are left out.
    """
    words, options, i = rule.split(), {}, 0
    while i < len(words) - 1:
        word = words[i]
        if word == "!" and i + 2 < len(words):
            options["!" + words[i + 1]] = words[i + 2]
            i += 3
        elif word.startswith("-"):
            options[word] = words[i + 1]
            i += 2
        else:
            i += 1
    return options


def binding_from(ports: dict, container_port: str = f"{CONTAINER_PORT}/tcp") -> tuple[str, int]:
    """``(host ip, host port)`` of a port binding in ``docker inspect``'s ``NetworkSettings.Ports``.

    Raises:
        CourseError: the port is not published.
    """
    for binding in ports.get(container_port) or []:
        if binding.get("HostPort"):
            return binding.get("HostIp", ""), int(binding["HostPort"])
    raise CourseError(f"Port {container_port} is not published: start the web server with "
                      "ports={'80/tcp': ('127.0.0.1', None)}.")


@recorded
def start_web(lab: Lab) -> Published:
    """Start busybox httpd in a course container, published on 127.0.0.1 at a random port.

    Similar to ``docker run -d -p 127.0.0.1::80 IMAGE sh -c 'mkdir -p /tmp/www && echo … >
    /tmp/www/index.html && exec httpd -f -p 80 -h /tmp/www'``: the page (:data:`PAGE`) is
    written when the container starts, so no file of the image is relied on.

    Args:
        lab: the session that owns the container.
    """
    ref = lab.start_container(
        "web", command=["sh", "-c", WEB_SCRIPT],
        ports={f"{CONTAINER_PORT}/tcp": ("127.0.0.1", None)})
    with translated(f"inspect {ref.name}"):
        settings = lab.client.api.inspect_container(ref.id)["NetworkSettings"]
    host_ip, host_port = binding_from(settings.get("Ports") or {})
    bridge = (settings.get("Networks") or {}).get("bridge") or {}
    return Published(ref.name, ref.id, f"{CONTAINER_PORT}/tcp", host_ip, host_port,
                     bridge.get("IPAddress", ""),
                     f"docker run -d -p 127.0.0.1::{CONTAINER_PORT} {lab.image} "
                     f"sh -c \"{WEB_SCRIPT}\"")


@recorded
def fetch(lab: Lab, published: Published, path: str = "/index.html") -> Fetched:
    """GET a page from the published port over loopback. Similar to ``curl http://127.0.0.1:PORT/``.

    Until httpd listens (a fraction of a second after start) the connection is
    retried, for at most :data:`READY_WITHIN` seconds.

    Raises:
        BadInput: the port is not published on a loopback address.
        CourseError: nothing answered in time.
    """
    if published.host_ip not in ("127.0.0.1", "::1"):
        raise BadInput(f"{published.name} is published on {published.host_ip}: the course "
                       "only fetches over loopback (publish on 127.0.0.1).")
    deadline = time.monotonic() + READY_WITHIN
    while True:
        conn = http.client.HTTPConnection(published.host_ip, published.host_port, timeout=2)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return Fetched(path, response.status, response.read().decode(errors="replace"))
        except (ConnectionError, http.client.HTTPException, OSError) as exc:
            if time.monotonic() > deadline:
                raise CourseError(
                    f"Nothing answered at {published.host_ip}:{published.host_port} ({exc}): "
                    "if the engine runs on another machine, fetch the page there.") from None
            time.sleep(0.05)  # httpd is still starting: try again
        finally:
            conn.close()


def nat_from(docker_chain: str, output_chain: str, published: Published,
             proxies: list[tuple[str, ...]]) -> NatView:
    """Pick the DNAT rules leading to a container out of ``iptables -S`` text and processes.

    A rule is chosen by where it sends packets (``--to-destination`` the container's
    address, from ``docker inspect``) and nothing else, so that its ``-d`` and ``--dport``
    can then be checked against the published binding.

    Args:
        docker_chain: ``iptables -t nat -S DOCKER`` (empty: the engine keeps no such chain).
        output_chain: ``iptables -t nat -S OUTPUT``.
        published: the port.
        proxies: argument lists of the running ``docker-proxy`` processes.

    Returns:
        ``readable=False`` with the reason when there is no ``DOCKER`` chain (an engine
        without iptables rules here); otherwise the view, with ``dnat_rule=""`` and
        ``dnat_count=0`` when the chain holds no rule for the container: a fault to report.
    """
    if not docker_chain.strip():
        return NatView(False, "this host's nat table has no DOCKER chain, so this engine keeps "
                              "no iptables rules here: it runs rootless (its rules live in "
                              "RootlessKit's namespace), with \"iptables\": false, or with "
                              "Engine 29's nftables backend (`sudo nft list ruleset`)")
    mine = []
    for line in docker_chain.splitlines():
        options = rule_options(line)
        target = options.get("--to-destination", "")
        if options.get("-j") == "DNAT" and target.rpartition(":")[0] == published.container_ip:
            mine.append((line.strip(), options))
    skips = any("-j DOCKER" in line and "! -d 127.0.0.0/8" in line
                for line in output_chain.splitlines())
    proxy = next((args for args in proxies
                  if str(published.host_port) in args and published.container_ip in args), ())
    rule, options = mine[0] if mine else ("", {})
    return NatView(
        readable=True, dnat_rule=rule, host_ip=options.get("-d", "").removesuffix("/32"),
        host_port=int(options.get("--dport", 0)), destination=options.get("--to-destination", ""),
        output_skips_loopback=skips, proxy_args=tuple(proxy[1:]), dnat_count=len(mine),
    )


@recorded
def nat_rules(lab: Lab, published: Published) -> NatView:
    """Read the NAT rule (and userland proxy) behind a published port, when possible here.

    Similar to ``iptables -t nat -S DOCKER`` and ``ps -eo args | grep docker-proxy`` on
    the engine's host, as root.

    Returns:
        The view; ``readable=False`` with the reason when this notebook is not
        root on the engine's host (Docker Desktop, a remote or rootless engine).
    """
    _, reason = firewall.readable_from(lab, published.id, published.name)
    if reason:
        return NatView(False, reason)
    proxies = [p.argv for p in read_proc().values() if p.name == "docker-proxy"]
    host = firewall.engine_host_pid(lab)
    return nat_from(firewall.rules("nat", "DOCKER", host), firewall.rules("nat", "OUTPUT", host),
                    published, proxies)


def relay_line(lab: Lab, nat: NatView) -> str:
    """One line on the path the host's own fetch took: relayed by ``docker-proxy``, or
    rewritten by the DNAT rule. Live it speaks of "your fetch"; in replay, of the fetch
    of the recorded run. Nothing is asked of the engine.

    Args:
        lab: the session (live or replay).
        nat: :func:`nat_rules`.
    """
    fetch = "so your fetch" if lab.is_live else "so, in the recorded run, the fetch"
    if nat.proxy_args:
        return f"  {fetch} was relayed by docker-proxy, the userland proxy for this port"
    return (f"  {fetch} was rewritten by the DNAT rule: no docker-proxy runs for this "
            "port (the userland proxy is switched off)")


def loopback_guard_from(raw_prerouting: str, published: Published) -> tuple[str, ...]:
    """The DROP rules for a loopback-published port, out of ``iptables -t raw -S PREROUTING``.

    A rule counts when it drops TCP for the published address and host port arriving
    on any interface but ``lo`` (``-d 127.0.0.1/32 ! -i lo … --dport PORT -j DROP``).
    """
    found = []
    for line in raw_prerouting.splitlines():
        options = rule_options(line)
        if (options.get("-j") == "DROP" and options.get("!-i") == "lo"
                and options.get("-d", "").removesuffix("/32") == published.host_ip
                and options.get("--dport") == str(published.host_port)):
            found.append(line.strip())
    return tuple(found)


@recorded
def loopback_guard(lab: Lab, published: Published) -> LoopbackGuard:
    """The raw-table rules that close a loopback-published port to other hosts (Engine 28+).

    Similar to ``sudo iptables -t raw -S PREROUTING`` on the engine's host. Only reads.

    Args:
        lab: the session that owns the container.
        published: :func:`start_web`'s port (published on 127.0.0.1).

    Returns:
        The view; ``readable=False`` with the reason when this notebook is not root on
        the engine's host, or the engine keeps no iptables rules here.
    """
    _, reason = firewall.readable_from(lab, published.id, published.name)
    if reason:
        return LoopbackGuard(False, reason)
    host = firewall.engine_host_pid(lab)
    if not firewall.rules("nat", "DOCKER", host).strip():  # no rules here: nat_from says why
        return LoopbackGuard(False, nat_from("", "", published, []).reason)
    return LoopbackGuard(True, rules=loopback_guard_from(
        firewall.rules("raw", "PREROUTING", host), published))


def masquerade_from(postrouting: str, networks: list[tuple[str, str, str]]) -> tuple[
        Masquerade, ...]:
    """Each network's MASQUERADE rule, out of ``iptables -t nat -S POSTROUTING`` text.

    Args:
        postrouting: the chain's rules.
        networks: ``(role, Linux bridge, subnet)`` of each network asked about.

    Returns:
        One :class:`Masquerade` per network (``rule=""`` where the chain has none).
    """
    found = []
    for role, bridge, subnet in networks:
        for line in postrouting.splitlines():
            options = rule_options(line)
            if options.get("-j") == "MASQUERADE" and options.get("!-o") == bridge:
                found.append(Masquerade(role, bridge, subnet, line.strip(),
                                        options.get("-s", "")))
                break
        else:
            found.append(Masquerade(role, bridge, subnet))
    return tuple(found)


@recorded
def masquerade_rules(lab: Lab, playground: Playground) -> MasqueradeView:
    """The MASQUERADE rules of the default bridge and the playground's networks.

    Similar to ``iptables -t nat -S POSTROUTING`` on the engine's host, as root, beside
    ``docker network inspect -f '{{(index .IPAM.Config 0).Subnet}}' NET`` for each
    network. Only reads: nothing is sent anywhere.

    Args:
        lab: the session that owns the playground.
        playground: :func:`course_helpers.playground.build_playground`.

    Returns:
        The view, networks in the order default bridge, then the playground's;
        ``readable=False`` with the reason when this notebook is not root on the
        engine's host.
    """
    first = playground.members[0]
    with translated("inspect the networks"):
        pid = firewall.container_pid(lab.client, first.id)
        nets = [(DEFAULT_BRIDGE, lab.client.api.inspect_network(DEFAULT_BRIDGE))]
        nets += [(role, lab.client.api.inspect_network(ref.id))
                 for role, ref in playground.networks]
    reason = firewall.why_unreadable(pid, first.id)
    if reason:
        return MasqueradeView(False, reason)
    asked = [(role, bridge_of(data), next((c["subnet"] for c in ipam_config(data)
                                            if c.get("subnet") and ":" not in c["subnet"]), ""))
             for role, data in nets]
    return MasqueradeView(True, rules=masquerade_from(
        firewall.rules("nat", "POSTROUTING", firewall.engine_host_pid(lab)), asked))
