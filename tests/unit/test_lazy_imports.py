"""What importing the package costs: no Docker SDK and no matplotlib until they are used.

A replaying Lab (Binder) never talks to an engine, so it must not pay for the SDK and
its HTTP stack; a notebook pays for matplotlib when it draws (issue 14).
"""

from __future__ import annotations

import json
import subprocess
import sys

from course_helpers import figures

HEAVY = ("docker", "requests", "urllib3", "matplotlib")

PROGRAM = """
import json, os, sys
os.environ["COURSE_BACKEND"] = "replay"
os.environ["DOCKER_HOST"] = "unix:///nonexistent/docker.sock"
import course_helpers
from course_helpers import Lab, figures, modes, hostview, networks, environment
from course_helpers import architecture, apitrace, dns, ports, reach, playground
lab = Lab("03_network_modes")
snaps = modes.run_all_modes(lab)
before = sorted(m for m in {heavy} if m in sys.modules)
figures.draw_topology
after = sorted(m for m in {heavy} if m in sys.modules)
print(json.dumps([before, after, sorted(snaps)]))
"""


def test_replay_imports_neither_the_sdk_nor_matplotlib_until_drawing():
    done = subprocess.run([sys.executable, "-c", PROGRAM.format(heavy=HEAVY)],
                          capture_output=True, text=True, check=True)
    before, after, modes = json.loads(done.stdout.strip().splitlines()[-1])
    assert before == [], f"importing the package and replaying imported {before}"
    assert "matplotlib" in after, "figures.draw_topology did not import its module"
    assert "docker" not in after, "drawing imported the Docker SDK"
    assert modes == ["bridge", "container", "host", "none"]


def test_figures_names_are_their_homes():
    assert sorted(figures.__all__) == sorted(figures.HOMES)
    for name in figures.__all__:
        value = getattr(figures, name)
        home = sys.modules[f"course_helpers.figures.{figures.HOMES[name]}"]
        assert getattr(home, name) is value, name


def test_live_helpers_still_translate_sdk_errors():
    import docker

    from course_helpers.core.engine import CONNECTION_ERRORS, translated
    from course_helpers.core.errors import DockerRefused, EngineUnavailable

    assert ConnectionError in CONNECTION_ERRORS
    try:
        with translated("start a container"):
            raise docker.errors.APIError("no", explanation="bridge is a pre-defined network")
    except DockerRefused as exc:
        assert "pre-defined network" in str(exc)
    try:
        with translated("start a container"):
            raise ConnectionError("gone")
    except EngineUnavailable as exc:
        assert "went away" in str(exc)
    try:
        with translated("start a container"):
            raise KeyError("not the SDK's")
    except KeyError:
        pass
