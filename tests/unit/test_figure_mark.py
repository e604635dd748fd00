"""Figures drawn while a Lab replays say so in a corner; live figures carry no mark (issue 12).

The mark is text drawn on the figure, so what nbval compares (the figure's text
form, no new printed line) stays the same in both modes.
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure
from test_plots import snapshot
from textsamples import BRIDGE_CONTAINER

from course_helpers import Lab, parse_ip_addr
from course_helpers import figures as plots
from course_helpers.core import lab as lab_module
from course_helpers.core.replay import Recording
from course_helpers.ipaddr import by_name

matplotlib.use("Agg")

HOST = """\
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
4: docker0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default
    link/ether 02:42:5e:9a:1b:2c brd ff:ff:ff:ff:ff:ff
    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0
7: vethabc1234@if6: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master docker0 state UP group default
    link/ether 6a:1f:3c:aa:bb:cc brd ff:ff:ff:ff:ff:ff link-netnsid 0
"""  # noqa: E501 - real iproute2 lines are long
META = {"chapter": "98_mark", "session": "feedc0de", "image": "dnc-busybox:1",
        "engine": "26.1.5", "os": "Debian GNU/Linux 13 (trixie)", "date": "2026-03-04",
        "host": "somewhere"}


@pytest.fixture(autouse=True)
def no_mark_left_behind():
    """Each test starts as live would, and leaves no mark for the tests after it."""
    plots.note_recording("")
    yield
    plots.note_recording("")
    plt.close("all")


@pytest.fixture
def replaying(tmp_path, monkeypatch) -> Lab:
    Recording(dict(META)).save(tmp_path / "98_mark.json")
    monkeypatch.setattr(lab_module, "RECORDINGS", tmp_path)
    return Lab("98_mark", backend="replay")


def marks(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.texts if t.get_gid() == "recorded-mark"]


def host_map() -> Figure:
    return plots.interface_map(parse_ip_addr(HOST), title="a host")


def test_a_replaying_lab_marks_every_figure_with_its_recording(replaying):
    assert replaying.backend == "replay"
    host = parse_ip_addr(HOST)
    wanted = f"recorded on Docker Engine {META['engine']} ({META['date']})"
    for fig in (host_map(), plots.bridge_with_veths(by_name(host)["docker0"], host),
                plots.reachability_matrix(["a", "b"], [[None, True], [False, None]]),
                plots.compare_modes({"bridge": snapshot("bridge"), "none": snapshot("none")})):
        assert marks(fig) == [wanted], repr(fig)
        assert repr(fig).startswith("<Figure: ")  # the text nbval compares: no engine, no date


def test_live_figures_carry_no_mark():
    fig = host_map()
    assert marks(fig) == []
    assert "recorded on" not in " ".join(t.get_text() for t in fig.findobj(
        lambda a: hasattr(a, "get_text")))


def test_the_mark_follows_the_latest_lab(replaying):
    assert marks(host_map())
    plots.note_recording("")  # what a live Lab does when it starts
    assert marks(host_map()) == []


def test_stamp_writes_one_mark_in_the_top_right_corner():
    fig = host_map()
    (ax,) = fig.axes
    before = ax.get_window_extent().bounds, fig.get_size_inches()
    plots.stamp(fig, "recorded on Docker Engine 1.2 (2000-01-01)")
    after = ax.get_window_extent().bounds, fig.get_size_inches()
    assert after[0] == pytest.approx(before[0])  # the drawing keeps its size and place
    assert after[1][1] > before[1][1]  # the figure grew a strip for the mark
    mark_box = fig.texts[-1].get_window_extent(fig.canvas.get_renderer())
    assert mark_box.y0 >= ax.get_window_extent().y1 - 1  # above the drawing, covering none of it
    plots.stamp(fig, "recorded on Docker Engine 1.2 (2000-01-01)")  # the explorer's, again
    assert marks(fig) == ["recorded on Docker Engine 1.2 (2000-01-01)"]
    (mark,) = [t for t in fig.texts if t.get_gid() == "recorded-mark"]
    x, y = mark.get_position()
    assert x > 0.9 and y > 0.9 and mark.get_ha() == "right"
    plots.stamp(fig, "")
    assert len(marks(fig)) == 1


def test_bridge_figure_names_unknown_containers_for_a_learner():
    host = parse_ip_addr(HOST)
    fig = plots.bridge_with_veths(by_name(host)["docker0"], host)
    text = " ".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))
    assert "another program's container" in text
    assert "not given" not in text
    eth0 = parse_ip_addr(BRIDGE_CONTAINER)[1]
    fig = plots.bridge_with_veths(by_name(host)["docker0"], host, {"web": eth0})
    text = " ".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))
    assert "container web" in text and "another program's container" not in text


def test_a_figure_whose_text_shows_its_size_keeps_it():
    fig = plt.figure(figsize=(4, 3))  # a plain Figure: its text form names its size
    fig.add_axes((0, 0, 1, 1))
    text = repr(fig)
    plots.stamp(fig, "recorded on Docker Engine 1.2 (2000-01-01)", grow=False)
    assert marks(fig) == ["recorded on Docker Engine 1.2 (2000-01-01)"]
    assert repr(fig) == text
