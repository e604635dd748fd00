"""Exercises and quizzes give nothing away, and their solutions are proved, not run.

No engine: the notebook's data is faked with small stand-ins; the live proof runs in
every check cell under nbval (see ``exercises.check``).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from course_helpers import exercises
from course_helpers.core.exercise_bank import QUIZZES, TASKS, Task

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = {p.stem: p for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))}


def code_cells(stem: str) -> list[str]:
    cells = json.loads(NOTEBOOKS[stem].read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def checked_names(stem: str) -> list[str]:
    """The answers the notebook's check cells pass to exercises.check, in order."""
    names = []
    for source in code_cells(stem):
        for node in ast.walk(ast.parse(source)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "check"
                    and getattr(node.func.value, "id", "") == "exercises"):
                names += [kw.arg for kw in node.keywords]
    return names


def test_every_chapter_has_exercises_and_a_quiz():
    assert set(TASKS) == set(NOTEBOOKS) == set(QUIZZES)
    for stem in NOTEBOOKS:
        assert len(TASKS[stem]) >= 2 and QUIZZES[stem], stem


@pytest.mark.parametrize("stem", sorted(NOTEBOOKS))
def test_each_notebook_checks_exactly_its_exercises(stem):
    assert checked_names(stem) == [t.name for t in TASKS[stem]]


@pytest.mark.parametrize("stem", sorted(NOTEBOOKS))
def test_no_notebook_cell_holds_a_solution_or_an_answer(stem):
    code = "\n".join(code_cells(stem))
    assert "# Solution" not in code
    for task in TASKS[stem]:
        for line in task.solution.splitlines():
            line = line.split("#")[0].strip()
            assert not line or line not in code, f"{stem}: a cell holds the solution {line!r}"
    assert "exercises.quiz(" not in code, f"{stem}: a quiz cell shows its answer"
    assert "exercises.Exercise(" not in code, f"{stem}: a check cell shows its right answer"


@pytest.mark.parametrize("task", [t for tasks in TASKS.values() for t in tasks],
                         ids=lambda t: t.name)
def test_every_solution_is_valid_python_that_sets_its_variable(task):
    tree = ast.parse(task.solution)
    targets = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
               for t in node.targets if isinstance(t, ast.Name)}
    assert task.name in targets


BUS = TASKS["01_host_interfaces"][2]
PORT = TASKS["05_going_further"][2]
REACH = TASKS["05_going_further"][1]
REACH_DATA = {"roles": ["a", "b", "c", "d1"], "matrix": [[1, 0, 0, 1], [0, 1, 1, 1],
                                                          [0, 1, 1, 0], [1, 1, 0, 1]]}


@pytest.mark.parametrize(("task", "data", "value", "starts"), [
    (BUS, {}, None, "bus_slot: not answered yet"),
    (BUS, {}, (3, 0), "bus_slot: not yet. Hint: p<bus>s<slot>"),
    (BUS, {}, [0, 3], "bus_slot: not yet. Hint: the right value, but as a list"),
    (BUS, {}, (0, 3), "bus_slot: correct."),
    (PORT, {"web": SimpleNamespace(host_port=32768)}, "32768",
     "host_port: not yet. Hint: the right value, but as text in quotes"),
    (PORT, {"web": SimpleNamespace(host_port=32768)}, 32768, "host_port: correct."),
    (PORT, {"web": SimpleNamespace(host_port=32768)}, [32768],
     "host_port: not yet. Hint: the right value, but inside a list, written […]: the task asks "
     "for a whole number on its own"),
    (PORT, {"web": SimpleNamespace(host_port=32768)}, ("32768",),
     "host_port: not yet. Hint: the right value, but inside a tuple"),
    (PORT, {"web": SimpleNamespace(host_port=32768)}, [32768, 1],
     "host_port: not yet. Hint: print(web.host_port)"),
    (REACH, REACH_DATA, ["b", "c", "d1"], "b_reaches: not yet. Hint: the right value, but as a "
                                          "list"),
    (REACH, REACH_DATA, {"b", "c", "d1"}, "b_reaches: correct."),
    (REACH, REACH_DATA, {"c"}, "b_reaches: not yet. Hint: b is on beta only"),
])
def test_verdicts_none_wrong_wrong_type_right(task, data, value, starts):
    assert exercises.verdict(task, value, data).startswith(starts)


def test_a_verdict_without_the_notebooks_data_says_to_run_the_cells_above():
    text = exercises.verdict(PORT, 80, {})
    assert "cannot be checked yet" in text and "Run All Above" in text


def test_the_proof_runs_on_a_copy_and_leaves_the_learners_variables_alone():
    data = {"web": SimpleNamespace(host_port=32768), "host_port": None}
    assert exercises.prove(PORT, data) is None
    assert data["host_port"] is None


def test_a_wrong_or_failing_solution_is_reported():
    wrong = Task("n", lambda d: 2, "h", "n = 1 + 2")
    assert "gives 3" in exercises.prove(wrong, {})
    broken = Task("n", lambda d: 2, "h", "n = missing")
    assert "failed here: NameError" in exercises.prove(broken, {})


def test_check_prints_verdicts_proves_while_open_and_offers_the_solution(monkeypatch, capsys):
    shown = []
    monkeypatch.setattr(exercises, "display", shown.append)
    monkeypatch.setattr(exercises, "notebook_data", lambda: {"web": SimpleNamespace(
        host_port=8080), "roles": REACH_DATA["roles"], "matrix": REACH_DATA["matrix"]})
    lab = SimpleNamespace(chapter="05_going_further", closed=False)
    exercises.check(lab, host_port="8080", b_reaches=None)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("host_port: not yet. Hint: the right value")
    assert out[1].startswith("b_reaches: not answered yet")
    # b_reaches's solution needs pg, which this notebook stand-in lacks: the proof says so
    assert len(out) == 3 and "solution for b_reaches failed here" in out[2]
    lab.closed = True
    exercises.check(lab, host_port=8080)
    assert capsys.readouterr().out.splitlines() == ["host_port: correct."], \
        "a closed session is not asked to prove anything"
    assert "Show the solution" in repr(shown[0])
    assert "host_port = web.host_port" not in repr(shown[0]), "the button hides the code"


def test_the_solution_button_shows_the_code_only_when_pressed():
    box = exercises.reveal_button(exercises.solution("00_setup", "answer_1"))
    button, code = box.children
    assert code.value == ""
    button.click()
    assert "facts.storage_driver" in code.value and button.layout.display == "none"
    assert "dnc-solution" in box._dom_classes


def test_unknown_chapters_and_names_are_one_sentence():
    with pytest.raises(exercises.BadInput, match="no exercises for"):
        exercises.solution("99_nothing")
    with pytest.raises(exercises.BadInput, match="no exercise called"):
        exercises.solution("00_setup", "answer_9")


def test_quizzes_show_their_question_as_text_and_keep_their_answer():
    box = exercises.quizzes("03_network_modes")
    text = box._repr_mimebundle_()["text/plain"]
    assert text.startswith("Quiz: A second container") and "( ) none" in text
    assert "VBox" not in text and "Correct" not in text and "`" not in text
    quiz = box.children[1]
    choices = next(w for w in quiz.children if "dnc-quiz-options" in w._dom_classes)
    choices.value = "none"
    next(w for w in quiz.children if "dnc-quiz-check" in w._dom_classes).click()
    assert "Correct" in quiz.children[-1].value


def english_headings(chapter: str) -> set[str]:
    """The English part of every ## and ### heading of a chapter's notebook."""
    path = Path(__file__).resolve().parents[2] / "notebooks" / f"{chapter}.ipynb"
    found = set()
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith(("## ", "### ")):
                    found.add(line.lstrip("# ").split(" / ")[0].strip())
    return found


@pytest.mark.parametrize("chapter", sorted(QUIZZES))
def test_every_quiz_question_sends_a_wrong_answer_to_a_section_its_chapter_has(chapter):
    headings = english_headings(chapter)
    for q in QUIZZES[chapter]:
        assert q.where in headings, f"{chapter}: no section “{q.where}” ({sorted(headings)})"
        wrong = next(i for i in range(len(q.options)) if i != q.answer)
        correct, text = exercises.check_answer(q.options, q.answer, wrong, q.explanation, q.where)
        assert not correct and f"Read the section “{q.where}” above again" in text
