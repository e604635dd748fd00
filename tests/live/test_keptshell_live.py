"""Host reads through the probe's kept shell answer as ``docker exec`` does, on the real engine.

The oracle is a plain ``docker exec`` made by this test through the SDK, in the same
host-mode container; the engine's own event stream counts the execs the Lab asked for.
"""

from __future__ import annotations

import time

import pytest

from course_helpers.core.errors import CommandFailed, CommandTimedOut

pytestmark = pytest.mark.live

COMMANDS = [
    ["ls", "/sys/class/net"],
    ["cat", "/etc/hostname"],
    ["sh", "-c", "echo 'quoted  words'; echo \"$0\"", "it's"],
    ["sh", "-c", "printf 'no newline'"],
    ["sh", "-c", "cat; echo read nothing"],
    ["sh", "-c", "(sleep 0.2; echo late) & echo now"],  # docker exec waits for every writer
    ["sh", "-c", "head -c 1048576 /dev/zero | tr '\\0' x"],  # exactly the output limit
]


def plain_exec(client, container_id: str, argv: list[str]) -> tuple[str, int]:
    """``docker exec CONTAINER ARGV``: output (stdout and stderr) and exit code."""
    exec_id = client.api.exec_create(container_id, argv)["Id"]
    out = client.api.exec_start(exec_id).decode()
    return out, client.api.exec_inspect(exec_id)["ExitCode"]


def exec_creates(client, container_id: str, since: float, until: float) -> int:
    """How many ``exec_create`` events the engine reported for the container."""
    events = client.api.events(since=int(since), until=int(until) + 1, decode=True,
                               filters={"container": container_id})
    return sum(1 for e in events if str(e.get("Action", "")).startswith("exec_create")
               and since * 1e9 <= e.get("timeNano", 0) <= until * 1e9)


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a)[:30])
def test_the_probe_answers_as_a_plain_docker_exec_does(lab, docker_client, argv):
    probe = lab.host_probe()
    assert lab.exec(probe, argv) == plain_exec(docker_client, probe.id, argv)[0]


def test_a_failing_command_fails_with_its_status_and_both_streams(lab, docker_client):
    probe = lab.host_probe()
    argv = ["sh", "-c", "echo out; echo err >&2; exit 3"]
    out, code = plain_exec(docker_client, probe.id, argv)
    with pytest.raises(CommandFailed) as caught:
        lab.exec(probe, argv)
    assert (caught.value.exit_code, sorted(caught.value.output.split())) == \
        (code, sorted(out.split()))


def test_host_reads_do_not_make_one_exec_each(lab, docker_client):
    probe = lab.host_probe()
    lab.host_interfaces()  # opens the shell
    since = time.time()
    reads = [lab.host_interfaces() for _ in range(10)]
    assert all(any(i.name == "lo" for i in r) for r in reads)
    until = time.time()
    assert exec_creates(docker_client, probe.id, since, until) == 0
    # the oracle itself is seen: a plain exec is one event
    plain_exec(docker_client, probe.id, ["true"])
    assert exec_creates(docker_client, probe.id, since, time.time()) == 1


def test_a_timed_out_command_leaves_the_next_one_working(lab):
    probe = lab.host_probe()
    lab.exec(probe, "true")
    with pytest.raises(CommandTimedOut):
        lab.exec(probe, "echo started; sleep 30", timeout=1)
    assert lab.exec(probe, "echo next") == "next\n"


def test_a_probe_removed_behind_the_labs_back_is_replaced_for_host_reads(lab, docker_client):
    first = lab.host_probe()
    lab.host_interfaces()
    docker_client.api.remove_container(first.id, force=True)
    names = {i.name for i in lab.host_interfaces()}
    assert "lo" in names
    assert lab.host_probe().id != first.id


def test_a_kept_shell_killed_mid_command_fails_that_command_and_the_next_read_works(lab):
    """The command kills the shell it runs in (its parent; never under a plain exec, whose
    parent is 0): it fails in one sentence, is not run again, and host reads go on."""
    probe = lab.host_probe()
    lab.exec(probe, "true")  # the shell is open
    with pytest.raises(CommandFailed, match="before it said how it ended"):
        lab.exec(probe, ["sh", "-c", '[ "$PPID" != 0 ] && kill -9 "$PPID"'])
    assert any(i.name == "lo" for i in lab.host_interfaces())
