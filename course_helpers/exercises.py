"""Exercises and quizzes: a check that shows no answer, a solution shown on request.

Introduced in chapter 00 (setup); every chapter has exercises with a self-check
and a quiz. The right answers and the solutions live in the course's exercise bank
(:mod:`course_helpers.core.exercise_bank`), not in the notebooks: a check cell reads
``exercises.check(lab, answer_1=answer_1)``, works the right answer out from the
data the notebook read, and offers the solution behind a button; a quiz cell reads
``exercises.quizzes(lab)``. As in the jupyter-widgets tutorial, the logic
(:func:`check_answer`, :func:`verdict`, :func:`prove`) is kept apart from the widgets
that show it, so it is tested without a browser. Widgets carry stable CSS classes
(``dnc-quiz…``, ``dnc-solution…``) for the browser tests, and a readable text form for
places that cannot show widgets (an unrun notebook, the book).
"""

from __future__ import annotations

import html
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
from IPython.display import display

from .core.errors import BadInput
from .core.exercise_bank import QUIZZES, TASKS, Task

_RIGHT, _WRONG = "#009E73", "#D55E00"  # Okabe-Ito bluish green and vermillion


# -- quizzes ------------------------------------------------------------------
def _position(options: Sequence[str], item: str | int) -> int | None:
    if isinstance(item, int) and not isinstance(item, bool):
        return item if 0 <= item < len(options) else None
    return list(options).index(item) if item in options else None


def check_answer(options: Sequence[str], answer: str | int, choice: str | int | None,
                 explanation: str = "", where: str = "") -> tuple[bool, str]:
    """Is ``choice`` the right answer? Returns (correct, feedback).

    Introduced in chapter 00; every chapter's quiz uses it. The feedback
    starts with "Correct" or "Not quite"; only a correct answer gets the explanation.

    Args:
        options: the answers offered.
        answer: the right one, as its text or its position.
        choice: what the learner picked (text or position), None if nothing yet.
        explanation: said after "Correct.".
        where: the section a wrong answer is sent back to (its heading), if any.

    Raises:
        BadInput: ``answer`` is not one of ``options``.
    """
    right = _position(options, answer)
    if right is None:
        raise BadInput(f"The quiz answer {answer!r} is not one of its options: "
                       "give the right option's text or position.")
    if choice is None:
        return False, "Not quite: pick one of the answers first."
    picked = _position(options, choice)
    if picked is None:
        return False, "Not quite: that is not one of the answers offered."
    if picked == right:
        return True, f"Correct. {explanation}".strip()
    look = f"the section “{where}” above" if where else "the question"
    return False, f"Not quite: “{options[picked]}” is not it. Read {look} again, then try another."


def _inline(text: str) -> str:
    """Escape text, then show `backticks` as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def quiz(question: str, options: Sequence[str], answer: str | int,
         explanation: str = "", where: str = "") -> widgets.VBox:
    """A one-question quiz: radio buttons, a Check button and feedback.

    Introduced in chapter 00; every chapter has one. CSS classes: ``dnc-quiz``
    (the box), ``dnc-quiz-question``, ``dnc-quiz-options``, ``dnc-quiz-check``
    and ``dnc-quiz-feedback`` (its text starts with "Correct" or "Not quite").

    Args:
        question: the question (`backticks` show as code).
        options: the answers offered, all different.
        answer: the right one, as its text or its position.
        explanation: shown with a correct answer.
        where: the section of the chapter a wrong answer is sent back to.

    Raises:
        BadInput: fewer than two options, repeated options, or an answer not among them.
    """
    options = [str(o) for o in options]
    if len(options) < 2 or len(set(options)) != len(options):
        raise BadInput("A quiz needs at least two different options: check the list.")
    check_answer(options, answer, None)  # validates the answer now, not on the first click
    prompt = widgets.HTML(f"<b>{_inline(question)}</b>")
    choices = widgets.RadioButtons(options=options, value=None,
                                   layout=widgets.Layout(width="auto"))
    check = widgets.Button(description="Check")
    feedback = widgets.HTML("")
    for widget, css in [(prompt, "dnc-quiz-question"), (choices, "dnc-quiz-options"),
                        (check, "dnc-quiz-check"), (feedback, "dnc-quiz-feedback")]:
        widget.add_class(css)

    def on_check(_button: widgets.Button) -> None:
        correct, text = check_answer(options, answer, choices.value, explanation, where)
        colour, state = (_RIGHT, "right") if correct else (_WRONG, "wrong")
        feedback.value = (f"<span class='dnc-quiz-{state}' style='color:{colour}'>"
                          f"{_inline(text)}</span>")

    check.on_click(on_check)
    box = _Quiz([prompt, choices, check, feedback])
    box.text = "\n".join([f"Quiz: {question.replace('`', '')}",
                          *(f"  ( ) {o.replace('`', '')}" for o in options),
                          "(run the cell in JupyterLab to answer)"])
    box.add_class("dnc-quiz")
    return box


class _Quiz(widgets.VBox):
    """A quiz box whose text form is its question and options, not the widget tree."""

    text = ""

    def __repr__(self) -> str:
        return self.text or "Quiz"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        """The widget view, with this box's own text where widgets cannot show."""
        return {"text/plain": repr(self),
                "application/vnd.jupyter.widget-view+json": {
                    "version_major": 2, "version_minor": 0, "model_id": self.model_id}}


class _Quizzes(_Quiz):
    """The quizzes of a chapter, one after the other."""

    def __repr__(self) -> str:
        return "\n\n".join(repr(child) for child in self.children)


# -- exercises ------------------------------------------------------------------
#: How a type is named to a learner, in a type hint.
_TYPE_NAMES = {set: "a set, written {…}", frozenset: "a set, written {…}",
               list: "a list, written […]", tuple: "a tuple, written (…, …)",
               str: "text in quotes", int: "a whole number", float: "a number",
               bool: "True or False", dict: "a dict"}


def _type_name(kind: type) -> str:
    name = kind.__name__
    return _TYPE_NAMES.get(kind, f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name} object")


def _one_inside(value: Any, right: Any, same: Callable[[Any, Any], bool]) -> bool:
    """True when ``value`` is a list, tuple or set holding just the right answer."""
    if not isinstance(value, (list, tuple, set, frozenset)) or len(value) != 1 \
            or isinstance(right, (list, tuple, set, frozenset)):
        return False
    [inner] = list(value)
    try:
        return bool(same(inner, right)) or type_hint(inner, right, same) is not None
    except Exception:  # noqa: BLE001 - no hint is better than a confusing one
        return False


def type_hint(value: Any, right: Any, same: Callable[[Any, Any], bool] = operator.eq) -> str | None:
    """A hint when ``value`` is the right answer in the wrong type, else None.

    Introduced in chapter 00. A list holding the right names where a set is asked,
    or the right number written as text, is answered with what type is asked for.
    """
    kind = type(right)
    if isinstance(right, str) and getattr(value, "name", None) == right:
        return "the right one, but the whole object: the task asks for its name, as text (.name)"
    if _one_inside(value, right, same):
        return (f"the right value, but inside {_type_name(type(value))}: the task asks for "
                f"{_type_name(kind)} on its own")
    if value is None or isinstance(value, kind) or kind is bool or isinstance(value, bool):
        return None
    try:
        converted = kind(value)
    except (TypeError, ValueError):
        return None
    try:
        if not same(converted, right):
            return None
    except Exception:  # noqa: BLE001 - no hint is better than a confusing one
        return None
    hint = (f"the right value, but as {_type_name(type(value))}: the task asks for "
            f"{_type_name(kind)}")
    return hint + (" (str(...) turns it into text)" if kind is str else "")


def check_value(name: str, value: Any, expected: Callable[[Any], bool] | Any,
                hint: str) -> str:
    """The self-check's verdict on an exercise answer, as one line.

    Introduced in chapter 00; every chapter's exercises use it through :func:`check`.

    Args:
        name: what the answer is called (``"docker0_ip"``).
        value: the learner's answer; None means not answered yet.
        expected: a predicate that is true for a right answer, or the right value itself.
        hint: said when the answer is wrong.

    Returns:
        "NAME: not answered yet …", "NAME: not yet. Hint: …" or "NAME: correct."
    """
    if value is None:
        return f"{name}: not answered yet (set it in the cell above and run that cell)."
    try:
        ok = bool(expected(value)) if callable(expected) else value == expected
    except Exception:  # noqa: BLE001 - an answer of the wrong type is simply wrong
        ok = False
    if ok:
        return f"{name}: correct."
    typed = None if callable(expected) else type_hint(value, expected)
    return f"{name}: not yet. Hint: {typed or hint}"


@dataclass(frozen=True)
class Exercise:
    """One exercise, defined once: its name, what a right answer is, and a hint.

    Introduced in chapter 00. Kept for exercises of your own; the course's exercises
    live in the exercise bank and are checked with :func:`check`.

    Args:
        name: what the answer is called (``"docker0_veths"``).
        expected: a predicate true for a right answer, or the right value itself.
        hint: said when the answer is wrong.
    """

    name: str
    expected: Callable[[Any], bool] | Any
    hint: str

    def verdict(self, value: Any) -> str:
        """The verdict on ``value`` as one line (see :func:`check_value`)."""
        return check_value(self.name, value, self.expected, self.hint)

    def check(self, value: Any) -> None:
        """Print the verdict on an answer: not answered yet, a hint, or correct."""
        print(self.verdict(value))


def notebook_data() -> dict[str, Any]:
    """The variables of the notebook that runs this (empty outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with ipywidgets
        return {}
    shell = get_ipython()
    return dict(shell.user_ns) if shell is not None else {}


def _chapter_of(lab: Any) -> str:
    chapter = getattr(lab, "chapter", lab)
    if chapter not in TASKS:
        raise BadInput(f"There are no exercises for {chapter!r}: pass the notebook's lab "
                       f"(its chapter is one of {', '.join(TASKS)}).")
    return chapter


def _task(chapter: str, name: str) -> Task:
    for task in TASKS[chapter]:
        if task.name == name:
            return task
    raise BadInput(f"Chapter {chapter} has no exercise called {name}: the exercises set "
                   f"{', '.join(t.name for t in TASKS[chapter])}.")


def verdict(task: Task, value: Any, data: Mapping[str, Any]) -> str:
    """The verdict on the learner's ``value`` for ``task``, as one line.

    Introduced in chapter 00. The right answer is worked out from ``data`` (the
    notebook's variables); a right value of the wrong type gets a hint about the type.
    """
    if value is None:
        return check_value(task.name, None, None, task.hint)
    try:
        right = task.right(data)
    except Exception:  # noqa: BLE001 - a variable the exercise reads is missing or changed
        return (f"{task.name}: cannot be checked yet: run the notebook's cells above the "
                "exercise first (Run > Run All Above Selected Cell), then this one again.")
    try:
        ok = bool(task.same(value, right))
    except Exception:  # noqa: BLE001 - an answer of the wrong type is simply wrong
        ok = False
    if ok:
        return f"{task.name}: correct."
    hint = type_hint(value, right, task.same) or task.hint
    return f"{task.name}: not yet. Hint: {hint}"


def prove(task: Task, data: Mapping[str, Any]) -> str | None:
    """Run ``task``'s solution on a copy of ``data``; None when it gives the right answer,
    else one sentence saying what went wrong.

    Introduced in chapter 00. The copy keeps the learner's own variables untouched, so a
    check cell proves the course's solution on the learner's engine (and under nbval on
    every engine of the test matrix) without giving the answer away.
    """
    scope = dict(data)
    try:
        exec(compile(task.solution, f"<solution of {task.name}>", "exec"), scope)  # noqa: S102
        ok = bool(task.same(scope[task.name], task.right(data)))
    except Exception as err:  # noqa: BLE001 - reported as one sentence below
        return (f"(The course's own solution for {task.name} failed here: "
                f"{type(err).__name__}: {err}.)")
    if ok:
        return None
    return (f"(The course's own solution for {task.name} gives {scope[task.name]!r}, not the "
            "right answer, on this engine: if you changed none of the notebook's variables, "
            "please report it.)")


class Solution:
    """The solutions of some exercises, shown on request (never run in the notebook).

    Introduced in chapter 00. Shows as code in JupyterLab and as text elsewhere.
    """

    def __init__(self, chapter: str, names: Sequence[str]) -> None:
        self.tasks = [_task(chapter, name) for name in names]

    def code(self) -> str:
        """The solution code, one exercise after the other."""
        return "\n".join(task.solution for task in self.tasks)

    def __repr__(self) -> str:
        return self.code()

    def _repr_html_(self) -> str:
        return self.html()

    def html(self) -> str:
        """The solution code as an HTML ``<pre>`` block."""
        return (f"<pre class='dnc-solution-code' style='border-left:3px solid {_RIGHT};"
                f"padding-left:8px'>{html.escape(self.code())}</pre>")


def solution(lab: Any, *names: str) -> Solution:
    """One way to get the answers of the exercises ``names`` of ``lab``'s chapter.

    Introduced in chapter 00. Only shows the code: copy it into a cell of your own to
    run it. Nothing is run, so your own variables stay as they are.

    Raises:
        BadInput: the chapter or an exercise name is unknown.
    """
    chapter = _chapter_of(lab)
    return Solution(chapter, names or [t.name for t in TASKS[chapter]])


class _Reveal(_Quiz):
    """A "Show the solution" button whose text form says what it is."""

    text = ("[Show the solution] (a button: press it in JupyterLab to see one way to get "
            "the answer)")


def reveal_button(shown: Solution) -> widgets.VBox:
    """A button that shows ``shown`` when pressed (and nothing before).

    Introduced in chapter 00. CSS classes: ``dnc-solution`` (the box),
    ``dnc-solution-show`` (the button) and ``dnc-solution-code`` (the code, once shown).
    """
    button = widgets.Button(description="Show the solution", icon="eye",
                            layout=widgets.Layout(width="auto"))
    code = widgets.HTML("")
    button.add_class("dnc-solution-show")

    def on_click(_button: widgets.Button) -> None:
        code.value = shown.html()
        button.layout.display = "none"

    button.on_click(on_click)
    box = _Reveal([button, code])
    box.add_class("dnc-solution")
    return box


def check(lab: Any, /, **answers: Any) -> None:
    """Check the exercise answers given by name: ``check(lab, answer_1=answer_1)``.

    Introduced in chapter 00. Prints one verdict per answer ("not answered yet", a
    hint, or "correct"), worked out from the data the notebook read, then offers the
    solution behind a button. While the session is open it also runs the course's own
    solution on a copy of the notebook's variables and says so if that solution is
    wrong on this engine (so nbval proves every solution on every engine).

    Raises:
        BadInput: the chapter or an exercise name is unknown.
    """
    chapter = _chapter_of(lab)
    data = notebook_data()
    data.update({k: v for k, v in answers.items() if k not in data})
    tasks = [_task(chapter, name) for name in answers]
    for task in tasks:
        print(verdict(task, answers[task.name], data))
    if not getattr(lab, "closed", True) and not isinstance(lab, str):
        for task in tasks:
            problem = prove(task, data)
            if problem:
                print(problem)
    display(reveal_button(Solution(chapter, list(answers))))


def quizzes(lab: Any) -> widgets.VBox:
    """The quiz of ``lab``'s chapter: one question after the other.

    Introduced in chapter 00. The answers stay in the course's exercise bank.
    """
    chapter = _chapter_of(lab)
    boxes = [quiz(q.question, q.options, q.answer, q.explanation, q.where)
             for q in QUIZZES[chapter]]
    box = _Quizzes(boxes)
    box.add_class("dnc-quizzes")
    return box
