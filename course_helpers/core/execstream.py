"""Read a ``docker exec`` stream with a bound on time and memory.

Introduced in chapter 00 (setup): ``lab.exec`` reads every command's output through it.
"""

from __future__ import annotations

import contextlib
import select
import socket
import time
from typing import Any


def read_exec_stream(sock: Any, *, deadline: float, limit: int,
                     until: bytes | None = None) -> tuple[bytes, bool, bool]:
    """Read a ``docker exec`` stream (stdout and stderr frames) until it ends or ``deadline``.

    Similar to what ``docker exec`` prints, with a bound on time and memory: at
    most ``limit`` bytes are kept; the rest is read and dropped.

    Args:
        sock: the stream's socket (anything with ``fileno`` and ``recv``).
        deadline: a :func:`time.monotonic` time after which reading stops.
        limit: how many bytes of output to keep.
        until: stop once the output holds these bytes, kept or dropped (the stream of
            ``docker attach`` goes on while the container runs); then ``finished`` is True.

    Returns:
        ``(output, cut, finished)``: what was kept, whether more was dropped, and
        whether the stream ended (or ``until`` came) before the deadline.
    """
    out, cut, finished, _ = read_with_tail(sock, deadline=deadline, limit=limit, until=until)
    return out, cut, finished


def read_with_tail(sock: Any, *, deadline: float, limit: int, until: bytes | None = None,
                   tail: int = 0) -> tuple[bytes, bool, bool, bytes]:
    """:func:`read_exec_stream`, plus the last ``tail`` bytes received (kept or dropped), so
    that a marker printed after a long output is seen even when the output was cut."""
    pending = bytearray()
    out = bytearray()
    seen = bytearray()  # the last bytes received, kept or not
    keep = max(tail, len(until or b""))
    cut = False
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return bytes(out), cut, False, bytes(seen[-tail:] if tail else b"")
        buffered = getattr(sock, "pending", None)
        if not (buffered and buffered()):
            ready, _, _ = select.select([sock], [], [], remaining)
            if not ready:
                continue
        chunk = sock.recv(1 << 16)
        if not chunk:
            return bytes(out), cut, True, bytes(seen[-tail:] if tail else b"")
        pending += chunk
        while len(pending) >= 8:
            size = int.from_bytes(pending[4:8], "big")
            if len(pending) < 8 + size:
                break
            if pending[0] in (1, 2):
                payload = pending[8:8 + size]
                room = limit - len(out)
                if size > room:
                    cut = True
                out += payload[:max(room, 0)]
                seen += payload
                if until is not None and until in seen:
                    return bytes(out), cut, True, bytes(seen[-tail:] if tail else b"")
                del seen[:max(len(seen) - keep, 0)]
            del pending[:8 + size]


def raw_socket(sock: Any) -> Any:
    """The socket under the SDK's stream object (``exec_start(socket=True)``, ``attach_socket``)."""
    return getattr(sock, "_sock", sock)


def close_stream(sock: Any) -> None:
    """Shut the stream down both ways and close it, as ``docker exec`` and ``docker attach``
    do when the command ends or you detach; quietly, whatever state it is in."""
    with contextlib.suppress(Exception):
        raw_socket(sock).shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(Exception):
        sock.close()


def read_and_close(sock: Any, *, deadline: float, limit: int,
                   until: bytes | None = None) -> tuple[bytes, bool, bool]:
    """:func:`read_exec_stream` on the SDK's socket (or its raw socket), then
    :func:`close_stream`, even when reading failed."""
    try:
        return read_exec_stream(raw_socket(sock), deadline=deadline, limit=limit, until=until)
    finally:
        close_stream(sock)
