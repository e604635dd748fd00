"""A small world of course containers on two user-defined networks and the default bridge.

Introduced in chapter 05 (going further, beyond the source). The chapter's
DNS and reachability lessons run among these containers only. Similar to::

    docker network create alpha
    docker network create beta
    docker run -d --network alpha --name a IMAGE sleep 900
    docker run -d --network beta  --name b IMAGE sleep 900
    docker run -d --network alpha --name ab IMAGE sleep 900
    docker network connect beta ab
    docker run -d --name d1 IMAGE sleep 900      # default bridge
    docker run -d --name d2 IMAGE sleep 900      # default bridge
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .core.engine import translated
from .core.errors import BadInput
from .core.refs import NetworkRef
from .core.replay import recorded, replayable

if TYPE_CHECKING:
    from .core.lab import Lab

#: The default bridge network's name, as ``docker network ls`` shows it.
DEFAULT_BRIDGE = "bridge"
#: (role, networks) of every member: the first network is the one it starts on.
LAYOUT: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("a", ("alpha",)),
    ("b", ("beta",)),
    ("ab", ("alpha", "beta")),
    ("d1", (DEFAULT_BRIDGE,)),
    ("d2", (DEFAULT_BRIDGE,)),
)


@replayable
@dataclass(frozen=True)
class Member:
    """One container of the playground.

    Attributes:
        role: its short name in the chapter (``a``, ``ab``, ``d1`` …).
        name / id: the container's real name and full id.
        addresses: ``(network role, IPv4)`` for every network it is on, where the
            network role is ``alpha``, ``beta`` or ``bridge``.
    """

    role: str
    name: str
    id: str
    addresses: tuple[tuple[str, str], ...]

    @property
    def networks(self) -> tuple[str, ...]:
        """The network roles it is on."""
        return tuple(net for net, _ in self.addresses)

    def ip_on(self, network: str) -> str | None:
        """Its IPv4 on a network role, or None when it is not on it."""
        return next((ip for net, ip in self.addresses if net == network), None)

    @property
    def label(self) -> str:
        """``role [networks]``, for tables and figures."""
        return f"{self.role} [{', '.join(self.networks)}]"


@replayable
@dataclass(frozen=True)
class Playground:
    """The chapter's containers and networks.

    Attributes:
        networks: ``(role, NetworkRef)`` of the two user-defined networks.
        members: the containers, in :data:`LAYOUT` order.
        cli: the docker commands that build the same world (``IMAGE``: the course image).
    """

    networks: tuple[tuple[str, NetworkRef], ...]
    members: tuple[Member, ...]
    cli: tuple[str, ...]

    def member(self, role: str) -> Member:
        """The member with this role.

        Raises:
            BadInput: no such role; the message lists those there are.
        """
        for m in self.members:
            if m.role == role:
                return m
        roles = ", ".join(m.role for m in self.members)
        raise BadInput(f"There is no container {role!r} in the playground: pick one of {roles}.")

    def share_network(self, one: str, other: str) -> bool:
        """True when the two members have a network in common."""
        return bool(set(self.member(one).networks) & set(self.member(other).networks))


def cli_lines(image: str) -> tuple[str, ...]:
    """The docker commands that build the playground (names shortened to their roles)."""
    lines = ["docker network create alpha", "docker network create beta"]
    for role, nets in LAYOUT:
        first = "" if nets[0] == DEFAULT_BRIDGE else f" --network {nets[0]}"
        lines.append(f"docker run -d{first} --name {role} {image} sleep 900")
        lines += [f"docker network connect {net} {role}" for net in nets[1:]]
    return tuple(lines)


def addresses_from(inspect: dict, network_roles: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """``(network role, IPv4)`` pairs from ``docker inspect`` data.

    Args:
        inspect: a container as ``docker inspect`` returns it.
        network_roles: real network name -> role (``{"dnc-…-alpha-1": "alpha"}``);
            the default bridge keeps its name.
    """
    networks = (inspect.get("NetworkSettings") or {}).get("Networks") or {}
    pairs = [(network_roles.get(name, name), data.get("IPAddress", ""))
             for name, data in networks.items() if data.get("IPAddress")]
    order = {"alpha": 0, "beta": 1, DEFAULT_BRIDGE: 2}
    return tuple(sorted(pairs, key=lambda p: (order.get(p[0], 3), p[0])))


@recorded
def build_playground(lab: Lab) -> Playground:
    """Create the two networks and five containers of chapter 05 (see the module's CLI).

    Args:
        lab: the session that owns everything made here (removed by ``lab.close()``).

    Returns:
        The playground, with every container's address on every network.
    """
    lab.ensure_open()
    nets = {role: lab.create_network(role) for role in ("alpha", "beta")}
    roles = {ref.name: role for role, ref in nets.items()}

    def start(role: str, networks: tuple[str, ...]):
        first = networks[0] if networks[0] == DEFAULT_BRIDGE else nets[networks[0]].name
        ref = lab.start_container(role, network_mode=first)
        for extra in networks[1:]:
            with translated(f"connect {ref.name} to {extra}"):
                lab.client.api.connect_container_to_network(ref.id, nets[extra].id)
        with translated(f"inspect {ref.name}"):
            data = lab.client.api.inspect_container(ref.id)
        return Member(role, ref.name, ref.id, addresses_from(data, roles))

    with ThreadPoolExecutor(max_workers=len(LAYOUT)) as pool:
        members = list(pool.map(lambda item: start(*item), LAYOUT))
    return Playground(tuple(nets.items()), tuple(members), cli_lines("IMAGE"))
