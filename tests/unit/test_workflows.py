"""The repository's public face: CI workflows, `make test` stages, the Binder badge.

No engine, no network: actionlint checks the workflow files offline, the rest reads
the files (and runs ``scripts/stage.sh`` on a stand-in command).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
MAKEFILE = ROOT / "Makefile"
STAGES = ["lint", "unit", "live", "notebooks", "browser", "engines"]

# book/build.py reads the one place the GitHub home is set (book/book.yml).
_spec = importlib.util.spec_from_file_location("dnc_book_build", ROOT / "book" / "build.py")
assert _spec and _spec.loader
book = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(book)


def _actionlint() -> str:
    exe = Path(sys.executable).parent / "actionlint"
    found = str(exe) if exe.exists() else shutil.which("actionlint")
    if not found:
        pytest.fail("actionlint is missing: reinstall the test extras (make unit does).",
                    pytrace=False)
    return found


def _workflows() -> dict[str, dict[str, Any]]:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert files, "no workflow files in .github/workflows"
    return {f.name: yaml.safe_load(f.read_text()) for f in files}


def _on(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as True.
    on = workflow.get("on", workflow.get(True))
    return on if isinstance(on, dict) else {name: None for name in ([on] if isinstance(on, str)
                                                                     else on)}


def _runs(workflow: dict[str, Any]) -> list[str]:
    return [step.get("run", "") for job in workflow["jobs"].values()
            for step in job.get("steps", [])]


# -- actionlint ---------------------------------------------------------------------------

def test_workflow_files_pass_actionlint():
    # Shellcheck/pyflakes integration off: the result must not depend on what else is installed.
    result = subprocess.run(
        [_actionlint(), "-no-color", "-oneline", "-shellcheck=", "-pyflakes=",
         *sorted(str(p) for p in WORKFLOWS.glob("*.yml"))],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"actionlint found problems:\n{result.stdout}{result.stderr}"


def test_actionlint_rejects_a_broken_workflow(tmp_path):
    """The check above can fail: an unknown event and a bad expression are reported."""
    bad = tmp_path / "bad.yml"
    bad.write_text("on: pushh\njobs:\n  a:\n    runs-on: ubuntu-24.04\n"
                   "    steps:\n      - run: echo ${{ matrix.nope }}\n")
    result = subprocess.run([_actionlint(), "-no-color", "-oneline", "-shellcheck=",
                             "-pyflakes=", str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "pushh" in result.stdout


# -- what the workflows do -----------------------------------------------------------------

def test_lint_and_unit_run_on_every_push_and_pull_request():
    jobs = [(wf, job) for wf in _workflows().values() for job in wf["jobs"].values()
            if any("make unit" in s.get("run", "") for s in job.get("steps", []))]
    assert jobs, "no workflow job runs `make unit`"
    for wf, job in jobs:
        assert {"push", "pull_request"} <= set(_on(wf)), "lint+unit must run on push and PRs"
        runs = " ".join(s.get("run", "") for s in job["steps"])
        assert "make lint" in runs
        assert "sudo" not in runs and "apt" not in runs, "the unit job needs no apt"


def test_live_job_uses_the_runners_engine_and_runs_nbval_live_and_in_replay():
    live = _workflows()["live.yml"]
    runs = "\n".join(_runs(live))
    assert live.get("env", {}).get("COURSE_NO_PULL") == "1", "the live job must never pull"
    assert "scripts/setup.sh engine" in runs, "set-up must use the engine the runner has"
    assert "docker.io" not in runs, "the runner's own engine is used, not Debian's docker.io"
    assert "make live" in runs and runs.count("make notebooks") >= 2
    replay = [s for job in live["jobs"].values() for s in job["steps"]
              if s.get("env", {}).get("COURSE_BACKEND") == "replay"]
    assert replay and "make notebooks" in replay[0]["run"], "nbval must also run in replay"


def test_book_is_built_and_uploaded_as_a_pages_artifact():
    wf = _workflows()["book.yml"]
    steps = [s for job in wf["jobs"].values() for s in job.get("steps", [])]
    assert any("make book" in s.get("run", "") for s in steps)
    upload = [s for s in steps if str(s.get("uses", "")).startswith(
        "actions/upload-pages-artifact@")]
    assert upload and upload[0]["with"]["path"] == str(book.HTML.relative_to(ROOT))
    assert any(str(s.get("uses", "")).startswith("actions/deploy-pages@") for s in steps)


def test_the_book_is_built_from_pypi_packages_without_node():
    """No Node.js, npm or vendored theme: Sphinx and MyST-NB from the test extras do it all."""
    steps = [s for job in _workflows()["book.yml"]["jobs"].values() for s in job.get("steps", [])]
    assert not any(str(s.get("uses", "")).startswith("actions/setup-node@") for s in steps)
    script = (ROOT / "scripts" / "book.sh").read_text()
    recipe = re.search(r"^book:.*\n((?:\t.*\n)+)", MAKEFILE.read_text(), re.MULTILINE)
    assert recipe, "the Makefile has no book target"
    for text in (script, recipe.group(1), *(s.get("run", "") for s in steps)):
        assert not re.search(r"\b(npm|npx|node|yarn)\b", text), text
    assert not list((ROOT / "book").rglob("package.json")), "a Node package inside book/"
    extras = " ".join(tomllib.loads((ROOT / "pyproject.toml").read_text())
                      ["project"]["optional-dependencies"]["test"])
    assert "myst-nb==" in extras and "sphinx==" in extras, "pin the book's tools in [test]"


def test_no_workflow_pulls_images_or_reaches_other_addresses():
    pattern = re.compile(r"docker\s+(pull|login|push)|\bcurl\b|\bwget\b|https?://"
                         r"|\bping\b|docker\s+run\b[^\n]*\b(alpine|ubuntu|busybox|nginx)\b")
    for name, wf in _workflows().items():
        for job in wf["jobs"].values():
            assert "container" not in job and "services" not in job, (
                f"{name}: a job container or service would pull an image")
            for step in job.get("steps", []):
                assert not str(step.get("uses", "")).startswith("docker://"), name
                found = pattern.search(step.get("run", ""))
                assert not found, f"{name}: {found.group(0)!r} in a run step"


# -- the stages of make test -----------------------------------------------------------------

def _make_dry_run(target: str) -> str:
    make = shutil.which("make")
    if not make:
        pytest.skip("make is not installed")
    result = subprocess.run([make, "-n", "--no-print-directory", target], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_make_test_sets_up_then_runs_every_stage_in_order():
    dry = _make_dry_run("test")
    setup_at = dry.find("scripts/setup.sh test")
    run = re.search(r"scripts/stage\.sh run (.*)", dry)
    assert setup_at >= 0 and run and setup_at < run.start(), dry
    assert run.group(1).split() == STAGES


@pytest.mark.parametrize("stage,paths", [
    ("unit", ["tests/unit"]), ("live", ["tests/live", "tests/replay"]),
    ("notebooks", ["notebooks", "--nbval"]), ("browser", ["tests/browser", "tests/book"]),
    ("engines", ["tests/engines"]), ("lint", ["ruff check"]),
])
def test_each_stage_runs_alone(stage, paths):
    dry = _make_dry_run(stage)
    line = " ".join(ln for ln in dry.splitlines() if f"scripts/stage.sh {stage}" in ln)
    assert line, dry
    for path in paths:
        assert path in line


def test_unit_stage_needs_only_the_venv():
    dry = _make_dry_run("unit")
    assert "scripts/setup.sh venv" in dry
    assert "setup.sh test" not in dry and "engine" not in dry and "apt" not in dry


@pytest.mark.parametrize("code,expected", [(0, 0), (1, 1), (5, 1)])
def test_a_stage_that_collects_no_test_fails(code, expected):
    result = subprocess.run(["bash", str(ROOT / "scripts" / "stage.sh"), "demo", sys.executable,
                             "-c", f"raise SystemExit({code})"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == expected, result.stdout + result.stderr
    if code == 5:
        assert "collected no test" in result.stderr


# -- the Binder badge -------------------------------------------------------------------------

def badge_problems(readme: str, home: str) -> list[str]:
    """What is wrong with the README's Binder links, given the course's GitHub home."""
    links = re.findall(r"https://mybinder\.org/v2/gh/[^)\s\"]+", readme)
    problems = []
    problems += [f"a placeholder Binder link: {link}" for link in links if "OWNER/REPO" in link]
    if not home:
        problems += [f"a Binder link but no GitHub home in book/book.yml: {link}"
                     for link in links]
        return problems
    if book.badge_markdown(home) not in readme:
        problems.append(f"no badge linking {book.binder_url(home)}")
    problems += [f"a Binder link to another home: {link}" for link in links
                 if not link.startswith(f"https://mybinder.org/v2/gh/{home}/")]
    return problems


def test_readme_badge_agrees_with_the_github_home_and_binder():
    home = book.github_home()
    assert badge_problems((ROOT / "README.md").read_text(), home) == []
    if home:
        target = re.search(r"urlpath=lab/tree/(\S+)", book.binder_url(home)).group(1)
        assert (ROOT / target).exists(), f"the badge opens {target}, which does not exist"
        assert (ROOT / "binder" / "requirements.txt").exists()
        assert (ROOT / "binder" / "postBuild").exists()


@pytest.mark.parametrize("readme,home,wrong", [
    ("[![b](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/OWNER/REPO/HEAD)",
     "", True),
    ("no badge", "", False),
    ("no badge", "someone/course", True),
    (book.badge_markdown("someone/course"), "someone/course", False),
    (book.badge_markdown("someone/course") + "\n" + book.badge_markdown("other/fork"),
     "someone/course", True),
])
def test_badge_check_catches_a_wrong_badge(readme, home, wrong):
    assert bool(badge_problems(readme, home)) is wrong
