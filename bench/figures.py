"""Benchmark: every figure the chapters draw, drawn and written as the notebook shows it,
the course's way and matplotlib's, side by side.

Not a test: it prints, per figure, the CPU time of drawing it and writing its PNG, from one
run on this machine (issue 14). The course's way: text measured and drawn a line at a time
(:mod:`course_helpers.figures.wholetext`) and the PNG written by
:mod:`course_helpers.figures.pngfile`. Matplotlib's way: the same figure, glyph by glyph,
and Pillow's PNG encoder (``savefig(format="png")``), what the notebook showed before.

    .venv/bin/python bench/figures.py [--rounds N] [--profile]

The figures come from the chapters themselves: each notebook's code cells run here, in
replay (the shipped recordings, no engine), with matplotlib's Agg backend, and every
figure a cell shows is kept. Each round draws every figure once each way, in chapter
order, the line cache emptied first (as in a new kernel). ``--profile`` adds the functions
that took longest, each way (cProfile, internal time).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.update(COURSE_BACKEND="replay", DOCKER_HOST="unix:///nonexistent/docker.sock")
os.environ.pop("COURSE_RECORD_DIR", None)

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from course_helpers.core.record import notebooks  # noqa: E402
from course_helpers.figures import pngfile, wholetext  # noqa: E402

AVAILABLE = wholetext.AVAILABLE  # this matplotlib's, before a round switches it off


def chapter_figures() -> list[tuple[str, Figure]]:
    """(chapter, figure) for every figure a chapter shows, in order."""
    shown: list[Figure] = []

    def show(*_: object, **__: object) -> None:  # as the inline backend's: show, then close
        shown.extend(plt.figure(n) for n in plt.get_fignums())
        plt.close("all")

    plt.show = show
    found = []
    here = Path.cwd()
    for nb in notebooks(ROOT / "notebooks"):
        os.chdir(nb.parent)
        cells = [c for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code"]
        scope: dict = {}
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            for cell in cells:
                with contextlib.suppress(Exception):  # the tagged raises-exception cells
                    exec(compile("".join(cell["source"]), nb.name, "exec"), scope)
                found += [(nb.stem[:2], fig) for fig in shown]
                shown.clear()
        os.chdir(here)
    return found


def written(fig: Figure, course: bool) -> None:
    """Draw ``fig`` and write its PNG, the course's way or matplotlib's."""
    wholetext.AVAILABLE = course and AVAILABLE
    fig.savefig(io.BytesIO(), format=pngfile.FORMAT if course else "png", dpi=fig.dpi)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    figures = chapter_figures()
    times: dict[tuple[int, bool], list[float]] = {}
    for _ in range(args.rounds):
        for course in (False, True):
            wholetext.clear_cache()
            for i, (_, fig) in enumerate(figures):
                start = time.process_time()
                written(fig, course)
                times.setdefault((i, course), []).append(time.process_time() - start)
    print(f"{'chapter  figure':<42} {'matplotlib':>10} {'course':>8} {'ratio':>6}")
    totals = [0.0, 0.0]
    for i, (chapter, fig) in enumerate(figures):
        theirs, ours = (statistics.median(times[(i, c)]) for c in (False, True))
        totals[0] += theirs
        totals[1] += ours
        texts = [t for t in fig.findobj(Text) if len(t.get_text().strip()) > 3]
        name = getattr(fig, "course_name", "") or (  # else its title: its largest text
            max(texts, key=Text.get_fontsize).get_text() if texts else "a figure")
        print(f"{chapter}       {name[:32]:<32} {theirs * 1e3:8.1f}ms {ours * 1e3:6.1f}ms "
              f"{ours / theirs:6.2f}x")
    print(f"{'all ' + str(len(figures)) + ' figures':<42} {totals[0] * 1e3:8.1f}ms "
          f"{totals[1] * 1e3:6.1f}ms {totals[1] / totals[0]:6.2f}x")
    print(f"(CPU time, medians of {args.rounds} rounds; whole-line text "
          f"{'available' if AVAILABLE else 'NOT available in this matplotlib'})")
    if args.profile:
        for course in (False, True):
            wholetext.clear_cache()
            profile = cProfile.Profile()
            profile.enable()
            for _, fig in figures:
                written(fig, course)
            profile.disable()
            print(f"\n-- {'course' if course else 'matplotlib'}: top functions, internal time")
            pstats.Stats(profile).sort_stats("tottime").print_stats(8)
    return 0


if __name__ == "__main__":
    sys.exit(main())
