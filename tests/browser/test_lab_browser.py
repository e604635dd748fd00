"""The course as a learner meets it: JupyterLab in a real (headless) browser.

nbval re-executes notebooks but never renders them: widgets that do not load
(a front-end/kernel version mismatch), a figure that never appears or a quiz
that does not react pass nbval and fail a learner. These tests open a chapter
in JupyterLab, run all cells from the Run menu, and check what is on screen:
no error output, the backend banner, the figures as images, the mode explorer
working, a quiz answering. Each checked state is saved as
``artifacts/browser/<test>-<state>.png``; a failed check names its screenshot.
Once the notebook has run, the checks are independent: a test reports every
one that failed, not only the first.

Run only these: ``.venv/bin/pytest tests/browser`` (or ``-m browser``).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect

from course_helpers.core.replay import recording_dir

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
RECORDINGS = recording_dir()  # the set Binder replays: the newest engine's
CHAPTER = "03_network_modes"
#: Bounds (ms) on waits; generous because a live chapter starts real containers
#: and the machine may be busy. None of them is asserted.
OPEN_TIMEOUT = 90_000
RUN_ALL_TIMEOUT = 300_000
WIDGET_TIMEOUT = 60_000
STDERR = "application/vnd.jupyter.stderr"
#: The explorer's figure: an Image widget, or an <img> inside the figure's Output.
FIGURE = "img.dnc-figure, .dnc-figure img"


# -- reading the notebook file ------------------------------------------------------------
def figure_cells(nb: dict) -> list[int]:
    """Indexes (among all cells) of code cells that draw a figure.

    A cell draws a figure when its stored outputs (from a clean run) hold a PNG
    or its source ends a plot with ``plt.show()`` (CONTRIBUTING.md).
    """
    found = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        pngs = any("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
        if pngs or "plt.show()" in source:
            found.append(i)
    return found


def error_names() -> list[str]:
    """The course's own error class names (shown as ``Name: sentence``, without traceback)."""
    from course_helpers.core import errors

    names = {
        obj.__name__ for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, BaseException)
    }
    return sorted(names)


# -- a notebook on screen -------------------------------------------------------------------
class CheckFailed(AssertionError):
    pass


class NotebookPage:
    """One notebook open in JupyterLab, with a screenshot for every checked state.

    Args:
        browser: the conftest ``Browser`` (page and failed-request log).
        server: the ``LabServer`` it talks to.
        name: the notebook's path under the server's root.
        shots: ``state -> screenshot path``.
    """

    def __init__(self, browser, server, name: str, shots: Callable[[str], Path]) -> None:
        self.page: Page = browser.page
        self.failed_requests: list[str] = browser.failed
        self.server = server
        self.name = name
        self.shots = shots
        self.failures: list[str] = []
        self.panel = self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").first
        self.cells = self.panel.locator(".jp-Notebook .jp-Cell")

    # screenshots and check bookkeeping ------------------------------------------------------
    def shot(self, state: str, target: Locator | str | None = None) -> Path:
        """Save a screenshot of ``target``: an element, "notebook" (all cells) or the page."""
        path = self.shots(state)
        with contextlib.suppress(PlaywrightError):
            if target == "notebook":
                self.notebook_shot(path)
            elif isinstance(target, Locator) and target.count():
                target.first.screenshot(path=str(path))
            else:
                self.page.screenshot(path=str(path))
        return path

    def notebook_shot(self, path: Path, most: int = 15000) -> None:
        """The whole notebook in one picture: grow the window to its height, then restore it."""
        size = self.page.viewport_size
        scroller = self.panel.locator(".jp-Notebook .jp-WindowedPanel-outer").first
        cells = self.panel.locator(".jp-Notebook .jp-WindowedPanel-viewport").first
        height = cells.evaluate("n => n.offsetHeight")
        self.page.set_viewport_size({"width": size["width"], "height": min(height + 250, most)})
        try:
            self.page.wait_for_function(  # Lumino has laid out the taller window
                "n => n.clientHeight >= innerHeight - 200", arg=scroller.element_handle(),
                timeout=10_000)
            scroller.evaluate("n => { n.scrollTop = 0; }")
            self.page.screenshot(path=str(path))
        finally:
            self.page.set_viewport_size(size)
            self.page.wait_for_function("n => n.clientHeight < innerHeight",
                                        arg=scroller.element_handle(), timeout=10_000)

    @contextlib.contextmanager
    def state(self, state: str, target: Locator | str | None = None):
        """Check one state: a screenshot on success; on failure one named in the message."""
        try:
            yield
        except (AssertionError, PlaywrightError) as exc:
            if isinstance(exc, CheckFailed):
                raise
            path = self.shot(f"{state}-FAILED")
            lines = str(exc).splitlines()
            text = "\n".join(lines[:25])
            if len(lines) > 25:
                text += f"\n  … ({len(lines) - 25} more lines)"
            failed = "".join(f"\n  request failed: {f}" for f in self.failed_requests[-5:])
            raise CheckFailed(f"[{state}] {text}{failed}\n  screenshot: {path}") from None
        self.shot(state, target)

    def soft(self, check: Callable[..., None], *args) -> None:
        """Run a group of checks; note its failure and go on with the next group."""
        try:
            check(self, *args)
        except CheckFailed as exc:
            self.failures.append(str(exc))

    def finish(self) -> None:
        if self.failures:
            raise AssertionError(f"{len(self.failures)} check(s) failed:\n\n"
                                 + "\n\n".join(self.failures))

    def menu(self, menu: str, command: str) -> None:
        """Click a main-menu entry, like a learner: e.g. Run → Run All Cells."""
        self.page.locator(".lm-MenuBar-item", has_text=re.compile(rf"^{menu}$")).click()
        self.page.locator(f'.lm-Menu-item[data-command="{command}"]').click()

    # opening and running --------------------------------------------------------------------
    def open(self, n_cells: int) -> None:
        """Open the notebook by URL; wait for all its cells and an idle kernel."""
        self.page.goto(self.server.url(self.name), timeout=OPEN_TIMEOUT)
        expect(self.cells).to_have_count(n_cells, timeout=OPEN_TIMEOUT)
        expect(self.panel.locator(".jp-Notebook-ExecutionIndicator")).to_have_attribute(
            "data-status", "idle", timeout=OPEN_TIMEOUT)

    def clear_outputs(self) -> None:
        """Edit → Clear Outputs of All Cells: what shows afterwards comes from this run."""
        self.menu("Edit", "editmenu:clear-all")
        expect(self.panel.locator(".jp-OutputArea-output")).to_have_count(0)
        self.page.wait_for_function(
            """panel => [...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
                 .every(p => !/\\d|\\*/.test(p.textContent))""",
            arg=self.panel.element_handle())

    def run_all(self) -> None:
        """Run → Run All Cells, then wait until the kernel is idle with no cell pending."""
        self.menu("Run", "runmenu:run-all")
        panel = self.panel.element_handle()
        # Started: some prompt shows [*] or a number (all were blank after clearing).
        self.page.wait_for_function(
            """panel => [...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
                 .some(p => /\\d|\\*/.test(p.textContent))""",
            arg=panel, timeout=WIDGET_TIMEOUT)
        # Finished: nothing queued or running, and the kernel idle.
        self.page.wait_for_function(
            """panel => {
                 const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
                 const ind = panel.querySelector('.jp-Notebook-ExecutionIndicator');
                 return !prompts.some(p => p.textContent.includes('*'))
                        && ind && ind.dataset.status === 'idle';
               }""",
            arg=panel, timeout=RUN_ALL_TIMEOUT, polling=250)

    def unrun_cells(self) -> list[int]:
        """Indexes of non-empty code cells that show no execution count."""
        return self.cells.evaluate_all(
            """cells => cells.map((c, i) => [c, i])
                 .filter(([c]) => c.classList.contains('jp-CodeCell'))
                 .filter(([c]) => (c.querySelector('.cm-content')?.textContent || '').trim())
                 .filter(([c]) => !/^\\[\\d+\\]:$/.test(
                     (c.querySelector('.jp-InputArea-prompt')?.textContent || '').trim()))
                 .map(([, i]) => i)""")

    def error_outputs(self, names: list[str]) -> list[str]:
        """Outputs that show an error: a traceback or exception name on stderr, a widget
        that failed to render, or a course widget's one-sentence error (``.dnc-error``)."""
        pattern = (r"Traceback|\b[A-Z]\w*(Error|Exception)\b|"
                   + r"\b(" + "|".join(map(re.escape, names)) + r")\b")
        return self.cells.evaluate_all(
            """(cells, [pattern, stderr]) => {
                 const re = new RegExp(pattern);
                 const found = [];
                 cells.forEach((c, i) => {
                   for (const out of c.querySelectorAll('.jp-OutputArea-output')) {
                     const text = out.textContent || '';
                     const mime = out.dataset.mimeType
                       || out.querySelector('[data-mime-type]')?.dataset.mimeType || '';
                     if ((mime === stderr && re.test(text))
                         || out.querySelector('.dnc-error')
                         || /Error displaying widget|Error rendering output/.test(text)) {
                       found.push(`cell ${i}: ${text.trim().slice(0, 300)}`);
                     }
                   }
                 });
                 return found;
               }""",
            [pattern, STDERR])

    def loaded_images(self, cell_index: int) -> int:
        """Images in a cell's outputs that the browser has loaded and decoded (width > 0)."""
        return self.cells.nth(cell_index).locator(".jp-OutputArea-output img").evaluate_all(
            "imgs => imgs.filter(i => i.complete && i.naturalWidth > 0).length")

    def output_area(self, selector: str) -> Locator:
        """The output area of the first cell whose outputs hold ``selector``."""
        return self.cells.filter(has=self.page.locator(selector)).first.locator(
            ".jp-Cell-outputWrapper")

    def save_and_read(self, path: Path) -> dict:
        """Save (toolbar button), wait until the tab is clean, and read the notebook file."""
        self.panel.locator('[data-command="docmanager:save"]').first.click()
        expect(self.page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty")).to_have_count(
            0, timeout=WIDGET_TIMEOUT)
        return json.loads(path.read_text())


# -- check groups: each takes the NotebookPage (and what it needs) -------------------------------
def check_no_errors(nb: NotebookPage) -> None:
    with nb.state("no-errors"):
        unrun = nb.unrun_cells()
        assert not unrun, f"code cells left unrun (Run All stopped early?): {unrun}"
        expect(nb.panel.get_by_text("Loading widget...")).to_have_count(
            0, timeout=WIDGET_TIMEOUT)
        errors = nb.error_outputs(error_names())
        assert not errors, "cells show errors:\n  " + "\n  ".join(errors)


def check_banner(nb: NotebookPage, backend: str) -> None:
    """The notebook says which backend runs: LIVE, or REPLAY with what was recorded."""
    banner = "REPLAY" if backend == "replay" else "LIVE"
    area = nb.output_area(f".jp-OutputArea-output:has-text('{banner}')")
    with nb.state("banner", area):
        shown = nb.panel.locator(".jp-OutputArea-output", has_text=re.compile(rf"\b{banner}\b"))
        expect(shown.first, f"the {banner} banner").to_be_visible()
        other = "LIVE" if banner == "REPLAY" else "REPLAY"
        assert not nb.panel.locator(".jp-OutputArea-output",
                                    has_text=re.compile(rf"^\s*{other}\b")).count(), \
            f"an output starts with {other} on the {backend} backend"


def check_figures(nb: NotebookPage, figures: list[int]) -> None:
    with nb.state("figures", nb.cells.nth(figures[0]) if figures else None):
        missing = [i for i in figures if nb.loaded_images(i) < 1]
        assert not missing, f"figure cells without a rendered image: {missing}"
        total = nb.panel.locator(".jp-OutputArea-output img").evaluate_all(
            "imgs => imgs.filter(i => i.complete && i.naturalWidth > 0).length")
        assert total >= len(figures), f"{total} images for {len(figures)} figure cells"


def check_saved(nb: NotebookPage) -> None:
    """The notebook as JupyterLab saves it: no output of type error."""
    with nb.state("saved"):
        saved = nb.save_and_read(nb.server.root / nb.name)
        errors = [
            f"cell {i}: {out.get('ename')}: {out.get('evalue')}"
            for i, cell in enumerate(saved["cells"])
            for out in cell.get("outputs", [])
            if out.get("output_type") == "error"
        ]
        assert not errors, "error outputs in the saved notebook:\n  " + "\n  ".join(errors)


# -- the mode explorer ---------------------------------------------------------------------------
def image_fingerprint(img: Locator) -> str:
    """SHA-256 of the bytes an <img> shows (data: or blob: URL), computed in the page."""
    return img.evaluate(
        """async img => {
             const buf = await (await fetch(img.src)).arrayBuffer();
             const hash = await crypto.subtle.digest('SHA-256', buf);
             return [...new Uint8Array(hash)].map(b => b.toString(16).padStart(2, '0')).join('');
           }""")


def table_names(explorer: Locator) -> Locator:
    """The first cell of each data row of the explorer's interface table."""
    return explorer.locator(".dnc-table tr:has(td) > td:first-child")


def run_explorer(nb: NotebookPage, explorer: Locator, mode: str,
                 target: Callable[[Locator], str] | None = None) -> list[str]:
    """Pick ``mode`` in the explorer and press Run; wait for a new figure (or an error).

    Returns:
        The interface names its table lists afterwards.
    """
    select = explorer.locator(".dnc-mode select").first
    options = select.locator("option").evaluate_all(
        "os => os.map(o => [o.value, o.textContent.trim()])")
    choice = next((v for v, label in options if label == mode or label.startswith(mode)), None)
    assert choice is not None, f"no {mode!r} among the explorer's modes: {options}"
    select.select_option(choice)
    if target is not None:
        box = explorer.locator(".dnc-target input").first
        expect(box, "the target field, enabled in container mode").to_be_enabled()
        box.fill(target(explorer))
    img = explorer.locator(FIGURE)
    before = img.first.get_attribute("src") if img.count() else None
    explorer.locator(".dnc-run").first.click()
    nb.page.wait_for_function(
        """([explorer, sel, before]) => {
             if (explorer.querySelector('.dnc-error')) return true;
             const img = explorer.querySelector(sel);
             const run = explorer.querySelector('.dnc-run');
             return img && img.src !== before && img.complete && img.naturalWidth > 0
                    && explorer.querySelectorAll('.dnc-table tr td').length > 0
                    && !(run && run.disabled);
           }""",
        arg=[explorer.element_handle(), FIGURE, before], timeout=WIDGET_TIMEOUT)
    error = explorer.locator(".dnc-error")
    assert not error.count(), f"the explorer says, for {mode}: {error.first.inner_text()}"
    return table_names(explorer).all_inner_texts()


def check_explorer(nb: NotebookPage) -> None:
    """Run bridge, then "none" in the mode explorer: lo alone, and a different figure."""
    explorer = nb.panel.locator(".dnc-explorer").first
    area = nb.output_area(".dnc-explorer")
    with nb.state("explorer-shown", area):
        expect(explorer, "the mode explorer (class dnc-explorer)").to_be_attached()
        explorer.scroll_into_view_if_needed()
        expect(explorer).to_be_visible()
        for part in (".dnc-mode select", ".dnc-run"):
            expect(explorer.locator(part).first, f"explorer part {part}").to_be_visible()
    with nb.state("explorer-bridge", area):
        names = run_explorer(nb, explorer, "bridge")
        assert "lo" in names and len(names) > 1, f"bridge mode lists {names}"
        before = image_fingerprint(explorer.locator(FIGURE).first)
    with nb.state("explorer-none", area):
        run_explorer(nb, explorer, "none")
        expect(table_names(explorer), "interfaces listed for mode none").to_have_text(["lo"])
        after = image_fingerprint(explorer.locator(FIGURE).first)
        assert after != before, "the explorer's figure for none is the same image as for bridge"


def check_explorer_after_run_all(nb: NotebookPage) -> None:
    """After Run All (the chapter's session still open): the explorer joins a container it
    offers, never the course's host probe; in replay its answer says it was recorded."""
    explorer = nb.panel.locator(".dnc-explorer").first
    area = nb.output_area(".dnc-explorer")
    with nb.state("explorer-container-own", area):
        def first_offered(explorer: Locator) -> str:
            offered = explorer.locator(".dnc-target datalist option").evaluate_all(
                "os => os.map(o => o.value)")
            assert offered, "container mode offers no running container to join"
            assert not any(re.search(r"-host-\d+$", name) for name in offered), \
                f"the course's host probe is offered: {offered}"
            return offered[0]

        names = run_explorer(nb, explorer, "container", first_offered)
        assert "lo" in names and len(names) > 1, f"container mode lists {names}"
        status = explorer.locator(".dnc-status").first.inner_text()
        if nb.server.name == "replay":
            assert "recorded on Docker Engine" in status, f"replay result unmarked: {status!r}"
            return
    with nb.state("explorer-container-expired", area):
        # The explorer's own bridge container (from check_explorer) ends as its lifetime
        # would end it: killed, then removed by Docker (--rm). Joining it again must give a
        # new container in its place, said in the status line, not an error.
        own = expire_explorer_container(explorer)
        names = run_explorer(nb, explorer, "container", lambda _: own)
        assert "lo" in names and len(names) > 1, f"container mode lists {names}"
        status = explorer.locator(".dnc-status").first.inner_text()
        assert f"{own} had expired, so a new container took its place" in status, status
        offered = explorer.locator(".dnc-target datalist option").evaluate_all(
            "os => os.map(o => o.value)")
        assert own not in offered, f"the expired {own} is still offered: {offered}"


def expire_explorer_container(explorer: Locator) -> str:
    """Kill and remove the explorer's own bridge container (a course container, by label)
    the way its lifetime would; return its name."""
    from docker import errors as docker_errors

    from course_helpers.core.engine import connect
    from course_helpers.core.sessions import LABEL_COURSE

    offered = explorer.locator(".dnc-target datalist option").evaluate_all(
        "os => os.map(o => o.value)")
    own = next((name for name in offered if re.search(r"-bridge-\d+$", name)), None)
    assert own, f"the explorer's own bridge container is not offered: {offered}"
    client = connect()
    try:
        info = client.api.inspect_container(own)
        assert LABEL_COURSE in (info["Config"]["Labels"] or {}), f"{own} is not a course container"
        client.api.kill(info["Id"])  # AutoRemove: Docker removes it once it has stopped
        with contextlib.suppress(docker_errors.NotFound):  # already gone: nothing to wait for
            client.api.wait(info["Id"], condition="removed", timeout=30)
    finally:
        client.close()
    return own


# -- the exercises, as a learner answers them after Run All ------------------------------------
#: Chapter 03's exercises: (state, what the learner types, how the check answers). The second
#: one's right answer runs `docker exec` in a container the chapter started: after Run All the
#: session is still open (the chapter ends with lab.summary(), not lab.close()).
EXERCISE_TRIES = {
    "answer_1": [
        ("none", "answer_1 = None", "answer_1: not answered yet"),
        ("wrong", 'answer_1 = "lo"', "answer_1: not yet. Hint: look for the host interface"),
        ("wrong-type",
         "answer_1 = next(i for i in host.interfaces if i.index == eth0.peer_index)",
         "answer_1: not yet. Hint: the right one, but the whole object"),
        ("right",
         "answer_1 = next(i.name for i in host.interfaces if i.index == eth0.peer_index)",
         "answer_1: correct."),
    ],
    "answer_2": [
        ("none", "answer_2 = None", "answer_2: not answered yet"),
        ("wrong", 'answer_2 = "127.0.0.1"', "answer_2: not yet. Hint: each line of /etc/hosts"),
        ("wrong-type", 'answer_2 = bridge.interface("eth0").ipv4[0].ip',
         "answer_2: not yet. Hint: the right value, but as an IPv4Address"),
        ("right", 'answer_2 = next(line.split()[0] for line in joined_files.file("/etc/hosts")'
                  '.text.splitlines() if lab.exec(joined.container, "hostname").strip() '
                  'in line.split()[1:])',
         "answer_2: correct."),
    ],
}
#: What each exercise's solution button shows (a piece of its code).
SOLUTION_SHOWS = {"answer_1": "eth0.peer_index", "answer_2": 'joined_files.file("/etc/hosts")'}


def check_exercises(nb: NotebookPage) -> None:
    """After Run All: each exercise in each state, then its solution button shows code."""
    for variable, tries in EXERCISE_TRIES.items():
        index = nb.cells.evaluate_all(
            """(cells, start) => cells.findIndex(
                   c => (c.querySelector('.cm-content')?.textContent || '').trim()
                            .startsWith(start))""", f"{variable} = None")
        assert index >= 0, f"no cell holds {variable} = None"
        answer, check = nb.cells.nth(index), nb.cells.nth(index + 1)
        with nb.state(f"{variable}-after-run-all", check):
            expect(check.locator(".jp-OutputArea-output").first).to_contain_text(
                f"{variable}: not answered yet")
            assert "host_peer" not in check.inner_text(), "the check cell shows the answer"
        for state, typed, said in tries:
            with nb.state(f"{variable}-{state}", check):
                answer.locator(".cm-content").first.click()
                nb.page.keyboard.press("Control+A")
                nb.page.keyboard.insert_text(typed)
                nb.page.keyboard.press("Shift+Enter")  # runs the answer, selects the check
                nb.page.keyboard.press("Shift+Enter")  # runs the check
                expect(check.locator(".jp-OutputArea-output").first).to_contain_text(
                    said, timeout=WIDGET_TIMEOUT)
        with nb.state(f"{variable}-solution", check):
            code = check.locator(".dnc-solution-code")
            expect(code).to_have_count(0)
            check.locator(".dnc-solution-show").first.click()
            expect(code.first).to_contain_text(SOLUTION_SHOWS[variable], timeout=WIDGET_TIMEOUT)


# -- a quiz ---------------------------------------------------------------------------------------
def check_quiz(nb: NotebookPage) -> None:
    """Answer the first quiz wrongly, then rightly, and read the feedback.

    The right option is found by trying: from a fresh (re-run) quiz the first
    feedback is unambiguous. The final sequence, wrong then right in one
    widget, changes the feedback each time, so each step waits on that change.
    """
    quiz_cell = nb.cells.filter(has=nb.page.locator(".dnc-quiz")).first
    area = quiz_cell.locator(".jp-Cell-outputWrapper")

    def parts() -> tuple[Locator, Locator, Locator, Locator]:
        quiz = quiz_cell.locator(".dnc-quiz").first
        return (quiz,
                quiz.locator(".dnc-quiz-options").first.locator("input[type=radio]"),
                quiz.locator(".dnc-quiz-check").first,
                quiz.locator(".dnc-quiz-feedback").first)

    def answer(i: int, expected: str | None = None) -> str:
        _, radios, check, feedback = parts()
        radios.nth(i).check()
        check.click()
        pattern = re.compile(rf"^\s*{expected}" if expected else r"^\s*(Correct|Not quite)")
        expect(feedback).to_have_text(pattern, timeout=WIDGET_TIMEOUT)
        return feedback.inner_text().strip()

    def rerun_quiz_cell() -> None:
        """Run the quiz cell again: a fresh widget, no feedback yet."""
        shown = quiz_cell.locator(".dnc-quiz").count()  # a chapter's quiz: one or more questions
        quiz_cell.locator(".dnc-quiz").evaluate_all(
            "els => els.forEach(el => { el.dataset.dncOld = '1'; })")
        quiz_cell.locator(".jp-InputPrompt").first.click()
        nb.menu("Run", "notebook:run-cell")
        expect(quiz_cell.locator(".dnc-quiz:not([data-dnc-old])")).to_have_count(
            shown, timeout=WIDGET_TIMEOUT)
        expect(parts()[3]).not_to_have_text(re.compile(r"Correct|Not quite"))

    with nb.state("quiz-shown", area):
        expect(quiz_cell.locator(".dnc-quiz").first, "a quiz (class dnc-quiz)").to_be_attached()
        quiz, radios, _, _ = parts()
        quiz.scroll_into_view_if_needed()
        n = radios.count()
        assert n >= 2, f"the quiz offers {n} options"
        right = wrong = None
        for i in range(n):
            if i:
                rerun_quiz_cell()
            if answer(i).startswith("Correct"):
                right = i
                break
            wrong = i
        assert right is not None, f"no option of {n} was accepted as correct"
        if wrong is None:
            wrong = 1 if right == 0 else 0
    with nb.state("quiz-wrong", area):
        text = answer(wrong, "Not quite")
        assert text.startswith("Not quite"), text
    with nb.state("quiz-right", area):
        text = answer(right, "Correct")
        assert text.startswith("Correct"), text


# -- everything, for one notebook ----------------------------------------------------------------
def check_notebook(nb: NotebookPage, path: Path, backend: str) -> None:
    """Open, clear, run all; then errors, banner, figures, explorer, quiz, saved file."""
    stored = json.loads(path.read_text())
    figures = figure_cells(stored)
    assert figures, f"{path.name} has no figure cell to check"

    with nb.state("opened"):
        nb.open(len(stored["cells"]))
    with nb.state("ran-all", "notebook"):
        nb.clear_outputs()
        nb.run_all()
    nb.soft(check_no_errors)
    nb.soft(check_banner, backend)
    nb.soft(check_figures, figures)
    nb.soft(check_explorer)
    nb.soft(check_quiz)
    if path.name == f"{CHAPTER}.ipynb":
        nb.soft(check_explorer_after_run_all)
        nb.soft(check_exercises)
    nb.soft(check_saved)
    nb.finish()


# -- the harness itself, on a notebook of its own ----------------------------------------------
def synthetic_notebook():
    """A tiny notebook with the explorer's and quiz's CSS classes, built from plain ipywidgets.

    It proves that widgets render with this JupyterLab/ipywidgets pair and that
    the harness works, independently of the course's own widgets.
    """
    import nbformat

    code, md = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [
        md("# Browser harness check"),
        code("import os\n"
             "print('REPLAY' if os.environ.get('DOCKER_HOST', '').startswith('unix:///nonexistent')"
             " else 'LIVE', 'banner')"),
        code("import matplotlib.pyplot as plt\n"
             "fig, ax = plt.subplots(figsize=(3, 2))\nax.plot([1, 2, 3], [3, 1, 2])\nplt.show()"),
        code("""import io
import ipywidgets as w

IFACES = {"bridge": ["lo", "eth0"], "host": ["lo", "eth0", "docker0"], "none": ["lo"]}

def draw(mode):
    fig, ax = plt.subplots(figsize=(3, 1.5))
    ax.text(0.5, 0.5, mode, ha="center")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()

mode = w.Dropdown(options=list(IFACES), value="bridge").add_class("dnc-mode")
run = w.Button(description="Run").add_class("dnc-run")
table = w.HTML().add_class("dnc-table")
figure = w.Image(format="png").add_class("dnc-figure")

def show(_=None):
    rows = "".join(f"<tr><td>{n}</td></tr>" for n in IFACES[mode.value])
    table.value = f"<table><tr><th>name</th></tr>{rows}</table>"
    figure.value = draw(mode.value)

run.on_click(show)
w.VBox([w.HBox([mode, run]), table, figure]).add_class("dnc-explorer")"""),
        code("""options = w.RadioButtons(options=["2", "1", "3"], value=None)
options.add_class("dnc-quiz-options")
check = w.Button(description="Check").add_class("dnc-quiz-check")
feedback = w.HTML().add_class("dnc-quiz-feedback")
check.on_click(lambda _: setattr(feedback, "value", "Correct." if options.value == "1"
                                 else "Not quite."))
w.VBox([w.HTML("How many interfaces does a none-mode container have?"), options, check,
        feedback]).add_class("dnc-quiz")"""),
    ]
    return nbformat.from_dict(nb)


def test_widgets_render_harness_check(lab_server, browser, shots):
    """Plain ipywidgets and matplotlib render in this JupyterLab; the harness sees them.

    When this passes and a chapter test fails, the chapter is at fault, not the
    JupyterLab/ipywidgets front-end (or the harness).
    """
    import nbformat

    server = lab_server("live")
    path = server.root / "_browser_harness_check.ipynb"
    nbformat.write(synthetic_notebook(), path)
    check_notebook(NotebookPage(browser(server), server, path.name, shots), path, "live")


# -- the tests -----------------------------------------------------------------------------------
def test_chapter_03_live(lab_server, browser, shots):
    """Chapter 03 on the live engine: run all, no errors, figures, explorer, quiz."""
    path = NOTEBOOKS / f"{CHAPTER}.ipynb"
    assert path.exists(), f"{path} is missing: the browser test opens that chapter"
    server = lab_server("live")
    check_notebook(NotebookPage(browser(server), server, path.name, shots), path, "live")


def test_chapter_03_replay(lab_server, browser, shots):
    """Chapter 03 with no engine reachable from the kernel: the course replays a recording."""
    path = NOTEBOOKS / f"{CHAPTER}.ipynb"
    assert path.exists(), f"{path} is missing: the browser test opens that chapter"
    recording = RECORDINGS / f"{CHAPTER}.json"
    if not recording.exists():
        pytest.skip(f"no recording {recording}: make it with "
                    "`python -m course_helpers record` on a live engine")
    server = lab_server("replay")
    check_notebook(NotebookPage(browser(server), server, path.name, shots), path, "replay")
