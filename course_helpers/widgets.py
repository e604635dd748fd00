"""Interactive pieces of the chapters: the mode explorer, quizzes and exercise checks.

Introduced in chapter 03 (网络模式, network modes: the mode explorer); every
chapter ends its exercises with :func:`self_check` and a :func:`quiz`. As in the
jupyter-widgets tutorial, the logic (:class:`ModeExplorerModel`,
:func:`check_answer`, :func:`check_value`, :func:`interface_table_html`) is kept
apart from the widgets that show it, so it is tested without a browser. Widgets
carry stable CSS classes (``dnc-…``) for the browser tests.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import Image, display

from .errors import BadInput, CourseError
from .modes import MODES, ModeSnapshot, check_mode
from .plots import draw_topology

_RIGHT, _WRONG = "#009E73", "#D55E00"  # Okabe-Ito bluish green and vermillion


# -- the mode explorer: model ---------------------------------------------------
class ModeExplorerModel:
    """What the mode explorer does, without widgets: run a mode, remember the containers.

    Introduced in chapter 03. Similar to ``docker run --rm --network MODE IMAGE ip addr``.

    Args:
        lab: the session that starts the containers (anything with ``run_in_mode``).

    Attributes:
        history: the snapshots taken so far, oldest first.
    """

    def __init__(self, lab: Any) -> None:
        self.lab = lab
        self.history: list[ModeSnapshot] = []

    def _session(self) -> Any:
        """The Lab to use: a closed one (after "Run All" reached ``lab.close()``) is
        replaced by a fresh session of the same chapter and backend."""
        if getattr(self.lab, "closed", False):
            self.lab = type(self.lab)(self.lab.chapter, backend=self.lab.backend)
            self.history.clear()
        return self.lab

    @property
    def containers(self) -> list[str]:
        """Targets container mode can join: the containers this explorer started, then
        the other containers of its Lab (those the notebook's cells started)."""
        own = [s.container for s in self.history]
        return list(dict.fromkeys(own + list(getattr(self.lab, "container_names", []))))

    def run(self, mode: str, target: str | None = None) -> tuple[ModeSnapshot, list[dict]]:
        """Start a container in ``mode`` and read its interfaces.

        Args:
            mode: ``bridge``, ``host``, ``none`` or ``container``.
            target: for container mode, the container to join; ignored otherwise.

        Returns:
            The snapshot and its interface table (:meth:`ModeSnapshot.table`).

        Raises:
            BadInput: unknown mode, or container mode without a target.
            CourseError: whatever the Lab raises (engine refused, no such target …).
        """
        target = target.strip() if isinstance(target, str) else target
        mode, target = check_mode(mode, target or None)
        lab = self._session()
        snap = lab.run_in_mode(mode, target) if mode == "container" else lab.run_in_mode(mode)
        if not self.history and hasattr(lab, "keep_warm"):
            lab.keep_warm()  # the learner is exploring: have the next containers ready
        self.history.append(snap)
        return snap, snap.table()


def interface_table_html(rows: list[dict[str, Any]]) -> str:
    """An HTML table with one ``<tr>`` per interface, the name in its first ``<td>``.

    Introduced in chapter 03. The rows of :meth:`ModeSnapshot.table`; every
    cell says what it is, so the table needs no header row.
    """
    body = []
    for row in rows:
        cells = [
            ("name", f"<b>{html.escape(str(row['name']))}</b>"),
            ("index", f"ifindex {row['index']}"),
            ("peer", f"peer {html.escape(row['peer'])}" if row["peer"] else "no peer"),
            ("state", "UP" if row["up"] else "DOWN"),
            ("mac", html.escape(row["mac"]) or "no MAC"),
            ("addresses", html.escape(row["addresses"]) or "no address"),
        ]
        tds = "".join(f"<td class='dnc-col-{key}' style='padding:2px 10px'>{value}</td>"
                      for key, value in cells)
        body.append(f"<tr class='dnc-iface-row'>{tds}</tr>")
    return ("<table class='dnc-iface-table' style='border-collapse:collapse;font-family:monospace'>"
            f"{''.join(body)}</table>")


# -- the mode explorer: gui ---------------------------------------------------
def _one_sentence(err: Exception) -> str:
    if isinstance(err, CourseError):
        return str(err)
    return f"Something unexpected went wrong ({type(err).__name__}: {err})."


def _figure_png(snap: ModeSnapshot) -> bytes:
    fig = draw_topology(snap)
    try:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90)
        return buf.getvalue()
    finally:
        plt.close(fig)


def mode_explorer(lab: Any) -> widgets.VBox:
    """A small app: pick a network mode, run a container in it, see its interfaces.

    Introduced in chapter 03 (网络模式). Each "Run" is ``docker run --network MODE
    IMAGE ip addr``: the table lists the interfaces and the picture shows the
    topology. Container mode joins a container named in "target"; the names of
    the containers started earlier are offered there. Errors show as one
    sentence. CSS classes: ``dnc-explorer`` (the box), ``dnc-mode``,
    ``dnc-target``, ``dnc-run``, ``dnc-status``, ``dnc-cli``, ``dnc-table``
    (holding ``table.dnc-iface-table``) and ``dnc-figure`` (an Output with an ``<img>``).

    Args:
        lab: the session that starts the containers.

    Returns:
        The widget; display it as the cell's last expression.
    """
    model = ModeExplorerModel(lab)
    mode = widgets.Dropdown(options=list(MODES), value="bridge", description="mode")
    target = widgets.Combobox(placeholder="a running container's name", description="target",
                              options=tuple(model.containers), disabled=True,
                              ensure_option=False)
    run = widgets.Button(description="Run", button_style="primary", icon="play")
    status = widgets.HTML("Pick a mode and press Run.")
    cli = widgets.HTML("")
    table = widgets.HTML("")
    figure = widgets.Output()
    for widget, css in [(mode, "dnc-mode"), (target, "dnc-target"), (run, "dnc-run"),
                        (status, "dnc-status"), (cli, "dnc-cli"), (table, "dnc-table"),
                        (figure, "dnc-figure")]:
        widget.add_class(css)

    def on_mode(change: dict) -> None:
        target.disabled = change["new"] != "container"

    def on_run(_button: widgets.Button) -> None:
        run.disabled = True
        status.value = f"Running a container in {html.escape(mode.value)} mode…"
        try:
            snap, rows = model.run(mode.value, target.value)
        except Exception as err:  # noqa: BLE001 - shown as one sentence, not a traceback
            status.value = (f"<span class='dnc-error' style='color:{_WRONG}'>"
                            f"{html.escape(_one_sentence(err))}</span>")
            cli.value = table.value = ""
            figure.clear_output()
            return
        finally:
            run.disabled = False
        target.options = tuple(model.containers)
        status.value = html.escape(f"{snap.mode} mode: {snap.container} sees "
                                   f"{len(rows)} interface{'s' * (len(rows) != 1)}.")
        cli.value = f"<code>{html.escape(snap.cli)}</code>"
        table.value = interface_table_html(rows)
        png = _figure_png(snap)
        with figure:
            figure.clear_output(wait=True)
            display(Image(data=png, format="png"))

    mode.observe(on_mode, names="value")
    run.on_click(on_run)
    box = widgets.VBox([widgets.HBox([mode, target, run]), status, cli, table, figure])
    box.add_class("dnc-explorer")
    return box


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


def self_check(name: str, value: Any, expected_predicate: Callable[[Any], bool] | Any,
               hint: str) -> None:
    """Print the verdict on an exercise answer: not answered yet, a hint, or correct.

    Introduced in chapter 01. Similar in spirit to a unit test: the exercise's
    check cell calls it, and so does its hidden solution cell.

    Args:
        name: what the answer is called.
        value: the learner's answer (None until they set it).
        expected_predicate: a predicate true for a right answer, or the right value.
        hint: printed when the answer is wrong.
    """
    print(check_value(name, value, expected_predicate, hint))


#: The name CONTRIBUTING.md uses in exercise cells.
check = self_check
