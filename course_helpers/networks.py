"""docker0 and the ``docker network`` commands: ls, inspect, create, rm.

Introduced in chapter 02 (docker0 与常用基本命令: docker0 and the basic commands).
Similar to ``docker network ls`` and ``docker network inspect NAME``; creating
and removing networks goes through :meth:`Lab.create_network`,
:meth:`Lab.remove_network` and :meth:`Lab.try_remove_network` (which shows
Docker refusing to remove a default network or one still in use).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .engine import translated
from .ipaddr import Interface, by_index
from .replay import recorded, replayable

if TYPE_CHECKING:
    from .lab import Lab


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


def ipam_config(network: dict[str, Any]) -> list[dict[str, str | None]]:
    """Subnets and gateways from inspect data: ``[{"subnet": …, "gateway": … or None}]``.

    Similar to ``docker network inspect -f '{{json .IPAM.Config}}' NAME``.
    Engine 20.10 leaves ``Gateway`` out for the default bridge when the daemon
    picked docker0's address itself.

    Args:
        network: a network as :func:`inspect_network` returns it.

    Returns:
        One dict per IPAM entry (none for ``host`` and ``none``).
    """
    config = (network.get("IPAM") or {}).get("Config") or []
    return [{"subnet": c.get("Subnet"), "gateway": c.get("Gateway") or None} for c in config]


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
