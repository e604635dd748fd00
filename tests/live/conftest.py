"""Fixtures of the reliability tests: a fault ledger, a private engine, learner objects,
sessions in other processes.

The ledger counts the faults the tests inject and the bad inputs they try,
and after the run checks that nothing any of their sessions made is left on
an engine. It prints one line at the end of the run, e.g.
``faults: 5 injected, 14 bad inputs tried, 0 objects leaked``, and fails the
run when something leaked.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import pytest
from sentences import assert_one_sentence

from course_helpers.core.sessions import course_selector, forget_session, lock_path, session_alive

PYTHON = sys.executable
#: Bound for anything a test waits for (a daemon starting, a child printing).
WAIT = 60


def course_objects(client: docker.DockerClient, session: str | None = None) -> dict[str, str]:
    """Course-labelled containers and networks on an engine (of one session): id -> name."""
    selector = course_selector(session)
    found = {c["Id"]: c["Names"][0].lstrip("/")
             for c in client.api.containers(all=True, filters=selector)}
    found.update({n["Id"]: n["Name"] for n in client.api.networks(filters=selector)})
    return found


def exists(client: docker.DockerClient, object_id: str) -> bool:
    """True while a container or network with this full id exists."""
    for inspect in (client.api.inspect_container, client.api.inspect_network):
        try:
            inspect(object_id)
            return True
        except docker.errors.NotFound:
            continue
    return False


# -- the ledger ----------------------------------------------------------------
@dataclass
class FaultLedger:
    """Counts of what the reliability tests did, and what they left behind."""

    injected: int = 0
    bad_inputs: int = 0
    leaked: list[str] = field(default_factory=list)
    sessions: set[str] = field(default_factory=set)

    def inject(self, count: int = 1) -> None:
        """A fault was injected (a killed session, an engine stopped, a socket refused…)."""
        self.injected += count

    def bad_input(self, count: int = 1) -> None:
        """A bad input was tried."""
        self.bad_inputs += count

    def track(self, session: str) -> None:
        """A session whose objects must all be gone by the end of the run."""
        self.sessions.add(session)

    def line(self) -> str:
        return (f"faults: {self.injected} injected, {self.bad_inputs} bad inputs tried, "
                f"{len(self.leaked)} objects leaked")


_LEDGER_KEY = pytest.StashKey[FaultLedger]()


@pytest.fixture(scope="session")
def faults(request, docker_client):
    """The session's :class:`FaultLedger`; checks for leaks when the run ends."""
    ledger = FaultLedger()
    request.config.stash[_LEDGER_KEY] = ledger
    yield ledger
    for session in sorted(ledger.sessions):
        left = course_objects(docker_client, session)
        ledger.leaked.extend(f"{name} ({oid[:12]})" for oid, name in left.items())
        for oid in left:  # counted as a leak; removed anyway, to leave the engine clean
            with contextlib.suppress(docker.errors.NotFound):
                docker_client.api.remove_container(oid, force=True)
        for oid in left:
            with contextlib.suppress(docker.errors.NotFound):
                docker_client.api.remove_network(oid)
        if lock_path(session).exists() and not session_alive(session):
            ledger.leaked.append(f"the lock file of ended session {session}")
            forget_session(session)
    assert not ledger.leaked, f"objects leaked: {ledger.leaked}"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    ledger = config.stash.get(_LEDGER_KEY, None)
    if ledger is not None:
        terminalreporter.write_line(ledger.line())


# -- a private engine ----------------------------------------------------------
class PrivateEngine:
    """A dockerd of the tests' own: own socket, data and exec roots, own network namespace.

    It runs under ``unshare --net``, so its bridges, veths and addresses never
    appear on the host the shared engine and the other tests use; it has no
    docker0 (``--bridge=none``) and never touches iptables.
    """

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="dncpd-", dir="/tmp"))
        self.base_url = f"unix://{self.root}/docker.sock"
        (self.root / "daemon.json").write_text("{}\n")
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        """Start the daemon and wait (bounded) until it answers."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        log = (self.root / "dockerd.log").open("ab")
        self.proc = subprocess.Popen(
            ["unshare", "--net", "--", "dockerd", "-H", self.base_url,
             "--data-root", str(self.root / "data"), "--exec-root", str(self.root / "exec"),
             "--pidfile", str(self.root / "docker.pid"),
             "--config-file", str(self.root / "daemon.json"),
             "--bridge=none", "--iptables=false", "--ip-masq=false", "--ip-forward=false",
             "--userland-proxy=false", "--shutdown-timeout=1", "--log-level=info"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self.starts += 1
        for _ in range(WAIT * 10):
            if self.answers():
                return
            try:  # a bounded wait on the daemon's exit doubles as the polling interval
                self.proc.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                continue
            break
        tail = (self.root / "dockerd.log").read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"the private dockerd did not come up:\n{tail}")

    def answers(self) -> bool:
        try:
            client = docker.DockerClient(base_url=self.base_url, timeout=5)
        except docker.errors.DockerException:
            return False
        try:
            return client.ping()
        except Exception:  # noqa: BLE001 - not up yet
            return False
        finally:
            client.close()

    def stop(self) -> None:
        """Stop the daemon (SIGTERM, then SIGKILL after a bounded wait) and wait for its exit."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=WAIT)

    def client(self) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.base_url, timeout=30)

    def _stray_pids(self) -> list[int]:
        """containerd and shims this daemon started (their command lines name its root)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if str(self.root).encode() in cmdline:
                pids.append(int(entry.name))
        return pids

    def destroy(self) -> None:
        """Stop it, end whatever it left running, unmount and delete its folders."""
        self.stop()
        for pid in self._stray_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
                  if line.split()[4].startswith(str(self.root))]
        for mountpoint in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", mountpoint], check=False, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def private_engine(faults):
    """A private dockerd (see :class:`PrivateEngine`), destroyed after the run, even on failure."""
    engine = PrivateEngine()
    try:
        engine.start()
        yield engine
        if engine.proc is not None and engine.proc.poll() is None:
            client = engine.client()
            try:
                for oid, name in course_objects(client).items():
                    faults.leaked.append(f"{name} ({oid[:12]}) on the private engine")
            finally:
                client.close()
    finally:
        engine.destroy()


@pytest.fixture
def private_client(private_engine):
    """A client of the private engine, (re)started if a test left it stopped."""
    if private_engine.proc is None or private_engine.proc.poll() is not None:
        private_engine.start()
    client = private_engine.client()
    yield client
    client.close()
    if private_engine.proc is None or private_engine.proc.poll() is not None:
        private_engine.start()


# -- the learner's own objects ---------------------------------------------------
class Learner:
    """Containers and networks a learner made by hand: no course labels (or forged ones)."""

    def __init__(self, client: docker.DockerClient, image: str) -> None:
        self.client = client
        self.image = image
        self.containers: list[str] = []
        self.networks: list[str] = []

    def container(self, name: str, *, start: bool = True, labels: dict | None = None,
                  command: list[str] | None = None, **options: Any) -> str:
        """A learner's container (its full id); ``docker run -d --name NAME IMAGE sleep 120``."""
        cid = self.client.api.create_container(
            self.image, command or ["sleep", "120"], name=name, labels=labels or {},
            host_config=self.client.api.create_host_config(**options),
        )["Id"]
        self.containers.append(cid)
        if start:
            self.client.api.start(cid)
        return cid

    def network(self, name: str, labels: dict | None = None) -> str:
        """A learner's network (its full id); ``docker network create NAME``."""
        nid = self.client.api.create_network(name, labels=labels or {},
                                             check_duplicate=True)["Id"]
        self.networks.append(nid)
        return nid

    def remove_all(self) -> list[str]:
        """Remove what this learner made; return what could not be removed."""
        for cid in self.containers:
            with contextlib.suppress(docker.errors.NotFound):
                self.client.api.remove_container(cid, force=True)
        for nid in self.networks:
            with contextlib.suppress(docker.errors.NotFound):
                self.client.api.remove_network(nid)
        return [oid for oid in self.containers + self.networks if exists(self.client, oid)]


@pytest.fixture
def learner(docker_client, faults):
    """A learner working by hand on the shared engine; their objects are removed afterwards."""
    from course_helpers.core.image import ensure_image

    person = Learner(docker_client, ensure_image(docker_client))
    yield person
    faults.leaked.extend(f"learner object {oid[:12]}" for oid in person.remove_all())


# -- sessions in other processes -----------------------------------------------
#: A course session in its own process: it makes a network and two containers (one
#: on that network), prints what it made as JSON, then obeys commands on stdin.
DRIVER = r"""
import json, sys
from course_helpers import Lab
lab = Lab("test", backend="live")
net = lab.create_network("net")
a = lab.start_container("bridge", network_mode=net.id)
b = lab.start_container("none", network_mode="none")
print(json.dumps({"session": lab.session, "containers": {a.id: a.name, b.id: b.name},
                  "networks": {net.id: net.name}, "reaped": [o.id for o in lab.reaped]}),
      flush=True)
for line in sys.stdin:
    command = line.strip()
    if command == "close":
        lab.close()
        print(json.dumps({"closed": True}), flush=True)
    elif command == "raise":
        raise RuntimeError("a cell failed half-way")
    elif command == "exit":
        break
"""


class SessionProcess:
    """A course session running :data:`DRIVER` (or another script printing the same first
    JSON line) in a child process."""

    def __init__(self, env: dict[str, str], script: str = DRIVER) -> None:
        self.proc = subprocess.Popen(
            [PYTHON, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=env, cwd=str(Path(__file__).parents[2]),
        )
        self.made: dict[str, Any] | None = None

    def read(self) -> dict[str, Any]:
        """The next JSON line the child prints (bounded wait)."""
        ready, _, _ = select.select([self.proc.stdout], [], [], WAIT)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.proc.kill()
            raise AssertionError(f"the session process said nothing: {self.proc.stderr.read()}")
        return json.loads(line)

    def ready(self) -> dict[str, Any]:
        """What the session made: ``session``, ``containers`` and ``networks`` (id -> name)."""
        if self.made is None:
            self.made = self.read()
        return self.made

    @property
    def ids(self) -> set[str]:
        made = self.ready()
        return set(made["containers"]) | set(made["networks"])

    def send(self, command: str) -> None:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        """SIGKILL: no atexit, no finally; only the kernel drops the session's lock."""
        self.proc.kill()
        self.proc.wait(timeout=WAIT)

    def finish(self, command: str = "exit") -> int:
        """Send ``command`` and wait (bounded) for the process to end; its exit status."""
        self.send(command)
        self.proc.stdin.close()
        return self.proc.wait(timeout=WAIT)


@pytest.fixture
def session_process(faults, docker_client):
    """Start course sessions in child processes; kill any still running afterwards.

    Their sessions go on the ledger: anything of theirs still on the engine when
    the run ends counts as leaked (and is removed then, by full id).
    """
    started: list[SessionProcess] = []

    def start(script: str = DRIVER) -> SessionProcess:
        child = SessionProcess(dict(os.environ, COURSE_BACKEND="live", COURSE_NO_PULL="1"),
                               script)
        started.append(child)
        return child

    yield start
    for child in started:
        if child.proc.poll() is None:
            child.kill()
        for stream in (child.proc.stdin, child.proc.stdout, child.proc.stderr):
            if stream and not stream.closed:
                stream.close()
        if child.made:
            faults.track(child.made["session"])


@pytest.fixture
def own_machine(monkeypatch):
    """Give this test's sessions (in this process and in the children and reapers it
    starts) a machine name of their own (``COURSE_HOST``).

    Other people's reapers run on the shared engine at the same time and would
    (rightly) reap this test's killed sessions before the test's own reaper
    could be watched doing it; to them, these objects now come from another
    machine, so they leave them alone.
    """
    import secrets

    name = f"dnc-test-{secrets.token_hex(4)}"
    monkeypatch.setenv("COURSE_HOST", name)
    return name


@pytest.fixture(scope="session")
def kit():
    """The helpers above, for test modules (a conftest cannot be imported reliably)."""
    from types import SimpleNamespace

    def cleanup_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """``python -m course_helpers cleanup ARGS`` in its own process."""
        return subprocess.run([PYTHON, "-m", "course_helpers", "cleanup", *args],
                              capture_output=True, text=True, timeout=WAIT,
                              env=env, cwd=str(Path(__file__).parents[2]))

    return SimpleNamespace(course_objects=course_objects, exists=exists,
                           assert_one_sentence=assert_one_sentence, cleanup_cli=cleanup_cli,
                           python=PYTHON, wait=WAIT)
