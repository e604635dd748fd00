"""What importing the package costs: no Docker SDK and no matplotlib until they are used.

A replaying Lab (Binder) never talks to an engine, so it must not pay for the SDK and
its HTTP stack; a notebook pays for matplotlib when it draws (issue 14).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from course_helpers import figures

HEAVY = ("docker", "requests", "urllib3", "matplotlib")

PROGRAM = """
import json, os, sys
os.environ["COURSE_BACKEND"] = "replay"
os.environ["DOCKER_HOST"] = "unix:///nonexistent/docker.sock"
import course_helpers
from course_helpers import Lab, figures, modes, hostview, networks, environment
from course_helpers import architecture, apitrace, dns, ports, reach, playground, explorer
lab = Lab("03_network_modes")
snaps = modes.run_all_modes(lab)
before = sorted(m for m in {heavy} if m in sys.modules)
preloading = figures.PRELOAD["thread"] is not None
figures.draw_topology
after = sorted(m for m in {heavy} if m in sys.modules)
print(json.dumps([before, after, sorted(snaps), preloading]))
"""


def test_replay_imports_neither_the_sdk_nor_matplotlib_until_drawing():
    done = subprocess.run([sys.executable, "-c", PROGRAM.format(heavy=HEAVY)],
                          capture_output=True, text=True, check=True)
    before, after, modes, preloading = json.loads(done.stdout.strip().splitlines()[-1])
    assert before == [], f"importing the package and replaying imported {before}"
    assert not preloading, "a replaying Lab has nothing to overlap an import with"
    assert "matplotlib" in after, "figures.draw_topology did not import its module"
    assert "docker" not in after, "drawing imported the Docker SDK"
    assert modes == ["bridge", "container", "host", "none"]


PRELOAD = """
import json, sys
from course_helpers import figures
figures.preload()
thread = figures.PRELOAD["thread"]
figures.preloaded()
figures.preload()  # once per process
print(json.dumps([thread.name, thread.daemon, "matplotlib.pyplot" in sys.modules,
                  figures.PRELOAD["thread"] is thread]))
"""


def test_preload_imports_pyplot_once_in_a_background_thread():
    done = subprocess.run([sys.executable, "-c", PRELOAD], capture_output=True, text=True,
                          check=True)
    name, daemon, imported, same = json.loads(done.stdout.strip().splitlines()[-1])
    assert (name, daemon) == ("dnc-preload", True), "a daemon thread never holds up exit"
    assert imported and same


def test_preload_starts_nothing_once_pyplot_is_imported():
    program = ("import matplotlib.pyplot\nfrom course_helpers import figures\n"
               "figures.preload()\nprint(figures.PRELOAD['thread'])")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "None"


def first_matplotlib_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """Per scope (the module, each function), its first run-time import of matplotlib:
    ``(line, module)``. Imports under ``if TYPE_CHECKING:`` never run, so do not count."""
    scopes = [tree.body] + [node.body for node in ast.walk(tree)
                            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]

    def imports(body: list) -> Iterator[ast.Import | ast.ImportFrom]:
        for node in body:
            if isinstance(node, ast.ExceptHandler):
                yield from imports(node.body)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue  # a scope of its own
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                yield node
            elif isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
                yield from imports(node.orelse)
            else:
                for _, value in ast.iter_fields(node):
                    if isinstance(value, list):
                        yield from imports([v for v in value if isinstance(
                            v, (ast.stmt, ast.ExceptHandler))])

    found = []
    for body in scopes:
        for node in imports(body):
            if isinstance(node, ast.Import):
                hits = [a.name for a in node.names if a.name.split(".")[0] == "matplotlib"]
            else:
                hits = [f"from {node.module}"] if node.level == 0 and node.module and \
                    node.module.split(".")[0] == "matplotlib" else []
            if hits:
                found.append((node.lineno, hits[0]))
                break
    return found


def test_every_course_module_enters_matplotlib_through_pyplot():
    """What figures.preload relies on: a module's first import of matplotlib is the package
    or pyplot, never a submodule such as ``matplotlib.axes`` that pyplot itself imports
    (two threads entering by different doors could each wait for the other)."""
    package = Path(figures.__file__).resolve().parents[1]
    wrong = []
    for path in sorted(package.rglob("*.py")):
        for line, module in first_matplotlib_imports(ast.parse(path.read_text())):
            if module not in ("matplotlib", "matplotlib.pyplot"):
                wrong.append(f"{path.relative_to(package)}:{line} {module}")
    assert wrong == []


def test_the_entry_check_sees_a_submodule_import():
    tree = ast.parse("from matplotlib.axes import Axes\nimport matplotlib.pyplot\n"
                     "def f():\n    import matplotlib.pyplot as plt\n"
                     "if TYPE_CHECKING:\n    from matplotlib.figure import Figure\n")
    assert first_matplotlib_imports(tree) == [(1, "from matplotlib.axes"),
                                              (4, "matplotlib.pyplot")]


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
