"""The engine is found where the docker CLI finds it: DOCKER_HOST, then the current context."""

from __future__ import annotations

import hashlib
import json

import pytest

from course_helpers import engine
from course_helpers.errors import EngineUnavailable


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
