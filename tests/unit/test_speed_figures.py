"""Course figures are shown uncropped, in one drawing pass, and nothing they draw is cut (issue 14).

IPython's inline backend saves a figure with ``bbox_inches="tight"``: a whole drawing pass
to measure it before the real one. Course figures are sized to what they draw, so they are
shown at their own size; these tests check that the notebook's printer does so, that the
learner's own figures keep the usual crop, and that every text of every course figure lies
inside the figure (what the crop used to guarantee).
"""

from __future__ import annotations

import base64
import io

import matplotlib
import matplotlib.pyplot as plt
import pytest
from IPython.core.formatters import DisplayFormatter
from IPython.core.pylabtools import select_figure_formats
from matplotlib.figure import Figure
from PIL import Image
from test_architecture import INFO, VERSION
from test_plots import HOST, all_modes, snapshot
from test_reach import pg

from course_helpers import figures, parse_ip_addr
from course_helpers.architecture import ProcessChain, stack_from
from course_helpers.figures import pngfile
from course_helpers.figures.scene import SizedFigure, show_uncropped
from course_helpers.ipaddr import by_name
from course_helpers.reach import Ping, targets_of

matplotlib.use("Agg")


class Shell:
    """What :func:`scene.show_uncropped` reads of an IPython shell: its display formatter."""

    def __init__(self) -> None:
        self.display_formatter = DisplayFormatter()


@pytest.fixture
def shell() -> Shell:
    """A shell whose PNG printer is the inline backend's (``bbox_inches="tight"``), with the
    course's printer registered as a course figure does in a notebook."""
    fake = Shell()
    select_figure_formats(fake, {"png"}, bbox_inches="tight")
    show_uncropped(fake)
    yield fake
    plt.close("all")


def shown_size(shell: Shell, fig: Figure) -> tuple[int, int]:
    """Pixel size of the PNG the notebook would show for ``fig``."""
    data, _ = shell.display_formatter.format(fig, include={"image/png"})
    return Image.open(io.BytesIO(base64.b64decode(data["image/png"]))).size


def own_size(fig: Figure) -> tuple[int, int]:
    width, height = fig.get_size_inches() * fig.dpi
    return round(width), round(height)


def every_course_figure() -> dict[str, Figure]:
    ground = pg()
    pings = [Ping(s.role, t.role, net, ip, net in s.networks)
             for s in ground.members for t, net, ip in targets_of(ground, s)]
    stack = stack_from(VERSION, {**INFO, "IndexServerAddress": "https://index.docker.io/v1/"})
    host = parse_ip_addr(HOST)
    return {
        "interface_map": figures.interface_map(host, title="a host"),
        "bridge_with_veths": figures.bridge_with_veths(by_name(host)["docker0"], host),
        "draw_topology": figures.draw_topology(snapshot("bridge")),
        "compare_modes": figures.compare_modes(all_modes()),
        "reachability_matrix": figures.reachability_matrix(
            ["a", "b"], [[True, False], [None, True]]),
        "draw_by_address": figures.draw_by_address(ground, pings),
        "draw_architecture": figures.draw_architecture(
            stack, ProcessChain(True, parent="containerd-shim-runc-v2")),
    }


def test_course_figures_are_shown_at_their_own_size(shell):
    for name, fig in every_course_figure().items():
        assert isinstance(fig, SizedFigure), name
        shown, own = shown_size(shell, fig), own_size(fig)
        assert all(abs(a - b) <= 1 for a, b in zip(shown, own, strict=True)), (name, shown, own)


def test_a_learners_own_figure_keeps_the_usual_crop(shell):
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1])
    assert shown_size(shell, fig)[0] < own_size(fig)[0] - 10, "the crop trims the margins"


def test_the_course_printer_follows_the_backends_settings(shell):
    png = shell.display_formatter.formatters["image/png"]
    assert png.lookup_by_type(SizedFigure).keywords["bbox_inches"] is None
    assert png.lookup_by_type(SizedFigure).keywords["format"] == pngfile.FORMAT
    select_figure_formats(shell, {"svg"}, bbox_inches="tight")  # %config: SVG instead
    show_uncropped(shell)
    with pytest.raises(KeyError):
        png.lookup_by_type(SizedFigure)
    svg = shell.display_formatter.formatters["image/svg+xml"]
    assert svg.lookup_by_type(SizedFigure).keywords == {"fmt": "svg", "bbox_inches": None}


def test_outside_ipython_nothing_is_registered():
    fig = figures.interface_map(parse_ip_addr(HOST))  # pytest runs no IPython shell
    assert isinstance(fig, SizedFigure)
    plt.close(fig)


def test_nothing_a_course_figure_draws_is_cut_off():
    for name, fig in every_course_figure().items():
        renderer = fig.canvas.get_renderer()
        fig.draw(renderer)
        inside = fig.bbox.padded(1)  # one pixel of rounding
        for text in fig.findobj(matplotlib.text.Text):
            if not text.get_visible() or not text.get_text().strip():
                continue
            box = text.get_window_extent(renderer)
            assert (inside.x0 <= box.x0 and box.x1 <= inside.x1
                    and inside.y0 <= box.y0 and box.y1 <= inside.y1), (name, text.get_text())
        plt.close(fig)


def test_the_faster_png_shows_the_same_pixels_in_no_bigger_a_file(shell):
    """The PNG a course figure is shown as (:mod:`pngfile`), against matplotlib's own
    ``savefig`` PNG (Pillow's encoder)."""
    for name, fig in every_course_figure().items():
        data, _ = shell.display_formatter.format(fig, include={"image/png"})
        shown = base64.b64decode(data["image/png"])
        usual = io.BytesIO()
        fig.savefig(usual, format="png")
        pixels = [Image.open(io.BytesIO(b)).convert("RGBA").tobytes()
                  for b in (shown, usual.getvalue())]
        assert pixels[0] == pixels[1], name
        assert len(shown) <= len(usual.getvalue()) * 1.05, (name, len(shown), len(usual.getvalue()))


def test_course_figures_never_grow_data_limits_they_do_not_use():
    """Limits are set in inches, so no patch is measured for autoscaling: ``add_patch`` did
    that for every box and arrow (about a tenth of a figure's time), ``add_artist`` does not."""
    for name, fig in every_course_figure().items():
        for ax in fig.axes:
            # (a rule drawn with axvline spans one direction only: never an area)
            assert not (ax.dataLim.width > 0 and ax.dataLim.height > 0), (name, ax.dataLim)
        plt.close(fig)
