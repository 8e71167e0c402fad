"""Tests for cnnviz.core.palette and cnnviz.core.rendering: one scale for figures and pictures."""

from __future__ import annotations

import numpy as np
import plotly.colors as pc
import pytest

from cnnviz.core import palette
from cnnviz.core.rendering import signed_rgb


def test_signed_scale_is_plotlys_rdbu_reversed():
    """Written out once, equal to the scale Plotly calls "RdBu_r" (what the figures showed before)."""
    ours = [(round(p, 6), palette.rgb(c)) for p, c in palette.SIGNED_COLORSCALE]
    plotly = [(round(float(p), 6), palette.rgb(c)) for p, c in pc.get_colorscale("RdBu_r")]
    assert ours == plotly


@pytest.mark.parametrize("colour, triple", [("#e61e1e", (230, 30, 30)), ("rgb(5, 48, 97)", (5, 48, 97))])
def test_rgb(colour, triple):
    assert palette.rgb(colour) == triple


def test_rgb_refuses_other_forms():
    with pytest.raises(ValueError, match="'red'"):
        palette.rgb("red")


def test_signed_rgb_ends_and_centre():
    picture = signed_rgb(np.array([[-4.0, 0.0, 4.0, 1.6]]))
    assert picture.dtype == np.uint8 and picture.shape == (1, 4, 3)
    assert picture[0, 0].tolist() == [5, 48, 97] and picture[0, 2].tolist() == [103, 0, 31]
    assert picture[0, 1].tolist() == [247, 247, 247]
    assert picture[0, 3].tolist() == list(palette.rgb("rgb(244,165,130)"))  # 1.6 of 4: at the 0.7 stop


def test_signed_rgb_limit_saturates():
    assert signed_rgb(np.array([[10.0]]), limit=1.0)[0, 0].tolist() == [103, 0, 31]
