"""Benchmark: execute every notebook on the live engine; wall time and kernel peak memory.

Not a test. Targets (issue 14), on a 2-core machine: all six notebooks live at most
30 s in total on Engine 20.10 and 28.5, and no notebook kernel above 300 MB of peak
resident memory.

    .venv/bin/python bench/notebooks.py [--backend live|replay] [--baseline TREE] [--rounds N]
        [NOTEBOOK ...]

``--baseline TREE`` (another copy of the project, e.g. ``git archive COMMIT | tar -x -C
TREE``) runs each notebook from that tree (its notebook, its package first on
``PYTHONPATH``) just before this tree's, so a before/after pair sees the same machine.

Peak memory is the kernel process's VmHWM (the high-water mark of its
resident set) read from /proc just before the kernel shuts down.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (0 when /proc cannot tell).

    Unlike wall time, it hardly moves when other work loads the machine, so
    before/after pairs stay comparable on a busy 2-core host.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def precompile(*trees: Path) -> None:
    """Byte-compile the package of this tree and of ``trees``, as a learner's first import
    leaves it.

    Where ``PYTHONDONTWRITEBYTECODE`` is set (this machine's shells and CI set it), every
    kernel would otherwise compile the modules it imports from source, and a chapter that
    imports more modules than the floor would pay for that alone.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q",
                    *(str(tree / "course_helpers") for tree in (ROOT, *trees))],
                   check=True, env=env)


def run(path: Path, tree: Path | None = None,
        env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Execute one notebook (its package from ``tree`` if given) in ``env`` (default: ours).

    Returns:
        (wall seconds, peak kernel MB, kernel CPU seconds), kernel start included.
    """
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    env = dict(os.environ if env is None else env)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(tree), *filter(None, [env.get("PYTHONPATH")])])
    start = time.perf_counter()
    with client.setup_kernel(env=env, stderr=subprocess.DEVNULL):  # its TCP warning
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)
        pid = client.km.provisioner.process.pid
        peak, cpu = peak_rss_mb(pid), cpu_seconds(pid)
    return time.perf_counter() - start, peak, cpu


def median_run(path: Path, rounds: int, tree: Path | None = None) -> tuple[float, float, float]:
    """Medians of ``rounds`` runs of :func:`run` (wall s, peak MB, kernel CPU s)."""
    runs = [run(path, tree) for _ in range(rounds)]
    return tuple(statistics.median(r[k] for r in runs) for k in range(3))  # type: ignore[return-value]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="live", choices=("live", "replay"))
    parser.add_argument("--baseline", type=Path, metavar="TREE",
                        help="another copy of the project, run side by side with this one")
    parser.add_argument("--rounds", type=int, default=1,
                        help="runs of each notebook (per tree); medians are reported")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args()
    os.environ["COURSE_BACKEND"] = args.backend
    precompile(*([args.baseline.resolve()] if args.baseline else []))
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    total, worst, cpu_total = 0.0, 0.0, 0.0
    base_total, base_worst, base_cpu = 0.0, 0.0, 0.0
    before = f" {'baseline s':>10} {'cpu s':>6} {'MB':>5}" if args.baseline else ""
    print(f"{'notebook':<32}{before} {'seconds':>8} {'cpu s':>6} {'peak MB':>8}   "
          f"({args.backend}; cpu: the kernel's; medians of {args.rounds})")
    for path in paths:
        if args.baseline:
            took, peak, cpu = median_run(args.baseline.resolve() / "notebooks" / path.name,
                                         args.rounds, args.baseline.resolve())
            base_total, base_worst = base_total + took, max(base_worst, peak)
            base_cpu += cpu
            before = f" {took:>10.1f} {cpu:>6.1f} {peak:>5.0f}"
        seconds, peak, cpu = median_run(path, args.rounds)
        total, worst, cpu_total = total + seconds, max(worst, peak), cpu_total + cpu
        print(f"{path.name:<32}{before} {seconds:>8.1f} {cpu:>6.1f} {peak:>8.0f}")
    if args.baseline:
        before = f" {base_total:>10.1f} {base_cpu:>6.1f} {base_worst:>5.0f}"
    print(f"{'all':<32}{before} {total:>8.1f} {cpu_total:>6.1f} {worst:>8.0f}   "
          f"targets: <= {TARGET_SECONDS:.0f} s, "
          f"< {TARGET_MB:.0f} MB -> {'ok' if total <= TARGET_SECONDS else 'MISSED'} / "
          f"{'ok' if worst < TARGET_MB else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
