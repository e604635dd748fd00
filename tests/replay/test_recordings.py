"""The shipped recordings: complete, honest about their origin, and in step with the live engine.

The first tests need no engine: every notebook has a recording, each says
which engine, OS and date it comes from, and everything in it decodes. The
live test records every notebook afresh into a temporary folder
(``python -m course_helpers record --out DIR``) and compares what must not
change with the shipped recordings (see :func:`course_helpers.core.record.compare`):
the calls each chapter makes, the interface names per mode, the default
networks, container mode sharing its target's namespace. A stale recording
fails with the command that makes it afresh.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from course_helpers.core.record import RECORD_COMMAND, compare, stale_message, structure
from course_helpers.core.replay import RECORDINGS, Recording, decode, recording_sets, set_name

ROOT = Path(__file__).resolve().parents[2]
#: One set of recordings per engine version (recordings/28.5, recordings/20.10).
SETS = recording_sets(RECORDINGS)


def shipped(notebook: Path, engine_set: str | None = None) -> Recording:
    path = RECORDINGS / (engine_set or SETS[0]) / f"{notebook.stem}.json"
    assert path.exists(), (f"{notebook.name} has no recording ({path.name}), so it cannot "
                           f"replay on Binder: run `{RECORD_COMMAND}` on a live engine")
    return Recording.load(path)


def test_recordings_of_the_newest_and_of_the_oldest_engine_ship():
    assert len(SETS) >= 2, f"recording sets shipped: {SETS}; the newest engine's and 20.10's"
    assert "20.10" in SETS and SETS[0] != "20.10", SETS


@pytest.mark.parametrize("engine_set", SETS)
def test_every_notebook_has_a_recording(notebooks, engine_set):
    for nb in notebooks:
        assert shipped(nb, engine_set).calls, f"{nb.stem}.json records no engine call"


@pytest.mark.parametrize("engine_set", SETS)
def test_no_recording_without_its_notebook(notebooks, engine_set):
    stems = {nb.stem for nb in notebooks}
    orphans = sorted(p.name for p in (RECORDINGS / engine_set).glob("*.json")
                     if p.stem not in stems)
    assert not orphans, f"recordings of notebooks that no longer exist: {orphans}; delete them"


@pytest.mark.parametrize("engine_set", SETS)
def test_recordings_say_where_and_when_they_were_made_and_decode(notebooks, engine_set):
    for nb in notebooks:
        rec = shipped(nb, engine_set)
        meta = rec.meta
        assert set_name(meta.get("engine", "")) == engine_set, \
            f"{engine_set}/{nb.stem}.json was recorded on Engine {meta.get('engine')}"
        assert meta.get("chapter") == nb.stem, \
            f"{nb.stem}.json was recorded as {meta.get('chapter')}"
        for field in ("engine", "api", "os", "image", "date"):
            assert meta.get(field), f"{nb.stem}.json: meta has no {field}"
        assert re.fullmatch(r"[0-9a-f]{8}", meta.get("session", "")), meta
        assert dt.date.fromisoformat(meta["date"]) <= dt.date.today()
        for _key, result in rec.calls:
            decode(result)  # raises on anything the codec cannot read back
        assert structure(rec)["problems"] == [], f"{nb.stem}.json breaks an invariant"


@pytest.mark.live
def test_recordings_agree_with_the_live_engine(notebooks, docker_client, tmp_path):
    """The shipped set of this engine's version (else the newest) against a fresh live run:
    the one ``make notebooks`` just wrote ($DNC_FRESH_RECORDINGS: nbval's kernels record as
    they check), or, run alone, one recorded here."""
    out = Path(os.environ.get("DNC_FRESH_RECORDINGS") or tmp_path / "fresh")
    if not os.environ.get("DNC_FRESH_RECORDINGS"):
        env = {k: v for k, v in os.environ.items() if k != "COURSE_RECORD_DIR"}
        done = subprocess.run([sys.executable, "-m", "course_helpers", "record", "--out",
                               str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=1200, check=False)
        assert done.returncode == 0, f"recording afresh failed:\n{done.stdout}\n{done.stderr}"
    version = docker_client.version()["Version"]
    engine_set = set_name(version) if set_name(version) in SETS else SETS[0]
    stale = []
    for nb in notebooks:
        fresh_path = out / f"{nb.stem}.json"
        assert fresh_path.exists(), f"the live run of {nb.name} wrote no {fresh_path}"
        fresh = Recording.load(fresh_path)
        assert structure(fresh)["problems"] == [], f"the live run of {nb.stem} breaks an invariant"
        diffs = compare(shipped(nb, engine_set), fresh)
        if diffs:
            stale.append(stale_message(nb.stem, diffs))
    assert not stale, "\n".join(stale)
