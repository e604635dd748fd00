"""``Lab`` without an engine: a real Lab on the fake engine client (tests/unit/fakeengine.py)."""

from __future__ import annotations

import json

import pytest
from fakeengine import FakeDockerClient

from course_helpers.core.errors import BadInput, CommandFailed, DockerRefused
from course_helpers.core.options import MEM_LIMIT, PIDS_LIMIT
from course_helpers.core.replay import Recording
from course_helpers.core.sessions import LABEL_COURSE, LABEL_SESSION
from course_helpers.modes import run_in_mode
from course_helpers.networks import attempt_removal, try_remove_network


def created(client: FakeDockerClient) -> list[str]:
    return [arg for method, arg in client.api.calls if method == "create_container"]


def test_a_container_is_labelled_limited_and_tracked(lab, client):
    ref = lab.start_container("web")
    data = client.api.containers_by_id[ref.id]
    assert data["Name"] == f"/{ref.name}" and ref.name.startswith(f"dnc-{lab.session}-web-")
    assert data["Labels"][LABEL_SESSION] == lab.session and LABEL_COURSE in data["Labels"]
    host = data["HostConfig"]
    assert (host["mem_limit"], host["pids_limit"]) == (MEM_LIMIT, PIDS_LIMIT)
    assert host["auto_remove"] and "no-new-privileges" in host["security_opt"]
    assert data["State"]["Status"] == "running"
    assert lab.container_ids == [ref.id] and lab.container_names == [ref.name]


def test_new_names_count_up_and_a_taken_generated_name_is_skipped(lab, client):
    prefix = f"dnc-{lab.session}-web-"
    assert lab.new_name("web") == f"{prefix}1"
    # a learner's container already holds the next generated name
    client.api.create_container("img", name=f"{prefix}2", host_config={})
    ref = lab.start_container("web")
    assert ref.name == f"{prefix}3"
    assert created(client)[-2:] == [f"{prefix}2", f"{prefix}3"]


def test_close_removes_exactly_what_the_session_made(lab, client):
    theirs = client.api.create_container("img", name="learners-own", host_config={})["Id"]
    client.api.start(theirs)
    ref = lab.start_container("web")
    net = lab.create_network("mynet")
    lab.close()
    assert ref.id not in client.api.containers_by_id
    assert net.id not in client.api.networks_by_id
    assert theirs in client.api.containers_by_id
    assert lab.closed and lab.container_ids == [] and lab.network_ids == []
    with pytest.raises(BadInput, match="This Lab is closed"):
        lab.start_container("again")


def test_a_learners_container_is_never_removed(lab, client):
    theirs = client.api.create_container("img", name="learners-own", host_config={})["Id"]
    with pytest.raises(BadInput, match="was not created by this Lab"):
        lab.remove_container(theirs)
    assert ("remove_container", theirs) not in client.api.calls


def test_exec_returns_output_and_names_a_failure(lab, client):
    ref = lab.start_container("web")
    client.api.exec_answers["sh -c hostname"] = (0, "web1\n")
    client.api.exec_answers["sh -c false"] = (1, "it broke\n")
    assert lab.exec(ref, "hostname") == "web1\n"
    with pytest.raises(CommandFailed, match=r"`sh -c false` failed in .* \(exit 1\): it broke"):
        lab.exec(ref, "false")


def test_the_host_probe_is_started_once_and_never_discarded(lab, client):
    probe = lab.host_probe()
    assert lab.host_probe() == probe and lab.is_host_probe(probe)
    lab.discard(probe)
    assert probe.id in client.api.containers_by_id
    other = lab.start_container("web")
    lab.discard(other)
    assert other.id not in client.api.containers_by_id


def test_with_host_probe_retries_once_with_a_new_probe_when_the_old_one_is_gone(lab, client):
    first = lab.host_probe()
    del client.api.containers_by_id[first.id]  # it expired
    seen = []

    def read(probe):
        seen.append(probe)
        if probe == first:
            raise DockerRefused("gone", status=404, reason="No such container")
        return "ok"

    assert lab.with_host_probe(read) == "ok"
    assert seen[0] == first and seen[1] != first and lab.is_host_probe(seen[1])


def test_try_remove_network_sends_only_defaults_and_own_networks(lab, client):
    with pytest.raises(DockerRefused, match="pre-defined network"):
        try_remove_network(lab, "bridge")
    theirs = client.api.create_network("learners-net")["Id"]
    with pytest.raises(BadInput, match="not created by the course"):
        try_remove_network(lab, "learners-net")
    assert ("remove_network", theirs) not in client.api.calls
    ours = lab.create_network("mine")
    assert try_remove_network(lab, ours.name) == ours.name
    assert ours.id not in client.api.networks_by_id and lab.network_ids == []


def test_a_network_carrying_this_sessions_labels_is_adopted(lab, client):
    nid = client.api.create_network("copied", labels=dict(lab.labels))["Id"]
    assert try_remove_network(lab, "copied") == "copied"
    assert nid not in client.api.networks_by_id


def test_recording_keeps_only_the_outermost_call(lab, client, tmp_path, monkeypatch):
    """run_in_mode starts a container and reads what it prints inside; the recording holds
    run_in_mode alone, and close() writes it."""
    monkeypatch.setenv("COURSE_RECORD_DIR", str(tmp_path))
    lab.record_into = Recording({"chapter": "99_test"})
    client.api.start_answers["readlink /proc/self/ns/net; hostname; echo '--- course:ip-addr"] = (
        "net:[1]\nbox\n--- course:ip-addr ---\n1: lo: <LOOPBACK,UP> mtu 65536\n"
        "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
        "--- course:snapshot-end ---\n")
    snap = run_in_mode(lab, "none")
    assert snap.netns == "net:[1]" and [i.name for i in snap.interfaces] == ["lo"]
    assert lab.record_into.names == ["run_in_mode"]
    assert json.loads(lab.record_into.calls[0][0]) == ["run_in_mode", [],
                                                        {"mode": "none", "target": None}]
    assert created(client), "the container was started, inside the recorded call"
    lab.close()
    assert Recording.load(tmp_path / "99_test.json").names == ["run_in_mode"]


def test_lab_run_in_mode_is_the_same_recorded_call(lab, client, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RECORD_DIR", str(tmp_path))
    lab.record_into = Recording({})
    with pytest.raises(BadInput, match="Unknown network mode"):
        lab.run_in_mode("bogus")
    assert created(client) == [] and lab.record_into.names == []


def test_attempt_removal_records_requests_and_the_refusal_then_unhooks(lab, client):
    keep = [lambda *a, **k: None]
    client.api.hooks["response"].extend(keep)
    attempt = attempt_removal(lab, "your-network")
    assert attempt.network == "your-network"
    assert attempt.requests == ("GET /networks/your-network -> 404",)
    assert attempt.outcome.startswith("DockerRefused: Docker refused to look up network")
    assert not attempt.sent_rm
    assert client.api.hooks["response"] == keep  # its own hook removed, the others left alone


def test_attempt_removal_of_the_default_bridge_and_of_an_own_network(lab, client):
    bridge = attempt_removal(lab, "bridge")
    assert bridge.sent_rm and bridge.outcome.startswith("DockerRefused")
    assert "pre-defined network" in bridge.outcome
    ours = lab.create_network("demo")
    attempt = attempt_removal(lab, ours)
    assert (attempt.network, attempt.outcome) == (ours.name, f"removed {ours.name}")
    assert attempt.requests == (f"DELETE /networks/{ours.id} -> 204",)


def test_start_and_read_attaches_before_start_and_stops_at_the_marker(lab, client):
    client.api.start_answers["echo hi"] = "hi\n--- end ---\nnot read\n"
    ref, out = lab.start_and_read("probe", "echo hi", "--- end ---", network_mode="none")
    assert out == "hi\n"
    calls = [name for name, *_ in client.api.calls if name in ("attach", "start")]
    assert calls == ["attach", "start"], "attached only after the start: output could be lost"
    assert ref.id in lab.container_ids


def test_start_and_read_removes_a_container_whose_script_ended_early(lab, client):
    client.api.start_answers["false"] = "oops\n"
    with pytest.raises(CommandFailed, match="ended early"):
        lab.start_and_read("probe", "false", "--- end ---", network_mode="none")
    assert lab.container_ids == []
