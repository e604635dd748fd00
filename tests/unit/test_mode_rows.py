"""Chapter 03's side-by-side summary and chapter 05's listener lines: derived, not typed."""

from __future__ import annotations

import dataclasses

from test_plots import all_modes

from course_helpers.dns import DnsServerView
from course_helpers.ipaddr import IP_ADDR_WITH_LINKS
from course_helpers.modes import SNAPSHOT_SCRIPT, run_in_mode, side_by_side


def joined_modes():
    snaps = all_modes()
    bridge = dataclasses.replace(snaps["bridge"], container_id="b" * 64)
    container = dataclasses.replace(snaps["container"], container_id="c" * 64,
                                    target_id=bridge.container_id)
    return {**snaps, "bridge": bridge, "container": container}


def test_each_mode_says_whose_namespace_it_uses_from_the_evidence():
    rows = side_by_side(joined_modes())
    assert {m: r.sharing for m, r in rows.items()} == {
        "bridge": "its own", "host": "the host's", "none": "its own",
        "container": "the target's"}
    assert rows["none"].interfaces == ("lo",)
    assert [m for m, r in rows.items() if r.cabled] == ["bridge"]  # the fake joined has no peer
    assert rows["host"].line() == "host      namespace: the host's   veth to docker0: no"


def test_a_joined_container_in_another_namespace_is_not_called_the_targets():
    snaps = joined_modes()
    snaps["container"] = dataclasses.replace(snaps["container"], netns="net:[1]")
    assert side_by_side(snaps)["container"].sharing == "its own"


def test_listener_lines_name_owner_and_redirect_or_why_not():
    view = DnsServerView("a", True, listeners=(("udp", 52455), ("tcp", 39483)),
                         owners=("dockerd", ""), redirects=(("udp", 52455),))
    assert view.lines() == [
        "a   listening at 127.0.0.11: udp 127.0.0.11:52455 held by dockerd; "
        "tcp 127.0.0.11:39483 held by ?",
        "    port 53 redirected to: udp 52455"]
    assert DnsServerView("d1", True).lines() == ["d1  listening at 127.0.0.11: nothing"]
    assert DnsServerView("a", False, reason="not on the engine's host").lines() == [
        "a: not on the engine's host"]


HOST_SEEN_BY_BUSYBOX = """\
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq qlen 1000
    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff
3: docker0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue
    link/ether 9a:1b:2c:3d:4e:5f brd ff:ff:ff:ff:ff:ff
    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0
9: veth36c03fa@eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master docker0
    link/ether 6a:1f:3c:aa:bb:cc brd ff:ff:ff:ff:ff:ff
"""
LINKS = "--- sysfs ifindex iflink ---\nlo 1 1\neth0 2 2\ndocker0 3 3\nveth36c03fa 9 2\n"


def test_host_mode_names_a_veths_peer_by_the_kernels_iflink_not_busyboxs_guess(lab, client):
    """Engine 28: the container's eth0 is ifindex 2, and so is the host's own eth0; BusyBox
    prints the host end as veth…@eth0. Host mode must show it as @if2 (another namespace)."""
    script = f"{SNAPSHOT_SCRIPT.rpartition(';')[0]}; {IP_ADDR_WITH_LINKS[-1]}"
    mark = SNAPSHOT_SCRIPT.split("echo '")[1].split("'")[0]  # the line before ip addr
    client.api.exec_answers[f"sh -c {script}"] = (
        0, f"net:[4026531840]\nhost1\n{mark}\n{HOST_SEEN_BY_BUSYBOX}{LINKS}")
    snap = run_in_mode(lab, "host")
    veth = next(i for i in snap.interfaces if i.name == "veth36c03fa")
    assert (veth.peer_index, veth.link) == (2, None), veth
