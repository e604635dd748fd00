"""Browser tests: JupyterLab on loopback, driven by Debian's Chromium through Playwright.

A learner never runs nbval: they open JupyterLab, run cells and click widgets.
These fixtures start JupyterLab the way ``make lab`` does (the project's venv,
127.0.0.1, a random port, a random token), on a throw-away copy of
``notebooks/`` so nothing the browser saves lands in the repository, and stop
it (kernels first, so a live Lab removes its containers) even when a test
fails. The browser is ``/usr/bin/chromium`` with a fresh profile and flags that
keep it from calling anywhere.

Network isolation: as root (CI, the course's set-up), JupyterLab, its kernels
and Chromium share a network namespace of their own that holds only ``lo``,
so nothing can leave loopback, and Chromium does not see Docker adding and
removing veths on the host (each change makes it abort requests in flight with
``ERR_NETWORK_CHANGED``). Kernels still reach Docker through its Unix socket.
Elsewhere, or with ``DNC_BROWSER_NETNS=0``, they run in the host's namespace,
kept on loopback by Chromium flags alone.

Everything waits on conditions (a log line, an HTTP answer, DOM state), never
on ``sleep``.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
ARTIFACTS = ROOT / "artifacts" / "browser"
VENV_BIN = Path(sys.executable).parent
CHROMIUM = Path(os.environ.get("DNC_CHROMIUM", "/usr/bin/chromium"))

#: Flags that keep Chromium quiet: headless, no first-run or background calls.
#: Playwright adds ``--user-data-dir`` itself, pointing at the fresh temp dir we give it.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    # Belt and braces: no name resolution at all (the lab is addressed as 127.0.0.1,
    # so nothing legitimate needs DNS) ...
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]

#: Bounds on how long we wait for things (seconds); none of them is asserted.
SERVER_START_TIMEOUT = 90
SERVER_STOP_TIMEOUT = 60

#: Notebook setting: render every cell (no virtual scrolling), so DOM queries see them all.
_LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # No news or update toasts over the notebook.
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False,
    },
}
#: Front-end plugins disabled: the one that offers to fetch Jupyter news from the internet.
_DISABLED_PLUGINS = {"@jupyterlab/apputils-extension:announcements": True}

_LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}
_CLONE_NEWNET = 0x40000000


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "browser: drives JupyterLab in headless Chromium, on loopback only (tests/browser)",
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dead_end_proxy() -> str:
    """... and any non-loopback request sent to a closed loopback port, where it fails.

    Chromium never proxies loopback addresses, so the lab itself is reached directly.
    """
    return f"--proxy-server=http://127.0.0.1:{_free_port()}"


def _can_isolate() -> bool:
    """Root, with unshare, nsenter and ip at hand, and not switched off."""
    if os.environ.get("DNC_BROWSER_NETNS", "1") == "0" or os.geteuid() != 0:
        return False
    return all(shutil.which(tool) for tool in ("unshare", "nsenter", "ip"))


def _setns(fd: int) -> None:
    """Move the calling thread into the network namespace open at ``fd``."""
    if hasattr(os, "setns"):  # Python 3.12+
        os.setns(fd, os.CLONE_NEWNET)
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, _CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


class LabServer:
    """One JupyterLab process on 127.0.0.1, on a temp copy of the notebooks.

    Args:
        name: a label for logs and artefacts (``live``, ``replay``).
        env: variables to set for the server and its kernels.
        unset: variables to remove from the environment first.
    """

    def __init__(self, name: str, env: dict[str, str], unset: tuple[str, ...] = ()) -> None:
        self.name = name
        self.isolated = _can_isolate()
        self.port = _free_port()
        self.token = secrets.token_hex(24)
        self.base = f"http://127.0.0.1:{self.port}"
        self.home = Path(tempfile.mkdtemp(prefix=f"dnc-browser-{name}-"))
        self.root = self.home / "notebooks"
        self.log_path = ARTIFACTS / f"jupyterlab-{name}.log"
        self._env = env
        self._unset = unset
        self.proc: subprocess.Popen | None = None
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None

    # -- start ------------------------------------------------------------------
    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in self._unset}
        for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
                    "ALL_PROXY"):
            env.pop(var, None)
        env.update(self._env)
        dirs = {
            "JUPYTER_CONFIG_DIR": "config",
            "JUPYTER_DATA_DIR": "data",
            "JUPYTER_RUNTIME_DIR": "runtime",
            "JUPYTERLAB_SETTINGS_DIR": "lab-settings",
            "JUPYTERLAB_WORKSPACES_DIR": "lab-workspaces",
            "IPYTHONDIR": "ipython",
        }
        for var, sub in dirs.items():
            path = self.home / sub
            path.mkdir(parents=True, exist_ok=True)
            env[var] = str(path)
        env["JUPYTER_PLATFORM_DIRS"] = "1"
        env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
        return env

    def _write_config(self, env: dict[str, str]) -> None:
        labconfig = Path(env["JUPYTER_CONFIG_DIR"]) / "labconfig"
        labconfig.mkdir(parents=True, exist_ok=True)
        (labconfig / "page_config.json").write_text(
            json.dumps({"disabledExtensions": _DISABLED_PLUGINS}))
        settings = Path(env["JUPYTERLAB_SETTINGS_DIR"])
        for rel, values in _LAB_SETTINGS.items():
            path = settings / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))

    def command(self) -> list[str]:
        cmd = [
            str(VENV_BIN / "jupyter"), "lab",
            "--no-browser",
            "--ServerApp.open_browser=False",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            # Nothing fetched from the internet: no news feed, no update check, no PyPI.
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
            # Give a live Lab time to remove its containers when its kernel shuts down.
            "--KernelManager.shutdown_wait_time=30",
        ]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        if self.isolated:
            # A new network namespace with only lo (brought up), then exec JupyterLab in it.
            cmd = ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"',
                   "sh", *cmd]
        return cmd

    def start(self) -> None:
        """Start JupyterLab and wait (bounded) until ``/api/status`` answers."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copytree(NOTEBOOKS, self.root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        env = self._environment()
        self._write_config(env)
        self.proc = subprocess.Popen(
            self.command(), cwd=self.root, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        self._ready.wait(SERVER_START_TIMEOUT)
        # The server logs its URL just before it binds the port (in its first loop
        # callback), so poll /api/status until it answers: bounded, and a dead server
        # ends the wait at once (proc.wait returns).
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"JupyterLab ({self.name}) exited with {self.proc.returncode}: "
                    f"read {self.log_path}")
            with contextlib.suppress(OSError):
                status = self.api("GET", "/api/status", timeout=5)
                if isinstance(status, dict) and "started" in status:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"JupyterLab ({self.name}) did not answer /api/status within "
                    f"{SERVER_START_TIMEOUT}s: read {self.log_path}")
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(0.1)

    def _read_log(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        marker = f"127.0.0.1:{self.port}/"
        with self.log_path.open("w") as log:
            for line in self.proc.stdout:
                log.write(line.replace(self.token, "<token>"))
                log.flush()
                if marker in line or "Use Control-C" in line:
                    self._ready.set()
        self._ready.set()  # the process ended: wake the waiter, which then sees poll()

    # -- talk to it -------------------------------------------------------------
    @property
    def netns(self) -> str:
        """The path of the server's network namespace."""
        assert self.proc is not None
        return f"/proc/{self.proc.pid}/ns/net"

    def _in_netns(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` where the server's loopback is: in a thread that joins its namespace."""
        if not self.isolated:
            return fn()
        if os.stat(self.netns).st_ino == os.stat("/proc/self/ns/net").st_ino:
            raise OSError("the server has not entered its own network namespace yet")
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                fd = os.open(self.netns, os.O_RDONLY)
                try:
                    _setns(fd)
                finally:
                    os.close(fd)
                outcome["value"] = fn()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                outcome["error"] = exc

        thread = threading.Thread(target=run, name=f"netns-{self.name}")
        thread.start()
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("value")

    def api(self, method: str, path: str, timeout: float = 30) -> dict | list | None:
        """One REST call with the token, bypassing any proxy."""
        req = urllib.request.Request(
            f"{self.base}{path}", method=method,
            headers={"Authorization": f"token {self.token}"},
            data=b"" if method in ("POST", "PUT") else None,
        )

        def call() -> bytes:
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(req, timeout=timeout) as resp:
                return resp.read()

        body = self._in_netns(call)
        return json.loads(body) if body else None

    def url(self, notebook: str) -> str:
        return f"{self.base}/lab/tree/{notebook}?token={self.token}"

    def chromium(self) -> Path:
        """The executable Playwright starts: Chromium itself, or a launcher into our namespace."""
        if not self.isolated:
            return CHROMIUM
        launcher = self.home / "chromium-in-netns"
        launcher.write_text(f'#!/bin/sh\nexec nsenter --net={self.netns} -- {CHROMIUM} "$@"\n')
        launcher.chmod(0o755)
        return launcher

    # -- stop -------------------------------------------------------------------
    def stop(self) -> None:
        """Shut kernels down gracefully, then the server; kill what is left of its group."""
        if self.proc is None:
            shutil.rmtree(self.home, ignore_errors=True)
            return
        if self.proc.poll() is None:
            with contextlib.suppress(Exception):
                for kernel in self.api("GET", "/api/kernels") or []:
                    with contextlib.suppress(Exception):
                        self.api("DELETE", f"/api/kernels/{kernel['id']}", timeout=60)
            with contextlib.suppress(Exception):
                self.api("POST", "/api/shutdown")
            try:
                self.proc.wait(SERVER_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)
        if self._reader is not None:
            self._reader.join(5)
        shutil.rmtree(self.home, ignore_errors=True)


# -- servers --------------------------------------------------------------------------
_servers: dict[str, LabServer] = {}
_SERVER_CONFIGS = {
    "live": ({"COURSE_BACKEND": "live"}, ()),
    "replay": ({"DOCKER_HOST": "unix:///nonexistent/docker.sock"},
               ("COURSE_BACKEND", "DOCKER_CONTEXT")),
}


@pytest.fixture(scope="session")
def lab_server():
    """A factory: ``lab_server("live")`` or ``lab_server("replay")``, one per session each.

    live: the engine the rest of the tests use (``COURSE_BACKEND=live``).
    replay: ``COURSE_BACKEND`` unset and ``DOCKER_HOST`` pointing at a socket
    that does not exist, so the course finds no engine and replays.
    """

    def get(name: str) -> LabServer:
        if name not in _servers:
            env, unset = _SERVER_CONFIGS[name]
            server = LabServer(name, env, unset)
            try:
                server.start()
            except BaseException:
                server.stop()
                raise
            _servers[name] = server
        return _servers[name]

    yield get
    errors = []
    for server in list(_servers.values()):
        try:
            server.stop()
        except Exception as exc:  # noqa: BLE001 - stop every server, then report
            errors.append(f"{server.name}: {exc}")
    _servers.clear()
    assert not errors, f"could not stop JupyterLab: {errors}"


# -- browser --------------------------------------------------------------------------
@pytest.fixture(scope="session")
def playwright_driver():
    """The Playwright driver (one per session); stopped at the end."""
    if not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"the browser tests need Debian's Chromium at {CHROMIUM}: run scripts/browser-deps.sh "
            "(as root) or `make setup`.", pytrace=False)
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    yield driver
    driver.stop()


class Browser:
    """A fresh Chromium profile and one page; requests beyond loopback fail and are noted.

    Attributes:
        page: the Playwright page.
        outside: URLs the browser tried to reach beyond loopback.
        failed: requests that failed, with the reason (for diagnosis).
    """

    def __init__(self, driver, profile: Path, executable: Path) -> None:
        self.outside: list[str] = []
        self.failed: list[str] = []
        self.context = driver.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(executable),
            headless=True,
            args=[*CHROMIUM_FLAGS, _dead_end_proxy()],
            viewport={"width": 1400, "height": 1000},
            service_workers="block",
        )
        self.context.set_default_timeout(30_000)
        # Passive listeners: they note requests but never hold them up.
        self.context.on("request", self._request)
        self.context.on("requestfailed", self._failed)
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()

    def _request(self, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in _LOOPBACK:
            self.outside.append(request.url)

    def _failed(self, request) -> None:
        self.failed.append(f"{request.url}: {request.failure}")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def browser(playwright_driver) -> Iterator[Callable[[LabServer], Browser]]:
    """A factory: ``browser(server)`` starts a fresh headless Chromium (new temp profile)
    that can reach ``server``; every one is closed after the test, even on failure."""
    made: list[tuple[Browser, Path]] = []

    def open_for(server: LabServer) -> Browser:
        profile = Path(tempfile.mkdtemp(prefix="dnc-chromium-"))
        try:
            b = Browser(playwright_driver, profile, server.chromium())
        except BaseException:
            shutil.rmtree(profile, ignore_errors=True)
            raise
        made.append((b, profile))
        return b

    yield open_for
    outside = []
    for b, profile in made:
        with contextlib.suppress(Exception):
            b.close()
        shutil.rmtree(profile, ignore_errors=True)
        outside += b.outside
    assert not outside, f"the browser tried to reach beyond loopback: {outside}"


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """Screenshot naming: ``artifacts/browser/<test>-<state>.png`` (old ones removed first)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()

    def path(state: str) -> Path:
        return ARTIFACTS / f"{name}-{state}.png"

    return path


def pytest_sessionfinish(session, exitstatus) -> None:  # noqa: ARG001
    # Last resort if a fixture finaliser could not run (e.g. an interrupted session).
    for server in list(_servers.values()):
        with contextlib.suppress(Exception):
            server.stop()
    _servers.clear()
