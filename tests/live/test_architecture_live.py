"""Chapter 04 on the real engine: the traced `docker run`, the stack, the processes.

Oracles are independent of the helpers where possible: the docker CLI asked
directly (`docker version`, `docker info`), `ps` on the engine's host (this
test process runs there) and the SDK client.
"""

from __future__ import annotations

import glob
import json
import shutil
import subprocess
import tempfile

import pytest

from course_helpers import apitrace
from course_helpers.apitrace import VIA_CLI, VIA_SDK, daemon_process, trace_docker_run
from course_helpers.architecture import engine_stack, process_chain, shim_binary_for
from course_helpers.core.errors import CourseError, DockerRefused
from course_helpers.core.sessions import LABEL_SESSION

pytestmark = pytest.mark.live


def docker_json(*args: str) -> dict:
    out = subprocess.run(["docker", *args, "--format", "{{json .}}"], capture_output=True,
                         text=True, check=True, timeout=60).stdout
    return json.loads(out)


def proxy_dirs() -> set[str]:
    return set(glob.glob(f"{tempfile.gettempdir()}/dnc-proxy-*"))


def gone(client, name: str) -> bool:
    return not client.api.containers(all=True, filters={"name": name})


def test_a_traced_docker_run_is_http_from_the_real_cli(lab, docker_client):
    before = proxy_dirs()
    trace = trace_docker_run(lab)
    version = docker_json("version")
    assert trace.via == VIA_CLI and trace.exit_code == 0
    assert trace.client_agent.startswith(f"Docker-Client/{version['Client']['Version']}")
    assert trace.server_agent.startswith(f"Docker/{version['Server']['Version']}")
    assert trace.api_version == docker_client.version()["ApiVersion"]
    requests = trace.requests
    for expected in ("POST /containers/create?name={name}",
                     "POST /containers/{id}/wait?condition=removed",
                     "POST /containers/{id}/start"):
        assert expected in requests, requests
    assert requests.index("POST /containers/{id}/wait?condition=removed") < \
        requests.index("POST /containers/{id}/start")
    assert trace.first("POST", "/containers/{id}/attach").status == 101
    assert len(trace.container_id) == 64
    assert all(trace.container_id not in c.route and trace.container not in c.route
               for c in trace.calls), "routes hide the id and the name"
    assert trace.actions == ["create", "attach", "start", "die", "destroy"]
    assert trace.calls[0].version == "", "the CLI's first ping names no API version"
    client_max = version["Client"]["DefaultAPIVersion"]  # the CLI's newest API
    assert trace.client_version == version["Client"]["Version"]
    assert trace.client_api_max == client_max
    spoken = version["Client"]["ApiVersion"]  # what `docker version` itself negotiated
    assert {c.version for c in trace.calls[1:]} == {spoken}, "then the negotiated version"
    assert spoken == min(client_max, trace.api_version, key=lambda v: tuple(map(int, v.split("."))))
    assert trace.cli_path == subprocess.run(["readlink", "-f", shutil.which("docker")],
                                            capture_output=True, text=True).stdout.strip()
    assert {e.name for e in trace.events} == {trace.container}
    assert gone(docker_client, trace.container), "--rm removed the container"
    assert proxy_dirs() == before, "the proxy removed its socket directory"


def test_without_a_docker_cli_the_sdk_is_traced(lab, docker_client, monkeypatch):
    monkeypatch.setattr(apitrace.shutil, "which", lambda name: None)
    trace = trace_docker_run(lab)
    assert trace.via == VIA_SDK and trace.exit_code == 0
    assert trace.client_agent.startswith("docker-sdk-python/")
    assert trace.first("POST", "/containers/create").status == 201
    assert trace.first("POST", "/containers/{id}/start").status == 204
    assert trace.first("DELETE", "/containers/{id}").status == 204
    life = [a for a in trace.actions if a in ("create", "start", "die", "destroy")]
    assert life == ["create", "start", "die", "destroy"]
    assert gone(docker_client, trace.container)


def test_the_traced_container_is_a_course_container(lab, monkeypatch):
    events_seen = []
    original = apitrace.event_from

    def spy(raw):
        events_seen.append(raw)
        return original(raw)

    monkeypatch.setattr(apitrace, "event_from", spy)
    trace_docker_run(lab)
    create = next(e for e in events_seen if e.get("Action") == "create")
    attributes = create["Actor"]["Attributes"]
    assert attributes[LABEL_SESSION] == lab.session, "it carries the session's labels"
    assert attributes["image"] == lab.image


def test_engine_stack_matches_the_docker_cli(lab):
    stack = engine_stack(lab)
    info, version = docker_json("info"), docker_json("version")
    components = {c["Name"]: c["Version"] for c in version["Server"]["Components"]}
    assert stack.storage_driver == info["Driver"]
    assert stack.network_plugins == tuple(info["Plugins"]["Network"])
    assert stack.runtimes == tuple(sorted(info["Runtimes"]))
    assert stack.default_runtime == info["DefaultRuntime"]
    assert (stack.containerd_version, stack.runc_version) == \
        (components["containerd"], components["runc"])
    assert stack.engine_version == version["Server"]["Version"]
    assert stack.live_restore == info["LiveRestoreEnabled"]
    assert stack.registry and stack.registry in info["IndexServerAddress"]


def test_the_daemon_is_the_process_behind_the_socket(lab):
    daemon = daemon_process(lab)
    assert daemon.visible, daemon.reason
    pids = subprocess.run(["pidof", "dockerd"], capture_output=True, text=True).stdout.split()
    assert str(daemon.pid) in pids and daemon.program == "dockerd"
    assert daemon.exe == subprocess.run(["readlink", "-f", f"/proc/{daemon.pid}/exe"],
                                        capture_output=True, text=True).stdout.strip()


def test_the_process_chain_of_a_running_container(lab, docker_client):
    stack = engine_stack(lab)
    ref = lab.start_container("sleeper", network_mode="none")
    chain = process_chain(lab, ref)
    pid = docker_client.api.inspect_container(ref.id)["State"]["Pid"]
    ppid = int(subprocess.run(["ps", "-o", "ppid=", "-p", str(pid)], capture_output=True,
                              text=True, check=True).stdout)
    parent_args = subprocess.run(["ps", "-ww", "-o", "args=", "-p", str(ppid)], capture_output=True,
                                 text=True, check=True).stdout.split()
    assert chain.visible and chain.container_pid == pid
    assert chain.parent == parent_args[0].rsplit("/", 1)[-1]
    assert chain.parent in {shim_binary_for(r) for r in stack.runtimes}
    assert chain.parent_has_id and ref.id in parent_args
    assert chain.containerd_namespace == "moby"
    assert not chain.runc_running
    grand = subprocess.run(["ps", "-o", "ppid=", "-p", str(ppid)], capture_output=True,
                           text=True, check=True).stdout.strip()
    assert chain.shim_parent == subprocess.run(["ps", "-o", "comm=", "-p", grand],
                                               capture_output=True, text=True).stdout.strip()
    assert chain.shim_parent not in ("dockerd", "containerd")
    assert chain.shim_parent_pid == int(grand)
    assert chain.init_name == subprocess.run(["ps", "-o", "comm=", "-p", "1"],
                                             capture_output=True, text=True).stdout.strip()
    assert chain.shim_adopted
    lab.remove_container(ref)
    with pytest.raises(DockerRefused):
        process_chain(lab, ref)


def test_a_refused_run_raises_one_sentence_and_leaves_nothing(lab, docker_client, monkeypatch):
    import course_helpers.core.options as labmod

    monkeypatch.setattr(labmod, "MEM_LIMIT", "1k")  # below Docker's minimum: refused at create
    before = proxy_dirs()
    with pytest.raises(CourseError, match="docker run` failed"):
        trace_docker_run(lab)
    mine = {"label": f"{LABEL_SESSION}={lab.session}"}
    assert not docker_client.api.containers(all=True, filters=mine)
    assert proxy_dirs() == before
