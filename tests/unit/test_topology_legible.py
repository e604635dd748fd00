"""Chapters 02 and 03's figures and the replay mark are legible in a notebook (issue 12).

As for chapter 01's host map (test_topology_hostmap.py): sizes are in pixels at
matplotlib's 100 dpi, the notebook's resolution, and a figure wider than the
notebook's output area is shown scaled down, its text with it. Snapshots and hosts
are synthetic ``ip addr`` text, quiet and busy; every bound below is the notebook's
(900 px wide, 10 px text), never a number read off the drawing.
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text
from test_plots import HOST, all_modes, snapshot
from test_topology_hostmap import DISPLAY_PX, MIN_TEXT_PX, busy_host

from course_helpers import figures as plots
from course_helpers import parse_ip_addr
from course_helpers.figures import topology
from course_helpers.ipaddr import by_name

matplotlib.use("Agg")

#: The tallest a figure may be (px): a screen and a half of scrolling, two screens for
#: the four modes compared (two rows of panels over a legend and a table).
MAX_H_PX, MAX_COMPARE_H_PX = 1400, 1800
LONG = "dnc-0a1b2c3d-a-very-long-container-role-name-1"  # past every ellipsis limit


pytestmark = pytest.mark.usefixtures("clean_figures")


def shown_px(fig: Figure) -> tuple[float, float, float]:
    """(width, height, smallest text) in pixels as a notebook shows ``fig``."""
    fig.canvas.draw()
    width, height = fig.get_size_inches() * fig.dpi
    shown = min(1.0, DISPLAY_PX / width)
    hidden = {id(t) for ax in fig.axes if not ax.axison  # an axis turned off: no tick labels
              for t in ax.get_xticklabels() + ax.get_yticklabels()}
    texts = [t for t in fig.findobj(Text)  # every text: boxes, titles, legends, tables, ticks
             if t.get_visible() and t.get_text().strip() and id(t) not in hidden]
    sizes = [t.get_fontsize() * fig.dpi / 72 * shown for t in texts]
    assert sizes, "the figure has text"
    return width * shown, height * shown, min(sizes)


def assert_legible(fig: Figure, max_h: float = MAX_H_PX) -> None:
    width, height, smallest = shown_px(fig)
    assert fig.get_size_inches()[0] * fig.dpi <= DISPLAY_PX, (
        f"{fig.get_size_inches()[0] * fig.dpi:.0f} px wide: a notebook would scale it down")
    assert height <= max_h, f"{height:.0f} px high"
    assert smallest >= MIN_TEXT_PX, f"text {smallest:.1f} px high"


def busy_host_mode(container: str = "dnc-0a1b2c3d-host-1"):
    return snapshot("host", busy_host(bridges=8, veths=20, others=2), container=container,
                    netns="net:[4026531840]")


def modes(**replace) -> dict:
    return {**all_modes(), **replace}


# -- chapter 03: one mode, and the modes compared ----------------------------------
@pytest.mark.parametrize("mode", ["bridge", "host", "none", "container"])
def test_each_mode_is_legible(mode):
    assert_legible(plots.draw_topology(all_modes()[mode]))


def test_host_mode_on_a_busy_host_counts_past_nine_and_stays_legible():
    snap = busy_host_mode(LONG)
    fig = plots.draw_topology(snap)
    assert_legible(fig)
    drawn = [a for a in fig.findobj(lambda a: (a.get_gid() or "").startswith("iface:host:"))]
    (box,) = fig.findobj(lambda a: a.get_gid() == "name:summary:host")
    counted = int(box.get_text().split()[0])
    assert len(drawn) == topology.HOST_MODE_MOST - 1
    assert len(drawn) + counted == len(snap.interfaces)
    names = {a.get_gid().removeprefix("iface:host:") for a in drawn}
    assert {"lo", "eth0", "docker0"} <= names, "what chapter 03 talks about is drawn"


def test_long_names_keep_a_mode_legible():
    assert_legible(plots.draw_topology(snapshot("container", target=LONG, container=LONG)))


@pytest.mark.parametrize("replace", [
    {}, {"host": busy_host_mode()}, {"host": busy_host_mode(LONG)},
    {"container": snapshot("container", target=LONG, container=LONG),
     "bridge": snapshot("bridge", container=LONG)},
], ids=["quiet", "busy", "busy-long-names", "long-names"])
def test_the_modes_compared_are_legible_two_panels_a_row(replace):
    fig = plots.compare_modes(modes(**replace))
    assert_legible(fig, MAX_COMPARE_H_PX)
    panels = fig.axes[:4]
    lefts = sorted({round(ax.get_position().x0, 3) for ax in panels})
    bottoms = sorted({round(ax.get_position().y0, 3) for ax in panels})
    assert len(lefts) == 2 and len(bottoms) == 2, "four panels, two by two"


def test_one_mode_compared_is_legible_too():
    assert_legible(plots.compare_modes({"none": all_modes()["none"]}))


# -- chapter 02: a bridge and its veth pairs ---------------------------------------
def eth0_of(peer: int) -> object:
    return parse_ip_addr(f"2: eth0@if{peer}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc "
                         "noqueue state UP\n    link/ether 02:42:ac:11:00:02 brd "
                         "ff:ff:ff:ff:ff:ff\n    inet 172.17.0.2/16 scope global eth0\n")[0]


def test_the_bridge_figure_is_legible_on_a_quiet_host():
    host = parse_ip_addr(HOST)
    assert_legible(plots.bridge_with_veths(by_name(host)["docker0"], host))
    assert_legible(plots.bridge_with_veths(by_name(host)["docker0"], host,
                                           {LONG: eth0_of(7), "elsewhere": eth0_of(99)}))


@pytest.mark.parametrize("veths", [3, 12, 40])
def test_the_bridge_figure_is_legible_on_a_busy_host(veths):
    host = parse_ip_addr(busy_host(bridges=1, veths=veths, others=0))
    docker0 = by_name(host)["docker0"]
    on = [i for i in host if i.master == "docker0"]
    fig = plots.bridge_with_veths(docker0, host, {"web": eth0_of(on[0].index)})
    assert_legible(fig)


def test_the_bridge_figure_is_legible_with_long_veth_names_and_high_ifindexes():
    """15 characters, the longest name Linux allows (IFNAMSIZ), and 5-digit ifindexes."""
    host = parse_ip_addr(HOST.replace("7: vethabc1234@if6", "48211: veth1a2b3c4d5e6@if48210"))
    docker0 = by_name(host)["docker0"]
    assert_legible(plots.bridge_with_veths(docker0, host))  # "container ifindex 48210"
    assert_legible(plots.bridge_with_veths(docker0, host, {LONG: eth0_of(48211)}))


def test_the_veth_label_keeps_both_ends():
    host = parse_ip_addr(HOST)
    fig = plots.bridge_with_veths(by_name(host)["docker0"], host, {"web": eth0_of(7)})
    (label,) = fig.findobj(lambda a: a.get_gid() == "label:veth-link:vethabc1234")
    assert label.get_text().split() == ["eth0@if7", "↔", "vethabc1234@if6"]


# -- the replay mark ---------------------------------------------------------------
MARK = "recorded on Docker Engine 28.5.2 (2026-03-04)"


@pytest.mark.parametrize("draw", [
    lambda: plots.draw_topology(snapshot("none")),
    lambda: plots.compare_modes(all_modes()),
    lambda: plots.bridge_with_veths(by_name(parse_ip_addr(HOST))["docker0"],
                                    parse_ip_addr(HOST)),
], ids=["draw_topology", "compare_modes", "bridge_with_veths"])
def test_the_replay_mark_is_legible_and_inside_the_figure(draw):
    plots.note_recording(MARK)
    fig = draw()
    (mark,) = [t for t in fig.texts if t.get_gid() == "recorded-mark"]
    _, _, smallest = shown_px(fig)
    shown = min(1.0, DISPLAY_PX / (fig.get_size_inches()[0] * fig.dpi))
    assert mark.get_fontsize() * fig.dpi / 72 * shown >= MIN_TEXT_PX
    assert smallest >= MIN_TEXT_PX
    box = mark.get_window_extent()
    width, height = fig.get_size_inches() * fig.dpi
    assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height, (
        "the mark is cut off")
    top = max(ax.get_window_extent().y1 for ax in fig.axes)
    assert box.y0 >= top - 1, "the mark sits in its strip, above the drawing"


def test_the_mark_on_a_plain_figure_is_legible():
    fig = plt.figure(figsize=(4, 3))
    plots.stamp(fig, MARK, grow=False)
    (mark,) = fig.texts
    assert mark.get_fontsize() * fig.dpi / 72 >= MIN_TEXT_PX


@pytest.mark.parametrize("draw", [
    lambda: plots.draw_topology(all_modes()["bridge"]),
    lambda: plots.draw_topology(all_modes()["container"]),
    lambda: plots.compare_modes(all_modes()),
], ids=["bridge", "container", "compared"])
def test_the_veth_link_crosses_no_container_badge(draw):
    fig = draw()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    links = fig.findobj(lambda a: (a.get_gid() or "").startswith("veth-link:"))
    badges = fig.findobj(lambda a: (a.get_gid() or "").startswith("container:"))
    assert links and badges
    for link in links:
        line = link.get_window_extent(renderer)
        for badge in badges:
            assert not line.overlaps(badge.get_window_extent(renderer)), badge.get_gid()
