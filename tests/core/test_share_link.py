"""Tests for cnnviz.core.share_link: what a link carries, and every bad parameter named, never raised."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.core import share_link
from cnnviz.core.convolution import ConvolutionSettings

RNG = np.random.default_rng(2024)


def test_matrix_param_round_trip():
    """A small matrix travels through a link and comes back; bad ones are refused in words."""
    matrix = RNG.integers(0, 256, (4, 5)).astype(np.uint8)
    np.testing.assert_array_equal(share_link.parse_matrix_param(share_link.matrix_param(matrix)), matrix)
    for bad in ("1,2;3", "1,x", "300", ";".join(["1"] * 17)):
        with pytest.raises(ValueError):
            share_link.parse_matrix_param(bad)


def test_settings_query_round_trip():
    """Settings go into a query string and come back; defaults are left out."""
    assert share_link.settings_to_query(ConvolutionSettings()) == {}
    settings = ConvolutionSettings(kernel=np.array([[1, 2], [3, 4.5]]), preset=None, padding="reflect", stride=3,
                                   weight=0.25, normalise=True, flip=True, channels="sum", mapping="signed")
    params = share_link.settings_to_query(settings)
    back, problems = share_link.settings_from_query(params)
    assert back == settings and problems == []
    back, _ = share_link.settings_from_query({"kernel": "sobel_x"})
    assert back.preset == "sobel_x"


def test_bad_query_values_are_reported_not_raised():
    """Each bad parameter is ignored with a sentence naming it; the rest still applies."""
    settings, problems = share_link.settings_from_query(
        {"kernel": "1 2; 3", "pad": "same", "stride": "9", "weight": "abc", "norm": "maybe", "map": "signed"})
    assert settings.mapping == "signed" and settings.preset == "course_horizontal"
    assert len(problems) == 5
    for name in ("kernel=", "pad=", "stride=", "weight=", "norm="):
        assert any(p.startswith(name) for p in problems)
