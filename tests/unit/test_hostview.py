"""Chapter 01 helpers that need no engine: grouping and which interfaces Docker made."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from course_helpers import BadInput, parse_ip_addr
from course_helpers.core.errors import CommandFailed
from course_helpers.core.replay import decode, encode
from course_helpers.hostview import (
    IFNAME,
    KINDS,
    NETNS,
    SOURCE_CENTOS7_HOST,
    CableEnds,
    DockerBridge,
    bridge_of,
    bridge_problems,
    busybox_suffix,
    cable_ends,
    carries_gateway,
    expected_inside_index,
    group_by_kind,
    host_devtype,
    made_by_docker,
    netns_of,
    parse_uevent,
    veths_on,
)
from course_helpers.ipaddr import parse_links, with_kernel_links

# A host as BusyBox `ip addr` prints it: a NIC, libvirt's virbr0 with a VM's
# vnet0, docker0 with one container, a user-defined network's bridge with one
# container, a look-alike bridge and a veth pair that Docker did not make.
HOST = """\
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
2: ens33: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast qlen 1000
    link/ether 00:0c:29:aa:bb:cc brd ff:ff:ff:ff:ff:ff
    inet 192.0.2.10/24 brd 192.0.2.255 scope global ens33
       valid_lft forever preferred_lft forever
3: virbr0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue qlen 1000
    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff
    inet 192.168.122.1/24 brd 192.168.122.255 scope global virbr0
       valid_lft forever preferred_lft forever
4: vnet0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master virbr0 qlen 1000
    link/ether fe:54:00:12:34:57 brd ff:ff:ff:ff:ff:ff
5: docker0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue
    link/ether 02:42:11:22:33:44 brd ff:ff:ff:ff:ff:ff
    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0
       valid_lft forever preferred_lft forever
7: veth1111111@if6: <BROADCAST,MULTICAST,UP,LOWER_UP,M-DOWN> mtu 1500 qdisc noqueue master docker0
    link/ether 9a:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff
8: br-0123456789ab: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue
    link/ether 02:42:55:66:77:88 brd ff:ff:ff:ff:ff:ff
    inet 172.18.0.1/16 brd 172.18.255.255 scope global br-0123456789ab
       valid_lft forever preferred_lft forever
10: veth2222222@if9: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master br-0123456789ab
    link/ether 9a:00:00:00:00:02 brd ff:ff:ff:ff:ff:ff
11: br-lookalike: <BROADCAST,MULTICAST> mtu 1500 qdisc noop qlen 1000
    link/ether 9a:00:00:00:00:03 brd ff:ff:ff:ff:ff:ff
12: vethstray@vethother: <BROADCAST,MULTICAST> mtu 1500 qdisc noop qlen 1000
    link/ether 9a:00:00:00:00:04 brd ff:ff:ff:ff:ff:ff
13: vethother@vethstray: <BROADCAST,MULTICAST> mtu 1500 qdisc noop qlen 1000
    link/ether 9a:00:00:00:00:05 brd ff:ff:ff:ff:ff:ff
"""

BRIDGES = [
    DockerBridge("bridge", "a" * 64, "docker0", ("172.17.0.0/16",), ()),
    DockerBridge("course-net", "0123456789ab" + "c" * 52, "br-0123456789ab",
                 ("172.18.0.0/16",), ("172.18.0.1",)),
]


def host():
    return parse_ip_addr(HOST)


def test_group_by_kind_covers_every_kind_in_order():
    groups = group_by_kind(host())
    assert list(groups)[: len(KINDS)] == list(KINDS)
    assert groups["loopback"] == ["lo"]
    assert groups["nic"] == ["ens33"]
    assert "docker0" in groups["bridge"] and "virbr0" in groups["bridge"]
    assert "veth1111111" in groups["veth"]
    assert sorted(n for names in groups.values() for n in names) == sorted(
        i.name for i in host())


def test_group_by_kind_of_nothing_has_empty_kinds():
    assert group_by_kind([]) == {kind: [] for kind in KINDS}


def test_veths_on_follows_master():
    assert [v.name for v in veths_on("docker0", host())] == ["veth1111111"]
    assert [v.name for v in veths_on("br-0123456789ab", host())] == ["veth2222222"]
    assert veths_on("virbr0", host()) == []  # vnet0 is a tap, not a veth
    assert veths_on("no-such-bridge", host()) == []


def test_veths_on_names_the_argument_order_when_reversed():
    expected = r'name first, then the interfaces.*veths_on\("docker0", host\)'
    with pytest.raises(BadInput, match=expected):
        veths_on(host(), "docker0")  # type: ignore[arg-type]


def test_made_by_docker_comes_from_data_not_names():
    made = made_by_docker(BRIDGES, host())
    assert made == {"docker0", "veth1111111", "br-0123456789ab", "veth2222222"}
    for stranger in ("lo", "ens33", "virbr0", "vnet0", "br-lookalike", "vethstray"):
        assert stranger not in made


def test_made_by_docker_finds_a_bridge_by_its_gateway_address():
    renamed = [DockerBridge("course-net", "f" * 64, "br-ffffffffffff",
                            ("172.18.0.0/16",), ("172.18.0.1",))]
    assert made_by_docker(renamed, host()) == {"br-0123456789ab", "veth2222222"}


def test_carries_gateway_by_reported_gateway_else_subnet():
    names = {i.name: i for i in host()}
    docker0, course_net = BRIDGES
    assert carries_gateway(course_net, names["br-0123456789ab"])
    assert not carries_gateway(course_net, names["docker0"])
    assert not carries_gateway(course_net, names["veth2222222"])
    # no gateway reported (Engine 20.10's default bridge): the subnet decides
    assert carries_gateway(docker0, names["docker0"])
    assert not carries_gateway(docker0, names["ens33"])
    moved = DockerBridge("course-net", "f" * 64, "br-0123456789ab",
                         ("172.18.0.0/16",), ("172.18.0.254",))
    assert not carries_gateway(moved, names["br-0123456789ab"])
    bare = DockerBridge("none", "e" * 64, "br-eeeeeeeeeeee")
    assert not carries_gateway(bare, names["br-0123456789ab"])


def test_made_by_docker_without_networks_is_empty():
    assert made_by_docker([], host()) == set()


def test_bridge_of_uses_the_name_option_else_br_and_the_short_id():
    default = {"Id": "a" * 64, "Options": {"com.docker.network.bridge.name": "docker0"}}
    user = {"Id": "0123456789ab" + "c" * 52, "Options": {}}
    assert bridge_of(default) == "docker0"
    assert bridge_of(user) == "br-0123456789ab"
    assert bridge_of({"Id": "0123456789abcdef", "Options": None}) == "br-0123456789ab"


def test_docker_bridge_survives_a_recording():
    assert decode(encode(BRIDGES)) == BRIDGES


@pytest.mark.parametrize("row", SOURCE_CENTOS7_HOST, ids=lambda r: str(r["name"]))
def test_the_source_hosts_kinds_follow_the_courses_rules(row):
    """The reference table's kinds are the ones the course's rules give those names."""
    link_type = "loopback" if row["name"] == "lo" else "ether"
    iface = parse_ip_addr(f"1: {row['name']}: <UP> mtu 1500\n    link/{link_type} "
                          "00:00:00:00:00:01 brd 00:00:00:00:00:00\n")[0]
    assert iface.kind == row["kind"]


class FakeLab(SimpleNamespace):
    """Just enough of a live Lab for one exec-backed helper: ``exec`` answers from a dict."""

    def __init__(self, answers: dict[str, str | Exception]):
        super().__init__(backend="live", record_into=None, answers=answers, ran=[])

    def exec(self, container, command):
        self.ran.append((container, command))
        answer = self.answers[" ".join(command)]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def host_probe(self):
        return "probe"

    def with_host_probe(self, fn):
        return fn(self.host_probe())


def test_netns_pattern_and_netns_of():
    assert NETNS.fullmatch("net:[4026531840]")
    assert not NETNS.fullmatch("mnt:[4026531840]") and not NETNS.fullmatch("net:[]")
    lab = FakeLab({"readlink /proc/self/ns/net": "net:[4026532342]\n"})
    assert netns_of(lab, "c1") == "net:[4026532342]"
    assert lab.ran == [("c1", ["readlink", "/proc/self/ns/net"])]


def test_netns_of_refuses_output_that_is_not_a_netns_link():
    lab = FakeLab({"readlink /proc/self/ns/net": "readlink: not found\n"})
    with pytest.raises(CommandFailed, match="not net:\\[INODE\\]"):
        netns_of(lab, "c1")


def test_parse_uevent():
    text = "DEVTYPE=bridge\nINTERFACE=br-0123456789ab\nIFINDEX=2060\n"
    assert parse_uevent(text) == {"DEVTYPE": "bridge", "INTERFACE": "br-0123456789ab",
                                  "IFINDEX": "2060"}
    assert parse_uevent("INTERFACE=eth0\nIFINDEX=4\n\nnoise\n=x\n") == {
        "INTERFACE": "eth0", "IFINDEX": "4"}
    assert parse_uevent("") == {}


def test_host_devtype_bridge_none_and_missing():
    missing = CommandFailed("no such file", exit_code=1)
    lab = FakeLab({
        "cat /sys/class/net/docker0/uevent": "DEVTYPE=bridge\nINTERFACE=docker0\nIFINDEX=3\n",
        "cat /sys/class/net/eth0/uevent": "INTERFACE=eth0\nIFINDEX=4\n",
        "cat /sys/class/net/gone0/uevent": missing,
    })
    assert host_devtype(lab, "docker0") == "bridge"
    assert host_devtype(lab, "eth0") == ""
    assert host_devtype(lab, "gone0") is None
    assert {c for c, _ in lab.ran} == {"probe"}


@pytest.mark.parametrize("name", ["", "a" * 16, "../etc", "x/y", ".", "..", "a b", "eth0:1",
                                  None, 3])
def test_host_devtype_refuses_what_cannot_be_an_interface_name(name):
    lab = FakeLab({})
    with pytest.raises(BadInput, match="not an interface name"):
        host_devtype(lab, name)
    assert lab.ran == []


@pytest.mark.parametrize("name", ["lo", "docker0", "br-0123456789ab", "veth1a2b3c4", "a" * 15,
                                  "wlp2s0", "..x"])
def test_interface_names_accepted(name):
    assert IFNAME.fullmatch(name)


# -- the kernel's word on Docker's bridges ----------------------------------------

def test_bridge_problems_none_when_the_kernel_agrees():
    lab = FakeLab({
        "cat /sys/class/net/docker0/uevent": "DEVTYPE=bridge\nINTERFACE=docker0\n",
        "cat /sys/class/net/br-0123456789ab/uevent": "DEVTYPE=bridge\n",
    })
    gone = DockerBridge("made-later", "e" * 64, "br-eeeeeeeeeeee", ("172.19.0.0/16",), ())
    assert bridge_problems(lab, [*BRIDGES, gone], host()) == []
    assert len(lab.ran) == 2  # the absent bridge is not asked about


def test_bridge_problems_name_a_non_bridge_and_a_missing_gateway():
    lab = FakeLab({
        "cat /sys/class/net/docker0/uevent": "INTERFACE=docker0\n",
        "cat /sys/class/net/br-0123456789ab/uevent": "DEVTYPE=bridge\n",
    })
    moved = [BRIDGES[0], DockerBridge("course-net", "0123456789ab" + "c" * 52,
                                      "br-0123456789ab", ("172.18.0.0/16",), ("172.18.0.254",))]
    assert bridge_problems(lab, moved, host()) == [
        "the kernel calls docker0 'a plain device', not a bridge",
        "br-0123456789ab does not hold the gateway of network 'course-net'",
    ]


# -- the two ends of a veth: ifindex and iflink --------------------------------------

# Engine 28 inside a container: eth0 is number 2; its iflink 7 is the host end.
CONTAINER_28 = """\
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
2: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP,M-DOWN> mtu 1500 qdisc noqueue
    link/ether 9a:00:00:00:00:0a brd ff:ff:ff:ff:ff:ff
"""
# BusyBox on an Engine 28 host whose own index 2 is its NIC: the veth's peer (the
# container's eth0, number 2 over there) gets the NIC's name.
HOST_28 = """\
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast qlen 1000
    link/ether 00:0c:29:aa:bb:cc brd ff:ff:ff:ff:ff:ff
3: docker0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue
    link/ether 02:42:11:22:33:44 brd ff:ff:ff:ff:ff:ff
7: veth7777777@eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master docker0
    link/ether 9a:00:00:00:00:07 brd ff:ff:ff:ff:ff:ff
"""
HOST_28_LINKS = "lo 1 1\neth0 2 2\ndocker0 3 3\nveth7777777 7 2\n"
CONTAINER_28_LINKS = "lo 1 1\neth0 2 7\n"


def test_busybox_misnames_the_peer_and_the_kernel_corrects_it():
    raw = {i.name: i for i in parse_ip_addr(HOST_28)}
    assert raw["veth7777777"].link == "eth0"  # what BusyBox printed
    fixed = with_kernel_links(parse_ip_addr(HOST_28), parse_links(HOST_28_LINKS))
    veth = {i.name: i for i in fixed}["veth7777777"]
    assert (veth.peer_index, veth.link) == (2, None)
    assert busybox_suffix(veth, fixed) == "eth0"
    assert busybox_suffix(veth, [i for i in fixed if i.name != "eth0"]) == "if2"


def test_busybox_suffix_same_namespace_and_no_peer():
    ifaces = parse_ip_addr(HOST)
    names = {i.name: i for i in ifaces}
    assert busybox_suffix(names["vethstray"], ifaces) == "vethother"
    assert busybox_suffix(names["docker0"], ifaces) == ""
    assert busybox_suffix(names["veth1111111"], ifaces) == "if6"  # no local index 6


def test_cable_ends_read_both_indexes_from_the_kernel():
    inside = with_kernel_links(parse_ip_addr(CONTAINER_28), parse_links(CONTAINER_28_LINKS))
    outside = with_kernel_links(parse_ip_addr(HOST_28), parse_links(HOST_28_LINKS))
    ends = cable_ends(inside, outside)
    assert ends == CableEnds("eth0", 2, 7, "veth7777777", 7, 2, "docker0")
    assert ends.name_each_other
    assert expected_inside_index(ends, 28) == 2 == ends.inside_index
    assert expected_inside_index(ends, 29) == 2
    assert expected_inside_index(ends, 27) == 6 != ends.inside_index


# An Engine 28 container on a host whose kernel gives every new namespace its fallback
# tunnels (the ipip and sit modules loaded, net.core.fb_tunnels_only_for_init_net = 0):
# they come with the namespace, before Docker's eth0, which takes the next number.
CONTAINER_28_TUNNELS = """\
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
2: tunl0@NONE: <NOARP> mtu 1480 qdisc noop qlen 1000
    link/ipip 0.0.0.0 brd 0.0.0.0
3: sit0@NONE: <NOARP> mtu 1480 qdisc noop qlen 1000
    link/sit 0.0.0.0 brd 0.0.0.0
4: eth0@if9: <BROADCAST,MULTICAST,UP,LOWER_UP,M-DOWN> mtu 1500 qdisc noqueue
    link/ether 9a:00:00:00:00:0b brd ff:ff:ff:ff:ff:ff
"""
HOST_28_TUNNELS = HOST_28.replace("7: veth7777777@eth0", "9: veth9999999@if4")


def test_from_engine_28_eth0_comes_after_the_devices_its_namespace_was_born_with():
    inside = with_kernel_links(parse_ip_addr(CONTAINER_28_TUNNELS),
                               parse_links("lo 1 1\ntunl0 2 0\nsit0 3 0\neth0 4 9\n"))
    outside = with_kernel_links(parse_ip_addr(HOST_28_TUNNELS), parse_links(
        "lo 1 1\neth0 2 2\ndocker0 3 3\nveth9999999 9 4\n"))
    ends = cable_ends(inside, outside)
    assert ends is not None and ends.name_each_other, ends
    assert expected_inside_index(ends, 28, inside) == 4 == ends.inside_index
    assert expected_inside_index(ends, 28) == 2, "without the listing: lo alone"
    assert expected_inside_index(ends, 27, inside) == 8, "before 28: one below the host's end"
    plain = with_kernel_links(parse_ip_addr(CONTAINER_28), parse_links(CONTAINER_28_LINKS))
    assert expected_inside_index(cable_ends(plain, with_kernel_links(
        parse_ip_addr(HOST_28), parse_links(HOST_28_LINKS))), 28, plain) == 2


def test_cable_ends_of_an_older_engine_are_consecutive():
    ends = CableEnds("eth0", 14, 15, "vethadecf05", 15, 14, "docker0")
    assert ends.name_each_other and expected_inside_index(ends, 20) == 14
    crossed = CableEnds("eth0", 14, 15, "vethadecf05", 15, 99, "docker0")
    assert not crossed.name_each_other


def test_cable_ends_none_without_a_veth_or_its_peer():
    lone = parse_ip_addr(CONTAINER_28.split("2: eth0")[0])
    assert cable_ends(lone, parse_ip_addr(HOST_28)) is None
    inside = with_kernel_links(parse_ip_addr(CONTAINER_28), parse_links(CONTAINER_28_LINKS))
    assert cable_ends(inside, parse_ip_addr(HOST_28.split("7: veth")[0])) is None
    stranger = cable_ends(inside, parse_ip_addr(HOST))  # index 7 there is another pair's
    assert stranger is not None and not stranger.name_each_other
    assert decode(encode(cable_ends(inside, parse_ip_addr(HOST_28)))) is not None
