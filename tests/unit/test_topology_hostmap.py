"""Chapter 01's host map stays legible on a busy host (issue 12).

The hosts are synthetic ``ip addr`` text (the parser's input): what is under test
is the drawing, so every count below is worked out from the generated host, never
typed in. Sizes are in pixels at matplotlib's 100 dpi, the notebook's resolution.
"""

from __future__ import annotations

import re

import matplotlib
import pytest
from matplotlib.figure import Figure

from course_helpers import figures as plots
from course_helpers import parse_ip_addr
from course_helpers.figures import topology
from course_helpers.ipaddr import Interface

matplotlib.use("Agg")


pytestmark = pytest.mark.usefixtures("clean_figures")

#: The width a notebook shows a figure at without scaling it down (its output area
#: in the 1400 px window of the browser tests is wider), and the smallest text allowed.
DISPLAY_PX, MIN_TEXT_PX = 900, 10.0


def iface(index: int, name: str, body: str, flags: str = "BROADCAST,MULTICAST,UP,LOWER_UP",
          extra: str = "") -> str:
    return (f"{index}: {name}: <{flags}> mtu 1500 qdisc noqueue {extra}state UP group default\n"
            f"    link/ether 02:42:ac:11:00:{index % 256:02x} brd ff:ff:ff:ff:ff:ff\n{body}")


def busy_host(bridges: int = 8, veths: int = 20, ours: int = 1, others: int = 2,
              loose: int = 0) -> str:
    """``ip addr`` of a host with ``bridges`` Docker bridges (docker0 first) and ``veths``
    veths spread over them; ``ours`` of the veths on docker0 are the course's; plus
    ``others`` non-Docker bridges (virbr0 …) and ``loose`` veths on no bridge."""
    text = ("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default\n"
            "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
            "    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n")
    text += iface(2, "eth0", "    inet 198.51.100.2/24 scope global eth0\n")
    n = 3
    names = ["docker0"] + [f"br-{k:012x}" for k in range(1, bridges)]
    for k, name in enumerate(names):
        text += iface(n, name, f"    inet 172.{17 + k}.0.1/16 scope global {name}\n")
        n += 1
    for k in range(others):
        name = f"virbr{k}"
        text += iface(n, name, f"    inet 192.168.{122 + k}.1/24 scope global {name}\n")
        n += 1
    for k in range(veths):
        master = "docker0" if k < max(ours, 2) else names[k % len(names)]
        text += iface(n, f"veth{k:07x}@if2", "", extra=f"master {master} ")
        n += 1
    for k in range(loose):
        text += iface(n, f"vloose{k}@if2", "")
        n += 1
    return text


def course_veths(host: list[Interface], ours: int) -> dict[str, str]:
    on_docker0 = [i.name for i in host if i.master == "docker0"]
    return {name: f"demo{k}" for k, name in enumerate(on_docker0[:ours])}


def draw(text: str, ours: int = 1, **kw) -> tuple[list[Interface], dict[str, str], Figure]:
    host = parse_ip_addr(text)
    mine = course_veths(host, ours)
    return host, mine, plots.interface_map(host, course_veths=mine, **kw)


def gids(fig: Figure) -> list[str]:
    return [a.get_gid() for ax in fig.axes for a in [*ax.patches, *ax.texts] if a.get_gid()]


def counted(fig: Figure) -> dict[str, int]:
    """{summary box: how many interfaces it stands for}, read from the box's drawn name."""
    found = {}
    for ax in fig.axes:
        for t in ax.texts:
            gid = t.get_gid() or ""
            if gid.startswith("name:summary:"):
                found[gid] = int(re.match(r"(\d+) ", t.get_text()).group(1))
    return found


def drawn(fig: Figure) -> set[str]:
    return {g.removeprefix("iface:") for g in gids(fig) if g.startswith("iface:")}


BUSY = [dict(bridges=8, veths=20), dict(bridges=8, veths=20, ours=3),
        dict(bridges=2, veths=40, others=5, loose=7), dict(bridges=20, veths=60, ours=2),
        dict(bridges=1, veths=1, others=0)]


@pytest.mark.parametrize("shape", BUSY)
def test_the_size_is_bounded_and_no_text_is_small(shape):
    _, _, fig = draw(busy_host(**shape), ours=shape.get("ours", 1))
    fig.canvas.draw()
    width, height = fig.get_size_inches() * fig.dpi
    assert width <= DISPLAY_PX, f"{width:.0f} px wide: a notebook would scale it down"
    assert height <= 1400, f"{height:.0f} px high"
    shown = min(1.0, DISPLAY_PX / width)
    smallest = min(t.get_fontsize() * fig.dpi / 72 * shown
                   for ax in fig.axes for t in ax.texts if t.get_text().strip())
    assert smallest >= MIN_TEXT_PX, f"text {smallest:.1f} px high"


@pytest.mark.parametrize("shape", BUSY)
def test_every_interface_is_drawn_or_counted_once(shape):
    host, mine, fig = draw(busy_host(**shape), ours=shape.get("ours", 1))
    one_by_one, boxes = drawn(fig), counted(fig)
    assert one_by_one <= {i.name for i in host}
    assert len(one_by_one) + sum(boxes.values()) == len(host), (one_by_one, boxes)
    assert set(mine) <= one_by_one, "every veth of the course's containers is drawn"
    assert {"lo", "eth0", "docker0"} <= one_by_one, "what chapter 01 teaches is drawn"
    for name in mine:
        assert f"master-link:{name}" in gids(fig), f"{name} is joined to its bridge"


def test_a_bridge_with_many_veths_counts_them_beside_the_courses_own():
    host, mine, fig = draw(busy_host(bridges=8, veths=20, ours=1))
    on_docker0 = [i for i in host if i.master == "docker0"]
    assert len(on_docker0) > topology.FEW  # the case under test
    boxes = counted(fig)
    assert boxes["name:summary:veth:docker0"] == len(on_docker0) - len(mine)
    assert "master-link:summary:docker0" in gids(fig)
    bridges = [i for i in host if i.kind == "bridge"]
    hidden = len(bridges) - topology.MAP_BRIDGES + 1
    assert boxes["name:summary:bridge"] == hidden
    veths = [i for i in host if i.kind == "veth"]
    shown_bridges = {b for b in drawn(fig) if b in {i.name for i in bridges}}
    elsewhere = [v for v in veths if v.master not in shown_bridges]
    assert boxes["name:summary:veth:more"] == len(elsewhere)


def test_the_number_of_lines_stays_small():
    _, _, fig = draw(busy_host(bridges=20, veths=60, ours=2))
    links = [g for g in gids(fig) if g.startswith("master-link:")]
    assert len(links) <= 2 * topology.MAP_BRIDGES + 2, links


def test_a_quiet_host_is_drawn_whole():
    host, mine, fig = draw(busy_host(bridges=1, veths=2, others=1))
    assert not counted(fig)
    assert drawn(fig) == {i.name for i in host}
    text = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert "cable of demo0" in text
    assert f"Docker made {1 + 2} of these {len(host)}" in text


# -- chapter 02's bridge figure on the same busy host -----------------------------
def test_the_bridge_figure_counts_other_programs_pairs_in_one_row():
    host = parse_ip_addr(busy_host(bridges=1, veths=12, ours=1))
    docker0 = next(i for i in host if i.name == "docker0")
    veths = [i for i in host if i.master == "docker0"]
    ours = veths[0]
    eth0 = parse_ip_addr(f"2: eth0@if{ours.index}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 "
                         "qdisc noqueue state UP\n    link/ether 02:42:ac:11:00:02 brd "
                         "ff:ff:ff:ff:ff:ff\n    inet 172.17.0.2/16 scope global eth0\n")[0]
    fig = plots.bridge_with_veths(docker0, host, {"web": eth0})
    links = sorted(g for g in gids(fig) if g.startswith("veth-link:"))
    assert links == sorted([f"veth-link:{ours.name}", "veth-link:summary"])
    assert counted(fig) == {"name:summary:veth:others": len(veths) - 1}
    text = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert "container web" in text and f"{len(veths) - 1} other programs' containers" in text
    assert f"docker0 and its {len(veths)} veth pairs" in text
    few = parse_ip_addr(busy_host(bridges=1, veths=2))
    fig = plots.bridge_with_veths(next(i for i in few if i.name == "docker0"), few)
    assert not counted(fig), "a few pairs are drawn one by one"
    assert "another program's container" in " ".join(t.get_text() for t in fig.axes[0].texts)
