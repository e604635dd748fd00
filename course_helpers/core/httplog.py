"""A logging proxy between the docker CLI and the daemon: the REST API, line by line.

Introduced in chapter 04 (Docker平台架构图解, the platform's architecture). The
``docker`` command is only a client; every command becomes HTTP requests to
the daemon's socket. This proxy sits on a temporary unix socket, forwards
every byte unchanged to the engine's socket and notes each request line and
each response status. Similar to::

    socat -v UNIX-LISTEN:/tmp/proxy.sock,fork UNIX-CONNECT:/var/run/docker.sock
    DOCKER_HOST=unix:///tmp/proxy.sock docker run …

Nothing here talks to anything but the two unix sockets.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: Content types with which the daemon hands a connection over to a raw stream (attach).
_RAW_TYPES = ("application/vnd.docker.raw-stream", "application/vnd.docker.multiplexed-stream")
_MAX_HEAD = 1 << 16


class HttpFramer:
    """Finds where HTTP/1.1 messages start in one direction of one connection.

    Feed it the bytes as they pass; it calls ``on_head(start_line, headers)``
    for each message head and skips bodies (``Content-Length`` or chunked).
    ``on_head`` may return ``"none"`` (this message has no body) or ``"raw"``
    (the connection was hijacked: stop parsing); ``None`` lets the headers decide.

    Args:
        on_head: called with the start line and the headers (names lower-cased).
        response: True for the daemon-to-client direction (a response without
            a length runs until the connection closes).
    """

    def __init__(self, on_head: Callable[[str, dict[str, str]], str | None], *,
                 response: bool = False) -> None:
        self.on_head = on_head
        self.response = response
        self.raw = False
        self._buf = b""
        self._state = "head"
        self._left = 0

    def feed(self, data: bytes) -> None:
        """Take the next bytes of the stream; never raises on odd input (it stops parsing)."""
        if self.raw:
            return
        self._buf += data
        try:
            self._parse()
        except (ValueError, UnicodeDecodeError):
            self.raw, self._buf = True, b""

    def _parse(self) -> None:
        while not self.raw:
            state = self._state
            if state == "head":
                if not self._head():
                    return
            elif state in ("body", "chunk-data"):
                take = min(self._left, len(self._buf))
                self._buf, self._left = self._buf[take:], self._left - take
                if self._left:
                    return
                self._state = "head" if state == "body" else "chunk-size"
            elif state in ("chunk-size", "trailer"):
                end = self._buf.find(b"\r\n")
                if end < 0:
                    return
                line, self._buf = self._buf[:end], self._buf[end + 2:]
                if state == "trailer":
                    self._state = "trailer" if line else "head"
                    continue
                size = int(line.split(b";")[0].strip() or b"0", 16)
                self._state, self._left = ("chunk-data", size + 2) if size else ("trailer", 0)
            else:  # until-close
                self._buf = b""
                return

    def _head(self) -> bool:
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buf) > _MAX_HEAD:
                raise ValueError("header block too long")
            return False
        lines = self._buf[:end].decode("latin-1").split("\r\n")
        self._buf = self._buf[end + 4:]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        mode = self.on_head(lines[0], headers)
        if mode == "raw":
            self.raw, self._buf = True, b""
        elif mode != "none":
            if "chunked" in headers.get("transfer-encoding", "").lower():
                self._state = "chunk-size"
            elif "content-length" in headers:
                self._left = int(headers["content-length"])
                self._state = "body" if self._left else "head"
            elif self.response:
                self._state = "until-close"
        return True


@dataclass
class LoggedRequest:
    """One request seen by the proxy. Filled in as the response arrives.

    Attributes:
        seq: its place among all requests of the session (0, 1, …).
        connection: which client connection carried it (0, 1, …).
        method: ``GET``, ``POST``, ``HEAD`` …
        target: the request target as sent, e.g. ``/v1.41/containers/create?name=x``.
        headers: the request headers (names lower-cased).
        status: the response status, None while none has arrived.
        response_headers: the response headers.
    """

    seq: int
    connection: int
    method: str
    target: str
    headers: dict[str, str]
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)


class _Connection:
    """Pairs the requests and responses of one client connection (HTTP/1.1: in order)."""

    def __init__(self, proxy: LoggingProxy, number: int) -> None:
        self.proxy = proxy
        self.number = number
        self.pending: deque[LoggedRequest] = deque()
        self.requests = HttpFramer(self.on_request)
        self.responses = HttpFramer(self.on_response, response=True)

    def on_request(self, start: str, headers: dict[str, str]) -> str | None:
        method, _, rest = start.partition(" ")
        request = self.proxy.add(self.number, method, rest.rpartition(" ")[0], headers)
        self.pending.append(request)
        return None

    def on_response(self, start: str, headers: dict[str, str]) -> str | None:
        status = int(start.split()[1])
        if 100 <= status < 200 and status != 101:
            return "none"  # an interim answer (100 Continue): the real one follows
        if not self.pending:
            return "raw"
        request = self.pending.popleft()
        request.status, request.response_headers = status, headers
        if status == 101 or headers.get("content-type", "").startswith(_RAW_TYPES):
            self.requests.raw = True  # hijacked by attach: a raw stream from now on
            return "raw"
        if request.method == "HEAD" or status in (204, 304):
            return "none"
        return None


class LoggingProxy:
    """A unix-socket proxy to the engine that logs every request; a context manager.

    Similar to ``socat -v UNIX-LISTEN:PROXY,fork UNIX-CONNECT:ENGINE``. On enter it
    listens on ``<temporary dir>/docker.sock`` (mode 0700 dir); on exit it closes
    every connection and removes the directory.

    Args:
        upstream: path of the engine's unix socket (``/var/run/docker.sock``).

    Attributes:
        path: the proxy's socket, for ``DOCKER_HOST=unix://PATH``.
        requests: what passed, in the order the requests arrived.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.requests: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._dir: str | None = None
        self._server: socket.socket | None = None
        self.path = ""

    def add(self, connection: int, method: str, target: str,
            headers: dict[str, str]) -> LoggedRequest:
        """Note a request line (called by the connection's framer)."""
        with self._lock:
            request = LoggedRequest(len(self.requests), connection, method, target, headers)
            self.requests.append(request)
        return request

    def __enter__(self) -> LoggingProxy:
        self._dir = tempfile.mkdtemp(prefix="dnc-proxy-")
        self.path = str(Path(self._dir) / "docker.sock")
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.path)
        self._server.listen(16)
        self._spawn(self._accept_loop)
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the accept loop
        self._server.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in list(self._threads):
            thread.join(timeout=5)
        shutil.rmtree(self._dir, ignore_errors=True)

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        number = 0
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(self.upstream)
            except OSError:
                client.close()
                upstream.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            conn = _Connection(self, number)
            number += 1
            self._spawn(_pump, client, upstream, conn.requests)
            self._spawn(_pump, upstream, client, conn.responses)


def _pump(src: socket.socket, dst: socket.socket, framer: HttpFramer) -> None:
    """Copy bytes from ``src`` to ``dst`` unchanged, showing them to ``framer`` first."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            framer.feed(data)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)
