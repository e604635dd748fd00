"""Spare containers (Lab.keep_warm): handed out, refilled, removed at close, never recorded."""

from __future__ import annotations

import pytest

from course_helpers import Lab

pytestmark = pytest.mark.live


def test_spares_are_used_refilled_and_removed(docker_client):
    """The refill logic itself is unit-tested (tests/unit/test_spares.py); here the spares
    are real containers: in none mode, labelled as the session's, removed at close."""
    with Lab("test", client=docker_client, backend="live") as lab:
        lab.keep_warm(("none",))
        first = lab.run_in_mode("none")
        second = lab.container_for_mode("none")
        assert first.names == ["lo"] and second.id != first.container_id
        assert {first.container_id, second.id} <= set(lab.container_ids)
        mode = docker_client.api.inspect_container(second.id)["HostConfig"]["NetworkMode"]
        assert mode == "none"
        session = lab.session
    left = docker_client.api.containers(
        all=True, filters={"label": f"io.github.docker-networking-course.session={session}"})
    assert left == [], "spares are removed with the Lab"


def test_waiting_for_the_spares_means_they_run_and_a_snapshot_only_reads(docker_client):
    """After wait_warm, each kept mode has a running container the engine can show; the next
    snapshot is read from it (its id was known before the call) and it is refilled after."""
    with Lab("test", client=docker_client, backend="live") as lab:
        lab.keep_warm()
        lab.wait_warm()
        running = {c["Id"]: c["HostConfig"]["NetworkMode"] for c in docker_client.api.containers(
            filters={"label": f"io.github.docker-networking-course.session={lab.session}"})}
        assert sorted(running.values()) == ["bridge", "none"]
        snap = lab.run_in_mode("none")
        assert snap.container_id in running and running[snap.container_id] == "none"
        lab.wait_warm()
        after = {c["Id"] for c in docker_client.api.containers(
            filters={"label": f"io.github.docker-networking-course.session={lab.session}",
                     "network": "none"})}
        assert len(after - {snap.container_id}) == 1, "a new none-mode spare after the call"


def test_bridge_spare_still_finds_its_host_peer(docker_client):
    with Lab("test", client=docker_client, backend="live") as lab:
        lab.keep_warm()
        first = lab.run_in_mode("bridge")
        second = lab.run_in_mode("bridge")
        for snap in (first, second):
            assert snap.host_peer is not None and snap.host_peer.master == "docker0"
        assert first.container != second.container


def test_no_spares_while_recording(docker_client, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RECORD_DIR", str(tmp_path))
    with Lab("test", client=docker_client, backend="live") as lab:
        lab.keep_warm()
        lab.run_in_mode("none")
        assert len(lab.container_ids) == 1, "only what the notebook asked for"


def test_container_mode_joins_its_target_again_through_a_spare_started_after_the_last_call(
        docker_client):
    """The second call to join a target hands out a container that was already running in
    the target's namespace; once the target restarts (a new namespace), that spare is not
    handed out: the snapshot shows the target's new namespace."""
    def netns(ref) -> str:
        return lab.exec(ref, "readlink /proc/self/ns/net").strip()

    def running_ids() -> set[str]:
        return {c["Id"] for c in docker_client.api.containers(
            filters={"label": f"io.github.docker-networking-course.session={lab.session}"})}

    with Lab("test", client=docker_client, backend="live") as lab:
        target = lab.start_container("target")
        lab.keep_warm()
        first = lab.run_in_mode("container", target=target)
        lab.wait_warm()
        before = running_ids()
        second = lab.run_in_mode("container", target=target)
        assert second.container_id in before - {first.container_id}, "a spare, started ahead"
        assert second.netns == first.netns == netns(target)
        lab.wait_warm()
        docker_client.api.restart(target.id, timeout=0)
        old_run = running_ids()
        third = lab.run_in_mode("container", target=target)
        assert third.netns == netns(target) != second.netns, "the target's new namespace"
        assert third.container_id not in old_run, "the old run's spare is not handed out"
        assert [i.name for i in third.interfaces] == [i.name for i in second.interfaces]


def test_container_mode_has_a_spare_only_when_it_is_kept_warm(docker_client):
    with Lab("test", client=docker_client, backend="live") as lab:
        target = lab.start_container("target")
        lab.keep_warm(("none",))
        assert not lab.keeps_warm("container")
        lab.run_in_mode("container", target=target)
        lab.wait_warm()
        joined = [cid for cid in lab.container_ids if docker_client.api.inspect_container(
            cid)["HostConfig"]["NetworkMode"].startswith("container:")]
        assert len(joined) == 1, "the snapshot's container, and no spare beside it"
