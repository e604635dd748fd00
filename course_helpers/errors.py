"""Errors the course raises: one sentence that names the fix, no traceback wall.

Introduced in chapter 00 (setup). Every error a learner can meet is a
:class:`CourseError`. In Jupyter it renders as that one sentence instead of a
traceback (IPython honours ``_render_traceback_`` on exception objects).
"""

from __future__ import annotations


class CourseError(Exception):
    """Base class: ``str(err)`` is one sentence that says what to do."""

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of formatting the full traceback.
        return [f"{type(self).__name__}: {self}"]


class EngineUnavailable(CourseError):
    """No Docker engine answers, or the socket may not be used."""


class BadInput(CourseError):
    """The caller asked for something the course cannot do (unknown mode, bad target…)."""


class DockerRefused(CourseError):
    """The engine refused a request; the message quotes Docker's own reason.

    Attributes:
        status: the HTTP status the daemon answered with (403, 404, 409 …).
        reason: Docker's own explanation, as the CLI would print it.
    """

    def __init__(self, message: str, *, status: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class ImageUnavailable(CourseError):
    """The course image is missing and can be neither built nor pulled."""


class ParseError(CourseError):
    """Text given to :func:`course_helpers.parse_ip_addr` is not ``ip addr`` output.

    Attributes:
        lineno: 1-based number of the offending line (0 when the text is empty).
        line: the offending line itself.
    """

    def __init__(self, reason: str, *, lineno: int = 0, line: str = "") -> None:
        where = f"line {lineno} ({line.strip()[:60]!r})" if lineno else "the input"
        super().__init__(
            f"Cannot parse {where}: {reason}; pass the unmodified output of `ip addr`."
        )
        self.lineno = lineno
        self.line = line
