"""The course on every engine of the matrix: Engine 20.10 rootless, 26.1 and 28.5.

For each engine the notebooks (nbval, stored outputs through tests/sanitize.cfg)
and the live tests whose outcome depends on the engine run *on that engine's host*:
in its network namespace as root for the Debian suites, as the unprivileged user
``dnc-rootless`` for the rootless engine. Then nothing course-made may remain on it,
the machine's own engine must be exactly as before, and stopping the engine must
leave nothing of it behind.
"""

from __future__ import annotations

import os
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import docker
import harness
import pytest
from unprivileged import copy_repo, must, pinned_venv, reachable_base, runnable_python

from course_helpers.core.sessions import COURSE_VALUE, LABEL_COURSE

ROOT = harness.ROOT
ARTIFACTS = ROOT / "artifacts" / "engines"
#: Live tests whose outcome depends on the engine: modes, networks, cleanup and leaks,
#: the architecture trace, chapter 05's DNS, ports and reachability, and the host probe's
#: kept shell (its exec with stdin, and the engine's exec events).
LIVE_TESTS = (
    "tests/live/test_modes_live.py",
    "tests/live/test_networks_live.py",
    "tests/live/test_cleanup.py",
    "tests/live/test_architecture_live.py",
    "tests/live/test_going_further_live.py",
    "tests/live/test_keptshell_live.py",
    "tests/live/test_warm.py",
)
INNER_TIMEOUT = 1500  # seconds for one engine's whole run


def course_objects(docker_host: str) -> list[str]:
    """Names of the course-labelled containers and networks on an engine."""
    client = docker.DockerClient(base_url=docker_host, timeout=30)
    try:
        selector = {"label": f"{LABEL_COURSE}={COURSE_VALUE}"}
        names = [c["Names"][0] for c in client.api.containers(all=True, filters=selector)]
        return names + [n["Name"] for n in client.api.networks(filters=selector)]
    finally:
        client.close()


def others_objects(docker_host: str) -> set[str]:
    """Ids of everything on an engine that the course did not label (a learner's own)."""
    client = docker.DockerClient(base_url=docker_host, timeout=30)
    try:
        found = {c["Id"] for c in client.api.containers(all=True)
                 if (c.get("Labels") or {}).get(LABEL_COURSE) != COURSE_VALUE}
        found |= {n["Id"] for n in client.api.networks()
                  if (n.get("Labels") or {}).get(LABEL_COURSE) != COURSE_VALUE}
        return found
    finally:
        client.close()


def junit_counts(path: Path) -> dict[str, dict[str, int]]:
    """Per kind (``notebooks``, ``live``): tests, failed (failures + errors), skipped."""
    counts = {k: {"tests": 0, "failed": 0, "skipped": 0} for k in ("notebooks", "live")}
    for case in ET.parse(path).getroot().iter("testcase"):
        kind = "notebooks" if case.get("classname", "").startswith("notebooks") or \
            ".ipynb" in (case.get("file") or case.get("classname") or "") else "live"
        counts[kind]["tests"] += 1
        if case.find("failure") is not None or case.find("error") is not None:
            counts[kind]["failed"] += 1
        elif case.find("skipped") is not None:
            counts[kind]["skipped"] += 1
    return counts


def inner_run(engine: harness.Engine, junit: Path) -> subprocess.CompletedProcess:
    """The notebooks and the live tests, run on the engine's host."""
    args = ["-m", "pytest", "-p", "no:cacheprovider", "-q", "-o", "addopts=-ra",
            f"--junitxml={junit}", "notebooks", "--nbval",
            "--nbval-sanitize-with", "tests/sanitize.cfg", *LIVE_TESTS]
    if isinstance(engine, harness.RootlessEngine):
        # A private dockerd of the tests' own needs root: not a rootless learner's case.
        args += ["--deselect", "tests/live/test_cleanup.py::"
                 "test_close_again_after_the_engine_came_back"]
        base = reachable_base(engine.user, [Path("/var/tmp/dnc-unprivileged")])
        python, extra = runnable_python(engine.user, base)
        venv = pinned_venv(python, extra, base / "venvs")
        repo = harness.STATE / "rootless-repo"
        copy_repo(repo)
        must(subprocess.run(["chown", "-R", f"{engine.user}:{engine.user}", str(repo)],
                            capture_output=True, text=True), "chown the repository copy")
        extra = {**extra, "PYTHONPATH": str(repo),
                 "PATH": f"{venv}/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
        cmd = engine.command(["sh", "-c", f'cd "{repo}" && exec "$0" "$@"',
                              f"{venv}/bin/python", *args], extra)
        return subprocess.run(cmd, capture_output=True, text=True,
                              timeout=INNER_TIMEOUT, check=False)
    python = str(ROOT / ".venv" / "bin" / "python")
    return subprocess.run(engine.command([python, *args]), env=engine.env(), cwd=ROOT,
                          capture_output=True, text=True, timeout=INNER_TIMEOUT, check=False)


@pytest.fixture(scope="module")
def course_run(engine, matrix):
    """One run of the course on ``engine``: (completed process, junit counts, seconds)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    junit = ARTIFACTS / f"{engine.name}.xml"
    junit.unlink(missing_ok=True)
    inner_junit = junit
    if isinstance(engine, harness.RootlessEngine):
        inner_junit = harness.STATE / "rootless-repo" / "artifacts" / "junit.xml"
    before = others_objects("unix:///var/run/docker.sock")
    started = time.monotonic()
    done = inner_run(engine, inner_junit)
    seconds = round(time.monotonic() - started)
    (ARTIFACTS / f"{engine.name}.log").write_text(done.stdout + "\n" + done.stderr)
    if inner_junit != junit and inner_junit.exists():
        junit.write_bytes(inner_junit.read_bytes())
    counts = junit_counts(junit) if junit.exists() else None
    row = matrix.setdefault(engine.name, {})
    row["seconds"] = seconds
    if counts:
        for kind in ("notebooks", "live"):
            c = counts[kind]
            row[kind] = f"{c['tests'] - c['failed'] - c['skipped']}/{c['tests']} ok"
    row["leftover"] = len(course_objects(engine.docker_host))
    yield done, counts, before


def test_every_notebook_and_live_test_passes_on_the_engine(engine, course_run):
    done, counts, _ = course_run
    tail = (done.stdout[-5000:] + done.stderr[-2000:]).strip()
    assert counts is not None, f"the run on {engine.name} wrote no results:\n{tail}"
    assert counts["notebooks"]["tests"] >= 6 * 10, f"too few notebook cells ran:\n{tail}"
    assert counts["live"]["tests"] > 0, f"no live test ran on {engine.name}:\n{tail}"
    assert done.returncode == 0, f"the course failed on {engine.name} {engine.version}:\n{tail}"


def test_commands_on_the_engine_share_its_network_namespace(engine, course_run):
    if isinstance(engine, harness.HostEngine):
        pytest.skip("the machine's own engine shares the tests' namespace by definition")
    dockerd = engine.dockerd_pid()
    seen = subprocess.run(engine.command(["readlink", "/proc/self/ns/net"]),
                          capture_output=True, text=True, check=True).stdout.strip()
    assert seen == os.readlink(f"/proc/{dockerd}/ns/net")
    assert seen != os.readlink("/proc/self/ns/net"), "the engine shares the machine's namespace"


def test_no_course_object_remains_on_the_engine(engine, course_run):
    assert course_objects(engine.docker_host) == []


def test_the_machines_own_engine_is_untouched(engine, course_run):
    _, _, before = course_run
    after = others_objects("unix:///var/run/docker.sock")
    assert before <= after, f"objects not made by the course vanished: {sorted(before - after)}"


def test_stopping_the_engine_leaves_nothing_of_it(engine, course_run):
    if isinstance(engine, harness.HostEngine):
        pytest.skip("the machine's own engine is not started or stopped by the matrix")
    engine.stop()
    if isinstance(engine, harness.NamespacedEngine):
        assert not Path(f"/run/netns/{engine.netns}").exists(), "the namespace is still there"
        assert not engine.state.exists(), "the engine's state folder is still there"
        root = str(harness.CACHE / engine.suite)
        left = [p for p in os.listdir("/proc") if p.isdigit() and _cmdline_mentions(p, root)]
    else:
        left = subprocess.run(["pgrep", "-u", engine.user], capture_output=True,
                              text=True, check=False).stdout.split()
    assert not left, f"processes of {engine.name} still run: {left}"
    assert not engine.answers(), "the engine still answers"


def _cmdline_mentions(pid: str, text: str) -> bool:
    try:
        return text.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
