"""Unit tests draw with matplotlib's Agg backend: no display, same output everywhere."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
