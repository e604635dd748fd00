"""Every chapter's exercises and quizzes, kept out of the notebooks' sight.

Used by :mod:`course_helpers.exercises` (introduced in chapter 00). An exercise's right
answer is worked out here, at check time, from the data the notebook read from the engine
(its variables: ``facts``, ``host``, ``trace`` …), so a check cell shows no answer. Its
solution is code the learner sees only on request; it runs only on a copy of the
notebook's variables, so it never changes the learner's own. Quizzes keep their answer
here for the same reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Data = Mapping[str, Any]


def _equal(value: Any, right: Any) -> bool:
    return value == right


def _text(value: Any, right: Any) -> bool:
    """Text compared without surrounding blanks (what ``print`` shows is what counts)."""
    return isinstance(value, str) and value.strip() == right


def _text_nocase(value: Any, right: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() == right.lower()


def _route(value: Any, right: Any) -> bool:
    """A request line, with or without the API version in front (``/v1.41/…``)."""
    if not isinstance(value, str):
        return False
    method, _, path = value.strip().partition(" ")
    parts = path.split("/")
    if len(parts) > 2 and parts[1][:1] == "v" and parts[1][1:].replace(".", "").isdigit():
        path = "/" + "/".join(parts[2:])
    return f"{method.upper()} {path}" == right


@dataclass(frozen=True)
class Task:
    """One exercise: the variable the learner sets, and how to know it is right.

    Attributes:
        name: the variable (``"answer_1"``).
        right: the right answer, worked out from the notebook's variables.
        hint: said when the answer is wrong.
        solution: code that sets ``name`` from the notebook's variables.
        same: how an answer is compared with the right one (``==`` by default).
    """

    name: str
    right: Callable[[Data], Any]
    hint: str
    solution: str
    same: Callable[[Any, Any], bool] = _equal


def _veths_on_docker0(data: Data) -> int:
    return sum(1 for i in data["host"] if i.kind == "veth" and i.master == "docker0")


def _b_reaches(data: Data) -> set[str]:
    roles, matrix = data["roles"], data["matrix"]
    row = matrix[roles.index("b")]
    return {role for role, ok in zip(roles, row, strict=True) if ok}


def _parent(data: Data) -> str:
    chain = data["chain"]
    return chain.parent if chain.visible else data["architecture"].runc_shim(data["stack"])


#: chapter (the notebook's stem) -> its exercises, in the order the notebook asks them.
TASKS: dict[str, tuple[Task, ...]] = {
    "00_setup": (
        Task("answer_1", lambda d: d["facts"].storage_driver,
             "it is one of the rows printed under 'The engine' (and docker info says it too)",
             "answer_1 = facts.storage_driver  # docker info --format '{{.Driver}}'",
             _text),
        Task("answer_2", lambda d: d["box"].id[:12],
             "compare it with box.id: the default hostname is part of the container's id",
             'answer_2 = lab.exec(box, "hostname").strip()  # docker exec BOX hostname',
             _text),
    ),
    "01_host_interfaces": (
        Task("docker0_veths", _veths_on_docker0,
             "hostview.veths_on('docker0', host), the bridge's name first and then the "
             "interfaces, returns the list of veths; len() counts it",
             'docker0_veths = len(hostview.veths_on("docker0", host))'),
        Task("without_docker", lambda d: {i.name for i in d["host"]} - set(d["made"]),
             "the host's interface names that are not in the set made (what Docker made): "
             "a set, so set arithmetic works",
             "without_docker = {i.name for i in host} - made"),
        Task("bus_slot", lambda d: (0, 3),
             "p<bus>s<slot>: read the digits after p and after s",
             "bus_slot = (0, 3)  # enp0s3: p0 = PCI bus 0, s3 = slot 3"),
    ),
    "02_docker0_and_commands": (
        Task("on_bridge", lambda d: len(d["bridge"]["Containers"]),
             "bridge['Containers'] is a dict with one entry per attached container: len() "
             "counts it",
             'on_bridge = len(bridge["Containers"])  # docker network inspect bridge'),
        Task("cables", _veths_on_docker0,
             "hostview.veths_on('docker0', host) lists the veths whose master is docker0",
             'cables = len(hostview.veths_on("docker0", host))  # ip link show master docker0'),
        Task("same", lambda d: len(d["bridge"]["Containers"]) == _veths_on_docker0(d),
             "compare the two numbers with ==",
             'same = len(bridge["Containers"]) == len(hostview.veths_on("docker0", host))'),
        Task("bridge_subnet", lambda d: d["config"]["subnet"],
             "look under bridge['IPAM']['Config']",
             'bridge_subnet = bridge["IPAM"]["Config"][0]["Subnet"]'),
        Task("old_mac", lambda d: "02:42:ac:11:00:09",
             "02:42: then each byte of the address in two hex digits (172 = ac)",
             'old_mac = "02:42:" + ":".join(\n'
             '    f"{b:02x}" for b in ipaddress.IPv4Address("172.17.0.9").packed)',
             _text_nocase),
    ),
    "03_network_modes": (
        Task("answer_1", lambda d: d["bridge"].host_peer.name,
             "look for the host interface whose index equals eth0.peer_index",
             "answer_1 = next(i.name for i in host.interfaces if i.index == eth0.peer_index)",
             _text),
        Task("answer_2", lambda d: str(d["bridge"].interface("eth0").ipv4[0].ip),
             "each line of /etc/hosts is an address followed by names: take the line that "
             "names the hostname, and give its address as text",
             'name = lab.exec(joined.container, "hostname").strip()  # docker exec NAME2 hostname\n'
             'hosts = joined_files.file("/etc/hosts").text  # docker exec NAME2 cat /etc/hosts\n'
             'answer_2 = next(line.split()[0] for line in hosts.splitlines()\n'
             '                if name in line.split()[1:])', _text),
    ),
    "04_architecture": (
        Task("start_request", lambda d: "POST /containers/{id}/start",
             "find the row whose answer is 204 No Content (docker start), and copy only its "
             "method and route, without the -> and the status",
             'start_request = next(f"{c.method} {c.route}" for c in trace.calls '
             "if c.status == 204)",
             _route),
        Task("in_between", lambda d: d["trace"].between(d["create"], d["start"]),
             "count the rows of the trace between create and start (look at their #)",
             "# attach and wait: set up before the start, they cannot miss the container's\n"
             "# first output or its end, however quickly `true` exits.\n"
             "in_between = start.seq - create.seq - 1"),
        Task("parent_program", _parent,
             "it is neither dockerd nor containerd: look at 'its parent' in the process view, "
             "and give only the program's name, without its path",
             "parent_program = chain.parent if chain.visible else "
             "architecture.runc_shim(stack)",
             _text),
    ),
    "05_going_further": (
        Task("embedded_dns", lambda d: d["on_alpha"].nameservers[0],
             "read the nameserver line of a's /etc/resolv.conf above",
             "embedded_dns = on_alpha.nameservers[0]", _text),
        Task("b_reaches", _b_reaches,
             "b is on beta only: which other containers are on beta?",
             'b_reaches = {m.role for m in pg.members if m.role != "b" and "beta" in m.networks}'),
        Task("host_port", lambda d: d["web"].host_port,
             "print(web.host_port), or look at the docker port line above",
             "host_port = web.host_port  # docker port WEB 80"),
    ),
}


@dataclass(frozen=True)
class Question:
    """One quiz question; ``answer`` is the right option's position."""

    question: str
    options: tuple[str, ...]
    answer: int
    explanation: str
    #: The chapter's section (its English heading) a wrong answer is sent back to.
    where: str = ""


#: chapter -> its quiz, in the order the notebook shows it.
QUIZZES: dict[str, tuple[Question, ...]] = {
    "00_setup": (
        Question("There is no Docker engine on this machine (say, on Binder). What do the "
                 "notebooks do?",
                 ("fail on the first cell", "pull an engine from a registry",
                  "replay recordings of a real run and say so", "pretend to be live"), 2,
                 "Lab() falls back to replay and the banner at the top says REPLAY, with the "
                 "engine, OS and date of the recording.",
                 where="The engine"),
        Question("What happens to the containers of this session when you shut down the "
                 "notebook's kernel?",
                 ("they keep running until you remove them", "the session removes them",
                  "Docker removes every container on the machine"), 1,
                 "Closing the session (lab.close(), a kernel restart or shutdown) removes "
                 "exactly what it made; a container of a tab you simply closed expires on its "
                 "own after 15 minutes.",
                 where="The end of the session"),
    ),
    "01_host_interfaces": (
        Question("What is virbr0 on the source's CentOS 7 host?",
                 ("Docker's default bridge", "libvirt's NAT bridge for virtual machines",
                  "VMware's virtual network card", "a second loopback interface"), 1,
                 "libvirt creates virbr0 (192.168.122.1/24) for its default network; "
                 "Docker's bridge is docker0.",
                 where="What `virbr0` is"),
        Question("In the name ens33, what does s33 mean?",
                 ("hot-plug slot 33", "the 33rd Ethernet card found at boot", "subnet 33",
                  "VMware driver version 33"), 0,
                 "Predictable names encode where the card sits: en = Ethernet, s33 = slot 33.",
                 where="What `ens33` is"),
        Question("How did this chapter decide that an interface was made by Docker?",
                 ("its name starts with veth or br-", "its MAC address starts with 02:42",
                  "a Docker network names it as its bridge, or it is a veth plugged into such "
                  "a bridge", "it has no IPv4 address"), 2,
                 "Names and MACs can be chosen by anyone; Docker's network data and the "
                 "veth's master say who made it.",
                 where="Which ones did Docker make?"),
    ),
    "02_docker0_and_commands": (
        Question("What does each new container on the default bridge add to the host?",
                 ("a new bridge", "one veth, plugged into docker0", "a new network card",
                  "nothing"), 1,
                 "One end of a veth pair becomes the container's eth0; the other end stays "
                 "on the host with docker0 as its master.",
                 where="docker0 seen by the host"),
        Question("Which networks can `docker network rm` remove?",
                 ("bridge, host and none", "only none",
                  "networks you created, once no container is attached",
                  "any network, even with containers attached"), 2,
                 "The default networks are pre-defined and cannot be removed; a network with "
                 "active endpoints is refused until its containers leave.",
                 where="What Docker refuses"),
        Question("Where does a container on the default bridge send traffic for other "
                 "networks?",
                 ("to docker0's address, its default gateway", "straight out of the host's NIC",
                  "to 127.0.0.11", "to the network called host"), 0,
                 "ip route in the container shows default via docker0's address.",
                 where="docker0 seen by Docker"),
    ),
    "03_network_modes": (
        Question("A second container has no interface of its own, yet it shows the first "
                 "container's eth0 and IP address. Which mode did it use?",
                 ("bridge", "host", "none", "container:NAME"), 3,
                 "Container mode joins the network namespace of a running container, so both "
                 "see the same eth0 and the same address.",
                 where="The four side by side"),
        Question("Which mode gives a container its own network namespace with only lo in it?",
                 ("bridge", "host", "none", "container:NAME"), 2,
                 "none creates the namespace and configures nothing in it.",
                 where="The four side by side"),
    ),
    "04_architecture": (
        Question("Today, which program sets up a container's namespaces and cgroups?",
                 ("dockerd", "containerd", "the exec driver", "runc"), 3,
                 "containerd asks the container's shim, the shim runs runc, runc sets "
                 "everything up and exits. The exec driver is history (removed in Docker "
                 "1.11).",
                 where="Who runs a container today"),
        Question("docker run got the answer 101 to its attach request. What did that mean?",
                 ("the container failed to start",
                  "the connection switched from HTTP to carrying the container's output",
                  "the daemon asked the client to retry with another API version"), 1,
                 "101 Switching Protocols: the daemon takes the connection over for the "
                 "output stream.",
                 where="Client and server"),
        Question("With live-restore off (the default), what happens to running containers "
                 "when dockerd is stopped for an upgrade?",
                 ("they keep running: each hangs on its own shim", "dockerd stops them",
                  "containerd restarts them inside the new dockerd"), 1,
                 "By default dockerd stops its containers when it stops; live-restore keeps "
                 "them running, which the shims make possible.",
                 where="Who runs a container today"),
    ),
    "05_going_further": (
        Question("Why can a not ping b?",
                 ("b does not answer pings",
                  "the host drops traffic between different Docker bridge networks",
                  "a has no default route", "the embedded DNS does not know b"), 1,
                 "a's packets to beta go through the host, and Docker's isolation rules drop "
                 "them.",
                 where="Who can reach whom"),
        Question("On the default bridge, who answers nslookup d2. 127.0.0.11?",
                 ("Docker's embedded DNS", "nobody: nothing listens at 127.0.0.11 there",
                  "the host's DNS server"), 1,
                 "The embedded DNS exists only on user-defined networks: there dockerd "
                 "listens at 127.0.0.11 inside each container's namespace.",
                 where="Names: the embedded DNS"),
        Question("What does -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE do?",
                 ("it drops traffic from containers on docker0 to the outside",
                  "it gives packets from docker0's subnet the host's address when they leave "
                  "by another interface",
                  "it forwards a published port to a container"), 1,
                 "MASQUERADE rewrites the source on the way out; DNAT (in the DOCKER chain) "
                 "is what forwards a published port.",
                 where="Going out: the MASQUERADE rule"),
    ),
}
