"""Bad input on a real engine: each gets one sentence naming the fix, and leaves nothing.

Every case asserts the exact error class, the key words of its sentence (what
went wrong and what to do), that it is a single sentence, and that the
session's course-labelled objects on the engine are the same before and after.

"The snapshot's own container as target", as interpreted here: a container
cannot be the target of its own container mode (``docker run --name X
--network container:X``, which Docker itself refuses only once it tries to
start it, "cannot join own network"); the course refuses it before asking
Docker. A container that is itself in container mode (the container of a
container-mode snapshot) *is* a fine target for a new container: it joins
the same namespace, and a test shows that.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from course_helpers import Lab
from course_helpers.core import image as image_module
from course_helpers.core import lab as lab_module
from course_helpers.core import sessions as sessions_module
from course_helpers.core.engine import connect
from course_helpers.core.errors import (
    BadInput,
    CommandTimedOut,
    DockerRefused,
    EngineUnavailable,
    ImageUnavailable,
)
from course_helpers.core.image import REPOSITORY, ensure_image
from course_helpers.core.sessions import LABEL_COURSE, SessionLock, labels_for, session_alive
from course_helpers.modes import run_all_modes
from course_helpers.networks import endpoint_detail, engine_version, try_remove_network

pytestmark = pytest.mark.live


@pytest.fixture
def refused(kit, faults, docker_client):
    """``refused(lab, ErrorClass, call, *words)``: the call fails with exactly that class,
    in one sentence holding ``words``, leaving the session's objects as they were."""

    def check(lab, cls, call, *words, client=None):
        client = client or docker_client
        before = kit.course_objects(client, lab.session) if lab is not None else None
        with pytest.raises(cls) as err:
            call()
        faults.bad_input()
        assert type(err.value) is cls, f"{type(err.value).__name__} instead of {cls.__name__}"
        kit.assert_one_sentence(str(err.value), *words)
        if lab is not None:
            assert kit.course_objects(client, lab.session) == before, "it left something behind"
        return err.value

    return check


@pytest.fixture
def tracked_lab(kit, faults, docker_client):
    """A live Lab on the ledger; afterwards nothing of its session may be left."""
    with Lab("test", client=docker_client, backend="live") as lab:
        faults.track(lab.session)
        yield lab
    assert not kit.course_objects(docker_client, lab.session), "the Lab left objects behind"


# -- modes and targets (input refused before Docker is asked: tests/unit/test_bad_input.py) --
def test_container_mode_with_a_missing_target(tracked_lab, refused):
    gone = f"dnc-{tracked_lab.session}-missing-1"
    for call in (lambda: tracked_lab.run_in_mode("container", target=gone),
                 lambda: tracked_lab.run_in_mode(f"container:{gone}"),
                 lambda: run_all_modes(tracked_lab, target=gone)):
        refused(tracked_lab, BadInput, call, f"There is no container '{gone}'", "start it first")
    refused(tracked_lab, BadInput, lambda: tracked_lab.run_in_mode("container", target=42),
            "cannot be a target", "pass a running container's name or id")


def test_container_mode_with_a_stopped_target(tracked_lab, refused, learner, docker_client):
    token = secrets.token_hex(4)
    exited = learner.container(f"learner-{token}-exited", command=["true"])
    docker_client.api.wait(exited, timeout=60)  # the engine says when it has exited
    created = learner.container(f"learner-{token}-created", start=False)
    for cid, state in ((exited, "exited"), (created, "created")):
        name = docker_client.api.inspect_container(cid)["Name"].lstrip("/")
        refused(tracked_lab, BadInput,
                lambda name=name: tracked_lab.run_in_mode("container", target=name),
                f"Container {name} is {state}", f"docker start {name}")
        info = docker_client.api.inspect_container(cid)  # joined never, modified never
        assert info["State"]["Status"] == state and info["Id"] == cid


def test_a_container_cannot_be_its_own_target(tracked_lab, refused):
    name = tracked_lab.new_name("self")
    refused(tracked_lab, BadInput,
            lambda: tracked_lab.start_container("self", name=name,
                                                network_mode=f"container:{name}"),
            f"Container {name} cannot join its own network namespace",
            "pass another running container as the target")


def test_a_container_mode_snapshots_container_is_a_fine_target(tracked_lab):
    """Not bad input: documents the other half of the interpretation above."""
    base = tracked_lab.run_in_mode("none")
    joined = tracked_lab.run_in_mode("container", target=base)
    again = tracked_lab.run_in_mode("container", target=joined)
    assert again.target == joined.container and again.netns == joined.netns == base.netns


# -- networks Docker refuses to remove ----------------------------------------------
@pytest.mark.parametrize("name", ["bridge", "host", "none"])
def test_removing_a_default_network(tracked_lab, refused, docker_client, name):
    network_id = docker_client.api.inspect_network(name)["Id"]
    for ref in (name, network_id):
        err = refused(tracked_lab, DockerRefused,
                      lambda ref=ref: try_remove_network(tracked_lab, ref),
                      f"Docker refused to remove network {name}",
                      "remove a network you created instead")
        assert err.status == 403
        assert err.reason == f"{name} is a pre-defined network and cannot be removed"
        assert err.reason in str(err)
    refused(tracked_lab, BadInput, lambda: tracked_lab.remove_network(name),
            "was not created by this Lab", "docker network rm")
    assert docker_client.api.inspect_network(name)["Id"] == network_id


def test_removing_a_network_with_active_endpoints(tracked_lab, refused, docker_client):
    net = tracked_lab.create_network("busy")
    ref = tracked_lab.start_container("endpoint", network_mode=net.id)
    for call in (lambda: try_remove_network(tracked_lab, net),
                 lambda: try_remove_network(tracked_lab, net.name),
                 lambda: tracked_lab.remove_network(net)):
        err = refused(tracked_lab, DockerRefused, call, "has active endpoints",
                      "disconnect or remove the containers attached to it first")
        assert err.status == 403
        # The words, not the ending: from Engine 28.1 the endpoint's name and id follow them.
        detail = endpoint_detail(err.reason)
        assert detail is not None, err.reason
        named = engine_version(docker_client.version()["Version"]) >= (28, 1)
        assert bool(detail) == named and (ref.name in detail) == named, detail
        assert net.id in tracked_lab.network_ids
    assert docker_client.api.inspect_container(ref.id)["State"]["Running"]
    tracked_lab.remove_container(ref)  # once empty, Docker lets it go
    assert try_remove_network(tracked_lab, net) == net.name


def test_the_learners_and_other_sessions_networks_are_never_sent_to_docker(
        tracked_lab, refused, learner, docker_client):
    token = secrets.token_hex(4)
    theirs = learner.network(f"dnc-{tracked_lab.session}-net-{token}")
    foreign = SessionLock()
    try:
        other = learner.network(f"dnc-{foreign.session}-net-1", labels=labels_for(foreign.session))
        refused(tracked_lab, BadInput, lambda: try_remove_network(tracked_lab, theirs),
                "was not created by the course", "docker network rm")
        refused(tracked_lab, BadInput, lambda: try_remove_network(tracked_lab, other),
                f"belongs to another course session ({foreign.session})", "close that session")
        refused(tracked_lab, BadInput, lambda: try_remove_network(tracked_lab, ""),
                "does not name a network", "pass a network's name or id")
    finally:
        foreign.release()
    for nid in (theirs, other):
        assert docker_client.api.inspect_network(nid)["Id"] == nid


# -- names ---------------------------------------------------------------------------
def test_name_conflicts(tracked_lab, refused, learner, docker_client):
    token = secrets.token_hex(4)
    theirs = learner.container(f"learner-{token}-web", start=False)
    their_net = learner.network(f"learner-{token}-net")
    err = refused(tracked_lab, DockerRefused,
                  lambda: tracked_lab.start_container("web", name=f"learner-{token}-web"),
                  "is already in use", "choose another name")
    assert err.status == 409
    err = refused(tracked_lab, DockerRefused,
                  lambda: tracked_lab.create_network(name=f"learner-{token}-net"),
                  "already exists", "choose another name")
    assert err.status == 409
    assert docker_client.api.inspect_container(theirs)["Id"] == theirs
    assert docker_client.api.inspect_network(their_net)["Id"] == their_net

    # A generated name a learner took by hand is skipped, not fought over.
    taken = tracked_lab.new_name("web")
    stem, number = taken.rsplit("-", 1)
    lookalike = learner.container(f"{stem}-{int(number) + 1}", start=False)
    ref = tracked_lab.start_container("web", network_mode="none")
    assert ref.name == f"{stem}-{int(number) + 2}"
    assert LABEL_COURSE not in docker_client.api.inspect_container(lookalike)["Config"]["Labels"]


# -- the engine --------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["unix:///tmp/dnc-nowhere-{token}/docker.sock",
                                  "tcp://127.0.0.1:9"])
def test_no_engine(refused, kit, faults, monkeypatch, host):
    host = host.format(token=secrets.token_hex(4))
    faults.inject()
    monkeypatch.setenv("DOCKER_HOST", host)
    words = (f"DOCKER_HOST is set to {host} but no Docker engine answers there",
             "fix DOCKER_HOST or unset it")
    refused(None, EngineUnavailable, connect, *words)
    refused(None, EngineUnavailable, lambda: Lab("test", backend="live"), *words)
    run = kit.cleanup_cli()
    assert run.returncode == 1 and run.stdout == ""
    kit.assert_one_sentence(run.stderr.strip(), *words)


LEARNER_PROBE = r"""
import json
from course_helpers import Lab, connect
from course_helpers.core.errors import CourseError
out = []
for call in (connect, lambda: Lab("test", backend="live")):
    try:
        call()
        out.append(["no error", ""])
    except CourseError as exc:
        out.append([type(exc).__name__, str(exc)])
print(json.dumps(out))
"""


def _as_learner(args: list[str], env: dict[str, str], cwd: str) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", "learner", "--", *args], capture_output=True,
                          text=True, env=env, timeout=60, cwd=cwd)


def test_socket_permission_denied(refused, faults, kit, tmp_path):
    """A user outside the docker group, against the root-owned socket.

    The venv's interpreter may live where that user cannot go (under /root); then the
    system's Python of the same version runs the same code with the venv's packages.
    """
    if subprocess.run(["id", "learner"], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        "learner"], capture_output=True, check=False)
    groups = subprocess.run(["id", "-nG", "learner"], capture_output=True, text=True,
                            check=True).stdout.split()
    assert "docker" not in groups, "'learner' may use Docker: this test needs a user who may not"
    tmp_path.chmod(0o777)
    repo = str(Path(__file__).parents[2])
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "COURSE_BACKEND": "live",
           "COURSE_LOCK_DIR": str(tmp_path / "locks"),
           "PYTHONPATH": os.pathsep.join([repo, sysconfig.get_paths()["purelib"]])}
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    python = next((exe for exe in (sys.executable, shutil.which(version, path="/usr/bin"))
                   if exe and _as_learner([exe, "-c", "import docker"], env,
                                          str(tmp_path)).returncode == 0), None)
    assert python, f"no {version} that the user 'learner' may run"
    run = _as_learner([python, "-c", LEARNER_PROBE], env, str(tmp_path))
    assert run.returncode == 0, run.stderr
    faults.inject(2)
    faults.bad_input(2)
    for kind, message in json.loads(run.stdout):
        assert kind == "EngineUnavailable", (kind, message)
        kit.assert_one_sentence(message, "You may not use the Docker socket at",
                                "add your user to the 'docker' group")
    cli = _as_learner([python, "-m", "course_helpers", "cleanup"], env, str(tmp_path))
    assert cli.returncode == 1 and cli.stdout == "", cli.stdout + cli.stderr
    kit.assert_one_sentence(cli.stderr.strip(), "You may not use the Docker socket")


def test_image_missing_with_no_way_to_get_it(refused, faults, kit, private_engine,
                                             private_client, monkeypatch, tmp_path):
    """On the private engine (the shared course image is never deleted): no course image,
    COURSE_BUSYBOX pointing at a dynamic binary, no other busybox, no pulling."""
    for image in private_client.images.list(name=REPOSITORY):
        private_client.images.remove(image.id, force=True)
    monkeypatch.setattr(image_module, "BUSYBOX_CANDIDATES", ())
    monkeypatch.setenv("COURSE_BUSYBOX", "/bin/ls")
    monkeypatch.setenv("COURSE_NO_PULL", "1")
    faults.inject()
    words = ("The course image is missing and cannot be built here",
             "install a static busybox")
    refused(None, ImageUnavailable, lambda: ensure_image(private_client, allow_pull=False), *words)

    locks: list[SessionLock] = []

    class SpyLock(SessionLock):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            locks.append(self)

    monkeypatch.setattr(sessions_module, "SessionLock", SpyLock)
    refused(None, ImageUnavailable,
            lambda: Lab("test", client=private_client, backend="live"), *words)
    (lock,) = locks
    assert not lock.held and not lock.path.exists() and not session_alive(lock.session)
    assert not kit.course_objects(private_client)
    assert private_client.images.list(name=REPOSITORY) == [], "an image appeared from nowhere"


# -- text and misuse -------------------------------------------------------------------------
def test_course_misuse(tracked_lab, refused, docker_client):
    lab = tracked_lab
    refused(lab, BadInput, lambda: lab.start_container("web", privileged=True),
            "never run privileged", "leave out privileged=True")
    refused(lab, BadInput,
            lambda: lab.start_container("web", volumes=["/var/run/docker.sock:/s"]),
            "never get host paths, devices or the Docker socket", "leave out volumes")
    refused(lab, BadInput, lambda: lab.start_container("web", mem_limit="1g"),
            "cannot be changed for course containers", "leave those options out")
    refused(lab, BadInput, lambda: lab.start_container("no such role!"),
            "cannot go into a name", "use letters, digits")
    refused(lab, BadInput, lambda: lab.remove_container("0123456789ab"),
            "was not created by this Lab", "docker rm")
    refused(None, BadInput, lambda: Lab("test", client=docker_client, backend="live",
                                        lifetime=0), "lifetime is 0", "whole number of seconds")
    refused(None, BadInput, lambda: Lab("test", client=docker_client, backend="sideways"),
            "backend is 'sideways'", "set it to live, replay or auto")
    with Lab("test", client=docker_client, backend="live") as closed:
        pass
    refused(closed, BadInput, lambda: closed.start_container("late"),
            "This Lab is closed", "create a new one")
    refused(closed, BadInput, lambda: closed.run_in_mode("none"), "This Lab is closed")


def test_an_expired_course_container_says_so(tracked_lab, refused, docker_client):
    ref = tracked_lab.start_container("short", network_mode="none")
    docker_client.api.remove_container(ref.id, force=True)  # as if its lifetime had ended
    err = refused(tracked_lab, DockerRefused, lambda: tracked_lab.exec(ref, "true"),
                  "that course container is gone", "run the cell that started it again")
    assert err.status == 404
    refused(tracked_lab, BadInput, lambda: tracked_lab.run_in_mode("container", target=ref),
            "There is no container", "start it first")


# -- issue 11: the safety rules hold whatever the arguments ---------------------------------
#: Each of these started a container before the allow-list (the adversarial review).
def test_what_lessons_need_is_allowed_safely(tracked_lab, docker_client, kit):
    """No network option at all (the default bridge), and a host-mode server with ports=
    (Docker discards them there, as `docker run --network host -p` does)."""
    plain = tracked_lab.start_container("plain")
    info = docker_client.api.inspect_container(plain.id)
    # Sent as "default" (what `docker run` with no --network sends); Engine 26+ store it
    # as "bridge", 20.10 as "default": either way the container is on the default bridge.
    assert info["HostConfig"]["NetworkMode"] in ("default", "bridge")
    assert list(info["NetworkSettings"]["Networks"]) == ["bridge"]
    port = 20000 + int(tracked_lab.session[:4], 16) % 20000
    host = tracked_lab.start_container(
        "hostweb", network_mode="host", ports={"80/tcp": ("127.0.0.1", None)},
        command=["httpd", "-f", "-p", f"127.0.0.1:{port}", "-h", "/www"])
    info = docker_client.api.inspect_container(host.id)
    assert info["State"]["Running"] and info["HostConfig"]["NetworkMode"] == "host"
    assert not info["NetworkSettings"]["Ports"], "host mode published a port"
    # Polled (bounded) until httpd listens: it starts alongside.
    page = tracked_lab.exec(host, f"for i in $(seq 50); do wget -qO- http://127.0.0.1:{port}"
                                  "/index.html && exit 0; sleep 0.1; done; exit 1")
    assert "hello from a course container" in page
    # Whatever it runs, PID 1 is the course's lifetime script.
    assert info["Config"]["Entrypoint"][:2] == ["sh", "-c"]
    assert info["Config"]["Entrypoint"][-1] == str(tracked_lab.lifetime)


def test_a_container_mode_target_is_named_or_fully_identified(tracked_lab, refused, learner,
                                                              docker_client):
    theirs = learner.container(f"learner-{secrets.token_hex(4)}-target")
    name = docker_client.api.inspect_container(theirs)["Name"].lstrip("/")
    for prefix in (theirs[:1], theirs[:12]):
        refused(tracked_lab, BadInput,
                lambda prefix=prefix: tracked_lab.run_in_mode("container", target=prefix),
                f"is only the start of container {name}'s id", "exact name or full id")
        refused(tracked_lab, BadInput,
                lambda prefix=prefix: tracked_lab.start_container(
                    "j", network_mode=f"container:{prefix}"),
                "is only the start of container", "exact name or full id")
    for ref in (name, theirs):
        snap = tracked_lab.run_in_mode("container", target=ref)
        assert snap.target_id == theirs
        tracked_lab.remove_container(snap.container_id)


def test_exec_bad_input_timeout_and_output_cap(tracked_lab, refused, monkeypatch):
    lab = tracked_lab
    box = lab.start_container("box", network_mode="none")
    for command, words in ((None, "The command None cannot run"),
                           (123, "The command 123 cannot run"),
                           ([1, 2], "The command [1, 2] cannot run")):
        refused(lab, BadInput, lambda command=command: lab.exec(box, command), words,
                "pass a string for `sh -c`")
    refused(lab, BadInput, lambda: lab.exec(None, "true"), "None is not a container",
            "what lab.start_container() returned")
    refused(lab, BadInput, lambda: lab.exec(box, "true", timeout=10**6), "timeout is")
    monkeypatch.setattr(lab_module, "EXEC_TIMEOUT", 1)  # the default, made short for the test
    err = refused(lab, CommandTimedOut, lambda: lab.exec(box, "sleep 35"),
                  "did not finish within 1 s", "timeout=SECONDS")
    assert err.timeout == 1
    out = lab.exec(box, "yes | head -c 5000000", timeout=60)
    assert len(out) < lab_module.EXEC_OUTPUT_LIMIT + 500
    assert out.rstrip().endswith("pipe it through `head`]") and "output cut after" in out
    assert lab.exec(box, "echo still here").strip() == "still here"


def test_copying_the_course_labels_makes_it_the_sessions_own(tracked_lab, docker_client):
    """A network made by hand with this session's labels is the session's own, not "another
    session's" (what the Lab docstring and `python -m course_helpers --help` say)."""
    nid = docker_client.api.create_network(f"copied-{tracked_lab.session}",
                                           labels=tracked_lab.labels)["Id"]
    assert try_remove_network(tracked_lab, nid) == f"copied-{tracked_lab.session}"
    assert not kit_exists(docker_client, nid)


def kit_exists(client, object_id: str) -> bool:
    try:
        client.api.inspect_network(object_id)
    except Exception:  # noqa: BLE001 - not found
        return False
    return True
