"""docker0 and the ``docker network`` commands: ls, inspect, create, rm.

Introduced in chapter 01 (a container's default route); chapter 02 (docker0 与常用基本命令:
docker0 and the basic commands) teaches the rest.
Similar to ``docker network ls`` and ``docker network inspect NAME``; creating
and removing networks goes through :meth:`Lab.create_network`,
:meth:`Lab.remove_network`; :func:`try_remove_network` shows Docker refusing to
remove a default network or one still in use. Also one
ping between the host and a container across docker0, and the HTTP requests a
removal attempt sends.
"""

from __future__ import annotations

import html
import ipaddress
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .core import sessions
from .core.engine import translated
from .core.errors import BadInput, CommandFailed, CourseError
from .core.options import DEFAULT_NETWORKS, check_network_ref
from .core.refs import NetworkRef
from .core.replay import recorded, replayable
from .ipaddr import Interface, by_index

if TYPE_CHECKING:
    from .core.lab import Lab


@replayable
@dataclass(frozen=True)
class NetworkSummary:
    """One line of ``docker network ls``: id, name, driver, scope."""

    id: str
    name: str
    driver: str
    scope: str

    @property
    def short_id(self) -> str:
        """The 12-character id the CLI shows."""
        return self.id[:12]


@recorded
def list_networks(lab: Lab) -> list[NetworkSummary]:
    """Every network of the engine, sorted by name. Similar to ``docker network ls``.

    Args:
        lab: the session that asks (the learner's networks are listed, never touched).

    Returns:
        One :class:`NetworkSummary` per network.
    """
    with translated("list networks"):
        networks = lab.client.api.networks()
    return sorted((NetworkSummary(n["Id"], n["Name"], n["Driver"], n["Scope"])
                   for n in networks), key=lambda n: n.name)


@recorded
def inspect_network(lab: Lab, name: str) -> dict[str, Any]:
    """A network's full description. Similar to ``docker network inspect NAME``.

    Args:
        lab: the session that asks.
        name: a network name or id.

    Returns:
        The inspect JSON as a dict (as the CLI prints it, without the outer list).

    Raises:
        DockerRefused: there is no such network.
    """
    with translated(f"inspect network {name}"):
        return lab.client.api.inspect_network(name)


@recorded
def default_route(lab: Lab, container: Any) -> str | None:
    """The container's default gateway. Similar to ``docker exec C ip route``.

    Args:
        lab: the session that owns the container.
        container: a reference, name or id of a running container.

    Returns:
        The address after ``default via``, or None when there is no default route.
    """
    return parse_default_route(lab.exec(container, ["ip", "route"]))


def parse_default_route(text: str) -> str | None:
    """The gateway of ``default via GW …`` in ``ip route`` output.

    Args:
        text: the output of ``ip route`` (iproute2 or BusyBox).

    Returns:
        The gateway address as printed, or None when there is no default route via one.
    """
    for line in text.splitlines():
        words = line.split()
        if words[:2] == ["default", "via"] and len(words) > 2:
            return words[2]
    return None


#: The first engine that lists the default bridge's gateway in ``inspect`` whatever existed at
#: its first start (moby commit cc19eba, "daemon: let libnetwork assign default bridge
#: IPAM", first in v24.0.0), unless its settings give ``fixed-cidr`` without ``bip``.
GATEWAY_LISTED_FROM = (24, 0)


def ipam_config(network: dict[str, Any]) -> list[dict[str, str | None]]:
    """Subnets, gateways and ranges from inspect data: ``[{"subnet": …, "gateway": … or
    None, "ip_range": … or None}]``.

    Similar to ``docker network inspect -f '{{json .IPAM.Config}}' NAME``. Engines before
    24.0 may leave ``Gateway`` out for the default bridge (then it is None; see
    :data:`GATEWAY_LISTED_FROM`). ``ip_range`` is where containers' addresses come from
    when it is narrower than the subnet (the daemon's ``fixed-cidr``).

    Args:
        network: a network as :func:`inspect_network` returns it.

    Returns:
        One dict per IPAM entry (none for ``host`` and ``none``).
    """
    config = (network.get("IPAM") or {}).get("Config") or []
    return [{"subnet": c.get("Subnet"), "gateway": c.get("Gateway") or None,
             "ip_range": c.get("IPRange") or None} for c in config]


def host_end(container_interfaces: list[Interface],
             host_interfaces: list[Interface]) -> Interface | None:
    """The host-side veth of a container's ``eth0@ifN``: the host interface with index N.

    Args:
        container_interfaces: parsed ``ip addr`` inside the container.
        host_interfaces: parsed ``ip addr`` of the host (``lab.host_interfaces()``).

    Returns:
        That host interface, or None (no veth in the container, or it is gone).
    """
    eth = next((i for i in container_interfaces if i.peer_index is not None), None)
    return by_index(host_interfaces).get(eth.peer_index) if eth else None


@replayable
@dataclass(frozen=True)
class PingCheck:
    """One ``ping -c 1 -W 2`` from a course container, and the route it took.

    Attributes:
        source: the name of the container that pinged.
        ip: the address it pinged.
        dev: the interface the kernel sends it out of (``ip route get IP``), e.g.
            ``docker0`` on the host, ``eth0`` in a bridge container.
        src: the source address the kernel picks for it.
        ok: one echo reply came back within two seconds.
    """

    source: str
    ip: str
    dev: str | None
    src: str | None
    ok: bool


def parse_route_get(text: str) -> tuple[str | None, str | None]:
    """``(dev, src)`` from ``ip route get IP`` output (iproute2 or BusyBox).

    Args:
        text: e.g. ``172.17.0.2 dev docker0  src 172.17.0.1``.

    Returns:
        The device and the source address, each None when not printed.
    """
    words = text.split()
    found: dict[str, str] = {}
    for key, value in zip(words, words[1:], strict=False):
        if key in ("dev", "src") and key not in found:
            found[key] = value
    return found.get("dev"), found.get("src")


def course_addresses(lab: Lab) -> set[str]:
    """The IPv4 addresses of this Lab's containers and of their networks' gateways.

    Similar to ``docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}
    {{.Gateway}}{{end}}' CONTAINER`` for each course container. These (and
    loopback) are the only addresses the course sends traffic to.

    Args:
        lab: a live session.

    Returns:
        The addresses as strings (empty ones left out).
    """
    found: set[str] = set()
    for cid in lab.container_ids:
        with translated(f"inspect container {cid[:12]}"):
            settings = lab.client.api.inspect_container(cid).get("NetworkSettings") or {}
        for net in (settings.get("Networks") or {}).values():
            found |= {net.get("IPAddress") or "", net.get("Gateway") or ""}
    return found - {""}


@recorded
def ping_once(lab: Lab, container: Any, ip: str) -> PingCheck:
    """One ping from a course container, with the route the kernel picks for it.

    Similar to ``docker exec CONTAINER sh -c 'ip route get IP; ping -c 1 -W 2 IP'``.
    The target must be loopback, a course container's address or the gateway
    of a course container's network (docker0's address, for the default
    bridge): nothing else is ever pinged.

    Args:
        lab: the session that owns the container.
        container: a reference, name or id of a running course container (the
            Lab's host-mode container, ``lab.host_probe()``, pings from the host).
        ip: the IPv4 address to ping.

    Returns:
        A :class:`PingCheck`; ``ok`` is False when no reply came back in time.

    Raises:
        BadInput: ``ip`` is not an IPv4 address, or not one of the course's.
    """
    try:
        target = ipaddress.IPv4Address(str(ip))
    except ValueError:
        raise BadInput(f"{ip!r} is not an IPv4 address: pass one such as a course "
                       "container's address from lab.ip_addr().") from None
    if not target.is_loopback and str(target) not in course_addresses(lab):
        raise BadInput(f"{target} is neither a course container's address nor its network's "
                       "gateway, so the course will not ping it: pick an address from "
                       "lab.ip_addr() of a course container.")
    dev, src = parse_route_get(lab.exec(container, ["ip", "route", "get", str(target)]))
    try:
        lab.exec(container, ["ping", "-c", "1", "-W", "2", str(target)])
        ok = True
    except CommandFailed:
        ok = False
    name = getattr(container, "name", None) or str(container)
    return PingCheck(source=name, ip=str(target), dev=dev, src=src, ok=ok)


@replayable
@dataclass(frozen=True)
class RemovalAttempt:
    """What asking the course to remove a network did, request by request.

    Attributes:
        network: the name or id that was passed.
        requests: every HTTP request the course sent to the daemon meanwhile,
            as ``METHOD /path -> STATUS`` (API version left out).
        outcome: ``removed NAME``, or the error's class and its one sentence
            (``DockerRefused: …``, ``BadInput: …``).
    """

    network: str
    requests: tuple[str, ...]
    outcome: str

    @property
    def sent_rm(self) -> bool:
        """True when a ``DELETE /networks/…`` (``docker network rm``) was sent."""
        return any(line.startswith("DELETE /networks/") for line in self.requests)


_API_VERSION = re.compile(r"^/v\d+\.\d+(?=/)")


def request_line(method: str, path: str, status: int | None) -> str:
    """One request as ``METHOD /path -> STATUS``, without the ``/v1.41`` prefix.

    Args:
        method: ``GET``, ``DELETE`` …
        path: the request target as sent (``/v1.41/networks/bridge``).
        status: the daemon's answer.

    Returns:
        e.g. ``DELETE /networks/bridge -> 403``.
    """
    return f"{method} {_API_VERSION.sub('', path)} -> {status}"


@recorded
def attempt_removal(lab: Lab, network: Any) -> RemovalAttempt:
    """:meth:`Lab.try_remove_network`, with every HTTP request it sends recorded.

    Similar to ``docker network rm NAME`` run against a logging proxy: the
    requests are read from the SDK client's response hook while the course
    decides what to do (chapter 04 traces a whole ``docker run`` this way).

    Args:
        lab: the session that asks.
        network: a name, an id, or a :class:`~course_helpers.core.lab.NetworkRef`.

    Returns:
        A :class:`RemovalAttempt`; a refusal is recorded in ``outcome``, not raised.
    """
    seen: list[str] = []

    def hook(response, *args, **kwargs):
        request = response.request
        seen.append(request_line(request.method, request.path_url, response.status_code))

    hooks = lab.client.api.hooks.setdefault("response", [])
    hooks.append(hook)
    try:
        outcome = f"removed {try_remove_network(lab, network)}"
    except CourseError as exc:
        outcome = f"{type(exc).__name__}: {exc}"
    finally:
        hooks.remove(hook)
    shown = network if isinstance(network, str) else getattr(network, "name", str(network))
    return RemovalAttempt(network=shown, requests=tuple(seen), outcome=outcome)


@recorded(check=check_network_ref)
def try_remove_network(lab: Lab, network: Any) -> str:
    """Ask Docker to remove a network, to see what it answers. Similar to ``docker network rm``.

    Only two kinds of network are ever sent to Docker: the three default ones
    (``bridge``, ``host``, ``none``: Docker refuses, and that refusal is the lesson)
    and networks this Lab created (removed by full id). Anything else, a learner's
    own network above all, is refused before Docker is asked.

    Args:
        lab: the session.
        network: a name, an id, or a :class:`~course_helpers.core.lab.NetworkRef`.

    Returns:
        The removed network's name, as ``docker network rm`` prints it.

    Raises:
        DockerRefused: Docker refused; ``reason`` holds its words ("bridge is a
            pre-defined network and cannot be removed", "… has active endpoints").
        BadInput: the network is neither a default one nor this Lab's.
    """
    lab.ensure_open()
    ref = network if isinstance(network, str) else getattr(network, "id", None)
    ref = ref.strip()
    own = lab.owned_network(ref)
    if own is not None:
        lab.remove_network(own.id)
        return own.name
    with translated(f"look up network {ref}"):
        info = lab.client.api.inspect_network(ref)
    nid, name, labels = info["Id"], info["Name"], info.get("Labels") or {}
    owner = labels.get(sessions.LABEL_SESSION)
    ours = labels.get(sessions.LABEL_COURSE) == sessions.COURSE_VALUE
    if ours and owner == lab.session:
        # It carries this session's labels (copied onto it by hand, or made by a call that
        # was interrupted): the course treats it as its own, as close() would.
        lab.adopt_network(NetworkRef(name, nid))
        lab.remove_network(nid)
        return name
    if DEFAULT_NETWORKS.get(name) == info.get("Driver") and not labels:
        with translated(f"remove network {name}"):
            lab.client.api.remove_network(nid)
        return name
    if ours and owner:
        raise BadInput(
            f"Network {name} belongs to another course session ({owner}), so this Lab will "
            "not remove it: close that session's Lab, or run `python -m course_helpers "
            "cleanup` once it has ended."
        )
    raise BadInput(
        f"Network {name} was not created by the course, so the course will not remove it: "
        f"use `docker network rm {name}` yourself if you mean to."
    )


def tree_text(data: Any, indent: int = 0) -> str:
    """Inspect data as indented ``key: value`` lines, like a YAML view of the JSON.

    Args:
        data: a dict or list (e.g. :func:`inspect_network`'s result).
        indent: the starting depth (two spaces per level).

    Returns:
        The lines joined by newlines; empty containers show as ``{}`` or ``[]``.
    """
    pad = "  " * indent
    lines = []
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for key, value in items:
        if isinstance(value, (dict, list)) and value:
            lines.append(f"{pad}{key}:")
            lines.append(tree_text(value, indent + 1))
        else:
            lines.append(f"{pad}{key}: {_leaf(value)}")
    return "\n".join(lines)


def tree_html(data: Any, label: str = "inspect", open_levels: int = 1) -> str:
    """Inspect data as nested HTML ``<details>``: click a key to unfold it.

    Args:
        data: a dict or list (e.g. :func:`inspect_network`'s result).
        label: the summary of the outermost level.
        open_levels: how many levels start unfolded.

    Returns:
        The HTML; show it with ``IPython.display.HTML``.
    """
    opened = " open" if open_levels > 0 else ""
    items = data.items() if isinstance(data, dict) else enumerate(data)
    rows = []
    for key, value in items:
        if isinstance(value, (dict, list)) and value:
            rows.append(f"<li>{tree_html(value, str(key), open_levels - 1)}</li>")
        else:
            leaf = html.escape(f"{key}: {_leaf(value)}")
            rows.append(f"<li><code>{leaf}</code></li>")
    return (f"<details{opened}><summary><b>{html.escape(label)}</b></summary>"
            f"<ul style='list-style: none; margin: 0'>{''.join(rows)}</ul></details>")


def _leaf(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return "{}" if isinstance(value, dict) else "[]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- what the engine gave one container (docker inspect CONTAINER) ----------------


@replayable
@dataclass(frozen=True)
class Attachment:
    """One network a container is attached to, as ``docker inspect CONTAINER`` lists it.

    Attributes:
        network: the network's name (``bridge`` …).
        ip: the container's IPv4 address on it ("" when it has none).
        gateway: the gateway the engine gave the container on it ("" when none).
        mac: the MAC address of the container's interface on it.
    """

    network: str
    ip: str
    gateway: str
    mac: str


@replayable
@dataclass(frozen=True)
class ContainerNetworking:
    """What the engine recorded about one container's network.

    Attributes:
        network_mode: ``HostConfig.NetworkMode`` as the engine stored it (``default``,
            ``bridge``, ``host``, ``container:ID`` …).
        attachments: one :class:`Attachment` per network, by name.
        asked_ports: the ports asked for (``HostConfig.PortBindings``), as
            ``{"80/tcp": ("127.0.0.1:8080", …)}``.
        published_ports: the ports actually published (``NetworkSettings.Ports``),
            same form; empty where Docker published nothing.
    """

    network_mode: str
    attachments: tuple[Attachment, ...]
    asked_ports: dict[str, tuple[str, ...]]
    published_ports: dict[str, tuple[str, ...]]

    @property
    def networks(self) -> list[str]:
        """The names of the networks the container is attached to."""
        return [a.network for a in self.attachments]

    def on(self, network: str) -> Attachment | None:
        """The attachment to ``network``, or None."""
        return next((a for a in self.attachments if a.network == network), None)


def _bindings(ports: dict[str, Any] | None) -> dict[str, tuple[str, ...]]:
    """``{"80/tcp": ("127.0.0.1:8080",)}`` from inspect's port maps (unbound ports left out)."""
    found = {}
    for port, bindings in (ports or {}).items():
        shown = tuple(f"{b.get('HostIp', '')}:{b.get('HostPort', '')}" for b in bindings or ())
        if shown:
            found[port] = shown
    return found


def networking_from(inspect: dict[str, Any]) -> ContainerNetworking:
    """The network part of ``docker inspect CONTAINER`` output.

    Args:
        inspect: the container's inspect JSON (as the API returns it).

    Returns:
        The :class:`ContainerNetworking`, attachments sorted by network name.
    """
    host_config = inspect.get("HostConfig") or {}
    settings = inspect.get("NetworkSettings") or {}
    attachments = tuple(
        Attachment(name, net.get("IPAddress") or "", net.get("Gateway") or "",
                   net.get("MacAddress") or "")
        for name, net in sorted((settings.get("Networks") or {}).items()))
    return ContainerNetworking(
        network_mode=host_config.get("NetworkMode") or "",
        attachments=attachments,
        asked_ports=_bindings(host_config.get("PortBindings")),
        published_ports=_bindings(settings.get("Ports")),
    )


@recorded
def container_networking(lab: Lab, container: Any) -> ContainerNetworking:
    """What the engine recorded about a container's network.

    Similar to ``docker inspect -f '{{.HostConfig.NetworkMode}} {{json
    .NetworkSettings.Networks}} {{json .HostConfig.PortBindings}} {{json
    .NetworkSettings.Ports}}' CONTAINER``.

    Args:
        lab: the session that asks.
        container: a reference, name or id.

    Returns:
        The :class:`ContainerNetworking`.

    Raises:
        DockerRefused: there is no such container.
    """
    ref = getattr(container, "id", None) or str(container)
    with translated(f"inspect container {ref[:12]}"):
        return networking_from(lab.client.api.inspect_container(ref))


# -- Docker's refusal of a network in use ----------------------------------------------

#: The words Docker uses when a network still has containers attached.
ACTIVE_ENDPOINTS = "has active endpoints"
#: The first engine whose refusal names the endpoints still attached after those words
#: (their names; from 28.3 each as ``name:"…" id:"…"``).
ENDPOINT_NAMED_FROM = (28, 1)


def engine_version(version: str) -> tuple[int, int]:
    """``(major, minor)`` of an engine version string.

    >>> engine_version("28.5.2+dfsg4")
    (28, 5)
    >>> engine_version("20.10.24+dfsg1")
    (20, 10)

    Raises:
        BadInput: the string does not start with ``MAJOR.MINOR``.
    """
    match = re.match(r"(\d+)\.(\d+)", str(version))
    if match is None:
        raise BadInput(f"{version!r} is not an engine version: pass what `docker version` "
                       "prints under Server, such as '28.5.2'.")
    return int(match[1]), int(match[2])


def endpoint_detail(reason: str) -> str | None:
    """What Docker wrote after "has active endpoints", or None when those words are missing.

    Up to Engine 28.0 the message ends with the words (``""`` here); from 28.1 it goes
    on with the endpoints still attached: their names, e.g. ``(c1)``, and from 28.3 their
    names and short ids, e.g. ``(name:"c1" id:"5d2…")``.

    >>> endpoint_detail("error while removing network: network n id 3f has active endpoints")
    ''
    >>> endpoint_detail('network n has active endpoints (name:"c1" id:"5d2")')
    '(name:"c1" id:"5d2")'
    >>> endpoint_detail("network n not found") is None
    True
    """
    head, words, tail = reason.partition(ACTIVE_ENDPOINTS)
    return tail.strip() if words else None
