"""Benchmark: execute every notebook on the live engine; wall time and kernel peak memory.

Not a test. Targets (issue 14), on a 2-core machine: all six notebooks live at most
30 s in total on Engine 20.10 and 28.5, and no notebook kernel above 300 MB of peak
resident memory.

    .venv/bin/python bench/notebooks.py [--backend live|replay] [--baseline TREE] [NOTEBOOK ...]

``--baseline TREE`` (another copy of the project, e.g. ``git archive COMMIT | tar -x -C
TREE``) runs each notebook from that tree (its notebook, its package first on
``PYTHONPATH``) just before this tree's, so a before/after pair sees the same machine.

Peak memory is the kernel process's VmHWM (the high-water mark of its
resident set) read from /proc just before the kernel shuts down.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS, TARGET_MB = 30.0, 300.0


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a process, in MB (0 when /proc cannot tell)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(path: Path, tree: Path | None = None) -> tuple[float, float]:
    """Execute one notebook (its package from ``tree`` if given); (seconds, peak kernel MB)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(tree), *filter(None, [env.get("PYTHONPATH")])])
    start = time.perf_counter()
    with client.setup_kernel(env=env):
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)
        peak = peak_rss_mb(client.km.provisioner.process.pid)
    return time.perf_counter() - start, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="live", choices=("live", "replay"))
    parser.add_argument("--baseline", type=Path, metavar="TREE",
                        help="another copy of the project, run side by side with this one")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args()
    os.environ["COURSE_BACKEND"] = args.backend
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    total, worst, base_total, base_worst = 0.0, 0.0, 0.0, 0.0
    before = f" {'baseline s':>10} {'MB':>5}" if args.baseline else ""
    print(f"{'notebook':<32}{before} {'seconds':>8} {'peak MB':>8}   ({args.backend})")
    for path in paths:
        if args.baseline:
            took, peak = run(args.baseline.resolve() / "notebooks" / path.name,
                             args.baseline.resolve())
            base_total, base_worst = base_total + took, max(base_worst, peak)
            before = f" {took:>10.1f} {peak:>5.0f}"
        seconds, peak = run(path)
        total, worst = total + seconds, max(worst, peak)
        print(f"{path.name:<32}{before} {seconds:>8.1f} {peak:>8.0f}")
    if args.baseline:
        before = f" {base_total:>10.1f} {base_worst:>5.0f}"
    print(f"{'all':<32}{before} {total:>8.1f} {worst:>8.0f}   targets: <= {TARGET_SECONDS:.0f} s, "
          f"< {TARGET_MB:.0f} MB -> {'ok' if total <= TARGET_SECONDS else 'MISSED'} / "
          f"{'ok' if worst < TARGET_MB else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
