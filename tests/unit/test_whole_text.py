"""Course figures draw a line of text as one bitmap, and it looks as matplotlib draws it
(issue 14).

The oracle is matplotlib itself: the same figure drawn glyph by glyph (the whole-line path
switched off) must put the same ink in the same place, in the same colour. Glyphs sit on
whole pixels in one and on sub-pixels in the other, so the comparison allows what that
moves (anti-aliased edges), not more: a line one pixel off, upside down or in another
colour fails it.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.backends.backend_svg import RendererSVG
from matplotlib.font_manager import FontProperties
from matplotlib.text import Text

from course_helpers.figures import wholetext
from course_helpers.figures.scene import SizedFigure

#: Text as course figures set it: (text, Figure.text keywords).
SAMPLES = [
    ("eth0@if18 ↔ veth4dd59e6@if2", {"fontsize": 6.5, "family": "monospace"}),
    ("docker0", {"fontsize": 9.4, "weight": "bold"}),
    ("172.17.0.1/16\nIPv6 link-local only", {"fontsize": 8.1, "color": "#222222", "va": "top"}),
    ("master", {"fontsize": 8.1, "style": "italic", "ha": "center", "va": "center"}),
    ("Docker", {"fontsize": 7, "color": "#D55E00", "weight": "bold", "ha": "right"}),
    ("recorded on Docker Engine 28.5.2", {"fontsize": 7, "color": "#0072B2", "alpha": 0.6}),
    ("Who can ping which address", {"fontsize": 12, "weight": "bold", "va": "baseline"}),
]


#: Whether this matplotlib has the whole-line calls (before any test switches them off).
INSTALLED = wholetext.AVAILABLE


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def drawn(whole: bool, samples=SAMPLES, monkeypatch=None) -> tuple[np.ndarray, list]:
    """RGB pixels of a SizedFigure with one sample per row, and each text's pixel box."""
    monkeypatch.setattr(wholetext, "AVAILABLE", whole and INSTALLED)
    fig = plt.figure(figsize=(4.3, 0.45 * len(samples)), FigureClass=SizedFigure)
    texts = [fig.text(0.5 if kw.get("ha") else 0.04, 1 - (i + 0.55) / len(samples) + 0.003 * i,
                      s, **kw) for i, (s, kw) in enumerate(samples)]
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(float)
    height = pixels.shape[0]
    boxes = []
    for text in texts:
        box = text.get_window_extent()
        boxes.append((slice(int(height - box.y1) - 3, int(height - box.y0) + 4),
                      slice(int(box.x0) - 3, int(box.x1) + 4)))
    return pixels, boxes


def ink(crop: np.ndarray) -> np.ndarray:
    return 255 - crop.mean(axis=2)


def centroid(weights: np.ndarray) -> np.ndarray:
    rows, cols = np.indices(weights.shape)
    return np.array([(rows * weights).sum(), (cols * weights).sum()]) / weights.sum()


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # no CJK font installed
def test_course_text_is_drawn_a_line_at_a_time(monkeypatch):
    """The installed matplotlib has the whole-line calls, and plain text takes that path:
    matplotlib's own ``draw_text`` is only called for what the module leaves to it."""
    assert INSTALLED, "this matplotlib's FT2Font lacks the whole-line calls"
    calls: list[str] = []
    glyph_by_glyph = RendererAgg.draw_text

    def counted(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        calls.append(s)
        return glyph_by_glyph(self, gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

    monkeypatch.setattr(RendererAgg, "draw_text", counted)
    fig = plt.figure(figsize=(4, 2), FigureClass=SizedFigure)
    fig.text(0.1, 0.8, "docker0 172.17.0.1/16")
    fig.text(0.1, 0.6, "two lines\nof plain text", family="monospace")
    fig.text(0.1, 0.4, "网络模式")  # DejaVu has no CJK: matplotlib picks a fallback font
    fig.text(0.1, 0.2, "rotated", rotation=30)
    fig.text(0.6, 0.2, r"$\alpha^2$")
    fig.canvas.draw()
    assert calls == ["网络模式", "rotated", r"$\alpha^2$"]
    assert "draw_text" not in vars(fig.canvas.get_renderer()), "the renderer is left as it was"


def test_a_learners_own_figure_is_drawn_by_matplotlib(monkeypatch):
    calls: list[str] = []
    glyph_by_glyph = RendererAgg.draw_text
    monkeypatch.setattr(RendererAgg, "draw_text", lambda self, gc, x, y, s, *a, **k: (
        calls.append(s), glyph_by_glyph(self, gc, x, y, s, *a, **k)))
    fig = plt.figure(figsize=(3, 1))
    fig.text(0.1, 0.5, "a learner's figure")
    fig.canvas.draw()
    assert calls == ["a learner's figure"]


def test_a_line_drawn_whole_puts_the_same_ink_in_the_same_place(monkeypatch):
    by_glyph, boxes = drawn(False, monkeypatch=monkeypatch)
    whole, _ = drawn(True, monkeypatch=monkeypatch)
    for (text, _), box in zip(SAMPLES, boxes, strict=True):
        a, b = by_glyph[box], whole[box]
        ink_a, ink_b = ink(a), ink(b)
        assert ink_a.sum() > 0, text
        shift = centroid(ink_b) - centroid(ink_a)
        assert np.abs(shift).max() < 0.6, (text, "moved by", shift)
        assert abs(ink_b.sum() / ink_a.sum() - 1) < 0.05, (text, "more or less ink")
        # The text's colour: how its ink darkens each channel (the strokes' sharpness aside).
        hue_a, hue_b = ((255 - c).sum(axis=(0, 1)) / (255 - c).sum() for c in (a, b))
        assert np.abs(hue_a - hue_b).max() < 0.02, (text, "colour", hue_a, hue_b)
        za, zb = ink_a - ink_a.mean(), ink_b - ink_b.mean()
        assert (za * zb).sum() / np.sqrt((za ** 2).sum() * (zb ** 2).sum()) > 0.7, (text, "shape")


def test_other_renderers_and_nested_draws_keep_matplotlibs_text():
    svg = RendererSVG(100, 100, io.StringIO())
    with wholetext.whole_strings(svg) as used:
        assert used is False and "draw_text" not in vars(svg)
    agg = RendererAgg(100, 100, 72)
    with wholetext.whole_strings(agg) as used, wholetext.whole_strings(agg) as again:
        assert used is True and again is False
    assert "draw_text" not in vars(agg)


def test_the_renderer_is_restored_when_a_draw_fails():
    agg = RendererAgg(100, 100, 72)
    with pytest.raises(RuntimeError), wholetext.whole_strings(agg):
        raise RuntimeError("a drawing failed")
    assert "draw_text" not in vars(agg)


@pytest.mark.parametrize("dpi", [72, 100, 200])
def test_lines_measure_exactly_as_agg_measures_them(dpi):
    """Measures decide every layout: the cached ones are Agg's own, to the last bit."""
    from matplotlib.font_manager import FontProperties
    agg = RendererAgg(400, 100, dpi)
    props = [FontProperties(size=size, weight=weight, style=style, family=family)
             for size in (6.5, 8.125, 9.375, 12) for weight in ("normal", "bold")
             for style in ("normal", "italic") for family in ("sans-serif", "monospace")]
    lines = ["docker0", "eth0@if18 ↔ veth4dd59e6@if2", "lp", "Wj/1…", " ", ""]
    with wholetext.whole_strings(agg):
        ours = [agg.get_text_width_height_descent(s, p, False) for p in props for s in lines]
    theirs = [agg.get_text_width_height_descent(s, p, False) for p in props for s in lines]
    assert ours == theirs


def test_course_figures_lay_out_as_matplotlib_lays_them_out(monkeypatch):
    """Every text of every course figure ends up where matplotlib alone would put it."""
    from test_speed_figures import every_course_figure

    def extents(whole: bool) -> dict[str, list]:
        monkeypatch.setattr(wholetext, "AVAILABLE", whole and INSTALLED)
        found = {}
        for name, fig in every_course_figure().items():
            fig.canvas.draw()
            renderer = fig.canvas.get_renderer()
            found[name] = [tuple(t.get_window_extent(renderer).bounds)
                           for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
            plt.close(fig)
        return found

    assert extents(True) == extents(False)


def first_glyph_columns(monkeypatch, whole: bool, texts: list[str], dpi: int) -> list[float]:
    """Where each text's first glyph's ink is (a centroid, in pixels), each text drawn at
    eight positions an eighth of a pixel apart."""
    monkeypatch.setattr(wholetext, "AVAILABLE", whole and INSTALLED)
    rows = [(text, 0.1 + k / (8 * 4.0 * dpi)) for text in texts for k in range(8)]
    fig = plt.figure(figsize=(4.0, 0.3 * len(rows)), dpi=dpi, FigureClass=SizedFigure)
    drawn = [fig.text(x, 1 - (i + 0.7) / len(rows), text, fontsize=10)
             for i, (text, x) in enumerate(rows)]
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(float)
    height, found = pixels.shape[0], []
    for text in drawn:
        box = text.get_window_extent()
        first = ink(pixels[int(height - box.y1) - 3:int(height - box.y0) + 4,
                           int(box.x0) - 3:int(box.x0) + 3 + int(dpi * 0.06)])
        found.append(centroid(first)[1])
    plt.close(fig)
    return found


@pytest.mark.parametrize("dpi", [100, 200])
def test_no_glyph_is_pushed_aside_wherever_a_line_starts(monkeypatch, dpi):
    """FreeType's whole-line bitmap puts a line's first glyph a pixel right of the rest
    when the ink starts at a fraction of a pixel; laid out behind a space, it does not.
    Single glyphs and the start of 'mm' and 'Ill' at eight sub-pixel positions: no bias,
    and never more than the half pixel that placing a line on a whole pixel costs."""
    texts = ["W", "|", "1", "mm", "Ill"]
    theirs = first_glyph_columns(monkeypatch, False, texts, dpi)
    ours = first_glyph_columns(monkeypatch, True, texts, dpi)
    shifts = np.subtract(ours, theirs)
    assert abs(shifts.mean()) < 0.2, f"biased by {shifts.mean():+.2f} px"
    assert np.abs(shifts).max() <= 0.75, f"moved by up to {np.abs(shifts).max():.2f} px"


CMMI10 = Path(matplotlib.get_data_path(), "fonts", "ttf", "cmmi10.ttf")


@pytest.mark.parametrize("case", [
    "not anti-aliased", "clipped to a shape", "font features", "right to left",
    "a combining mark", "a glyph hanging left of the space"])
def test_what_matplotlib_draws_differently_is_left_to_it(monkeypatch, case):
    calls: list[str] = []
    glyph_by_glyph = RendererAgg.draw_text
    monkeypatch.setattr(RendererAgg, "draw_text", lambda self, gc, x, y, s, *a, **k: (
        calls.append(s), glyph_by_glyph(self, gc, x, y, s, *a, **k)))
    fig = plt.figure(figsize=(3, 3), FigureClass=SizedFigure)
    text = {"clipped to a shape": "clipped text running out", "not anti-aliased": "jagged",
            "font features": "ligatures", "right to left": "שלום eth0",
            "a combining mark": "e\u0301th0", "a glyph hanging left of the space": "pjx"}[case]
    if case == "clipped to a shape":
        ax = fig.add_subplot(projection="polar")  # the axes clip to a circle
        ax.text(0, 0.9, text, clip_on=True)
    elif case == "not anti-aliased":
        fig.text(0.1, 0.5, text, antialiased=False)
    elif case == "font features":
        fig.text(0.1, 0.5, text, fontfeatures=["-liga"])
    elif case == "a glyph hanging left of the space":
        fig.text(0.1, 0.5, text, fontproperties=FontProperties(fname=CMMI10, size=20))
    else:
        fig.text(0.1, 0.5, text)
    fig.canvas.draw()
    assert calls == [text]


def test_the_cache_keeps_to_its_byte_budget(monkeypatch):
    monkeypatch.setattr(wholetext, "CACHE_BYTES", 200_000)
    wholetext.clear_cache()
    fig = plt.figure(figsize=(12, 8), dpi=200, FigureClass=SizedFigure)
    for i in range(40):  # 40 lines of 120 characters at 200 dpi: about 35 kB a bitmap
        fig.text(0.01, 1 - (i + 1) / 41, f"{i:03d} " + "veth4dd59e6@if2 " * 7, fontsize=7)
    fig.canvas.draw()
    lines, size = wholetext.cache_size()
    assert 0 < size <= 200_000 and lines < 40 * 2, (lines, size)
    wholetext.clear_cache()
    assert wholetext.cache_size() == (0, 0)


def test_a_change_of_font_settings_is_followed(monkeypatch):
    """The cache is keyed by the font file: another font for 'sans-serif' measures and
    draws in that font, as matplotlib would."""
    def ink_columns(whole: bool) -> tuple[int, int]:
        monkeypatch.setattr(wholetext, "AVAILABLE", whole and INSTALLED)
        fig = plt.figure(figsize=(3, 0.5), FigureClass=SizedFigure)
        fig.text(0.05, 0.3, "docker0 172.17.0.1/16")
        fig.canvas.draw()
        columns = np.nonzero(ink(np.asarray(fig.canvas.buffer_rgba())[..., :3]
                                 .astype(float)).sum(axis=0))[0]
        plt.close(fig)
        return columns[0], columns[-1]

    ink_columns(True)  # cached in the usual font
    with matplotlib.rc_context({"font.sans-serif": ["DejaVu Sans Mono"]}):
        mono_whole, mono_theirs = ink_columns(True), ink_columns(False)
    assert abs(mono_whole[1] - mono_theirs[1]) <= 1, (mono_whole, mono_theirs)


def test_course_figures_drawn_from_two_threads_leave_the_settings_as_they_were():
    """SizedFigure.draw switches hinting off in the process's rcParams while it draws; two
    threads drawing at once must not restore each other's value (hinting off for good)."""
    import threading
    before = matplotlib.rcParams["text.hinting"]
    figs = []
    for _ in range(2):
        fig = plt.figure(figsize=(3, 2), FigureClass=SizedFigure)
        for i in range(20):
            fig.text(0.05, i / 20, f"line {i} eth0@if{i}", fontsize=6)
        figs.append(fig)

    def draw(fig) -> None:
        for _ in range(15):
            fig.canvas.draw()

    threads = [threading.Thread(target=draw, args=(fig,)) for fig in figs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert matplotlib.rcParams["text.hinting"] == before
