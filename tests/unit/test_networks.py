"""Chapter 02 helpers that need no engine: IPAM, routes, veth ends, inspect trees."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from course_helpers import parse_ip_addr
from course_helpers.lab import DEFAULT_NETWORKS
from course_helpers.networks import (
    NetworkSummary,
    host_end,
    ipam_config,
    parse_default_route,
    tree_html,
    tree_text,
)
from course_helpers.replay import decode, encode

BRIDGE = {
    "Name": "bridge",
    "Id": "a" * 64,
    "Scope": "local",
    "Driver": "bridge",
    "EnableIPv6": False,
    "IPAM": {"Driver": "default", "Options": None, "Config": [{"Subnet": "172.17.0.0/16"}]},
    "Containers": {},
    "Options": {"com.docker.network.bridge.name": "docker0",
                "com.docker.network.bridge.enable_icc": "true"},
    "Labels": {},
}

CONTAINER = """\
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
116: eth0@if117: <BROADCAST,MULTICAST,UP,LOWER_UP,M-DOWN> mtu 1500 qdisc noqueue
    link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff
    inet 172.17.0.2/16 brd 172.17.255.255 scope global eth0
       valid_lft forever preferred_lft forever
"""
HOST = """\
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
32: docker0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue qlen 1000
    link/ether 02:42:11:22:33:44 brd ff:ff:ff:ff:ff:ff
    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0
       valid_lft forever preferred_lft forever
117: veth6185b25@if116: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master docker0
    link/ether ba:10:e3:8e:ba:d8 brd ff:ff:ff:ff:ff:ff
"""


def test_default_networks_and_their_drivers():
    assert DEFAULT_NETWORKS == {"bridge": "bridge", "host": "host", "none": "null"}


def test_ipam_config_with_and_without_gateway():
    assert ipam_config(BRIDGE) == [{"subnet": "172.17.0.0/16", "gateway": None}]
    user = {"IPAM": {"Config": [{"Subnet": "172.18.0.0/16", "Gateway": "172.18.0.1"}]}}
    assert ipam_config(user) == [{"subnet": "172.18.0.0/16", "gateway": "172.18.0.1"}]
    assert ipam_config({"IPAM": {"Config": None}}) == []  # host, none
    assert ipam_config({}) == []


@pytest.mark.parametrize(("text", "gateway"), [
    ("default via 172.17.0.1 dev eth0 \n172.17.0.0/16 dev eth0 scope link  src 172.17.0.2\n",
     "172.17.0.1"),
    ("172.18.0.0/16 dev eth0 scope link  src 172.18.0.2\ndefault via 172.18.0.1 dev eth0\n",
     "172.18.0.1"),
    ("", None),
    ("\n\n", None),
    ("172.17.0.0/16 dev eth0 scope link\n", None),
    ("default dev tun0\n", None),
])
def test_parse_default_route(text, gateway):
    assert parse_default_route(text) == gateway


def test_host_end_matches_eth0_peer_to_host_index():
    container, host = parse_ip_addr(CONTAINER), parse_ip_addr(HOST)
    end = host_end(container, host)
    assert end is not None and end.name == "veth6185b25"
    assert end.master == "docker0" and end.peer_index == 116


def test_host_end_without_a_veth_or_without_its_peer():
    lone_lo = parse_ip_addr(CONTAINER.split("116:")[0])
    assert host_end(lone_lo, parse_ip_addr(HOST)) is None
    assert host_end(parse_ip_addr(CONTAINER), parse_ip_addr(HOST.split("117:")[0])) is None


def test_network_summary_short_id_and_recording():
    summary = NetworkSummary("0123456789abcdef" * 4, "bridge", "bridge", "local")
    assert summary.short_id == "0123456789ab"
    assert decode(encode([summary])) == [summary]


def test_tree_text_indents_nested_values():
    text = tree_text(BRIDGE)
    lines = text.splitlines()
    assert "Name: bridge" in lines
    assert "EnableIPv6: false" in lines
    assert "IPAM:" in lines and "  Options: null" in lines
    assert "    0:" in lines and "      Subnet: 172.17.0.0/16" in lines
    assert "Containers: {}" in lines and "Labels: {}" in lines
    assert "  com.docker.network.bridge.name: docker0" in lines


class _Counter(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.open: dict[str, int] = {}
        self.closed: dict[str, int] = {}
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.open[tag] = self.open.get(tag, 0) + 1

    def handle_endtag(self, tag):
        self.closed[tag] = self.closed.get(tag, 0) + 1

    def handle_data(self, data):
        self.text.append(data)


def test_tree_html_is_balanced_nested_details():
    page = tree_html(BRIDGE, "bridge")
    parser = _Counter()
    parser.feed(page)
    assert parser.open == parser.closed
    # the outer level, IPAM, its Config list, Config[0], Options
    assert parser.open["details"] == 5
    assert page.startswith("<details open><summary><b>bridge</b>")
    assert len(re.findall(r"<details open>", page)) == 1
    deeper = tree_html(BRIDGE, "bridge", open_levels=2)
    assert len(re.findall(r"<details open>", deeper)) == 3  # top, IPAM and Options
    assert "Subnet: 172.17.0.0/16" in "".join(parser.text)


def test_tree_html_escapes_markup():
    page = tree_html({"<b>": "<script>x</script>"}, "a&b")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<b>a&amp;b</b>" in page


def test_trees_of_real_json_round_trip():
    data = json.loads(json.dumps(BRIDGE))
    assert tree_text(data) == tree_text(BRIDGE)
