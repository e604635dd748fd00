"""Running the course as an unprivileged user: the Binder simulation and the rootless engine.

Shared by tests/replay/test_binder.py (a learner with no engine) and tests/engines/
(a learner with a rootless engine). The course venv's interpreter lives under /root
(pyenv), closed to other users, so a copy of it is made once in a cache folder the
user can reach; venvs are built from ``binder/requirements.txt`` (the pins the tests use).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Parts of a Python installation that neither a venv nor the notebooks use.
_NOT_COPIED = shutil.ignore_patterns("site-packages", "test", "idlelib", "tkinter", "turtledemo",
                                     "config-*", "lib2to3")


def run(cmd: list, **kwargs) -> subprocess.CompletedProcess:
    """``subprocess.run`` with text output captured, a 15-minute bound, never raising."""
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 900)
    return subprocess.run([str(c) for c in cmd], check=False, **kwargs)


def must(done: subprocess.CompletedProcess, what: str) -> subprocess.CompletedProcess:
    """``done``, or an assertion that names ``what`` failed with the tail of its output."""
    assert done.returncode == 0, (f"{what} failed (exit {done.returncode}):\n"
                                  f"{done.stdout[-6000:]}\n{done.stderr[-6000:]}")
    return done


def as_user(user: str, cmd: list, env: dict[str, str] | None = None, **kwargs):
    """Run ``cmd`` as ``user`` with exactly ``env`` (nothing inherited)."""
    pairs = [f"{k}={v}" for k, v in (env or {"PATH": "/usr/bin:/bin"}).items()]
    return run(["runuser", "-u", user, "--", "env", "-i", *pairs, *cmd], **kwargs)


def ensure_user(user: str) -> str:
    """The unprivileged ``user``, made with useradd when missing (needs root)."""
    if run(["id", "-u", user]).returncode != 0:
        must(run(["useradd", "--no-create-home", "--user-group", "--shell", "/bin/bash", user]),
             f"useradd {user}")
    return user


def reachable_base(user: str, candidates: list[Path]) -> Path:
    """The first of ``candidates`` (made world-traversable) that ``user`` can enter."""
    for base in candidates:
        base.mkdir(parents=True, exist_ok=True)
        base.chmod(0o755)
        if as_user(user, ["test", "-x", str(base)]).returncode == 0:
            return base
    raise AssertionError(f"{user} can reach none of {[str(b) for b in candidates]}")


def runnable_python(user: str, base: Path) -> tuple[str, dict[str, str]]:
    """An interpreter ``user`` may run, of the version (and patch level) the course venv has.

    The venv's own base interpreter is used where the user can run it. Where it
    lives in a folder closed to other users (pyenv under /root), its installation
    less site-packages and tests (~50 MB) is copied once into ``base``, with
    ``LD_LIBRARY_PATH`` for its shared libpython. A system Python of the same
    minor version would not do: the pins need the venv's patch level (soupsieve
    wants 3.11.5 or newer).

    Returns:
        (interpreter, extra environment for running it).
    """
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    exe = f"python{version}"
    prefix = Path(sys.base_prefix)
    if as_user(user, [prefix / "bin" / exe, "-c", "import ensurepip, venv"]).returncode == 0:
        return str(prefix / "bin" / exe), {}
    patch = ".".join(map(str, sys.version_info[:3]))
    copy = base / f"python-{patch}"
    with (base / f".python-{patch}.lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (copy / "ready").exists():
            shutil.rmtree(copy, ignore_errors=True)
            (copy / "bin").mkdir(parents=True)
            shutil.copy2(prefix / "bin" / exe, copy / "bin" / exe)
            (copy / "bin" / "python3").symlink_to(exe)
            (copy / "lib").mkdir()
            for lib in prefix.joinpath("lib").glob("libpython*.so*"):
                shutil.copy2(lib, copy / "lib" / lib.name, follow_symlinks=False)
            shutil.copytree(prefix / "lib" / exe, copy / "lib" / exe,
                            ignore=_NOT_COPIED, symlinks=True)
            (copy / "lib" / exe / "site-packages").mkdir()
            (copy / "ready").write_text(patch + "\n")
    extra = {"LD_LIBRARY_PATH": str(copy / "lib")}
    done = as_user(user, [copy / "bin" / exe, "-c", "import ensurepip, venv, ssl, sqlite3"],
                   {"PATH": "/usr/bin:/bin", **extra})
    must(done, f"running the copy of Python {patch} as {user}")
    return str(copy / "bin" / exe), extra


def pinned_venv(python: str, extra: dict[str, str], folder: Path) -> Path:
    """A venv in ``folder`` with ``binder/requirements.txt`` installed, built once per pin set.

    Returns:
        The venv's folder (``folder/<hash of the pins>``).
    """
    pins = (ROOT / "binder" / "requirements.txt").read_bytes()
    venv = folder / hashlib.sha256(pins).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / ".installed").exists():
            for old in folder.iterdir():
                if old.is_dir() and old != venv:
                    shutil.rmtree(old, ignore_errors=True)
            shutil.rmtree(venv, ignore_errors=True)
            env = {**os.environ, **extra}
            must(run([python, "-m", "venv", venv], env=env), "python -m venv")
            must(run([venv / "bin" / "python", "-m", "pip", "install", "--quiet",
                      "--disable-pip-version-check", "-r", ROOT / "binder" / "requirements.txt"],
                     env=env), "pip install -r binder/requirements.txt")
            (venv / ".installed").write_text("ok\n")
    return venv


def copy_repo(dest: Path) -> None:
    """The repository's files (tracked and new, not ignored) copied to ``dest``."""
    listed = must(run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                      cwd=ROOT), "git ls-files").stdout.split("\0")
    shutil.rmtree(dest, ignore_errors=True)
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
