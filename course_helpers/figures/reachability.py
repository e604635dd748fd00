"""Who can reach whom, drawn: a matrix of names, or of every address a container has.

Introduced in chapter 05, which draws what :mod:`course_helpers.reach` measured. Each
cell carries a symbol as well as a colour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from ..core.errors import BadInput
from ..reach import by_address
from . import stamp
from .scene import (
    FONT,
    OKABE_ITO,
    SMALL,
    TITLE,
    SizedFigure,
    ellipsize,
    new_figure,
    show_uncropped,
    text_width,
)

if TYPE_CHECKING:
    from ..playground import Playground
    from ..reach import Ping

_REACH = {
    True: ("✓", OKABE_ITO["green"], "white", "reachable"),
    False: ("✗", OKABE_ITO["vermillion"], "white", "unreachable"),
    None: ("?", "#E5E5E5", "black", "not tested"),
}


def reachability_matrix(names: list[str], matrix: list[list[bool | None]],
                        title: str = "Who can reach whom") -> Figure:
    """A grid of reachability: row = from, column = to; ✓ reachable, ✗ not, ? untested.

    Introduced in chapter 05 (going further): e.g. ``docker exec A ping -c1 B``
    for every pair of course containers. Each cell carries a symbol as well as
    a colour.

    Args:
        names: the containers, in row (and column) order.
        matrix: ``matrix[i][j]`` is True when ``names[i]`` reached ``names[j]``,
            False when it did not, None when untested.
        title: the figure's title.

    Returns:
        The figure.

    Raises:
        BadInput: the matrix is not ``len(names)`` × ``len(names)``.
    """
    n = len(names)
    if n == 0 or len(matrix) != n or any(len(row) != n for row in matrix):
        raise BadInput(f"The reachability matrix must be {n}×{n} (one row and one column per "
                       "name): check that every row has a value for every name.")
    cell, labels = 0.5, [ellipsize(str(x), 18) for x in names]
    text = max(text_width(x) for x in labels) + 0.15
    left, bottom, top = text + 0.3, 0.55, 0.45 + 0.25 + text * 0.6
    width = max(left + n * cell + text * 0.8 + 0.1, 3.6)
    fig = new_figure("reachability matrix", (width, bottom + n * cell + top))
    fw, fh = fig.get_size_inches()
    ax = fig.add_axes((left / fw, bottom / fh, n * cell / fw, n * cell / fh))
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            symbol, colour, ink, _ = _REACH[None if value is None else bool(value)]
            ax.add_artist(Rectangle((j, n - 1 - i), 1, 1, fc=colour, ec="white", lw=2,
                                    gid=f"cell:{i}:{j}"))
            ax.text(j + 0.5, n - 0.5 - i, symbol, ha="center", va="center", fontsize=13,
                    weight="bold", color=ink, gid=f"mark:{i}:{j}")
    ax.set_xlim(0, n)
    ax.set_ylim(0, n)
    ax.set_xticks([j + 0.5 for j in range(n)], labels, rotation=35, ha="left",
                  rotation_mode="anchor", fontsize=FONT)
    ax.set_yticks([n - 0.5 - i for i in range(n)], labels, fontsize=FONT)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.text(0.1 / fw, 1 - 0.45 / fh, "row: from\ncolumn: to", fontsize=SMALL, va="top",
             style="italic")
    handles = [Patch(fc=c, ec="black", label=f"{s} {lab}") for s, c, _, lab in _REACH.values()]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=SMALL, frameon=False,
               handlelength=1.2, columnspacing=1.0)
    fig.suptitle(title, fontsize=TITLE, weight="bold", x=0.1 / fw, y=1 - 0.1 / fh,
                 ha="left", va="top")
    stamp(fig)  # in replay, "recorded on Docker Engine X (DATE)" above the drawing
    return fig


class _ReachFigure(SizedFigure):
    """A Figure whose text form names the drawing, not its size (nbval compares that text)."""

    def __repr__(self) -> str:
        return "<Figure: reachability by address>"


#: How a cell is drawn: symbol, colour, ink, legend text (Okabe-Ito, as in ``plots``).
_CELL = {
    True: ("✓", "#009E73", "white", "✓ reached"),
    False: ("✗", "#D55E00", "white", "✗ not reached"),
    None: ("self", "#E5E5E5", "black", "self: its own address (not pinged)"),
}


def draw_by_address(playground: Playground, pings: list[Ping],
                    title: str = "Who can ping which address") -> Figure:
    """A grid of ping results: row = the container that pinged, column = one address.

    Similar to the matrix of :func:`reachability_matrix`, but a
    container on two networks gets one column per address, so the grid shows that
    ``a`` reaches ``ab`` at its ``alpha`` address and not at its ``beta`` one. Each cell
    carries a symbol as well as its colour.

    Args:
        playground: :func:`course_helpers.playground.build_playground`.
        pings: :func:`course_helpers.reach.ping_all`.
        title: the figure's title.

    Returns:
        The figure (its text form names the drawing, not its size).
    """
    rows, columns, cells = by_address(playground, pings)
    n_rows, n_cols, cell = len(rows), len(columns), 0.55
    label_w = 0.07 * max(len(r) for r in rows) + 0.3
    width, height = label_w + n_cols * cell + 0.4, n_rows * cell + 1.9
    fig = plt.figure(figsize=(width, height), FigureClass=_ReachFigure)
    show_uncropped()  # after the figure: a kernel's first figure sets up the inline printers
    ax = fig.add_axes((label_w / width, 0.75 / height, n_cols * cell / width,
                       n_rows * cell / height))
    for i, row in enumerate(cells):
        for j, value in enumerate(row):
            symbol, colour, ink, _ = _CELL[value]
            ax.add_artist(Rectangle((j, n_rows - 1 - i), 1, 1, fc=colour, ec="white", lw=2,
                                    gid=f"cell:{i}:{j}"))
            ax.text(j + 0.5, n_rows - 0.5 - i, symbol, ha="center", va="center",
                    fontsize=13 if value is not None else 7.5, weight="bold", color=ink,
                    gid=f"mark:{i}:{j}")
    groups: dict[str, list[int]] = {}
    for j, (_, net) in enumerate(columns):
        groups.setdefault(net, []).append(j)
    for net, js in groups.items():
        ax.text((js[0] + js[-1] + 1) / 2, n_rows + 0.75, f"on {net}", ha="center", va="bottom",
                fontsize=7.5, weight="bold")
        ax.add_artist(Line2D([js[0] + 0.08, js[-1] + 0.92], [n_rows + 0.7] * 2, color="black",
                             lw=0.8, clip_on=False))
        if js[0]:
            ax.axvline(js[0], color="black", lw=1.2)
    ax.set_xlim(0, n_cols)
    ax.set_ylim(0, n_rows)
    ax.set_xticks([j + 0.5 for j in range(n_cols)], [role for role, _ in columns], fontsize=7.5)
    ax.set_yticks([n_rows - 0.5 - i for i in range(n_rows)], rows, fontsize=7.5)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.text(0.1 / width, 1 - 0.45 / height, "row: who pinged\ncolumn: whose address",
             fontsize=7.5, va="top", style="italic")
    handles = [Patch(fc=c, ec="black", label=lab) for _, c, _, lab in _CELL.values()]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=7.5, frameon=False,
               handlelength=1.6, columnspacing=1.0)
    fig.suptitle(title, fontsize=10, weight="bold", x=0.1 / width, y=1 - 0.1 / height,
                 ha="left", va="top")
    stamp(fig)  # in replay, "recorded on Docker Engine X (DATE)" above the drawing
    return fig
