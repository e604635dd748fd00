"""How a session shows itself in a notebook: the chapter's banner, its end, a closed Lab.

Introduced in chapter 00 (setup). Text only (with an HTML form for JupyterLab);
what the sentences say comes from :class:`~course_helpers.core.lab.Lab`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

LIVE_COLOURS = ("#009E73", "#e6f5f0")
REPLAY_COLOURS = ("#D55E00", "#fbece3")


def _box(kind: str, live: bool, head: str, rest: str, small: str) -> str:
    colour, tint = LIVE_COLOURS if live else REPLAY_COLOURS
    return (f"<div class='dnc-{kind} dnc-{kind}-{'live' if live else 'replay'}' "
            f"style='border-left:6px solid {colour};background:{tint};padding:6px 10px'>"
            f"<b style='color:{colour}'>{html.escape(head)}</b>{html.escape(rest)}"
            + (f"<br><small>{html.escape(small)}</small>" if small else "") + "</div>")


@dataclass(frozen=True)
class Banner:
    """A chapter's LIVE or REPLAY banner: a coloured box in JupyterLab, one line as text."""

    line: str
    live: bool

    def __repr__(self) -> str:
        return self.line

    def _repr_html_(self) -> str:
        head, _, rest = self.line.partition(":")
        what = ("the outputs below come from that engine, on that date; run the cells to "
                "see your own" if self.live else
                "the outputs below are a recording of that run, not your machine; with Docker "
                "installed, make lab runs the course live")
        return _box("banner", self.live, head, ":" + rest, what)


def closed_sentence(live: bool = True) -> str:
    """What a closed Lab answers: why it is closed, and how to go on."""
    what = "ended its session and removed its containers" if live else "ended this replay"
    return (f"This Lab is closed: lab.close() {what}; to go on, create a new one by restarting "
            "the kernel and running the cells above this one (Kernel > Restart Kernel and Run "
            "up to Selected Cell).")


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class SessionSummary:
    """What a session holds at the end of a chapter, and how it ends.

    Similar to ``docker ps --filter label=…session=ID`` plus the rules that end the session.
    """

    live: bool
    closed: bool
    containers: int
    networks: int
    lifetime: int

    def sentence(self) -> str:
        """One or two sentences for the learner."""
        if self.closed:
            return closed_sentence(self.live)
        if not self.live:
            return ("This replay started nothing on any engine, so there is nothing to remove; "
                    "the exercises and the explorer above keep working.")
        minutes = f"{self.lifetime // 60}-minute" if self.lifetime % 60 == 0 \
            else f"{self.lifetime}-second"
        held = (f"{_count(self.containers, 'container')} and {_count(self.networks, 'network')}"
                if self.containers or self.networks else "nothing on the engine right now")
        return (f"This session is still open and holds {held}, so the exercises and the "
                "explorer above keep working. It ends, and removes them, when you run "
                "lab.close() or restart or shut down the kernel; a tab closed while its kernel "
                f"runs leaves them until their {minutes} lifetime runs out and they remove "
                "themselves (after that, run the cells that started them again).")

    def __repr__(self) -> str:
        return self.sentence()

    def _repr_html_(self) -> str:
        head = "SESSION OPEN" if self.live and not self.closed else \
            ("SESSION CLOSED" if self.live else "REPLAY")
        return _box("session", self.live, head, ": " + self.sentence(), "")
