"""What every figure shares: fonts sized for a projector, square image-like axes, and
building figures from plain dicts quickly.

:func:`fast_figure` is the one place that uses Plotly's unvalidated constructor
(``_validate=False``, not part of Plotly's documented API): figures rebuilt on every
edit are built that way so the edit stays live. ``tests/figures/test_layout.py``
fails if Plotly stops honouring it.
"""

from __future__ import annotations

import functools

import plotly.colors as pc
import plotly.graph_objects as go

SHOW_VALUES_MAX_SIDE = 32
"""Matrices up to this many rows and columns get their numbers printed in the cells."""

FONT_SIZE = 16
"""Base font size of figures: readable on a projector."""


@functools.lru_cache(maxsize=32)
def _named_colorscale(name: str) -> tuple:
    """A named colour scale as explicit [position, colour] stops (plotly.js knows few names)."""
    return tuple((float(p), c) for p, c in pc.get_colorscale(name))


def fast_figure(data: list[dict], layout: dict, *, frames: list[dict] | None = None) -> go.Figure:
    """A figure from plain dicts without Plotly's property validation.

    Validating a figure costs tens of milliseconds (an animation's frames, seconds).
    Named colour scales are written out as stops, since plotly.js knows only a few names.
    """
    for trace in data:
        if isinstance(trace.get("colorscale"), str):
            trace["colorscale"] = _named_colorscale(trace["colorscale"])
    spec = {"data": data, "layout": layout}
    if frames is not None:
        spec["frames"] = frames
    return go.Figure(spec, _validate=False)


def plain_colorscale(scale) -> list[list]:
    """A colour scale (a Plotly name or stops) with every colour written as ``rgb(r, g, b)``.

    Streamlit's Plotly theme marks its own colours with placeholder hex codes
    ("#000001" ... ) that its front end swaps for theme colours, whether or not
    the theme is used: inferno's and magma's first colour, "#000004", is one
    of them and turned 0 lavender. rgb() strings are left alone.
    """
    stops = pc.get_colorscale(scale) if isinstance(scale, str) else scale
    return [[float(stop), pc.convert_colors_to_same_type(color, colortype="rgb")[0][0]]
            for stop, color in stops]


def square_layout_spec(*, title: str | None, height: int | None, unit_ticks: bool = False) -> dict:
    """Layout of an image-like figure: row 0 at the top, square cells, axes on top."""
    axis = dict(showgrid=False, zeroline=False, constrain="domain")
    if unit_ticks:
        axis["dtick"] = 1
    return dict(
        title=dict(text=title, x=0.0, xanchor="left") if title else None,
        margin=dict(l=10, r=10, t=70 if title else 30, b=10),
        height=height,
        font=dict(size=FONT_SIZE),
        plot_bgcolor="white",
        hoverlabel=dict(font_size=FONT_SIZE),
        xaxis=dict(axis, side="top"),
        yaxis=dict(axis, autorange="reversed", scaleanchor="x"),
    )
