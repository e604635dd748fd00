"""The kept shell's protocol: one command per line, its end and exit status read back.

The stream is Docker's (8-byte frame headers before each chunk); the shell behind it is the
host's static BusyBox ``sh``, the one the course image is built from, so quoting, subshells,
``pipefail`` and exit statuses are the probe's own, not a fake's. The same commands through
a real engine's host probe: tests/live/test_keptshell_live.py.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time

import pytest

from course_helpers.core.image import APPLETS, find_static_busybox
from course_helpers.core.keptshell import (
    KeptShell,
    ShellBroke,
    ShellLost,
    parse_end,
    shell_line,
    suits,
)

TOKEN = "0123456789abcdef"


class FramedShell:
    """BusyBox ``sh`` behind a socket that speaks Docker's exec stream.

    What the test writes reaches the shell's stdin; what the shell prints comes back in
    frames of stream 1 (stdout) or 2 (stderr), cut into small pieces like a real stream.
    The socket closes when the shell's output does (as Docker's stream ends with the exec).
    """

    def __init__(self, argv: list[str] | None = None) -> None:
        busybox = find_static_busybox()
        assert busybox is not None, "the course image is built from the host's static busybox"
        self.ours, theirs = socket.socketpair()
        self.proc = subprocess.Popen(argv or [str(busybox), "sh"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._threads = [
            threading.Thread(target=self._feed, args=(theirs,), daemon=True),
            threading.Thread(target=self._frame, args=(theirs, self.proc.stdout, 1), daemon=True),
            threading.Thread(target=self._frame, args=(theirs, self.proc.stderr, 2), daemon=True),
        ]
        self._send = threading.Lock()
        self._theirs = theirs
        self._open = 2  # output pipes still open
        for t in self._threads:
            t.start()

    def _feed(self, sock: socket.socket) -> None:
        with contextlib.suppress(OSError):  # the shell was killed (test_..._ended_...)
            while data := sock.recv(4096):
                self.proc.stdin.write(data)
                self.proc.stdin.flush()
            self.proc.stdin.close()

    def _frame(self, sock: socket.socket, pipe, stream: int) -> None:
        with contextlib.suppress(OSError):
            while chunk := pipe.read1(7):
                with self._send:
                    sock.sendall(bytes([stream, 0, 0, 0]) + len(chunk).to_bytes(4, "big")
                                 + chunk)
        with self._send:
            self._open -= 1
            if not self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_WR)

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


def test_what_a_background_job_writes_after_the_end_line_is_not_output():
    stream = f"now\n\n0 {TOKEN}\nlate\n".encode()
    assert parse_end(stream, stream[-64:], TOKEN) == (b"now\n", 0)


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
    home = kept.run(["pwd"], deadline=soon(), limit=100)[0]
    assert kept.run(["sh", "-c", "cd / && cd /proc && pwd"], deadline=soon(),
                    limit=100)[0] == "/proc\n"
    kept.run(["cd", "/proc"], deadline=soon(), limit=100)  # a builtin, in its subshell
    assert kept.run(["pwd"], deadline=soon(), limit=100)[0] == home
    assert kept.run(["exit", "4"], deadline=soon(), limit=100)[2] == 4
    assert kept.run(["cat"], deadline=soon(), limit=100) == ("", False, 0)  # stdin is closed
    assert kept.run(["if"], deadline=soon(), limit=100)[2] == 127  # a word, not syntax
    assert kept.run(["echo", "still", "here"], deadline=soon(), limit=100)[0] == "still here\n"


def test_a_background_job_writes_into_its_own_command_not_the_next(kept):
    """``docker exec`` ends once every writer has closed the output; so does a command here."""
    out = kept.run(["sh", "-c", "(sleep 0.2; echo late) & echo now"], deadline=soon(),
                   limit=100)[0]
    assert sorted(out.split()) == ["late", "now"]
    assert kept.run(["echo", "next"], deadline=soon(), limit=100)[0] == "next\n"


@pytest.mark.parametrize("size", [995, 1000])
def test_an_output_up_to_the_limit_is_whole_and_not_cut(kept, size):
    out, cut, code = kept.run(["sh", "-c", f"head -c {size} /dev/zero | tr '\\0' x"],
                              deadline=soon(), limit=1000)
    assert (out, cut, code) == ("x" * size, False, 0)


def test_a_shell_killed_mid_command_breaks_it_rather_than_hang():
    """The command kills the kept shell itself (by its pid, known here): the stream ends with
    no end line, and the command is reported broken, not run again and not waited on."""
    shell = FramedShell()
    ks = KeptShell(FakeApi(shell), "c" * 64)
    try:
        with pytest.raises(ShellBroke):
            ks.run(["sh", "-c", f"kill -9 {shell.proc.pid}"], deadline=soon(), limit=100)
        assert not ks.alive
    finally:
        ks.close()
        shell.end()


def test_only_the_images_commands_in_utf8_suit_the_kept_shell():
    assert suits(["sh", "-c", "ip addr"], APPLETS)
    assert not suits([], APPLETS)
    assert not suits(["netstat", "-lnu"], APPLETS), "not linked: docker exec would not find it"
    assert not suits(["cd", "/tmp"], APPLETS), "a builtin: docker exec would not find it"
    assert not suits(["echo", "\udcff"], APPLETS)
    assert not suits(["echo", "a\0b"], APPLETS)


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
    with pytest.raises((ShellLost, ShellBroke)):
        ks.run(["echo", "x"], deadline=soon(), limit=100)
    assert not ks.alive


def test_a_shell_without_pipefail_is_not_used():
    """Without ``pipefail`` the ``| cat`` would hide every failure: such a shell is refused."""
    shell = FramedShell(["dash"])  # Debian's /bin/sh: no pipefail
    try:
        with pytest.raises(ShellLost):
            KeptShell(FakeApi(shell), "c" * 64)
    finally:
        shell.end()
