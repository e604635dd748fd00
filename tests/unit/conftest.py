"""Unit tests draw with matplotlib's Agg backend: no display, same output everywhere.

Only this process switches backend: no MPLBACKEND in the environment, which the
notebook kernels started later in the same run (nbval, the browser tests) would
inherit, and then show no figures.
"""

import matplotlib

matplotlib.use("Agg")
