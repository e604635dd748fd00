"""Spare containers: one started container kept ready per mode.

Introduced in chapter 03 (the mode explorer). Starting a container is what a
snapshot waits for most (about 0.3 s of a 0.4 s ``docker run``). A Lab that
keeps warm starts the next container of a mode in the background once the call that
took one has read it (``Lab.refill_later``), so the following ``run_in_mode`` for that
mode only reads.
Container mode joins a target known only when a call names it: once one has, a spare
joined to that same target is kept (:meth:`Spares.follow`), for the next call that joins
it again.
Opt-in (``Lab.keep_warm``): the spares are course containers like any
other (labelled, limited, removed at close), and a live, non-recording Lab
only.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from typing import Generic, TypeVar

from .errors import CourseError

#: What a spare is: whatever ``start`` returns (a ``ContainerRef`` in a Lab).
Ref = TypeVar("Ref")

#: Modes whose containers can be started ahead (host mode reuses the Lab's probe).
#: Container mode needs a target, known only once a call names one: its spare joins the
#: target named last (see Spares.follow).
WARMABLE = ("bridge", "none", "container")
#: The modes of WARMABLE started as soon as they are kept; the rest wait for a key.
STARTABLE = ("bridge", "none")


class Spares(Generic[Ref]):
    """At most one spare per mode, refilled in one background thread.

    Args:
        start: starts a container in a mode (``docker run -d --network MODE …``).
        discard: removes one that is too old to hand out (``docker rm -f``).
        max_age: seconds after which a spare is replaced rather than handed out.
        closed: True once the session has closed (no more refills).
    """

    def __init__(self, start: Callable[[str], Ref], discard: Callable[[Ref], None],
                 max_age: float, closed: Callable[[], bool]) -> None:
        self.start = start
        self.discard = discard
        self.max_age = max_age
        self.closed = closed
        self.modes: tuple[str, ...] = ()
        #: The one key kept besides ``modes`` (see :meth:`follow`), else None.
        self.followed: str | None = None
        self._ready: dict[str, tuple[Future[Ref], float]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._mutex = threading.Lock()
        self._held = 0  # calls under way inside held(): their refills wait for them
        self._due: set[str] = set()

    def enable(self, modes: tuple[str, ...]) -> None:
        """Keep one spare of each mode in ``modes`` (a subset of :data:`WARMABLE`): at once
        for those in :data:`STARTABLE`, and for the others once :meth:`follow` names one."""
        self.modes = tuple(m for m in modes if m in WARMABLE)
        for mode in self.modes:
            if mode in STARTABLE:
                self._refill(mode)

    def _refill(self, mode: str) -> None:
        with self._mutex:
            if self.closed() or mode in self._ready or (
                    mode not in self.modes and mode != self.followed):
                return
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dnc-warm")
            future = self._pool.submit(self.start, mode)
            self._ready[mode] = (future, time.monotonic())

    def take(self, mode: str) -> Ref:
        """A running container in ``mode``: the spare if one is ready, else a new one.

        A spare older than ``max_age`` is replaced, so what is handed out never
        expires soon after.
        """
        ref = self.take_ready(mode)
        if ref is None:
            ref = self.start(mode)
        self._refill_when_free(mode)
        return ref

    def _refill_when_free(self, key: str) -> None:
        """Refill ``key`` now, or when the calls under way in :meth:`held` have ended."""
        with self._mutex:
            if self._held:
                self._due.add(key)
                return
        self._refill(key)

    def take_ready(self, key: str) -> Ref | None:
        """The spare of ``key`` if one was started (waiting for it to finish starting), else
        None: nothing new is started. A spare that failed to start or is older than
        ``max_age`` gives None too (an old one is discarded)."""
        with self._mutex:
            entry = self._ready.pop(key, None)
        if entry is None:
            return None
        future, born = entry
        try:
            ref = future.result()
        except CourseError:
            return None
        if time.monotonic() - born > self.max_age:
            self.discard(ref)
            return None
        return ref

    def follow(self, key: str) -> None:
        """Keep a spare of ``key`` as well as those of ``modes``: in a Lab, a container
        joined to the target a call has just named (``container:…``). It takes the place
        of the key followed before, whose spare is discarded in the background. Only while
        the mode before the key's first ``:`` is kept (:meth:`enable`); inside
        :meth:`held`, the start waits for the block to end.
        """
        with self._mutex:
            if key.partition(":")[0] not in self.modes or self.closed():
                return
            old, self.followed = self.followed, key
            dropped = self._ready.pop(old, None) if old not in (None, key) else None
            if dropped is not None:  # made by the pool, which stop() alone takes away
                self._pool.submit(self._discard_when_started, dropped[0])
        self._refill_when_free(key)

    def _discard_when_started(self, future: Future[Ref]) -> None:
        with contextlib.suppress(Exception):
            self.discard(future.result())

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Refill what is taken inside only once the block is over.

        A refill is a container start: begun at once, it would compete for the engine
        (and a small machine's cores) with the very call that took the spare, which still
        has to read it. Blocks may nest and overlap (threads); the refills start when the
        last one ends.
        """
        with self._mutex:
            self._held += 1
        try:
            yield
        finally:
            with self._mutex:
                self._held -= 1
                due, self._due = (self._due, set()) if not self._held else (set(), self._due)
            for mode in sorted(due):
                self._refill(mode)

    def wait(self) -> None:
        """Wait until the spares being started are ready (or failed), as the seconds a
        learner spends reading a result give them time to be."""
        with self._mutex:
            pending = [future for future, _ in self._ready.values()]
        futures_wait(pending)

    def stop(self) -> None:
        """Stop refilling and wait for starts under way (close() then removes them)."""
        with self._mutex:
            self.modes, self.followed = (), None
            pending = [future for future, _ in self._ready.values()]
            self._ready.clear()
            pool, self._pool = self._pool, None
        for future in pending:
            with contextlib.suppress(Exception):
                future.result()
        if pool is not None:
            pool.shutdown(wait=True)
