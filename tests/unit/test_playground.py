"""Chapter 05 playground helpers without an engine: addresses, members, the CLI."""

from __future__ import annotations

import pytest

from course_helpers.core.errors import BadInput
from course_helpers.core.refs import NetworkRef
from course_helpers.core.replay import decode, encode
from course_helpers.playground import LAYOUT, Member, Playground, addresses_from, cli_lines


def test_addresses_from_inspect_use_roles_and_a_stable_order():
    inspect = {"NetworkSettings": {"Networks": {
        "dnc-1-beta-2": {"IPAddress": "10.2.0.3"},
        "dnc-1-alpha-1": {"IPAddress": "10.1.0.3"},
        "none-yet": {"IPAddress": ""},
    }}}
    roles = {"dnc-1-alpha-1": "alpha", "dnc-1-beta-2": "beta"}
    assert addresses_from(inspect, roles) == (("alpha", "10.1.0.3"), ("beta", "10.2.0.3"))
    assert addresses_from({}, roles) == ()


def test_members_and_the_playground():
    ab = Member("ab", "dnc-1-ab-3", "3" * 64, (("alpha", "10.1.0.3"), ("beta", "10.2.0.3")))
    d1 = Member("d1", "dnc-1-d1-4", "4" * 64, (("bridge", "172.17.0.2"),))
    ground = Playground((("alpha", NetworkRef("dnc-1-alpha-1", "a" * 64)),), (ab, d1), ("x",))
    assert ab.networks == ("alpha", "beta") and ab.ip_on("beta") == "10.2.0.3"
    assert ab.ip_on("bridge") is None
    assert ab.label == "ab [alpha, beta]"
    assert not ground.share_network("ab", "d1") and ground.share_network("ab", "ab")
    with pytest.raises(BadInput, match="ab, d1"):
        ground.member("zz")
    assert decode(encode(ground)) == ground


def test_cli_lines_build_the_same_world():
    lines = cli_lines("IMAGE")
    assert lines[:2] == ("docker network create alpha", "docker network create beta")
    assert "docker network connect beta ab" in lines
    assert "docker run -d --name d1 IMAGE sleep 900" in lines
    assert sum(line.startswith("docker run") for line in lines) == len(LAYOUT)
