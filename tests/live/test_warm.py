"""Spare containers (Lab.keep_warm): handed out, refilled, removed at close, never recorded."""

from __future__ import annotations

import pytest

from course_helpers import Lab

pytestmark = pytest.mark.live


def test_spares_are_used_refilled_and_removed(docker_client):
    with Lab("test", client=docker_client, backend="live") as lab:
        lab.keep_warm(("none",))
        spare = lab._spares._ready["none"][0].result()
        snap = lab.run_in_mode("none")
        assert snap.container_id == spare.id, "the ready spare is handed out"
        assert snap.names == ["lo"]
        refill = lab._spares._ready["none"][0].result()
        assert refill.id != spare.id and refill.id in lab.container_ids
        session = lab.session
    left = docker_client.api.containers(
        all=True, filters={"label": f"io.github.docker-networking-course.session={session}"})
    assert left == [], "spares are removed with the Lab"


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
        assert lab._spares._ready == {}
        lab.run_in_mode("none")
        assert len(lab.container_ids) == 1, "only what the notebook asked for"
