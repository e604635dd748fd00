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
        until: stop once the output kept holds these bytes (the stream of ``docker
            attach`` goes on while the container runs); then ``finished`` is True.

    Returns:
        ``(output, cut, finished)``: what was kept, whether more was dropped, and
        whether the stream ended before the deadline.
    """
    pending = bytearray()
    out = bytearray()
    cut = False
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return bytes(out), cut, False
        buffered = getattr(sock, "pending", None)
        if not (buffered and buffered()):
            ready, _, _ = select.select([sock], [], [], remaining)
            if not ready:
                continue
        chunk = sock.recv(1 << 16)
        if not chunk:
            return bytes(out), cut, True
        pending += chunk
        while len(pending) >= 8:
            size = int.from_bytes(pending[4:8], "big")
            if len(pending) < 8 + size:
                break
            if pending[0] in (1, 2):
                room = limit - len(out)
                if size > room:
                    cut = True
                out += pending[8:8 + min(size, max(room, 0))]
            del pending[:8 + size]
        if until is not None and until in out:
            return bytes(out), cut, True


def read_and_close(sock: Any, *, deadline: float, limit: int,
                   until: bytes | None = None) -> tuple[bytes, bool, bool]:
    """:func:`read_exec_stream` on the SDK's socket (or its raw socket), then close it.

    Similar to what ``docker exec`` and ``docker attach`` do when the command ends or
    you detach: the connection is shut down both ways and closed, even when reading failed.
    """
    raw = getattr(sock, "_sock", sock)
    try:
        return read_exec_stream(raw, deadline=deadline, limit=limit, until=until)
    finally:
        with contextlib.suppress(Exception):
            raw.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            sock.close()
