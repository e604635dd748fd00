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
:mod:`~course_helpers.figures.topology`, and matplotlib with it). A live Lab has it
imported ahead, in the background (:func:`preload`).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
from typing import TYPE_CHECKING, Any

from ..core.display import RECORDED_ON
from ..core.display import note_recording as note_recording  # set by the Lab; tests too

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


#: The mark's size in points: 10.4 px at matplotlib's 100 dpi, legible in a notebook.
MARK_PT = 7.5


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


#: The thread :func:`preload` started (None before, or when pyplot was imported already).
PRELOAD: dict[str, threading.Thread | None] = {"thread": None}


def preload() -> None:
    """Import ``matplotlib.pyplot`` in a background thread, once per process.

    Called by a live :class:`~course_helpers.Lab` as it starts, when this package has
    been imported by then (the notebook draws; chapter 00 does not). The first cells of a
    chapter wait for the engine (containers starting), and the kernel's CPU is free
    meanwhile: importing pyplot then (about 0.7 s of CPU) spares the first figure that
    wait. Every course module enters matplotlib through pyplot, as a cell's ``import
    matplotlib.pyplot as plt`` does, so an import in progress is waited for, never
    interleaved with another (and :func:`preloaded` waits for it before a figure module is
    imported). Not when replaying: nothing waits for an engine there, so nothing would
    overlap.
    """
    if PRELOAD["thread"] is not None or "matplotlib.pyplot" in sys.modules:
        return
    thread = threading.Thread(target=_import_pyplot, name="dnc-preload", daemon=True)
    PRELOAD["thread"] = thread
    thread.start()


def _import_pyplot() -> None:
    with contextlib.suppress(Exception):  # a broken install: the cell's own import says so
        importlib.import_module("matplotlib.pyplot")


def preloaded() -> None:
    """Wait for the import :func:`preload` started, if any."""
    thread = PRELOAD["thread"]
    if thread is not None and thread is not threading.current_thread():
        thread.join()


def __getattr__(name: str) -> Any:
    home = HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    preloaded()
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value  # once imported, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(HOMES))
