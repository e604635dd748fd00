"""Veth peers from the kernel's iflink, where BusyBox's ``ip`` names the wrong interface."""

from course_helpers.ipaddr import LINKS_MARK, parse_ip_addr_with_links

# A host on Engine 28: its eth0 is ifindex 2, and so is every container's eth0, so
# BusyBox prints the host end of each pair as veth…@eth0. va/vb: a pair in this namespace.
HOST_28 = """\
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast qlen 1000
    link/ether aa:52:b6:05:60:6a brd ff:ff:ff:ff:ff:ff
3: docker0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue
    link/ether 3e:cc:16:e5:f0:26 brd ff:ff:ff:ff:ff:ff
8: veth5010a7c@eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master docker0
    link/ether b6:f9:70:67:5b:df brd ff:ff:ff:ff:ff:ff
9: vb@va: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop qlen 1000
    link/ether 02:00:00:00:00:09 brd ff:ff:ff:ff:ff:ff
10: va@vb: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop qlen 1000
    link/ether 02:00:00:00:00:0a brd ff:ff:ff:ff:ff:ff
"""
TABLE = "lo 1 1\neth0 2 2\ndocker0 3 3\nveth5010a7c 8 2\nvb 9 10\nva 10 9\n"


def by_name(text):
    return {i.name: i for i in parse_ip_addr_with_links(text)}


def test_a_veth_busybox_names_after_the_hosts_eth0_gets_its_peer_index_from_sysfs():
    host = by_name(f"{HOST_28}{LINKS_MARK}\n{TABLE}")
    assert host["veth5010a7c"].peer_index == 2
    assert host["veth5010a7c"].link is None
    assert host["veth5010a7c"].kind == "veth"


def test_a_pair_within_one_namespace_keeps_its_peers_name():
    host = by_name(f"{HOST_28}{LINKS_MARK}\n{TABLE}")
    assert (host["va"].link, host["va"].peer_index) == ("vb", None)
    assert (host["vb"].link, host["vb"].peer_index) == ("va", None)


def test_interfaces_without_a_peer_are_left_as_ip_addr_printed_them():
    host = by_name(f"{HOST_28}{LINKS_MARK}\n{TABLE}")
    assert host["eth0"].peer_index is None and host["eth0"].link is None
    assert host["docker0"].kind == "bridge"


def test_without_the_kernels_table_the_listing_is_parsed_as_printed():
    host = by_name(HOST_28)
    assert host["veth5010a7c"].link == "eth0" and host["veth5010a7c"].peer_index is None


def test_a_table_read_after_an_interface_was_renumbered_is_not_trusted():
    host = by_name(f"{HOST_28}{LINKS_MARK}\nveth5010a7c 12 2\nnot a line\n")
    assert host["veth5010a7c"].link == "eth0"
