"""The engine matrix: Docker engines of other versions, run on this kernel, for the tests.

Engines come from Debian's archive, not from an image registry:

- ``bookworm``: the machine's own ``docker.io`` (20.10), the default engine of ``make test``;
- ``trixie`` (26.1) and ``sid`` (28.5): a ``debootstrap`` root file system per suite,
  cached outside the clone (``$DNC_ENGINE_CACHE``, default ``/var/cache/dnc-engines``),
  whose ``dockerd`` runs in a network namespace of its own (the engine's *host*:
  ``lo`` and a tap ``eth0`` that drops every frame) and a mount namespace pivoted
  into the suite (``pivot_root``; a plain chroot breaks ``docker exec``);
- ``rootless``: the machine's ``docker.io`` started by ``dockerd-rootless.sh`` as the
  unprivileged user ``dnc-rootless`` (rootlesskit + slirp4netns).

Commands run *on* an engine (:meth:`Engine.command`) see what a learner on that host
sees: the same network namespace as ``dockerd`` (as root) or the rootless user, with
``DOCKER_HOST`` at the engine's socket. Every engine started here is stopped by
:meth:`Engine.stop`, which removes its namespace, its processes and its state folder
and nothing else.

By hand: ``python tests/engines/harness.py shell sid`` starts sid's engine, gives a
shell on its host and stops the engine when the shell ends; ``run sid CMD…`` does the
same with a command; ``start sid`` leaves it running until ``stop sid``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
#: Debian suites and the engine version each must give (``docker version`` Server.Version).
SUITES = {"trixie": "26.1", "sid": "28.5"}
#: Every engine of the matrix, in the order CI runs them.
ENGINES = ("bookworm", "rootless", "trixie", "sid")
PACKAGES = "docker.io,iptables,busybox-static,ca-certificates"
MIRROR = os.environ.get("DNC_DEBIAN_MIRROR", "http://deb.debian.org/debian")
CACHE = Path(os.environ.get("DNC_ENGINE_CACHE", "/var/cache/dnc-engines"))
#: Names this run's engines' namespaces: a second, independent set of engines (a benchmark
#: beside the tests) runs under another prefix (``DNC_ENGINE_PREFIX=dncb``).
PREFIX = os.environ.get("DNC_ENGINE_PREFIX", "dnc")
#: Per-run state of namespaced engines (data root, socket, log): removed on stop.
STATE = Path(os.environ.get("DNC_ENGINE_STATE", "/var/lib/dnc-engines"))
if PREFIX != "dnc":
    STATE = STATE / PREFIX
ROOTLESS_USER = "dnc-rootless"
#: A resolver address on the engine host's own TEST-NET-2 segment: anything sent there
#: goes into the tap device and is dropped (the course never looks up outside names).
RESOLVER = "198.51.100.53"
WAIT = 90  # seconds an engine may take to answer


class HarnessError(RuntimeError):
    """An engine could not be built, started or stopped; the message says why."""


def run(cmd: list[str], *, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    done = subprocess.run([str(c) for c in cmd], check=False, **kwargs)
    if check and done.returncode != 0:
        raise HarnessError(f"`{shlex.join(map(str, cmd))}` failed (exit {done.returncode}): "
                           f"{(done.stderr or done.stdout or '').strip()[-2000:]}")
    return done


def wait_until(predicate, seconds: float, what: str, proc: subprocess.Popen | None = None):
    """Poll ``predicate`` until true; the bounded wait on ``proc`` is the polling interval."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.2)
            if proc.poll() is not None:
                raise HarnessError(f"{what}: the process exited with {proc.returncode}")
        else:
            time.sleep(0.2)  # the polling interval: the condition above decides, not the sleep
    raise HarnessError(f"{what}: no answer within {seconds}s")


def apt_install(packages: list[str]) -> None:
    """Install Debian packages, reading the package lists first when they are stale."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if run(["apt-get", "install", "-y", "-qq", *packages], check=False, env=env).returncode:
        run(["apt-get", "update", "-qq"], env=env)
        run(["apt-get", "install", "-y", "-qq", *packages], env=env)


# -- root file systems -------------------------------------------------------------

def rootfs(suite: str) -> Path:
    """The suite's root file system, built with debootstrap once and cached.

    Raises:
        HarnessError: debootstrap failed, or the tree holds no dockerd.
    """
    if suite not in SUITES:
        raise HarnessError(f"unknown suite {suite!r}: pick one of {sorted(SUITES)}")
    CACHE.mkdir(parents=True, exist_ok=True)
    target = CACHE / suite
    stamp = target / ".dnc-packages"
    with (CACHE / f".{suite}.lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second build of the same suite waits here
        if stamp.exists() and stamp.read_text().strip() == PACKAGES:
            return target
        if not shutil.which("debootstrap"):
            apt_install(["debootstrap"])
        tmp = CACHE / f"{suite}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(target, ignore_errors=True)
        done = run(["debootstrap", "--variant=minbase", f"--include={PACKAGES}", suite, tmp,
                    MIRROR], check=False)
        if done.returncode != 0 or not (tmp / "usr/sbin/dockerd").exists():
            log = (tmp / "debootstrap/debootstrap.log")
            tail = log.read_text(errors="replace")[-1500:] if log.exists() else done.stderr[-1500:]
            shutil.rmtree(tmp, ignore_errors=True)
            raise HarnessError(f"debootstrap of {suite} failed (exit {done.returncode}):\n{tail}")
        (tmp / ".dnc-packages").write_text(PACKAGES + "\n")
        tmp.rename(target)
        return target


# -- engines -------------------------------------------------------------------------

@dataclass
class Engine:
    """One running engine of the matrix."""

    name: str
    docker_host: str = ""
    version: str = ""
    procs: list[subprocess.Popen] = field(default_factory=list)

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """An environment for commands on this engine (``DOCKER_HOST`` set, live backend)."""
        env = dict(os.environ if base is None else base)
        env.update(DOCKER_HOST=self.docker_host, COURSE_BACKEND="live", COURSE_NO_PULL="1",
                   DNC_ENGINE=self.name)
        env.pop("DOCKER_CONTEXT", None)
        return env

    def command(self, cmd: list[str]) -> list[str]:
        """``cmd`` wrapped so that it runs on the engine's host."""
        return list(cmd)

    def answers(self) -> bool:
        done = subprocess.run(self.command(["docker", "version", "--format",
                                            "{{.Server.Version}}"]),
                              env=self.env(), capture_output=True, text=True, check=False)
        if done.returncode == 0 and done.stdout.strip():
            self.version = done.stdout.strip()
            return True
        return False

    def start(self) -> Engine:
        raise NotImplementedError

    # -- the engine's machine: a network namespace with lo and a NIC that drops every frame
    @property
    def netns(self) -> str:
        return f"{PREFIX}-{self.name}"

    def in_netns(self, cmd: list) -> list[str]:
        """``cmd`` run in the engine host's network namespace (as the caller)."""
        return ["nsenter", f"--net=/run/netns/{self.netns}", "--", *map(str, cmd)]

    def make_host(self) -> None:
        """The offline machine the engine runs on: ``lo`` and the tap ``eth0`` (nic.py)."""
        run(["ip", "netns", "add", self.netns])
        nic = subprocess.Popen(self.in_netns([sys.executable, HERE / "nic.py", "eth0"]),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
        self.procs.append(nic)
        line = nic.stdout.readline().strip()
        if line != "ready":
            self.stop()
            raise HarnessError(f"the engine host's eth0 could not be made: {line}")

    def remove_host(self) -> None:
        """End whatever still runs on the engine's machine, then remove its namespace."""
        if Path(f"/run/netns/{self.netns}").exists():
            pids = run(["ip", "netns", "pids", self.netns], check=False).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            run(["ip", "netns", "del", self.netns], check=False)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        self.procs.clear()


class HostEngine(Engine):
    """The machine's own engine (``make engine`` starts it): never started or stopped here."""

    def __init__(self) -> None:
        super().__init__("bookworm", "unix:///var/run/docker.sock")

    def start(self) -> Engine:
        if not self.answers():
            raise HarnessError("the machine's own engine does not answer: run `make engine`")
        return self


class NamespacedEngine(Engine):
    """A suite's dockerd in its own network and mount namespaces (see the module doc)."""

    def __init__(self, suite: str) -> None:
        self.suite = suite
        self.state = STATE / suite
        super().__init__(suite, f"unix://{self.state}/sock/docker.sock")

    def command(self, cmd: list[str]) -> list[str]:
        return self.in_netns(cmd)

    def dockerd_pid(self) -> int:
        return self.procs[0].pid  # nsenter, unshare and sh each exec the next: dockerd

    def start(self) -> Engine:
        root = rootfs(self.suite)
        self.stop()  # what an earlier, killed run left
        for sub in ("data", "sock"):
            (self.state / sub).mkdir(parents=True, exist_ok=True)
        (self.state / "resolv.conf").write_text(f"nameserver {RESOLVER}\n")
        self.make_host()
        log = (self.state / "dockerd.log").open("ab")
        dockerd = subprocess.Popen(
            self.command(["unshare", "--mount", "--propagation", "private", "--",
                          "sh", HERE / "pivot.sh", root, self.state, f"{PREFIX}-{self.suite}"]),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        log.close()
        self.procs.insert(0, dockerd)  # stopped first, before the NIC goes
        try:
            wait_until(self.answers, WAIT, f"{self.suite}'s dockerd", dockerd)
        except HarnessError as exc:
            tail = (self.state / "dockerd.log").read_text(errors="replace")[-2000:]
            self.stop()
            raise HarnessError(f"{exc}\n{tail}") from None
        want = SUITES[self.suite]
        if not self.version.startswith(want + "."):
            self.stop()
            raise HarnessError(f"{self.suite}'s engine is {self.version}, expected {want}.x")
        return self

    def stop(self) -> None:
        super().stop()
        self.remove_host()  # and whatever still runs there (a shim whose dockerd was killed)
        shutil.rmtree(self.state, ignore_errors=True)


class RootlessEngine(Engine):
    """The machine's docker.io started rootless by the unprivileged ``dnc-rootless``."""

    def __init__(self) -> None:
        super().__init__("rootless")
        self.user = ROOTLESS_USER

    @property
    def uid(self) -> int:
        return pwd.getpwnam(self.user).pw_uid

    @property
    def runtime_dir(self) -> Path:
        return Path(f"/run/user/{self.uid}")

    @property
    def home(self) -> Path:
        return STATE / "rootless-home"

    def prepare(self) -> None:
        """The user with subordinate ids, the packages rootless needs, a fresh HOME."""
        needed = [p for p in ("rootlesskit", "slirp4netns", "uidmap", "docker.io")
                  if run(["dpkg", "-s", p], check=False).returncode != 0]
        if needed:
            apt_install(needed)
        if run(["id", "-u", self.user], check=False).returncode != 0:
            run(["useradd", "--no-create-home", "--user-group", "--shell", "/bin/sh", self.user])
        for table in ("/etc/subuid", "/etc/subgid"):
            lines = Path(table).read_text().splitlines() if Path(table).exists() else []
            if not any(line.startswith(f"{self.user}:") for line in lines):
                with open(table, "a") as fh:
                    fh.write(f"{self.user}:300000:65536\n")
        shutil.rmtree(self.home, ignore_errors=True)
        self.home.mkdir(parents=True)
        for folder in (STATE, STATE.parent):
            os.chmod(folder, 0o755)
        shutil.chown(self.home, self.user, self.user)
        self.runtime_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.runtime_dir, 0o700)
        shutil.chown(self.runtime_dir, self.user, self.user)

    def user_env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The user's login-like environment, plus ``extra``."""
        return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(self.home),
                "USER": self.user, "LANG": "C.UTF-8",
                "XDG_RUNTIME_DIR": str(self.runtime_dir), **(extra or {})}

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        return super().env(self.user_env() if base is None else base)

    def user_command(self, cmd: list, extra: dict[str, str] | None = None) -> list[str]:
        """``cmd`` run as the user on the engine's machine, with exactly our environment."""
        pairs = [f"{k}={v}" for k, v in self.env(self.user_env(extra)).items()]
        return self.in_netns(["runuser", "-u", self.user, "--", "env", "-i", *pairs, *cmd])

    def command(self, cmd: list, extra: dict[str, str] | None = None) -> list[str]:
        """``cmd`` run as the user inside rootlesskit's namespaces: the engine's own host,
        where its bridges and iptables rules are (as ``dockerd-rootless-setuptool.sh``
        suggests: ``nsenter -U --preserve-credentials -n -m -t $(cat docker.pid)``)."""
        pid = (self.runtime_dir / "docker.pid").read_text().strip()
        return self.user_command(["nsenter", "-U", "--preserve-credentials", "-n", "-m",
                                  "-t", pid, "--", *cmd], extra)

    def dockerd_pid(self) -> int:
        return int((self.runtime_dir / "docker.pid").read_text())

    def answers(self) -> bool:
        done = subprocess.run(self.user_command(["docker", "version", "--format",
                                                 "{{.Server.Version}}"]),
                              capture_output=True, text=True, check=False)
        if done.returncode == 0 and done.stdout.strip():
            self.version = done.stdout.strip()
            return True
        return False

    def start(self) -> Engine:
        self.stop()  # what an earlier, killed run left
        self.prepare()
        self.docker_host = f"unix://{self.runtime_dir}/docker.sock"
        script = shutil.which("dockerd-rootless.sh") or \
            "/usr/share/docker.io/contrib/dockerd-rootless.sh"
        if not Path(script).exists():
            raise HarnessError("dockerd-rootless.sh is missing: docker.io ships it in contrib")
        # An offline machine for it too: slirp4netns relays the containers' traffic into
        # this namespace, where the only way out is the tap that drops every frame.
        self.make_host()
        log = (self.home / "dockerd.log").open("ab")
        proc = subprocess.Popen(
            self.user_command(["sh", script, "--data-root", str(self.home / "data")]),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        log.close()
        self.procs.insert(0, proc)
        try:
            wait_until(self.answers, WAIT, "the rootless dockerd", proc)
        except HarnessError as exc:
            tail = (self.home / "dockerd.log").read_text(errors="replace")[-2000:]
            self.stop()
            raise HarnessError(f"{exc}\n{tail}") from None
        return self

    def stop(self) -> None:
        # dockerd-rootless.sh runs rootlesskit, which runs dockerd: end them as a group.
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        super().stop()
        if run(["id", "-u", self.user], check=False).returncode == 0:
            run(["pkill", "-KILL", "-u", self.user], check=False)
            # Killed processes are gone once their parents (or PID 1) have reaped them.
            wait_until(lambda: run(["pgrep", "-u", self.user], check=False).returncode == 1,
                       WAIT, f"the end of {self.user}'s processes")
        self.remove_host()
        if self.home.exists():
            # The data root holds files of the user's subordinate ids.
            shutil.rmtree(self.home, ignore_errors=True)


def engine(name: str) -> Engine:
    """An engine of the matrix by name (not started)."""
    if name == "bookworm":
        return HostEngine()
    if name == "rootless":
        return RootlessEngine()
    if name in SUITES:
        return NamespacedEngine(name)
    raise HarnessError(f"unknown engine {name!r}: pick one of {', '.join(ENGINES)}")


def main(argv: list[str]) -> int:
    verbs = ("build", "start", "shell", "run", "stop")
    if len(argv) < 2 or argv[0] not in verbs:
        print(__doc__)
        print(f"usage: harness.py {'|'.join(verbs)} ENGINE [COMMAND ...]", file=sys.stderr)
        return 2
    verb, name, *rest = argv
    if verb == "build":
        print(rootfs(name))
        return 0
    eng = engine(name)
    if verb == "stop":
        eng.stop()
        return 0
    eng.start()
    if verb == "start":  # left running: `harness.py stop ENGINE` ends it
        print(f"{eng.name}: Docker Engine {eng.version}; run commands on its host with:\n"
              f"  {shlex.join(eng.command(['env', 'DOCKER_HOST=' + eng.docker_host]))} CMD")
        return 0
    try:
        print(f"{eng.name}: Docker Engine {eng.version} at {eng.docker_host}", flush=True)
        cmd = rest or (["bash"] if verb == "shell" else [])
        return subprocess.run(eng.command(cmd), env=eng.env(), check=False).returncode
    finally:
        if not isinstance(eng, HostEngine):
            eng.stop()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
