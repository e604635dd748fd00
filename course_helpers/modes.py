"""The four network modes: start a container in each and snapshot its network.

Introduced in chapter 03 (网络模式, network modes). Similar to::

    docker run --rm --network bridge|host|none|container:NAME IMAGE ip addr
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .core.errors import BadInput, CourseError
from .core.replay import recorded, replayable
from .ipaddr import (
    IP_ADDR_WITH_LINKS,
    Interface,
    by_index,
    parse_ip_addr,
    parse_ip_addr_with_links,
)

if TYPE_CHECKING:
    from .core.lab import Lab
    from .core.refs import ContainerRef

MODES = ("bridge", "host", "none", "container")
_MARK = "--- course:ip-addr ---"
_END = "--- course:snapshot-end ---"
#: What a snapshot reads inside the container: the namespace inode, the hostname and
#: ``ip addr``. A container started for the snapshot runs it as its first command (its
#: output read as ``docker run`` reads it, no ``docker exec`` needed); a container that
#: runs already (a spare, the host probe) runs it through ``docker exec``.
SNAPSHOT_SCRIPT = f"readlink /proc/self/ns/net; hostname; echo '{_MARK}'; ip addr 2>/dev/null"
_SNAPSHOT_CMD = ["sh", "-c", SNAPSHOT_SCRIPT]


@replayable
@dataclass(frozen=True)
class ModeSnapshot:
    """What a container sees of the network in one mode.

    Attributes:
        mode: ``bridge``, ``host``, ``none`` or ``container``.
        container: the name of the container that was started.
        container_id: its full id.
        interfaces: its parsed ``ip addr``.
        netns: its network namespace, as ``readlink /proc/self/ns/net`` prints it.
        hostname: its hostname.
        target: for container mode, the name of the container whose network it joined.
        target_id: that container's full id.
        host_peer: for bridge mode, the host-side end of eth0's veth pair.
        bridge: for bridge mode, the bridge that host-side end is attached to.
        cli: the equivalent ``docker`` commands (see :func:`cli_line`).
    """

    mode: str
    container: str
    container_id: str
    interfaces: tuple[Interface, ...]
    netns: str
    hostname: str
    cli: str
    target: str | None = None
    target_id: str | None = None
    host_peer: Interface | None = None
    bridge: Interface | None = None

    @property
    def names(self) -> list[str]:
        """Interface names, in order."""
        return [iface.name for iface in self.interfaces]

    def interface(self, name: str) -> Interface:
        """The interface called ``name``.

        Raises:
            BadInput: there is none; the message lists those there are.
        """
        for iface in self.interfaces:
            if iface.name == name:
                return iface
        raise BadInput(f"No interface {name!r} in this {self.mode}-mode container: "
                       f"it has {', '.join(self.names)}.")

    @property
    def ipv4(self) -> list[str]:
        """IPv4 addresses with prefix, loopback excluded."""
        return [str(a.interface) for i in self.interfaces if i.link_type != "loopback"
                for a in i.ipv4]

    def table(self) -> list[dict[str, Any]]:
        """One row per interface: name, index, peer, state, MAC, addresses."""
        return [
            {
                "name": i.name,
                "index": i.index,
                "peer": f"if{i.peer_index}" if i.peer_index is not None else "",
                "up": i.is_up,
                "mac": i.mac or "",
                "addresses": ", ".join(str(a.interface) for a in i.addresses),
            }
            for i in self.interfaces
        ]


def cli_line(mode: str, image: str, name: str, target: str | None = None,
             lifetime: int = 900) -> str:
    """The ``docker`` commands equivalent to what the helper did for a snapshot.

    The helper starts a container that stays up for a while (so others can join
    it) and then runs ``ip addr`` in it; in host mode it reuses the Lab's
    host-mode container, which was started the same way.

    >>> cli_line("none", "IMAGE", "c1")
    'docker run -d --name c1 --network none IMAGE sleep 900 && docker exec c1 ip addr'
    """
    network = f"container:{target}" if mode == "container" else mode
    return (f"docker run -d --name {name} --network {network} {image} sleep {lifetime} "
            f"&& docker exec {name} ip addr")


def check_mode(mode: str, target: Any = None) -> tuple[str, Any]:
    """Validate a mode (and split ``container:NAME``); return (mode, target).

    Modes are matched without regard to case or surrounding blanks (``" Bridge"`` is bridge).

    Raises:
        BadInput: unknown mode, or container mode without a target.
    """
    if isinstance(mode, str):
        mode = mode.strip()
        if mode.lower().startswith("container:"):
            mode, target = "container", target or mode.split(":", 1)[1].strip()
        mode = mode.lower()
    if mode not in MODES:
        raise BadInput(
            f"Unknown network mode {mode!r}: choose one of {', '.join(MODES)} "
            "(container mode also needs target=NAME)."
        )
    if mode == "container" and (target is None or (isinstance(target, str) and not target.strip())):
        raise BadInput(
            "Container mode joins another container's network: say which one, with "
            "target= a running container's name (or what an earlier run returned)."
        )
    return mode, target


def target_ref(target: Any) -> str:
    """The id or name a target stands for (a name, an id, a ContainerRef, a Container or a
    ModeSnapshot).

    Raises:
        BadInput: the target is none of those.
    """
    ref = getattr(target, "container_id", None) or getattr(target, "id", None) or target
    if not isinstance(ref, str) or not ref.strip():
        raise BadInput(
            f"{target!r} cannot be a target: pass a running container's name or id, "
            "a ContainerRef or a ModeSnapshot."
        )
    return ref.strip()


def resolve_target(lab: Lab, target: Any) -> ContainerRef:
    """The running container to join; never modified, only read.

    Similar to ``docker inspect TARGET``: an exact name or a full id, never a prefix.

    Raises:
        BadInput: no such container, or it is not running.
    """
    return lab.running_container(target_ref(target))


def check_mode_args(lab: Lab, mode: Any, target: Any = None) -> None:
    """Refuse a bad mode or target before any engine is asked (the ``check`` of
    :func:`run_in_mode`)."""
    mode, target = check_mode(mode, target)
    if mode == "container":
        target_ref(target)


def check_all_modes_args(lab: Lab, target: Any = None) -> None:
    """Refuse a bad target before any engine is asked (the ``check`` of :func:`run_all_modes`)."""
    if target is not None:
        target_ref(target)


def parse_snapshot(out: str) -> tuple[str, str, list[Interface]]:
    """``(netns, hostname, interfaces)`` from what :data:`SNAPSHOT_SCRIPT` printed."""
    head, _, body = out.partition(_MARK + "\n")
    netns, hostname = (head.splitlines() + ["", ""])[:2]
    return netns.strip(), hostname.strip(), parse_ip_addr(body)


def _read(lab: Lab, container: ContainerRef) -> tuple[str, str, list[Interface]]:
    return parse_snapshot(lab.exec(container, _SNAPSHOT_CMD))


def _read_host(lab: Lab, probe: ContainerRef) -> tuple[tuple[str, str, list[Interface]],
                                                      list[Interface]]:
    """The host mode's snapshot and the host's interfaces with their veth peers, from one
    ``docker exec`` in the host probe (what :data:`SNAPSHOT_SCRIPT` prints, then the
    kernel's link table of ``Lab.ip_addr``)."""
    out = lab.exec(probe, ["sh", "-c", f"{SNAPSHOT_SCRIPT.rpartition(';')[0]}; "
                                       f"{IP_ADDR_WITH_LINKS[-1]}"])
    head, _, listing = out.partition(_MARK + "\n")
    netns, hostname = (head.splitlines() + ["", ""])[:2]
    # Both with the kernel's peers: BusyBox names a peer from this namespace that happens to
    # share its ifindex (`vethX@eth0` on a host whose eth0 is number 2), chapter 01's trap.
    host = parse_ip_addr_with_links(listing)
    return (netns.strip(), hostname.strip(), host), host


def _start_reading(lab: Lab, mode: str, network_mode: str | None = None,
                   joined: ContainerRef | None = None,
                   ) -> tuple[ContainerRef, tuple[str, str, list[Interface]] | None]:
    """A running container in ``mode``, and its snapshot when it printed one as it started.

    A spare (see ``Lab.keep_warm``) started earlier: read later, by ``docker exec``.
    Otherwise a new container runs the snapshot as its first command and stays up:
    similar to ``docker run -d --network MODE IMAGE sh -c 'ip addr; exec sleep N'``.
    """
    if mode != "container" and lab.keeps_warm(mode):
        return lab.container_for_mode(mode), None
    ref, out = lab.start_and_read(mode, SNAPSHOT_SCRIPT, _END,
                                  network_mode=network_mode or mode, joined=joined)
    try:
        return ref, parse_snapshot(out)
    except BaseException:
        lab.discard(ref)  # what it printed is unusable: nothing of this call is left
        raise


def _snapshot(lab: Lab, mode: str, container: ContainerRef, target: ContainerRef | None,
              host_ifaces: list[Interface] | None,
              reading: tuple[str, str, list[Interface]] | None = None) -> ModeSnapshot:
    netns, hostname, interfaces = reading or _read(lab, container)
    peer = bridge = None
    if mode in ("bridge", "container") and host_ifaces is not None:
        eth0 = next((i for i in interfaces if i.peer_index is not None), None)
        host_index = by_index(host_ifaces)
        peer = host_index.get(eth0.peer_index) if eth0 else None
        if peer is not None and peer.master:
            bridge = next((i for i in host_ifaces if i.name == peer.master), None)
    return ModeSnapshot(
        mode=mode,
        container=container.name,
        container_id=container.id,
        interfaces=tuple(interfaces),
        netns=netns,
        hostname=hostname,
        cli=cli_line(mode, lab.image, container.name, target.name if target else None,
                     lab.lifetime),
        target=target.name if target else None,
        target_id=target.id if target else None,
        host_peer=peer,
        bridge=bridge,
    )


def _discard(lab: Lab, started: list[ContainerRef]) -> None:
    """Remove what a failed snapshot started (never the Lab's host probe)."""
    for ref in started:
        lab.discard(ref)


@recorded(check=check_mode_args)
def run_in_mode(lab: Lab, mode: str, target: Any = None) -> ModeSnapshot:
    """Start a container in ``mode`` and snapshot what it sees.

    Similar to ``docker run -d --network MODE IMAGE sleep N`` followed by
    ``docker exec NAME ip addr``. Host mode reads through the Lab's host-mode
    container; bridge and container mode also read the host side (through that
    same container) to find eth0's veth peer and its bridge.

    Args:
        lab: the session that owns the container.
        mode: ``bridge``, ``host``, ``none``, ``container`` or ``container:NAME``.
        target: for container mode, the container to join (name, id, Container
            or ModeSnapshot). It is joined, never modified. A container-mode
            snapshot is a fine target: the new container joins the same namespace.

    Returns:
        The snapshot.

    Raises:
        BadInput: unknown mode; container mode without a usable target.
        DockerRefused: the engine refused; what this call started is removed again.
    """
    mode, target = check_mode(mode, target)
    lab.ensure_open()
    with lab.refill_later():  # a spare taken here is replaced once this call has read it
        return _run_in_mode(lab, mode, target)


def _run_in_mode(lab: Lab, mode: str, target: Any) -> ModeSnapshot:
    if mode == "host":
        return lab.with_host_probe(
            lambda probe: _snapshot(lab, mode, probe, None, None, _read_host(lab, probe)[0]))
    joined = resolve_target(lab, target) if mode == "container" else None
    network_mode = f"container:{joined.id}" if joined else mode
    started: list[ContainerRef] = []
    try:
        if mode == "none":
            ref, reading = _start_reading(lab, mode)
            started.append(ref)
            return _snapshot(lab, mode, ref, joined, None, reading)
        with ThreadPoolExecutor(max_workers=2) as pool:
            probe = pool.submit(lab.host_probe)  # starts alongside, if not running yet
            if mode == "container":
                # The joined namespace exists already: read the host side meanwhile.
                host_ifaces = pool.submit(lambda: lab.ip_addr(probe.result()))
            spare = lab.joiner_for(joined) if joined is not None else None
            ref, reading = (spare, None) if spare is not None else _start_reading(
                lab, mode, network_mode, joined)
            started.append(ref)
            if mode == "bridge":
                # Read the host side only once the container runs: its veth must be in place.
                host_ifaces = pool.submit(lambda: lab.ip_addr(probe.result()))
            return _snapshot(lab, mode, ref, joined, host_ifaces.result(), reading)
    except BaseException:
        _discard(lab, started)
        raise


@recorded(check=check_all_modes_args)
def run_all_modes(lab: Lab, target: Any = None) -> dict[str, ModeSnapshot]:
    """Snapshots of all four modes, started side by side.

    Container mode joins ``target`` if given, else the bridge-mode container.

    Returns:
        ``{"bridge": …, "host": …, "none": …, "container": …}``.

    Raises:
        BadInput: a target that is missing or not running.
        DockerRefused: the engine refused; what this call started is removed again.
    """
    lab.ensure_open()
    joined = resolve_target(lab, target) if target is not None else None
    started: list[ContainerRef] = []
    none = None
    try:
        with lab.refill_later(), ThreadPoolExecutor(max_workers=3) as pool:
            probe = pool.submit(lab.host_probe)
            none = pool.submit(_start_reading, lab, "none")
            bridge, bridge_read = _start_reading(lab, "bridge")
            started.append(bridge)
            # The bridge container's veth is in place: read the host side (and the host
            # mode's own snapshot, in the same exec) while the container-mode one starts.
            host_read = pool.submit(_read_host, lab, probe.result())
            joined = joined or bridge
            joiner, joiner_read = _start_reading(lab, "container", f"container:{joined.id}",
                                                 joined)
            started.append(joiner)
            none_ref, none_read = none.result()
            host_snapshot, host_ifaces = host_read.result()
            return {
                "bridge": _snapshot(lab, "bridge", bridge, None, host_ifaces, bridge_read),
                "host": _snapshot(lab, "host", probe.result(), None, None, host_snapshot),
                "none": _snapshot(lab, "none", none_ref, None, None, none_read),
                "container": _snapshot(lab, "container", joiner, joined, host_ifaces,
                                       joiner_read),
            }
    except BaseException:
        if none is not None and none.done() and none.exception() is None:
            started.append(none.result()[0])
        _discard(lab, started)
        raise


# -- container mode: what else the joined container shares --------------------------

#: Files Docker hands a container-mode container from its target (the same files, bind-mounted).
SHARED_FILES = ("/etc/hosts", "/etc/resolv.conf", "/etc/hostname")
#: A file of the image itself: each container has its own copy (the control).
OWN_FILE = "/etc/passwd"
_FILE_MARK = "--- course:file "


@dataclass(frozen=True)
class ModeRow:
    """One mode in chapter 03's side-by-side summary, derived from its snapshot.

    Attributes:
        mode: the mode.
        sharing: whose network namespace it is: ``the host's`` (docker0 is in it),
            ``the target's`` (the same namespace as the snapshot of the container it
            joined) or ``its own``.
        netns: the namespace, as ``readlink /proc/self/ns/net`` printed it.
        cabled: a veth pair leads from it to a port of docker0.
        interfaces: the interface names ``ip addr`` listed.
    """

    mode: str
    sharing: str
    netns: str
    cabled: bool
    interfaces: tuple[str, ...]

    def line(self) -> str:
        """The row as one line of text."""
        return (f"{self.mode:<9} namespace: {self.sharing:<12} "
                f"veth to docker0: {'yes' if self.cabled else 'no'}")


def side_by_side(snaps: dict[str, ModeSnapshot]) -> dict[str, ModeRow]:
    """The modes' snapshots compared: whose namespace each one uses, and its cable.

    Similar to running ``readlink /proc/self/ns/net`` and ``ip addr`` in one container
    of each mode and comparing the answers.

    Args:
        snaps: what :func:`run_all_modes` returned.

    Returns:
        One :class:`ModeRow` per mode, in the same order.
    """
    rows = {}
    for mode, snap in snaps.items():
        joined = snap.target_id is not None and any(
            other.container_id == snap.target_id and other.netns == snap.netns
            for other in snaps.values())
        sharing = ("the host's" if "docker0" in snap.names else
                   "the target's" if joined else "its own")
        cabled = snap.host_peer is not None and snap.host_peer.master == "docker0"
        rows[mode] = ModeRow(mode, sharing, snap.netns, cabled, tuple(snap.names))
    return rows


@replayable
@dataclass(frozen=True)
class FileView:
    """One file as a container sees it.

    Attributes:
        path: its path inside the container.
        ident: ``DEVICE:INODE`` (``stat -c %d:%i``): two containers showing the same
            ident see one and the same file.
        text: its contents.
    """

    path: str
    ident: str
    text: str


@replayable
@dataclass(frozen=True)
class ContainerFiles:
    """A container's hostname and the files that container mode may share.

    Attributes:
        container: the container's name.
        hostname: what ``hostname`` prints in it.
        files: one :class:`FileView` per path of :data:`SHARED_FILES`, then :data:`OWN_FILE`.
    """

    container: str
    hostname: str
    files: tuple[FileView, ...]

    def file(self, path: str) -> FileView:
        """The view of ``path``.

        Raises:
            BadInput: the path was not read.
        """
        for view in self.files:
            if view.path == path:
                return view
        raise BadInput(f"{path} was not read: pick one of {', '.join(f.path for f in self.files)}.")


def files_command(paths: tuple[str, ...] = (*SHARED_FILES, OWN_FILE)) -> str:
    """The shell command :func:`container_files` runs: the hostname, then each file's
    identity and contents after a marker line."""
    parts = ["hostname"]
    parts += [f"echo \"{_FILE_MARK}{p} $(stat -c %d:%i {p})\"; cat {p}" for p in paths]
    return "; ".join(parts)


def parse_files(container: str, output: str) -> ContainerFiles:
    """Split :func:`files_command`'s output into a :class:`ContainerFiles`.

    >>> out = "c1\\n--- course:file /etc/hostname 64:12\\nc1\\n"
    >>> parse_files("web", out).file("/etc/hostname").ident
    '64:12'
    """
    hostname, _, rest = output.partition("\n")
    files = []
    for chunk in rest.split(_FILE_MARK)[1:]:
        head, _, text = chunk.partition("\n")
        path, _, ident = head.partition(" ")
        files.append(FileView(path, ident.strip(), text))
    return ContainerFiles(container, hostname.strip(), tuple(files))


@recorded
def container_files(lab: Lab, container: Any) -> ContainerFiles:
    """A container's hostname and its ``/etc/hosts``, ``/etc/resolv.conf``, ``/etc/hostname``
    and ``/etc/passwd``, each with its device and inode.

    Similar to ``docker exec C sh -c 'hostname; stat -c %d:%i /etc/hosts; cat /etc/hosts; …'``.

    Args:
        lab: the session that owns the container.
        container: a running container (reference, name, id or ModeSnapshot).
    """
    ref = target_ref(container)
    name = getattr(container, "container", None) or getattr(container, "name", None) or ref
    return parse_files(name, lab.exec(ref, files_command()))


def same_files(a: ContainerFiles, b: ContainerFiles) -> dict[str, bool]:
    """For each path read in both, True when the two containers see one and the same file
    (same device and inode)."""
    theirs = {f.path: f.ident for f in b.files}
    return {f.path: bool(f.ident) and theirs.get(f.path) == f.ident for f in a.files}


# -- host mode: a server on the host's own address, and what -p becomes -------------

#: Ports tried, in order, for the host-mode web server (the first one free on the host).
HOST_PORTS = tuple(range(18080, 18100))
#: The port mapping asked for with ``-p`` (discarded in host mode: nothing binds it).
ASKED_MAPPING = ("127.0.0.1", 18000, 80)
HOST_PAGE = "hello from host mode"
DISCARDED = "Published ports are discarded when using host network mode"


@replayable
@dataclass(frozen=True)
class HostModeServer:
    """A web server in a host-mode container, started with a ``-p`` that Docker discards.

    Attributes:
        container / container_id: the server's container.
        port: the port the server listens on, on the host's loopback (127.0.0.1).
        warnings: what the engine answered to the create request (``Warnings``).
        netns: the server's network namespace (``readlink /proc/self/ns/net``).
        page: what a GET of ``http://127.0.0.1:PORT/`` from another host-mode container returned.
        cli: the equivalent ``docker`` commands.
    """

    container: str
    container_id: str
    port: int
    warnings: tuple[str, ...]
    netns: str
    page: str
    cli: str


def create_warnings(responses: list[tuple[str, str, dict[str, Any]]], name: str) -> tuple[str, ...]:
    """The ``Warnings`` the engine answered to the create request of container ``name``.

    Args:
        responses: ``(method, path, json)`` of the responses seen (``POST
            /v1.41/containers/create?name=NAME`` among them).
        name: the container's name.

    >>> create_warnings([("POST", "/v1.41/containers/create?name=c1", {"Warnings": ["w"]})], "c1")
    ('w',)
    """
    for method, path, body in responses:
        route, _, query = path.partition("?")
        if method == "POST" and route.endswith("/containers/create") and f"name={name}" in query:
            return tuple(body.get("Warnings") or ())
    return ()


@recorded
def host_mode_server(lab: Lab) -> HostModeServer:
    """Start a web server in a host-mode container that was asked to publish a port.

    Similar to::

        docker run -d --network host -p 127.0.0.1:18000:80 IMAGE sleep 900
        docker exec C sh -c 'echo … > /tmp/www/index.html; httpd -p 127.0.0.1:PORT -h /tmp/www'
        docker exec PROBE wget -qO- http://127.0.0.1:PORT/     # PROBE: another host-mode one

    The container is an ordinary course container (:meth:`Lab.start_container`); the
    engine's answer to its create request is read from the client's response hook
    (``docker run`` prints those warnings as ``WARNING: …``). ``httpd`` without ``-f``
    returns once it listens; a port already in use on the host is skipped for the next
    of :data:`HOST_PORTS`. Only loopback is contacted.

    Args:
        lab: a live session.

    Returns:
        The :class:`HostModeServer`.

    Raises:
        CourseError: every port of :data:`HOST_PORTS` is taken, or the engine refused.
    """
    from .core.errors import CommandFailed

    host_ip, host_port, container_port = ASKED_MAPPING
    seen: list[tuple[str, str, dict[str, Any]]] = []

    def hook(response, *args, **kwargs):
        if response.request.method == "POST" and "/containers/create" in response.request.path_url:
            seen.append(("POST", response.request.path_url, response.json()))

    hooks = lab.client.api.hooks.setdefault("response", [])
    hooks.append(hook)
    try:
        ref = lab.start_container("hostweb", network_mode="host",
                                  ports={f"{container_port}/tcp": (host_ip, host_port)})
    finally:
        hooks.remove(hook)
    cid = ref.id
    for port in HOST_PORTS:
        try:
            lab.exec(cid, f"mkdir -p /tmp/www && echo '{HOST_PAGE}' > /tmp/www/index.html && "
                          f"httpd -p 127.0.0.1:{port} -h /tmp/www")
            break
        except CommandFailed as exc:
            if "in use" not in str(exc):
                raise
    else:
        raise CourseError(f"Ports {HOST_PORTS[0]}-{HOST_PORTS[-1]} are all in use on this "
                          "host: stop what listens there, or run the cell again later.")
    netns = lab.exec(cid, ["readlink", "/proc/self/ns/net"]).strip()
    page = lab.exec(lab.host_probe(), ["wget", "-qO-", f"http://127.0.0.1:{port}/"])
    cli = (f"docker run -d --network host -p {host_ip}:{host_port}:{container_port} IMAGE "
           f"sleep {lab.lifetime} && docker exec NAME httpd -p 127.0.0.1:{port} -h /tmp/www")
    return HostModeServer(ref.name, cid, port, create_warnings(seen, ref.name), netns, page, cli)


@replayable
@dataclass(frozen=True)
class DnatView:
    """The ``nat`` table's ``DOCKER`` chain, read for some ports.

    Attributes:
        readable: True when the rules could be read here (root, on the engine's host).
        reason: when not readable, why.
        chain_found: the chain exists (``-N DOCKER``): the rules were really read.
        rules: the chain's DNAT rules whose ``--dport`` is one of the ports asked about.
    """

    readable: bool
    reason: str = ""
    chain_found: bool = False
    rules: tuple[str, ...] = ()


def dnat_for(docker_chain: str, ports: tuple[int, ...]) -> DnatView:
    """The DNAT rules for ``ports`` in ``iptables -t nat -S DOCKER`` text.

    >>> text = "-N DOCKER\\n-A DOCKER -d 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j DNAT ..."
    >>> dnat_for(text, (8080,)).rules[0].endswith("-j DNAT ...")
    True
    >>> dnat_for(text, (18080,))
    DnatView(readable=True, reason='', chain_found=True, rules=())
    """
    lines = [line.strip() for line in docker_chain.splitlines() if line.strip()]
    wanted = {str(p) for p in ports}
    rules = tuple(line for line in lines if " DNAT" in f" {line.split('-j')[-1]}"
                  and _dport(line) in wanted)
    return DnatView(True, chain_found="-N DOCKER" in lines, rules=rules)


def _dport(rule: str) -> str:
    words = rule.split()
    return next((b for a, b in zip(words, words[1:], strict=False) if a == "--dport"), "")


@recorded
def dnat_rules(lab: Lab, server: HostModeServer) -> DnatView:
    """The DNAT rules for the server's port and for the port ``-p`` asked for.

    Similar to ``sudo iptables -t nat -S DOCKER`` on the engine's host. Only reads.

    Returns:
        The view; ``readable=False`` with the reason when this notebook is not
        root on the engine's host (Docker Desktop, a remote or rootless engine).
    """
    from .core import firewall

    pid, reason = firewall.readable_from(lab, server.container_id, server.container)
    if reason:
        return DnatView(False, reason)
    # The host-mode server runs in the engine host's namespace: read the rules there.
    return dnat_for(firewall.rules("nat", "DOCKER", pid), (server.port, ASKED_MAPPING[1]))
