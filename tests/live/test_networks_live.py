"""Chapters 01 and 02 on the real engine: the host's interfaces, docker0, ls/inspect/rm.

Oracles are independent of the course's probe where possible: iproute2's JSON
read by this test process (which runs on the engine's host) and the Docker API
asked directly through the SDK client.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
from types import SimpleNamespace

import pytest

from course_helpers import DockerRefused, Lab
from course_helpers.core.errors import BadInput
from course_helpers.core.options import DEFAULT_NETWORKS
from course_helpers.core.replay import Recording
from course_helpers.hostview import (
    docker_bridges,
    docker_made,
    group_by_kind,
    host_devtype,
    netns_of,
    veths_on,
)
from course_helpers.ipaddr import by_name
from course_helpers.networks import (
    attempt_removal,
    container_networking,
    default_route,
    host_end,
    inspect_network,
    ipam_config,
    list_networks,
    ping_once,
    try_remove_network,
)

pytestmark = pytest.mark.live


def ip_json(*args: str) -> list[dict]:
    """iproute2's JSON for the host namespace (``ip -j addr`` / ``ip -j link``)."""
    out = subprocess.run(["ip", "-j", *args], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def docker0_ipv4() -> ipaddress.IPv4Interface:
    (link,) = ip_json("addr", "show", "dev", "docker0")
    (addr,) = [a for a in link["addr_info"] if a["family"] == "inet"]
    return ipaddress.IPv4Interface(f"{addr['local']}/{addr['prefixlen']}")


def test_docker_bridges_name_docker0_and_br_id(lab, docker_client):
    net = lab.create_network("net")
    bridges = {b.network: b for b in docker_bridges(lab)}
    assert bridges["bridge"].bridge == "docker0"
    assert bridges[net.name].bridge == f"br-{net.id[:12]}"
    assert bridges[net.name].network_id == net.id
    api = docker_client.api.inspect_network(net.id)["IPAM"]["Config"]
    assert bridges[net.name].subnets == tuple(c["Subnet"] for c in api)
    assert {b.network for b in bridges.values()} == {
        n["Name"] for n in docker_client.api.networks(filters={"driver": "bridge"})}


def test_docker_made_is_bridges_and_their_veths(lab):
    plain = lab.start_container("plain")
    net = lab.create_network("net")
    member = lab.start_container("member", network_mode=net.name)
    host = lab.host_interfaces()
    made = docker_made(lab, host)
    bridge = f"br-{net.id[:12]}"
    assert {"docker0", bridge} <= made
    for container, master in ((plain, "docker0"), (member, bridge)):
        end = host_end(lab.ip_addr(container), host)
        assert end is not None and end.master == master and end.name in made
    links = {link["ifname"]: link for link in ip_json("-d", "link")}
    for name in made:  # oracle: iproute2 says each is a bridge or is enslaved to one of them
        kind = links[name].get("linkinfo", {}).get("info_kind") if name in links else None
        assert name not in links or kind == "bridge" or links[name].get("master") in made, name
    assert "lo" not in made
    assert not any(name in made for name, link in links.items()
                   if link.get("linkinfo", {}).get("info_kind") not in ("bridge", "veth"))


def test_group_by_kind_live_keeps_every_interface(lab):
    host = lab.host_interfaces()
    groups = group_by_kind(host)
    assert groups["loopback"] == ["lo"]
    assert "docker0" in groups["bridge"]
    assert sorted(n for names in groups.values() for n in names) == sorted(i.name for i in host)


def test_one_new_veth_on_docker0_per_container(lab):
    before = {v.name for v in veths_on("docker0", lab.host_interfaces())}
    containers = [lab.start_container("veth") for _ in range(2)]
    host = lab.host_interfaces()
    after = {v.name for v in veths_on("docker0", host)}
    ends = [host_end(lab.ip_addr(c), host) for c in containers]
    assert all(e is not None for e in ends)
    names = {e.name for e in ends}
    assert len(names) == 2 and names <= after and not names & before
    oracle = {link["ifname"]: link for link in ip_json("link")}
    for container, end in zip(containers, ends, strict=True):
        eth0 = by_name(lab.ip_addr(container))["eth0"]
        assert oracle[end.name]["master"] == "docker0"
        assert oracle[end.name]["link_index"] == eth0.index


def test_list_networks_matches_the_api(lab, docker_client):
    net = lab.create_network("net")
    listed = list_networks(lab)
    assert [n.name for n in listed] == sorted(n.name for n in listed)
    api = {n["Id"]: n for n in docker_client.api.networks()}
    by_name_ = {n.name: n for n in listed}
    for name, driver in DEFAULT_NETWORKS.items():
        assert (by_name_[name].driver, by_name_[name].scope) == (driver, "local")
    assert by_name_[net.name].id == net.id and by_name_[net.name].driver == "bridge"
    for summary in listed:  # networks made by others meanwhile may be missing from `api`
        if summary.id in api:
            assert api[summary.id]["Name"] == summary.name


def test_inspect_bridge_agrees_with_docker0(lab, docker_client):
    container = lab.start_container("gw")
    bridge = inspect_network(lab, "bridge")
    api = docker_client.api.inspect_network("bridge")
    assert {k: v for k, v in bridge.items() if k != "Containers"} == {
        k: v for k, v in api.items() if k != "Containers"}
    assert container.id in bridge["Containers"]
    docker0 = docker0_ipv4()
    (config,) = [c for c in ipam_config(bridge) if "." in c["subnet"]]
    assert docker0.network == ipaddress.ip_network(config["subnet"])
    assert config["gateway"] in (None, str(docker0.ip))
    assert default_route(lab, container) == str(docker0.ip)
    settings = docker_client.api.inspect_container(container.id)["NetworkSettings"]
    assert settings["Networks"]["bridge"]["Gateway"] == str(docker0.ip)


# The default networks and 'has active endpoints': tests/live/test_bad_input.py.


def test_try_remove_network_leaves_other_sessions_networks_alone(lab, docker_client):
    with Lab("test", client=docker_client, backend="live", reap=False) as other:
        foreign = other.create_network("foreign")
        for ref in (foreign.name, foreign.id):
            with pytest.raises(BadInput, match="another course session"):
                try_remove_network(lab, ref)
        assert docker_client.api.inspect_network(foreign.id)["Id"] == foreign.id
    assert foreign.id not in {n["Id"] for n in docker_client.api.networks()}, "other Lab leaked"


def test_netns_of_host_mode_is_the_hosts_and_bridge_its_own(lab):
    probe = lab.host_probe()
    second = lab.start_container("hostmode", network_mode="host")
    plain = lab.start_container("plain")
    host_ns = os.readlink("/proc/self/ns/net")  # oracle: this process runs in the host's
    assert netns_of(lab, probe) == netns_of(lab, second) == host_ns
    assert netns_of(lab, plain) not in (host_ns, "")
    joined = lab.start_container("joined", network_mode=f"container:{plain.id}")
    assert netns_of(lab, joined) == netns_of(lab, plain)


def test_host_devtype_agrees_with_iproute2(lab):
    net = lab.create_network("kind")
    bridge = f"br-{net.id[:12]}"
    links = {link["ifname"]: link for link in ip_json("-d", "link")}
    assert links[bridge]["linkinfo"]["info_kind"] == "bridge"
    assert host_devtype(lab, bridge) == host_devtype(lab, "docker0") == "bridge"
    plain = [name for name, link in links.items()  # e.g. a physical NIC: no kind at all
             if "linkinfo" not in link and link.get("link_type") == "ether"]
    for name in plain[:1]:
        assert host_devtype(lab, name) == ""
    assert host_devtype(lab, "lo") == ""
    lab.remove_network(net)
    assert host_devtype(lab, bridge) is None
    assert bridge not in {link["ifname"] for link in ip_json("link")}


def test_ping_once_host_and_container_across_docker0(lab):
    web = lab.start_container("web")
    (web_v4,) = by_name(lab.ip_addr(web))["eth0"].ipv4
    gateway = str(docker0_ipv4().ip)
    there = ping_once(lab, lab.host_probe(), str(web_v4.ip))
    back = ping_once(lab, web, gateway)
    assert (there.ok, there.dev, there.src) == (True, "docker0", gateway)
    assert (back.ok, back.dev, back.src) == (True, "eth0", str(web_v4.ip))
    route = subprocess.run(["ip", "-j", "route", "get", str(web_v4.ip)], capture_output=True,
                           text=True, check=True).stdout
    assert json.loads(route)[0]["dev"] == "docker0"  # oracle: the host's own routing table


def test_ping_once_refuses_addresses_that_are_not_the_courses(lab):
    web = lab.start_container("web")
    # Only unassigned addresses of the default bridge: nothing outside even if the guard broke.
    for ip in ("172.17.255.254", "172.17.255.253"):
        with pytest.raises(BadInput, match="will not ping it"):
            ping_once(lab, web, ip)


def test_attempt_removal_shows_every_request(lab, docker_client):
    hooks_before = list(docker_client.api.hooks.get("response", []))
    missing = attempt_removal(lab, "dnc-no-such-network")
    assert missing.requests == ("GET /networks/dnc-no-such-network -> 404",)
    assert missing.outcome.startswith("DockerRefused:") and not missing.sent_rm
    default = attempt_removal(lab, "none")
    assert default.requests[0] == "GET /networks/none -> 200"
    assert [r.split()[0] for r in default.requests] == ["GET", "DELETE"]
    assert default.requests[1].endswith("-> 403") and "pre-defined" in default.outcome
    own = lab.create_network("own")
    removed = attempt_removal(lab, own)
    assert removed.requests == (f"DELETE /networks/{own.id} -> 204",)
    assert removed.outcome == f"removed {own.name}"
    with Lab("test", client=docker_client, backend="live", reap=False) as other:
        foreign = other.create_network("foreign")
        refused = attempt_removal(lab, foreign.name)
        assert refused.requests == (f"GET /networks/{foreign.name} -> 200",)
        assert refused.outcome.startswith("BadInput:") and not refused.sent_rm
        assert docker_client.api.inspect_network(foreign.id)["Id"] == foreign.id
    assert list(docker_client.api.hooks.get("response", [])) == hooks_before


def test_recorded_calls_replay_the_same_answers(lab):
    container = lab.start_container("rec")
    lab.record_into = Recording({"chapter": "test"})
    host = lab.host_interfaces()
    live = {
        "bridges": docker_bridges(lab),
        "made": docker_made(lab, host),
        "ls": list_networks(lab),
        "inspect": inspect_network(lab, "bridge"),
        "route": default_route(lab, container),
    }
    with pytest.raises(DockerRefused):
        try_remove_network(lab, "none")
    recording = Recording(lab.record_into.meta, json.loads(json.dumps(lab.record_into.calls)))
    lab.record_into = None
    replay = SimpleNamespace(backend="replay", replay_from=recording)
    assert replay_host(replay) == host
    assert docker_bridges(replay) == live["bridges"]
    assert docker_made(replay, host) == live["made"]
    assert list_networks(replay) == live["ls"]
    assert inspect_network(replay, "bridge") == live["inspect"]
    assert default_route(replay, container) == live["route"]
    with pytest.raises(DockerRefused, match="pre-defined network"):
        try_remove_network(replay, "none")


def replay_host(replay: SimpleNamespace):
    """``Lab.host_interfaces`` served from a recording, as a replaying Lab would."""
    return Lab.host_interfaces(replay)


def test_container_networking_matches_the_api(lab, docker_client):
    plain = lab.start_container("plain", network_mode=None)
    seen = container_networking(lab, plain)
    api = docker_client.api.inspect_container(plain.id)
    assert seen.network_mode == api["HostConfig"]["NetworkMode"]
    nets = api["NetworkSettings"]["Networks"]
    assert seen.networks == sorted(nets) == ["bridge"]
    assert seen.on("bridge").ip == nets["bridge"]["IPAddress"]
    assert seen.on("bridge").gateway == str(docker0_ipv4().ip)
    assert seen.asked_ports == {} and seen.published_ports == {}
