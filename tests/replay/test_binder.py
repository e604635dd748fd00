"""The Binder case, simulated: no engine, no root, only binder/ to build from.

A fresh virtual environment is made from ``binder/requirements.txt`` with the
Python that ``binder/runtime.txt`` names, and ``binder/postBuild`` is run in a
copy of the repository with that environment first on ``PATH`` (as
repo2docker does). Then, as the unprivileged user ``learner`` with a fresh
``HOME``, ``DOCKER_HOST`` pointing at a socket that does not exist and
``COURSE_BACKEND`` unset, every notebook must pass ``pytest --nbval-lax``
(outputs compared loosely; every in-cell ``assert`` still runs), and the
set-up banner must say REPLAY.

The environment is cached under ``artifacts/binder-sim/<hash>`` (git-ignored;
``$DNC_BINDER_CACHE`` overrides it), keyed by the hash of binder/'s files, so a
second run does not reinstall; the repository copy is refreshed on every run.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata as md
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
import tomllib
from unprivileged import (
    as_user,
    copy_repo,
    ensure_user,
    must,
    reachable_base,
    run,
    runnable_python,
)

from course_helpers.core.replay import recording_sets

ROOT = Path(__file__).resolve().parents[2]
NO_ENGINE = "unix:///nonexistent/docker.sock"
BINDER = ROOT / "binder"
BUILD_FILES = ("requirements.txt", "postBuild", "runtime.txt")
LEARNER = "learner"
#: Where the simulated image is cached: $DNC_BINDER_CACHE if set (e.g. a folder that outlives
#: CI's fresh clones), else the repo's git-ignored artifacts/, else /var/tmp when the repo's
#: path is closed to other users.
CACHE_BASES = tuple(Path(p) for p in (os.environ.get("DNC_BINDER_CACHE"),
                                      ROOT / "artifacts" / "binder-sim",
                                      "/var/tmp/dnc-binder-sim") if p)
#: The banner a replaying Lab prints (Lab.describe); a live one starts with "LIVE".
REPLAY_BANNER = re.compile(r"^REPLAY: .*recorded with Docker Engine \S+ on .+\(\d{4}-\d\d-\d\d\)",
                           re.MULTILINE)

_BANNER_SCRIPT = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=300, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[2]}}).execute()
for cell in nb.cells:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            print(out["text"])
        elif "data" in out:
            print(out["data"].get("text/plain", ""))
"""


# -- binder/ itself ------------------------------------------------------------

def pins() -> dict[str, str]:
    lines = (BINDER / "requirements.txt").read_text().splitlines()
    found = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep and version, f"binder/requirements.txt: {line!r} is not pinned with =="
            found[name.strip().lower().replace("_", "-")] = version.strip()
    return found


def test_requirements_are_pinned_to_the_versions_the_tests_use():
    pinned = pins()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [re.split(r"[<>=!~\[; ]", dep, maxsplit=1)[0].lower() for dep in
              project["dependencies"]] + ["pytest", "nbval", "nbclient", "ipykernel"]
    missing = [name for name in wanted if name not in pinned]
    assert not missing, f"binder/requirements.txt lacks {missing}"
    # The packages the course and its notebook tests use directly (the rest only follow them).
    drift = {name: (pinned[name], md.version(name)) for name in wanted
             if md.version(name) != pinned[name]}
    assert not drift, (f"binder/requirements.txt pins differ from the venv (pinned, installed): "
                       f"{drift}; copy the versions from `.venv/bin/pip freeze`")


def test_runtime_and_post_build_follow_repo2docker_conventions():
    runtime = (BINDER / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.\d+", runtime), f"runtime.txt must read python-X.Y: {runtime!r}"
    assert runtime == f"python-{sys.version_info.major}.{sys.version_info.minor}", \
        "runtime.txt must name the Python the course venv (and so the tests) use"
    post = BINDER / "postBuild"
    text = post.read_text()
    assert os.access(post, os.X_OK), "binder/postBuild must be executable (chmod +x)"
    assert text.startswith("#!/bin/bash\n"), "repo2docker runs postBuild through its shebang"
    assert "set -euo pipefail" in text, "without set -e a failing step does not stop the build"
    assert re.search(r"pip install .*(-e )?\.\s*$", text, re.MULTILINE), \
        "postBuild must install the course package"
    assert not (ROOT / "Dockerfile").exists(), "a Dockerfile would make repo2docker ignore binder/"


# -- the simulated Binder session -------------------------------------------------

def as_learner(cmd: list[str], env: dict[str, str] | None = None, **kwargs):
    """Run ``cmd`` as the unprivileged learner with exactly ``env`` (nothing inherited)."""
    return as_user(LEARNER, cmd, env, **kwargs)


@pytest.fixture(scope="module")
def learner() -> str:
    """The unprivileged user (made with useradd when missing); needs root to switch to it."""
    if os.geteuid() != 0:
        pytest.fail("The Binder simulation switches to an unprivileged user, which needs root: "
                    "run it as root (CI does).", pytrace=False)
    return ensure_user(LEARNER)


def build_key() -> str:
    digest = hashlib.sha256()
    for name in BUILD_FILES:
        digest.update(name.encode() + b"\0" + (BINDER / name).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cache_base() -> Path:
    """The first cache folder the learner can reach (the repo's, unless its path is closed)."""
    return reachable_base(LEARNER, list(CACHE_BASES))


def binder_python(base: Path) -> tuple[str, dict[str, str]]:
    """An interpreter of the version ``binder/runtime.txt`` names, runnable by the learner."""
    version = (BINDER / "runtime.txt").read_text().strip().removeprefix("python-")
    assert version == f"{sys.version_info.major}.{sys.version_info.minor}", \
        "binder/runtime.txt names another Python than the course venv's"
    return runnable_python(LEARNER, base)


@pytest.fixture(scope="module")
def binder(learner):
    """(venv, repo copy, learner HOME, extra env): a Binder image, built once per binder/."""
    base = cache_base()
    key = build_key()
    cache = base / key
    cache.mkdir(exist_ok=True)
    with (cache / "lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another `make test` on this machine waits here
        venv, repo = cache / "venv", cache / "repo"
        installed, ready = cache / "installed", cache / "ready"  # after pip; after postBuild
        copy_repo(repo)
        python, extra = binder_python(base)
        if not ready.exists():
            for old in base.iterdir():  # builds of older binder/ files
                if old.is_dir() and old.name != key and not old.name.startswith("python-"):
                    shutil.rmtree(old, ignore_errors=True)
            build_env = {**os.environ, **extra}
            if not installed.exists():
                shutil.rmtree(venv, ignore_errors=True)
                must(run([python, "-m", "venv", venv], env=build_env), "python -m venv")
                must(run([venv / "bin" / "python", "-m", "pip", "install", "--quiet",
                          "--disable-pip-version-check", "-r", BINDER / "requirements.txt"],
                         env=build_env), "pip install -r binder/requirements.txt")
                installed.write_text(key + "\n")
            build_env["PATH"] = f"{venv / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}"
            must(run([repo / "binder" / "postBuild"], cwd=repo, env=build_env),
                 "binder/postBuild")
            ready.write_text(key + "\n")
        must(run(["chown", "-R", f"{learner}:{learner}", repo]), "chown the repository copy")
        home = Path(tempfile.mkdtemp(prefix="dnc-learner-home-"))
        must(run(["chown", f"{learner}:{learner}", home]), "chown HOME")
        try:
            yield venv, repo, home, extra
        finally:
            shutil.rmtree(home, ignore_errors=True)


def learner_env(venv: Path, home: Path, extra: dict[str, str]) -> dict[str, str]:
    """A Binder session's environment: the image's PATH, no engine, no COURSE_BACKEND."""
    return {"PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home),
            "USER": LEARNER, "LANG": "C.UTF-8", "DOCKER_HOST": NO_ENGINE, **extra}


@pytest.mark.parametrize("engine_set", [None, *recording_sets()[1:]],
                         ids=lambda s: f"recorded-on-{s}" if s else "default")
def test_every_notebook_passes_nbval_as_a_learner_without_an_engine(binder, notebooks,
                                                                    engine_set):
    """Every shipped set of recordings replays: the default (newest engine's) and the
    older ones a learner picks with ``COURSE_RECORDING``."""
    venv, repo, home, extra = binder
    env = learner_env(venv, home, extra)
    assert "COURSE_BACKEND" not in env
    if engine_set:
        env["COURSE_RECORDING"] = engine_set
    assert as_learner(["id", "-u"], env).stdout.strip() != "0"
    where = as_learner(["python", "-c", "import course_helpers; print(course_helpers.__file__)"],
                       env, cwd=home).stdout.strip()
    assert where.startswith(str(repo)), f"postBuild did not install the package ({where!r})"
    done = as_learner(["python", "-m", "pytest", "-p", "no:cacheprovider", "-q", "--nbval-lax",
                       "--nbval-sanitize-with", "tests/sanitize.cfg", "notebooks"], env, cwd=repo,
                      timeout=900)
    must(done, "pytest --nbval-lax notebooks (as the learner, no engine)")
    passed = re.search(r"(\d+) passed", done.stdout)
    assert passed and int(passed.group(1)) >= len(notebooks), done.stdout[-2000:]


def test_the_banner_says_replay(binder):
    venv, repo, home, extra = binder
    first = sorted((repo / "notebooks").glob("[0-9]*.ipynb"))[0]
    done = must(as_learner(["python", "-c", _BANNER_SCRIPT, f"notebooks/{first.name}",
                            "notebooks"], learner_env(venv, home, extra), cwd=repo, timeout=600),
                f"executing {first.name} with nbclient")
    assert REPLAY_BANNER.search(done.stdout), \
        f"{first.name} printed no REPLAY banner:\n{done.stdout[-3000:]}"
    assert not re.search(r"^LIVE", done.stdout, re.MULTILINE), "a replay claimed to be live"


def test_every_notebook_shows_the_banner_in_its_first_cells(notebooks):
    import nbformat

    for nb in notebooks:
        code = [c.source for c in nbformat.read(nb, as_version=4).cells
                if c.cell_type == "code"][:3]
        assert any("lab.banner()" in src or "print(lab.describe())" in src for src in code), \
            f"{nb.name}: no early code cell shows lab.banner() (the LIVE/REPLAY banner)"
