"""Chapter 04 helpers without an engine: HTTP framing, the proxy, traces, stack, figure."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import matplotlib
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_helpers.apitrace import (
    ApiCall,
    DaemonProcess,
    RunTrace,
    api_tuple,
    event_from,
    find_container_id,
    find_daemon,
    negotiated_api,
    rfc3339_to_unix,
    route_of,
    socket_peer_pid,
)
from course_helpers.architecture import (
    GONE,
    HISTORY,
    REPLACED,
    SEEN,
    STILL_HERE,
    UNCONFIRMED,
    Proc,
    ProcessChain,
    ancestors,
    chain_from,
    read_proc,
    shim_binary_for,
    then_and_now,
    version_at_least,
    version_tuple,
)
from course_helpers.core.httplog import HttpFramer, LoggingProxy
from course_helpers.core.replay import decode, encode
from course_helpers.core.stack import EngineStack, stack_from
from course_helpers.figures.architecture import (
    SOURCE_ARCHITECTURE,
    STYLE,
    draw_architecture,
    live_boxes,
)

matplotlib.use("Agg")

CID = "f" * 64
NAME = "dnc-12345678-traced-1"


# -- HTTP framing ---------------------------------------------------------------

def frame(chunks: list[bytes], *, response: bool = False, modes: dict | None = None):
    heads: list[str] = []

    def on_head(start: str, headers: dict[str, str]) -> str | None:
        heads.append(start)
        return (modes or {}).get(start)

    framer = HttpFramer(on_head, response=response)
    for chunk in chunks:
        framer.feed(chunk)
    return heads, framer


REQUESTS = (
    b"HEAD /_ping HTTP/1.1\r\nHost: docker\r\n\r\n"
    b"POST /v1.41/containers/create?name=x HTTP/1.1\r\nContent-Length: 13\r\n\r\n{\"Image\":\"i\"}"
    b"POST /v1.41/build HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"4\r\nabcd\r\n3;ext=1\r\nefg\r\n0\r\nX-Trailer: 1\r\n\r\n"
    b"POST /v1.41/containers/x/start HTTP/1.1\r\n\r\n"
)
STARTS = ["HEAD /_ping HTTP/1.1", "POST /v1.41/containers/create?name=x HTTP/1.1",
          "POST /v1.41/build HTTP/1.1", "POST /v1.41/containers/x/start HTTP/1.1"]


def test_framer_finds_every_request_across_bodies():
    heads, framer = frame([REQUESTS])
    assert heads == STARTS
    assert not framer.raw


@given(st.lists(st.integers(min_value=1, max_value=len(REQUESTS) - 1), max_size=12))
def test_framer_does_not_care_where_the_bytes_are_split(cuts):
    cuts = sorted(set(cuts))
    pieces = [REQUESTS[a:b] for a, b in zip([0, *cuts], [*cuts, len(REQUESTS)], strict=True)]
    assert frame(pieces)[0] == STARTS


def test_framer_skips_no_body_answers_and_stops_on_a_hijack():
    data = (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK"
            b"HTTP/1.1 204 No Content\r\n\r\n"
            b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n"
            b"HTTP/1.1 999 this is container output, not HTTP\r\n\r\n")
    heads, framer = frame([data], response=True,
                          modes={"HTTP/1.1 204 No Content": "none", "HTTP/1.1 101 UPGRADED": "raw"})
    assert heads == ["HTTP/1.1 200 OK", "HTTP/1.1 204 No Content", "HTTP/1.1 101 UPGRADED"]
    assert framer.raw


def test_a_response_without_length_runs_until_close():
    heads, _ = frame([b"HTTP/1.1 200 OK\r\n\r\nbody... HTTP/1.1 500 x\r\n\r\n"], response=True)
    assert heads == ["HTTP/1.1 200 OK"]


def test_garbage_stops_parsing_instead_of_raising():
    heads, framer = frame([b"POST / HTTP/1.1\r\nContent-Length: nope\r\n\r\n"])
    assert heads == ["POST / HTTP/1.1"] and framer.raw


# -- the proxy, against a fake daemon on a unix socket ---------------------------

class FakeDaemon:
    """Answers every request with 200 and a short body; HEAD without one."""

    def __init__(self, path: Path) -> None:
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(4)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    @staticmethod
    def handle(conn: socket.socket) -> None:
        buf = b""
        with conn:
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                buf += data
                while b"\r\n\r\n" in buf:
                    head, buf = buf.split(b"\r\n\r\n", 1)
                    method = head.split(b" ", 1)[0]
                    if method == b"HEAD":
                        conn.sendall(b"HTTP/1.1 200 OK\r\nServer: Fake/1\r\n\r\n")
                    else:
                        conn.sendall(b"HTTP/1.1 201 Created\r\nServer: Fake/1\r\n"
                                     b"Content-Length: 2\r\n\r\n{}")


def test_the_proxy_forwards_unchanged_and_logs_each_request(tmp_path):
    daemon = FakeDaemon(tmp_path / "engine.sock")
    with LoggingProxy(str(tmp_path / "engine.sock")) as proxy:
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(proxy.path)
        client.sendall(b"HEAD /_ping HTTP/1.1\r\nUser-Agent: t/1\r\n\r\n"
                       b"POST /v1.41/containers/create HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
        got = b""
        while got.count(b"HTTP/1.1") < 2 or not got.endswith(b"{}"):
            got += client.recv(4096)
        client.close()
        assert Path(proxy.path).exists()
    daemon.server.close()
    assert got.startswith(b"HTTP/1.1 200 OK") and b"201 Created" in got
    seen = [(r.method, r.target, r.status, r.headers.get("user-agent")) for r in proxy.requests]
    assert seen == [("HEAD", "/_ping", 200, "t/1"),
                    ("POST", "/v1.41/containers/create", 201, None)]
    assert proxy.requests[0].response_headers["server"] == "Fake/1"
    assert not Path(proxy.path).exists(), "the proxy's socket must go when it closes"


# -- traces -----------------------------------------------------------------------

def test_route_hides_version_id_and_name():
    assert route_of(f"/v1.41/containers/{CID}/wait?condition=removed", CID, NAME) == \
        "/containers/{id}/wait?condition=removed"
    assert route_of(f"/v1.41/containers/create?name={NAME}", CID, NAME) == \
        "/containers/create?name={name}"
    assert route_of("/_ping") == "/_ping"


def test_container_id_is_found_in_paths():
    assert find_container_id(["/_ping", f"/v1.41/containers/{CID}/start"]) == CID
    assert find_container_id(["/_ping"]) == ""


def test_events_and_engine_time():
    raw = {"Type": "container", "Action": "die", "timeNano": 5,
           "Actor": {"ID": CID, "Attributes": {"name": NAME, "exitCode": "0"}}}
    event = event_from(raw)
    assert (event.action, event.name, event.exit_code, event.time_nano) == ("die", NAME, "0", 5)
    assert rfc3339_to_unix("1970-01-01T00:00:10.5Z") == "10.500000000"
    assert rfc3339_to_unix("1970-01-01T01:00:10.123456789+01:00") == "10.123456789"
    with pytest.raises(ValueError):
        rfc3339_to_unix("yesterday")


def test_a_trace_survives_the_replay_codec():
    calls = (ApiCall(0, 0, "HEAD", "/_ping", "/_ping", 200),
             ApiCall(1, 0, "POST", f"/v1.41/containers/{CID}/start", "/containers/{id}/start",
                     204))
    trace = RunTrace("via", "docker run", NAME, CID, "Docker-Client/1", "Docker/2", "1.41", 0,
                     calls, (event_from({"Action": "start", "timeNano": 1,
                                         "Actor": {"Attributes": {"name": NAME}}}),),
                     cli_path="/usr/bin/docker")
    again = decode(encode(trace))
    assert again == trace
    assert again.requests == ["HEAD /_ping", "POST /containers/{id}/start"]
    assert again.first("POST", "/containers/{id}/start").status == 204
    assert again.actions == ["start"]
    assert str(calls[1]).split() == ["POST", "/containers/{id}/start", "->", "204"]


def test_each_call_knows_the_api_version_it_was_sent_with():
    ping = ApiCall(0, 0, "HEAD", "/_ping", "/_ping", 200)
    start = ApiCall(1, 0, "POST", f"/v1.41/containers/{CID}/start", "/containers/{id}/start", 204)
    assert (ping.version, ping.versioned_route) == ("", "/_ping")
    assert (start.version, start.versioned_route) == ("1.41", "/v1.41/containers/{id}/start")
    assert ApiCall(2, 0, "GET", "/v1.50/_ping", "/_ping", 200).version == "1.50"


# -- the program behind the socket -------------------------------------------------------

def test_the_socket_peer_is_the_listening_process(tmp_path):
    path = str(tmp_path / "s.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    try:
        assert socket_peer_pid(path) == os.getpid()
    finally:
        server.close()


def test_find_the_daemon_directly_or_behind_socket_activation(tmp_path):
    fake_proc(tmp_path, 1, 0, "systemd", ["/sbin/init"])
    fake_proc(tmp_path, 40, 1, "dockerd", ["/usr/bin/dockerd", "-H", "fd://"])
    direct = find_daemon("/var/run/docker.sock", 40, tmp_path)
    assert (direct.visible, direct.pid, direct.program, direct.found_by) == \
        (True, 40, "dockerd", "socket peer")
    activated = find_daemon("/var/run/docker.sock", 1, tmp_path)
    assert (activated.pid, activated.program, activated.found_by) == (40, "dockerd", "process list")
    unseen = find_daemon("/var/run/docker.sock", 0, tmp_path)
    assert not unseen.visible and "Docker Desktop" in unseen.reason
    assert decode(encode(direct)) == direct and isinstance(unseen, DaemonProcess)


# -- the stack -----------------------------------------------------------------------

VERSION = {"Version": "20.10.24", "ApiVersion": "1.41", "MinAPIVersion": "1.12",
           "Components": [{"Name": "Engine", "Version": "20.10.24"},
                          {"Name": "containerd", "Version": "1.6.20"},
                          {"Name": "runc", "Version": "1.1.5"},
                          {"Name": "docker-init", "Version": "0.19.0"}]}
INFO = {"OperatingSystem": "Debian GNU/Linux 12", "KernelVersion": "6.1", "Architecture": "x86_64",
        "Driver": "overlay2", "DriverStatus": [["Backing Filesystem", "extfs"]],
        "Plugins": {"Network": ["bridge", "host", "null"], "Volume": ["local"]},
        "Runtimes": {"runc": {}, "io.containerd.runc.v2": {}}, "DefaultRuntime": "runc",
        "CgroupDriver": "systemd", "CgroupVersion": "2",
        "SecurityOptions": ["name=seccomp,profile=builtin"]}


def test_stack_from_version_and_info():
    stack = stack_from(VERSION, INFO)
    assert not stack.live_restore and stack.registry == ""
    assert stack_from(VERSION, {**INFO, "LiveRestoreEnabled": True,
                                "IndexServerAddress": "https://index.docker.io/v1/"}
                      ).registry == "index.docker.io"
    assert (stack.storage_driver, stack.backing_fs, stack.containerd_snapshotter) == \
        ("overlay2", "extfs", False)
    assert stack.network_plugins == ("bridge", "host", "null")
    assert stack.runtimes == ("io.containerd.runc.v2", "runc")
    assert (stack.containerd_version, stack.runc_version, stack.init_version) == \
        ("1.6.20", "1.1.5", "0.19.0")
    assert not stack.rootless and not stack.docker_desktop
    assert [row[0] for row in stack.rows()][:2] == ["REST API", "dockerd"]
    assert decode(encode(stack)) == stack


def test_stack_of_a_rootless_desktop_engine_with_the_containerd_store():
    info = {**INFO, "OperatingSystem": "Docker Desktop",
            "DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]],
            "SecurityOptions": ["name=seccomp", "name=rootless"],
            "ContainerdCommit": {"ID": "abc"}, "RuncCommit": {"ID": "def"}}
    stack = stack_from({"Version": "29.0.0"}, info)
    assert stack.containerd_snapshotter and stack.rootless and stack.docker_desktop
    assert (stack.containerd_version, stack.runc_version) == ("abc", "def")


def test_shim_names_follow_containerds_rule():
    assert shim_binary_for("io.containerd.runc.v2") == "containerd-shim-runc-v2"
    assert shim_binary_for("runc") == "runc"


# -- processes -------------------------------------------------------------------------

def fake_proc(root: Path, pid: int, ppid: int, name: str, argv: list[str]) -> None:
    d = root / str(pid)
    d.mkdir()
    (d / "status").write_text(f"Name:\t{name}\nState:\tS\nPPid:\t{ppid}\n")
    (d / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")


def test_read_proc_and_find_the_shim(tmp_path):
    shim = ["/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", CID,
            "-address", "/run/containerd.sock"]
    fake_proc(tmp_path, 1, 0, "init", ["/sbin/init"])
    fake_proc(tmp_path, 10, 1, "dockerd", ["dockerd"])
    fake_proc(tmp_path, 11, 10, "containerd", ["containerd"])
    fake_proc(tmp_path, 20, 1, "containerd-shim", shim)
    fake_proc(tmp_path, 21, 20, "sleep", ["sleep", "900"])
    (tmp_path / "self").mkdir()
    procs = read_proc(tmp_path)
    assert sorted(procs) == [1, 10, 11, 20, 21]
    chain = chain_from(procs, 21, CID, f"12:pids:/docker/{CID}\n")
    assert chain.visible and chain.parent == "containerd-shim-runc-v2"
    assert chain.parent_has_id and chain.containerd_namespace == "moby"
    assert "{id}" in chain.parent_args and CID not in " ".join(chain.parent_args)
    assert chain.daemons == ("containerd", "dockerd") and not chain.runc_running
    assert chain.container_command == "sleep"
    assert chain.shim_parent == "init", "the shim hangs on neither dockerd nor containerd"
    fake_proc(tmp_path, 30, 20, "runc", ["runc", "create", CID])
    assert chain_from(read_proc(tmp_path), 21, CID, CID).runc_running


def test_a_process_table_of_another_host_is_not_trusted():
    procs = {21: Proc(21, 1, "bash", ("bash",))}
    assert not chain_from(procs, 21, CID, "0::/user.slice\n").visible
    assert not chain_from({}, 21, CID, "").visible
    assert "cannot see" in chain_from({}, 0, CID, "").reason


# -- then and now, and the figure --------------------------------------------------------

def test_then_and_now_marks_history_and_fills_live_values():
    stack = stack_from(VERSION, INFO)
    chain = ProcessChain(True, parent="containerd-shim-runc-v2")
    rows = then_and_now(stack, chain, "Docker-Client/28")
    by_source = {r["source"]: r for r in rows}
    for changed in ("Engine / Job", "ExecDriver", "libcontainer", "Graph / GraphDriver",
                    "NetworkDriver"):
        assert by_source[changed]["then"].startswith("HISTORY"), changed
        assert by_source[changed]["status"] in (REPLACED, GONE), changed
    assert {r["source"] for r in rows if r["status"] == STILL_HERE} == \
        {"Docker Client", "Docker Server (router, handlers)", "Docker Registry"}
    assert "containerd-shim-runc-v2" in by_source["ExecDriver"]["live"]
    assert "1.1.5" in by_source["libcontainer"]["live"]
    assert by_source["Docker Client"]["live"] == "Docker-Client/28"
    assert "not visible" in {r["source"]: r for r in then_and_now(stack, ProcessChain(False))}[
        "ExecDriver"]["live"]
    assert by_source["Docker Registry"]["live"] == ""
    registry = stack_from(VERSION, {**INFO, "IndexServerAddress": "https://index.docker.io/v1/"})
    assert "pulls nothing from it" in {r["source"]: r for r in then_and_now(registry)}[
        "Docker Registry"]["live"]


def test_then_and_now_ties_statuses_to_live_evidence_or_marks_history():
    stack = stack_from(VERSION, INFO)

    def rows(chain=None, agent=""):
        return {r["source"]: r for r in then_and_now(stack, chain, agent)}

    for source in ("Engine / Job", "Graph / GraphDriver", "NetworkDriver"):
        assert rows(ProcessChain(True, parent="containerd-shim-runc-v2"), "x")[source][
            "basis"] == HISTORY, source
    shim = rows(ProcessChain(True, parent="containerd-shim-runc-v2"))["ExecDriver"]
    assert (shim["status"], shim["basis"]) == (GONE, SEEN)
    other = rows(ProcessChain(True, parent="systemd"))["ExecDriver"]
    assert (other["status"], other["basis"]) == (UNCONFIRMED, SEEN)
    hidden = rows(ProcessChain(False))["ExecDriver"]
    assert (hidden["status"], hidden["basis"]) == (GONE, HISTORY)
    assert rows(None)["ExecDriver"]["basis"] == HISTORY
    assert rows(agent="Docker-Client/28")["Docker Client"]["basis"] == SEEN
    assert rows()["Docker Client"]["basis"] == HISTORY
    assert rows()["libcontainer"]["basis"] == SEEN  # docker version lists runc
    assert rows()["Docker Registry"]["basis"] == HISTORY  # no registry in INFO


def texts(fig) -> str:
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts)


def test_the_figure_is_drawn_from_the_data_it_is_given():
    stack = stack_from(VERSION, {**INFO, "IndexServerAddress": "https://index.docker.io/v1/"})
    fig = draw_architecture(stack, ProcessChain(True, parent="my-shim",
                                                containerd_namespace="moby"))
    drawn = texts(fig)
    for value in ("containerd 1.6.20", "runc 1.1.5", "my-shim", "overlay2", "REST API 1.41",
                  "cgroup v2 (systemd)", "index.docker.io", "not contacted\nby the course",
                  "live-restore off", "namespace 'moby'", "images stay with dockerd"):
        assert value in drawn, value
    for box in SOURCE_ARCHITECTURE:
        assert box.title in drawn
    assert {b.key: b.title for b in live_boxes(stack)}["shim"] == "containerd-shim-runc-v2"
    other = EngineStack(**{**stack.__dict__, "runc_version": "9.9", "containerd_snapshotter": True})
    drawn = texts(draw_architecture(other))
    assert "runc 9.9" in drawn and "keeps the images" in drawn
    matplotlib.pyplot.close("all")


def test_the_drivers_are_drawn_inside_dockerd_and_every_role_has_a_hatch():
    stack = stack_from(VERSION, INFO)
    boxes = {b.key: b for b in live_boxes(stack)}
    dockerd = boxes["dockerd"]
    for key in ("storage", "networks"):
        inner = boxes[key]
        assert dockerd.row <= inner.row < dockerd.row + dockerd.span, key
        assert dockerd.x - dockerd.width / 2 < inner.x - inner.width / 2, key
        assert inner.x + inner.width / 2 < dockerd.x + dockerd.width / 2, key
    assert boxes["registry"].dashed
    hatches = [hatch for _, hatch in STYLE.values()]
    assert all(hatches) and len(set(hatches)) == len(hatches), "one hatch per role"
    fig = draw_architecture(stack)
    stripes = [p for p in fig.axes[0].patches if (p.get_gid() or "").startswith("stripe:")]
    assert stripes and all(p.get_hatch() for p in stripes)
    matplotlib.pyplot.close("all")


def test_the_detached_shim_is_adopted_by_pid_1_or_a_subreaper(tmp_path):
    shim = ["/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", CID]
    procs = {1: Proc(1, 0, "process_api", ("process_api",)),
             5: Proc(5, 1, "harness", ("harness",)),
             10: Proc(10, 5, "dockerd", ("dockerd",)),
             11: Proc(11, 10, "containerd", ("containerd",)),
             20: Proc(20, 1, "containerd-shim", tuple(shim)),
             21: Proc(21, 20, "sleep", ("sleep", "900"))}
    chain = chain_from(procs, 21, CID, CID)
    assert (chain.shim_parent, chain.shim_parent_pid) == ("process_api", 1)
    assert chain.init_name == "process_api" and chain.shim_adopted
    # a subreaper above containerd (here the harness) adopts it instead of PID 1
    procs[20] = Proc(20, 5, "containerd-shim", tuple(shim))
    chain = chain_from(procs, 21, CID, CID)
    assert (chain.shim_parent, chain.shim_parent_pid, chain.shim_adopted) == ("harness", 5, True)
    # a process outside containerd's ancestry cannot have adopted it
    procs[30] = Proc(30, 1, "bash", ("bash",))
    procs[20] = Proc(20, 30, "containerd-shim", tuple(shim))
    assert not chain_from(procs, 21, CID, CID).shim_adopted
    assert ancestors(procs, 11) == [10, 5, 1]
    assert ancestors({}, 11) == []


@pytest.mark.parametrize(("version", "minimum", "expected"), [
    ("20.10.24+dfsg1", "28.0", False), ("26.1.5+dfsg1", "25.0", True),
    ("28.5.2+dfsg1", "28.0", True), ("28.0.0", "28.0", True), ("27.5.1", "28.0", False),
    ("29.0.0-rc.1", "28.0", True), ("v28.1.1", "28.1", True)])
def test_version_at_least(version, minimum, expected):
    assert version_at_least(version, minimum) is expected


def test_an_unknown_version_cannot_be_placed():
    assert version_tuple("dev") == ()
    with pytest.raises(ValueError, match="not an engine version"):
        version_at_least("dev", "28.0")


@pytest.mark.parametrize(("client", "daemon", "spoken"), [
    ("1.50", "1.41", "1.41"), ("1.50", "1.51", "1.50"), ("1.50", "1.50", "1.50"),
    ("1.9", "1.41", "1.9"), ("", "1.45", "1.45"), ("1.50", "", "1.50")])
def test_negotiated_api_is_the_older_of_the_two(client, daemon, spoken):
    assert negotiated_api(client, daemon) == spoken
    assert api_tuple("1.9") < api_tuple("1.41")
