"""A live Lab of a notebook that draws imports pyplot in the background while the first
cells wait for the engine; one that draws nothing imports no matplotlib."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.live

PROGRAM = """
import json, sys
from course_helpers import Lab, figures
before = "matplotlib" in sys.modules
with Lab("test", backend="live") as lab:
    thread = figures.PRELOAD["thread"]
    lab.start_container("busy")  # the engine works; the import goes on meanwhile
    figures.preloaded()
    print(json.dumps([before, thread.name if thread else None, "matplotlib.pyplot" in sys.modules]))
"""


def test_a_live_lab_has_pyplot_imported_in_the_background(docker_client):
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True,
                          check=True, timeout=120)
    before, thread, imported = json.loads(done.stdout.strip().splitlines()[-1])
    assert not before, "importing the package imports no matplotlib"
    assert thread == "dnc-preload" and imported


def test_a_live_lab_of_a_notebook_that_draws_nothing_imports_no_matplotlib(docker_client):
    """Chapter 00 imports no figures: its kernel should not pay for matplotlib."""
    program = ("import json, sys\nfrom course_helpers import Lab\n"
               "with Lab('test', backend='live') as lab:\n"
               "    lab.start_container('busy')\n"
               "    print(json.dumps(sorted(m for m in ('matplotlib', 'course_helpers.figures')"
               " if m in sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          check=True, timeout=120)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
