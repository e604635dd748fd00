"""Errors without an engine: one sentence naming the fix, one line in Jupyter, and the
translation of SDK and connection failures into course errors."""

from __future__ import annotations

import pickle
import queue

import docker
import pytest
import requests
import urllib3
from sentences import assert_one_sentence

from course_helpers.core import engine
from course_helpers.core.errors import (
    BadInput,
    CommandFailed,
    CourseError,
    DockerRefused,
    EngineUnavailable,
    ImageUnavailable,
    ParseError,
    as_clause,
    one_line,
)
from course_helpers.core.replay import error_class


def api_error(status: int, explanation: str) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = status
    return docker.errors.APIError(f"{status} Client Error", response=response,
                                  explanation=explanation)


#: Docker's own words (Engine 20.10), the status it answers with, and the fix we expect.
REFUSALS = [
    ("bridge is a pre-defined network and cannot be removed", 403,
     "remove a network you created instead"),
    ("error while removing network: network dnc-x id 7b1b5b066538 has active endpoints", 403,
     "disconnect or remove the containers attached to it first"),
    ('Conflict. The container name "/web" is already in use by container "2c184afc93de". '
     "You have to remove (or rename) that container to be able to reuse that name.", 409,
     "choose another name"),
    ("network with name dnc-x-net-1 already exists", 409, "choose another name"),
    ("cannot join network namespace of a non running container", 409, "start that container"),
    ("cannot join own network", 500, "pass another running container as the target"),
    ("No such container: 0123456789ab", 404, "check the name with `docker ps -a`"),
    ("Container 0123456789ab is not running", 409, "start that container first"),
    ("something nobody has seen before", 500, "correct what Docker names"),
]


@pytest.mark.parametrize(("reason", "status", "fix"), REFUSALS)
def test_refusals_keep_dockers_reason_in_one_sentence_with_a_fix(reason, status, fix):
    err = engine.refusal("do something", api_error(status, reason))
    assert isinstance(err, DockerRefused)
    assert err.status == status and err.reason == reason
    assert_one_sentence(str(err), "Docker refused to do something", fix)
    if ". " not in reason:
        assert reason in str(err), "a one-sentence reason is quoted verbatim"


@pytest.mark.parametrize(("reason", "status", "fix"), REFUSALS)
def test_a_refusal_rebuilt_from_its_sentence_keeps_status_and_reason(reason, status, fix):
    """What replay and pickling do: the class gets the sentence alone."""
    err = engine.refusal("remove network bridge", api_error(status, reason))
    replayed = error_class("DockerRefused")(str(err))
    unpickled = pickle.loads(pickle.dumps(err))
    for again in (replayed, unpickled):
        assert type(again) is DockerRefused and str(again) == str(err)
        assert again.status == status
    assert unpickled.reason == reason
    # Docker's several sentences come back joined into one clause, its words unchanged.
    assert replayed.reason == (reason if ". " not in reason else as_clause(reason))


def test_translated_turns_lost_connections_into_engine_unavailable():
    lost = [requests.exceptions.ConnectionError("Connection aborted"),
            requests.exceptions.ChunkedEncodingError("Connection broken"),
            requests.exceptions.ReadTimeout("Read timed out"),
            urllib3.exceptions.ProtocolError("Connection aborted"),
            ConnectionResetError(104, "Connection reset by peer"),
            docker.errors.DockerException("Error while fetching server API version: x")]
    for exc in lost:
        with pytest.raises(EngineUnavailable) as err, engine.translated("start container web"):
            raise exc
        assert_one_sentence(str(err.value), "engine went away while trying to start container "
                            "web", "start it again")


def test_translated_turns_api_errors_into_docker_refused_and_lets_others_through():
    with pytest.raises(DockerRefused) as err, engine.translated("remove network host"):
        raise api_error(403, "host is a pre-defined network and cannot be removed")
    assert err.value.status == 403
    mine = BadInput("Already a course error: leave it alone.")
    with pytest.raises(BadInput) as err, engine.translated("anything"):
        raise mine
    assert err.value is mine
    for other in (ValueError("a bug"), docker.errors.InvalidArgument("bad option")):
        with pytest.raises(type(other)), engine.translated("anything"):
            raise other


def test_connection_failures_name_their_fix(monkeypatch):
    denied = docker.errors.DockerException(
        "Error while fetching server API version: ('Connection aborted.', "
        "PermissionError(13, 'Permission denied'))")
    missing = docker.errors.DockerException(
        "Error while fetching server API version: ('Connection aborted.', "
        "FileNotFoundError(2, 'No such file or directory'))")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    assert_one_sentence(engine._explain_connection_failure(denied),
                        "You may not use the Docker socket", "add your user to the 'docker' group")
    assert_one_sentence(engine._explain_connection_failure(missing),
                        "No Docker engine answers at unix:///var/run/docker.sock", "start one")
    monkeypatch.setenv("DOCKER_HOST", "unix:///nowhere.sock")
    assert_one_sentence(engine._explain_connection_failure(missing),
                        "DOCKER_HOST is set to unix:///nowhere.sock", "fix DOCKER_HOST")
    assert_one_sentence(engine.engine_gone("list images", denied).args[0],
                        "You may not use the Docker socket")


def test_messages_never_span_lines():
    err = CourseError("first line\n  second line\r\nthird.")
    assert str(err) == "first line second line third."
    assert err._render_traceback_() == ["CourseError: first line second line third."]
    assert one_line(" a \n\n b ") == "a b"
    assert as_clause("Conflict. The name is in use.") == "Conflict; the name is in use"


def test_errors_rebuilt_from_their_sentence_stay_the_same():
    parse = ParseError("expected an interface line", lineno=3, line="garbage")
    failed = CommandFailed("`ip addr` failed in web (exit 1): no.", exit_code=1, output="no")
    for err in (parse, failed, BadInput("Unknown network mode 'x': choose one of bridge."),
                ImageUnavailable("The course image is missing: install a static busybox.")):
        again = error_class(type(err).__name__)(str(err))
        assert type(again) is type(err) and str(again) == str(err)
        assert str(pickle.loads(pickle.dumps(err))) == str(err)
    assert_one_sentence(str(parse), "Cannot parse line 3 ('garbage')",
                        "pass the unmodified output of `ip addr`")


def _jupyter_error(code: str) -> dict:
    """The ``error`` message a Jupyter kernel (in-process ipykernel) sends for ``code``."""
    from ipykernel.inprocess.manager import InProcessKernelManager

    manager = InProcessKernelManager()
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        client.execute(code)
        while True:
            msg = client.get_iopub_msg(timeout=30)
            if msg["msg_type"] == "error":
                return msg["content"]
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                raise AssertionError(f"no error from {code!r}")
    except queue.Empty:
        raise AssertionError("the kernel did not answer") from None
    finally:
        client.stop_channels()
        manager.shutdown_kernel()


def test_a_course_error_shows_as_one_line_in_jupyter(monkeypatch):
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    shown = _jupyter_error(
        "from course_helpers.core import engine\n"
        "import docker, requests\n"
        "r = requests.Response(); r.status_code = 403\n"
        "raise engine.refusal('remove network bridge', docker.errors.APIError("
        "'x', response=r, explanation='bridge is a pre-defined network and cannot be removed'))"
    )
    assert shown["ename"] == "DockerRefused"
    assert shown["traceback"] == [f"DockerRefused: {shown['evalue']}"]
    assert_one_sentence(shown["evalue"], "bridge is a pre-defined network and cannot be removed")
    # The check can fail: an ordinary exception brings its traceback along.
    assert len(_jupyter_error("raise ValueError('plain')")["traceback"]) > 1


@pytest.mark.parametrize(("what", "reason", "sent_to", "not_to"), [
    ("look up network your-network", "network your-network not found",
     "`docker network ls`", "docker ps"),
    ("run `hostname` in box", "No such container: box", "`docker ps -a`", "docker network ls"),
    ("inspect container 0123456789ab", "No such container: 0123456789ab", "`docker ps -a`",
     "docker network ls"),
])
def test_a_missing_object_is_looked_for_with_the_command_that_lists_its_kind(
        what, reason, sent_to, not_to):
    said = str(engine.refusal(what, api_error(404, reason)))
    assert f"check the name with {sent_to}" in said and not_to not in said, said
