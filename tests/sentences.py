"""The check behind the course's promise: an error a learner meets is one sentence naming the fix.

Shared by the unit tests (no engine) and the live tests' ``kit``.
"""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"[.!?]\s+[A-Z]")


def assert_one_sentence(message: str, *words: str) -> None:
    """One line, one sentence (quoted names and code aside), ending in a full stop,
    holding ``words`` (what went wrong and the fix)."""
    assert "\n" not in message, f"several lines: {message!r}"
    assert message.endswith("."), f"no full stop: {message!r}"
    bare = re.sub(r"`[^`]*`|'[^']*'|\"[^\"]*\"", "Q", message[:-1])
    assert not _SENTENCE_END.search(bare), f"more than one sentence: {message!r}"
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} missing from {message!r}"
