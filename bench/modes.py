"""Benchmark: the four network modes through the course helpers vs the raw docker CLI.

Not a test: it prints medians and ratios, side by side, from one run on this
machine. Targets (issue 2): one mode at most 1.2x the raw CLI; all four at
most 0.6x the four raw CLI runs in sequence.

    .venv/bin/python bench/modes.py [--repeat N]

The raw side is `docker run --rm --network MODE IMAGE ip addr` (container mode
joins a running course container). The helper side is `Lab.run_in_mode(mode)`
on a Lab that is already open (the image exists, the host-mode probe runs);
"incl. rm" adds removing the snapshot's container, which `--rm` does for the CLI.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from course_helpers import Lab  # noqa: E402

TARGETS = {"one": 1.2, "all": 0.6}


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def raw(image: str, network: str) -> None:
    subprocess.run(["docker", "run", "--rm", "--network", network, image, "ip", "addr"],
                   check=True, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    if not shutil.which("docker"):
        print("The raw side needs the docker CLI on PATH.")
        return 1
    with Lab("bench", backend="live") as lab:
        target = lab.start_container("bench-target")
        lab.run_in_mode("host")  # warm: the host-mode probe is started once per Lab
        rows = []
        for mode in ("bridge", "host", "none", "container"):
            network = f"container:{target.name}" if mode == "container" else mode
            helper, helper_rm, cli = [], [], []
            for _ in range(args.repeat):
                cli.append(timed(lambda n=network: raw(lab.image, n)))
                snaps = []
                helper.append(timed(lambda m=mode, snaps=snaps: snaps.append(
                    lab.run_in_mode(m, target=target.name if m == "container" else None))))
                snap = snaps[0]
                rm = 0.0 if mode == "host" else timed(
                    lambda s=snap: lab.remove_container(s.container_id))
                helper_rm.append(helper[-1] + rm)
            rows.append((mode, statistics.median(helper), statistics.median(helper_rm),
                         statistics.median(cli)))
        all_helper, all_cli = [], []
        for _ in range(args.repeat):
            all_cli.append(timed(lambda: [raw(lab.image, f"container:{target.name}" if m ==
                                              "container" else m)
                                          for m in ("bridge", "host", "none", "container")]))
            all_helper.append(timed(lab.run_all_modes))
    print(f"{'mode':<10} {'helpers':>9} {'incl. rm':>9} {'raw CLI':>9} {'ratio':>7}  target")
    for mode, h, hrm, c in rows:
        verdict = "ok" if h / c <= TARGETS["one"] else "MISSED"
        print(f"{mode:<10} {h:>8.3f}s {hrm:>8.3f}s {c:>8.3f}s {h / c:>6.2f}x  "
              f"<= {TARGETS['one']}x {verdict}")
    h, c = statistics.median(all_helper), statistics.median(all_cli)
    verdict = "ok" if h / c <= TARGETS["all"] else "MISSED"
    print(f"{'all four':<10} {h:>8.3f}s {'':>9} {c:>8.3f}s {h / c:>6.2f}x  "
          f"<= {TARGETS['all']}x {verdict}")
    print(f"(medians of {args.repeat} runs; docker CLI: {shutil.which('docker')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
