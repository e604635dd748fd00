"""Draw the architecture: the source's pre-2016 figure beside the stack read from this engine.

Introduced in chapter 04 (Docker平台架构图解). The "now" column is built only
from live data (:class:`~course_helpers.architecture.EngineStack`, a
:class:`~course_helpers.architecture.ProcessChain` and a
:class:`~course_helpers.apitrace.RunTrace`); the "then" column is the source's
own figure, labelled as history. Colours are the Okabe-Ito palette (safe for
colour-blind readers) and every box also says in words what it is.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from .apitrace import RunTrace
from .architecture import EngineStack, ProcessChain, shim_binary_for

#: Okabe-Ito colours, by the role of a box (text stays black on all but "registry").
COLOURS = {
    "client": "#E69F00",    # orange
    "daemon": "#56B4E9",    # sky blue
    "driver": "#F0E442",    # yellow
    "runtime": "#009E73",   # bluish green
    "kernel": "#CC79A7",    # reddish purple
    "registry": "#0072B2",  # blue
    "history": "#BBBBBB",   # grey: no longer exists
}
_LEGEND = {"client": "client", "daemon": "daemon and its API", "driver": "drivers",
           "runtime": "container runtime", "kernel": "Linux kernel", "registry": "registry",
           "history": "history: replaced or gone"}
_ROW = 0.14  # vertical distance between rows


@dataclass(frozen=True)
class Box:
    """One box of the drawing.

    Attributes:
        key: a name edges refer to.
        title / detail: its two lines of text.
        role: its colour (a key of :data:`COLOURS`).
        row / x: where it sits (row 0 at the top; x in figure coordinates).
        width: how wide it is.
    """

    key: str
    title: str
    detail: str
    role: str
    row: int
    x: float
    width: float = 0.3


#: The source's figure (its sixth screenshot): DATA FROM THE SOURCE, the design before 2016.
SOURCE_ARCHITECTURE: tuple[Box, ...] = (
    Box("client", "Docker Client", "sends requests to the daemon", "client", 0, 0.25),
    Box("server", "Docker Server", "router + handlers in the daemon", "daemon", 1, 0.25),
    Box("engine", "Engine", "every task ran as a Job", "history", 2, 0.25),
    Box("graph", "Graph + GraphDriver", "image storage", "history", 3, 0.09, 0.15),
    Box("network", "NetworkDriver", "container networks", "history", 3, 0.25, 0.15),
    Box("exec", "ExecDriver", "runs, limits containers", "history", 3, 0.41, 0.15),
    Box("registry", "Docker Registry", "images are pulled from it", "registry", 4, 0.09, 0.15),
    Box("libcontainer", "libcontainer", "acts on the kernel for both", "history", 4, 0.33, 0.2),
    Box("kernel", "Linux kernel", "namespaces + cgroups", "kernel", 5, 0.25),
)
#: The source's arrows: (from, to, label).
SOURCE_EDGES: tuple[tuple[str, str, str], ...] = (
    ("client", "server", ""), ("server", "engine", "Job"), ("engine", "graph", ""),
    ("engine", "network", ""), ("engine", "exec", ""), ("graph", "registry", "pull"),
    ("network", "libcontainer", ""), ("exec", "libcontainer", ""),
    ("libcontainer", "kernel", ""),
)
#: Today's arrows: (from, to, label).
LIVE_EDGES: tuple[tuple[str, str, str], ...] = (
    ("client", "api", "HTTP"), ("api", "dockerd", ""), ("dockerd", "storage", ""),
    ("dockerd", "containerd", "gRPC"), ("dockerd", "networks", ""),
    ("containerd", "shim", "ttrpc"), ("shim", "runc", "exec"), ("runc", "kernel", "syscalls"),
)


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
    requests = f"{len(trace.calls)} requests for one docker run" if trace else "HTTP + JSON"
    if chain is not None and chain.visible and chain.parent:
        shim, shim_note = chain.parent, "parent of the container's process"
    else:
        v2 = [r for r in stack.runtimes if r.startswith("io.containerd.runc")]
        shim = shim_binary_for(v2[0]) if v2 else "containerd-shim"
        shim_note = "one per container (not seen from here)"
    store = "containerd snapshotter" if stack.containerd_snapshotter else "storage driver"
    nets = textwrap.fill(", ".join(stack.network_plugins), 24)
    x = 0.75
    return [
        Box("client", "client", client, "client", 0, x),
        Box("api", f"REST API {stack.api_version}", requests, "daemon", 1, x),
        Box("dockerd", f"dockerd {stack.engine_version}", "Docker Engine", "daemon", 2, x),
        Box("storage", store, stack.storage_driver, "driver", 3, x - 0.16, 0.15),
        Box("containerd", f"containerd {stack.containerd_version}", "images, tasks",
            "runtime", 3, x, 0.15),
        Box("networks", "network drivers", nets, "driver", 3, x + 0.16, 0.15),
        Box("shim", shim, shim_note, "runtime", 4, x),
        Box("runc", f"runc {stack.runc_version}", "creates the container, then exits",
            "runtime", 5, x),
        Box("kernel", f"Linux {stack.kernel}",
            f"namespaces + cgroup v{stack.cgroup_version} ({stack.cgroup_driver})", "kernel",
            6, x),
    ]


def _y(row: int) -> float:
    return 0.93 - row * _ROW


def _draw(ax: plt.Axes, boxes: list[Box] | tuple[Box, ...],
          edges: tuple[tuple[str, str, str], ...]) -> None:
    half = _ROW * 0.33
    for box in boxes:
        y = _y(box.row)
        ax.add_patch(FancyBboxPatch((box.x - box.width / 2, y - half), box.width, 2 * half,
                                    boxstyle="round,pad=0.004", fc=COLOURS[box.role],
                                    ec="black", lw=1))
        colour = "white" if box.role == "registry" else "black"
        small = box.width < 0.2
        ax.text(box.x, y + half * 0.35, box.title, ha="center", va="center", color=colour,
                fontsize=8 if small else 9.5, weight="bold")
        ax.text(box.x, y - half * 0.4, box.detail, ha="center", va="center", color=colour,
                fontsize=6.5 if small else 7.5)
    where = {b.key: b for b in boxes}
    for src, dst, label in edges:
        a, b = where[src], where[dst]
        start, end = (a.x, _y(a.row) - half), (b.x, _y(b.row) + half)
        ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "->", "lw": 1.1})
        if label:
            ax.text((start[0] + end[0]) / 2 + 0.01, (start[1] + end[1]) / 2, label,
                    fontsize=7, style="italic", va="center")


def draw_architecture(stack: EngineStack, chain: ProcessChain | None = None,
                      trace: RunTrace | None = None) -> Figure:
    """The source's architecture (history) beside the one read from this engine.

    Args:
        stack: the live stack; chain, trace: optional live details (see :func:`live_boxes`).

    Returns:
        The figure: "then" on the left, "now" on the right.
    """
    fig, ax = plt.subplots(figsize=(12, 8))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.axis("off")
    ax.text(0.25, 1.0, "then: the source's figure (before 2016)", ha="center", fontsize=11,
            weight="bold")
    ax.text(0.75, 1.0, "now: read from this engine", ha="center", fontsize=11, weight="bold")
    ax.axvline(0.5, color="#999999", lw=0.8, ls=":")
    _draw(ax, SOURCE_ARCHITECTURE, SOURCE_EDGES)
    _draw(ax, live_boxes(stack, chain, trace), LIVE_EDGES)
    handles = [plt.Rectangle((0, 0), 1, 1, fc=COLOURS[k], ec="black") for k in _LEGEND]
    ax.legend(handles, list(_LEGEND.values()), loc="lower center", ncol=7, fontsize=8,
              frameon=False, bbox_to_anchor=(0.5, -0.03))
    fig.tight_layout()
    return fig
