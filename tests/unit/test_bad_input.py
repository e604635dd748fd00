"""Bad input that never reaches Docker: one sentence naming the fix, and no request.

A real ``Lab`` runs on the fake engine client (tests/unit/fakeengine.py), so a
test sees exactly which requests were sent: for these inputs, none after the
Lab's own set-up. (Bad input that Docker itself judges stays in tests/live.)
"""

from __future__ import annotations

import pytest
from sentences import assert_one_sentence

from course_helpers import Lab, parse_ip_addr
from course_helpers.core.errors import BadInput, CourseError, ParseError


@pytest.fixture
def refused(client):
    """``refused(lab, ErrorClass, call, *words)``: exactly that class, one sentence holding
    ``words``, and not one request sent to the engine."""

    def check(cls: type[CourseError], call, *words: str) -> CourseError:
        before = len(client.api.calls)
        with pytest.raises(cls) as err:
            call()
        assert type(err.value) is cls, f"{type(err.value).__name__} instead of {cls.__name__}"
        assert_one_sentence(str(err.value), *words)
        assert client.api.calls[before:] == [], "bad input reached the engine"
        return err.value

    return check


@pytest.mark.parametrize("mode", ["bridges", "overlay", "", None, 3, "containers"])
def test_unknown_mode(lab, refused, mode):
    refused(BadInput, lambda: lab.run_in_mode(mode),
            "Unknown network mode", "choose one of bridge, host, none, container")


@pytest.mark.parametrize(("mode", "target"), [("container", None), ("container", ""),
                                              ("container:", None), ("container", "   ")])
def test_container_mode_without_target(lab, refused, mode, target):
    refused(BadInput, lambda: lab.run_in_mode(mode, target=target),
            "Container mode joins another container's network", "with target=")


@pytest.mark.parametrize("text", [
    "garbage", "1: lo", "eth0: <UP> mtu 1500", "\x00\x01\x02", "1: eth0@ifXX: <UP> mtu abc",
    "2: eth0: <BROADCAST,UP> mtu 1500\n    inet 10.0.0.300/24 scope global eth0",
    "2: eth0: <BROADCAST,UP> mtu 1500\n    inet6 ::zz/64 scope link",
    "    inet 10.0.0.1/24 scope global eth0",
    "It is broken. Really.",
])
def test_garbage_given_to_the_parser(refused, text):
    err = refused(ParseError, lambda: parse_ip_addr(text),
                  "Cannot parse", "pass the unmodified output of `ip addr`")
    assert err.lineno >= 1


UNSAFE = [
    {"volumes": {"/": {"bind": "/host", "mode": "rw"}}},
    {"volumes": ["/run:/r:ro"]},
    {"volumes": ["/var/run:/v"]},
    {"pid_mode": "host"},
    {"network_mode": "host", "cap_add": ["NET_ADMIN"]},
    {"devices": ["/dev/null:/dev/x"]},
    {"entrypoint": ["sleep", "infinity"]},
    {"restart_policy": {"Name": "always"}},
    {"foo": 1},
]


@pytest.mark.parametrize("options", UNSAFE, ids=lambda o: "+".join(o))
def test_options_outside_the_allow_list(lab, refused, options):
    unsafe = next(key for key in options if key != "network_mode")
    err = refused(BadInput, lambda: lab.start_container("x", **options),
                  unsafe, "course containers take only", "name", "network_mode", "command",
                  "labels", "ports", "hostname", "environment")
    assert "create()" not in str(err)


def test_a_lifetime_without_bound_is_refused(client, refused):
    refused(BadInput, lambda: Lab("test", client=client, backend="live", lifetime=2**63),
            "lifetime is", "from 1 to 86400")


def test_more_bad_input_gets_one_sentence(lab, client, refused):
    refused(BadInput, lambda: lab.remove_network(123), "123 does not name a network")
    refused(BadInput, lambda: Lab("test", client=client, backend=123),
            "backend is 123", "pass 'live', 'replay' or 'auto'")
    refused(BadInput, lambda: lab.start_container("x", foo=1),
            "start_container() does not take foo", "course containers take only")
    refused(BadInput, lambda: lab.create_network(foo=1),
            "create_network() does not take foo", "course networks take only")
    refused(BadInput, lambda: lab.create_network(driver="bogus"),
            "driver 'bogus' is not one the course uses", "driver='bridge'")
    refused(BadInput, lambda: lab.start_container("x", network_mode=123),
            "network_mode is 123", "container:NAME")
    err = refused(BadInput, lambda: lab.start_container("r" * 10_000), "cannot go into a name")
    assert len(str(err)) < 300, "a huge role was echoed whole"
    refused(BadInput, lambda: Lab("../../../../tmp/evil", client=client, backend="live"),
            "cannot name a recording")
