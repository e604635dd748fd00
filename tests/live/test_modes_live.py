"""The invariants Docker's own integration tests assert about the four modes, on the real engine.

Oracles are independent of the course's own probe where possible: the host's
namespace inode and iproute2's JSON read by this test process (which runs on
the engine's host), and the bridge network's IPAM data from the Docker API.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import subprocess

import pytest

from course_helpers.modes import (
    DISCARDED,
    HOST_PAGE,
    OWN_FILE,
    SHARED_FILES,
    container_files,
    dnat_rules,
    host_mode_server,
    run_all_modes,
    same_files,
)

pytestmark = pytest.mark.live


def host_links() -> dict[int, dict]:
    """The host namespace's links, by ifindex, from iproute2's JSON."""
    out = subprocess.run(["ip", "-j", "link"], capture_output=True, text=True, check=True).stdout
    return {link["ifindex"]: link for link in json.loads(out)}


def bridge_subnet(client) -> ipaddress.IPv4Network:
    config = client.networks.get("bridge").attrs["IPAM"]["Config"]
    return ipaddress.ip_network(next(c["Subnet"] for c in config if "." in c["Subnet"]))


def test_none_has_only_loopback(lab):
    snap = lab.run_in_mode("none")
    assert snap.names == ["lo"]
    (lo,) = snap.interfaces
    assert lo.link_type == "loopback"
    assert [str(a.interface) for a in lo.ipv4] == ["127.0.0.1/8"]
    assert snap.netns != os.readlink("/proc/self/ns/net"), "none must get its own namespace"


def test_host_mode_is_the_host_namespace(lab):
    snap = lab.run_in_mode("host")
    assert snap.netns == os.readlink("/proc/self/ns/net")
    links = host_links()
    # Interfaces that are not veths are stable while other tests start containers.
    stable = {(i, link["ifname"]) for i, link in links.items() if link.get("link_type") != "ether"
              or not link["ifname"].startswith("veth")}
    seen = {(i.index, i.name) for i in snap.interfaces}
    assert stable <= seen
    assert "eth0" not in snap.names or "eth0" in {link["ifname"] for link in links.values()}, \
        "host mode must not get an eth0 of its own"


def test_bridge_gets_eth0_in_subnet_with_veth_on_docker0(lab, docker_client):
    snap = lab.run_in_mode("bridge")
    eth0 = snap.interface("eth0")
    (addr,) = eth0.ipv4
    assert addr.ip in bridge_subnet(docker_client)
    inspect = docker_client.api.inspect_container(snap.container_id)
    assert str(addr.ip) == inspect["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
    peer = host_links()[eth0.peer_index]  # independent oracle: iproute2 on the host
    assert peer["ifname"].startswith("veth")
    assert peer["master"] == "docker0"
    assert peer["link_index"] == eth0.index
    assert snap.host_peer is not None and snap.host_peer.name == peer["ifname"]
    assert snap.bridge is not None and snap.bridge.name == "docker0"


def test_container_mode_shares_target_netns_and_ip(lab):
    target = lab.run_in_mode("bridge")
    joined = lab.run_in_mode("container", target=target.container)
    assert joined.netns == target.netns
    assert joined.ipv4 == target.ipv4
    assert joined.interface("eth0").peer_index == target.interface("eth0").peer_index
    assert joined.target_id == target.container_id
    assert f"--network container:{target.container} {lab.image} sleep" in joined.cli
    assert joined.cli.endswith(f"docker exec {joined.container} ip addr")
    # The shared eth0's host end is found too: the same veth as the target's.
    assert joined.host_peer.index == target.host_peer.index and joined.bridge.name == "docker0"


def test_container_mode_does_not_share_processes(lab):
    target = lab.run_in_mode("bridge")
    joined = lab.run_in_mode("container", target=target)
    # A process that only the target runs: `sleep 4321`, left in the background.
    lab.exec(target.container, "sleep 4321 >/dev/null 2>&1 &")
    target_ps = lab.exec(target.container, ["ps", "-o", "args"])
    joined_ps = lab.exec(joined.container, ["ps", "-o", "args"])
    target_pid_ns = lab.exec(target.container, ["readlink", "/proc/self/ns/pid"]).strip()
    joined_pid_ns = lab.exec(joined.container, ["readlink", "/proc/self/ns/pid"]).strip()
    assert target_pid_ns != joined_pid_ns
    assert "sleep 4321" in target_ps and "sleep 4321" not in joined_ps


def test_all_modes_side_by_side(lab):
    snaps = run_all_modes(lab)
    assert set(snaps) == {"bridge", "host", "none", "container"}
    assert snaps["none"].names == ["lo"]
    assert snaps["container"].netns == snaps["bridge"].netns
    assert snaps["host"].netns == os.readlink("/proc/self/ns/net")
    assert len({snaps[m].netns for m in ("bridge", "host", "none")}) == 3


def test_learner_container_is_joined_never_modified(lab, docker_client):
    learner = docker_client.containers.create(
        lab.image, ["sleep", "120"], name=f"learner-{lab.session}-web")
    try:
        learner.start()
        before = docker_client.api.inspect_container(learner.id)
        joined = lab.run_in_mode("container", target=learner.name)
        assert joined.target_id == learner.id
        lab.close()
        after = docker_client.api.inspect_container(learner.id)
        assert after["State"]["Status"] == "running"
        for key in ("Config", "HostConfig", "Name", "RestartCount"):
            assert after[key] == before[key]
    finally:
        learner.remove(force=True)


def test_no_network_option_lands_on_bridge(lab, docker_client):
    plain = lab.start_container("plain", network_mode=None)  # the SDK sends "default"
    api = docker_client.api.inspect_container(plain.id)
    assert sorted(api["NetworkSettings"]["Networks"]) == ["bridge"]
    assert api["HostConfig"]["NetworkMode"] in ("default", "bridge")
    eth0 = next(i for i in lab.ip_addr(plain) if i.name == "eth0")
    (addr,) = eth0.ipv4
    assert str(addr.ip) == api["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
    assert addr.ip in bridge_subnet(docker_client)
    assert host_links()[eth0.peer_index]["master"] == "docker0"


def test_host_mode_server_needs_no_nat_and_discards_ports(lab, docker_client):
    server = host_mode_server(lab)
    assert server.netns == os.readlink("/proc/self/ns/net")
    assert DISCARDED in server.warnings
    # Independent oracles: this test runs on the engine's host, in its namespace.
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("GET", "/")
        assert conn.getresponse().read().decode().strip() == HOST_PAGE
    finally:
        conn.close()
    api = docker_client.api.inspect_container(server.container_id)
    assert api["HostConfig"]["PortBindings"] and not api["NetworkSettings"]["Ports"]
    assert server.container_id in {c["Id"] for c in docker_client.api.containers(
        filters={"label": [f"{k}={v}" for k, v in lab.labels.items()]})}
    chain = subprocess.run(["iptables", "-w", "-t", "nat", "-S", "DOCKER"], capture_output=True,
                           text=True, check=True).stdout
    assert "-N DOCKER" in chain
    words = chain.split()
    dports = {port for flag, port in zip(words, words[1:], strict=False) if flag == "--dport"}
    assert not dports & {str(server.port), "18000"}, dports
    view = dnat_rules(lab, server)
    assert view.readable and view.chain_found and view.rules == ()


def test_host_mode_server_is_removed_at_close(lab, docker_client):
    server = host_mode_server(lab)
    lab.close()
    assert server.container_id not in {c["Id"] for c in docker_client.api.containers(all=True)}


def test_container_mode_shares_hosts_resolv_conf_and_hostname(lab, docker_client):
    target = lab.run_in_mode("bridge")
    joined = lab.run_in_mode("container", target=target)
    a = docker_client.api.inspect_container(target.container_id)
    b = docker_client.api.inspect_container(joined.container_id)
    for key in ("HostsPath", "ResolvConfPath", "HostnamePath"):
        assert a[key] and a[key] == b[key], key  # the engine hands over the target's files
    shared = same_files(container_files(lab, target), container_files(lab, joined))
    assert all(shared[path] for path in SHARED_FILES) and not shared[OWN_FILE]
    assert target.hostname == joined.hostname == target.container_id[:12]
