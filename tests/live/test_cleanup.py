"""Cleanup on a real engine: what a session made goes when it ends, however it ends;
nothing of the learner's goes with it.

Endings covered: ``close()``/``with`` after a normal session, an exception in
the middle of a ``with`` block, an exception inside a helper after it started
a container, interpreter exit without ``close()`` (normal and by an uncaught
exception, in a child process), a Lab whose variable was reassigned, and a
``close()`` that met a stopped engine and is called again once it is back.
The whole suite's ending is checked by the fault ledger (tests/live/conftest.py)
and the leak check in tests/conftest.py.
"""

from __future__ import annotations

import secrets

import pytest

from course_helpers import Lab
from course_helpers import modes as modes_module
from course_helpers.core.errors import CommandFailed
from course_helpers.core.refs import ContainerRef
from course_helpers.core.sessions import SessionLock, labels_for, lock_path, session_alive
from course_helpers.modes import run_all_modes

pytestmark = pytest.mark.live


def assert_gone(kit, client, lab_or_session) -> None:
    session = getattr(lab_or_session, "session", lab_or_session)
    left = kit.course_objects(client, session)
    assert not left, f"session {session} left {sorted(left.values())}"
    assert not session_alive(session)


@pytest.fixture
def foreign():
    """Another course session, alive (this test holds its lock)."""
    lock = SessionLock()
    yield lock
    lock.release()


def test_a_normal_session_leaves_nothing_and_spares_lookalikes(kit, docker_client, faults,
                                                               learner, foreign):
    lab = Lab("test", client=docker_client, backend="live")
    faults.track(lab.session)
    # The learner's own, unlabelled, with the names this very session is about to use.
    theirs = [learner.container(f"dnc-{lab.session}-bridge-1"),
              learner.container(f"dnc-{lab.session}-none-2", network_mode="none", start=False),
              learner.network(f"dnc-{lab.session}-net-3"),
              learner.network(f"dnc-{lab.session}-net-9"),
              learner.container(f"dnc-{lab.session}-forged-1", start=False,
                                labels=labels_for(foreign.session))]
    with lab:
        snaps = run_all_modes(lab)
        net = lab.create_network("net")
        lab.start_container("web", network_mode=net.id)
        made = kit.course_objects(docker_client, lab.session)
        assert {s.container_id for s in snaps.values()} | {net.id} <= set(made)
        assert not set(theirs) & set(made)
        assert session_alive(lab.session)
    assert_gone(kit, docker_client, lab)
    assert not lock_path(lab.session).exists(), "the lock file outlived a clean close"
    assert all(kit.exists(docker_client, oid) for oid in theirs), "a learner's object went"
    lab.close()  # idempotent


def test_a_session_that_raises_half_way(kit, docker_client, faults):
    with pytest.raises(RuntimeError, match="half-way"), \
            Lab("test", client=docker_client, backend="live") as lab:
        faults.track(lab.session)
        net = lab.create_network("net")
        lab.start_container("web", network_mode=net.id)
        lab.start_container("none", network_mode="none")
        raise RuntimeError("a cell failed half-way")
    assert_gone(kit, docker_client, lab)


def test_a_helper_that_fails_after_starting_a_container_removes_it(kit, docker_client, faults,
                                                                   monkeypatch):
    def broken_read(*args):
        raise CommandFailed("`ip addr` failed in the container (exit 1): injected.")

    with Lab("test", client=docker_client, backend="live") as lab:
        faults.track(lab.session)
        before = kit.course_objects(docker_client, lab.session)
        # Read as the container starts (parse_snapshot) or, from a spare, by exec (_read).
        monkeypatch.setattr(modes_module, "parse_snapshot", broken_read)
        monkeypatch.setattr(modes_module, "_read", broken_read)
        for mode in ("none", "bridge", "container:" + lab.host_probe().name):
            with pytest.raises(CommandFailed):
                lab.run_in_mode(mode)
            faults.inject()
            after = kit.course_objects(docker_client, lab.session)
            # Only the Lab's host probe (kept for the session) may have appeared.
            new = {cid for cid in set(after) - set(before)
                   if not lab.is_host_probe(ContainerRef("probe?", cid))}
            assert new == set(), f"a failed snapshot left {new}"
    assert_gone(kit, docker_client, lab)


@pytest.mark.parametrize(("command", "status"), [("exit", 0), ("raise", 1)])
def test_interpreter_exit_without_close(kit, docker_client, session_process, command, status):
    """A script or kernel that ends without ``lab.close()``: atexit removes everything."""
    child = session_process()
    made = child.ready()
    assert all(kit.exists(docker_client, oid) for oid in child.ids)
    assert child.finish(command) == status
    assert_gone(kit, docker_client, made["session"])


REASSIGNED = r"""
import json, sys
from course_helpers import Lab
lab = Lab("test", backend="live")
first = lab.session
ref = lab.start_container("web", network_mode="none")
lab = Lab("test", backend="live")  # the first Lab is no longer referenced by anyone
ref2 = lab.start_container("web", network_mode="none")
print(json.dumps({"session": first, "second": lab.session,
                  "containers": {ref.id: ref.name, ref2.id: ref2.name}, "networks": {}}),
      flush=True)
sys.stdin.readline()
"""


def test_a_reassigned_lab_is_still_closed_at_exit(kit, docker_client, session_process, faults):
    child = session_process(REASSIGNED)
    made = child.ready()
    faults.track(made["second"])
    assert all(kit.exists(docker_client, oid) for oid in child.ids)
    assert session_alive(made["session"]), "the forgotten Lab let its session go early"
    assert child.finish("") == 0
    assert_gone(kit, docker_client, made["session"])
    assert_gone(kit, docker_client, made["second"])


def test_close_again_after_the_engine_came_back(kit, private_engine, private_client, faults):
    lab = Lab("test", client=private_client, backend="live")
    faults.track(lab.session)
    net = lab.create_network("net")
    lab.start_container("web", network_mode=net.id)
    private_engine.stop()
    faults.inject()
    lab.close()  # removes nothing: the engine is away
    assert lab.closed and lab.network_ids == [net.id]
    private_engine.start()
    lab.close()  # tries again
    assert lab.network_ids == [] and lab.container_ids == []
    assert not kit.course_objects(private_client)


def test_learners_objects_named_like_a_dead_sessions_survive_the_cli(kit, own_machine,
                                                                    docker_client, learner,
                                                                    session_process, faults):
    """The ``cleanup`` command with look-alikes of a killed session (reaper paths with
    forged labels: tests/live/test_reliability.py)."""
    child = session_process()
    session = child.ready()["session"]
    token = secrets.token_hex(2)
    theirs = [learner.container(f"dnc-{session}-bridge-{token}"),
              learner.network(f"dnc-{session}-net-{token}")]
    child.kill()
    faults.inject()
    run = kit.cleanup_cli()
    assert run.returncode == 0, run.stdout + run.stderr
    assert_gone(kit, docker_client, session)
    assert all(kit.exists(docker_client, oid) for oid in theirs)
    assert not any(oid[:12] in run.stdout for oid in theirs)


def test_close_removes_course_containers_a_learners_container_joined(kit, docker_client, faults,
                                                                     learner):
    """What the Lab docstring and `python -m course_helpers --help` promise: a container of
    yours in a course container's namespace, or on a course network, does not keep the
    course's containers alive; the network it is attached to is kept, never disconnected."""
    lab = Lab("test", client=docker_client, backend="live")
    faults.track(lab.session)
    net = lab.create_network("net")
    target = lab.start_container("target", network_mode=net.id)
    token = secrets.token_hex(4)
    joined = learner.container(f"learner-{token}-joined", network_mode=f"container:{target.id}")
    attached = learner.container(f"learner-{token}-attached")
    docker_client.api.connect_container_to_network(attached, net.id)
    lab.close()
    assert not kit.exists(docker_client, target.id), "close() kept a course container"
    assert kit.exists(docker_client, joined) and kit.exists(docker_client, attached)
    assert lab.network_ids == [net.id], "the network holding the learner's container went"
    info = docker_client.api.inspect_container(attached)
    assert net.id in {n["NetworkID"] for n in info["NetworkSettings"]["Networks"].values()}
    docker_client.api.disconnect_container_from_network(attached, net.id)  # the learner's choice
    lab.close()
    assert_gone(kit, docker_client, lab)
