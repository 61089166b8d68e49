"""Chart text from data shown as text: plotly renders <b>, <a href>, <span style> in labels.

`plain_figure(fig)` escapes the data-bearing text of every trace (categories, texts, hover
texts, legend names, custom data) as HTML entities, which plotly shows as the characters
themselves. Titles and axis labels written by the product keep their markup.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_TRACE_FIELDS = ("x", "y", "text", "hovertext", "labels", "parents", "customdata")


def plain_chart_text(value):
    """A text value with &, < and > as entities; anything else unchanged."""
    return value.translate(_HTML) if isinstance(value, str) else value


def _plain_values(values):
    if values is None or isinstance(values, str | int | float):
        return plain_chart_text(values)
    arr = np.asarray(values, dtype=object)
    if not any(isinstance(v, str) for v in arr.ravel()):
        return values
    return np.vectorize(plain_chart_text, otypes=[object])(arr)


def plain_figure(fig: go.Figure) -> go.Figure:
    """Escape the data text of every trace (and category orders) in place; returns `fig`."""
    for trace in fig.data:
        updates = {}
        for field in _TRACE_FIELDS:
            if field in trace and trace[field] is not None:
                updates[field] = _plain_values(trace[field])
        if "name" in trace and isinstance(trace.name, str):
            updates["name"] = plain_chart_text(trace.name)
        trace.update(updates)
    for axis in ("xaxis", "yaxis"):
        ax = fig.layout[axis]
        if ax.categoryarray is not None:
            ax.categoryarray = list(_plain_values(ax.categoryarray))
    return fig
