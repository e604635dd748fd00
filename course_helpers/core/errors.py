"""Errors the course raises: one sentence that names the fix, no traceback wall.

Introduced in chapter 00 (setup). Every error a learner can meet is a
:class:`CourseError`. In Jupyter it renders as that one sentence instead of a
traceback (IPython honours ``_render_traceback_`` on exception objects).
"""

from __future__ import annotations

import re


def one_line(text: str) -> str:
    """``text`` on one line: each run of whitespace holding a line break becomes a space."""
    return re.sub(r"\s*[\r\n]+\s*", " ", str(text)).strip()


def as_clause(text: str) -> str:
    """Someone else's explanation (Docker's) as one clause that fits inside our sentence.

    Sentences are joined with semicolons and the final full stop is dropped, so
    ``"Conflict. The name is in use."`` becomes ``"Conflict; the name is in use"``.
    """
    text = one_line(text).rstrip(" .")
    return re.sub(r"\.\s+([A-Z])", lambda m: "; " + m.group(1).lower(), text)


class CourseError(Exception):
    """Base class: ``str(err)`` is one sentence that says what to do (never several lines)."""

    def __init__(self, message: str = "", *args: object) -> None:
        super().__init__(one_line(message), *args)

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of formatting the full traceback.
        return [f"{type(self).__name__}: {self}"]


class EngineUnavailable(CourseError):
    """No Docker engine answers, the socket may not be used, or the engine went away."""


class BadInput(CourseError):
    """The caller asked for something the course cannot do (unknown mode, bad target…)."""


#: How :class:`DockerRefused` writes Docker's reason and status into its sentence.
_REFUSAL = re.compile(r"^Docker refused to .*?: (?P<reason>.*) \(HTTP (?P<status>\d{3})\); ")


class DockerRefused(CourseError):
    """The engine refused a request; the message quotes Docker's own reason.

    The sentence reads ``Docker refused to WHAT: REASON (HTTP STATUS); FIX.``

    Attributes:
        status: the HTTP status the daemon answered with (403, 404, 409 …).
        reason: Docker's own explanation, as the CLI would print it.
    """

    def __init__(self, message: str, *, status: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        if status is None and not reason:
            # Rebuilt from the sentence alone (a replayed refusal): read both back.
            match = _REFUSAL.match(str(self))
            if match:
                status, reason = int(match["status"]), match["reason"]
        self.status = status
        self.reason = reason


class CommandFailed(CourseError):
    """A command run inside a course container exited with a non-zero status.

    Attributes:
        exit_code: the command's exit status (None when rebuilt from a replayed sentence).
        output: what it printed (stdout and stderr together).
    """

    def __init__(self, message: str, *, exit_code: int | None = None, output: str = "") -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.output = output


class CommandTimedOut(CommandFailed):
    """A command run inside a course container did not finish within its timeout.

    Attributes:
        timeout: the seconds it was given.
        output: what it printed until then.
    """

    def __init__(self, message: str, *, timeout: float | None = None, output: str = "") -> None:
        super().__init__(message, exit_code=None, output=output)
        self.timeout = timeout


def shorten(value: object, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, so a sentence never echoes a huge input."""
    text = repr(value)
    if len(text) <= limit:
        return text
    if not isinstance(value, (str, bytes, int, float, list, tuple, dict, set, frozenset)):
        return f"a {type(value).__name__}"  # an object's repr would be a wall of fields
    return text[: limit - 1] + "…"


class ImageUnavailable(CourseError):
    """The course image is missing and can be neither built nor pulled."""


class ParseError(CourseError):
    """Text given to :func:`course_helpers.parse_ip_addr` is not ``ip addr`` output.

    Attributes:
        lineno: 1-based number of the offending line (0 when the text is empty).
        line: the offending line itself.
    """

    def __init__(self, reason: str, *, lineno: int = 0, line: str = "") -> None:
        if reason.startswith("Cannot parse ") and not lineno:
            super().__init__(reason)  # rebuilt from its own sentence (replay, pickling)
        else:
            where = f"line {lineno} ({line.strip()[:60]!r})" if lineno else "the input"
            super().__init__(
                f"Cannot parse {where}: {reason}; pass the unmodified output of `ip addr`."
            )
        self.lineno = lineno
        self.line = line
