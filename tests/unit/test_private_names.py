"""No module of the package touches another's private names.

ruff's PLC2701 (import-private-name, enabled in pyproject.toml) catches private
names imported from outside the importing package, such as a test importing
``course_helpers.core.sessions._lock_path``; it lets imports inside one package
pass and never sees attribute access. This walks every module's syntax tree for
both: ``from .x import _name`` of another module's private name, and
``something._name`` on anything but ``self`` or ``cls``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import course_helpers

PACKAGE = Path(course_helpers.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))


def private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def reaches(source: str) -> list[str]:
    """Where ``source`` imports or reads another object's private name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            found += [f"line {node.lineno}: imports {alias.name}"
                      for alias in node.names if private(alias.name)]
        elif isinstance(node, ast.Attribute) and private(node.attr):
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                found.append(f"line {node.lineno}: reads .{node.attr}")
    return found


def test_the_walk_finds_both_kinds():
    assert reaches("from .lab import _probe\nlab._check_open()\nself._ok = 1\n") == [
        "line 1: imports _probe", "line 2: reads ._check_open"]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_touches_another_modules_private_names(path):
    assert reaches(path.read_text(encoding="utf-8")) == [], (
        f"{path.relative_to(PACKAGE)} reaches into private names: give the owner a public one")
