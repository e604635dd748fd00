"""Draw the architecture: the source's pre-2016 figure above the stack read from this engine.

Introduced in chapter 04 (Docker平台架构图解). The "now" panel is built only
from live data (:class:`~course_helpers.architecture.EngineStack`, a
:class:`~course_helpers.architecture.ProcessChain` and a
:class:`~course_helpers.apitrace.RunTrace`); the "then" panel is the source's
own figure, labelled as history. As in the other chapters' drawings, every
role has an Okabe-Ito colour (safe for colour-blind readers) *and* a hatch
pattern, and every box says in words what it is, so nothing relies on colour.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Patch, Rectangle

from ..apitrace import RunTrace
from ..architecture import EngineStack, ProcessChain, shim_binary_for
from . import stamp
from .scene import SizedFigure, show_uncropped

#: Okabe-Ito colour and hatch of each role of a box.
STYLE = {
    "client": ("#E69F00", ".."),     # orange
    "daemon": ("#56B4E9", "//"),     # sky blue
    "driver": ("#F0E442", "\\\\"),   # yellow
    "runtime": ("#009E73", "xx"),    # bluish green
    "kernel": ("#CC79A7", "--"),     # reddish purple
    "registry": ("#0072B2", "++"),   # blue
    "history": ("#999999", "oo"),    # grey: no longer exists
}
#: Kept for callers that only want the colours.
COLOURS = {role: colour for role, (colour, _) in STYLE.items()}
_LEGEND = {"client": "client", "daemon": "daemon and its API", "driver": "drivers (in dockerd)",
           "runtime": "container runtime", "kernel": "Linux kernel",
           "registry": "registry (not contacted)", "history": "HISTORY: replaced or gone"}
#: The figure's width (inches): 900 px at 100 dpi, what a notebook column shows unscaled.
FIG_W = 9.0
#: The x range of each panel (the boxes' x and width are in these units; 0.5 units = FIG_W).
_THEN_X, _NOW_X = (-0.01, 0.49), (0.5, 1.0)
_ROW = 0.86      # vertical distance between rows (inches)
_HALF = 0.33     # half the height of a box (inches)
_STRIPE = 0.015  # width of the hatched stripe on a box's left (x units)
_HEAD = 0.5      # a panel's heading strip (inches)
_LEGEND_H = 0.8  # the legend's strip at the bottom (inches)
#: Font sizes (points): 1.25 times the first drawing's, none under 7.5 pt (10.4 px).
_PT = {"heading": 13.5, "title": 11.5, "title_small": 10, "detail": 9.25,
       "detail_small": 8, "history": 7.5, "edge": 8.75, "legend": 9.5}

@dataclass(frozen=True)
class Box:
    """One box of the drawing.

    Attributes:
        key: a name edges refer to.
        title / detail: its two lines of text (the detail may wrap).
        role: its colour and hatch (a key of :data:`STYLE`).
        row / x: where it sits (row 0 at the top; x in its panel's units: the source's
            panel runs from -0.01 to 0.49, this engine's from 0.5 to 1, each 9 in wide).
        width: how wide it is (same units).
        span: how many rows it covers (a box that holds others).
        dashed: drawn with a dashed outline (a part the course never contacts).
    """

    key: str
    title: str
    detail: str
    role: str
    row: int
    x: float
    width: float = 0.3
    span: int = 1
    dashed: bool = False


#: The source's figure (its sixth screenshot): DATA FROM THE SOURCE, the design before 2016.
SOURCE_ARCHITECTURE: tuple[Box, ...] = (
    Box("client", "Docker Client", "sends requests to the daemon", "client", 0, 0.24),
    Box("server", "Docker Server", "router + handlers in the daemon", "daemon", 1, 0.24),
    Box("engine", "Engine", "every task ran as a Job", "history", 2, 0.24),
    Box("graph", "Graph + GraphDriver", "image storage", "history", 3, 0.08, 0.145),
    Box("network", "NetworkDriver", "container networks", "history", 3, 0.24, 0.145),
    Box("exec", "ExecDriver", "runs, limits containers", "history", 3, 0.40, 0.145),
    Box("registry", "Docker Registry", "images are pulled from it", "registry", 4, 0.08, 0.145),
    Box("libcontainer", "libcontainer", "acts on the kernel for both", "history", 4, 0.32, 0.2),
    Box("kernel", "Linux kernel", "namespaces + cgroups", "kernel", 5, 0.24),
)
#: The source's arrows: (from, to, label).
SOURCE_EDGES: tuple[tuple[str, str, str], ...] = (
    ("client", "server", ""), ("server", "engine", "Job"), ("engine", "graph", ""),
    ("engine", "network", ""), ("engine", "exec", ""), ("graph", "registry", "pull"),
    ("network", "libcontainer", ""), ("exec", "libcontainer", ""),
    ("libcontainer", "kernel", ""),
)
#: Today's arrows: (from, to, label). The storage and network drivers sit inside dockerd.
LIVE_EDGES: tuple[tuple[str, str, str], ...] = (
    ("client", "api", "HTTP"), ("api", "dockerd", ""), ("dockerd", "containerd", "gRPC"),
    ("containerd", "shim", "ttrpc"), ("shim", "runc", "exec"), ("runc", "kernel", "syscalls"),
    ("dockerd", "registry", "pull"),
)


def containerd_detail(stack: EngineStack, chain: ProcessChain | None = None) -> str:
    """What containerd does on this engine, from ``docker info`` (and the shim's namespace)."""
    space = (f", namespace '{chain.containerd_namespace}'"
             if chain is not None and chain.visible and chain.containerd_namespace else "")
    if stack.containerd_snapshotter:
        return f"runs the containers (tasks{space})\nand keeps the images (snapshotter)"
    return f"runs the containers (tasks{space});\nimages stay with dockerd"


def live_boxes(stack: EngineStack, chain: ProcessChain | None = None,
               trace: RunTrace | None = None) -> list[Box]:
    """Today's architecture, with the names and versions this engine reports.

    Args:
        stack: :func:`~course_helpers.architecture.engine_stack`.
        chain: :func:`~course_helpers.architecture.process_chain` (the shim's real name).
        trace: :func:`~course_helpers.apitrace.trace_docker_run` (the client's name, the
            number of requests).
    """
    client = trace.client_agent if trace and trace.client_agent else "docker CLI"
    if trace and trace.cli_path:
        client = f"{client}, {trace.cli_path}"
    requests = f"{len(trace.calls)} requests for one docker run" if trace else "HTTP + JSON"
    if chain is not None and chain.visible and chain.parent:
        shim, shim_note = chain.parent, "parent of the container's process"
    else:
        v2 = [r for r in stack.runtimes if r.startswith("io.containerd.runc")]
        shim = shim_binary_for(v2[0]) if v2 else "containerd-shim"
        shim_note = "one per container (not seen from here)"
    if stack.containerd_snapshotter:
        store, store_note = "image store", "in containerd (snapshotter)"
    else:
        store = "storage driver"
        store_note = f"{stack.storage_driver} on {stack.backing_fs}" if stack.backing_fs \
            else stack.storage_driver
    nets = textwrap.fill(", ".join(stack.network_plugins), 34)
    restore = "on" if stack.live_restore else "off"
    x = 0.68
    return [
        Box("client", "client", client, "client", 0, x, 0.32),
        Box("api", f"REST API {stack.api_version}", requests, "daemon", 1, x, 0.32),
        Box("dockerd", f"dockerd {stack.engine_version}",
            f"Docker Engine; its drivers run inside it; live-restore {restore}", "daemon", 2, x,
            0.34, span=2),
        Box("storage", store, store_note, "driver", 3, x - 0.083, 0.155),
        Box("networks", "network drivers", nets, "driver", 3, x + 0.083, 0.155),
        Box("containerd", f"containerd {stack.containerd_version}",
            containerd_detail(stack, chain), "runtime", 4, x, 0.32),
        Box("shim", shim, shim_note, "runtime", 5, x, 0.32),
        Box("runc", f"runc {stack.runc_version}", "creates the container, then exits",
            "runtime", 6, x, 0.32),
        Box("kernel", f"Linux {stack.kernel}",
            f"namespaces + cgroup v{stack.cgroup_version} ({stack.cgroup_driver})", "kernel",
            7, x, 0.32),
        Box("registry", "registry", f"{stack.registry or 'default registry'}\n"
            "not contacted\nby the course", "registry", 2, 0.935, 0.115, dashed=True),
    ]


def _y(row: int) -> float:
    """The middle of a row, in inches below the top of its panel."""
    return -(_HEAD + _HALF + row * _ROW)


def _top(box: Box) -> float:
    return _y(box.row) + _HALF


def _bottom(box: Box) -> float:
    return _y(box.row + box.span - 1) - _HALF


def _depth(boxes: list[Box] | tuple[Box, ...]) -> float:
    """How tall a panel is (inches): its heading, its rows and a margin."""
    return -min(_bottom(b) for b in boxes) + 0.15


def _draw_box(ax: plt.Axes, box: Box, inner: bool = False) -> None:
    colour, hatch = STYLE[box.role]
    top, bottom = _top(box), _bottom(box)
    if inner:  # a box inside a taller one: a little smaller
        top, bottom = top - _HALF * 0.12, bottom + _HALF * 0.12
    left = box.x - box.width / 2
    ax.add_artist(FancyBboxPatch((left, bottom), box.width, top - bottom,
                                 boxstyle="round,pad=0.003", fc="white", ec=colour, lw=1.8,
                                 ls="--" if box.dashed else "-", gid=f"box:{box.key}"))
    ax.add_artist(Rectangle((left, bottom), _STRIPE, top - bottom, fc=colour, ec="black",
                            hatch=hatch, lw=0.4, alpha=0.9, gid=f"stripe:{box.key}:{box.role}"))
    centre = box.x + _STRIPE / 2
    small = "_small" if box.width < 0.2 else ""
    ink = "#444444" if box.role == "history" else "black"
    y = _y(box.row)
    lines = box.detail.count("\n") + 1
    title_at, detail_at = {1: (0.3, -0.38), 2: (0.5, -0.02)}.get(lines, (0.62, 0.28))
    ax.text(centre, y + _HALF * title_at, box.title, ha="center", va="center", color=ink,
            fontsize=_PT[f"title{small}"], weight="bold", gid=f"title:{box.key}")
    ax.text(centre, y + _HALF * detail_at, box.detail, ha="center",
            va="center" if lines == 1 else "top", color=ink, fontsize=_PT[f"detail{small}"],
            linespacing=1.1, gid=f"detail:{box.key}")
    if box.role == "history":
        ax.text(left + box.width - 0.004, top - 0.015, "HISTORY", ha="right", va="top",
                fontsize=_PT["history"], color=ink, style="italic", gid=f"history:{box.key}")


def _draw(ax: plt.Axes, boxes: list[Box] | tuple[Box, ...],
          edges: tuple[tuple[str, str, str], ...]) -> None:
    where = {b.key: b for b in boxes}
    holders = [b for b in boxes if b.span > 1]
    for box in boxes:
        inner = any(h is not box and h.row <= box.row < h.row + h.span
                    and abs(h.x - box.x) < h.width / 2 for h in holders)
        _draw_box(ax, box, inner)
    for src, dst, label in edges:
        a, b = where[src], where[dst]
        dashed = a.dashed or b.dashed
        beside = a.row <= b.row < a.row + a.span and b.span == 1 and b.x > a.x
        if beside:  # rightwards, the label above the arrow
            start = (a.x + a.width / 2 + 0.003, _y(b.row))
            end = (b.x - b.width / 2 - 0.003, _y(b.row))
            text_at = ((start[0] + end[0]) / 2, _y(b.row) + 0.13)
        else:  # downwards, the label right of the arrow
            start, end = (a.x, _bottom(a)), (b.x, _top(b))
            text_at = ((start[0] + end[0]) / 2 + 0.008, (start[1] + end[1]) / 2)
        ax.annotate("", xy=end, xytext=start,
                    arrowprops={"arrowstyle": "->", "lw": 1.3, "ls": "--" if dashed else "-"})
        if label:
            ax.text(*text_at, label, fontsize=_PT["edge"], style="italic", va="center",
                    ha="center" if beside else "left", gid=f"edge:{src}:{dst}")


def _panel(fig: Figure, bottom: float, height: float, xlim: tuple[float, float],
           heading: str) -> plt.Axes:
    """An axes across the figure, ``height`` inches high from ``bottom``, with a heading.

    Its y axis is in inches below the panel's top (see :func:`_y`); its x axis is
    ``xlim``, the units the boxes' x and width are given in.
    """
    total = fig.get_size_inches()[1]
    ax = fig.add_axes((0, bottom / total, 1, height / total))
    ax.set_xlim(*xlim)
    ax.set_ylim(-height, 0)
    ax.axis("off")
    ax.text(xlim[0] + 0.01, -_HEAD / 2, heading, ha="left", va="center",
            fontsize=_PT["heading"], weight="bold", gid=f"heading:{heading}")
    return ax


def draw_architecture(stack: EngineStack, chain: ProcessChain | None = None,
                      trace: RunTrace | None = None) -> Figure:
    """The source's architecture (history) above the one read from this engine.

    What ``docker version`` and ``docker info`` report, drawn as the source drew its
    pre-2016 design. The figure is 9 inches wide (900 px at 100 dpi, a notebook
    column) with its text drawn 1.25 times the first drawing's, so no text is
    smaller than 10 pixels as a notebook shows it; the two panels are stacked.

    Args:
        stack: the live stack; chain, trace: optional live details (see :func:`live_boxes`).

    Returns:
        The figure: "then" on top, "now" below it, the legend at the bottom.
    """
    now = live_boxes(stack, chain, trace)
    then_h, now_h = _depth(SOURCE_ARCHITECTURE), _depth(now)
    fig = plt.figure(figsize=(FIG_W, then_h + now_h + _LEGEND_H), FigureClass=SizedFigure)
    # After the figure: a kernel's first figure is what sets up the inline backend's printers.
    show_uncropped()
    # Fixed places, no tight_layout(): measuring every text for it cost a tenth of a second.
    then = _panel(fig, now_h + _LEGEND_H, then_h, _THEN_X,
                  "then: the source's figure (before 2016)")
    then.axhline(0.08 - then_h, color="#999999", lw=0.8, ls=":")
    _draw(then, SOURCE_ARCHITECTURE, SOURCE_EDGES)
    _draw(_panel(fig, _LEGEND_H, now_h, _NOW_X, "now: read from this engine"), now, LIVE_EDGES)
    handles = [Patch(fc=STYLE[k][0], ec="black", hatch=STYLE[k][1], label=v)
               for k, v in _LEGEND.items()]
    fig.legend(handles=handles, loc="center", ncol=4, fontsize=_PT["legend"], frameon=False,
               bbox_to_anchor=(0.5, _LEGEND_H / 2 / fig.get_size_inches()[1]),
               handlelength=2.2, handleheight=1.3, columnspacing=1.0)
    stamp(fig, grow=False)  # in replay, "recorded on Docker Engine X (DATE)"; same size
    return fig
