"""The explorer after Run All, after expiry, and in replay (no engine: fake Labs).

The real Lab's side (closing, spares, recordings) is covered live by tests/browser.
"""

from __future__ import annotations

import json

from test_widgets import FakeLab, find

from course_helpers import BadInput, explorer
from course_helpers.core.replay import NotRecorded, Recording, call_key


class SessionLab(FakeLab):
    """A FakeLab with a session's bookkeeping: ids, names, a probe, a spare, expiry."""

    def __init__(self) -> None:
        super().__init__()
        self.backend, self.chapter, self.closed = "live", "03_network_modes", False
        self.ids: dict[str, str] = {"id-probe": "dnc-s-host-1", "id-spare": "dnc-s-bridge-2",
                                    "id-web": "dnc-s-web-3"}
        self.gone: set[str] = set()

    @property
    def container_ids(self) -> list[str]:
        return list(self.ids)

    @property
    def container_names(self) -> list[str]:
        return list(self.ids.values())

    def is_host_probe(self, ref) -> bool:
        return ref.id == "id-probe"

    def is_spare(self, ref) -> bool:
        return ref.id == "id-spare"

    def running_container(self, name: str):
        if name in self.gone or name not in {*self.ids.values(), *self.started}:
            raise BadInput(f"There is no container {name} to join.")
        return name

    @property
    def started(self) -> set[str]:
        return {f"dnc-0a1b2c3d-{mode}-{n}" for n, (mode, _t) in enumerate(self.calls, 1)}


def test_the_explorer_offers_running_containers_only_never_probe_or_spares():
    lab = SessionLab()
    model = explorer.ModeExplorerModel(lab)
    assert model.containers == ["dnc-s-web-3"]
    lab.gone.add("dnc-s-web-3")  # its lifetime ended
    assert model.containers == []
    snap, _rows = model.run("bridge")
    assert model.containers == [snap.container]


def test_an_expired_container_of_its_own_is_replaced_without_an_error():
    lab = SessionLab()
    model = explorer.ModeExplorerModel(lab)
    first, _rows = model.run("none")
    lab.gone.add(first.container)
    joined, _rows = model.run("container", first.container)
    assert model.replaced is not None and model.replaced[0] == first.container
    assert lab.calls[-2:] == [("none", None), ("container", model.replaced[1])]
    assert joined.target == model.replaced[1]


def test_the_widget_says_when_it_replaced_an_expired_target(monkeypatch):
    monkeypatch.setattr(explorer, "display", lambda _item: None)
    lab = SessionLab()
    box = explorer.mode_explorer(lab)
    find(box, "dnc-run").click()
    first = lab.started.pop()
    lab.gone.add(first)
    find(box, "dnc-mode").value = "container"
    find(box, "dnc-target").value = first
    find(box, "dnc-run").click()
    said = find(box, "dnc-status").value
    assert "had expired" in said and "dnc-error" not in said
    replacement = find(box, "dnc-target").value
    assert replacement != first and replacement in said, "the box should name the new one"


def replay_lab(calls: list[tuple[str, str | None]]) -> FakeLab:
    lab = FakeLab()
    lab.backend, lab.chapter, lab.closed = "replay", "03_network_modes", False
    rec = Recording({"engine": "28.5.2", "date": "2026-11-30"})
    for mode, target in calls:
        rec.add(call_key("run_in_mode", (), {"mode": mode, "target": target}), None)
    lab.replay_from = rec
    lab.recorded_on = lambda: "recorded on Docker Engine 28.5.2 (2026-11-30)"  # as Lab says it
    return lab


def test_in_replay_the_explorer_offers_only_what_the_recording_serves(monkeypatch):
    lab = replay_lab([("bridge", None), ("none", None), ("container", "dnc-s-bridge-2")])
    model = explorer.ModeExplorerModel(lab)
    assert model.modes == ["bridge", "none", "container"]
    assert model.containers == ["dnc-s-bridge-2"]
    monkeypatch.setattr(explorer, "display", lambda _item: None)
    box = explorer.mode_explorer(lab)
    assert find(box, "dnc-mode").options == ("bridge", "none", "container")
    assert "recorded on Docker Engine 28.5.2 (2026-11-30)" in find(box, "dnc-status").value
    find(box, "dnc-run").click()
    assert "recorded on Docker Engine 28.5.2" in find(box, "dnc-status").value


def test_a_variation_replay_cannot_serve_gets_one_learner_sentence(monkeypatch):
    lab = replay_lab([("bridge", None)])
    lab.error = NotRecorded("This is a replay and it holds no recorded answer to run_in_mode(…)")
    monkeypatch.setattr(explorer, "display", lambda _item: None)
    box = explorer.mode_explorer(lab)
    find(box, "dnc-run").click()
    said = find(box, "dnc-status").value
    assert "This notebook is a replay of a run recorded on Docker Engine 28.5.2" in said
    assert "make lab" in said
    for developer_text in ("run_in_mode", "python -m course_helpers", "`", "ModeSnapshot"):
        assert developer_text not in said


def test_error_sentences_show_backticks_as_code():
    lab = FakeLab(error=BadInput("Start it first (`docker ps -a` lists them)."))
    box = explorer.mode_explorer(lab)
    find(box, "dnc-run").click()
    said = find(box, "dnc-status").value
    assert "<code>docker ps -a</code>" in said and "`" not in said


def test_the_explorer_reads_as_text_where_widgets_cannot_show():
    box = explorer.mode_explorer(FakeLab())
    text = box._repr_mimebundle_()["text/plain"]
    assert text.startswith("Mode explorer:") and "VBox" not in text
    json.dumps(box._repr_mimebundle_())  # a valid display bundle
