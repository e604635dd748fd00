"""Chapter 05 on the real engine: embedded DNS, a published port and its NAT, isolation.

Oracles are independent of the helpers where possible: the SDK client and the
docker CLI asked directly, and iptables read by this test process (which runs
as root on the engine's host).
"""

from __future__ import annotations

import subprocess

import pytest

from course_helpers import dns, ports, reach
from course_helpers.errors import BadInput
from course_helpers.playground import build_playground

pytestmark = pytest.mark.live


def nat_rules_text(chain: str = "DOCKER") -> str:
    return subprocess.run(["iptables", "-w", "-t", "nat", "-S", chain], capture_output=True,
                          text=True, check=True).stdout


def ss_owner(pid: int, address: str) -> str:
    """`nsenter -t PID -n ss -lnup`: the process holding the UDP socket at ADDRESS:*."""
    out = subprocess.run(["nsenter", "-t", str(pid), "-n", "ss", "-lnup"], capture_output=True,
                         text=True, check=True).stdout
    line = next((li for li in out.splitlines() if f" {address}:" in li), "")
    return line.split('(("', 1)[1].split('"', 1)[0] if '(("' in line else ""


@pytest.fixture
def playground(lab):
    return build_playground(lab)


def test_the_playground_is_made_of_course_objects(lab, docker_client, playground):
    assert set(lab.network_ids) == {ref.id for _, ref in playground.networks}
    assert {m.id for m in playground.members} <= set(lab.container_ids)
    for member in playground.members:
        nets = docker_client.api.inspect_container(member.id)["NetworkSettings"]["Networks"]
        assert sorted(ip for _, ip in member.addresses) == \
            sorted(n["IPAddress"] for n in nets.values())
    ab_nets = docker_client.api.inspect_container(playground.member("ab").id)[
        "NetworkSettings"]["Networks"]
    assert set(ab_nets) == {ref.name for _, ref in playground.networks}


def test_the_embedded_dns_only_on_user_defined_networks(lab, playground):
    a, ab, d1, d2 = (playground.member(r) for r in ("a", "ab", "d1", "d2"))
    assert dns.resolver(lab, a).nameservers == ("127.0.0.11",)
    assert not dns.resolver(lab, d1).uses_embedded_dns
    found = dns.lookup(lab, a, ab)
    assert found.answered and found.addresses == (ab.ip_on("alpha"),)
    assert "NAME" in found.output and ab.name not in found.output
    back = dns.lookup(lab, ab, playground.member("b"))
    assert back.addresses == (playground.member("b").ip_on("beta"),)
    missing = dns.lookup(lab, d1, d2)
    assert not missing.answered and missing.refused
    with pytest.raises(BadInput, match="forward"):
        dns.lookup(lab, a, playground.member("b"))


def test_dockerd_listens_at_127_0_0_11_on_user_defined_networks_only(lab, docker_client,
                                                                      playground):
    a, d1 = playground.member("a"), playground.member("d1")
    server = dns.dns_server(lab, a)
    assert server.visible, server.reason
    assert {proto for proto, _ in server.listeners} == {"udp", "tcp"}
    assert set(server.owners) == {"dockerd"}
    assert set(server.redirects) == set(server.listeners), "port 53 is sent to those sockets"
    pid = docker_client.api.inspect_container(a.id)["State"]["Pid"]
    assert ss_owner(pid, "127.0.0.11") == "dockerd"
    seen = lab.exec(a, ["busybox", "netstat", "-lnu"])
    udp_port = dict(server.listeners)["udp"]
    assert f"127.0.0.11:{udp_port}" in seen
    none = dns.dns_server(lab, d1)
    assert none.visible and none.listeners == () and none.redirects == ()


def test_a_published_port_its_page_and_its_nat_rule(lab):
    web = ports.start_web(lab)
    shown = subprocess.run(["docker", "port", web.name, "80"], capture_output=True, text=True,
                           check=True).stdout.split()
    assert f"{web.host_ip}:{web.host_port}" in shown
    page = ports.fetch(lab, web)
    assert (page.status, page.body) == (200, "hello from a course container\n")
    assert ports.fetch(lab, web, "/missing.html").status == 404
    nat = ports.nat_rules(lab, web)
    assert nat.readable, nat.reason
    rule = f"--dport {web.host_port} -j DNAT --to-destination {web.container_ip}:80"
    assert rule in nat_rules_text()
    assert nat.dnat_rule in nat_rules_text().splitlines()
    assert (nat.host_ip, nat.host_port, nat.destination) == \
        (web.host_ip, web.host_port, f"{web.container_ip}:80")
    lab.remove_container(web)
    assert rule not in nat_rules_text(), "Docker removes the rule with the container"


def test_fetch_refuses_non_loopback_bindings(lab):
    web = ports.start_web(lab)
    elsewhere = ports.Published(web.name, web.id, web.container_port, "0.0.0.0", web.host_port,
                                web.container_ip, web.cli)
    with pytest.raises(BadInput, match="loopback"):
        ports.fetch(lab, elsewhere)


def test_reachability_follows_shared_networks(lab, playground):
    pings = reach.ping_all(lab, playground)
    assert len(pings) == sum(len(reach.targets_of(playground, m)) for m in playground.members)
    roles = [m.role for m in playground.members]
    assert reach.reach_matrix(roles, pings) == reach.expected_matrix(playground)
    assert all(p.ok == reach.expected_ping(playground, p) for p in pings)
    iso = reach.isolation_rules(lab, playground)
    assert iso.readable, iso.reason
    for net in ("alpha", "beta", "bridge"):
        assert f"-A DOCKER-ISOLATION-STAGE-2 -o [{net}] -j DROP" in iso.rules
    assert all("br-" not in rule for rule in iso.rules), "only the playground's bridges"


def test_the_masquerade_rules_match_the_networks_subnets(lab, docker_client, playground):
    view = ports.masquerade_rules(lab, playground)
    assert view.readable, view.reason
    assert [m.network for m in view.rules] == ["bridge", "alpha", "beta"]
    chain = nat_rules_text("POSTROUTING").splitlines()
    names = {"bridge": "bridge", **{role: ref.id for role, ref in playground.networks}}
    for rule in view.rules:
        subnet = docker_client.api.inspect_network(names[rule.network])["IPAM"]["Config"][0][
            "Subnet"]
        assert rule.source == rule.subnet == subnet
        assert rule.rule in chain
        assert rule.rule.endswith(f"-s {subnet} ! -o {rule.bridge} -j MASQUERADE")
    assert view.of("bridge").bridge == "docker0"
