"""Benchmark: the four network modes through the course helpers vs the raw docker CLI.

Not a test: it prints medians and ratios, side by side, from one run on this
machine. Targets (issue 14): container mode at most 0.8x the raw CLI, every other
mode at most 1.0x; all four, cold, at most 0.5x the four raw CLI runs in sequence.
It also prices the course's PID 1 (the ``sh`` lifetime wrapper of every course
container, issue 11): the raw CLI run with and without it.

    .venv/bin/python bench/modes.py [--repeat N]

Raw side: `docker run --rm --network MODE IMAGE ip addr` (container mode joins
a running course container). Helper side: `Lab.run_in_mode(mode)` and
`run_all_modes(Lab)` on a Lab that is already open (image built, host-mode
probe running), in two states:
  cold  every call starts its containers;
  warm  after `lab.keep_warm()`, as the chapter 03 explorer does: a spare
        bridge and none container is started in the background once a call has read
        the one it took; each call starts when the spares are ready (`lab.wait_warm()`,
        not timed), as a learner's next click comes after reading the last result.
"+rm" adds removing the snapshot's container, which `--rm` does for the CLI.
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
from course_helpers.core.options import LIFETIME_SCRIPT  # noqa: E402
from course_helpers.modes import run_all_modes  # noqa: E402

MODES = ("bridge", "host", "none", "container")
TARGETS = {"one": 1.0, "container": 0.8, "all": 0.5}


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def raw(image: str, network: str, wrapped: bool = False) -> None:
    """``docker run --rm --network NETWORK IMAGE ip addr``; ``wrapped``: with the course's
    PID 1 in front (``--entrypoint sh IMAGE -c LIFETIME_SCRIPT course-lifetime 900 ip addr``)."""
    wrapper = ["--entrypoint", "sh"] if wrapped else []
    argv = ["-c", LIFETIME_SCRIPT, "course-lifetime", "900"] if wrapped else []
    subprocess.run(["docker", "run", "--rm", "--network", network, *wrapper, image, *argv,
                    "ip", "addr"], check=True, capture_output=True)


def paced(lab: Lab, fn) -> float:
    """Seconds ``fn`` takes once the spares are ready (``lab.wait_warm()``, not timed): a
    learner's next click comes after reading the last result."""
    lab.wait_warm()
    return timed(fn)


def one_mode(lab: Lab, mode: str, target: str, repeat: int,
             cli: list[float] | None = None, raw_run=None) -> tuple[float, float]:
    """Median seconds of run_in_mode, and of run_in_mode plus removing its container.

    With ``raw_run``, each repetition first times the raw CLI run into ``cli``: both
    sides then see the same machine (other work on it shifts both alike)."""
    plain, with_rm = [], []
    for _ in range(repeat):
        if raw_run is not None and cli is not None:
            cli.append(timed(raw_run))
        lab.wait_warm()  # a learner's pace (see paced): spares are ready before the next call
        start = time.perf_counter()
        snap = lab.run_in_mode(mode, target=target if mode == "container" else None)
        plain.append(time.perf_counter() - start)
        rm = 0.0 if mode == "host" else timed(lambda s=snap: lab.remove_container(s.container_id))
        with_rm.append(plain[-1] + rm)
    return statistics.median(plain), statistics.median(with_rm)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    if not shutil.which("docker"):
        print("The raw side needs the docker CLI on PATH.")
        return 1
    with Lab("bench", backend="live") as lab:
        target = lab.start_container("bench-target").name
        lab.run_in_mode("host")  # the host-mode probe is started once per Lab
        networks = {m: f"container:{target}" if m == "container" else m for m in MODES}
        bare, wrapped = [], []
        for _ in range(args.repeat):  # interleaved, so both see the same machine
            bare.append(timed(lambda: raw(lab.image, "none")))
            wrapped.append(timed(lambda: raw(lab.image, "none", wrapped=True)))
        runs: dict[str, list[float]] = {m: [] for m in MODES}
        cold = {m: one_mode(lab, m, target, args.repeat, runs[m],
                            lambda m=m: raw(lab.image, networks[m])) for m in MODES}
        cli = {m: statistics.median(runs[m]) for m in MODES}
        all_raw, all_cold = [], []
        for _ in range(args.repeat):
            all_raw.append(timed(lambda: [raw(lab.image, networks[m]) for m in MODES]))
            all_cold.append(timed(lambda: run_all_modes(lab)))
        cli_all, cold_all = statistics.median(all_raw), statistics.median(all_cold)
        lab.keep_warm()
        run_all_modes(lab)  # the first call hands out the first spares
        warm = {m: one_mode(lab, m, target, args.repeat) for m in MODES}
        warm_all = statistics.median(paced(lab, lambda: run_all_modes(lab))
                                     for _ in range(args.repeat))

    def verdict(ratio: float, key: str) -> str:
        return "ok" if ratio <= TARGETS[key] else "MISSED"

    def one(m: str) -> str:
        return "container" if m == "container" else "one"

    print(f"{'mode':<10} {'raw CLI':>8} {'cold':>7} {'+rm':>7} {'ratio':>6} "
          f"{'warm':>7} {'+rm':>7} {'ratio':>6}  target")
    for m in MODES:
        (c, crm), (w, wrm) = cold[m], warm[m]
        print(f"{m:<10} {cli[m]:>7.3f}s {c:>6.3f}s {crm:>6.3f}s {c / cli[m]:>5.2f}x "
              f"{w:>6.3f}s {wrm:>6.3f}s {w / cli[m]:>5.2f}x  <= {TARGETS[one(m)]}x: "
              f"cold {verdict(c / cli[m], one(m))}, warm {verdict(w / cli[m], one(m))}")
    print(f"{'all four':<10} {cli_all:>7.3f}s {cold_all:>6.3f}s {'':>7} "
          f"{cold_all / cli_all:>5.2f}x {warm_all:>6.3f}s {'':>7} {warm_all / cli_all:>5.2f}x"
          f"  <= {TARGETS['all']}x: cold {verdict(cold_all / cli_all, 'all')}, "
          f"warm {verdict(warm_all / cli_all, 'all')}")
    b, w = statistics.median(bare), statistics.median(wrapped)
    print(f"PID 1 wrapper: docker run --rm --network none ip addr {b:.3f}s, with the course's "
          f"sh lifetime wrapper {w:.3f}s ({w - b:+.3f}s, {w / b:.2f}x)")
    print(f"(medians of {args.repeat} runs; docker CLI: {shutil.which('docker')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
