"""Shared fixtures: a live engine (missing engine = failure) and the leak check."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("COURSE_BACKEND", "live")
# Kernels started by this run (nbval, the browser tests) use Jupyter's inline backend,
# as in JupyterLab: a backend set in the environment would hide every figure.
os.environ.pop("MPLBACKEND", None)
os.environ.setdefault("COURSE_NO_PULL", "1")


def pytest_configure(config):
    """Stop nbval's kernels the way JupyterLab does, so the run checks what a learner gets.

    nbval kills each notebook's kernel (``shutdown_kernel(now=True)``: SIGKILL); JupyterLab's
    Restart and Shut Down ask the kernel to exit, and the kernel's exit ends the chapter's
    session (the chapters do not close their Lab: a learner's exercises go on after Run All).
    Asked the same way here, the leak check below proves that a kernel's exit leaves nothing.
    """
    try:
        from nbval.kernel import RunningKernel
    except ImportError:  # a run without nbval
        return

    def stop(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)
        del self.km

    RunningKernel.stop = stop


def _course_objects(client) -> dict[str, str]:
    from course_helpers.core.sessions import COURSE_VALUE, LABEL_COURSE, LABEL_SESSION

    selector = {"label": f"{LABEL_COURSE}={COURSE_VALUE}"}
    found = {}
    # The low-level listings: one request each, no per-object inspect that could
    # race with a container removing itself.
    for c in client.api.containers(all=True, filters=selector):
        found[c["Id"]] = (c.get("Labels") or {}).get(LABEL_SESSION, "")
    for n in client.api.networks(filters=selector):
        found[n["Id"]] = (n.get("Labels") or {}).get(LABEL_SESSION, "")
    return found


@pytest.fixture(scope="session")
def docker_client():
    """A client for the live engine; fails (never skips) when none answers."""
    from course_helpers.core.engine import connect
    from course_helpers.core.errors import EngineUnavailable

    try:
        client = connect()
    except EngineUnavailable as exc:
        pytest.fail(f"live tests need a Docker engine: {exc}", pytrace=False)
    yield client
    client.close()


def pytest_sessionfinish(session, exitstatus):
    """After the whole run: no course object left by a session that has ended.

    A hook, not a fixture: nbval's notebook cells are not functions, and fixtures never
    run for them. A leak fails the run (exit status 1) and names the objects.
    """
    from course_helpers.core.engine import connect
    from course_helpers.core.errors import EngineUnavailable
    from course_helpers.core.sessions import session_alive

    try:
        client = connect()
    except EngineUnavailable:
        return  # unit-only runs on a machine without an engine
    try:
        leaked = {oid: s for oid, s in _course_objects(client).items() if not session_alive(s)}
    finally:
        client.close()
    if leaked:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        line = f"course objects leaked by ended sessions: {sorted(leaked)}"
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(f"LEAK CHECK FAILED: {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def lab(docker_client):
    """A live Lab, closed after the test; asserts it left nothing behind."""
    from course_helpers import Lab

    with Lab("test", client=docker_client, backend="live") as session:
        yield session
    left = [oid for oid, sid in _course_objects(docker_client).items() if sid == session.session]
    assert not left, f"the Lab left {left} behind"
