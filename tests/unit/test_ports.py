"""Chapter 05 port-publishing helpers without an engine: bindings and the NAT rule."""

from __future__ import annotations

import pytest

from course_helpers.errors import CourseError
from course_helpers.ports import Published, binding_from, nat_from, normalise

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
    assert nat.dnat_rule == ("-A DOCKER -d HOSTIP/32 ! -i docker0 -p tcp -m tcp --dport HOSTPORT "
                             "-j DNAT --to-destination CONTAINERIP:80")
    assert nat.output_skips_loopback
    assert nat.proxy_args[:2] == ("-proto", "tcp") and "HOSTPORT" in nat.proxy_args


def test_no_rule_means_not_readable_here():
    nat = nat_from("-N DOCKER\n", OUTPUT_CHAIN, WEB, [])
    assert not nat.readable and "rootless" in nat.reason


def test_normalise():
    assert normalise("127.0.0.1:32768 -> 172.17.0.3:80", WEB) == "HOSTIP:HOSTPORT -> CONTAINERIP:80"
