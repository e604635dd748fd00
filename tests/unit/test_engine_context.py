"""The engine is found where the docker CLI finds it: DOCKER_HOST, then the current context."""

from __future__ import annotations

import hashlib
import json

import pytest

from course_helpers.core import engine
from course_helpers.core.errors import EngineUnavailable


@pytest.fixture
def cli_config(tmp_path, monkeypatch):
    """A docker CLI config folder whose current context points at a socket that is not there."""
    sock = tmp_path / "rootless" / "docker.sock"
    name = "rootless"
    meta = tmp_path / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({
        "Name": name, "Metadata": {},
        "Endpoints": {"docker": {"Host": f"unix://{sock}", "SkipTLSVerify": False}},
    }))
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": name}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    return f"unix://{sock}"


def test_current_context_is_followed(cli_config):
    assert engine.context_host() == cli_config
    assert engine.engine_address() == cli_config
    with pytest.raises(EngineUnavailable) as err:
        engine.connect(timeout=2)
    assert cli_config in str(err.value), "the sentence names the context's address"


def test_docker_host_wins_over_the_context(cli_config, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    assert engine.engine_address() == "unix:///nonexistent/docker.sock"


def test_default_context_means_the_default_socket(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    assert engine.context_host() is None
    assert engine.engine_address() == engine.DEFAULT_SOCKET


# -- addresses that never answer, TLS settings that do not work (issue 11) ---------------
@pytest.fixture
def silent_address(monkeypatch):
    """DOCKER_HOST at a socket on 127.0.0.1 that accepts connections and never answers."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)  # the kernel accepts; nobody ever reads or writes
    host = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    monkeypatch.setenv("DOCKER_HOST", host)
    for name in ("DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "COURSE_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    yield host
    listener.close()


def run_bounded(call, bound: float = 60):
    """``call()`` in a thread; fails the test if it is still running after ``bound`` s."""
    import threading

    box: dict = {}

    def target():
        try:
            box["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(bound)
    assert not thread.is_alive(), f"still waiting after {bound} s"
    return box


def test_a_silent_address_fails_quickly_naming_docker_host(silent_address):
    box = run_bounded(lambda: engine.connect(timeout=120), bound=4 * engine.CONNECT_TIMEOUT)
    err = box.get("error")
    assert isinstance(err, EngineUnavailable), box
    assert f"DOCKER_HOST is set to {silent_address}" in str(err)
    assert "does not answer like a Docker engine" in str(err) and "\n" not in str(err)


def test_auto_says_docker_host_is_broken_before_replaying(silent_address, capsys, monkeypatch):
    from course_helpers import Lab

    box = run_bounded(lambda: Lab("00_setup"), bound=4 * engine.CONNECT_TIMEOUT)
    lab = box.get("value")
    assert lab is not None and lab.backend == "replay", box
    said = capsys.readouterr().err
    assert lab.fallback and lab.fallback in said.splitlines(), said
    assert f"DOCKER_HOST is set to {silent_address}" in lab.fallback
    assert lab.fallback.endswith("this Lab replays recordings.")


def test_a_bad_tls_setting_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:9")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(tmp_path / "no-certs-here"))
    with pytest.raises(EngineUnavailable) as err:
        engine.connect()
    text = str(err.value)
    assert "TLS settings" in text and "DOCKER_CERT_PATH" in text and "no Docker engine" not in text
