"""Chapter 05 reachability helpers without an engine: the ping script, the matrices, the rules."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
from test_topology_legible import assert_legible

from course_helpers.figures import draw_by_address
from course_helpers.playground import Member, Playground
from course_helpers.reach import (
    Ping,
    by_address,
    expected_matrix,
    expected_ping,
    isolation_from,
    parse_ping_lines,
    ping_script,
    reach_matrix,
    targets_of,
    with_bridges,
)


def pg() -> Playground:
    members = (
        Member("a", "n-a", "1" * 64, (("alpha", "10.1.0.2"),)),
        Member("b", "n-b", "2" * 64, (("beta", "10.2.0.2"),)),
        Member("ab", "n-ab", "3" * 64, (("alpha", "10.1.0.3"), ("beta", "10.2.0.3"))),
        Member("d1", "n-d1", "4" * 64, (("bridge", "172.17.0.2"),)),
    )
    return Playground((), members, ())


def test_script_and_its_output():
    script = ping_script(["10.1.0.2", "10.2.0.2"])
    assert script.count("ping -c3 -i0.5 -W1") == 2 and script.endswith("wait")
    assert parse_ping_lines("10.1.0.2 ok\nnoise\n10.2.0.2 fail\n") == \
        {"10.1.0.2": True, "10.2.0.2": False}


def test_targets_are_the_other_members_addresses():
    ground = pg()
    got = [(m.role, net, ip) for m, net, ip in targets_of(ground, ground.member("a"))]
    assert got == [("b", "beta", "10.2.0.2"), ("ab", "alpha", "10.1.0.3"),
                   ("ab", "beta", "10.2.0.3"), ("d1", "bridge", "172.17.0.2")]


def test_matrix_from_pings_and_what_isolation_predicts():
    ground = pg()
    roles = [m.role for m in ground.members]
    pings = [Ping(s.role, t.role, net, ip, net in s.networks)
             for s in ground.members for t, net, ip in targets_of(ground, s)]
    assert reach_matrix(roles, pings) == expected_matrix(ground)
    assert expected_matrix(ground)[0] == [None, False, True, False]
    assert all(expected_ping(ground, p) == p.ok for p in pings)
    assert not expected_ping(ground, Ping("a", "ab", "beta", "10.2.0.3", False))
    assert reach_matrix(["a", "b"], []) == [[None, None], [None, None]]


def test_by_address_shows_which_address_was_reached():
    ground = pg()
    pings = [Ping(s.role, t.role, net, ip, net in s.networks)
             for s in ground.members for t, net, ip in targets_of(ground, s)]
    rows, columns, cells = by_address(ground, pings)
    assert rows == ["a [alpha]", "b [beta]", "ab [alpha, beta]", "d1 [bridge]"]
    assert columns == [("a", "alpha"), ("ab", "alpha"), ("b", "beta"), ("ab", "beta"),
                       ("d1", "bridge")]
    a = cells[0]
    assert a == [None, True, False, False, False], "a reaches ab on alpha only"
    assert cells[2][:4] == [True, None, True, None], "ab's own two addresses are not pinged"
    assert by_address(ground, [])[2][0] == [None, None, None, None, None]


def isolated_pings(ground) -> list[Ping]:
    """Every ping as isolation predicts it: answered exactly on a shared network."""
    return [Ping(s.role, t.role, net, ip, net in s.networks)
            for s in ground.members for t, net, ip in targets_of(ground, s)]


def test_the_figure_by_address_draws_a_symbol_in_every_cell():
    matplotlib.use("Agg")
    ground = pg()
    fig = draw_by_address(ground, isolated_pings(ground))
    marks = {t.get_gid(): t.get_text() for t in fig.axes[0].texts if t.get_gid()}
    assert len(marks) == 4 * 5
    assert marks["mark:0:1"] == "✓" and marks["mark:0:3"] == "✗" and marks["mark:0:0"] == "self"
    assert "on beta" in [t.get_text() for t in fig.axes[0].texts]
    assert repr(fig) == "<Figure: reachability by address>"
    plt.close(fig)


def test_the_figure_by_address_has_no_text_under_10_px_at_notebook_size():
    matplotlib.use("Agg")
    ground = pg()
    fig = draw_by_address(ground, isolated_pings(ground))
    assert_legible(fig)
    plt.close(fig)


def test_isolation_rules_only_for_our_bridges():
    stage1 = ("-N DOCKER-ISOLATION-STAGE-1\n"
              "-A DOCKER-ISOLATION-STAGE-1 -i br-bbb ! -o br-bbb -j DOCKER-ISOLATION-STAGE-2\n"
              "-A DOCKER-ISOLATION-STAGE-1 -i br-other ! -o br-other -j DOCKER-ISOLATION-STAGE-2\n"
              "-A DOCKER-ISOLATION-STAGE-1 -i br-aaa ! -o br-aaa -j DOCKER-ISOLATION-STAGE-2\n"
              "-A DOCKER-ISOLATION-STAGE-1 -j RETURN\n")
    stage2 = "-A DOCKER-ISOLATION-STAGE-2 -o br-aaa -j DROP\n"
    rules = isolation_from([stage1, stage2], {"br-aaa": "alpha", "br-bbb": "beta"})
    assert rules == (
        "-A DOCKER-ISOLATION-STAGE-1 -i [alpha] ! -o [alpha] -j DOCKER-ISOLATION-STAGE-2",
        "-A DOCKER-ISOLATION-STAGE-1 -i [beta] ! -o [beta] -j DOCKER-ISOLATION-STAGE-2",
        "-A DOCKER-ISOLATION-STAGE-2 -o [alpha] -j DROP",
    )


def test_with_bridges_writes_the_rules_back_as_iptables_prints_them():
    stage1 = "-A DOCKER-ISOLATION-STAGE-1 -i br-aaa ! -o br-aaa -j DOCKER-ISOLATION-STAGE-2\n"
    stage2 = ("-A DOCKER-ISOLATION-STAGE-2 -o br-aaa -j DROP\n"
              "-A DOCKER-ISOLATION-STAGE-2 -o x -j DROP\n")
    named = {"br-aaa": "alpha"}
    rules = isolation_from([stage1, stage2], named)
    back = [with_bridges(rule, {"alpha": "br-aaa"}) for rule in rules]
    assert back == [stage1.strip(), "-A DOCKER-ISOLATION-STAGE-2 -o br-aaa -j DROP"]
    assert with_bridges(rules[0], {}) == rules[0], "an unknown network keeps its brackets"
