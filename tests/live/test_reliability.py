"""Reliability on a real engine: the reaper, two sessions at once, an engine that
restarts mid-session, and the learner's own objects.

Faults are injected for real: sessions are SIGKILLed (no atexit, no finally), a
private dockerd (its own socket, data, exec root and network namespace; see
``conftest.PrivateEngine``) is stopped under a live Lab, once in the middle of
``docker run`` between create and start. The shared engine is never stopped.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import docker
import pytest

from course_helpers import Lab
from course_helpers.core.errors import DockerRefused, EngineUnavailable
from course_helpers.core.sessions import LABEL_SESSION, SessionLock, labels_for, session_alive

pytestmark = pytest.mark.live

#: Bound for waiting on the engine's events.
WAIT = 60



@pytest.fixture
def lookalikes(learner):
    """Make the learner's objects the cleanup paths must never touch, for a session id:

    - containers (one running, one only created) and networks without labels,
      named like that session's (``dnc-<session>-bridge-1``, ``dnc-<session>-net-2`` …);
    - a container carrying the course labels, forged, naming a *live* foreign
      session (this test holds its lock);
    - a container carrying the course labels with an id that is no session's.

    Only one is started: a created container is the learner's just as much.
    """
    foreign = SessionLock()

    def make(session: str) -> list[str]:
        forged = labels_for(foreign.session)
        garbage = {**forged, LABEL_SESSION: "not-a-session"}
        return [
            learner.container(f"dnc-{session}-bridge-1"),
            learner.container(f"dnc-{session}-none-2", network_mode="none", start=False),
            learner.network(f"dnc-{session}-net-2"),
            learner.network(f"dnc-{session}-net-9"),
            learner.container(f"dnc-{foreign.session}-bridge-{session}", labels=forged,
                              start=False),
            learner.container(f"dnc-{session}-forged-9", labels=garbage, start=False),
        ]

    yield make
    foreign.release()


def survivors(kit, client: docker.DockerClient, ids: list[str]) -> None:
    missing = [oid[:12] for oid in ids if not kit.exists(client, oid)]
    assert not missing, f"the learner's objects {missing} were removed"


# -- the reaper ------------------------------------------------------------------
def test_killed_session_is_reaped_by_the_next_lab(own_machine, kit, session_process,
                                                  docker_client, faults, lookalikes):
    child = session_process()
    made = child.ready()
    mine = lookalikes(made["session"])
    child.kill()
    faults.inject()
    assert all(kit.exists(docker_client, oid) for oid in child.ids), "SIGKILL removed something"
    assert not session_alive(made["session"])

    with Lab("test", client=docker_client, backend="live") as lab:
        faults.track(lab.session)
        reaped = {o.id: o for o in lab.reaped}
        assert child.ids <= set(reaped), "the next Lab did not reap the killed session's objects"
        assert all(not session_alive(o.session) for o in lab.reaped), "reaped a live session"
        kinds = [o.kind for o in lab.reaped]
        assert kinds == sorted(kinds, key=lambda k: k != "container"), "networks before containers"
        assert not any(kit.exists(docker_client, oid) for oid in child.ids)
        survivors(kit, docker_client, mine)


def test_cleanup_cli_lists_then_removes_a_killed_sessions_objects(own_machine, kit,
                                                                  session_process, docker_client,
                                                                  faults, lookalikes):
    child = session_process()
    made = child.ready()
    mine = lookalikes(made["session"])
    child.kill()
    faults.inject()

    dry = kit.cleanup_cli("--dry-run")
    assert dry.returncode == 0, dry.stderr
    for oid, name in {**made["containers"], **made["networks"]}.items():
        assert "would remove" in dry.stdout and f"{name} ({oid[:12]}" in dry.stdout, dry.stdout
    assert all(kit.exists(docker_client, oid) for oid in child.ids), "--dry-run removed something"

    real = kit.cleanup_cli()
    assert real.returncode == 0, real.stdout + real.stderr
    lines = real.stdout.splitlines()
    for oid, name in {**made["containers"], **made["networks"]}.items():
        assert any(line.startswith("removing") and f"{name} ({oid[:12]}" in line
                   for line in lines), real.stdout
    listed = [line.split()[1] for line in lines if line.startswith("removing ")]
    assert listed == sorted(listed, key=lambda k: k != "container"), "networks listed first"
    for line in lines:  # everything it removed belonged to a session that is gone
        if line.startswith("removing "):
            assert not session_alive(line.rsplit("session ", 1)[1].rstrip(")"))
    assert not any(kit.exists(docker_client, oid) for oid in child.ids)
    survivors(kit, docker_client, mine)
    assert made["session"] not in kit.cleanup_cli("--dry-run").stdout


def test_reaper_keeps_a_network_holding_a_learners_container(own_machine, kit, session_process,
                                                             docker_client, faults, learner):
    """A learner attached their own container to a course network of a session that has
    died: the reaper must not disconnect it to remove the network; it keeps and reports it."""
    child = session_process()
    made = child.ready()
    (net_id,) = made["networks"]
    theirs = learner.container(f"learner-{made['session']}-attached")
    docker_client.api.connect_container_to_network(theirs, net_id)
    child.kill()
    faults.inject()

    report = kit.cleanup_cli()
    assert report.returncode == 1, report.stdout + report.stderr
    kept = [line for line in report.stdout.splitlines() if line.startswith("kept ")]
    assert len(kept) == 1 and made["networks"][net_id] in kept[0], report.stdout
    assert "has active endpoints" in kept[0]
    assert f"docker network disconnect {made['networks'][net_id]} CONTAINER" in kept[0]
    assert "run cleanup again" in kept[0]
    assert not any(kit.exists(docker_client, cid) for cid in made["containers"])
    info = docker_client.api.inspect_container(theirs)
    assert info["State"]["Running"] and net_id in {
        n["NetworkID"] for n in info["NetworkSettings"]["Networks"].values()}, \
        "the reaper touched the learner's container"
    docker_client.api.disconnect_container_from_network(theirs, net_id)  # the learner's choice
    assert kit.cleanup_cli().returncode == 0
    assert not kit.exists(docker_client, net_id)


def test_course_containers_expire_on_their_own(kit, docker_client, faults):
    since = int(time.time()) - 1
    with Lab("test", client=docker_client, backend="live", lifetime=2) as lab:
        faults.track(lab.session)
        ref = lab.start_container("expiring", network_mode="none")
        events = docker_client.events(
            since=since, until=int(time.time()) + WAIT, decode=True,
            filters={"container": ref.id, "event": "destroy"},
        )
        try:
            destroyed = next((e for e in events if e.get("Action") == "destroy"), None)
        finally:
            events.close()
        assert destroyed is not None, f"{ref.name} was still there {WAIT} s after its lifetime"
        assert not kit.exists(docker_client, ref.id)
    assert not kit.course_objects(docker_client, lab.session)


# -- two sessions at once ----------------------------------------------------------
def test_two_sessions_never_touch_each_others_objects(own_machine, kit, session_process,
                                                      docker_client, faults):
    first, second = session_process(), session_process()  # both start (and reap) at once
    a, b = first.ready(), second.ready()
    assert a["session"] != b["session"]
    names_a = set(a["containers"].values()) | set(a["networks"].values())
    names_b = set(b["containers"].values()) | set(b["networks"].values())
    assert not names_a & names_b, "names collided"
    assert all(a["session"] in n for n in names_a) and all(b["session"] in n for n in names_b)
    assert not first.ids & second.ids
    assert not (set(a["reaped"]) & second.ids or set(b["reaped"]) & first.ids), \
        "a starting session reaped the other's objects"

    first.send("close")
    assert first.read() == {"closed": True}
    assert not any(kit.exists(docker_client, oid) for oid in first.ids)
    assert all(kit.exists(docker_client, oid) for oid in second.ids), "closing one hurt the other"

    report = kit.cleanup_cli()  # a reaper run while the second session lives
    assert b["session"] not in report.stdout, report.stdout
    with Lab("test", client=docker_client, backend="live") as third:
        faults.track(third.session)
        assert not {o.id for o in third.reaped} & second.ids
    assert all(kit.exists(docker_client, oid) for oid in second.ids), "a reaper hurt a live session"

    assert second.finish("close") == 0
    assert not any(kit.exists(docker_client, oid) for oid in second.ids)


# -- an engine that goes away mid-session ---------------------------------------------
def test_engine_restart_mid_session(kit, private_engine, private_client, faults):
    with Lab("test", client=private_client, backend="live") as lab:
        faults.track(lab.session)
        net = lab.create_network("net")
        ref = lab.start_container("bridge", network_mode=net.id)
        assert lab.exec(ref, "echo hello").strip() == "hello"

        private_engine.stop()
        faults.inject()
        for call in (lambda: lab.exec(ref, "true"), lambda: lab.create_network("net"),
                     lambda: lab.run_in_mode("none"), lab.host_interfaces):
            with pytest.raises(EngineUnavailable) as err:
                call()
            kit.assert_one_sentence(str(err.value), "engine went away", "start it again")

        private_engine.start()
        # The next calls recover: the same Lab, the same client.
        assert "lo" in [i.name for i in lab.host_interfaces()]
        snap = lab.run_in_mode("none")
        assert snap.names == ["lo"]
        with pytest.raises(DockerRefused) as err:  # the restart removed it: say so
            lab.exec(ref, "true")
        assert err.value.status == 404
        kit.assert_one_sentence(str(err.value), "engine restarted",
                                "run the cell that started it again")
    assert not kit.course_objects(private_client), "the Lab left objects on the restarted engine"


def test_engine_gone_between_create_and_start_leaves_nothing(kit, private_engine, private_client,
                                                             faults):
    """The daemon stops right after answering ``POST /containers/create``: ``docker run``
    is half-made. The Lab closes while the engine is away (it can remove nothing); once
    the engine is back, the next session reaps what is left."""
    lab = Lab("test", client=private_client, backend="live")
    faults.track(lab.session)
    net = lab.create_network("net")
    stopped = []

    def stop_after_create(response, *args, **kwargs):
        path = response.request.path_url.split("?")[0]
        if response.request.method == "POST" and path.endswith("/containers/create") \
                and not stopped:
            stopped.append(path)
            private_engine.stop()

    private_client.api.hooks["response"].append(stop_after_create)
    try:
        with pytest.raises(EngineUnavailable) as err:
            lab.start_container("half", network_mode=net.id)
    finally:
        private_client.api.hooks["response"].remove(stop_after_create)
    faults.inject()
    assert stopped, "the fault was not injected"
    kit.assert_one_sentence(str(err.value), "engine went away")

    lab.close()  # the engine is away: nothing can be removed, the lock is let go
    assert not session_alive(lab.session)

    private_engine.start()
    left = kit.course_objects(private_client, lab.session)
    assert net.id in left, "expected the network to be left half-made"
    with Lab("test", client=private_client, backend="live") as nxt:
        faults.track(nxt.session)
        assert set(left) <= {o.id for o in nxt.reaped}
    assert not kit.course_objects(private_client), "something half-made survived"


# -- issue 11: lifetimes that hold, sessions that survive their lock file, nothing hangs ----
def _destroyed_within(client: docker.DockerClient, cid: str, since: int) -> bool:
    events = client.events(since=since, until=int(time.time()) + WAIT, decode=True,
                           filters={"container": cid, "event": "destroy"})
    try:
        return next((e for e in events if e.get("Action") == "destroy"), None) is not None
    finally:
        events.close()


@pytest.mark.parametrize("command", [["sleep", "infinity"],
                                     ["sh", "-c", "trap '' TERM INT HUP; sleep 100000"]])
def test_a_command_that_never_ends_still_expires(kit, docker_client, faults, command):
    since = int(time.time()) - 1
    with Lab("test", client=docker_client, backend="live", lifetime=2) as lab:
        faults.track(lab.session)
        faults.bad_input()
        ref = lab.start_container("forever", network_mode="none", command=command)
        assert _destroyed_within(docker_client, ref.id, since), \
            f"{ref.name} running {command} outlived its lifetime"
    assert not kit.course_objects(docker_client, lab.session)


def test_a_session_whose_lock_file_vanished_keeps_its_objects(own_machine, kit, session_process,
                                                               docker_client, faults):
    child = session_process()
    made = child.ready()
    from course_helpers.core.sessions import lock_path

    lock_path(made["session"]).unlink()  # a /tmp cleaner, or /tmp rebuilt
    faults.inject()
    report = kit.cleanup_cli()
    assert report.returncode == 0 and made["session"] not in report.stdout, report.stdout
    with Lab("test", client=docker_client, backend="live") as other:
        faults.track(other.session)
        assert not {o.id for o in other.reaped} & child.ids, "a live session was reaped"
    assert all(kit.exists(docker_client, oid) for oid in child.ids), "a live session lost objects"
    assert child.finish("close") == 0
    assert not any(kit.exists(docker_client, oid) for oid in child.ids)


def test_a_relative_lock_folder_is_made_absolute_and_reaped(own_machine, kit, docker_client,
                                                            faults, session_process,
                                                            monkeypatch):
    from course_helpers.core.sessions import LABEL_LOCK_DIR

    relative = f".dnc-test-locks-{own_machine}"  # the child runs in the repository's root
    monkeypatch.setenv("COURSE_LOCK_DIR", relative)
    child = session_process()
    try:
        made = child.ready()
        labels = docker_client.api.inspect_network(next(iter(made["networks"])))["Labels"]
        assert labels[LABEL_LOCK_DIR] == str(Path(__file__).parents[2] / relative)
        child.kill()
        faults.inject()
        monkeypatch.delenv("COURSE_LOCK_DIR")
        report = kit.cleanup_cli()
        assert report.returncode == 0, report.stdout + report.stderr
        assert not any(kit.exists(docker_client, oid) for oid in child.ids), report.stdout
    finally:
        shutil.rmtree(Path(__file__).parents[2] / relative, ignore_errors=True)


def test_cleanup_removes_stale_lock_files(own_machine, kit, faults, tmp_path):
    from course_helpers.core.sessions import SessionLock

    folder = tmp_path / "locks"
    env = dict(os.environ, COURSE_LOCK_DIR=str(folder))
    os.environ["COURSE_LOCK_DIR"] = str(folder)
    try:
        ended, live = SessionLock(), SessionLock()
    finally:
        del os.environ["COURSE_LOCK_DIR"]
    ended.release(tombstone=True)  # a session killed before it made anything
    faults.inject()
    try:
        report = kit.cleanup_cli(env=env)
        assert report.returncode == 0, report.stderr
        assert "removed 1 lock file(s)" in report.stdout, report.stdout
        assert not ended.path.exists() and live.path.exists()
    finally:
        live.release()


@pytest.fixture
def silent_engine(monkeypatch):
    """DOCKER_HOST at 127.0.0.1:PORT where something accepts and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    host = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    monkeypatch.setenv("DOCKER_HOST", host)
    yield host
    listener.close()


def test_an_address_that_never_answers_fails_in_seconds(kit, faults, silent_engine):
    faults.inject()
    env = dict(os.environ)
    for args in (["doctor"], ["cleanup"]):
        run = subprocess.run([kit.python, "-m", "course_helpers", *args], capture_output=True,
                             text=True, timeout=30, env=env, cwd=str(Path(__file__).parents[2]))
        faults.bad_input()
        assert run.returncode == 1 and run.stdout == "", run.stdout
        kit.assert_one_sentence(run.stderr.strip(), f"DOCKER_HOST is set to {silent_engine}",
                                "fix DOCKER_HOST")
    done: list[BaseException] = []
    thread = threading.Thread(target=lambda: done.append(_raises(lambda: Lab("test",
                                                                        backend="live"))))
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "Lab() still waiting on a silent address after 30 s"
    faults.bad_input()
    assert isinstance(done[0], EngineUnavailable), done
    kit.assert_one_sentence(str(done[0]), f"DOCKER_HOST is set to {silent_engine}")


def _raises(call) -> BaseException | None:
    try:
        call()
    except BaseException as exc:  # noqa: BLE001 - returned to the test
        return exc
    return None


def test_close_is_bounded_on_a_frozen_engine(kit, private_engine, private_client, faults):
    lab = Lab("test", client=private_client, backend="live")
    faults.track(lab.session)
    net = lab.create_network("net")
    for _ in range(3):
        lab.start_container("frozen", network_mode=net.id)
    os.kill(private_engine.proc.pid, signal.SIGSTOP)  # accepts, never answers
    faults.inject()
    try:
        thread = threading.Thread(target=lab.close, daemon=True)
        thread.start()
        thread.join(60)
        assert not thread.is_alive(), "close() still waiting on a frozen engine after 60 s"
        assert lab.closed and not session_alive(lab.session)
    finally:
        os.kill(private_engine.proc.pid, signal.SIGCONT)
    lab.close()  # the engine answers again: what was left goes now
    assert not kit.course_objects(private_client, lab.session)
