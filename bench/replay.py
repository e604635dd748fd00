"""Benchmark: every notebook executed in replay mode (what a Binder session runs), beside
the floor.

Not a test: it prints, from one run on this machine, the wall time of each notebook
(kernel start included) and of the *floor*: a notebook whose only cell imports
``course_helpers`` and ``matplotlib.pyplot`` (a kernel start and the imports, which no
chapter can undercut). Targets (issue 14): each notebook within 1.3x of the floor,
measured side by side; the whole course under 20 s with two at once (issue 4). Beside it,
each notebook is also set against a floor of as many code cells (the same import cell,
then ``pass`` in every other): what the notebook protocol costs per cell (a round trip
between the client and the kernel), which the one-cell floor does not pay.

    .venv/bin/python bench/replay.py [--jobs N] [--rounds N] [--baseline TREE]

Each notebook runs with ``COURSE_BACKEND=replay`` and ``DOCKER_HOST`` pointing at a
socket that does not exist, in its own folder, with the ``python3`` kernel. The floor
runs before every notebook (``--rounds`` times over), so both see the same machine;
their medians are compared, by wall time and by the kernel's CPU time (user + system,
kernel start included), which other work on a loaded machine hardly moves.
``--jobs 2`` then runs the six at once, two by two, for the
wall time of the whole course. ``--baseline TREE`` (another copy of the project) also runs
each notebook from that tree (its package first on ``PYTHONPATH``) in every round, for a
before/after column measured on the same machine at the same time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_helpers.core.record import notebooks  # noqa: E402
from notebooks import precompile, run  # noqa: E402 - bench/notebooks.py, beside this file

TARGET_SECONDS, TARGET_RATIO = 20.0, 1.3
ENV = {"COURSE_BACKEND": "replay", "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
FLOOR_SOURCE = "import course_helpers\nimport matplotlib.pyplot as plt"


def run_one(nb: Path, tree: Path | None = None) -> tuple[str, float, float, str]:
    """Execute one notebook in replay (package from ``tree`` if given).

    Returns:
        (name, wall seconds, kernel CPU seconds, error or "").
    """
    env = {**os.environ, **ENV}
    env.pop("COURSE_RECORD_DIR", None)
    start = time.perf_counter()
    try:
        _, _, cpu = run(nb, tree, env)
        error = ""
    except Exception as exc:  # noqa: BLE001 - report and go on
        cpu, error = 0.0, f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:120]}"
    return nb.name, time.perf_counter() - start, cpu, error


def floor_notebook(folder: Path, cells: int = 1) -> Path:
    """The floor: one code cell that imports the package and pyplot, then ``cells - 1``
    cells that do nothing (``pass``)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(FLOOR_SOURCE),
                *(nbformat.v4.new_code_cell("pass") for _ in range(cells - 1))]
    path = folder / f"floor-{cells}.ipynb"
    nbformat.write(nb, path)
    return path


def code_cells(nb: Path) -> int:
    return sum(cell.cell_type == "code" for cell in nbformat.read(nb, as_version=4).cells)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=ROOT / "notebooks")
    parser.add_argument("--rounds", type=int, default=2,
                        help="times each notebook (and the floor before it) runs one by one")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="notebooks at once for the whole-course wall time (default 2)")
    parser.add_argument("--baseline", type=Path, metavar="TREE",
                        help="another copy of the project, run side by side with this one")
    args = parser.parse_args()
    tree = args.baseline.resolve() if args.baseline else None
    precompile(*([tree] if tree is not None else []))
    books = notebooks(args.folder)
    cells = {nb.name: code_cells(nb) for nb in books}
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        floor = floor_notebook(Path(tmp))
        run_one(floor)  # warm the file cache for both sides
        # name -> [(wall, cpu), ...] for this tree, the baseline tree and the floor
        ours: dict[str, list[tuple[float, float]]] = {nb.name: [] for nb in books}
        theirs: dict[str, list[tuple[float, float]]] = {nb.name: [] for nb in books}
        floors: list[tuple[float, float]] = []
        as_many = {nb.name: floor_notebook(Path(tmp), cells[nb.name]) for nb in books}
        cell_floors: dict[str, list[tuple[float, float]]] = {nb.name: [] for nb in books}
        for _ in range(args.rounds):
            for nb in books:
                floors.append(run_one(floor)[1:3])
                cell_floors[nb.name].append(run_one(as_many[nb.name])[1:3])
                if tree is not None:
                    theirs[nb.name].append(run_one(tree / "notebooks" / nb.name, tree)[1:3])
                name, took, cpu, error = run_one(nb)
                ours[name].append((took, cpu))
                if error:
                    failed = True
                    print(f"{name}: FAILED: {error}")

    def medians(runs: list[tuple[float, float]]) -> tuple[float, float]:
        return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)

    low_wall, low_cpu = medians(floors)
    head = f" {'baseline x':>10} {'cpu x':>6}" if tree is not None else ""
    print(f"{'notebook (replay, one at a time)':<34}{head} {'seconds':>8} {'x floor':>8} "
          f"{'cpu s':>6} {'cpu x':>6} {'cells':>5} {'x floor of as many cells':>24}")
    print(f"{'floor (imports only)':<34}{' ' * len(head)} {low_wall:8.2f} {1:8.2f} "
          f"{low_cpu:6.2f} {1:6.2f} {1:5d}")
    worst, worst_cells, ratios, base_ratios = 0.0, 0.0, [], []
    for name, runs in ours.items():
        wall, cpu = medians(runs)
        worst = max(worst, wall / low_wall)
        ratios.append((wall / low_wall, cpu / low_cpu))
        cells_wall, _ = medians(cell_floors[name])
        worst_cells = max(worst_cells, wall / cells_wall)
        same = f"{wall / cells_wall:.2f} (floor {cells_wall:.2f} s)"
        before = ""
        if tree is not None:
            b_wall, b_cpu = medians(theirs[name])
            base_ratios.append((b_wall / low_wall, b_cpu / low_cpu))
            before = f" {b_wall / low_wall:10.2f} {b_cpu / low_cpu:6.2f}"
        print(f"{name:<34}{before} {wall:8.2f} {wall / low_wall:8.2f} {cpu:6.2f} "
              f"{cpu / low_cpu:6.2f} {cells[name]:5d} {same:>24}")
    before = ""
    if tree is not None:
        before = (f" {statistics.mean(r for r, _ in base_ratios):10.2f}"
                  f" {statistics.mean(c for _, c in base_ratios):6.2f}")
    print(f"{'average notebook':<34}{before} {'':8} {statistics.mean(r for r, _ in ratios):8.2f}"
          f" {'':6} {statistics.mean(c for _, c in ratios):6.2f}   target <= {TARGET_RATIO}x: "
          f"worst {worst:.2f}x -> {'ok' if worst <= TARGET_RATIO else 'MISSED'} "
          f"(against a floor of as many cells: worst {worst_cells:.2f}x)")
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(run_one, books))
    wall = time.perf_counter() - start
    failed = failed or any(error for *_, error in results)
    print(f"{'wall time, all ' + str(len(books)) + f' ({args.jobs} at once)':<34} {wall:8.2f}"
          f"  {'within' if wall < TARGET_SECONDS else 'OVER'} the {TARGET_SECONDS:.0f} s target "
          f"({os.cpu_count()} cores, load average now {os.getloadavg()[0]:.1f})")
    print(f"(medians of {args.rounds} rounds; floor: {FLOOR_SOURCE!r})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
