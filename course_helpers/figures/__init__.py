"""Every drawing the course makes, from data it is given (no engine is asked).

Introduced in chapter 01, which draws the host's interfaces (:func:`interface_map`);
chapter 02 draws a bridge with its veth pairs (:func:`bridge_with_veths`),
chapter 03 each network mode
(:func:`draw_topology`, :func:`compare_modes`), chapter 04 the engine's
architecture (:func:`draw_architecture`), chapter 05 who reaches whom
(:func:`reachability_matrix`, :func:`draw_by_address`). Each returns a matplotlib
``Figure`` and never calls ``plt.show()``: the notebook cell does. The scene engine
(:mod:`course_helpers.figures.scene`) lays out boxes in inches, in the Okabe-Ito
palette with a hatch, line style or label beside every colour.
"""

from .architecture import SOURCE_ARCHITECTURE, draw_architecture, live_boxes
from .reachability import draw_by_address, reachability_matrix
from .topology import bridge_with_veths, compare_modes, draw_topology, interface_map, mode_facts

__all__ = [
    "SOURCE_ARCHITECTURE",
    "bridge_with_veths",
    "compare_modes",
    "draw_architecture",
    "draw_by_address",
    "draw_topology",
    "interface_map",
    "live_boxes",
    "mode_facts",
    "reachability_matrix",
]
