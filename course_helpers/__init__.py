"""Helpers for the course *Docker Networking, hands-on*.

Each chapter notebook imports what it needs from here; every helper's
docstring names the chapter that introduces it and the ``docker`` command it
mirrors.
"""

from .engine import connect
from .errors import BadInput, CourseError, DockerRefused, EngineUnavailable, ParseError
from .ipaddr import Address, Interface, parse_ip_addr
from .lab import Lab
from .modes import MODES, ModeSnapshot

__all__ = [
    "MODES",
    "Address",
    "BadInput",
    "CourseError",
    "DockerRefused",
    "EngineUnavailable",
    "Interface",
    "Lab",
    "ModeSnapshot",
    "ParseError",
    "connect",
    "parse_ip_addr",
]
__version__ = "0.1.0"
