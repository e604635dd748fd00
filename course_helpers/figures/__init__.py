"""Every drawing the course makes, from data it is given (no engine is asked).

Introduced in chapter 01, which draws the host's interfaces (:func:`interface_map`);
chapter 02 draws a bridge with its veth pairs (:func:`bridge_with_veths`),
chapter 03 each network mode
(:func:`draw_topology`, :func:`compare_modes`), chapter 04 the engine's
architecture (:func:`draw_architecture`), chapter 05 who reaches whom
(:func:`reachability_matrix`, :func:`draw_by_address`). Each returns a matplotlib
``Figure`` and never calls ``plt.show()``: the notebook cell does. The scene engine
(:mod:`course_helpers.figures.scene`) lays out boxes in inches, in the Okabe-Ito
palette with a hatch, line style or label beside every colour.

Matplotlib is imported when something is drawn, not with this package: each name
below is looked up in its module on first use (``figures.draw_topology`` imports
:mod:`~course_helpers.figures.topology`, and matplotlib with it).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Public name -> the module of this package that defines it.
HOMES = {
    "SOURCE_ARCHITECTURE": "architecture",
    "draw_architecture": "architecture",
    "live_boxes": "architecture",
    "draw_by_address": "reachability",
    "reachability_matrix": "reachability",
    "bridge_with_veths": "topology",
    "compare_modes": "topology",
    "draw_topology": "topology",
    "interface_map": "topology",
    "mode_facts": "topology",
}

__all__ = [  # the keys of HOMES (a unit test keeps the two equal)
    "SOURCE_ARCHITECTURE",
    "bridge_with_veths",
    "compare_modes",
    "draw_architecture",
    "draw_by_address",
    "draw_topology",
    "interface_map",
    "live_boxes",
    "mode_facts",
    "reachability_matrix",
]

if TYPE_CHECKING:
    from .architecture import SOURCE_ARCHITECTURE, draw_architecture, live_boxes
    from .reachability import draw_by_address, reachability_matrix
    from .topology import (
        bridge_with_veths,
        compare_modes,
        draw_topology,
        interface_map,
        mode_facts,
    )


#: While a Lab replays, "recorded on Docker Engine X (DATE)": :func:`stamp` writes it in
#: a corner of every figure; "" when live. Set by the Lab (:func:`note_recording`).
RECORDED_ON = {"mark": ""}
#: The mark's size in points: 10.4 px at matplotlib's 100 dpi, legible in a notebook.
MARK_PT = 7.5


def note_recording(mark: str) -> None:
    """Remember what the figures drawn from now on carry in a corner ("" when live).

    Called by :class:`~course_helpers.Lab` when it starts, with the engine and date
    of the run it replays (``docker version`` of that run), or "" when live.
    """
    RECORDED_ON["mark"] = mark


def stamp(fig: Any, mark: str | None = None, *, grow: bool = True) -> None:
    """Write ``mark`` (by default the replaying Lab's) in ``fig``'s top-right corner, 10 px high.

    Called once the drawing is done. The figure grows by a strip at the top for the
    mark, so it covers nothing (axes and texts keep their size and place in inches);
    with ``grow=False``, for a figure whose text form shows its size (nbval compares
    that text), the size stays and the mark sits in the corner of the drawing. Nothing
    is written live (an empty mark) or when the figure carries a mark already.
    """
    text = RECORDED_ON["mark"] if mark is None else mark
    if not text or any(t.get_gid() == "recorded-mark" for t in fig.texts):
        return
    width, height = fig.get_size_inches()
    strip = 0.3 if grow else 0.0
    k = height / (height + strip)
    for ax in fig.axes:
        x0, y0, w, h = ax.get_position().bounds
        ax.set_position((x0, y0 * k, w, h * k))
    for t in fig.texts:
        if t.get_transform() == fig.transFigure:
            x, y = t.get_position()
            t.set_position((x, y * k))
    fig.set_size_inches(width, height + strip)
    fig.text(1 - 0.05 / width, 1 - max(strip, 0.3) / 2 / (height + strip), text, ha="right",
             va="center", fontsize=MARK_PT, color="#D55E00", gid="recorded-mark", zorder=10,
             bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "#D55E00", "lw": 0.6})


def __getattr__(name: str) -> Any:
    home = HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value  # once imported, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(HOMES))
