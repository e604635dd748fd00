"""Telling whether this notebook sees the engine host's processes."""

import os
from pathlib import Path

from course_helpers.core import firewall


def test_the_traces_of_a_process_hold_its_cgroup_and_its_mounts():
    traces = firewall.container_traces(os.getpid())
    assert Path("/proc/self/cgroup").read_text().splitlines()[0] in traces
    assert Path("/proc/self/mountinfo").read_text().splitlines()[0] in traces


def test_a_container_named_only_by_its_mounts_counts_as_on_this_host(monkeypatch):
    cid = "ab" * 32
    files = {"cgroup": "0::/\n",  # a rootless engine on cgroup v1: no cgroup of its own
             "mountinfo": f"771 760 254:0 /data/containers/{cid}/hostname /etc/hostname rw\n"}
    monkeypatch.setattr(firewall, "Path", lambda p: _Fake(files[p.rsplit("/", 1)[1]]))
    assert firewall.runs_on_engine_host(4242, cid)
    assert not firewall.runs_on_engine_host(4242, "cd" * 32)


def test_no_process_or_an_unreadable_one_is_not_the_engine_host(monkeypatch):
    assert not firewall.runs_on_engine_host(0, "ab" * 32)
    monkeypatch.setattr(firewall, "Path", lambda p: _Fake(None))
    assert firewall.container_traces(4242) == ""


class _Fake:
    def __init__(self, text):
        self.text = text

    def read_text(self):
        if self.text is None:
            raise PermissionError("not readable")
        return self.text
