"""Benchmark: execute every notebook on the live engine; wall time and kernel peak memory.

Not a test. Targets (issue 14), on a 2-core machine: all six notebooks live at most
30 s in total on Engine 20.10 and 28.5, and no notebook kernel above 300 MB of peak
resident memory.

    .venv/bin/python bench/notebooks.py [--backend live|replay] [NOTEBOOK ...]

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


def run(path: Path) -> tuple[float, float]:
    """Execute one notebook; return (seconds, peak kernel MB)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)
        peak = peak_rss_mb(client.km.provisioner.process.pid)
    return time.perf_counter() - start, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="live", choices=("live", "replay"))
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args()
    os.environ["COURSE_BACKEND"] = args.backend
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    total, worst = 0.0, 0.0
    print(f"{'notebook':<32} {'seconds':>8} {'peak MB':>8}   ({args.backend})")
    for path in paths:
        seconds, peak = run(path)
        total, worst = total + seconds, max(worst, peak)
        print(f"{path.name:<32} {seconds:>8.1f} {peak:>8.0f}")
    print(f"{'all':<32} {total:>8.1f} {worst:>8.0f}   targets: <= {TARGET_SECONDS:.0f} s, "
          f"< {TARGET_MB:.0f} MB -> {'ok' if total <= TARGET_SECONDS else 'MISSED'} / "
          f"{'ok' if worst < TARGET_MB else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
