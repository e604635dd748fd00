"""What a session hands out: references to its containers and networks.

Introduced in chapter 00 (setup). Plain, frozen data (registered with
:func:`~course_helpers.core.replay.replayable`, so recordings carry them), never
SDK objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .replay import replayable


@replayable
@dataclass(frozen=True)
class ContainerRef:
    """A course container: its name and full id. Similar to a line of ``docker ps``."""

    name: str
    id: str

    @property
    def short_id(self) -> str:
        """The 12-character id the CLI shows."""
        return self.id[:12]


@replayable
@dataclass(frozen=True)
class NetworkRef:
    """A course network: its name and full id. Similar to a line of ``docker network ls``."""

    name: str
    id: str


def ref_id(obj: Any) -> str:
    """The id in a reference, or the text itself (a name or an id)."""
    return obj if isinstance(obj, str) else obj.id


def describe_ref(obj: Any) -> str:
    """How a message names a reference: its name, else the first 12 characters."""
    return getattr(obj, "name", None) or str(obj)[:12]
