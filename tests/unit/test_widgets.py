"""The widgets, driven from Python: a fake Lab serves prepared snapshots, clicks are simulated."""

from __future__ import annotations

import html
import re

import matplotlib.pyplot as plt
import pytest
from textsamples import BRIDGE_CONTAINER, NONE_CONTAINER

from course_helpers import BadInput, DockerRefused, explorer, parse_ip_addr
from course_helpers import exercises as w
from course_helpers.modes import ModeSnapshot

BRIDGE, NONE = BRIDGE_CONTAINER, NONE_CONTAINER


class FakeLab:
    """Stands in for Lab: returns prepared snapshots and records what it was asked."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[tuple[str, str | None]] = []
        self.error = error
        self.count = 0

    def run_in_mode(self, mode: str, target: str | None = None) -> ModeSnapshot:
        self.calls.append((mode, target))
        if self.error is not None:
            raise self.error
        self.count += 1
        network = f"container:{target}" if target else mode
        return ModeSnapshot(
            mode=mode, container=f"dnc-0a1b2c3d-{mode}-{self.count}", container_id="f" * 64,
            interfaces=tuple(parse_ip_addr(NONE if mode == "none" else BRIDGE)),
            netns="net:[4026532254]", hostname="01bb542d1477",
            cli=f"docker run --rm --network {network} course/busybox ip addr", target=target,
        )


def find(widget, css: str):
    """The widget below ``widget`` that carries the CSS class ``css``."""
    if css in getattr(widget, "_dom_classes", ()):
        return widget
    for child in getattr(widget, "children", ()):
        found = find(child, css)
        if found is not None:
            return found
    return None


def rows(table_html: str) -> list[list[str]]:
    """The cells of each <tr>, tags stripped."""
    return [[plain(td) for td in re.findall(r"<td[^>]*>(.*?)</td>", tr)]
            for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table_html)]


def plain(html_text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


@pytest.fixture
def shown(monkeypatch):
    """What the explorer displays in its figure Output."""
    items: list = []
    monkeypatch.setattr(explorer, "display", items.append)
    yield items
    plt.close("all")


# -- the model ------------------------------------------------------------------
def test_model_runs_a_mode_and_returns_the_table_rows():
    lab = FakeLab()
    model = explorer.ModeExplorerModel(lab)
    snap, table = model.run("bridge", target="ignored here")
    assert lab.calls == [("bridge", None)]
    assert table == snap.table()
    assert [r["name"] for r in table] == ["lo", "eth0"]
    assert model.containers == ["dnc-0a1b2c3d-bridge-1"]


def test_model_joins_a_target_in_container_mode():
    lab = FakeLab()
    model = explorer.ModeExplorerModel(lab)
    model.run("bridge")
    snap, _ = model.run("container", " dnc-0a1b2c3d-bridge-1 ")
    assert lab.calls[-1] == ("container", "dnc-0a1b2c3d-bridge-1")
    assert snap.target == "dnc-0a1b2c3d-bridge-1"
    assert model.containers == ["dnc-0a1b2c3d-bridge-1", "dnc-0a1b2c3d-container-2"]


@pytest.mark.parametrize(("mode", "target"), [("container", ""), ("bridged", None)])
def test_model_refuses_bad_input_before_asking_the_lab(mode, target):
    lab = FakeLab()
    with pytest.raises(BadInput):
        explorer.ModeExplorerModel(lab).run(mode, target)
    assert lab.calls == []


def test_interface_table_has_one_row_per_interface_and_escapes():
    snap = FakeLab().run_in_mode("bridge")
    html_text = explorer.interface_table_html(snap.table())
    assert "class='dnc-iface-table'" in html_text
    cells = rows(html_text)
    assert [r[0] for r in cells] == ["lo", "eth0"]
    assert "peer if7" in cells[1] and "172.17.0.2/16" in cells[1] and "UP" in cells[1]
    odd = [{"name": "<b>x</b>", "index": 1, "peer": "", "up": False, "mac": "", "addresses": ""}]
    assert "&lt;b&gt;x&lt;/b&gt;" in explorer.interface_table_html(odd)


# -- the explorer gui --------------------------------------------------------------
def test_explorer_has_its_css_classes():
    box = explorer.mode_explorer(FakeLab())
    for css in ("dnc-explorer", "dnc-mode", "dnc-target", "dnc-run", "dnc-status", "dnc-table",
                "dnc-figure", "dnc-cli"):
        assert find(box, css) is not None, f"no widget with class {css}"


def test_target_is_enabled_only_in_container_mode():
    box = explorer.mode_explorer(FakeLab())
    mode, target = find(box, "dnc-mode"), find(box, "dnc-target")
    assert target.disabled
    mode.value = "container"
    assert not target.disabled
    mode.value = "none"
    assert target.disabled


def test_run_fills_the_table_and_the_figure(shown):
    lab = FakeLab()
    box = explorer.mode_explorer(lab)
    find(box, "dnc-run").click()
    assert lab.calls == [("bridge", None)]
    table = find(box, "dnc-table").value
    assert [r[0] for r in rows(table)] == ["lo", "eth0"]
    assert "--network bridge" in plain(find(box, "dnc-cli").value)
    assert "2 interfaces" in plain(find(box, "dnc-status").value)
    assert len(shown) == 1 and shown[0].data.startswith(b"\x89PNG"), "one PNG figure shown"
    assert not plt.get_fignums(), "the figure must be closed once shown"
    assert find(box, "dnc-target").options == ("dnc-0a1b2c3d-bridge-1",)
    assert not find(box, "dnc-run").disabled


def test_run_in_container_mode_joins_the_target(shown):
    lab = FakeLab()
    box = explorer.mode_explorer(lab)
    find(box, "dnc-run").click()
    find(box, "dnc-mode").value = "container"
    find(box, "dnc-target").value = "dnc-0a1b2c3d-bridge-1"
    find(box, "dnc-run").click()
    assert lab.calls[-1] == ("container", "dnc-0a1b2c3d-bridge-1")
    assert "container:dnc-0a1b2c3d-bridge-1" in plain(find(box, "dnc-cli").value)


def test_a_course_error_shows_as_one_sentence(shown):
    message = "There is no container 'gone' to join: start it first or pass a running one."
    box = explorer.mode_explorer(FakeLab(error=BadInput(message)))
    find(box, "dnc-mode").value = "container"
    find(box, "dnc-target").value = "gone"
    find(box, "dnc-run").click()
    status = plain(find(box, "dnc-status").value)
    assert status == message
    assert "Traceback" not in status and "\n" not in status
    assert rows(find(box, "dnc-table").value) == []
    assert not shown and not find(box, "dnc-run").disabled


def test_missing_target_is_reported_without_asking_the_lab(shown):
    lab = FakeLab()
    box = explorer.mode_explorer(lab)
    find(box, "dnc-mode").value = "container"
    find(box, "dnc-run").click()
    assert lab.calls == []
    said = plain(find(box, "dnc-status").value)
    assert "type or pick the one to join in the target box" in said, said
    assert "target=" not in said and "ModeSnapshot" not in said, "API words in a widget"


def test_an_unexpected_error_is_still_one_line(shown):
    box = explorer.mode_explorer(FakeLab(error=RuntimeError("boom")))
    find(box, "dnc-run").click()
    status = plain(find(box, "dnc-status").value)
    assert status == "Something unexpected went wrong (RuntimeError: boom)."


def test_docker_refusals_show_dockers_reason(shown):
    err = DockerRefused("Docker refused: cannot join a stopped container; start it first.",
                        status=409)
    box = explorer.mode_explorer(FakeLab(error=err))
    find(box, "dnc-run").click()
    assert plain(find(box, "dnc-status").value).startswith("Docker refused")


# -- quizzes ---------------------------------------------------------------------
OPTIONS = ["bridge", "host", "none", "container"]


@pytest.mark.parametrize(("answer", "choice", "correct"), [
    ("none", "none", True), (2, "none", True), ("none", 2, True),
    ("none", "host", False), ("none", None, False), ("none", "overlay", False), (2, 9, False),
])
def test_check_answer(answer, choice, correct):
    ok, feedback = w.check_answer(OPTIONS, answer, choice, "Only lo is left.")
    assert ok is correct
    if correct:
        assert feedback == "Correct. Only lo is left."
    else:
        assert feedback.startswith("Not quite") and "Only lo" not in feedback


def test_check_answer_refuses_an_answer_not_offered():
    with pytest.raises(BadInput):
        w.check_answer(OPTIONS, "overlay", "none")
    with pytest.raises(BadInput):
        w.quiz("Which?", OPTIONS, 7)
    with pytest.raises(BadInput):
        w.quiz("Which?", ["same", "same"], "same")


def test_quiz_gives_feedback_on_check():
    box = w.quiz("Which mode leaves only `lo`?", OPTIONS, "none", "No veth pair is made.")
    for css in ("dnc-quiz", "dnc-quiz-question", "dnc-quiz-options", "dnc-quiz-check",
                "dnc-quiz-feedback"):
        assert find(box, css) is not None, f"no widget with class {css}"
    assert "<code>lo</code>" in find(box, "dnc-quiz-question").value
    options, check, feedback = (find(box, c) for c in
                                ("dnc-quiz-options", "dnc-quiz-check", "dnc-quiz-feedback"))
    assert options.value is None
    check.click()
    assert plain(feedback.value).startswith("Not quite")
    options.value = "host"
    check.click()
    assert plain(feedback.value).startswith("Not quite")
    options.value = "none"
    check.click()
    assert plain(feedback.value) == "Correct. No veth pair is made."


# -- exercises -------------------------------------------------------------------
def test_check_value_covers_unanswered_wrong_and_right():
    is_ip = lambda v: v.startswith("172.17.")  # noqa: E731
    assert "not answered yet" in w.check_value("docker0_ip", None, is_ip, "look at docker0")
    assert w.check_value("docker0_ip", "10.0.0.1", is_ip, "look at docker0") == (
        "docker0_ip: not yet. Hint: look at docker0")
    assert w.check_value("docker0_ip", "172.17.0.1", is_ip, "h") == "docker0_ip: correct."
    assert w.check_value("count", 2, 2, "h") == "count: correct."
    assert "Hint" in w.check_value("count", 3, 2, "h")
    assert "Hint" in w.check_value("docker0_ip", 42, is_ip, "h"), "a wrong type is just wrong"


def test_an_exercise_checks_with_its_own_predicate_and_hint(capsys):
    exercise = w.Exercise("n", lambda v: v == 1, "count them")
    assert exercise.check(None) is None
    exercise.check(1)
    exercise.check(0)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("n: not answered yet")
    assert out[1:] == ["n: correct.", "n: not yet. Hint: count them"]


class ClosableLab(FakeLab):
    """A FakeLab that can be closed and re-created like Lab(chapter, backend=…)."""

    made: list[ClosableLab] = []

    def __init__(self, chapter: str = "03_network_modes", backend: str = "live") -> None:
        super().__init__()
        self.chapter, self.backend, self.closed = chapter, backend, False
        ClosableLab.made.append(self)

    def run_in_mode(self, mode: str, target: str | None = None) -> ModeSnapshot:
        assert not self.closed, "a closed Lab was used"
        return super().run_in_mode(mode, target)


def test_explorer_reopens_a_closed_lab_of_the_same_chapter_and_backend():
    ClosableLab.made.clear()
    first = ClosableLab(backend="replay")
    model = explorer.ModeExplorerModel(first)
    model.run("bridge")
    first.closed = True  # "Run All" reached lab.close()
    snap, rows = model.run("none")
    assert [r["name"] for r in rows] == ["lo"]
    assert len(ClosableLab.made) == 2
    fresh = ClosableLab.made[1]
    assert model.lab is fresh and (fresh.chapter, fresh.backend) == ("03_network_modes", "replay")
    assert model.history == [snap]


def test_explorer_calls_non_container_modes_exactly_as_the_notebook_does():
    """Replay keys on the call's arguments: run_in_mode("none"), not run_in_mode("none", None)."""
    seen: list[tuple] = []

    class ArgsLab(FakeLab):
        def run_in_mode(self, *args, **kwargs):
            seen.append((args, kwargs))
            return super().run_in_mode(*args, **kwargs)

    model = explorer.ModeExplorerModel(ArgsLab())
    model.run("none", target="ignored")
    model.run("container", target=" dnc-0a1b2c3d-none-1 ")
    assert seen == [(("none",), {}), (("container", "dnc-0a1b2c3d-none-1"), {})]


def test_explorer_offers_the_labs_earlier_containers_as_targets():
    lab = FakeLab()
    lab.container_names = ["dnc-0a1b2c3d-bridge-1", "dnc-0a1b2c3d-none-2"]
    box = explorer.mode_explorer(lab)
    assert find(box, "dnc-target").options == ("dnc-0a1b2c3d-bridge-1", "dnc-0a1b2c3d-none-2")
