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
