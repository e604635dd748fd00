"""The engine matrix's fixtures: engines started per module parameter, the table at the end.

Which engines run: ``$DNC_ENGINES`` (comma-separated names from
``harness.ENGINES``); by default every engine except ``bookworm``, the machine's
own engine, on which the ``live`` and ``notebooks`` stages of ``make test``
already run the whole suite.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor

import harness
import pytest

DEFAULT = tuple(e for e in harness.ENGINES if e != "bookworm")
SELECTED = tuple(filter(None, os.environ.get("DNC_ENGINES", ",".join(DEFAULT)).split(",")))
#: One row per engine run: filled by the tests, printed after the run.
MATRIX: dict[str, dict[str, object]] = {}


def pytest_generate_tests(metafunc):
    if "engine_name" in metafunc.fixturenames:
        unknown = [e for e in SELECTED if e not in harness.ENGINES]
        if unknown:
            raise pytest.UsageError(f"DNC_ENGINES names {unknown}: pick from {harness.ENGINES}")
        metafunc.parametrize("engine_name", SELECTED, scope="module")


@pytest.fixture(scope="session")
def root_file_systems() -> dict[str, Future]:
    """Every selected suite's root file system, built side by side (debootstrap, cached)."""
    suites = [s for s in SELECTED if s in harness.SUITES]
    pool = ThreadPoolExecutor(max_workers=max(1, len(suites)))
    futures = {s: pool.submit(harness.rootfs, s) for s in suites}
    yield futures
    pool.shutdown(wait=True)


@pytest.fixture(scope="module")
def engine(engine_name, root_file_systems):
    """The named engine, started for the module's tests and stopped after them."""
    if engine_name in root_file_systems:
        root_file_systems[engine_name].result()  # a failed debootstrap fails here
    eng = harness.engine(engine_name)
    try:
        eng.start()
    except harness.HarnessError as exc:
        pytest.fail(f"engine {engine_name} did not start: {exc}", pytrace=False)
    MATRIX.setdefault(engine_name, {})["version"] = eng.version
    yield eng
    if not isinstance(eng, harness.HostEngine):
        eng.stop()


@pytest.fixture(scope="session")
def matrix() -> dict[str, dict[str, object]]:
    """The table printed after the run: one row per engine, filled by the tests."""
    return MATRIX


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not MATRIX:
        return
    write = terminalreporter.write_line
    write("")
    write("engine matrix: engine | version | notebooks | live tests | leftover objects | seconds")
    for name, row in MATRIX.items():
        write(f"  {name:9} | {row.get('version', '?'):16} | {row.get('notebooks', '-'):9} | "
              f"{row.get('live', '-'):10} | {row.get('leftover', '-')!s:16} | "
              f"{row.get('seconds', '-')}")
