"""Tests for cnnviz.core.explain: one pixel's arithmetic, the slide step by step, the result on the input's grid."""

from __future__ import annotations

import numpy as np

from cnnviz.core import convolution as conv
from cnnviz.core import explain

RNG = np.random.default_rng(2024)


def test_pixel_arithmetic_adds_up():
    """The explained pixel's products sum to the fast path's value; border pixels are flagged."""
    image = RNG.integers(0, 256, (10, 10)).astype(np.uint8)
    settings = conv.ConvolutionSettings(weight=0.5)
    raw = conv.correlate2d(image, settings.kernel, **settings.correlate_options())
    info = explain.pixel_arithmetic(image, settings, 4, 6)
    assert info.total * info.factor == raw[4, 6]
    assert info.shown == conv.map_output(raw)[4, 6]
    assert explain.pixel_arithmetic(image, settings, 0, 3).border_kept
    valid = settings.replace(padding="valid", stride=2)
    raw = conv.correlate2d(image, valid.kernel, **valid.correlate_options())
    assert explain.pixel_arithmetic(image, valid, 1, 2).raw == raw[1, 2]


def test_sliding_steps_end_with_the_result():
    """The last animation step is the whole mapped result."""
    image = RNG.integers(0, 256, (6, 6)).astype(np.uint8)
    settings = conv.ConvolutionSettings()
    steps = explain.sliding_steps(image, settings)
    assert len(steps) == 16
    np.testing.assert_array_equal(steps[-1][2], conv.map_output(conv.correlate2d(image, settings.kernel)))


def test_align_to_input_and_click_mapping():
    """A strided valid result drawn on the input grid; a click maps back to its output pixel."""
    settings = conv.ConvolutionSettings(padding="valid", stride=2)
    shown = np.arange(12, dtype=np.uint8).reshape(3, 4)
    canvas = explain.align_to_input(shown, (8, 10), settings)
    assert canvas.shape == (8, 10, 3)
    assert canvas[1, 1, 0] == 0 and canvas[1 + 2, 1 + 4, 0] == shown[1, 2]
    assert explain.output_pixel_at(3, 5, (8, 10), settings) == (1, 2)
