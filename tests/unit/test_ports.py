"""Chapter 05 port-publishing helpers without an engine: bindings, DNAT and MASQUERADE rules."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from course_helpers.core.errors import CourseError
from course_helpers.core.replay import decode, encode
from course_helpers.ports import (
    LoopbackGuard,
    Masquerade,
    MasqueradeView,
    Published,
    binding_from,
    loopback_guard_from,
    masquerade_from,
    nat_from,
    relay_line,
    rule_options,
)

WEB = Published("dnc-12345678-web-1", "c" * 64, "80/tcp", "127.0.0.1", 32768, "172.17.0.3",
                "docker run …")
_RULE = ("-A DOCKER -d 127.0.0.1/32 ! -i docker0 -p tcp -m tcp --dport {} "
         "-j DNAT --to-destination {}")
DOCKER_CHAIN = "\n".join(["-N DOCKER", "-A DOCKER -i docker0 -j RETURN",
                          _RULE.format(327680, "172.17.0.9:80"),
                          _RULE.format(32768, "172.17.0.3:80")]) + "\n"
OUTPUT_CHAIN = ("-P OUTPUT ACCEPT\n"
                "-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER\n")
PROXY = ("/usr/sbin/docker-proxy", "-proto", "tcp", "-host-ip", "127.0.0.1", "-host-port",
         "32768", "-container-ip", "172.17.0.3", "-container-port", "80")


def test_binding_from_inspect():
    ports = {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "49153"}], "81/tcp": None}
    assert binding_from(ports) == ("127.0.0.1", 49153)
    with pytest.raises(CourseError, match="not published"):
        binding_from({"80/tcp": None})


def test_the_rule_for_this_port_only():
    nat = nat_from(DOCKER_CHAIN, OUTPUT_CHAIN, WEB, [("other",), PROXY])
    assert nat.readable
    assert nat.dnat_rule == ("-A DOCKER -d 127.0.0.1/32 ! -i docker0 -p tcp -m tcp --dport 32768 "
                             "-j DNAT --to-destination 172.17.0.3:80")
    assert (nat.host_ip, nat.host_port, nat.destination) == ("127.0.0.1", 32768, "172.17.0.3:80")
    assert nat.output_skips_loopback
    assert nat.proxy_args[:2] == ("-proto", "tcp") and "32768" in nat.proxy_args
    assert decode(encode(nat)) == nat


def test_the_rule_is_chosen_by_the_container_so_its_port_can_be_checked():
    # A rule to our container with the wrong --dport is still ours: the check must see it.
    chain = "-N DOCKER\n" + _RULE.format(327680, "172.17.0.3:80") + "\n" + \
        _RULE.format(32768, "172.17.0.30:80")
    nat = nat_from(chain, OUTPUT_CHAIN, WEB, [])
    assert nat.readable and nat.dnat_count == 1
    assert nat.host_port == 327680 != WEB.host_port, "a wrong port shows up, for the check"


def test_a_managed_chain_without_our_rule_is_reported_not_skipped():
    nat = nat_from("-N DOCKER\n-A DOCKER -i docker0 -j RETURN\n", OUTPUT_CHAIN, WEB, [])
    assert nat.readable, "the engine keeps rules here: a missing rule is a fault to show"
    assert nat.dnat_rule == "" and nat.dnat_count == 0 and nat.host_port == 0


def test_no_docker_chain_means_no_iptables_rules_here():
    nat = nat_from("", OUTPUT_CHAIN, WEB, [])
    assert not nat.readable
    assert "rootless" in nat.reason and "nftables" in nat.reason


RAW_28 = """\
-P PREROUTING ACCEPT
-P OUTPUT ACCEPT
-A PREROUTING -d 172.17.0.3/32 ! -i docker0 -j DROP
-A PREROUTING -d 127.0.0.1/32 ! -i lo -p tcp -m tcp --dport 32768 -j DROP
-A PREROUTING -d 127.0.0.1/32 ! -i lo -p tcp -m tcp --dport 32769 -j DROP
"""


def test_loopback_guard_finds_the_drop_rule_for_this_port_only():
    assert loopback_guard_from(RAW_28, WEB) == (
        "-A PREROUTING -d 127.0.0.1/32 ! -i lo -p tcp -m tcp --dport 32768 -j DROP",)
    assert loopback_guard_from("-P PREROUTING ACCEPT\n", WEB) == (), "Engine 26: no such rule"
    other_address = RAW_28.replace("127.0.0.1/32", "127.0.0.2/32")
    assert loopback_guard_from(other_address, WEB) == ()
    accepted = RAW_28.replace("-j DROP", "-j ACCEPT")
    assert loopback_guard_from(accepted, WEB) == ()
    view = LoopbackGuard(True, rules=loopback_guard_from(RAW_28, WEB))
    assert decode(encode(view)) == view


def test_rule_options_keep_negations_apart():
    options = rule_options("-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE")
    assert options == {"-A": "POSTROUTING", "-s": "172.17.0.0/16", "!-o": "docker0",
                       "-j": "MASQUERADE"}
    assert rule_options("") == {}


POSTROUTING = """\
-P POSTROUTING ACCEPT
-A POSTROUTING -s 172.18.0.0/16 ! -o br-aaaaaaaaaaaa -j MASQUERADE
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A POSTROUTING -s 172.17.0.3/32 -d 172.17.0.3/32 -p tcp -m tcp --dport 80 -j MASQUERADE
-A POSTROUTING -s 10.9.0.0/24 ! -o br-other -j MASQUERADE
"""


def test_masquerade_rules_of_the_networks_asked_about():
    asked = [("bridge", "docker0", "172.17.0.0/16"), ("alpha", "br-aaaaaaaaaaaa", "172.18.0.0/16"),
             ("beta", "br-bbbbbbbbbbbb", "172.19.0.0/16")]
    found = masquerade_from(POSTROUTING, asked)
    assert [m.network for m in found] == ["bridge", "alpha", "beta"]
    assert found[0] == Masquerade("bridge", "docker0", "172.17.0.0/16",
                                  "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
                                  "172.17.0.0/16")
    assert found[1].source == found[1].subnet == "172.18.0.0/16"
    assert found[2].rule == "" and found[2].source == "", "beta has no rule in this chain"
    view = MasqueradeView(True, rules=found)
    assert view.of("alpha") is found[1] and view.of("gamma") is None
    assert decode(encode(view)) == view


def test_the_relay_line_says_whose_fetch_it_was_live_and_in_replay():
    relayed = nat_from(DOCKER_CHAIN, OUTPUT_CHAIN, WEB, [PROXY])
    direct = nat_from(DOCKER_CHAIN, OUTPUT_CHAIN.replace("! -d 127.0.0.0/8 ", ""), WEB, [])
    live, replay = SimpleNamespace(is_live=True), SimpleNamespace(is_live=False)
    assert relayed.proxy_args and not direct.proxy_args
    assert "your fetch was relayed by docker-proxy" in relay_line(live, relayed)
    assert "your fetch was rewritten by the DNAT rule" in relay_line(live, direct)
    for view in (relayed, direct):
        line = relay_line(replay, view)
        assert "in the recorded run" in line and "your" not in line
