"""Tests for cnnviz.figures.layout: the fenced fast constructor still skips Plotly's validation."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import pytest

from cnnviz.core.palette import SIGNED_COLORSCALE
from cnnviz.figures.layout import fast_figure, plain_colorscale


def test_fast_figure_skips_validation():
    """A value Plotly would refuse passes: the constructor really does not validate.

    If this fails, Plotly changed ``_validate``: figures rebuilt on every edit would
    slow down by tens of milliseconds (see the module's docstring).
    """
    with pytest.raises(ValueError):
        go.Figure({"data": [{"type": "heatmap", "z": [[1]], "zmin": "not a number"}]})
    fig = fast_figure([{"type": "heatmap", "z": [[1]], "zmin": "not a number"}], {})
    assert fig.to_dict()["data"][0]["zmin"] == "not a number"


def test_fast_figure_matches_a_validated_figure():
    """Same JSON as the validated constructor for valid input; named scales written out as stops."""
    trace = {"type": "heatmap", "z": [[0, 1], [2, 3]], "colorscale": "gray", "showscale": False}
    fast = json.loads(fast_figure([dict(trace)], {"height": 300}).to_json())
    slow = json.loads(go.Figure({"data": [trace], "layout": {"height": 300}}).to_json())
    assert fast["data"][0]["z"] == slow["data"][0]["z"]
    assert fast["data"][0]["colorscale"][0][1].replace(" ", "") == "rgb(0,0,0)"
    assert fast["layout"]["height"] == slow["layout"]["height"] == 300


def test_fast_figure_keeps_animation_frames():
    fig = fast_figure([{"type": "heatmap", "z": [[1]]}], {}, frames=[{"name": "0", "data": [{"type": "heatmap", "z": [[2]]}]}])
    assert fig.to_dict()["frames"][0]["name"] == "0"


@pytest.mark.parametrize("scale", ["inferno", "gray", SIGNED_COLORSCALE])
def test_plain_colorscale_writes_every_colour_as_rgb(scale):
    stops = plain_colorscale(scale)
    assert stops[0][0] == 0.0 and stops[-1][0] == 1.0
    assert all(colour.startswith("rgb(") for _, colour in stops)
