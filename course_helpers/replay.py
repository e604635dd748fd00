"""Record live results and replay them where no engine exists (Binder).

Introduced in chapter 00 (setup). Every Lab method that asks the engine for
something is wrapped in :func:`recorded`. On the live backend it runs, and
when recording is on, stores its result; on the replay backend it returns the
stored result instead. Results are plain data and dataclasses, encoded to
JSON by :func:`encode` and back by :func:`decode`, so notebooks never need a
replay branch of their own.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import json
import os
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .errors import CourseError

RECORDINGS = Path(__file__).with_name("recordings")
_TYPES: dict[str, type] = {}
T = TypeVar("T")


def replayable(cls: type[T]) -> type[T]:
    """Class decorator: let instances of a dataclass travel through recordings."""
    _TYPES[cls.__name__] = cls
    return cls


_IP_TYPES = {
    "IPv4Address": ipaddress.IPv4Address, "IPv6Address": ipaddress.IPv6Address,
    "IPv4Interface": ipaddress.IPv4Interface, "IPv6Interface": ipaddress.IPv6Interface,
    "IPv4Network": ipaddress.IPv4Network, "IPv6Network": ipaddress.IPv6Network,
}


def encode(obj: Any) -> Any:
    """Turn a result into JSON-ready data, tagging dataclasses, tuples and IP objects."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if type(obj).__name__ in _IP_TYPES:
        return {"__ip__": type(obj).__name__, "v": str(obj)}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        name = type(obj).__name__
        if name not in _TYPES:
            raise TypeError(f"{name} is not registered with @replayable")
        fields = {f.name: encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        return {"__type__": name, "fields": fields}
    if isinstance(obj, tuple):
        return {"__tuple__": [encode(x) for x in obj]}
    if isinstance(obj, list):
        return [encode(x) for x in obj]
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj):
            return {"__dict__": {k: encode(v) for k, v in obj.items()}}
        return {"__items__": [[encode(k), encode(v)] for k, v in obj.items()]}
    raise TypeError(f"cannot record a {type(obj).__name__}")


def decode(data: Any) -> Any:
    """The inverse of :func:`encode`."""
    if isinstance(data, list):
        return [decode(x) for x in data]
    if not isinstance(data, dict):
        return data
    if "__raise__" in data:
        return data
    if "__ip__" in data:
        return _IP_TYPES[data["__ip__"]](data["v"])
    if "__type__" in data:
        cls = _TYPES[data["__type__"]]
        return cls(**{k: decode(v) for k, v in data["fields"].items()})
    if "__tuple__" in data:
        return tuple(decode(x) for x in data["__tuple__"])
    if "__dict__" in data:
        return {k: decode(v) for k, v in data["__dict__"].items()}
    if "__items__" in data:
        return {decode(k): decode(v) for k, v in data["__items__"]}
    raise ValueError(f"unknown recorded value {sorted(data)}")


def call_key(name: str, args: tuple, kwargs: dict) -> str:
    """A stable key for one call: the method name and its arguments.

    Objects with a ``name`` (snapshots, container and network references)
    stand for themselves by that name, which replays unchanged because a
    replaying Lab takes over the recorded session id.
    """
    def norm(value: Any) -> Any:
        if hasattr(value, "container") and hasattr(value, "mode"):
            return f"<{value.container}>"
        if hasattr(value, "name") and hasattr(value, "id"):
            return f"<{value.name}>"
        if isinstance(value, (list, tuple)):
            return [norm(v) for v in value]
        if isinstance(value, dict):
            return {str(k): norm(v) for k, v in sorted(value.items())}
        return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)

    return json.dumps([name, norm(list(args)), norm(kwargs)], sort_keys=True, ensure_ascii=False)


class NotRecorded(CourseError):
    """Replay was asked for something no recording holds."""


class Recording:
    """The calls of one chapter, in order, as stored in ``recordings/<chapter>.json``.

    Attributes:
        meta: engine version, OS, date and session id of the recorded run.
        calls: ``[key, encoded result]`` pairs in call order.
    """

    def __init__(self, meta: dict[str, Any] | None = None,
                 calls: list[list[Any]] | None = None) -> None:
        self.meta = meta or {}
        self.calls = calls or []
        self._seen: dict[str, int] = defaultdict(int)

    # -- writing ------------------------------------------------------------
    def add(self, key: str, result: Any) -> None:
        """Store one call's result."""
        self.calls.append([key, encode(result)])

    def save(self, path: Path) -> None:
        """Write the recording as JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"meta": self.meta, "calls": self.calls}
        path.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    # -- reading ------------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> Recording:
        """Read a recording written by :meth:`save`."""
        payload = json.loads(path.read_text(encoding="utf-8"))
        return cls(payload["meta"], payload["calls"])

    def replay(self, key: str) -> Any:
        """The result recorded for ``key``: the n-th call gets the n-th answer.

        Once the recorded answers run out, the last one is served again.

        Raises:
            NotRecorded: the recording holds no such call.
        """
        answers = [result for k, result in self.calls if k == key]
        if not answers:
            name = json.loads(key)[0]
            answers = [result for k, result in self.calls if json.loads(k)[0] == name]
            if not answers or name not in _SUBSTITUTABLE:
                raise NotRecorded(
                    f"This replay has no recording of {key}: it needs a live Docker engine "
                    "(or re-record with `python -m course_helpers record`)."
                )
        index = self._seen[key]
        self._seen[key] += 1
        return decode(answers[min(index, len(answers) - 1)])


#: Calls whose answer does not depend on their arguments' details (any recorded one will do).
_SUBSTITUTABLE: set[str] = set()


def recorded(fn: Callable[..., T] | None = None, *, any_args: bool = False):
    """Method decorator: record live results, serve them in replay.

    Args:
        fn: a method of :class:`~course_helpers.lab.Lab` (or a function whose
            first argument is a Lab).
        any_args: in replay, a call with unrecorded arguments may be answered
            by a recorded call with other arguments (e.g. ``docker info``).
    """
    def wrap(func: Callable[..., T]) -> Callable[..., T]:
        name = func.__name__
        if any_args:
            _SUBSTITUTABLE.add(name)

        @functools.wraps(func)
        def wrapper(lab, *args, **kwargs):
            if lab.backend == "replay":
                result = lab.recording.replay(call_key(name, args, kwargs))
                if isinstance(result, dict) and "__raise__" in result:
                    raise _error_class(result["__raise__"])(result["message"])
                return result
            if lab.recorder is None or lab._depth:
                return func(lab, *args, **kwargs)
            key = call_key(name, args, kwargs)
            lab._depth += 1
            try:
                result = func(lab, *args, **kwargs)
            except CourseError as exc:
                lab.recorder.calls.append(
                    [key, {"__raise__": type(exc).__name__, "message": str(exc)}])
                raise
            finally:
                lab._depth -= 1
            lab.recorder.add(key, result)
            return result

        return wrapper

    return wrap(fn) if fn is not None else wrap


def _error_class(name: str) -> type[CourseError]:
    from . import errors

    cls = getattr(errors, name, CourseError)
    return cls if isinstance(cls, type) and issubclass(cls, CourseError) else CourseError


def backend_choice() -> str:
    """``live`` or ``replay``, from ``COURSE_BACKEND`` (``auto`` when unset)."""
    return (os.environ.get("COURSE_BACKEND") or "auto").strip().lower()
