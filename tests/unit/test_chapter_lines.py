"""Every lesson module names the chapter that introduces it, and that name stays true.

The chapter a module names ("Introduced in chapter NN") must be the first notebook
that imports it, the way d2l's generated links cannot drift: move a call to an
earlier chapter, and this test asks for the docstring to follow.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path

import pytest

import course_helpers

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(course_helpers.__file__).parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: The lesson modules: flat modules of the package, and the figures package.
LESSONS = sorted([p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("_")]
                 + ["figures"])
LINE = re.compile(r"Introduced in chapter (\d\d)\b")


def imported_modules(notebook: Path) -> set[str]:
    """The course_helpers modules a notebook's code cells import."""
    found: set[str] = set()
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "course_helpers":
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "course_helpers."):
                found.add(node.module.split(".")[1])
            elif isinstance(node, ast.Import):
                found |= {a.name.split(".")[1] for a in node.names
                          if a.name.startswith("course_helpers.")}
    return found


def first_chapter(module: str) -> str | None:
    for notebook in NOTEBOOKS:
        if module in imported_modules(notebook):
            return notebook.name[:2]
    return None


def test_the_notebooks_are_found_and_import_lesson_modules():
    assert len(NOTEBOOKS) == 6
    assert {"environment", "hostview", "modes"} <= set().union(
        *(imported_modules(nb) for nb in NOTEBOOKS))


@pytest.mark.parametrize("module", LESSONS)
def test_the_module_names_the_first_chapter_that_imports_it(module):
    doc = importlib.import_module(f"course_helpers.{module}").__doc__ or ""
    named = LINE.findall(doc)
    assert len(named) == 1, (f"course_helpers.{module}'s docstring should say "
                             f"'Introduced in chapter NN' once: found {named}")
    first = first_chapter(module)
    assert first is not None, f"no notebook imports course_helpers.{module}: move or drop it"
    assert named[0] == first, (f"course_helpers.{module} says chapter {named[0]}, but "
                               f"notebook {first} is the first to import it: fix its docstring")


def test_notebooks_import_no_machinery_directly():
    """core/ is the machinery no notebook imports."""
    for notebook in NOTEBOOKS:
        assert "core" not in imported_modules(notebook), notebook.name


def figures_used(notebook: Path) -> set[str]:
    """The names a notebook's code cells read from ``figures`` (``figures.NAME``)."""
    found: set[str] = set()
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        try:
            tree = ast.parse("".join(cell["source"]))
        except SyntaxError:
            continue
        found |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
                  and isinstance(node.value, ast.Name) and node.value.id == "figures"}
    return found


#: Each public drawing's module (figures.HOMES), and the drawing modules themselves.
HOMES: dict[str, str] = importlib.import_module("course_helpers.figures").HOMES
DRAWINGS = sorted(set(HOMES.values()))


@pytest.mark.parametrize("module", DRAWINGS)
def test_each_drawing_module_names_the_first_chapter_that_draws_with_it(module):
    """The figures package is one lesson module to the notebooks; each of its drawing
    modules names the first chapter that calls one of its functions."""
    doc = importlib.import_module(f"course_helpers.figures.{module}").__doc__ or ""
    named = LINE.findall(doc)
    assert named, (f"course_helpers.figures.{module}'s docstring should say "
                   "'Introduced in chapter NN'")
    names = {name for name, home in HOMES.items() if home == module}
    first = next((nb.name[:2] for nb in NOTEBOOKS if names & figures_used(nb)), None)
    assert first is not None, f"no notebook draws with course_helpers.figures.{module}"
    assert named[0] == first, (f"course_helpers.figures.{module} says chapter {named[0]}, but "
                               f"notebook {first} is the first to draw with it")


def chapter_named(module: str) -> str:
    doc = importlib.import_module(f"course_helpers.{module}").__doc__ or ""
    return LINE.findall(doc)[0]


def lesson_imports(module: str) -> set[str]:
    """The lesson modules (and figures) that ``course_helpers.<module>`` imports."""
    flat = PACKAGE / f"{module}.py"
    path, level = (flat, 1) if flat.exists() else (PACKAGE / module / "__init__.py", 2)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == level:
            name = (node.module or "").split(".")[0]
            found |= {a.name for a in node.names} if not name else {name}
    return found & set(LESSONS)


@pytest.mark.parametrize("module", LESSONS)
def test_a_lesson_module_imports_no_module_of_a_later_chapter(module):
    """A chapter's helpers work without a later chapter's: 00 never reaches into 04."""
    own = chapter_named(module)
    later = {m: chapter_named(m) for m in lesson_imports(module) if chapter_named(m) > own}
    assert not later, f"course_helpers.{module} (chapter {own}) imports later chapters' {later}"
