"""A chapter's end: what the session still holds, the banner, and the removal in parallel."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from course_helpers.core.display import SessionSummary
from course_helpers.core.errors import DockerRefused, EngineUnavailable
from course_helpers.core.teardown import remove_side_by_side


def test_the_summary_counts_what_the_session_made_and_not_its_spares(lab, client):
    lab.start_container("web")
    lab.start_container("db")
    lab.create_network("alpha")
    lab.keep_warm(("bridge",))
    assert lab.is_spare(lab.container_for_mode("bridge")) is False  # handed out: counts
    summary = lab.summary()
    assert (summary.containers, summary.networks) == (3, 1), summary
    text = repr(summary)
    assert "still open and holds 3 containers and 1 network" in text
    assert "exercises and the explorer above keep working" in text
    assert "15-minute lifetime" in text and "lab.close()" in text


def test_the_summary_of_a_closed_session_says_how_to_go_on(lab):
    lab.start_container("web")
    lab.close()
    summary = lab.summary()
    assert summary.closed and summary.containers == 0
    assert repr(summary).startswith("This Lab is closed") and "Restart Kernel" in repr(summary)
    assert "SESSION CLOSED" in summary._repr_html_()


def test_a_replay_summary_says_nothing_is_left_to_remove():
    text = SessionSummary(live=False, closed=False, containers=0, networks=0,
                          lifetime=900).sentence()
    assert text.startswith("This replay started nothing")


def test_a_lifetime_in_seconds_is_said_in_seconds():
    text = SessionSummary(live=True, closed=False, containers=1, networks=0,
                          lifetime=90).sentence()
    assert "holds 1 container and 0 networks" in text and "90-second lifetime" in text


def test_the_live_banner_names_the_engine_its_kernel_and_the_date_not_the_socket(lab, client):
    client.api.version_info["KernelVersion"] = "6.1.0-test"
    line = lab.describe()
    assert line.startswith("LIVE: Docker Engine 28.5.2 (linux 6.1.0-test), run on 20")
    assert "unix://" not in line and "docker.sock" not in line
    html = lab.banner()._repr_html_()
    assert "dnc-banner-live" in html and "run the cells to see your own" in html


def test_removal_runs_side_by_side_and_a_refusal_does_not_stop_the_others():
    both_started = threading.Barrier(2, timeout=5)
    removed = []

    def remove(cid: str) -> None:
        if cid == "refused":
            raise DockerRefused("no", status=409, reason="conflict")
        both_started.wait()  # only returns when the other removal runs at the same time
        removed.append(cid)

    gone = remove_side_by_side(["a", "refused", "b"], remove, time.monotonic() + 5)
    assert not gone and sorted(removed) == ["a", "b"]


def test_an_engine_gone_stops_the_removals_not_started_yet():
    calls = []

    def remove(cid: str) -> None:
        calls.append(cid)
        raise EngineUnavailable("gone")

    deadline = time.monotonic() + 5
    assert remove_side_by_side(["a"], remove, deadline) is True
    assert remove_side_by_side([], remove, deadline) is False and calls == ["a"]


def test_a_spare_still_starting_is_already_a_spare_and_stops_being_one_once_handed_out(
        lab, client):
    started = threading.Event()
    release = threading.Event()
    real_start = client.api.start

    def slow_start(cid: str) -> None:
        if threading.current_thread().name.startswith("dnc-warm"):
            started.set()
            assert release.wait(5), "the test never released the spare's start"
        real_start(cid)

    client.api.start = slow_start
    lab.keep_warm(("none",))
    assert started.wait(5), "no spare was started"
    [making] = [cid for cid in client.api.containers_by_id if cid in lab.container_ids]
    name = client.api.containers_by_id[making]["Name"].lstrip("/")
    assert lab.is_spare(SimpleNamespace(id=making, name=name)), "offered while still starting"
    assert lab.summary().containers == 0
    release.set()
    handed = lab.container_for_mode("none")
    assert handed.id == making and not lab.is_spare(handed)
    assert lab.summary().containers == 1


def test_results_said_live_carry_no_mark(lab, capsys):
    lab.say("GET /index.html -> 200: hello")
    assert capsys.readouterr().out == "GET /index.html -> 200: hello\n"
    assert lab.recorded_on() == ""
