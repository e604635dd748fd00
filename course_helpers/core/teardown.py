"""Removing a session's containers side by side, within a time budget.

Introduced in chapter 00 (setup): ``lab.close()`` (and a kernel's exit) uses it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .errors import EngineUnavailable


def remove_side_by_side(ids: list[str], remove: Callable[[str], None],
                        deadline: float) -> bool:
    """Call ``remove(id)`` for every id, each in its own thread, until ``deadline``.

    Similar to ``docker rm -f ID1 ID2 …``, which also removes them concurrently. A
    refusal leaves that one for the reaper; the first sign that the engine has gone
    away stops the rest.

    Args:
        ids: full container ids, in the order to start removing them.
        remove: removes one container (raises :class:`EngineUnavailable` when the
            engine is gone, any other exception when it refused).
        deadline: a :func:`time.monotonic` time after which nothing more is started
            or waited for.

    Returns:
        True when the engine went away meanwhile.
    """
    gone = threading.Event()

    def one(cid: str) -> None:
        if gone.is_set() or time.monotonic() > deadline:
            return
        try:
            remove(cid)
        except EngineUnavailable:
            gone.set()
        except Exception:  # noqa: BLE001 - refused: the reaper tries again later
            return

    threads = []
    try:
        for cid in ids:
            thread = threading.Thread(target=one, args=(cid,), daemon=True, name="dnc-close")
            thread.start()
            threads.append(thread)
    except RuntimeError:  # at interpreter exit no new threads start: one by one
        for cid in ids[len(threads):]:
            one(cid)
    for thread in threads:  # daemon threads: a stuck one never holds up exit
        thread.join(max(0.0, deadline - time.monotonic()))
    return gone.is_set()
