"""Helpers for the course *Docker Networking, hands-on*.

Notebooks import ``Lab``, the errors and ``parse_ip_addr`` from here, and the
lesson modules by name (``from course_helpers import hostview``). Every lesson
module's docstring names the chapter that introduces it; every helper's names
the ``docker`` command it mirrors. The machinery lives in :mod:`course_helpers.core`,
every drawing in :mod:`course_helpers.figures`.
"""

from .core.engine import connect
from .core.errors import (
    BadInput,
    CommandFailed,
    CommandTimedOut,
    CourseError,
    DockerRefused,
    EngineUnavailable,
    ImageUnavailable,
    ParseError,
)
from .core.lab import Lab
from .ipaddr import Address, Interface, parse_ip_addr

__all__ = [
    "Address",
    "BadInput",
    "CommandFailed",
    "CommandTimedOut",
    "CourseError",
    "DockerRefused",
    "EngineUnavailable",
    "ImageUnavailable",
    "Interface",
    "Lab",
    "ParseError",
    "connect",
    "parse_ip_addr",
]
__version__ = "0.1.0"
