"""Text of a course figure drawn one string at a time, not one glyph at a time (issue 14).

Introduced with chapter 01's interface map and used by every course figure
(:class:`~course_helpers.figures.scene.SizedFigure` draws through it). Matplotlib 3.11's
Agg renderer draws each glyph by itself: a few Python calls per glyph, for a course figure
a few thousand glyphs, about a third of its drawing time. FreeType can lay out and render a
whole line into one bitmap (``FT2Font.set_text`` and ``draw_glyphs_to_bitmap``, what Agg
did up to matplotlib 3.10); that bitmap is then put on the canvas with the renderer's
public ``draw_image``, in the text's colour. The line sits on a whole pixel, where 3.11
places each glyph to a 64th of one, so text may move by up to half a pixel; shapes, sizes
and colours are matplotlib's own.

Anything this does not cover is left to matplotlib as it is: mathtext, rotated text, text
that is not anti-aliased or is clipped to a shape (matplotlib clips text to rectangles
only), text that needs shaping (a right-to-left script, a combining mark, a joiner: 3.11
shapes it with HarfBuzz), text with OpenType features or a language set, text in more
than one font family or in a family this machine lacks, a character the font lacks
(matplotlib then falls back to another font), a renderer other than Agg (PDF, SVG), or a
matplotlib whose ``FT2Font`` no longer has the whole-line calls.

Measures and bitmaps are kept in a small cache shared by the figures of a kernel (the same
names and addresses recur from figure to figure), keyed by the font file itself. The
measures are computed exactly as Agg computes them, so no layout changes. The bitmap is
laid out behind a space: FreeType puts the first glyph of a line a pixel right of where
the others would put it whenever the ink starts at a fraction of a pixel; behind a space
(whose empty box starts the line on a whole pixel) every glyph is placed alike.
"""

from __future__ import annotations

import contextlib
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.backends.backend_agg import RendererAgg, get_hinting_flag
from matplotlib.ft2font import FT2Font

#: FT2Font's whole-line calls; without them, text is left to matplotlib.
WHOLE_LINE_CALLS = ("set_text", "draw_glyphs_to_bitmap", "get_image", "get_bitmap_offset",
                    "get_width_height", "get_descent")
AVAILABLE = all(hasattr(FT2Font, name) for name in WHOLE_LINE_CALLS)


#: At most this many lines are kept measured and drawn, in at most this many bytes of
#: bitmaps (a course figure's line is a few kilobytes; one very long line at 200 dpi, a
#: megabyte), the least recently used going first.
CACHE_SIZE, CACHE_BYTES = 1024, 16 << 20


class LineKey(NamedTuple):
    """What a line's measures and bitmap depend on: its place in the cache."""

    text: str
    font_path: str
    size: float
    dpi: float
    flags: int
    hinting_factor: int
    kerning_factor: int


@dataclass
class Line:
    """One line of text in one font, size and resolution (FreeType's 26.6 fixed point:
    64ths of a pixel).

    Attributes:
        width, height, descent: what Agg's ``get_text_width_height_descent`` reports.
        cover: the anti-aliased bitmap of the line laid out behind a space (0-255 a
            pixel), once it has been drawn; None, with ``drawable`` False, when the line is
            left to matplotlib (see :func:`draw_line`).
        lead: where, in that layout, the line's own first glyph starts (the space's advance).
        ascent: the bitmap's baseline is its row ``ascent // 64 + 1``.
        drawable: None until the line is first drawn.
        key: its place in the cache.
    """

    width: int
    height: int
    descent: int
    cover: np.ndarray | None = None
    lead: int = 0
    ascent: int = 0
    drawable: bool | None = None
    key: LineKey | None = None


_lines: OrderedDict[LineKey, Line | None] = OrderedDict()
_lock = threading.Lock()
_bytes = 0  # the bitmaps' size in _lines, under _lock


def clear_cache() -> None:
    """Forget every line measured and drawn so far (a new kernel's state: for benchmarks)."""
    global _bytes
    with _lock:
        _lines.clear()
        _bytes = 0


def cache_size() -> tuple[int, int]:
    """How many lines the cache holds, and how many bytes of bitmaps."""
    with _lock:
        return len(_lines), _bytes


def _evict() -> None:
    """Drop the least recently used lines past the cache's limits (call under ``_lock``)."""
    global _bytes
    while _lines and (len(_lines) > CACHE_SIZE or _bytes > CACHE_BYTES):
        _, line = _lines.popitem(last=False)
        if line is not None and line.cover is not None:
            _bytes -= line.cover.nbytes


@contextlib.contextmanager
def whole_strings(renderer: Any) -> Iterator[bool]:
    """While drawing, have an Agg ``renderer`` measure and draw plain text a line at a time.

    Args:
        renderer: the renderer a ``Figure.draw`` is given.

    Yields:
        Whether the whole-line drawing is in use (False: matplotlib draws as usual).
    """
    if (not AVAILABLE or type(renderer) is not RendererAgg
            or {"draw_text", "get_text_width_height_descent"} & vars(renderer).keys()):
        yield False
        return
    glyph_by_glyph, measure = renderer.draw_text, renderer.get_text_width_height_descent

    def draw_text(gc: Any, x: float, y: float, s: str, prop: Any, angle: float,
                  ismath: Any = False, mtext: Any = None) -> None:
        if not draw_line(renderer, gc, x, y, s, prop, angle, ismath, mtext):
            glyph_by_glyph(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

    def get_text_width_height_descent(s: str, prop: Any, ismath: Any) -> tuple:
        line = measured(s, prop, renderer.dpi) if ismath is False else None
        if line is None:
            return measure(s, prop, ismath)
        return line.width / 64.0, line.height / 64.0, line.descent / 64.0

    renderer.draw_text = draw_text
    renderer.get_text_width_height_descent = get_text_width_height_descent
    try:
        yield True
    finally:
        del renderer.draw_text, renderer.get_text_width_height_descent


def _font_path(prop: Any) -> str | None:
    """The file Agg would draw ``prop`` with first, or None (see :func:`measured`)."""
    if len(prop.get_family()) != 1:
        return None
    # Asked as Agg asks for its first font. The size is left out of the question: every
    # font findfont weighs for text is scalable, and a size of its own would cost a new
    # search of all the machine's fonts (a few milliseconds) for every size drawn.
    sized = prop.copy()
    sized.set_size(10.0)
    try:
        return font_manager.findfont(sized, fallback_to_default=False)
    except ValueError:  # no such family here: matplotlib falls back to its default font
        return None


def _set_text(font: Any, s: str, size: float, dpi: float) -> tuple[int, int, int]:
    """Lay ``s`` out on ``font`` (shared with matplotlib: call under ``_lock``)."""
    font.clear()
    font.set_size(size, dpi)
    font.set_text(s, 0, flags=get_hinting_flag())
    width, height = font.get_width_height()
    return width, height, font.get_descent()


def measured(s: str, prop: Any, dpi: float) -> Line | None:
    """One line of plain text measured as Agg measures it, from the cache if it is there.

    Args:
        s: the line (no newline).
        prop: its ``FontProperties``.
        dpi: the renderer's resolution.

    Returns:
        The line, or None when matplotlib must lay it out itself: more than one font
        family, a family this machine lacks, or a character the font lacks.
    """
    path = _font_path(prop)
    if path is None:
        return None
    size = prop.get_size_in_points()
    key = LineKey(s, path, size, dpi, get_hinting_flag(),
                  matplotlib.rcParams["text.hinting_factor"],
                  matplotlib.rcParams["text.kerning_factor"])
    with _lock:
        if key in _lines:
            _lines.move_to_end(key)
            return _lines[key]
    font = font_manager.get_font(path)
    line = None
    if all(font.get_char_index(ord(c)) for c in s):
        with _lock:
            line = Line(*_set_text(font, s, size, dpi), key=key)
    with _lock:
        _lines[key] = line
        _evict()
    return line


def _simple(s: str) -> bool:
    """Text that needs no shaping: no combining mark, no joiner or direction control, no
    right-to-left script (only Latin, Greek, Cyrillic, punctuation, arrows and symbols).
    Matplotlib 3.11 shapes the rest (HarfBuzz): it is left to matplotlib."""
    return all((ord(c) < 0x0590 or 0x2000 <= ord(c) < 0x2C00)
               and unicodedata.category(c)[0] != "M" and unicodedata.category(c) != "Cf"
               for c in s)


def _drawn(line: Line) -> Line | None:
    """``line`` with its bitmap, laid out behind a space (see the module's docstring), or
    None: text that needs shaping, a font without a space, or a glyph that hangs left of
    the space (where the first glyph would again land apart from the rest)."""
    global _bytes
    if line.drawable is None:
        key = line.key
        font = font_manager.get_font(key.font_path)
        cover, offset = None, 0
        if _simple(key.text) and font.get_char_index(ord(" ")):
            with _lock:
                width, height, descent = _set_text(font, " " + key.text, key.size, key.dpi)
                offset = font.get_bitmap_offset()[0]
                if offset == 0:
                    font.draw_glyphs_to_bitmap(antialiased=True)
                    cover = np.array(font.get_image())
                    line.lead, line.ascent = width - line.width, height - descent
        with _lock:
            if line.drawable is None:  # another thread may have drawn it meanwhile
                line.cover = cover
                if cover is not None and _lines.get(line.key) is line:  # still cached
                    _bytes += cover.nbytes
                line.drawable = cover is not None  # last: other threads read it first
                _evict()
    return line if line.drawable else None


def _plain(s: str, angle: float, ismath: Any, gc: Any, mtext: Any) -> bool:
    if ismath or angle % 360 or not gc.get_antialiased() or gc.get_clip_path()[0] is not None:
        return False
    for getter in ("get_fontfeatures", "get_language"):
        if mtext is not None and getattr(mtext, getter, lambda: None)():
            return False
    return True


def draw_line(renderer: Any, gc: Any, x: float, y: float, s: str, prop: Any, angle: float,
              ismath: Any = False, mtext: Any = None) -> bool:
    """Draw one line of text as a single bitmap, as ``RendererAgg.draw_text`` would.

    Args:
        renderer: an Agg renderer (``x`` from the left, ``y`` from the top, in pixels).
        gc, x, y, s, prop, angle, ismath, mtext: what ``Text.draw`` passes ``draw_text``.

    Returns:
        False, having drawn nothing, when the text is not plain (see the module's
        docstring) or :func:`measured` or :func:`_drawn` leaves it to matplotlib; True
        once it is drawn.
    """
    if not _plain(s, angle, ismath, gc, mtext):
        return False
    line = measured(s, prop, renderer.dpi)
    if line is None:
        return False
    line = _drawn(line)
    if line is None:
        return False
    # The space's empty box puts the bitmap's first column on the layout's pen origin, its
    # baseline on row ascent // 64 + 1; the line's own pen starts ``lead`` further right.
    top = round(y) - line.ascent // 64 - 1  # rows count from the top here
    left = round(x - line.lead / 64)
    rgba = tuple(gc.get_rgb())
    alpha = gc.get_alpha() if len(rgba) == 3 or gc.get_forced_alpha() else rgba[3]
    image = np.empty((*line.cover.shape, 4), np.uint8)
    image[..., :3] = [round(255 * c) for c in rgba[:3]]
    image[..., 3] = line.cover if alpha >= 1 else np.rint(line.cover * alpha)
    # draw_image counts rows from the bottom, and wants the bitmap's bottom row first.
    renderer.draw_image(gc, left, renderer.height - top - line.cover.shape[0], image[::-1])
    return True
