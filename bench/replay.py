"""Benchmark: every notebook executed in replay mode (what a Binder session runs), beside
the floor.

Not a test: it prints, from one run on this machine, the wall time of each notebook
(kernel start included) and of the *floor*: a notebook whose only cell imports
``course_helpers`` and ``matplotlib.pyplot`` (a kernel start and the imports, which no
chapter can undercut). Targets (issue 14): each notebook within 1.3x of the floor,
measured side by side; the whole course under 20 s with two at once (issue 4).

    .venv/bin/python bench/replay.py [--jobs N] [--rounds N] [--baseline TREE]

Each notebook runs with ``COURSE_BACKEND=replay`` and ``DOCKER_HOST`` pointing at a
socket that does not exist, in its own folder, with the ``python3`` kernel. The floor
runs before every notebook (``--rounds`` times over), so both see the same machine;
their medians are compared. ``--jobs 2`` then runs the six at once, two by two, for the
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

from course_helpers.core.record import execute, notebooks  # noqa: E402

TARGET_SECONDS, TARGET_RATIO = 20.0, 1.3
ENV = {"COURSE_BACKEND": "replay", "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
FLOOR_SOURCE = "import course_helpers\nimport matplotlib.pyplot as plt"


def run_one(nb: Path, tree: Path | None = None) -> tuple[str, float, str]:
    """Execute one notebook in replay (package from ``tree`` if given); (name, seconds, error)."""
    env = {**os.environ, **ENV}
    env.pop("COURSE_RECORD_DIR", None)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(tree), *filter(None, [env.get("PYTHONPATH")])])
    start = time.perf_counter()
    try:
        execute(nb, env, timeout=120)
        error = ""
    except Exception as exc:  # noqa: BLE001 - report and go on
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:120]}"
    return nb.name, time.perf_counter() - start, error


def floor_notebook(folder: Path) -> Path:
    """The floor: one code cell that imports the package and pyplot, nothing else."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(FLOOR_SOURCE)]
    path = folder / "floor.ipynb"
    nbformat.write(nb, path)
    return path


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
    books = notebooks(args.folder)
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        floor = floor_notebook(Path(tmp))
        run_one(floor)  # warm the file cache for both sides
        times: dict[str, list[float]] = {nb.name: [] for nb in books}
        floors: list[float] = []
        base: dict[str, list[float]] = {nb.name: [] for nb in books}
        for _ in range(args.rounds):
            for nb in books:
                floors.append(run_one(floor)[1])
                if tree is not None:
                    base[nb.name].append(run_one(tree / "notebooks" / nb.name, tree)[1])
                name, took, error = run_one(nb)
                times[name].append(took)
                if error:
                    failed = True
                    print(f"{name}: FAILED: {error}")
    lowest = statistics.median(floors)
    before = f" {'baseline x':>10}" if tree is not None else ""
    print(f"{'notebook (replay, one at a time)':<34}{before} {'seconds':>8} {'x floor':>8}")
    print(f"{'floor (imports only)':<34}{' ' * len(before)} {lowest:8.2f} {1:8.2f}")
    worst = 0.0
    for name, took in times.items():
        median = statistics.median(took)
        worst = max(worst, median / lowest)
        if tree is not None:
            before = f" {statistics.median(base[name]) / lowest:10.2f}"
        print(f"{name:<34}{before} {median:8.2f} {median / lowest:8.2f}")
    average = statistics.mean(statistics.median(t) for t in times.values())
    if tree is not None:
        before = f" {statistics.mean(statistics.median(t) for t in base.values()) / lowest:10.2f}"
    print(f"{'average notebook':<34}{before} {average:8.2f} {average / lowest:8.2f}   target <= "
          f"{TARGET_RATIO}x: worst {worst:.2f}x -> {'ok' if worst <= TARGET_RATIO else 'MISSED'}")
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
