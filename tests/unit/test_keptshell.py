"""The kept shell's protocol: one command per line, its end and exit status read back.

The stream is Docker's (8-byte frame headers before each chunk); the shell behind it is a
real local ``sh``, so quoting, subshells and exit statuses are a shell's own, not a fake's.
The same commands through a real engine's host probe: tests/live/test_keptshell_live.py.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time

import pytest

from course_helpers.core.keptshell import KeptShell, ShellLost, parse_end, shell_line

TOKEN = "0123456789abcdef"


class FramedShell:
    """A local ``sh`` behind a socket that speaks Docker's exec stream.

    What the test writes reaches the shell's stdin; what the shell prints comes back in
    frames of stream 1 (stdout) or 2 (stderr), cut into small pieces like a real stream.
    """

    def __init__(self) -> None:
        self.ours, theirs = socket.socketpair()
        self.proc = subprocess.Popen(["sh"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self._threads = [
            threading.Thread(target=self._feed, args=(theirs,), daemon=True),
            threading.Thread(target=self._frame, args=(theirs, self.proc.stdout, 1), daemon=True),
            threading.Thread(target=self._frame, args=(theirs, self.proc.stderr, 2), daemon=True),
        ]
        self._send = threading.Lock()
        self._theirs = theirs
        for t in self._threads:
            t.start()

    def _feed(self, sock: socket.socket) -> None:
        with contextlib.suppress(OSError):  # the shell was killed (test_..._ended_...)
            while data := sock.recv(4096):
                self.proc.stdin.write(data)
                self.proc.stdin.flush()
            self.proc.stdin.close()

    def _frame(self, sock: socket.socket, pipe, stream: int) -> None:
        while chunk := pipe.read1(7):
            with self._send:
                sock.sendall(bytes([stream, 0, 0, 0]) + len(chunk).to_bytes(4, "big") + chunk)

    def end(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self._theirs.close()


class FakeApi:
    """The two SDK calls KeptShell makes, answered by a :class:`FramedShell`."""

    def __init__(self, shell: FramedShell) -> None:
        self.shell = shell
        self.created: list[tuple[str, list[str], bool]] = []

    def exec_create(self, container: str, cmd: list[str], stdin: bool = False) -> dict:
        self.created.append((container, cmd, stdin))
        return {"Id": "exec-1"}

    def exec_start(self, exec_id: str, socket: bool = False):  # noqa: A002 - the SDK's name
        return self.shell.ours


@pytest.fixture
def kept():
    shell = FramedShell()
    api = FakeApi(shell)
    ks = KeptShell(api, "c" * 64)
    yield ks
    ks.close()
    shell.end()


def soon() -> float:
    return time.monotonic() + 10


def test_the_line_runs_the_command_in_a_subshell_with_stdin_closed():
    line = shell_line(["sh", "-c", "echo 'a b'"], TOKEN)
    assert line.startswith("('sh' '-c' ")
    assert "</dev/null 2>&1" in line and line.endswith(f"{TOKEN}\n")


@pytest.mark.parametrize("output", [b"", b"one line\n", b"no newline", b"two\nlines\n"])
def test_the_end_line_is_taken_off_and_its_status_read(output):
    stream = output + f"\n7 {TOKEN}\n".encode()
    assert parse_end(stream, stream[-64:], TOKEN) == (output, 7)


def test_a_cut_output_still_has_its_status_from_the_last_bytes():
    kept_part = b"x" * 10
    tail = b"xxxx" + f"\n0 {TOKEN}\n".encode()
    assert parse_end(kept_part, tail, TOKEN) == (kept_part, 0)


def test_another_commands_token_is_not_taken_for_this_ones_end():
    stream = f"out\n0 {'f' * 16}\n".encode()
    assert parse_end(stream, stream, TOKEN) == (stream, None)


def test_output_and_exit_status_come_back_as_a_docker_exec_gives_them(kept):
    assert kept.run(["echo", "hello"], deadline=soon(), limit=1000) == ("hello\n", False, 0)
    out, cut, code = kept.run(["sh", "-c", "echo out; echo err >&2; exit 3"],
                              deadline=soon(), limit=1000)
    assert (out, cut, code) == ("out\nerr\n", False, 3)
    assert kept.run(["printf", "no newline"], deadline=soon(), limit=1000)[0] == "no newline"


def test_a_command_cannot_change_the_shell_for_the_next_one(kept):
    assert kept.run(["sh", "-c", "cd /tmp && pwd"], deadline=soon(), limit=100)[0] == "/tmp\n"
    kept.run(["cd", "/tmp"], deadline=soon(), limit=100)  # a builtin, in its subshell
    first = kept.run(["pwd"], deadline=soon(), limit=100)[0]
    assert first != "/tmp\n"
    assert kept.run(["exit", "4"], deadline=soon(), limit=100)[2] == 4
    assert kept.run(["cat"], deadline=soon(), limit=100) == ("", False, 0)  # stdin is closed
    assert kept.run(["if"], deadline=soon(), limit=100)[2] == 127  # a word, not syntax
    assert kept.run(["echo", "still", "here"], deadline=soon(), limit=100)[0] == "still here\n"


def test_a_long_output_is_cut_and_its_status_still_known(kept):
    out, cut, code = kept.run(["sh", "-c", "yes | head -c 50000; exit 5"],
                              deadline=soon(), limit=1000)
    assert (len(out), cut, code) == (1000, True, 5)
    assert kept.run(["echo", "next"], deadline=soon(), limit=100) == ("next\n", False, 0)


def test_a_command_past_its_deadline_closes_the_shell(kept):
    with pytest.raises(TimeoutError):
        kept.run(["sh", "-c", "echo started; sleep 5"], deadline=time.monotonic() + 0.3,
                 limit=100)
    assert not kept.alive
    with pytest.raises(ShellLost):
        kept.run(["echo", "after"], deadline=soon(), limit=100)


def test_a_shell_that_ended_is_lost_not_hung():
    shell = FramedShell()
    ks = KeptShell(FakeApi(shell), "c" * 64)
    shell.end()
    with pytest.raises(ShellLost):
        ks.run(["echo", "x"], deadline=soon(), limit=100)
    assert not ks.alive

