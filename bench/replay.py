"""Benchmark: every notebook executed in replay mode (what a Binder session runs).

Not a test: it prints the wall time of each notebook (kernel start included)
and the total, from one run on this machine. Target (issue 4): the whole
course under 20 s on a 2-core machine.

    .venv/bin/python bench/replay.py

Each notebook runs with ``COURSE_BACKEND=replay`` and ``DOCKER_HOST`` pointing
at a socket that does not exist, in its own folder, with the ``python3``
kernel; ``--jobs`` notebooks at once (default 2: one per core of the target
machine). The total is the wall time of the whole run.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_helpers.core.record import execute, notebooks  # noqa: E402

TARGET_SECONDS = 20.0
ENV = {"COURSE_BACKEND": "replay", "DOCKER_HOST": "unix:///nonexistent/docker.sock"}


def run_one(nb: Path) -> tuple[str, float, str]:
    """Execute one notebook in replay; (name, wall seconds, error or "")."""
    env = {**os.environ, **ENV}
    env.pop("COURSE_RECORD_DIR", None)
    start = time.perf_counter()
    try:
        execute(nb, env, timeout=120)
        error = ""
    except Exception as exc:  # noqa: BLE001 - report and go on
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:120]}"
    return nb.name, time.perf_counter() - start, error


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=ROOT / "notebooks")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="notebooks executed at once (default: 2, one per core)")
    args = parser.parse_args()
    books = notebooks(args.folder)
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(run_one, books))
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # workers and their kernels
    cpu = usage.ru_utime + usage.ru_stime
    print(f"{'notebook (replay)':<34} {'seconds':>8}")
    for name, took, error in results:
        print(f"{name:<34} {took:8.2f}{'  FAILED: ' + error if error else ''}")
    total = sum(took for _, took, _ in results)
    verdict = "within" if wall < TARGET_SECONDS else "OVER"
    print(f"{'sum of the above':<34} {total:8.2f}")
    print(f"{'CPU seconds used (all processes)':<34} {cpu:8.2f}  (load average now "
          f"{os.getloadavg()[0]:.1f}: other work on the machine slows the wall times)")
    print(f"{'wall time, all ' + str(len(books)) + ' notebooks':<34} {wall:8.2f}  {verdict} the "
          f"{TARGET_SECONDS:.0f} s target ({args.jobs} at once; {os.cpu_count()} cores)")
    return 1 if any(error for *_, error in results) else 0


if __name__ == "__main__":
    sys.exit(main())
