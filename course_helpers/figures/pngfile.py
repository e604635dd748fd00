"""The PNG a notebook shows of a course figure, written in one pass (issue 14).

Introduced with chapter 01's interface map and used for every course figure the notebook
shows (:func:`~course_helpers.figures.scene.show_uncropped` asks for it). Matplotlib hands
its pixels to Pillow, whose PNG encoder tries five filters on every row and keeps the best:
for a course figure that search took longer than compressing (about 25 of 43 ms for
chapter 03's largest figure). Flat drawings compress as well with one filter for every
row, "Up" (each byte minus the byte above it), computed here with numpy; zlib then
compresses the rows. The pixels are exactly matplotlib's, the file a little smaller.

The format is registered with matplotlib as ``coursepng`` (similar to ``fig.savefig(f,
format="png")``), so the notebook's own printer asks for it through matplotlib's usual
``print_figure``. A learner's ``savefig`` is not touched.
"""

from __future__ import annotations

import struct
import zlib
from typing import IO, Any

import numpy as np
from matplotlib.backend_bases import register_backend
from matplotlib.backends.backend_agg import FigureCanvasAgg

#: The format name matplotlib knows this writer by.
FORMAT = "coursepng"
#: zlib's level. At 4 a course figure is about 13% smaller than matplotlib's own PNG, and
#: written in half the time or less (chapter 03's largest: 25 ms, Pillow 43 ms at level 3).
LEVEL = 4
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_UP = 2  # PNG filter type 2: each byte minus the one above it
_STRIP = 256  # rows filtered and compressed at a time


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data))


def encode(rgba: np.ndarray, dpi: float | None = None) -> bytes:
    """A PNG file of an RGBA image.

    Args:
        rgba: height x width x 4 bytes, as ``FigureCanvasAgg.buffer_rgba()`` gives them.
        dpi: stored as the image's resolution (``pHYs``) when given.

    Returns:
        The file's bytes: 8-bit RGBA, every row filtered "Up".

    Raises:
        ValueError: the image is empty (as matplotlib's own PNG writer says).
    """
    height, width, _ = rgba.shape
    if not height or not width:
        raise ValueError("cannot write empty image")
    rows = np.asarray(rgba, np.uint8).reshape(height, width * 4)
    deflate = zlib.compressobj(LEVEL)
    data = []
    for start in range(0, height, _STRIP):  # a strip at a time: memory stays small
        strip = rows[start:start + _STRIP]
        filtered = np.empty((len(strip), width * 4 + 1), np.uint8)
        filtered[:, 0] = _UP
        above = rows[start - 1] if start else 0  # above the first row: zeros
        np.subtract(strip[0], above, out=filtered[0, 1:], casting="unsafe")
        np.subtract(strip[1:], strip[:-1], out=filtered[1:, 1:])  # modulo 256, as PNG wants
        data.append(deflate.compress(filtered.tobytes()))
    data.append(deflate.flush())
    head = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits, RGBA
    chunks = [_chunk(b"IHDR", head)]
    if dpi:
        per_metre = round(dpi / 0.0254)
        chunks.append(_chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)))
    chunks.append(_chunk(b"IDAT", b"".join(data)))
    chunks.append(_chunk(b"IEND", b""))
    return _SIGNATURE + b"".join(chunks)


class FigureCanvasCoursePng(FigureCanvasAgg):
    """Agg's canvas, able to write :data:`FORMAT`: Agg's pixels, :func:`encode`'s file."""

    def print_coursepng(self, filename_or_obj: str | IO[bytes], **kwargs: Any) -> None:
        """Draw the figure and write it as PNG, as ``print_png`` would.

        Args:
            filename_or_obj: a path or a binary file object.
            **kwargs: what ``print_figure`` passes on (colours and dpi are already set on
                the figure by then; ``metadata`` and ``pil_kwargs`` are not written).
        """
        FigureCanvasAgg.draw(self)
        data = encode(np.asarray(self.buffer_rgba()), self.figure.dpi)
        if hasattr(filename_or_obj, "write"):
            filename_or_obj.write(data)
        else:
            with open(filename_or_obj, "wb") as file:
                file.write(data)


FigureCanvas = FigureCanvasCoursePng  # what matplotlib looks for in a backend module
register_backend(FORMAT, __name__, "PNG, one filter for every row (course figures)")
