"""The drawing engine behind :mod:`course_helpers.plots`: scenes, boxes, links, rendering.

Introduced with chapter 01's interface map and used by every figure of the
course. Layouts are computed in inches (one data unit is one inch at full
size), so text keeps its size whatever is drawn. Colours come from the
Okabe-Ito palette, each paired with a hatch pattern, a line style or a label.
"""

from __future__ import annotations

import functools
import textwrap
import threading
from dataclasses import dataclass, field
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

from ..ipaddr import Interface
from . import pngfile, stamp
from .wholetext import whole_strings

#: The Okabe-Ito colour-blind-safe palette.
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}
#: Interface kinds (``Interface.kind``) in drawing order: colour, hatch, caption.
KIND_STYLE = {
    "loopback": ("#000000", "..", "loopback"),
    "nic": ("#0072B2", "//", "NIC"),
    "bridge": ("#E69F00", "xx", "bridge"),
    "veth": ("#009E73", "\\\\", "veth (pair end)"),
    "virtual": ("#CC79A7", "--", "other virtual"),
}
_NS_STYLE = {"host": ("#56B4E9", 0.13), "container": ("#F0E442", 0.22)}
_VETH_COLOUR, _PLACEHOLDER = OKABE_ITO["vermillion"], "#777777"

FONT, SMALL, TITLE = 7.5, 6.5, 10.0  # points at full size
LINE = 0.145          # inches per text line at FONT
NODE_W = 1.75         # interface box width
PAD, GAP = 0.15, 0.22
NS_TITLE = 0.32       # band for a namespace box's title
BADGE_H = 0.3
LINK_GAP = 0.75       # vertical room between namespaces, for the veth label
MAX_FIG_W = 12.0


def ellipsize(text: str, limit: int) -> str:
    """Shorten ``text`` to ``limit`` characters, keeping both ends around an ellipsis."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2 + (limit - 1) % 2
    return f"{text[:head]}…{text[len(text) - (limit - 1 - head):]}"


def text_width(text: str, size: float = FONT, mono: bool = False) -> float:
    """Estimated width in inches of one line of text."""
    return len(text) * size * (0.6 if mono else 0.58) / 72


_drawing = threading.RLock()


class SizedFigure(Figure):
    """A matplotlib Figure laid out to its drawing: shown at its own size, not cropped.

    IPython's inline backend saves every figure with ``bbox_inches="tight"``: a whole
    extra drawing pass to measure every text before the real one, which is most of a
    figure's cost here. A course figure is sized to what it draws (margins included),
    so :func:`show_uncropped` has the notebook show it as ``savefig`` would, in one pass.
    Its text is drawn unhinted (``text.hinting: none``, for this figure only): FreeType's
    autohinter, run for every glyph of every drawing, was a third of the drawing time,
    and small text stays legible without it. On Agg, a line of text is drawn as one bitmap
    (:mod:`~course_helpers.figures.wholetext`), not glyph by glyph.
    """

    def draw(self, renderer: Any) -> None:
        # rcParams are the process's: one course figure draws at a time, so that two
        # threads cannot restore each other's setting and leave hinting off for good.
        with _drawing, matplotlib.rc_context({"text.hinting": "none"}), whole_strings(renderer):
            super().draw(renderer)


def show_uncropped(shell: Any = None) -> None:
    """Have IPython show a :class:`SizedFigure` as it shows any Figure, minus the crop.

    Copies, for each output format, the printer the inline backend registered for
    ``Figure`` (``%config InlineBackend`` settings included, e.g. retina) with
    ``bbox_inches=None``, and PNG written by :mod:`~course_helpers.figures.pngfile`.
    Outside IPython, or when a printer is not the backend's usual ``functools.partial``,
    nothing changes. Called before each course figure is made, so a ``%config
    InlineBackend`` change is followed.

    Args:
        shell: the IPython shell (by default the running one, if any).
    """
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return
        shell = get_ipython()
        if shell is None:
            return
    png = shell.display_formatter.formatters.get("image/png")
    for formatter in shell.display_formatter.formatters.values():
        try:
            printer = formatter.lookup_by_type(Figure)
        except KeyError:
            formatter.pop(SizedFigure, None)  # a format turned off since: off for ours too
            continue
        if isinstance(printer, functools.partial):
            ours = {**printer.keywords, "bbox_inches": None}
            if formatter is png:  # plain or retina: matplotlib's print_figure asks for ours
                ours["format"] = pngfile.FORMAT
            formatter.for_type(SizedFigure, functools.partial(printer.func, *printer.args, **ours))


class CourseFigure(SizedFigure):
    """A matplotlib Figure whose text form names the drawing, not its size.

    The size follows the data (how many interfaces a host has), so the usual
    ``<Figure size 1081x1177 with 6 Axes>`` would differ from machine to
    machine; nbval compares that text, and this one stays the same.
    """

    course_name = "course drawing"

    def __repr__(self) -> str:
        return f"<Figure: {self.course_name}>"


def new_figure(name: str, size: tuple[float, float]) -> CourseFigure:
    fig = plt.figure(figsize=size, FigureClass=CourseFigure)
    show_uncropped()  # after the figure: a kernel's first figure sets up the inline printers
    fig.course_name = name
    return fig


# -- scene: items laid out in inches, y growing downwards ---------------------
@dataclass
class Scene:
    items: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    x0: float = 0.0
    y0: float = 0.0
    x1: float = 0.0
    y1: float = 0.0
    kinds: set[str] = field(default_factory=set)
    links: set[str] = field(default_factory=set)

    def add(self, kind: str, box: tuple[float, float, float, float], **kw: Any) -> None:
        x, y, w, h = box
        self.items.append((kind, {"box": box, **kw}))
        self.x0, self.y0 = min(self.x0, x), min(self.y0, y)
        self.x1, self.y1 = max(self.x1, x + w), max(self.y1, y + h)

    @property
    def w(self) -> float:
        return self.x1 - self.x0

    @property
    def h(self) -> float:
        return self.y1 - self.y0


@dataclass
class Node:
    """An interface (or an unknown interface seen only by its ifindex) to draw."""

    name: str
    details: list[str]
    kind: str | None
    gid: str
    docker: bool = False

    @property
    def h(self) -> float:
        return 0.14 + LINE * (1 + len(self.details))


def iface_node(iface: Interface, gid: str, docker: bool = False) -> Node:
    suffix = f"@if{iface.peer_index}" if iface.peer_index is not None else (
        f"@{iface.link}" if iface.link else "")
    details = [] if iface.is_up else ["DOWN"]
    if iface.is_up and (iface.state == "DOWN" or "NO-CARRIER" in iface.flags):
        details.append("state DOWN, no carrier")
    v4 = [str(a.interface) for a in iface.ipv4]
    details += v4[:3] + ([f"+{len(v4) - 3} more IPv4"] if len(v4) > 3 else [])
    wide = [str(a.interface) for a in iface.ipv6 if a.scope != "link"]
    local = any(a.scope == "link" for a in iface.ipv6)
    if wide:
        more = f" +{len(wide) - 1}" if len(wide) > 1 else ""
        details.append(f"{wide[0]}{more}" + (" +link-local" if local else ""))
    elif local:
        details.append("IPv6 link-local only")
    if not iface.addresses:
        details.append("no address")
    if iface.master:
        details.append(f"master {iface.master}")
    details = [ellipsize(d, 26) for d in details]
    return Node(ellipsize(iface.name, 15) + suffix, details, iface.kind, gid, docker)


def placeholder(index: int, where: str, gid: str) -> Node:
    return Node(f"if{index}", [f"{where} end,", "not read here"], None, gid)


def place_node(sc: Scene, node: Node, x: float, y: float, h: float | None = None) -> None:
    sc.add("node", (x, y, NODE_W, h or node.h), node=node)
    if node.kind:
        sc.kinds.add(node.kind)
    if node.docker:
        sc.links.add("docker")


def add_grid(sc: Scene, nodes: list[Node], cols: int, x: float, y: float) -> tuple[dict, float]:
    """Place nodes row by row; return {gid: (x, y, w, h)} and the grid height."""
    where: dict[str, tuple[float, float, float, float]] = {}
    top = y
    for start in range(0, len(nodes), cols):
        row = nodes[start:start + cols]
        row_h = max(n.h for n in row)
        for i, node in enumerate(row):
            nx = x + i * (NODE_W + GAP)
            place_node(sc, node, nx, top, row_h)
            where[node.gid] = (nx, top, NODE_W, row_h)
        top += row_h + GAP
    return where, max(top - y - GAP, 0.0)


def columns_for(n: int, most: int = 3) -> int:
    return max(1, n if n <= most else (2 if n == 4 else most))


def grid_width(n: int, cols: int) -> float:
    cols = min(n, cols) or 1
    return cols * NODE_W + (cols - 1) * GAP


def add_namespace(sc: Scene, box: tuple[float, float, float, float], title: str, role: str,
        gid: str) -> None:
    sc.add("ns", box, title=title, role=role, gid=gid)


def add_badge(sc: Scene, x: float, y: float, w: float, text: str, gid: str) -> None:
    sc.add("badge", (x, y, w, BADGE_H), text=text, gid=gid)


def add_link(sc: Scene, a: tuple[float, float], b: tuple[float, float], style: str,
          label: str = "", gid: str = "", arc: float = 0.0,
          at: tuple[float, float] | None = None) -> None:
    sc.add("link", (min(a[0], b[0]), min(a[1], b[1]), abs(a[0] - b[0]), abs(a[1] - b[1])),
           a=a, b=b, style=style, label=label, gid=gid or f"{style}-link", arc=arc,
           at=at or ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2))
    sc.links.add(style)


def add_text(sc: Scene, x: float, y: float, text: str, size: float = FONT, *,
          mono: bool = False, weight: str = "normal", ha: str = "left",
          gid: str = "") -> None:
    lines = text.splitlines() or [""]
    w = max(text_width(line, size, mono) for line in lines)
    left = x - (w / 2 if ha == "center" else 0)
    sc.add("text", (left, y, w, len(lines) * LINE * size / FONT), text=text, size=size,
           mono=mono, weight=weight, ha=ha, x=x, gid=gid)


def add_title(sc: Scene, title: str, subtitle: str, width: float, mono: bool = False) -> float:
    """Put a title (and a subtitle, wrapped to ``width``) above y=0; return its top."""
    lines = textwrap.wrap(subtitle, max(20, int(width * 72 / (SMALL * 0.6))),
                          break_on_hyphens=False) if subtitle else []
    top = -(0.3 + LINE * len(lines) + 0.2)
    add_text(sc, 0, top, title, TITLE, weight="bold", gid="title")
    if lines:
        add_text(sc, 0, top + 0.3, "\n".join(lines), SMALL, mono=mono, gid="subtitle")
    return top


def add_legend(sc: Scene, y: float, width: float) -> None:
    """A wrapped row of swatches for the kinds and link styles the scene uses."""
    entries = [(k, KIND_STYLE[k][2]) for k in KIND_STYLE if k in sc.kinds]
    captions = {"veth": "veth pair", "master": "attached to (master)",
                "docker": "made by Docker"}
    entries += [(f"link:{k}", captions[k]) for k in ("veth", "master", "docker")
                if k in sc.links]
    x = 0.0
    for key, caption in entries:
        sw = 0.45 if key == "link:docker" else 0.22
        w = sw + 0.08 + text_width(caption, SMALL) + 0.25
        if x and x + w > max(width, 3.0):
            x, y = 0.0, y + 0.25
        sc.add("swatch", (x, y, sw, 0.16), key=key)
        add_text(sc, x + sw + 0.08, y + 0.01, caption, SMALL, gid="legend")
        x += w


# -- rendering ----------------------------------------------------------------
def render(sc: Scene, ax: Axes, margin: float = 0.1, most: float = 1.5) -> None:
    """Draw a scene on ``ax``, top-centred, text and lines scaled to the room (at most ``most``)."""
    fig = ax.figure
    pos = ax.get_position()
    fw, fh = fig.get_size_inches()
    room_w, room_h = pos.width * fw, pos.height * fh
    s = min(room_w / (sc.w + 2 * margin), room_h / (sc.h + 2 * margin), most)
    mid, top = (sc.x0 + sc.x1) / 2, -(sc.y0 - margin)
    ax.set_xlim(mid - room_w / s / 2, mid + room_w / s / 2)
    ax.set_ylim(top - room_h / s, top)
    ax.set_axis_off()
    # Every box, arrow and line goes in with add_artist: add_patch and plot would also
    # measure each one's path to grow the data limits, which nothing here uses (the limits
    # are set above, in inches): about a tenth of a figure's time (issue 14).
    for kind, item in sc.items:
        x, y, bw, bh = item["box"]
        lower = (x, -(y + bh))
        if kind == "ns":
            colour, alpha = _NS_STYLE[item["role"]]
            ax.add_artist(FancyBboxPatch(
                lower, bw, bh, boxstyle="round,pad=0,rounding_size=0.1", lw=1.4 * s,
                ec=colour, fc=(*_rgb(colour), alpha), gid=item["gid"], zorder=1))
            ax.text(x + 0.12, -(y + 0.1), item["title"], fontsize=FONT * s, weight="bold",
                    va="top", zorder=5)
        elif kind == "badge":
            ax.add_artist(FancyBboxPatch(
                lower, bw, bh, boxstyle="round,pad=0,rounding_size=0.06", lw=1.0 * s,
                ls=(0, (4, 2)), ec="black", fc="white", gid=item["gid"], zorder=2))
            ax.text(x + 0.1, -(y + bh / 2), item["text"], fontsize=FONT * s, va="center",
                    zorder=5)
        elif kind == "node":
            _render_node(ax, item["node"], x, y, bw, bh, s)
        elif kind == "link":
            _render_link(ax, item, s)
        elif kind == "text":
            ax.text(item["x"], -y, item["text"], fontsize=item["size"] * s, va="top",
                    ha=item["ha"], weight=item["weight"], gid=item["gid"] or None,
                    family="monospace" if item["mono"] else None, zorder=5)
        elif kind == "swatch":
            _render_swatch(ax, item["key"], x, y, bw, bh, s)


def _rgb(colour: str) -> tuple[float, float, float]:
    return tuple(int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]


def _render_node(ax: Axes, node: Node, x: float, y: float, w: float, h: float,
                 s: float) -> None:
    colour, hatch, _ = KIND_STYLE.get(node.kind or "", (_PLACEHOLDER, "", ""))
    dashed = node.kind is None
    ax.add_artist(FancyBboxPatch(
        (x, -(y + h)), w, h, boxstyle="round,pad=0,rounding_size=0.05",
        lw=(2.2 if node.docker else 1.2) * s, ec="black" if node.docker else colour,
        ls=(0, (3, 2)) if dashed else "-", fc="white", gid=node.gid, zorder=3))
    if not dashed:
        ax.add_artist(Rectangle((x, -(y + h)), 0.13, h, fc=colour, ec="black", lw=0.4 * s,
                                hatch=hatch, alpha=0.9, zorder=4, gid=f"kind:{node.kind}"))
    ax.text(x + 0.2, -(y + 0.07), node.name, fontsize=FONT * s, weight="bold", va="top",
            zorder=5, gid=f"name:{node.gid}")
    if node.details:
        ax.text(x + 0.2, -(y + 0.07 + LINE), "\n".join(node.details), fontsize=SMALL * s,
                va="top", linespacing=1.25, zorder=5, color="#222222")
    if node.docker:
        # A tab on the box's top edge, clear of the name line however long the name.
        ax.text(x + w - 0.08, -y, "Docker", fontsize=SMALL * s * 0.9, ha="right",
                va="center", color="white", weight="bold", zorder=6, gid="docker-tag",
                bbox={"boxstyle": "round,pad=0.15", "fc": "black", "ec": "none"})


def _render_link(ax: Axes, item: dict[str, Any], s: float) -> None:
    (ax_, ay), (bx, by) = item["a"], item["b"]
    veth = item["style"] == "veth"
    arrow = FancyArrowPatch(
        (ax_, -ay), (bx, -by), arrowstyle="<|-|>" if veth else "-", mutation_scale=9 * s,
        lw=(1.8 if veth else 1.1) * s, color=_VETH_COLOUR if veth else "black",
        ls="-" if veth else (0, (4, 2)), connectionstyle=f"arc3,rad={item['arc']}",
        gid=item["gid"], zorder=4 if veth else 2, shrinkA=0, shrinkB=0)
    ax.add_artist(arrow)
    if item["label"]:
        ax.text(item["at"][0], -item["at"][1], item["label"], fontsize=SMALL * s,
                ha="center", va="center", family="monospace" if veth else None,
                style="normal" if veth else "italic", zorder=6, gid=f"label:{item['gid']}",
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.9})


def _render_swatch(ax: Axes, key: str, x: float, y: float, w: float, h: float,
                   s: float) -> None:
    mid = -(y + h / 2)
    if key.startswith("link:"):
        style = key[5:]
        if style == "docker":
            ax.text(x + w / 2, mid, "Docker", fontsize=SMALL * s * 0.9, ha="center", va="center",
                    color="white", weight="bold",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "black", "ec": "none"})
            return
        veth = style == "veth"
        ax.add_artist(Line2D([x, x + w], [mid, mid], lw=(1.8 if veth else 1.1) * s,
                             color=_VETH_COLOUR if veth else "black",
                             ls="-" if veth else (0, (4, 2))))
        return
    colour, hatch, _ = KIND_STYLE[key]
    ax.add_artist(Rectangle((x, -(y + h)), w, h, fc=colour, ec="black", lw=0.4 * s,
                            hatch=hatch, alpha=0.9))


def finish(sc: Scene, name: str, ax: Axes | None = None) -> Figure:
    """A figure sized to the scene (scaled down past ``MAX_FIG_W``), with the scene drawn."""
    if ax is None:
        w, h = sc.w + 0.2, sc.h + 0.2
        k = min(1.0, MAX_FIG_W / w)
        fig = new_figure(name, (w * k, h * k))
        ax = fig.add_axes((0, 0, 1, 1))
        render(sc, ax)
        stamp(fig)  # in replay, "recorded on Docker Engine X (DATE)" above the drawing
        return fig
    render(sc, ax)  # the caller's axes: the caller's figure, the caller's mark
    return ax.figure  # type: ignore[return-value]


# -- chapter 03: one mode's topology -----------------------------------------
