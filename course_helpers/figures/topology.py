"""Drawings of what the course reads from the engine: namespaces, interfaces, links.

Introduced in chapter 01 (the interface map); chapter 02 adds the bridge with its
veth pairs, chapter 03 the topology of each network mode and their comparison,
chapter 05 the reachability matrix. Every function draws only the data it is
given (no address or name is built in), returns the matplotlib ``Figure`` and
never calls ``plt.show()``: the notebook cell does.

Colours come from the Okabe-Ito palette, which colour-blind readers can tell
apart, and each colour comes with a hatch pattern, a line style or a written
label, so nothing relies on colour alone. Layouts are computed in inches (one
data unit is one inch at full size), so text keeps its size whatever is drawn.
"""

from __future__ import annotations

import math
import re

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..core.errors import BadInput
from ..ipaddr import Interface
from ..modes import MODES, ModeSnapshot
from . import stamp
from .scene import (
    BADGE_H,
    FONT,
    GAP,
    KIND_STYLE,
    LINE,
    LINK_GAP,
    NODE_W,
    NS_TITLE,
    PAD,
    SMALL,
    Node,
    Scene,
    add_badge,
    add_grid,
    add_legend,
    add_link,
    add_namespace,
    add_text,
    add_title,
    columns_for,
    ellipsize,
    finish,
    grid_width,
    iface_node,
    new_figure,
    place_node,
    placeholder,
    render,
    text_width,
)

#: How much larger than full size the course's figures are drawn: their smallest
#: text (SMALL points; the Docker tag, 0.9 x SMALL, in the host map) is then at
#: least 10 px high at matplotlib's 100 dpi, the notebook's resolution.
MAP_SCALE = 1.25
#: The widest a figure is (inches; 900 px at 100 dpi, less than a notebook's output
#: area in a 1400 px window), so a notebook never shows it scaled down.
MAP_MAX_W = 9.0
#: Host mode draws at most this many of the host's interfaces one by one (a 3 x 3
#: grid); past it, one box counts the rest.
HOST_MODE_MOST = 9
#: The same in :func:`compare_modes`, whose panels are one interface wide.
COMPARE_MOST = 5


def _topology_scene(snap: ModeSnapshot, legend: bool = True, cols: int = 3,
                    most: int = HOST_MODE_MOST, name_limit: int = 28) -> Scene:
    """One mode's scene: grids at most ``cols`` wide; host mode draws at most ``most``
    interfaces and its badge shortens the container's name to ``name_limit``."""
    sc = Scene()
    ifaces = list(snap.interfaces)
    if snap.mode == "host":
        _host_mode(sc, snap, ifaces, cols, most, name_limit)
    else:
        _isolated_mode(sc, snap, ifaces, cols)
    width = sc.w
    add_title(sc, f"{snap.mode} mode", snap.cli, width, mono=True)
    if legend:
        add_legend(sc, sc.y1 + 0.2, width)
    return sc


def _host_first(iface: Interface) -> int:
    """Which of the host's interfaces host mode draws first: lo, addressed NICs, docker0."""
    if iface.kind == "loopback":
        return 0
    if iface.kind == "nic":
        return 1 if iface.ipv4 else 3
    return 2 if iface.name == "docker0" else 4 if iface.kind == "bridge" else 5


def _host_mode(sc: Scene, snap: ModeSnapshot, ifaces: list[Interface], most_cols: int,
               most: int, name_limit: int) -> None:
    rest: list[Interface] = []
    if len(ifaces) > most:  # a busy host: the first few drawn, one box counts the rest
        keep = sorted(ifaces, key=_host_first)[:most - 1]
        rest = [i for i in ifaces if i not in keep]
        ifaces = [i for i in ifaces if i in keep]
    nodes = [iface_node(i, f"iface:host:{i.name}") for i in ifaces]
    if rest:
        kinds = {i.kind for i in rest}
        nodes.append(_count_node("host", kinds.pop() if len(kinds) == 1 else None, rest,
                                 ("more interface", "more interfaces"), set()))
    cols = min(columns_for(len(nodes), most_cols), most_cols)
    width = max(grid_width(len(nodes), cols), 3.2) + 2 * PAD
    badge = f"container {ellipsize(snap.container, name_limit)}: no namespace of its own"
    width = max(width, text_width(badge) + 0.4)
    where, grid_h = add_grid(sc, nodes, cols, PAD, NS_TITLE + BADGE_H + GAP)
    add_badge(sc, PAD, NS_TITLE, width - 2 * PAD, badge, f"container:{snap.container}")
    add_namespace(sc, (0, 0, width, NS_TITLE + BADGE_H + GAP + grid_h + PAD),
        f"host network namespace · {snap.netns}", "host", "netns:host")
    names = {i.name for i in ifaces}
    pairs = [(where[f"iface:host:{i.name}"], where[f"iface:host:{i.master}"])
             for i in ifaces if i.master in names]
    if len(pairs) > 3:  # a busy host: the "master X" line of each node says it
        return
    for a, b in pairs:
        if abs(a[1] - b[1]) < 0.01:  # same row: side by side, or an arc over the top
            left, right = (a, b) if a[0] < b[0] else (b, a)
            if right[0] - left[0] - left[2] < GAP + 0.01:
                mid = left[1] + min(left[3], right[3]) / 2
                add_link(sc, (left[0] + left[2], mid), (right[0], mid), "master")
            else:
                span = right[0] - left[0]
                add_link(sc, (left[0] + left[2] / 2, left[1]), (right[0] + right[2] / 2, right[1]),
                      "master", arc=-min(0.25, 0.17 / span))
        elif abs(a[1] - b[1]) < max(a[3], b[3]) + GAP + 0.01:  # adjacent rows
            low, high = (a, b) if a[1] > b[1] else (b, a)
            add_link(sc, (low[0] + low[2] / 2, low[1]), (high[0] + high[2] / 2, high[1] + high[3]),
                  "master")


def _isolated_mode(sc: Scene, snap: ModeSnapshot, ifaces: list[Interface],
                   most_cols: int) -> None:
    """bridge, none and container modes: the host namespace above the container's."""
    cols = min(columns_for(len(ifaces), most_cols), most_cols)
    if len(ifaces) > cols:  # keep veth-paired interfaces in the first row
        ifaces = sorted(ifaces, key=lambda i: i.peer_index is None)
    paired = [i for i in ifaces if i.peer_index is not None]
    badges = ([("target", snap.target), ("joined by", snap.container)] if snap.target
              else [("container", snap.container)])
    badges = [(f"{r} {ellipsize(n or '', 28)}", n) for r, n in badges]
    badge_w = max(text_width(text) + 0.3 for text, _ in badges)
    peers = [snap.host_peer if snap.host_peer is not None
             and snap.host_peer.index == i.peer_index else None for i in paired]
    bridge = snap.bridge
    note = "" if paired else "no veth pair: nothing links\nthis namespace to the host"
    width = max(grid_width(len(ifaces), cols), badge_w, text_width(snap.netns) + 2.4,
                NODE_W, 3.2) + 2 * PAD
    # the host namespace, from y=0
    y = NS_TITLE
    bridge_at = None
    if bridge is not None:
        bridge_at, y = y, y + iface_node(bridge, "").h + 0.45
    peer_y = y
    peer_nodes = [iface_node(p, f"iface:host:{p.name}") if p is not None else
                  placeholder(i.peer_index or 0, "host", f"iface:host:if{i.peer_index}")
                  for p, i in zip(peers, paired, strict=True)]
    peer_h = max((n.h for n in peer_nodes), default=0.0)
    host_h = (y + peer_h if peer_nodes else y + 2 * LINE) + PAD
    if note:
        add_text(sc, PAD, NS_TITLE, note, SMALL, gid="note")
    add_namespace(sc, (0, 0, width, host_h), "host network namespace", "host", "netns:host")
    # the container's namespace, below
    top = host_h + LINK_GAP
    shared = snap.mode == "container"
    title = f"{'shared' if shared else 'container'} network namespace · {snap.netns}"
    # the interfaces first, the containers' badges below them: the veth link from
    # the top row up to the host crosses no text
    nodes = [iface_node(i, f"iface:netns:{i.name}") for i in ifaces]
    where, grid_h = add_grid(sc, nodes, cols, PAD, top + NS_TITLE)
    foot = top + NS_TITLE + grid_h + GAP
    for k, (text, name) in enumerate(badges):
        add_badge(sc, PAD, foot + k * (BADGE_H + 0.08), badge_w, text, f"container:{name}")
    feet = len(badges) * (BADGE_H + 0.08) - 0.08
    add_namespace(sc, (0, top, width, foot - top + feet + PAD), title,
        "container", f"netns:{'shared' if shared else 'container'}")
    # host-side ends above their container-side ends, the bridge above them
    xs = [where[f"iface:netns:{i.name}"][0] for i in paired]
    if len(set(xs)) < len(xs):
        xs = [PAD + k * (NODE_W + GAP) for k in range(len(xs))]
    for node, iface, x in zip(peer_nodes, paired, xs, strict=True):
        place_node(sc, node, x, peer_y, peer_h)
        cx, cy, cw, _ = where[f"iface:netns:{iface.name}"]
        other = (f"{node.name.split('@')[0]}@if{iface.index}" if node.kind
                 else f"host ifindex {iface.peer_index}")
        add_link(sc, (cx + cw / 2, cy), (x + NODE_W / 2, peer_y + peer_h), "veth",
              f"{iface.name}@if{iface.peer_index} ↔ {other}", gid=f"veth-link:{iface.name}",
              at=(cx + cw / 2, host_h + LINK_GAP / 2))
    if bridge is not None and bridge_at is not None:
        centre = sum(xs) / len(xs) + NODE_W / 2 if xs else width / 2
        bxl = min(max(centre - NODE_W / 2, PAD), width - PAD - NODE_W)
        bnode = iface_node(bridge, f"iface:host:{bridge.name}")
        place_node(sc, bnode, bxl, bridge_at)
        for x, p in zip(xs, peers, strict=True):
            if p is not None and p.master == bridge.name:
                add_link(sc, (x + NODE_W / 2, peer_y), (bxl + NODE_W / 2, bridge_at + bnode.h),
                      "master", "master")


def _sized(sc: Scene, name: str) -> Figure:
    """A figure for the scene drawn MAP_SCALE times full size, at most MAP_MAX_W wide."""
    w, h = sc.w + 0.2, sc.h + 0.2
    s = min(MAP_SCALE, MAP_MAX_W / w)
    fig = new_figure(name, (w * s, h * s))
    render(sc, fig.add_axes((0, 0, 1, 1)), most=s)
    stamp(fig)  # in replay, "recorded on Docker Engine X (DATE)" above the drawing
    return fig


def draw_topology(snapshot: ModeSnapshot, ax: Axes | None = None) -> Figure:
    """Draw one mode's topology: namespaces, interfaces, the veth pair and the bridge.

    Introduced in chapter 03 (网络模式, network modes). A picture of what
    ``docker run --network MODE IMAGE ip addr`` showed: the host namespace, the
    container's own namespace (bridge, none), one namespace shared by the target
    and the joining container (container mode), or the container drawn inside
    the host's namespace (host mode). A veth pair is a link across the namespace
    boundary labelled with its ifindex pairing (``eth0@ifN ↔ vethX@ifM``). In host
    mode a busy host's interfaces past nine are counted in one box. The figure is
    drawn 1.25 times full size and at most 9 inches wide, so no text is smaller
    than 10 pixels at 100 dpi.

    Args:
        snapshot: what :meth:`Lab.run_in_mode` returned.
        ax: axes to draw on (as :func:`compare_modes` does); a new figure by default.

    Returns:
        The figure (not shown: end the cell with ``plt.show()``).
    """
    sc = _topology_scene(snapshot)
    name = f"{snapshot.mode} mode topology"
    return _sized(sc, name) if ax is None else finish(sc, name, ax)


# -- chapter 03: the four modes side by side -----------------------------------
def mode_facts(snapshots: dict[str, ModeSnapshot]) -> list[dict[str, str]]:
    """One row of facts per mode: own network namespace? own IP? how many interfaces?

    Introduced in chapter 03. Read from the snapshots: a container shares the
    host's namespace in host mode and its target's in container mode.

    Returns:
        Rows with the keys ``mode``, ``own netns``, ``own IP`` and ``interfaces``.
    """
    by_name = {s.container: s for s in snapshots.values()}
    rows = []
    for snap in _ordered(snapshots):
        target = by_name.get(snap.target or "")
        if snap.mode == "host":
            netns, own = "no: the host's", False
        elif snap.target:
            same = " (same inode)" if target is not None and target.netns == snap.netns else ""
            netns, own = f"no: {ellipsize(snap.target, 22)}'s{same}", False
        else:
            netns, own = "yes", True
        v4 = snap.ipv4
        more = f" +{len(v4) - 1}" if len(v4) > 1 else ""
        if not v4:
            ip = "no IP: only lo" if all(i.kind == "loopback" for i in snap.interfaces) else "no"
        elif own:
            ip = f"yes: {v4[0]}{more}"
        else:
            ip = f"no: uses {v4[0]}{more}"
        rows.append({"mode": snap.mode, "own netns": netns, "own IP": ip,
                     "interfaces": str(len(snap.interfaces))})
    return rows


def _ordered(snapshots: dict[str, ModeSnapshot]) -> list[ModeSnapshot]:
    order = {m: k for k, m in enumerate(MODES)}
    return [snapshots[k] for k in sorted(snapshots, key=lambda k: (order.get(k, 99), k))]


def compare_modes(snapshots: dict[str, ModeSnapshot]) -> Figure:
    """The modes side by side (two per row), with a row of facts per mode below.

    Introduced in chapter 03 (网络模式). Each panel is :func:`draw_topology` of
    one snapshot, narrowed to one interface per row (host mode: five at most, the
    last a box counting the rest), so two panels side by side fit 9 inches with no text
    under 10 pixels at 100 dpi; the table says, per mode, whether the container
    has its own network namespace and its own IP, and how many interfaces it sees.

    Args:
        snapshots: ``{mode: snapshot}``, e.g. what :meth:`Lab.run_all_modes` returned.

    Returns:
        The figure.

    Raises:
        BadInput: no snapshots were given.
    """
    snaps = _ordered(snapshots)
    if not snaps:
        raise BadInput("compare_modes needs at least one snapshot: pass lab.run_all_modes().")
    scenes = [_topology_scene(s, legend=False, cols=1, most=COMPARE_MOST, name_limit=20)
              for s in snaps]
    legend = Scene()
    for sc in scenes:
        legend.kinds |= sc.kinds
        legend.links |= sc.links
    ncols = min(2, len(scenes))
    nrows = math.ceil(len(scenes) / ncols)
    col_w = [max(sc.w for sc in scenes[c::ncols]) + 0.2 for c in range(ncols)]
    row_h = [max(sc.h for sc in scenes[r * ncols:(r + 1) * ncols]) + 0.3 for r in range(nrows)]
    add_legend(legend, 0, sum(col_w))
    table_h = 0.24 * (len(snaps) + 1) + 0.2
    heights = [*row_h, legend.h + 0.2, table_h]
    k = min(MAP_SCALE, MAP_MAX_W / sum(col_w))
    fig = new_figure("network modes compared", (sum(col_w) * k, sum(heights) * k))
    grid = fig.add_gridspec(nrows + 2, ncols, width_ratios=col_w, height_ratios=heights,
                            hspace=0, wspace=0, left=0, right=1, top=1, bottom=0)
    for n, sc in enumerate(scenes):
        render(sc, fig.add_subplot(grid[n // ncols, n % ncols]), margin=0.1, most=k)
    render(legend, fig.add_subplot(grid[nrows, :]), most=k)
    facts = mode_facts(snapshots)
    tax = fig.add_subplot(grid[nrows + 1, :])
    tax.set_axis_off()
    columns = list(facts[0])
    table = tax.table(cellText=[[r[c] for c in columns] for r in facts], colLabels=columns,
                      loc="upper center", cellLoc="left", colLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(FONT * k)
    table.auto_set_column_width(list(range(len(columns))))
    table.set_gid("facts")
    stamp(fig)  # in replay, "recorded on Docker Engine X (DATE)" above the drawing
    return fig


# -- chapter 01: the host's interfaces by kind ---------------------------------
#: A group draws at most this many interfaces one by one; past it, one box counts the rest.
FEW = 3
#: At most this many bridges are drawn one by one (more when the course's veths need them).
MAP_BRIDGES = 4
_ROW1 = ("loopback", "nic", "virtual")  # kinds Docker does not make, above its bridges
VETH_ENDS = ("veth end", "veth ends")


def _guess_docker_made(interfaces: list[Interface]) -> set[str]:
    """Docker's naming: bridges ``docker*`` and ``br-<12 hex>``, and the veths attached to them."""
    bridges = {i.name for i in interfaces if i.kind == "bridge"
               and (i.name.startswith("docker") or re.fullmatch(r"br-[0-9a-f]{12}", i.name))}
    return bridges | {i.name for i in interfaces if i.kind == "veth" and i.master in bridges}


def _names(members: list[Interface]) -> str:
    more = f" +{len(members) - 2}" if len(members) > 2 else ""
    return ", ".join(ellipsize(i.name, 15) for i in members[:2]) + more


def _count_node(key: str, kind: str, members: list[Interface], what: tuple[str, str],
                docker: set[str], note: str = "", names: bool = True) -> Node:
    """One box standing for ``members``: how many, what they are, how many Docker made.

    ``what`` is the noun for one and for several (``("veth end", "veth ends")``).
    """
    n = len(members)
    made = [i for i in members if i.name in docker]
    details = [note] if note else []
    if names or not made:  # names say little when all are Docker's (veth1a2b3c4 …)
        details.append(_names(members))
    if made and len(made) < n:
        details += [f"{len(made)} made by Docker",
                    f"others: {_names([i for i in members if i not in made])}"]
    return Node(f"{n} {what[n != 1]}", [ellipsize(d, 27) for d in details], kind,
                f"summary:{key}", len(made) == n)


def _column(members: list[Interface], first: set[str], key: str,
            docker: set[str]) -> tuple[list[Interface], Node | None]:
    """The interfaces drawn one by one (``first`` before others) and a box counting the rest."""
    if len(members) <= FEW:
        return members, None
    ordered = sorted(members, key=lambda i: i.name not in first)
    keep = [i for k, i in enumerate(ordered) if k < FEW - 1 or i.name in first]
    rest = [i for i in members if i not in keep]
    return keep, _count_node(key, rest[0].kind, rest, ("more", "more"), docker)


def _stack(sc: Scene, nodes: list[Node], x: float, y: float) -> float:
    """Nodes one below the other from ``y``; return the y below the last."""
    for node in nodes:
        place_node(sc, node, x, y)
        y += node.h + 0.15
    return y - 0.15 if nodes else y


def _iface_nodes(members: list[Interface], docker: set[str],
                 course_veths: dict[str, str]) -> list[Node]:
    nodes = []
    for i in members:
        node = iface_node(i, f"iface:{i.name}", i.name in docker)
        if i.name in course_veths:
            node.details.append(ellipsize(f"cable of {course_veths[i.name]}", 26))
        nodes.append(node)
    return nodes


def _kinds_row(sc: Scene, interfaces: list[Interface], docker: set[str],
               course_veths: dict[str, str]) -> float:
    """Loopback, NICs and other virtual interfaces, a column each; return the row's height."""
    first = {i.name for i in interfaces if i.kind == "loopback" or (i.kind == "nic" and i.ipv4)}
    x, bottom = 0.0, 0.0
    for kind in _ROW1:
        members = [i for i in interfaces if i.kind == kind]
        if not members:
            continue
        caption = KIND_STYLE[kind][2]
        drawn, rest = _column(members, first | set(course_veths), kind, docker)
        nodes = _iface_nodes(drawn, docker, course_veths) + ([rest] if rest else [])
        h = _stack(sc, nodes, x + PAD, NS_TITLE) + PAD
        add_namespace(sc, (x, 0, NODE_W + 2 * PAD, h), f"{caption} ({len(members)})", "host",
                      f"group:{kind}")
        x, bottom = x + NODE_W + 2 * PAD + GAP, max(bottom, h)
    return bottom


def _bridge_row(sc: Scene, interfaces: list[Interface], docker: set[str],
                course_veths: dict[str, str], top: float) -> None:
    """Bridges on the left, the veths plugged into each on its right, counted past a few."""
    bridges = [i for i in interfaces if i.kind == "bridge"]
    veths = [i for i in interfaces if i.kind == "veth"]
    on = {b.name: [v for v in veths if v.master == b.name] for b in bridges}
    ours = {b.name for b in bridges if any(v.name in course_veths for v in on[b.name])}
    ordered = sorted(bridges, key=lambda b: (b.name != "docker0", b.name not in ours,
                                             b.name not in docker))
    room = MAP_BRIDGES if len(ordered) <= MAP_BRIDGES else MAP_BRIDGES - 1
    drawn = [b for k, b in enumerate(ordered) if k < room or b.name in ours]
    busy = len(veths) > 2 * FEW  # then only the course's veths are drawn one by one
    blocks: list[tuple[Node | None, list[Node], list[str]]] = []

    def block(bnode: Node | None, members: list[Interface], key: str, note: str) -> None:
        keep_all = len(members) <= FEW and not busy
        mine = [v for v in members if keep_all or v.name in course_veths]
        others = [v for v in members if v not in mine]
        nodes, keys = _iface_nodes(mine, docker, course_veths), [v.name for v in mine]
        if others:
            nodes.append(_count_node(f"veth:{key}", "veth", others, VETH_ENDS, docker, note,
                                     names=False))
            keys.append(f"summary:{key}")
        blocks.append((bnode, nodes, keys))

    for b in drawn:
        block(iface_node(b, f"iface:{b.name}", b.name in docker), on[b.name], b.name,
              "other containers' cables" if b.name in docker else "other programs' cables")
    hidden = [b for b in bridges if b not in drawn]
    if hidden:
        block(_count_node("bridge", "bridge", hidden, ("more bridge", "more bridges"), docker,
                          names=False), [v for b in hidden for v in on[b.name]], "more",
              "on the bridges counted left")
    loose = [v for v in veths if v.master not in on]
    if loose:
        block(None, loose, "loose", "on no bridge")
    link_gap = 0.7
    bx = 0.0
    vx = (NODE_W + 2 * PAD + link_gap) if bridges else 0.0
    y, links = top + NS_TITLE, []
    for bnode, nodes, keys in blocks:
        block_h = max(bnode.h if bnode else 0.0,
                      sum(n.h for n in nodes) + 0.15 * max(len(nodes) - 1, 0))
        vy = y + (block_h - (sum(n.h for n in nodes) + 0.15 * max(len(nodes) - 1, 0))) / 2
        for node, key in zip(nodes, keys, strict=True):
            place_node(sc, node, vx + PAD, vy)
            links.append((bnode, y + block_h / 2, vy + node.h / 2, key))
            vy += node.h + 0.15
        if bnode is not None:
            place_node(sc, bnode, bx + PAD, y + (block_h - bnode.h) / 2)
        y += block_h + GAP + 0.1
    height = y - (GAP + 0.1) - top + PAD
    if bridges:
        add_namespace(sc, (bx, top, NODE_W + 2 * PAD, height),
                      f"{KIND_STYLE['bridge'][2]} ({len(bridges)})", "host", "group:bridge")
    if veths:
        add_namespace(sc, (vx, top, NODE_W + 2 * PAD, height),
                      f"{KIND_STYLE['veth'][2]} ({len(veths)})", "host", "group:veth")
    drawn_links = [link for link in links if link[0] is not None]  # a bridge on the left
    for _, by, vy, key in drawn_links:
        add_link(sc, (bx + PAD + NODE_W, by), (vx + PAD, vy), "master",
                 "master" if len(drawn_links) <= 3 else "", gid=f"master-link:{key}")


def interface_map(interfaces: list[Interface], made_by_docker: set[str] | None = None,
                  title: str = "The host's interfaces",
                  course_veths: dict[str, str] | None = None) -> Figure:
    """The interfaces of one namespace grouped by kind, with the Docker-made ones marked.

    Introduced in chapter 01 (docker 不启动，默认网络情况: the default network).
    Similar to ``ip addr`` drawn as a map: loopback, NICs and other virtual
    interfaces in a row of columns; below, each bridge with the veths whose
    ``master`` it is (as ``ip link show master BRIDGE`` lists them), joined by
    dashed lines. On a busy host a box counts what is not drawn one by one: past
    a few veths on a bridge ("12 veth ends"), past a few interfaces of a kind,
    past four bridges. The course's own veths are always drawn. The figure is
    at most 9 inches wide, drawn 1.25 times full size, so no text is smaller
    than 10 pixels at 100 dpi.

    Args:
        interfaces: e.g. :meth:`Lab.host_interfaces` or :func:`parse_ip_addr` output.
        made_by_docker: names to mark "Docker"; by default guessed from Docker's
            naming (``docker0``, ``br-<id>`` and the veths attached to them).
        title: the figure's title.
        course_veths: ``{host end of a veth: the container it connects}`` for the
            course's own containers: drawn one by one whatever the host's size.

    Returns:
        The figure.
    """
    docker = _guess_docker_made(interfaces) if made_by_docker is None else set(made_by_docker)
    course_veths = dict(course_veths or {})
    sc = Scene()
    row1 = _kinds_row(sc, interfaces, docker, course_veths)
    if any(i.kind in ("bridge", "veth") for i in interfaces):
        _bridge_row(sc, interfaces, docker, course_veths, row1 + GAP if row1 else 0.0)
    if not interfaces:
        add_text(sc, 0, 0, "no interfaces", gid="note")
    absent = [KIND_STYLE[k][2] for k in KIND_STYLE if not any(i.kind == k for i in interfaces)]
    made = sum(i.name in docker for i in interfaces)
    counted = len(interfaces) - sum(1 for kind, item in sc.items if kind == "node"
                                    and item["node"].gid.startswith("iface:"))
    foot = "; ".join(filter(None, [
        f"Docker made {made} of these {len(interfaces)} interfaces" if made else "",
        f"{counted} are counted in boxes, not drawn one by one" if counted else "",
        ""]))
    foot = f"{foot[:1].upper()}{foot[1:]}." if foot else ""
    if absent:
        foot = f"{foot} This host has no {' or '.join(absent)} interfaces.".strip()
    add_title(sc, title, foot, sc.w)
    add_legend(sc, sc.y1 + 0.2, sc.w)
    return _sized(sc, "interface map")


# -- chapter 02: one bridge and its veth pairs ---------------------------------
def bridge_with_veths(bridge: Interface, host_interfaces: list[Interface],
                      containers: dict[str, Interface] | None = None) -> Figure:
    """A bridge with every veth attached to it and, if given, each container's end.

    Introduced in chapter 02 (docker0). The host side as ``ip addr`` shows it
    (``vethX@ifM master docker0``) next to the container side (``eth0@ifN``),
    matched by ifindex: the container's eth0 has ``peer_index`` equal to the
    veth's index. Similar to ``docker network inspect bridge`` drawn from both ends.
    Drawn 1.25 times full size and at most 9 inches wide, so no text is smaller
    than 10 pixels at 100 dpi.

    Args:
        bridge: the bridge interface (e.g. ``docker0``).
        host_interfaces: the host's interfaces; the veths whose ``master`` is the bridge are drawn.
        containers: ``{container name: its eth0}`` to match to the veths.

    Returns:
        The figure.
    """
    containers = containers or {}
    veths = [i for i in host_interfaces if i.master == bridge.name]
    by_peer = {eth.peer_index: name for name, eth in containers.items()}
    others = [v for v in veths if v.index not in by_peer]
    if len(veths) <= FEW or len(others) < 2:
        others = []  # few enough: every pair drawn
    rows: list[tuple[str, Node, Node, str, str]] = []  # key, host end, other end, title, label
    for v in veths:
        if v in others:
            continue
        name = by_peer.get(v.index)
        side = (f"{containers[name].name}@if{v.index}" if name
                else f"container ifindex {v.peer_index}")
        rows.append((v.name, iface_node(v, f"iface:host:{v.name}"),
                     iface_node(containers[name], f"iface:{name}") if name
                     else placeholder(v.peer_index or 0, "container", f"iface:?{v.index}"),
                     f"container {ellipsize(name, 24)}" if name
                     else "another program's container",
                     f"{side}\n↔ {v.name}@if{v.peer_index}"))
    if others:
        n = len(others)
        rows.append(("summary", _count_node("veth:others", "veth", others, VETH_ENDS, set(),
                                            f"master {bridge.name}", names=False),
                     Node(f"{n} eth0 ends", ["not read here"], None, "iface:?others"),
                     f"{n} other programs' containers", f"{n} veth pairs"))
    sc = Scene()
    rows_y, y = [], 0.12
    for _, vn, cn, _, _ in rows:
        rows_y.append(y)
        y += max(vn.h + NS_TITLE + (cn.h - vn.h) / 2, cn.h + NS_TITLE + PAD) + GAP
    host_h = max(y - GAP, NS_TITLE + 0.8) + PAD
    bnode = iface_node(bridge, f"iface:host:{bridge.name}")
    bridge_y = max((host_h - bnode.h) / 2, NS_TITLE)
    place_node(sc, bnode, PAD, bridge_y)
    vx = PAD + NODE_W + 0.5
    host_w = vx + NODE_W + PAD
    # room between the host and the containers for the widest veth label (two lines)
    label_w = max((text_width(line, SMALL, mono=True) for *_, label in rows
                   for line in label.splitlines()), default=0.0)
    if not veths:
        add_text(sc, vx, NS_TITLE + 0.1, f"no veth attached to {bridge.name}:\n"
              "start a container on this network", SMALL, gid="note")
        host_w = vx + 2.2
    add_namespace(sc, (0, 0, host_w, host_h), "host network namespace", "host", "netns:host")
    cx = host_w + max(label_w + 0.35, 1.2)
    for (key, vn, cn, title, label), ry in zip(rows, rows_y, strict=True):
        mid = ry + NS_TITLE + cn.h / 2
        place_node(sc, vn, vx, mid - vn.h / 2)
        add_link(sc, (vx, mid), (PAD + NODE_W, bridge_y + bnode.h / 2), "master",
              "master" if len(rows) <= 3 else "", gid=f"master-link:{key}")
        box_h = cn.h + NS_TITLE + PAD
        add_namespace(sc, (cx - PAD, ry, NODE_W + 2 * PAD, box_h), title, "container",
            f"netns:{cn.gid.removeprefix('iface:')}")
        place_node(sc, cn, cx, ry + NS_TITLE)
        add_link(sc, (vx + NODE_W, mid), (cx, mid), "veth", label, gid=f"veth-link:{key}")
    unmatched = sorted(set(containers) - {by_peer[v.index] for v in veths if v.index in by_peer})
    foot = ("not on this bridge: " + ", ".join(ellipsize(n, 26) for n in unmatched)
            if unmatched else "")
    add_title(sc, f"{bridge.name} and its {len(veths)} veth pair{'s' * (len(veths) != 1)}", foot,
           sc.w)
    add_legend(sc, sc.y1 + 0.2, sc.w)
    return _sized(sc, "bridge with its veth pairs")
