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
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from matplotlib import font_manager
from matplotlib.backends.backend_agg import RendererAgg, get_hinting_flag
from matplotlib.ft2font import FT2Font

#: FT2Font's whole-line calls; without them, text is left to matplotlib.
WHOLE_LINE_CALLS = ("set_text", "draw_glyphs_to_bitmap", "get_image", "get_bitmap_offset",
                    "get_width_height", "get_descent")
AVAILABLE = all(hasattr(FT2Font, name) for name in WHOLE_LINE_CALLS)


@contextlib.contextmanager
def whole_strings(renderer: Any) -> Iterator[bool]:
    """While drawing, have an Agg ``renderer`` draw plain text a whole line at a time.

    Args:
        renderer: the renderer a ``Figure.draw`` is given.

    Yields:
        Whether the whole-line drawing is in use (False: matplotlib draws as usual).
    """
    if not AVAILABLE or type(renderer) is not RendererAgg or "draw_text" in vars(renderer):
        yield False
        return
    glyph_by_glyph = renderer.draw_text

    def draw_text(gc: Any, x: float, y: float, s: str, prop: Any, angle: float,
                  ismath: Any = False, mtext: Any = None) -> None:
        if not draw_line(renderer, gc, x, y, s, prop, angle, ismath, mtext):
            glyph_by_glyph(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

    renderer.draw_text = draw_text
    try:
        yield True
    finally:
        del renderer.draw_text


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
        False, having drawn nothing, when the text is not plain (see the module's
        docstring) or its font lacks one of its characters; True once it is drawn.
    """
    if not _plain(s, angle, ismath, mtext) or len(prop.get_family()) != 1:
        return False
    try:  # asked as Agg asks for its first font, so that both share findfont's cache
        path = font_manager.findfont(prop, fallback_to_default=False)
    except ValueError:  # no such family here: matplotlib falls back to its default font
        return False
    font = font_manager.get_font(path)
    if any(font.get_char_index(ord(c)) == 0 for c in s):
        return False
    font.clear()
    font.set_size(prop.get_size_in_points(), renderer.dpi)
    font.set_text(s, 0, flags=get_hinting_flag())
    font.draw_glyphs_to_bitmap(antialiased=gc.get_antialiased())
    cover = np.asarray(font.get_image())
    if not cover.size:
        return True
    # FreeType measures in 26.6 fixed point (64ths of a pixel). The bitmap's baseline is its
    # row ascent // 64 + 1 (ascent: the ink's height above the baseline), and its glyphs
    # start ceil(xo / 64) pixels right of the pen (xo: where the ink starts).
    xo, _ = font.get_bitmap_offset()
    ascent = font.get_width_height()[1] - font.get_descent()
    top = round(y) - ascent // 64 - 1  # rows count from the top here
    left = round(x) + math.ceil(xo / 64)
    rgba = tuple(gc.get_rgb())
    alpha = gc.get_alpha() if len(rgba) == 3 or gc.get_forced_alpha() else rgba[3]
    image = np.empty((*cover.shape, 4), np.uint8)
    image[..., :3] = [round(255 * c) for c in rgba[:3]]
    image[..., 3] = cover if alpha >= 1 else np.rint(cover * alpha)
    # draw_image counts rows from the bottom, and wants the bitmap's bottom row first.
    renderer.draw_image(gc, left, renderer.height - top - cover.shape[0], image[::-1])
    return True
