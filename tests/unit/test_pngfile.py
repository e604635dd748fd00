"""The PNG a notebook shows of a course figure (figures.pngfile): a valid file, exactly the
figure's pixels, at the notebook's resolution (issue 14).

The oracle is Pillow's decoder, an independent PNG reader: what it reads back must be the
pixels written, byte for byte.
"""

from __future__ import annotations

import base64
import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
from IPython.core.pylabtools import select_figure_formats
from PIL import Image
from test_speed_figures import Shell

from course_helpers.figures import pngfile
from course_helpers.figures.scene import SizedFigure, show_uncropped


@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (17, 31), (240, 361), (600, 5)])
def test_pillow_reads_back_exactly_the_pixels_written(shape):
    rng = np.random.default_rng(sum(shape))
    pixels = rng.integers(0, 256, (*shape, 4), dtype=np.uint8)
    pixels[: shape[0] // 2] = pixels[0]  # flat rows too, as drawings have them
    image = Image.open(io.BytesIO(pngfile.encode(pixels, dpi=100)))
    assert image.mode == "RGBA" and image.size == (shape[1], shape[0])
    assert np.array_equal(np.asarray(image), pixels)
    assert image.info["dpi"] == pytest.approx((100, 100), abs=0.01)


@pytest.mark.parametrize("shape", [(0, 5), (5, 0)])
def test_an_empty_image_is_refused_as_matplotlib_refuses_it(shape):
    with pytest.raises(ValueError, match="empty image"):
        pngfile.encode(np.zeros((*shape, 4), np.uint8))


def test_a_course_figure_saved_as_coursepng_is_the_figure_drawn(tmp_path):
    fig = plt.figure(figsize=(2, 1), FigureClass=SizedFigure)
    fig.text(0.1, 0.5, "docker0 172.17.0.1/16", color="#0072B2")
    fig.canvas.draw()
    drawn = np.asarray(fig.canvas.buffer_rgba()).copy()
    fig.savefig(tmp_path / "figure.png", format=pngfile.FORMAT, dpi=fig.dpi)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=pngfile.FORMAT, dpi=fig.dpi)
    plt.close(fig)
    assert (tmp_path / "figure.png").read_bytes() == buffer.getvalue()
    assert np.array_equal(np.asarray(Image.open(buffer)), drawn)


def test_a_retina_notebook_gets_the_figure_at_twice_the_pixels():
    shell = Shell()
    select_figure_formats(shell, {"retina"}, bbox_inches="tight")
    show_uncropped(shell)
    printer = shell.display_formatter.formatters["image/png"].lookup_by_type(SizedFigure)
    assert printer.keywords["format"] == pngfile.FORMAT
    fig = plt.figure(figsize=(2, 1), FigureClass=SizedFigure)
    fig.add_axes((0, 0, 1, 1)).text(0.1, 0.5, "retina")  # IPython shows no figure without axes
    data, metadata = printer(fig)
    plt.close(fig)
    shown = Image.open(io.BytesIO(base64.b64decode(data)))
    assert shown.size == (400, 200) and metadata == {"width": 200, "height": 100}
