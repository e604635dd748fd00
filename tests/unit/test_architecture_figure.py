"""Chapter 04's architecture figure is legible in a notebook (issue 12).

As for chapters 01-03's figures (test_topology_legible.py): sizes are in pixels at
matplotlib's 100 dpi, the notebook's resolution, and a figure wider than the
notebook's output area is shown scaled down, its text with it. The engines are
``docker version`` / ``docker info`` data, a quiet one and one with long names;
every bound is the notebook's (900 px wide, 10 px text), never read off the drawing.
"""

from __future__ import annotations

import IPython
import matplotlib
import matplotlib.pyplot as plt
import pytest
from IPython.core.pylabtools import select_figure_formats
from matplotlib.text import Text
from test_architecture import INFO, VERSION
from test_speed_figures import Shell, own_size, shown_size
from test_topology_hostmap import MIN_TEXT_PX
from test_topology_legible import assert_legible, shown_px

from course_helpers import figures as plots
from course_helpers.apitrace import ApiCall, RunTrace
from course_helpers.architecture import ProcessChain
from course_helpers.core.stack import stack_from
from course_helpers.figures.architecture import SOURCE_ARCHITECTURE, live_boxes

matplotlib.use("Agg")

MARK = "recorded on Docker Engine 28.5.2 (2026-03-04)"
#: An engine as Debian packages it: long versions, every network driver, containerd's store.
BUSY_VERSION = {**VERSION, "Version": "28.5.2+dfsg4", "ApiVersion": "1.51",
                "Components": [{"Name": "Engine", "Version": "28.5.2+dfsg4"},
                               {"Name": "containerd", "Version": "2.1.9+unknown"},
                               {"Name": "runc", "Version": "1.3.6+ds1"},
                               {"Name": "docker-init", "Version": "0.19.0"}]}
BUSY_INFO = {**INFO, "KernelVersion": "6.18.44-fc-v657-generic",
             "Plugins": {"Network": ["bridge", "host", "ipvlan", "macvlan", "null", "overlay"],
                         "Volume": ["local"]},
             "DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]],
             "IndexServerAddress": "https://index.docker.io/v1/"}
CHAIN = ProcessChain(True, parent="containerd-shim-runc-v2", containerd_namespace="moby")


def trace(requests: int = 5) -> RunTrace:
    calls = tuple(ApiCall("POST", f"/v1.51/containers/{n}/start", "/containers/{id}/start",
                          204, 0.0, 0.001) for n in range(requests))
    return RunTrace("cli", "docker run --rm busybox true", "traced", "f" * 64,
                    "Docker-Client/28.2.2 (linux)", "Docker/28.5.2 (linux)", "1.51", 0, calls,
                    (), cli_path="/usr/local/libexec/docker/cli-plugins/../../bin/docker")


ENGINES = {
    "quiet": lambda: (stack_from(VERSION, INFO), None, None),
    "busy": lambda: (stack_from(BUSY_VERSION, BUSY_INFO), CHAIN, trace(12)),
}


pytestmark = pytest.mark.usefixtures("clean_figures")


def texts_of(fig) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


@pytest.mark.parametrize("engine", ENGINES)
def test_the_architecture_is_legible_in_a_notebook_column(engine):
    assert_legible(plots.draw_architecture(*ENGINES[engine]()))


@pytest.mark.parametrize("engine", ENGINES)
def test_then_is_drawn_above_now_each_the_full_width(engine):
    fig = plots.draw_architecture(*ENGINES[engine]())
    then, now = (ax.get_position() for ax in fig.axes)
    assert then.y0 >= now.y1 - 1e-9, "then above now"
    assert then.x0 == now.x0 == 0 and then.x1 == now.x1 == 1
    drawn = {t.get_gid() for t in texts_of(fig)}
    stack, chain, run = ENGINES[engine]()
    for box in (*SOURCE_ARCHITECTURE, *live_boxes(stack, chain, run)):
        assert {f"title:{box.key}", f"detail:{box.key}"} <= drawn, box.key


@pytest.mark.parametrize("engine", ENGINES)
def test_every_text_sits_in_its_box_and_no_two_texts_overlap(engine):
    plots.note_recording(MARK)
    fig = plots.draw_architecture(*ENGINES[engine]())
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    seen = []
    for ax in fig.axes:  # box keys repeat across the panels (client, kernel, registry)
        boxes = {p.get_gid().split(":")[1]: p.get_window_extent(renderer)
                 for p in ax.patches if (p.get_gid() or "").startswith("box:")}
        for text in ax.texts:
            part, _, key = (text.get_gid() or "").partition(":")
            if part in ("title", "detail", "history"):
                box, extent = boxes[key], text.get_window_extent(renderer)
                assert (box.x0 <= extent.x0 and extent.x1 <= box.x1
                        and box.y0 <= extent.y0 and extent.y1 <= box.y1), (text.get_text(), key)
    for text in texts_of(fig):
        extent = text.get_window_extent(renderer)
        for other, other_extent in seen:
            assert not extent.overlaps(other_extent), (text.get_text(), other.get_text())
        seen.append((text, extent))


def test_the_replay_mark_is_legible_and_the_size_stays():
    live = plots.draw_architecture(*ENGINES["busy"]()).get_size_inches()
    plots.note_recording(MARK)
    fig = plots.draw_architecture(*ENGINES["busy"]())
    (mark,) = [t for t in fig.texts if t.get_gid() == "recorded-mark"]
    _, _, smallest = shown_px(fig)
    assert mark.get_fontsize() * fig.dpi / 72 >= MIN_TEXT_PX and smallest >= MIN_TEXT_PX
    assert list(fig.get_size_inches()) == list(live), "nbval compares the size in its text"


def test_a_kernels_first_figure_is_shown_uncropped(monkeypatch):
    """ipykernel sets up the inline backend's printers when its first figure is made; the
    course's printer is registered after that, or the first figure is cropped (920 px)."""
    shell, made = Shell(), plt.figure

    def first_figure_sets_up_the_backend(*args, **kwargs):
        select_figure_formats(shell, {"png"}, bbox_inches="tight")
        return made(*args, **kwargs)

    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    monkeypatch.setattr(plt, "figure", first_figure_sets_up_the_backend)
    fig = plots.draw_architecture(*ENGINES["quiet"]())
    assert shown_size(shell, fig) == own_size(fig)
