"""Chapter 02 and 03 helpers that need no engine: IPAM, routes, veth ends, inspect trees,
what inspect says of a container, Docker's refusal wording, shared files, DNAT rules."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest

from course_helpers import BadInput, parse_ip_addr
from course_helpers.core.errors import CommandFailed
from course_helpers.core.replay import decode, encode
from course_helpers.modes import (
    DISCARDED,
    OWN_FILE,
    SHARED_FILES,
    create_warnings,
    dnat_for,
    files_command,
    parse_files,
    same_files,
)
from course_helpers.networks import (
    ACTIVE_ENDPOINTS,
    ENDPOINT_NAMED_FROM,
    Attachment,
    NetworkSummary,
    PingCheck,
    RemovalAttempt,
    course_addresses,
    endpoint_detail,
    engine_version,
    host_end,
    ipam_config,
    networking_from,
    parse_default_route,
    parse_route_get,
    ping_once,
    request_line,
    tree_html,
    tree_text,
)

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


def test_ipam_config_with_and_without_gateway():
    assert ipam_config(BRIDGE) == [{"subnet": "172.17.0.0/16", "gateway": None, "ip_range": None}]
    user = {"IPAM": {"Config": [{"Subnet": "172.18.0.0/16", "Gateway": "172.18.0.1"}]}}
    assert ipam_config(user) == [{"subnet": "172.18.0.0/16", "gateway": "172.18.0.1",
                                  "ip_range": None}]
    ranged = {"IPAM": {"Config": [{"Subnet": "172.17.0.0/16", "IPRange": "172.17.8.0/24"}]}}
    assert ipam_config(ranged)[0]["ip_range"] == "172.17.8.0/24"
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


@pytest.mark.parametrize(("text", "expected"), [
    ("172.17.0.2 dev docker0  src 172.17.0.1 \n", ("docker0", "172.17.0.1")),
    ("172.17.0.1 dev eth0  src 172.17.0.2 \n", ("eth0", "172.17.0.2")),
    ("172.17.0.1 dev eth0 src 172.17.0.2 uid 0 \n    cache \n", ("eth0", "172.17.0.2")),
    ("local 127.0.0.1 dev lo table local src 127.0.0.1 uid 0\n", ("lo", "127.0.0.1")),
    ("10.0.0.1 via 172.17.0.1 dev eth0  src 172.17.0.2\n", ("eth0", "172.17.0.2")),
    ("", (None, None)),
    ("dev", (None, None)),
])
def test_parse_route_get(text, expected):
    assert parse_route_get(text) == expected


class FakeApi(SimpleNamespace):
    def inspect_container(self, cid):
        return self.containers[cid]


class FakeLab(SimpleNamespace):
    """Just enough of a live Lab: course containers' inspect data and scripted execs."""

    def __init__(self, containers=None, answers=None):
        super().__init__(backend="live", record_into=None, ran=[],
                         answers=answers or {},
                         client=SimpleNamespace(api=FakeApi(containers=containers or {},
                                                            hooks={"response": []})))

    @property
    def container_ids(self):
        return list(self.client.api.containers)

    def exec(self, container, command):
        self.ran.append(" ".join(command))
        answer = self.answers[" ".join(command)]
        if isinstance(answer, Exception):
            raise answer
        return answer


WEB = {"NetworkSettings": {"Networks": {"bridge": {"IPAddress": "172.17.0.2",
                                                   "Gateway": "172.17.0.1"}}}}
PROBE = {"NetworkSettings": {"Networks": {"host": {"IPAddress": "", "Gateway": ""}}}}


def test_course_addresses_are_container_ips_and_gateways():
    lab = FakeLab({"w" * 64: WEB, "p" * 64: PROBE})
    assert course_addresses(lab) == {"172.17.0.2", "172.17.0.1"}
    assert course_addresses(FakeLab()) == set()


def test_ping_once_reports_route_and_reply():
    lab = FakeLab({"w" * 64: WEB}, {
        "ip route get 172.17.0.2": "172.17.0.2 dev docker0  src 172.17.0.1 \n",
        "ping -c 1 -W 2 172.17.0.2": "1 packets transmitted, 1 packets received\n",
        "ip route get 172.17.0.1": "172.17.0.1 dev eth0  src 172.17.0.2 \n",
        "ping -c 1 -W 2 172.17.0.1": CommandFailed("no reply", exit_code=1),
    })
    probe = SimpleNamespace(name="dnc-x-host-1", id="p" * 64)
    assert ping_once(lab, probe, "172.17.0.2") == PingCheck(
        "dnc-x-host-1", "172.17.0.2", "docker0", "172.17.0.1", True)
    assert ping_once(lab, "web", "172.17.0.1") == PingCheck(
        "web", "172.17.0.1", "eth0", "172.17.0.2", False)


def test_ping_once_may_ping_loopback():
    lab = FakeLab({}, {"ip route get 127.0.0.1": "local 127.0.0.1 dev lo src 127.0.0.1\n",
                       "ping -c 1 -W 2 127.0.0.1": "1 packets received\n"})
    assert ping_once(lab, "web", "127.0.0.1") == PingCheck(
        "web", "127.0.0.1", "lo", "127.0.0.1", True)


@pytest.mark.parametrize("ip", ["203.0.113.7", "192.0.2.1", "172.17.0.9", "10.0.0.1"])
def test_ping_once_pings_nothing_but_course_addresses(ip):
    lab = FakeLab({"w" * 64: WEB})
    with pytest.raises(BadInput, match="will not ping it"):
        ping_once(lab, "web", ip)
    assert lab.ran == []


@pytest.mark.parametrize("ip", ["nope", "", "172.17.0.256", "::1", None])
def test_ping_once_wants_an_ipv4_address(ip):
    lab = FakeLab({"w" * 64: WEB})
    with pytest.raises(BadInput, match="not an IPv4 address"):
        ping_once(lab, "web", ip)
    assert lab.ran == []


def test_ping_check_survives_a_recording():
    check = PingCheck("web", "172.17.0.1", "eth0", "172.17.0.2", True)
    assert decode(encode(check)) == check


@pytest.mark.parametrize(("method", "path", "status", "line"), [
    ("GET", "/v1.41/networks/bridge", 200, "GET /networks/bridge -> 200"),
    ("DELETE", "/v1.47/networks/abc", 403, "DELETE /networks/abc -> 403"),
    ("GET", "/networks/x", 404, "GET /networks/x -> 404"),
    ("GET", "/v1.41/version", None, "GET /version -> None"),
])
def test_request_line_drops_the_api_version(method, path, status, line):
    assert request_line(method, path, status) == line


def test_removal_attempt_sent_rm_and_recording():
    looked = RemovalAttempt("x", ("GET /networks/x -> 404",), "DockerRefused: …")
    removed = RemovalAttempt("n", ("DELETE /networks/abc -> 204",), "removed n")
    assert not looked.sent_rm and removed.sent_rm
    assert decode(encode([looked, removed])) == [looked, removed]


def _response(method, path, status):
    return SimpleNamespace(request=SimpleNamespace(method=method, path_url=path),
                           status_code=status)


# -- what the engine gave a container; Docker's "active endpoints"; chapter 03's checks --

INSPECT_PLAIN = {
    "HostConfig": {"NetworkMode": "default", "PortBindings": {}},
    "NetworkSettings": {
        "Ports": {},
        "Networks": {"bridge": {"IPAddress": "172.17.0.2", "Gateway": "172.17.0.1",
                                "MacAddress": "02:42:ac:11:00:02"}},
    },
}
INSPECT_HOST_WITH_P = {
    "HostConfig": {"NetworkMode": "host",
                   "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18000"}]}},
    "NetworkSettings": {"Ports": {},
                        "Networks": {"host": {"IPAddress": "", "Gateway": "", "MacAddress": ""}}},
}


def test_networking_from_a_container_on_the_default_bridge():
    seen = networking_from(INSPECT_PLAIN)
    assert seen.network_mode == "default" and seen.networks == ["bridge"]
    assert seen.on("bridge") == Attachment("bridge", "172.17.0.2", "172.17.0.1",
                                           "02:42:ac:11:00:02")
    assert seen.on("host") is None
    assert seen.asked_ports == {} and seen.published_ports == {}


def test_networking_from_host_mode_keeps_the_discarded_request_apart():
    seen = networking_from(INSPECT_HOST_WITH_P)
    assert seen.asked_ports == {"80/tcp": ("127.0.0.1:18000",)}
    assert seen.published_ports == {}
    published = {**INSPECT_HOST_WITH_P, "NetworkSettings": {
        "Ports": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "32768"}], "81/tcp": None}}}
    assert networking_from(published).published_ports == {"80/tcp": ("127.0.0.1:32768",)}
    assert decode(encode(networking_from(INSPECT_HOST_WITH_P))) == networking_from(
        INSPECT_HOST_WITH_P)


def test_networking_from_an_empty_inspect():
    seen = networking_from({})
    assert (seen.network_mode, seen.attachments, seen.asked_ports) == ("", (), {})


@pytest.mark.parametrize(("reason", "detail"), [
    # Engine 20.10 and 26.1 (seen live): the words end the message.
    ("error while removing network: network n1 id 8c72 has active endpoints", ""),
    # Engine 28.5 (seen live): the endpoint's container name and id follow.
    ('error while removing network: network n1 has active endpoints (name:"m-7" id:"82a8")',
     '(name:"m-7" id:"82a8")'),
    ("network n1 not found", None),
    ("", None),
])
def test_endpoint_detail(reason, detail):
    assert endpoint_detail(reason) == detail


@pytest.mark.parametrize(("version", "expected"), [
    ("20.10.24+dfsg1", (20, 10)), ("26.1.5+dfsg1", (26, 1)), ("28.5.2+dfsg4", (28, 5)),
    ("28.1.0", (28, 1)), ("29.0.0-rc.1", (29, 0)),
])
def test_engine_version(version, expected):
    assert engine_version(version) == expected


def test_endpoint_named_from_28_1_only():
    assert engine_version("28.0.4") < ENDPOINT_NAMED_FROM <= engine_version("28.1.0")
    assert ACTIVE_ENDPOINTS in "network x has active endpoints"


@pytest.mark.parametrize("version", ["", "dev", None, "v28"])
def test_engine_version_refuses_what_is_not_a_version(version):
    with pytest.raises(BadInput, match="not an engine version"):
        engine_version(version)


FILES_TARGET = """\
8beff5472dc4
--- course:file /etc/hosts 64768:1311
127.0.0.1\tlocalhost
172.17.0.2\t8beff5472dc4
--- course:file /etc/resolv.conf 64768:1309
nameserver 10.255.255.53
--- course:file /etc/hostname 64768:1310
8beff5472dc4
--- course:file /etc/passwd 92:2050
root:x:0:0:root:/root:/bin/sh
"""


def test_parse_files_and_same_files():
    target = parse_files("t", FILES_TARGET)
    assert target.hostname == "8beff5472dc4"
    assert [f.path for f in target.files] == [*SHARED_FILES, OWN_FILE]
    assert target.file("/etc/hosts").text.endswith("172.17.0.2\t8beff5472dc4\n")
    assert target.file("/etc/resolv.conf").ident == "64768:1309"
    joined = parse_files("j", FILES_TARGET.replace("92:2050", "93:2050"))
    assert same_files(target, joined) == {**dict.fromkeys(SHARED_FILES, True), OWN_FILE: False}
    with pytest.raises(BadInput, match="was not read"):
        target.file("/etc/shadow")
    assert decode(encode(target)) == target


def test_same_files_never_matches_unreadable_files():
    broken = parse_files("x", "h\n--- course:file /etc/hosts \n")
    assert same_files(broken, broken) == {"/etc/hosts": False}


def test_files_command_reads_every_path():
    command = files_command()
    assert command.startswith("hostname; ")
    for path in (*SHARED_FILES, OWN_FILE):
        assert f"stat -c %d:%i {path})" in command and f"cat {path}" in command


DOCKER_CHAIN = """\
-N DOCKER
-A DOCKER -i docker0 -j RETURN
-A DOCKER -d 127.0.0.1/32 -p tcp -m tcp --dport 32768 -j DNAT --to-destination 172.17.0.3:80
"""


def test_dnat_for():
    assert dnat_for(DOCKER_CHAIN, (32768,)).rules == (DOCKER_CHAIN.splitlines()[2],)
    none = dnat_for(DOCKER_CHAIN, (18080, 18000))
    assert none.readable and none.chain_found and none.rules == ()
    assert not dnat_for("", (18080,)).chain_found
    # A rule that only mentions the port elsewhere is not its DNAT rule.
    assert dnat_for("-N DOCKER\n-A DOCKER -p tcp --dport 80 -j ACCEPT", (80,)).rules == ()


def test_create_warnings_picks_the_named_containers_answer():
    responses = [
        ("POST", "/v1.41/containers/create?name=other", {"Warnings": ["not ours"]}),
        ("POST", "/v1.51/containers/create?name=c1", {"Id": "x", "Warnings": [DISCARDED]}),
    ]
    assert create_warnings(responses, "c1") == (DISCARDED,)
    assert create_warnings(responses, "c2") == ()
    assert create_warnings([("POST", "/containers/create?name=c1", {"Warnings": None})],
                           "c1") == ()
