"""Readers of drawn figures for the figure tests: scatters, error bars, markers, whiskers, text.

Shared by test_analysis_figures and test_figure_labels, which compare what a figure drew
from a hand-made `Result` with the numbers and names it holds.
"""

import numpy as np
from matplotlib.collections import PathCollection
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure


def _scatters(ax) -> list[PathCollection]:
    return [c for c in ax.collections if isinstance(c, PathCollection)]


def _errorbars(ax) -> list[ErrorbarContainer]:
    return [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


def _marker(bar: ErrorbarContainer) -> tuple[np.ndarray, np.ndarray]:
    """The (x, y) of an error bar's markers."""
    line = bar.lines[0]
    return np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)


def _whisker_ends(bar: ErrorbarContainer) -> list[tuple[float, float]]:
    """Each whisker's two ends along its direction (x for xerr, y for yerr)."""
    (segments,) = [c.get_segments() for c in bar.lines[2]]
    vertical = bool(bar.has_yerr)
    return [tuple(sorted(float(p[int(vertical)]) for p in seg)) for seg in segments]


def _texts(fig: Figure) -> str:
    return " ".join(
        " ".join(t.get_text().split()) for t in fig.findobj(lambda a: hasattr(a, "get_text"))
    )
