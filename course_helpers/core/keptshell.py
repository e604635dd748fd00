"""One shell kept open in a container, fed one command at a time.

Introduced in chapter 01, whose host reads go through it: every look at the host
(``ip addr``, the kernel's link table, chapter 03's veth peers) is a command in the
session's host-mode container. A ``docker exec`` each time makes the runtime start a
process in the container (about 60 ms on two cores); a shell started once with
``docker exec -i`` and given each command on its stdin answers in a few milliseconds.
:meth:`course_helpers.Lab.exec` uses it for the host probe only; what it returns is what
a ``docker exec`` of the same command returns.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from typing import Any

from .execstream import close_stream, raw_socket, read_with_tail

#: Bytes read past the output limit: room for the end line, which is not output.
END_ROOM = 64


class ShellLost(Exception):
    """The kept shell had ended before the command was sent: nothing ran."""


class ShellBroke(Exception):
    """The shell's stream ended, or broke, after the command was sent: it may have run, so
    it must not simply be run again (``output``: what came before the break)."""

    def __init__(self, output: str) -> None:
        super().__init__(output)
        self.output = output


def suits(argv: list[str], commands: tuple[str, ...]) -> bool:
    """True when the kept shell runs ``argv`` as ``docker exec`` would: its program is one of
    ``commands`` (those linked in the image, which ``docker exec`` finds too; a shell would
    also run builtins and unlinked BusyBox applets), and every word can be sent as UTF-8."""
    if not argv or argv[0] not in commands:
        return False
    try:
        "".join(argv).encode()
    except UnicodeEncodeError:
        return False
    return "\0" not in "".join(argv)


def shell_line(argv: list[str], token: str) -> str:
    """The line the kept shell is given for ``argv``.

    Run in a subshell (a builtin such as ``cd`` or ``exit`` changes nothing for the next
    command), with stdin closed (it would read the following commands) and stderr into
    stdout (in order, as one stream), piped through ``cat`` so the end line comes only once
    every writer has closed the output, background jobs included, as ``docker exec`` waits
    for them (``pipefail``, set when the shell starts, keeps the command's own status);
    then a line with the exit status and ``token``.
    """
    # Every word quoted, even a plain one: a quoted `if` or `{` is a word, never syntax.
    words = " ".join("'" + word.replace("'", "'\"'\"'") + "'" for word in argv)
    return f"({words}) </dev/null 2>&1 | cat; printf '\\n%s %s\\n' \"$?\" {token}\n"


def parse_end(output: bytes, tail: bytes, token: str) -> tuple[bytes, int | None]:
    """``(output without the end line, exit status)``; the status is read from ``tail`` (the
    last bytes received), so it is known even when the output itself was cut."""
    ends = list(re.finditer(rb"\n(\d+) " + re.escape(token.encode()) + rb"\n", tail))
    if not ends:
        return output, None
    line = ends[-1].group(0)
    at = output.rfind(line)
    return (output[:at] if at >= 0 else output), int(ends[-1].group(1))


class KeptShell:
    """A ``sh`` left running in a container; :meth:`run` gives it one command at a time.

    Similar to ``docker exec -i CONTAINER sh`` and typing each command, where
    ``docker exec CONTAINER COMMAND`` would start a new process in the container each time.
    One command at a time: a caller that finds it busy runs its command the usual way.
    The shell is one more process in the container (``ps`` there shows it).

    Raises:
        ShellLost: the shell could not be set up (no ``pipefail``): use ``docker exec``.
    """

    def __init__(self, api: Any, container_id: str) -> None:
        exec_id = api.exec_create(container_id, ["sh"], stdin=True)["Id"]
        self._sock = api.exec_start(exec_id, socket=True)
        self._raw = raw_socket(self._sock)
        self.container_id = container_id
        self.lock = threading.Lock()
        self.alive = True
        try:
            self._raw.sendall(b"set -o pipefail\n")
            _, _, status = self.run(["sh", "-c", "exit 3"], deadline=time.monotonic() + 10,
                                    limit=100)
        except (ShellBroke, TimeoutError, OSError):
            status = None
        if status != 3:
            self.close()
            raise ShellLost(container_id)

    def run(self, argv: list[str], *, deadline: float, limit: int) -> tuple[str, bool, int]:
        """Run ``argv`` in the shell (hold :attr:`lock`). Similar to ``docker exec C ARGV``.

        Returns:
            ``(output, cut, exit status)``, as :meth:`course_helpers.Lab.exec` reads them.

        Raises:
            ShellLost: the shell had ended; nothing was sent.
            ShellBroke: the shell ended without saying how the command went.
            TimeoutError: the command did not end by ``deadline``; the shell is closed.
        """
        if not self.alive:
            raise ShellLost(self.container_id)
        token = secrets.token_hex(8)
        try:
            self._raw.sendall(shell_line(argv, token).encode())
        except OSError:
            self.close()
            raise ShellLost(self.container_id) from None
        end = f" {token}\n".encode()
        try:
            out, cut, finished, tail = read_with_tail(
                self._raw, deadline=deadline, limit=limit + END_ROOM, until=end, tail=END_ROOM)
        except OSError:
            self.close()
            raise ShellBroke("") from None
        if not finished:
            self.close()  # the command may still be writing: this shell is done
            raise TimeoutError(out.decode(errors="replace"))
        output, status = parse_end(out, tail, token)
        if status is None:
            self.close()
            raise ShellBroke(output.decode(errors="replace"))
        if len(output) > limit:
            output, cut = output[:limit], True
        return output.decode(errors="replace"), cut, status

    def close(self) -> None:
        """End the shell (it reads end-of-file and exits)."""
        self.alive = False
        close_stream(self._sock)
