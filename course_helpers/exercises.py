"""Exercises and quizzes: each defined once, checked by one name.

Introduced in chapter 00 (setup); every chapter has exercises with a
self-check and a quiz. As in the jupyter-widgets tutorial, the logic
(:func:`check_answer`, :func:`check_value`) is kept apart from the widgets that
show it, so it is tested without a browser. Widgets carry stable CSS classes
(``dnc-quiz…``) for the browser tests.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets

from .core.errors import BadInput

_RIGHT, _WRONG = "#009E73", "#D55E00"  # Okabe-Ito bluish green and vermillion


# -- quizzes ------------------------------------------------------------------
def _position(options: Sequence[str], item: str | int) -> int | None:
    if isinstance(item, int) and not isinstance(item, bool):
        return item if 0 <= item < len(options) else None
    return list(options).index(item) if item in options else None


def check_answer(options: Sequence[str], answer: str | int, choice: str | int | None,
                 explanation: str = "") -> tuple[bool, str]:
    """Is ``choice`` the right answer? Returns (correct, feedback).

    Introduced in chapter 01; every chapter's quiz uses it. The feedback
    starts with "Correct" or "Not quite"; only a correct answer gets the explanation.

    Args:
        options: the answers offered.
        answer: the right one, as its text or its position.
        choice: what the learner picked (text or position), None if nothing yet.
        explanation: said after "Correct.".

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
    return False, (f"Not quite: “{options[picked]}” is not it. Read the question again "
                   "and try another answer.")


def _inline(text: str) -> str:
    """Escape text, then show `backticks` as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def quiz(question: str, options: Sequence[str], answer: str | int,
         explanation: str = "") -> widgets.VBox:
    """A one-question quiz: radio buttons, a Check button and feedback.

    Introduced in chapter 01; every chapter has one. CSS classes: ``dnc-quiz``
    (the box), ``dnc-quiz-question``, ``dnc-quiz-options``, ``dnc-quiz-check``
    and ``dnc-quiz-feedback`` (its text starts with "Correct" or "Not quite").

    Args:
        question: the question (`backticks` show as code).
        options: the answers offered, all different.
        answer: the right one, as its text or its position.
        explanation: shown with a correct answer.

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
        correct, text = check_answer(options, answer, choices.value, explanation)
        colour, state = (_RIGHT, "right") if correct else (_WRONG, "wrong")
        feedback.value = (f"<span class='dnc-quiz-{state}' style='color:{colour}'>"
                          f"{_inline(text)}</span>")

    check.on_click(on_check)
    box = widgets.VBox([prompt, choices, check, feedback])
    box.add_class("dnc-quiz")
    return box


# -- exercises ------------------------------------------------------------------
def check_value(name: str, value: Any, expected: Callable[[Any], bool] | Any,
                hint: str) -> str:
    """The self-check's verdict on an exercise answer, as one line.

    Introduced in chapter 01; every chapter's exercises use it through :func:`self_check`.

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
    return f"{name}: correct." if ok else f"{name}: not yet. Hint: {hint}"


@dataclass(frozen=True)
class Exercise:
    """One exercise, defined once: its name, what a right answer is, and a hint.

    Introduced in chapter 00. The check cell and the hidden solution cell both call
    :meth:`check`, so the predicate and the hint are written only here.

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
