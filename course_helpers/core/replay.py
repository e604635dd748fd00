"""Record live results and replay them where no engine exists (Binder).

Introduced in chapter 00 (setup). Every Lab method that asks the engine for
something is wrapped in :func:`recorded`. On the live backend it runs, and
when recording is on, stores its result; on the replay backend it returns the
stored result instead. Results are plain data and dataclasses, encoded to
JSON by :func:`encode` and back by :func:`decode`, so notebooks never need a
replay branch of their own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import ipaddress
import json
import os
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from .errors import CourseError

#: The recordings, one folder per engine they were made on: ``recordings/28.5/NN_name.json``.
RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"
#: Picks a set by its engine version (``COURSE_RECORDING=20.10``); the newest by default.
RECORDING_ENV = "COURSE_RECORDING"


def set_name(version: str) -> str:
    """The recording set an engine version belongs to: ``28.5.2+dfsg4`` -> ``28.5``."""
    found = re.match(r"(\d+)\.(\d+)", version or "")
    return f"{int(found.group(1))}.{int(found.group(2))}" if found else "unknown"


def recording_sets(root: Path = RECORDINGS) -> list[str]:
    """The engine versions recordings ship for under ``root``, newest first.

    Similar to ``ls course_helpers/recordings``.
    """
    if not root.is_dir():
        return []
    sets = [p.name for p in root.iterdir() if p.is_dir() and re.fullmatch(r"\d+\.\d+", p.name)]
    return sorted(sets, key=lambda v: tuple(int(n) for n in v.split(".")), reverse=True)


def recording_dir(root: Path = RECORDINGS, choice: str | None = None) -> Path:
    """The folder a replaying Lab reads: the set ``choice`` (else ``$COURSE_RECORDING``),
    or the newest engine's set; ``root`` itself when it holds no sets (a flat folder).

    Raises:
        BadInput: the chosen set does not exist; the message lists those that do.
    """
    sets = recording_sets(root)
    choice = (os.environ.get(RECORDING_ENV, "") if choice is None else choice).strip()
    if not sets:
        return root
    if not choice:
        return root / sets[0]
    if choice not in sets:
        from .errors import BadInput

        raise BadInput(
            f"{RECORDING_ENV} is {choice!r}, but the course ships recordings of Engine "
            f"{' and '.join(sets)}: set it to one of those, or unset it for the newest."
        )
    return root / choice
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
        cls = _TYPES.get(data["__type__"]) or _find_type(data["__type__"])
        return cls(**{k: decode(v) for k, v in data["fields"].items()})
    if "__tuple__" in data:
        return tuple(decode(x) for x in data["__tuple__"])
    if "__dict__" in data:
        return {k: decode(v) for k, v in data["__dict__"].items()}
    if "__items__" in data:
        return {decode(k): decode(v) for k, v in data["__items__"]}
    raise ValueError(f"unknown recorded value {sorted(data)}")


def _find_type(name: str) -> type:
    """A @replayable class not imported yet: import the package's modules, then look again."""
    import importlib
    import pkgutil

    package = importlib.import_module(__package__.rpartition(".")[0])
    for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    if name not in _TYPES:
        raise ValueError(f"a recording holds a {name}, which no course module defines")
    return _TYPES[name]


def call_key(name: str, args: tuple, kwargs: dict) -> str:
    """A stable key for one call: the method name and its arguments.

    Objects with a ``name`` (snapshots, container and network references)
    stand for that name, just as the name written out would, which replays
    unchanged because a replaying Lab takes over the recorded session id.
    """
    def norm(value: Any) -> Any:
        # A snapshot or reference stands for its container's name, exactly as the
        # name itself would: target=snapshot and target="dnc-…-bridge-1" are one call.
        if hasattr(value, "container") and hasattr(value, "mode"):
            return value.container
        if hasattr(value, "name") and hasattr(value, "id"):
            return value.name
        if isinstance(value, (list, tuple)):
            return [norm(v) for v in value]
        if isinstance(value, (set, frozenset)):  # no hash-seed-dependent order in keys
            return sorted((norm(v) for v in value), key=repr)
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
        self._lock = threading.Lock()
        self._index: dict[str, list[Any]] | None = None
        self._by_name: dict[str, list[Any]] = {}

    # -- writing ------------------------------------------------------------
    def add(self, key: str, result: Any) -> None:
        """Store one call's result."""
        self.calls.append([key, encode(result)])
        self._index = None

    def add_error(self, key: str, exc: BaseException) -> None:
        """Store a :class:`CourseError` a call raised, so replay raises it again.

        Its class, its sentence and its simple attributes (``status``,
        ``reason``, ``exit_code`` …) are kept.
        """
        attrs = {}
        for name, value in vars(exc).items():
            if not name.startswith("_"):
                try:
                    attrs[name] = encode(value)
                except TypeError:
                    continue
        self.calls.append([key, {"__raise__": type(exc).__name__, "message": str(exc),
                                 "attrs": attrs}])
        self._index = None

    @property
    def names(self) -> list[str]:
        """The recorded calls' function names, in call order."""
        return [json.loads(key)[0] for key, _ in self.calls]

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
        with self._lock:
            if self._index is None:
                self._index, self._by_name = defaultdict(list), defaultdict(list)
                for k, result in self.calls:
                    self._index[k].append(result)
                    self._by_name[json.loads(k)[0]].append(result)
            answers = self._index.get(key)
            if not answers:
                name = json.loads(key)[0]
                answers = self._by_name.get(name)
                if not answers or name not in _SUBSTITUTABLE:
                    raise NotRecorded(
                        "This notebook replays a recorded run (there is no Docker engine "
                        f"here), and that run never asked for {readable(key)}, so this needs "
                        "a live Docker engine: try it where Docker runs (`make lab`); a "
                        "course maintainer can add it to the recording with `python -m "
                        "course_helpers record`."
                    )
            index = self._seen[key]
            self._seen[key] += 1
        return decode(answers[min(index, len(answers) - 1)])


#: Calls whose answer does not depend on their arguments' details (any recorded one will do).
_SUBSTITUTABLE: set[str] = set()


class _Nesting:
    """How deep each recording Lab is in recorded calls: only the outermost call is
    stored (what it calls inside, from any thread, is part of its answer)."""

    def __init__(self) -> None:
        self._depth: dict[int, int] = {}
        self._lock = threading.Lock()

    def inside(self, lab: object) -> bool:
        with self._lock:
            return self._depth.get(id(lab), 0) > 0

    @contextlib.contextmanager
    def enter(self, lab: object) -> Iterator[None]:
        with self._lock:
            self._depth[id(lab)] = self._depth.get(id(lab), 0) + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._depth.pop(id(lab)) - 1
                if left:
                    self._depth[id(lab)] = left


_NESTING = _Nesting()


def recorded(fn: Callable[..., T] | None = None, *, any_args: bool = False,
             check: Callable[..., Any] | None = None):
    """Method decorator: record live results, serve them in replay.

    Before either, the call is refused when the Lab is closed, and ``check``
    (if given) validates the arguments, so bad input gets the same sentence in
    both backends instead of "no recorded answer".

    Args:
        fn: a method of :class:`~course_helpers.core.lab.Lab` (or a function whose
            first argument is a Lab).
        any_args: in replay, a call with unrecorded arguments may be answered
            by a recorded call with other arguments (e.g. ``docker info``).
        check: called as ``check(lab, *args, **kwargs)``; raises a
            :class:`CourseError` for bad input, without asking any engine.
    """
    def wrap(func: Callable[..., T]) -> Callable[..., T]:
        name = func.__name__
        if any_args:
            _SUBSTITUTABLE.add(name)
        signature = inspect.signature(func)

        def key_of(lab, args: tuple, kwargs: dict) -> str:
            # Bind to the signature with defaults applied, so f("bridge") and
            # f("bridge", None) or f(mode="bridge") are one and the same call.
            try:
                bound = signature.bind(lab, *args, **kwargs)
            except TypeError:
                return call_key(name, args, kwargs)
            bound.apply_defaults()
            named: dict[str, Any] = {}
            for param, value in list(bound.arguments.items())[1:]:
                kind = signature.parameters[param].kind
                if kind is inspect.Parameter.VAR_KEYWORD:
                    named.update(value)
                elif kind is inspect.Parameter.VAR_POSITIONAL:
                    named[param] = list(value)
                else:
                    named[param] = value
            return call_key(name, (), named)

        @functools.wraps(func)
        def wrapper(lab, *args, **kwargs):
            if getattr(lab, "closed", False):
                from .errors import BadInput

                if hasattr(lab, "ensure_open"):
                    lab.ensure_open()  # its own sentence: why, and how to go on
                raise BadInput("This Lab is closed: create a new one.")
            if check is not None:
                check(lab, *args, **kwargs)
            if lab.backend == "replay":
                result = lab.replay_from.replay(key_of(lab, args, kwargs))
                if isinstance(result, dict) and "__raise__" in result:
                    raise rebuild_error(result)
                return result
            recording = lab.record_into
            if recording is None or _NESTING.inside(lab):
                return func(lab, *args, **kwargs)
            key = key_of(lab, args, kwargs)
            with _NESTING.enter(lab):
                try:
                    result = func(lab, *args, **kwargs)
                except CourseError as exc:
                    recording.add_error(key, exc)
                    raise
            recording.add(key, result)
            return result

        return wrapper

    return wrap(fn) if fn is not None else wrap


def error_class(name: str) -> type[CourseError]:
    """The :class:`CourseError` subclass a recording names (``CourseError`` if unknown)."""
    from . import errors

    cls = getattr(errors, name, None) or _ERRORS.get(name, CourseError)
    return cls if isinstance(cls, type) and issubclass(cls, CourseError) else CourseError


#: CourseError subclasses defined outside ``errors`` (such as :class:`NotRecorded`).
_ERRORS: dict[str, type[CourseError]] = {"NotRecorded": NotRecorded}


def rebuild_error(data: dict[str, Any]) -> CourseError:
    """The :class:`CourseError` a recorded call raised, rebuilt from its recording.

    Same class, same sentence; recorded attributes (``status``, ``exit_code`` …)
    are set again.
    """
    cls = error_class(data["__raise__"])
    message = data["message"]
    try:
        exc = cls(message)
    except TypeError:  # a constructor that does not take its own sentence
        exc = cls.__new__(cls)
        Exception.__init__(exc, message)
    if str(exc) != message:  # a constructor that rewrites its argument
        exc.args = (message,)
    for attr, value in (data.get("attrs") or {}).items():
        try:
            setattr(exc, attr, decode(value))
        except AttributeError:
            continue
    return exc


def readable(key: str, limit: int = 120) -> str:
    """A call key as the call it stands for: ``run_in_mode('none', target='<web>')``."""
    name, args, kwargs = json.loads(key)
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items() if v is not None]
    text = f"{name}({', '.join(parts)})"
    return text if len(text) <= limit else text[: limit - 2] + "…)"


class NoEngine:
    """What a replaying Lab has instead of a Docker client.

    Any use of it (``lab.client.containers``) raises :class:`NotRecorded`
    with one sentence: that code needs a live engine, which a replay has not.
    """

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise NotRecorded(
            f"`lab.client.{name}` needs a live Docker engine and this is a replay of a "
            "recorded run: wrap the code that asks the engine in "
            "`course_helpers.core.replay.recorded`, or run it where an engine answers."
        )

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "<no Docker engine: replay>"


def backend_choice() -> str:
    """``live`` or ``replay``, from ``COURSE_BACKEND`` (``auto`` when unset)."""
    return (os.environ.get("COURSE_BACKEND") or "auto").strip().lower()
