"""Session liveness without an engine (issue 11): a session whose lock file vanished but
whose process runs keeps its objects; the lock folder is absolute; stale lock files are
found for ``cleanup``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from course_helpers.core import sessions
from course_helpers.core.sessions import (
    LABEL_PID,
    LABEL_SESSION,
    LABEL_STARTED,
    SessionLock,
    labels_for,
    process_started,
    session_alive,
    stale_lock_files,
)


@pytest.fixture
def locks(tmp_path, monkeypatch):
    folder = tmp_path / "locks"
    monkeypatch.setenv("COURSE_LOCK_DIR", str(folder))
    return folder


def dead_pid() -> tuple[str, str]:
    """The pid and start time of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)
    started = process_started(child.pid)
    child.communicate(b"")
    return str(child.pid), started or ""


def test_labels_name_the_process_and_its_start(locks):
    labels = labels_for("feedc0de")
    assert labels[LABEL_PID] == str(os.getpid())
    assert labels[LABEL_STARTED] == process_started(os.getpid()) and labels[LABEL_STARTED]


def test_a_live_session_whose_lock_file_vanished_is_alive(locks):
    lock = SessionLock()
    try:
        labels = labels_for(lock.session)
        lock.path.unlink()  # a /tmp cleaner
        assert session_alive(lock.session, locks, labels[LABEL_PID], labels[LABEL_STARTED])
        assert not session_alive(lock.session, locks)  # the file alone said: dead
    finally:
        lock.release()


def test_a_dead_process_or_a_reused_pid_is_not_alive(locks):
    pid, started = dead_pid()
    assert not session_alive("feedc0de", locks, pid, started)
    # Our own pid, but another start time: a pid the kernel handed to someone else.
    assert not session_alive("feedc0de", locks, str(os.getpid()), "1")
    assert not session_alive("feedc0de", locks, "not-a-pid", "")


def test_a_tombstone_means_ended_whatever_the_pid(locks):
    lock = SessionLock()
    lock.release(tombstone=True)
    assert lock.path.exists()
    assert not session_alive(lock.session, locks, str(os.getpid()), process_started(os.getpid()))


def test_the_lock_folder_is_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COURSE_LOCK_DIR", "relative-locks")
    folder = sessions.lock_dir()
    assert folder.is_absolute() and folder == tmp_path / "relative-locks"
    assert labels_for("feedc0de")[sessions.LABEL_LOCK_DIR] == str(tmp_path / "relative-locks")


def test_orphans_of_a_relative_lock_folder_are_judged_by_their_process(monkeypatch):
    pid, started = dead_pid()
    labels = {**labels_for("feedc0de"), sessions.LABEL_LOCK_DIR: "relative", LABEL_PID: pid,
              LABEL_STARTED: started}
    owner = sessions._owner(labels)
    assert owner is not None and not session_alive(*owner)
    alive = {**labels, LABEL_PID: str(os.getpid()),
             LABEL_STARTED: process_started(os.getpid())}
    assert session_alive(*sessions._owner(alive))


class FakeApi:
    def __init__(self, sessions_with_objects):
        self.objects = [{"Id": f"id-{s}", "Labels": {LABEL_SESSION: s}}
                        for s in sessions_with_objects]

    def containers(self, **_):
        return self.objects

    def networks(self, **_):
        return []


class FakeClient:
    def __init__(self, sessions_with_objects):
        self.api = FakeApi(sessions_with_objects)


def test_stale_lock_files_are_those_of_ended_sessions_without_objects(locks):
    live = SessionLock()
    ended = SessionLock()
    ended.release(tombstone=True)
    pending = SessionLock()
    pending.release(tombstone=True)  # ended, but its objects are still on the engine
    (locks / ".new-xyz.lock").write_text("")  # a session being born: never touched
    (locks / "not-a-session.lock").write_text("")
    try:
        stale = stale_lock_files(FakeClient([pending.session]), locks)
        assert stale == [ended.session]
    finally:
        live.release()
