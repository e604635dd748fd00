"""Spare containers without an engine: the object needs only callables."""

from __future__ import annotations

import threading

from course_helpers.core.errors import CourseError
from course_helpers.core.spares import WARMABLE, Spares


class Starter:
    """Starts numbered "containers" (strings), one call at a time; can be told to fail."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.discarded: list[str] = []
        self.fail = False
        self.lock = threading.Lock()

    def start(self, mode: str) -> str:
        with self.lock:
            if self.fail:
                raise CourseError("the engine refused")
            ref = f"{mode}-{len(self.started) + 1}"
            self.started.append(ref)
            return ref

    def discard(self, ref: str) -> None:
        self.discarded.append(ref)


def spares(starter: Starter, max_age: float = 1e9, closed=lambda: False) -> Spares[str]:
    return Spares(start=starter.start, discard=starter.discard, max_age=max_age, closed=closed)


def test_the_ready_spare_is_handed_out_and_the_next_one_started():
    starter = Starter()
    pool = spares(starter)
    pool.enable(("none",))
    assert pool.take("none") == "none-1"
    assert pool.take("none") == "none-2", "the refill started after the first take"
    pool.stop()
    assert starter.started == ["none-1", "none-2", "none-3"] and starter.discarded == []


def test_without_a_spare_a_mode_starts_on_demand_and_unknown_modes_are_not_kept():
    starter = Starter()
    pool = spares(starter)
    pool.enable(("host", "container"))
    assert pool.modes == ("container",) and set(WARMABLE) == {"bridge", "none", "container"}
    pool.wait()
    assert starter.started == [], "container mode waits for a target to follow"
    assert pool.take("bridge") == "bridge-1"
    pool.stop()
    assert starter.started == ["bridge-1"]


def test_a_spare_older_than_max_age_is_discarded_not_handed_out():
    starter = Starter()
    pool = spares(starter, max_age=-1)
    pool.enable(("none",))
    assert pool.take("none") == "none-2"
    pool.stop()
    assert starter.discarded == ["none-1"]


def test_a_failed_spare_is_replaced_by_a_fresh_start():
    starter = Starter()
    starter.fail = True
    pool = spares(starter)
    pool.enable(("none",))
    starter.fail = False
    assert pool.take("none") == "none-1"
    pool.stop()


def test_nothing_is_refilled_once_closed():
    starter = Starter()
    pool = spares(starter, closed=lambda: True)
    pool.enable(("none",))
    assert pool.take("none") == "none-1"
    pool.stop()
    assert starter.started == ["none-1"]


class ThreadStarter(Starter):
    """Also records which thread started each "container": refills run in ``dnc-warm``."""

    def __init__(self) -> None:
        super().__init__()
        self.thread: dict[str, str] = {}

    def start(self, mode: str) -> str:
        ref = super().start(mode)
        self.thread[ref] = threading.current_thread().name
        return ref


def test_a_spare_taken_inside_held_is_refilled_only_when_the_block_ends():
    starter = ThreadStarter()
    pool = spares(starter)
    pool.enable(("none",))
    with pool.held():
        first = pool.take("none")
        second = pool.take("none")  # no refill under way: started here, on demand
    third = pool.take("none")  # the refill begun when the block ended
    pool.stop()
    assert starter.thread[first].startswith("dnc-warm")
    assert starter.thread[second] == threading.current_thread().name
    assert starter.thread[third].startswith("dnc-warm")


def test_nested_blocks_refill_when_the_outermost_ends():
    starter = ThreadStarter()
    pool = spares(starter)
    pool.enable(("bridge", "none"))
    with pool.held():
        with pool.held():
            pool.take("bridge")
        on_demand = pool.take("bridge")
    refilled = pool.take("bridge")
    pool.stop()
    assert starter.thread[on_demand] == threading.current_thread().name
    assert starter.thread[refilled].startswith("dnc-warm")


def test_a_followed_key_gets_a_spare_that_take_ready_hands_out_once():
    starter = Starter()
    pool = spares(starter)
    pool.enable(("none", "container"))
    assert pool.take_ready("container:t@1") is None, "nothing kept for it yet"
    pool.follow("container:t@1")
    assert pool.take_ready("container:t@1") == "container:t@1-2"
    assert pool.take_ready("container:t@1") is None, "handed out once, not restarted by it"
    pool.stop()
    assert starter.started == ["none-1", "container:t@1-2"]


def test_following_another_key_discards_the_spare_of_the_one_before():
    starter = Starter()
    pool = spares(starter)
    pool.enable(("none", "container"))
    pool.follow("container:t@1")
    pool.follow("container:t@2")  # the target restarted: a new run, a new namespace
    pool.wait()
    assert pool.take_ready("container:t@1") is None
    pool.stop()  # waits for the discard queued behind the starts
    assert starter.discarded == ["container:t@1-2"]
    assert starter.started[-1] == "container:t@2-3"


def test_follow_does_nothing_unless_its_mode_is_kept_and_waits_for_held_blocks():
    starter = Starter()
    pool = spares(starter)
    pool.follow("container:t@1")
    pool.enable(("none",))
    pool.follow("container:t@1")
    pool.wait()
    assert pool.followed is None and starter.started == ["none-1"]
    pool.enable(("none", "container"))
    pool.wait()
    with pool.held():
        pool.follow("container:t@1")
        assert starter.started == ["none-1"], "no start while the call still reads"
    pool.wait()
    assert starter.started == ["none-1", "container:t@1-2"]
    pool.stop()
