"""Unit tests draw with matplotlib's Agg backend: no display, same output everywhere.

Only this process switches backend: no MPLBACKEND in the environment, which the
notebook kernels started later in the same run (nbval, the browser tests) would
inherit, and then show no figures.
"""

import os

import matplotlib
import pytest
from fakeengine import FakeDockerClient
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

#: Hypothesis profiles: the full example counts in CI (CI=true, as GitHub sets it), a
#: few locally so `make unit` stays quick. HYPOTHESIS_PROFILE picks one by hand.
settings.register_profile("ci", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.data_too_large])
PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or (
    "ci" if os.environ.get("CI", "").lower() == "true" else "dev")
settings.load_profile(PROFILE)


def examples(full: int) -> int:
    """``full`` examples under the ``ci`` profile, a twentieth (at least 25) under ``dev``."""
    return full if PROFILE == "ci" else max(25, full // 20)


@pytest.fixture
def clean_figures():
    """Draw as live does (no replay mark), and close whatever the test drew (other tests
    count the open figures). Figure tests use it module-wide through ``pytestmark``."""
    import matplotlib.pyplot as plt

    from course_helpers import figures

    figures.note_recording("")
    yield
    figures.note_recording("")
    plt.close("all")


@pytest.fixture
def client() -> FakeDockerClient:
    """One fake engine client (tests/unit/fakeengine.py), fresh for each test."""
    return FakeDockerClient()


@pytest.fixture
def lab(client, tmp_path, monkeypatch):
    """A real live :class:`Lab` on the fake client: its own lock folder, no recording."""
    from course_helpers import Lab

    monkeypatch.setenv("COURSE_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.delenv("COURSE_RECORD_DIR", raising=False)
    with Lab("99_test", client=client, backend="live", reap=False) as session:
        yield session
