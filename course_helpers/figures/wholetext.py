"""Text of a course figure drawn one string at a time, not one glyph at a time (issue 14).

Introduced with chapter 01's interface map and used by every course figure
(:class:`~course_helpers.figures.scene.SizedFigure` draws through it). Matplotlib 3.11's
Agg renderer draws each glyph by itself: a few Python calls per glyph, for a course figure
a few thousand glyphs, about a third of its drawing time. FreeType can lay out and render a
whole line into one bitmap (``FT2Font.set_text`` and ``draw_glyphs_to_bitmap``, what Agg
did up to matplotlib 3.10); that bitmap is then put on the canvas with the renderer's
public ``draw_image``, in the text's colour. Glyphs sit on whole pixels (3.11 places each
one to the sub-pixel), so a letter may move by up to one pixel; shapes, sizes and
colours are matplotlib's own.

Anything this does not cover is left to matplotlib as it is: mathtext, rotated text,
text with OpenType features or a language set, text in more than one font family or in
a family this machine lacks, a character the font lacks (matplotlib then falls back to
another font), a renderer other than Agg (PDF, SVG), or a matplotlib
whose ``FT2Font`` no longer has the whole-line calls.

A line is laid out once: measuring it (``get_text_width_height_descent``, which every text
needs before it is drawn) keeps its bitmap for the drawing, in a small cache shared by the
figures of a kernel (the same names and addresses recur from figure to figure). The
measures are FreeType's, computed as Agg computes them, so the layout does not change.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.backends.backend_agg import RendererAgg, get_hinting_flag
from matplotlib.ft2font import FT2Font

#: FT2Font's whole-line calls; without them, text is left to matplotlib.
WHOLE_LINE_CALLS = ("set_text", "draw_glyphs_to_bitmap", "get_image", "get_bitmap_offset",
                    "get_width_height", "get_descent")
AVAILABLE = all(hasattr(FT2Font, name) for name in WHOLE_LINE_CALLS)


#: Lines kept laid out (a bitmap of a line is a few kilobytes).
CACHE_SIZE = 1024


@dataclass(frozen=True)
class Line:
    """One line of text laid out by FreeType (lengths in 64ths of a pixel, as FreeType's).

    Attributes:
        width, height, descent: what Agg's ``get_text_width_height_descent`` reports.
        cover: the anti-aliased bitmap of the whole line (0-255 per pixel).
        ink_left: where the ink starts, right of the pen (``get_bitmap_offset``).
    """

    width: int
    height: int
    descent: int
    cover: np.ndarray
    ink_left: int


_lines: OrderedDict[tuple, Line | None] = OrderedDict()
_lock = threading.Lock()


@contextlib.contextmanager
def whole_strings(renderer: Any) -> Iterator[bool]:
    """While drawing, have an Agg ``renderer`` lay out and draw plain text a line at a time.

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
        line = laid_out(s, prop, renderer.dpi) if ismath is False else None
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
    """The file Agg would draw ``prop`` with first, or None (see :func:`laid_out`)."""
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


def laid_out(s: str, prop: Any, dpi: float) -> Line | None:
    """One line of plain text laid out as Agg lays it out, from the cache if it is there.

    Args:
        s: the line (no newline).
        prop: its ``FontProperties``.
        dpi: the renderer's resolution.

    Returns:
        The line, or None when matplotlib must lay it out itself: more than one font
        family, a family this machine lacks, or a character the font lacks.
    """
    key = (s, tuple(prop.get_family()), prop.get_style(), prop.get_variant(), prop.get_weight(),
           prop.get_stretch(), prop.get_file(), prop.get_size_in_points(), dpi,
           get_hinting_flag(), matplotlib.rcParams["text.hinting_factor"],
           matplotlib.rcParams["text.kerning_factor"])
    with _lock:
        if key in _lines:
            _lines.move_to_end(key)
            return _lines[key]
    line = None
    path = _font_path(prop)
    font = font_manager.get_font(path) if path is not None else None
    if font is not None and all(font.get_char_index(ord(c)) for c in s):
        with _lock:  # the FT2Font is shared with matplotlib: lay out and read in one go
            font.clear()
            font.set_size(prop.get_size_in_points(), dpi)
            font.set_text(s, 0, flags=get_hinting_flag())
            font.draw_glyphs_to_bitmap(antialiased=True)
            width, height = font.get_width_height()
            line = Line(width, height, font.get_descent(), np.array(font.get_image()),
                        font.get_bitmap_offset()[0])
    with _lock:
        _lines[key] = line
        while len(_lines) > CACHE_SIZE:
            _lines.popitem(last=False)
    return line


def _plain(s: str, angle: float, ismath: Any, mtext: Any) -> bool:
    if ismath or angle % 360:
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
        False, having drawn nothing, when the text is not plain or not anti-aliased (see
        the module's docstring) or :func:`laid_out` leaves it to matplotlib; True once it
        is drawn.
    """
    if not _plain(s, angle, ismath, mtext) or not gc.get_antialiased():
        return False
    line = laid_out(s, prop, renderer.dpi)
    if line is None:
        return False
    if not line.cover.size:
        return True
    # FreeType measures in 26.6 fixed point (64ths of a pixel). The bitmap's baseline is its
    # row ascent // 64 + 1 (ascent: the ink's height above the baseline), and its glyphs
    # start ceil(ink_left / 64) pixels right of the pen.
    top = round(y) - (line.height - line.descent) // 64 - 1  # rows count from the top here
    left = round(x) + math.ceil(line.ink_left / 64)
    rgba = tuple(gc.get_rgb())
    alpha = gc.get_alpha() if len(rgba) == 3 or gc.get_forced_alpha() else rgba[3]
    image = np.empty((*line.cover.shape, 4), np.uint8)
    image[..., :3] = [round(255 * c) for c in rgba[:3]]
    image[..., 3] = line.cover if alpha >= 1 else np.rint(line.cover * alpha)
    # draw_image counts rows from the bottom, and wants the bitmap's bottom row first.
    renderer.draw_image(gc, left, renderer.height - top - line.cover.shape[0], image[::-1])
    return True
