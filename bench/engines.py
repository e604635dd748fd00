"""Benchmark: the same measurements on every engine of the matrix, side by side in one run.

Not a test. For each engine it runs, on that engine's host (through
``tests/engines/harness.py run``), ``bench/modes.py`` (the four modes through the
helpers vs the raw ``docker run`` CLI) and ``bench/notebooks.py`` (the six notebooks
live: seconds, peak kernel MB), then prints one table with a row per engine, so the
effect of the engine's version on the course's cost shows at a glance.

    .venv/bin/python bench/engines.py [ENGINE ...]   # default: bookworm trixie sid

The rootless engine is left out by default: its user has no venv of the project
(the matrix tests build one for it); name it to try anyway.
"""

from __future__ import annotations

import argparse
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HARNESS = ROOT / "tests" / "engines" / "harness.py"
PYTHON = ROOT / ".venv" / "bin" / "python"


def on_engine(engine: str, *args: str) -> str:
    """The output of ``args`` run on ``engine``'s host (the engine started and stopped)."""
    done = subprocess.run([str(PYTHON), str(HARNESS), "run", engine, *args], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{engine}: {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def grab(pattern: str, text: str) -> str:
    found = re.search(pattern, text, re.MULTILINE)
    return found.group(1) if found else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("engines", nargs="*", default=["bookworm", "trixie", "sid"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for engine in args.engines:
        modes = on_engine(engine, str(PYTHON), "bench/modes.py", "--repeat", str(args.repeat))
        books = on_engine(engine, str(PYTHON), "bench/notebooks.py")
        print(f"== {engine}\n{modes}\n{books}", flush=True)
        rows.append((
            engine,
            grab(r"Docker Engine (\S+)", modes),
            {m: grab(rf"^{m}\s.*?(\d+\.\d+)x", modes) for m in ("bridge", "host", "none",
                                                             "container")},
            grab(r"^all four\s.*?(\d+\.\d+)x", modes),
            grab(r"^all\s+(\d+\.\d+)", books),
            grab(r"^all\s+\S+\s+(\d+)", books),
        ))
    print("engine    version            bridge   host   none  container  all four "
          "| notebooks s  peak MB")
    for engine, version, ratio, four, seconds, peak in rows:
        print(f"{engine:<9} {version:<18} {ratio['bridge']:>5}x {ratio['host']:>5}x "
              f"{ratio['none']:>5}x {ratio['container']:>9}x {four:>8}x | {seconds:>11} "
              f"{peak:>8}")
    print("(ratios: helpers / raw docker CLI, medians; notebooks: all six live)")


if __name__ == "__main__":
    main()
