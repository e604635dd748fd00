"""The examples in the helpers' docstrings run as written (no engine needed)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import course_helpers


def _with_examples() -> list[str]:
    """Modules of the package whose docstrings hold at least one example."""
    names = []
    for info in pkgutil.iter_modules(course_helpers.__path__, "course_helpers."):
        module = importlib.import_module(info.name)
        if any(t.examples for t in doctest.DocTestFinder().find(module)):
            names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _with_examples())
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0, f"{name}: {result}"
