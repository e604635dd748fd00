"""The drawings: asserted on what the figure contains (texts, boxes, links), not on pixels.

Snapshots are built from realistic ``ip addr`` text: a BusyBox container on the
default bridge (``lo`` + ``eth0@if7``) and an iproute2 host with ``docker0`` and
the host end ``vethabc1234@if6 master docker0``.
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch
from matplotlib.table import Table
from textsamples import BRIDGE_CONTAINER, NONE_CONTAINER

from course_helpers import BadInput, parse_ip_addr
from course_helpers import figures as plots
from course_helpers.figures.scene import OKABE_ITO
from course_helpers.ipaddr import by_name
from course_helpers.modes import ModeSnapshot

CONTAINER, NONE = BRIDGE_CONTAINER, NONE_CONTAINER
HOST = """\
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
    inet6 ::1/128 scope host
       valid_lft forever preferred_lft forever
2: ens33: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000
    link/ether 00:0c:29:3a:4b:5c brd ff:ff:ff:ff:ff:ff
    altname enp2s1
    inet 192.168.1.50/24 brd 192.168.1.255 scope global noprefixroute ens33
       valid_lft forever preferred_lft forever
    inet6 fe80::20c:29ff:fe3a:4b5c/64 scope link noprefixroute
       valid_lft forever preferred_lft forever
3: virbr0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN group default qlen 1000
    link/ether 52:54:00:8d:2e:11 brd ff:ff:ff:ff:ff:ff
    inet 192.168.122.1/24 brd 192.168.122.255 scope global virbr0
       valid_lft forever preferred_lft forever
4: docker0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default
    link/ether 02:42:5e:9a:1b:2c brd ff:ff:ff:ff:ff:ff
    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0
       valid_lft forever preferred_lft forever
    inet6 fe80::42:5eff:fe9a:1b2c/64 scope link
       valid_lft forever preferred_lft forever
7: vethabc1234@if6: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master docker0 state UP group default
    link/ether 6a:1f:3c:aa:bb:cc brd ff:ff:ff:ff:ff:ff link-netnsid 0
    inet6 fe80::681f:3cff:feaa:bbcc/64 scope link
       valid_lft forever preferred_lft forever
"""  # noqa: E501 - real iproute2 lines are long
IMAGE = "course/busybox"


def snapshot(mode: str, text: str = CONTAINER, **extra) -> ModeSnapshot:
    host = by_name(parse_ip_addr(HOST))
    network = f"container:{extra['target']}" if mode == "container" else mode
    fields = {
        "mode": mode, "container": f"dnc-0a1b2c3d-{mode}-1", "container_id": "f" * 64,
        "interfaces": tuple(parse_ip_addr(text)), "netns": "net:[4026532254]",
        "hostname": "01bb542d1477", "cli": f"docker run --rm --network {network} {IMAGE} ip addr",
    }
    if mode == "bridge":
        fields |= {"host_peer": host["vethabc1234"], "bridge": host["docker0"]}
    return ModeSnapshot(**{**fields, **extra})


def all_modes() -> dict[str, ModeSnapshot]:
    return {
        "bridge": snapshot("bridge"),
        "host": snapshot("host", HOST, netns="net:[4026531840]"),
        "none": snapshot("none", NONE, netns="net:[4026532331]"),
        "container": snapshot("container", target="dnc-0a1b2c3d-bridge-1"),
    }


def texts(fig: Figure) -> list[str]:
    """Every piece of text in the figure (titles, labels, table cells, tick labels)."""
    found = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    for table in fig.findobj(Table):
        found += [cell.get_text().get_text() for cell in table.get_celld().values()]
    return [t for t in found if t]


def joined(fig: Figure) -> str:
    """Every text on one line each, its own line breaks read as spaces (labels wrap)."""
    return "\n".join(" ".join(t.split()) for t in texts(fig))


def gids(fig: Figure, prefix: str) -> list[str]:
    return [a.get_gid() for a in fig.findobj(lambda a: (a.get_gid() or "").startswith(prefix))]


def artist(fig: Figure, gid: str):
    (found,) = fig.findobj(lambda a: a.get_gid() == gid)
    return found


@pytest.fixture(autouse=True)
def _no_show_and_close(monkeypatch):
    """The helpers must not show figures themselves; close what a test made."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("plots must leave plt.show() to the notebook cell")

    monkeypatch.setattr(plt, "show", refuse)
    yield
    plt.close("all")


# -- draw_topology ----------------------------------------------------------------
def test_bridge_topology_shows_both_namespaces_and_the_veth_pair():
    fig = plots.draw_topology(snapshot("bridge"))
    assert isinstance(fig, Figure)
    assert sorted(gids(fig, "netns:")) == ["netns:container", "netns:host"]
    text = joined(fig)
    for expected in ("bridge mode", "eth0@if7", "vethabc1234@if6", "docker0", "lo",
                     "172.17.0.2/16", "172.17.0.1/16", "127.0.0.1/8", "net:[4026532254]",
                     "eth0@if7 ↔ vethabc1234@if6", "--network bridge"):
        assert expected in text, f"{expected!r} missing from the bridge topology"
    link = artist(fig, "veth-link:eth0")
    assert isinstance(link, FancyArrowPatch)
    assert gids(fig, "master-link"), "the veth's master link to docker0 is not drawn"


def test_the_veth_link_crosses_the_namespace_boundary():
    fig = plots.draw_topology(snapshot("bridge"))
    host = artist(fig, "netns:host").get_extents()
    cont = artist(fig, "netns:container").get_extents()
    link = artist(fig, "veth-link:eth0").get_extents()
    assert host.y0 > cont.y1, "the host namespace is drawn above the container's"
    assert link.y1 > host.y0 and link.y0 < cont.y1, "the link must reach into both namespaces"


def test_nodes_sit_inside_their_namespace():
    fig = plots.draw_topology(snapshot("bridge"))
    cont = artist(fig, "netns:container").get_extents()
    host = artist(fig, "netns:host").get_extents()
    for gid, box in (("iface:netns:eth0", cont), ("iface:netns:lo", cont),
                     ("iface:host:vethabc1234", host), ("iface:host:docker0", host)):
        node = artist(fig, gid).get_extents()
        assert box.x0 <= node.x0 and node.x1 <= box.x1 and box.y0 <= node.y0 <= node.y1 <= box.y1


def test_host_mode_draws_the_container_inside_the_host_namespace():
    fig = plots.draw_topology(all_modes()["host"])
    assert gids(fig, "netns:") == ["netns:host"]
    host = artist(fig, "netns:host").get_extents()
    badge = artist(fig, "container:dnc-0a1b2c3d-host-1").get_extents()
    assert host.x0 <= badge.x0 and badge.x1 <= host.x1 and host.y0 <= badge.y0 <= host.y1
    text = joined(fig)
    for name in ("lo", "ens33", "virbr0", "docker0", "vethabc1234@if6", "192.168.1.50/24"):
        assert name in text
    assert "DOWN" in text, "virbr0 is down and should say so"
    assert not gids(fig, "veth-link"), "host mode has no veth pair of its own"


def test_none_mode_is_a_lone_lo():
    fig = plots.draw_topology(all_modes()["none"])
    assert sorted(gids(fig, "netns:")) == ["netns:container", "netns:host"]
    assert gids(fig, "iface:") == ["iface:netns:lo"]
    assert not gids(fig, "veth-link")
    assert "no veth pair" in joined(fig)


def test_container_mode_shares_one_namespace_between_two_containers():
    fig = plots.draw_topology(all_modes()["container"])
    assert sorted(gids(fig, "netns:")) == ["netns:host", "netns:shared"]
    shared = artist(fig, "netns:shared").get_extents()
    for name in ("dnc-0a1b2c3d-bridge-1", "dnc-0a1b2c3d-container-1"):
        badge = artist(fig, f"container:{name}").get_extents()
        assert shared.x0 <= badge.x0 and badge.x1 <= shared.x1, f"{name} outside the shared box"
    text = joined(fig)
    assert "shared network namespace" in text
    assert "eth0@if7 ↔ host ifindex 7" in text, "the unread host end is named by its ifindex"


def test_changing_the_snapshot_changes_the_figure():
    before = texts(plots.draw_topology(snapshot("bridge")))
    other = CONTAINER.replace("172.17.0.2", "172.17.0.9").replace("eth0@if7", "eth0@if9")
    after = texts(plots.draw_topology(snapshot("bridge", other, host_peer=None, bridge=None)))
    assert any("172.17.0.9/16" in t for t in after) and not any("172.17.0.9" in t for t in before)
    assert "eth0@if9 ↔ host ifindex 9" in after


def test_ipv6_is_noted_compactly():
    text = joined(plots.draw_topology(all_modes()["host"]))
    assert "IPv6 link-local only" in text
    assert "fe80::42:5eff:fe9a:1b2c" not in text, "link-local addresses are summarised"


def test_long_names_are_shortened_and_big_namespaces_stay_modest():
    lines = [f"{k}: veth{k:07x}xyzzy@if{k + 40}: <UP,LOWER_UP> mtu 1500 master docker0\n"
             f"    link/ether 02:42:ac:11:00:{k:02x} brd ff:ff:ff:ff:ff:ff\n" for k in range(2, 11)]
    text = NONE + "".join(lines)
    snap = snapshot("host", text, container="dnc-0a1b2c3d-a-very-long-container-role-name-1")
    fig = plots.draw_topology(snap)
    width, height = fig.get_size_inches()
    assert width <= 12 and height <= 10, f"figure too big: {width}x{height} in"
    (summary,) = fig.findobj(lambda a: a.get_gid() == "name:summary:host")
    counted = int(summary.get_text().split()[0])
    assert counted > 0, "past nine interfaces, one box counts the rest"
    assert len(gids(fig, "iface:")) + counted == 10, "each interface drawn or counted once"
    assert any("…" in t for t in texts(fig)), "long names should be shortened with an ellipsis"


def test_draw_topology_draws_on_given_axes():
    fig, ax = plt.subplots(figsize=(4, 4))
    assert plots.draw_topology(snapshot("bridge"), ax=ax) is fig
    assert gids(fig, "veth-link")


def test_colours_come_from_okabe_ito_with_a_hatch():
    fig = plots.draw_topology(all_modes()["host"])
    palette = {matplotlib.colors.to_hex(c) for c in OKABE_ITO.values()}
    strips = fig.findobj(lambda a: (a.get_gid() or "").startswith("kind:"))
    assert {s.get_gid() for s in strips} == {"kind:loopback", "kind:nic", "kind:bridge",
                                              "kind:veth"}
    for strip in strips:
        assert matplotlib.colors.to_hex(strip.get_facecolor()) in palette
        assert strip.get_hatch(), f"{strip.get_gid()} relies on colour alone"


# -- compare_modes ----------------------------------------------------------------
def test_compare_modes_has_one_panel_per_mode_and_a_facts_table():
    fig = plots.compare_modes(all_modes())
    text = texts(fig)
    for mode in ("bridge", "host", "none", "container"):
        assert f"{mode} mode" in text
    assert gids(fig, "netns:").count("netns:host") == 4
    assert gids(fig, "facts")
    for cell in ("own netns", "own IP", "interfaces", "no: the host's", "yes: 172.17.0.2/16",
                 "no IP: only lo"):
        assert cell in text, f"{cell!r} missing from the facts table"


def test_mode_facts_are_read_from_the_snapshots():
    facts = {row["mode"]: row for row in plots.mode_facts(all_modes())}
    assert list(facts) == ["bridge", "host", "none", "container"]
    assert facts["bridge"]["own netns"] == "yes"
    assert facts["container"]["own netns"].startswith("no: dnc-0a1b2c3d-bridge-1")
    assert "same inode" in facts["container"]["own netns"]
    assert facts["container"]["own IP"] == "no: uses 172.17.0.2/16"
    assert facts["host"]["own IP"].startswith("no: uses 192.168.1.50/24")
    assert facts["none"]["interfaces"] == "1" and facts["host"]["interfaces"] == "5"


def test_compare_modes_needs_snapshots():
    with pytest.raises(BadInput):
        plots.compare_modes({})


# -- interface_map ----------------------------------------------------------------
def test_interface_map_groups_by_kind_and_marks_docker():
    fig = plots.interface_map(parse_ip_addr(HOST))
    assert sorted(gids(fig, "group:")) == sorted(
        ["group:loopback", "group:nic", "group:bridge", "group:veth"])
    assert len(gids(fig, "docker-tag")) == 2, "docker0 and its veth are Docker's"
    assert gids(fig, "master-link:vethabc1234")
    text = joined(fig)
    for expected in ("ens33", "virbr0", "192.168.122.1/24", "Docker made 2 of these",
                     "This host has no other virtual interfaces."):
        assert expected in text


def test_interface_map_uses_the_given_docker_set():
    fig = plots.interface_map(parse_ip_addr(HOST), made_by_docker={"docker0"}, title="Mine")
    assert len(gids(fig, "docker-tag")) == 1
    assert "Mine" in texts(fig)


# -- bridge_with_veths ------------------------------------------------------------
def test_bridge_with_veths_matches_containers_by_ifindex():
    host = parse_ip_addr(HOST)
    eth0 = snapshot("bridge").interface("eth0")
    stranger = parse_ip_addr(CONTAINER.replace("eth0@if7", "eth0@if99"))[1]
    fig = plots.bridge_with_veths(by_name(host)["docker0"], host,
                                  {"web": eth0, "elsewhere": stranger})
    text = joined(fig)
    assert "docker0 and its 1 veth pair" in text
    assert "container web" in text and "eth0@if7 ↔ vethabc1234@if6" in text
    assert "not on this bridge: elsewhere" in text
    assert gids(fig, "veth-link:vethabc1234") and gids(fig, "master-link:vethabc1234")


def test_bridge_with_veths_without_containers_or_veths():
    host = parse_ip_addr(HOST)
    fig = plots.bridge_with_veths(by_name(host)["docker0"], host)
    assert "container ifindex 6 ↔ vethabc1234@if6" in joined(fig)
    fig = plots.bridge_with_veths(by_name(host)["virbr0"], host)
    assert "no veth attached to virbr0" in joined(fig)
    assert not gids(fig, "veth-link")


# -- reachability_matrix -----------------------------------------------------------
def test_reachability_matrix_uses_symbols_and_colours():
    fig = plots.reachability_matrix(["a", "b", "c"],
                                    [[True, False, None], [True, True, False], [None, None, True]])
    marks = [artist(fig, f"mark:{i}:{j}").get_text() for i in range(3) for j in range(3)]
    assert marks == ["✓", "✗", "?", "✓", "✓", "✗", "?", "?", "✓"]
    cells = {artist(fig, f"cell:{i}:{j}").get_facecolor() for i in range(3) for j in range(3)}
    assert len(cells) == 3
    assert "Who can reach whom" in texts(fig)


def test_reachability_matrix_checks_its_shape():
    with pytest.raises(BadInput, match="2×2"):
        plots.reachability_matrix(["a", "b"], [[True, False]])


def test_the_text_form_of_a_figure_does_not_depend_on_the_data():
    small = plots.interface_map(parse_ip_addr(NONE))
    big = plots.interface_map(parse_ip_addr(HOST))
    assert tuple(small.get_size_inches()) != tuple(big.get_size_inches())
    assert repr(small) == repr(big) == "<Figure: interface map>"
    assert repr(plots.draw_topology(snapshot("bridge"))) == "<Figure: bridge mode topology>"
    assert repr(plots.compare_modes(all_modes())) == "<Figure: network modes compared>"
