"""Chapter 03's side-by-side summary and chapter 05's listener lines: derived, not typed."""

from __future__ import annotations

import dataclasses

from test_plots import all_modes

from course_helpers.dns import DnsServerView
from course_helpers.modes import side_by_side


def joined_modes():
    snaps = all_modes()
    bridge = dataclasses.replace(snaps["bridge"], container_id="b" * 64)
    container = dataclasses.replace(snaps["container"], container_id="c" * 64,
                                    target_id=bridge.container_id)
    return {**snaps, "bridge": bridge, "container": container}


def test_each_mode_says_whose_namespace_it_uses_from_the_evidence():
    rows = side_by_side(joined_modes())
    assert {m: r.sharing for m, r in rows.items()} == {
        "bridge": "its own", "host": "the host's", "none": "its own",
        "container": "the target's"}
    assert rows["none"].interfaces == ("lo",)
    assert [m for m, r in rows.items() if r.cabled] == ["bridge"]  # the fake joined has no peer
    assert rows["host"].line() == "host      namespace: the host's   veth to docker0: no"


def test_a_joined_container_in_another_namespace_is_not_called_the_targets():
    snaps = joined_modes()
    snaps["container"] = dataclasses.replace(snaps["container"], netns="net:[1]")
    assert side_by_side(snaps)["container"].sharing == "its own"


def test_listener_lines_name_owner_and_redirect_or_why_not():
    view = DnsServerView("a", True, listeners=(("udp", 52455), ("tcp", 39483)),
                         owners=("dockerd", ""), redirects=(("udp", 52455),))
    assert view.lines() == [
        "a   listening at 127.0.0.11: udp 127.0.0.11:52455 held by dockerd; "
        "tcp 127.0.0.11:39483 held by ?",
        "    port 53 redirected to: udp 52455"]
    assert DnsServerView("d1", True).lines() == ["d1  listening at 127.0.0.11: nothing"]
    assert DnsServerView("a", False, reason="not on the engine's host").lines() == [
        "a: not on the engine's host"]
