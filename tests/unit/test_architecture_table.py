"""Chapter 04's "then and now" as a table: one row per part of the source's picture.

Built from :func:`then_and_now` of the engine data the other architecture tests use;
every expected cell is looked up in those rows, so a change of wording in the rows
cannot make the table lie.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from types import SimpleNamespace

from test_architecture import INFO, VERSION

from course_helpers.architecture import (
    COLUMNS,
    REPLAY_HEADINGS,
    SEEN,
    ProcessChain,
    checked_summary,
    then_and_now,
    then_and_now_table,
)
from course_helpers.core.stack import stack_from


class Cells(HTMLParser):
    """The text of each ``<th>`` and ``<td>``, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = []
        elif tag == "br" and self.cell is not None:
            self.cell.append(" ")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


SHIM = ProcessChain(True, parent="containerd-shim-runc-v2")


def rows(chain=SHIM, agent="Docker-Client/28"):
    stack = stack_from(VERSION, {**INFO, "IndexServerAddress": "https://index.docker.io/v1/"})
    return then_and_now(stack, chain, agent)


def parsed(table) -> list[list[str]]:
    parser = Cells()
    parser.feed(table._repr_html_())
    return parser.rows


def test_the_html_table_has_one_row_per_part_and_a_column_per_heading():
    data = rows()
    cells = parsed(then_and_now_table(data))
    assert cells[0] == [heading for heading, _ in COLUMNS]
    assert len(cells) == len(data) + 1
    for row, tds in zip(data, cells[1:], strict=True):
        what, then, now, checked = tds
        assert row["source"] in what and row["status"] in what
        assert row["then"].removeprefix("HISTORY: ").replace("`", "") in then
        assert ("HISTORY" in then) == row["then"].startswith("HISTORY")
        assert (row["changed"] or "unchanged") in then
        assert row["now"].replace("`", "") in now
        assert row["live"] in now
        assert row["checked"] in checked
        assert checked.startswith("✓") == (row["basis"] == SEEN)


def test_every_row_says_when_it_changed_and_how_it_was_checked():
    for row in rows():
        assert row["checked"].startswith(("yes:", "no:", "looked:")), row
        assert row["checked"].startswith("yes:") == (row["basis"] == SEEN), row
        if row["status"] != "still here":
            assert re.search(r"\b20\d\d\b", row["changed"]), row
    hidden = {r["source"]: r for r in rows(ProcessChain(False))}["ExecDriver"]
    assert hidden["checked"].startswith("no:") and "cannot see" in hidden["checked"]
    other = {r["source"]: r for r in rows(ProcessChain(True, parent="systemd"))}["ExecDriver"]
    assert other["checked"].startswith("looked:") and "systemd" in other["checked"]


def test_the_text_form_is_the_same_table_in_columns():
    data = rows()
    text = repr(then_and_now_table(data))
    lines = text.splitlines()
    assert lines[0].split("  ")[0] == COLUMNS[0][0]
    flat = " ".join(text.split())
    for row in data:
        assert row["source"].split()[0] in flat and f"[{row['status']}]" in flat
    assert max(len(line) for line in lines) <= 120, "fits a notebook's text output"
    starts = [lines[0].index(heading) for heading, _ in COLUMNS]
    assert starts == sorted(starts)
    assert "<" not in text, "no HTML in the text form"


LIVE, REPLAY = SimpleNamespace(is_live=True), SimpleNamespace(is_live=False)


def test_in_replay_the_table_says_its_values_come_from_the_recorded_run():
    data = rows()
    live, replay = then_and_now_table(data, LIVE), then_and_now_table(data, REPLAY)
    assert parsed(live)[0] == [heading for heading, _ in COLUMNS]
    assert parsed(replay)[0] == list(REPLAY_HEADINGS)
    assert "recorded:" in replay._repr_html_() and "recorded:" not in live._repr_html_()
    assert " here:" not in replay._repr_html_() and "here:" in live._repr_html_()
    assert repr(replay).splitlines()[0].startswith("what") and "recorded" in repr(replay)
    assert parsed(then_and_now_table(data))[0] == parsed(live)[0]  # no lab: live headings


def test_the_summary_names_each_part_once_and_says_where_it_was_checked():
    data = rows()
    live, history = checked_summary(data, LIVE)
    assert live.startswith("checked on your engine: ")
    assert checked_summary(data, REPLAY)[0].startswith("checked in the recorded run: ")
    assert history.startswith("from Docker's record only (HISTORY): ")
    for row in data:
        line = live if row["basis"] == SEEN else history
        assert f"{row['source']} ({row['status']}" in line, row["source"]
        assert (live + history).count(f"{row['source']} (") == 1, row["source"]
    # a part that is gone counts as checked only through its successor, and says so
    assert "ExecDriver (gone: what replaced it was found)" in live
    assert "seen here" not in live + history
