"""The safety rules of course containers, checked without an engine (issue 11).

``container_request`` is a pure function: what it returns is exactly what
``POST /containers/create`` is sent. Every option outside the allow-list is
refused in one sentence naming what is allowed; the lifetime is enforced by
PID 1 whatever the command; ports are published on loopback only.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time

import pytest

from course_helpers import Lab
from course_helpers.core import options
from course_helpers.core.errors import BadInput
from course_helpers.core.execstream import read_exec_stream
from course_helpers.core.options import (
    ALLOWED_OPTIONS,
    LIFETIME_SCRIPT,
    MAX_LIFETIME,
    check_container_options,
    check_network_options,
    container_request,
)
from course_helpers.core.sessions import LABEL_COURSE, labels_for

LABELS = labels_for("feedc0de")


def one_sentence(message: str, *words: str) -> None:
    """One line, one sentence ending in a full stop, holding ``words``."""
    assert "\n" not in message and message.endswith("."), message
    bare = re.sub(r"`[^`]*`|'[^']*'|\"[^\"]*\"|\([^)]*\)", "Q", message[:-1])
    assert not re.search(r"[.!?]\s+[A-Z]", bare), f"more than one sentence: {message!r}"
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} missing from {message!r}"


def request(**options):
    return container_request("dnc-feedc0de-web-1", "IMAGE", 900, LABELS, **options)


#: Every option the adversarial review used to break the promises of chapter 00.
UNSAFE = [
    {"volumes": {"/": {"bind": "/host", "mode": "rw"}}},
    {"volumes": ["/run:/r:ro"]},
    {"volumes": ["/var/run:/v"]},
    {"mounts": [{"Source": "/tmp/link-to-docker.sock", "Target": "/s", "Type": "bind"}]},
    {"pid_mode": "host"},
    {"cap_add": ["NET_ADMIN"]},
    {"devices": ["/dev/sda:/dev/sda"]},
    {"privileged": True},
    {"entrypoint": ["sleep", "infinity"]},
    {"restart_policy": {"Name": "always"}},
    {"stop_signal": "SIGTERM"},
    {"mem_limit": "1g"},
    {"foo": 1},
    {"ipc_mode": "host"},
    {"userns_mode": "host"},
    {"security_opt": ["seccomp=unconfined"]},
]


@pytest.mark.parametrize("options", UNSAFE, ids=lambda o: next(iter(o)))
def test_every_option_outside_the_allow_list_is_refused(options):
    with pytest.raises(BadInput) as err:
        request(network_mode="host", **options)
    one_sentence(str(err.value), "course containers take only", *ALLOWED_OPTIONS)
    assert next(iter(options)) in str(err.value)


@pytest.mark.parametrize("command", [["sleep", "infinity"], "sleep infinity",
                                     ["sh", "-c", "trap '' TERM; while :; do :; done"]])
def test_the_lifetime_holds_whatever_the_command(command):
    create = request(command=command)["create"]
    # PID 1 is the course's script, given the lifetime; the command only ever runs under it.
    assert create["entrypoint"] == ["sh", "-c", LIFETIME_SCRIPT, "course-lifetime", "900"]
    assert create["command"] == (command.split() if isinstance(command, str) else command)


def test_the_default_command_sleeps_for_the_lifetime():
    create = container_request("n", "IMAGE", 42, LABELS)["create"]
    assert create["command"] == ["sleep", "42"] and create["entrypoint"][-1] == "42"


@pytest.mark.skipif(subprocess.run(["sh", "-c", "true"], check=False).returncode != 0,
                    reason="no sh")
def test_the_lifetime_script_kills_a_command_that_never_ends():
    """The script itself, run here by sh: a command that would run for ever ends at the
    deadline (1 s), killed; a command that ends sooner ends the script with its status."""
    started = time.monotonic()
    run = subprocess.run(["sh", "-c", LIFETIME_SCRIPT, "course-lifetime", "1", "sleep", "600"],
                         check=False, timeout=60)
    assert run.returncode == 128 + 9 and time.monotonic() - started < 60
    run = subprocess.run(["sh", "-c", LIFETIME_SCRIPT, "course-lifetime", "600", "sh", "-c",
                          "exit 3"], check=False, timeout=60)
    assert run.returncode == 3


@pytest.mark.parametrize("lifetime", [0, -1, 2**63, MAX_LIFETIME + 1, 1.5, "900", True, None])
def test_a_lifetime_out_of_bounds_is_refused(lifetime):
    with pytest.raises(BadInput) as err:
        container_request("n", "IMAGE", lifetime, LABELS)
    one_sentence(str(err.value), "lifetime is", f"from 1 to {MAX_LIFETIME}")
    with pytest.raises(BadInput):
        Lab("test", backend="replay", lifetime=lifetime)


def test_no_network_option_means_dockers_default():
    assert "network_mode" not in request()["host_config"]
    assert request(network_mode="bridge")["host_config"]["network_mode"] == "bridge"


def test_host_mode_keeps_loopback_ports_for_docker_to_discard():
    req = request(network_mode="host", ports={80: ("127.0.0.1", None)},
                  command=["httpd", "-f", "-p", "127.0.0.1:8080"])
    assert req["host_config"]["network_mode"] == "host"
    assert req["port_bindings"] == {"80/tcp": [("127.0.0.1", None)]}
    assert req["create"]["ports"] == [("80", "tcp")]


@pytest.mark.parametrize("ports", [
    {"80/tcp": None}, {"80/tcp": 8080}, {"80/tcp": "8080"}, {"80/tcp": ("0.0.0.0", 8080)},
    {"80/tcp": ("", None)}, {"80/tcp": [("127.0.0.1", 1), ("10.0.0.1", 2)]},
    {"80/tcp": ("127.0.0.1", 70000)}, {"http": ("127.0.0.1", None)}, ["80"],
])
def test_ports_are_published_on_loopback_only(ports):
    with pytest.raises(BadInput) as err:
        request(ports=ports)
    one_sentence(str(err.value), "ports={'80/tcp': ('127.0.0.1', None)}")


def test_course_labels_win_and_the_course_prefix_is_refused():
    create = request(labels={"lesson": "dns"})["create"]
    assert create["labels"]["lesson"] == "dns" and create["labels"][LABEL_COURSE]
    with pytest.raises(BadInput) as err:
        request(labels={LABEL_COURSE: "mine"})
    one_sentence(str(err.value), "is the course's own")


@pytest.mark.parametrize(("options", "words"), [
    ({"network_mode": 123}, "network_mode is 123"),
    ({"network_mode": "container:"}, "container:NAME"),
    ({"network_mode": "a;b"}, "network_mode is 'a;b'"),
    ({"command": [1, 2]}, "command is [1, 2]"),
    ({"command": []}, "command is []"),
    ({"name": "a;b"}, "name is 'a;b'"),
    ({"hostname": "no spaces"}, "hostname is"),
    ({"environment": {"1A": "x"}}, "environment is"),
    ({"environment": ["NOVALUE"]}, "environment is"),
])
def test_allowed_options_of_the_wrong_shape(options, words):
    with pytest.raises(BadInput) as err:
        check_container_options(**options)
    one_sentence(str(err.value), words)


def test_a_container_cannot_join_itself():
    with pytest.raises(BadInput) as err:
        request(network_mode="container:dnc-feedc0de-web-1")
    one_sentence(str(err.value), "cannot join its own network namespace")


def test_what_a_lesson_needs_passes():
    req = request(network_mode="container:" + "a" * 64, hostname="web",
                  environment={"GREETING": "hello"}, command=["sh", "-c", "httpd -f"])
    assert req["host_config"]["network_mode"] == "container:" + "a" * 64
    assert req["create"]["hostname"] == "web"
    assert req["create"]["environment"] == {"GREETING": "hello"}
    fixed = req["host_config"]
    assert fixed["mem_limit"] == options.MEM_LIMIT and fixed["auto_remove"] is True
    assert fixed["security_opt"] == ["no-new-privileges"]


def test_a_huge_role_is_not_echoed_whole():
    with pytest.raises(BadInput) as err:
        options.check_role("x" * 10_000)
    assert len(str(err.value)) < 300
    one_sentence(str(err.value), "cannot go into a name")


@pytest.mark.parametrize(("options", "words"), [
    ({"foo": 1}, "create_network() does not take foo"),
    ({"driver": "bogus"}, "driver='bridge'"),
    ({"driver": "macvlan"}, "driver='bridge'"),
    ({"internal": "yes"}, "internal is 'yes'"),
    ({"labels": {LABEL_COURSE: "x"}}, "labels is"),
])
def test_network_options_outside_the_list(options, words):
    with pytest.raises(BadInput) as err:
        check_network_options("net", **options)
    one_sentence(str(err.value), words)


# -- lab.exec's reader: bounded in time and memory --------------------------------------
def frame(stream: int, data: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


def test_exec_output_is_cut_at_the_limit_and_read_to_the_end():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(frame(1, b"a" * 600) + frame(2, b"b" * 600) + frame(1, b"c" * 10))
        theirs.shutdown(socket.SHUT_WR)
        out, cut, finished = read_exec_stream(ours, deadline=time.monotonic() + 30, limit=1000)
    assert finished and cut
    assert out == b"a" * 600 + b"b" * 400


def test_exec_output_split_across_reads_is_whole():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        data = frame(1, b"hello ") + frame(1, b"world\n")
        for i in range(0, len(data), 5):
            theirs.sendall(data[i:i + 5])
        theirs.shutdown(socket.SHUT_WR)
        out, cut, finished = read_exec_stream(ours, deadline=time.monotonic() + 30, limit=100)
    assert (out, cut, finished) == (b"hello world\n", False, True)


def test_exec_reading_stops_at_the_deadline_on_a_silent_stream():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(frame(1, b"partial"))
        out, cut, finished = read_exec_stream(ours, deadline=time.monotonic() + 0.2, limit=100)
    assert (out, cut, finished) == (b"partial", False, False)


def test_the_cli_help_says_what_copying_the_labels_means():
    run = subprocess.run([sys.executable, "-m", "course_helpers", "--help"], capture_output=True,
                         text=True, check=True, timeout=60)
    text = " ".join(run.stdout.split())
    assert "Copy those labels onto an object of yours" in text
    assert "Closing a session removes its course containers even if one of your containers" \
        in text
    assert "Copying those labels onto an object of yours makes it the course's" in " ".join(
        (Lab.__doc__ or "").split())
