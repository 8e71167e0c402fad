"""Tests for cnnviz.core.reference: the course's own loop, against the fast path."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.core import convolution as conv
from cnnviz.core import reference
from cnnviz.core.data import load_ascent

RNG = np.random.default_rng(2024)


def test_course_stairwell_bit_for_bit(data_dir):
    """The course's own loop and cnnviz give the same stairwell, pixel for pixel."""
    image = load_ascent()
    course = reference.course_convolution(image, conv.COURSE_KERNEL, 1)
    fast = conv.map_output(conv.correlate2d(image, conv.COURSE_KERNEL, weight=1))
    assert course.dtype == np.int16
    np.testing.assert_array_equal(course, fast)
    np.testing.assert_array_equal(fast[0], image[0])  # the border keeps its input values
    np.testing.assert_array_equal(fast[:, -1], image[:, -1])


@pytest.mark.parametrize("weight", [1, 0.5, 1 / 3, 2.5])
@pytest.mark.parametrize("kernel", [conv.COURSE_KERNEL, np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])])
def test_course_loop_matches_on_random_image(kernel, weight):
    """The course's loop (any weight, truncation on store) equals the fast path."""
    image = RNG.integers(0, 256, (13, 17)).astype(np.uint8)
    course = reference.course_convolution(image, kernel, weight)
    np.testing.assert_array_equal(course, conv.map_output(conv.correlate2d(image, kernel, weight=weight)))


def test_course_loop_general_kernel_matches_reference():
    """The generated-lines loop for a 5x5 kernel agrees with the fast path."""
    image = RNG.integers(0, 256, (11, 12)).astype(np.uint8)
    kernel = RNG.integers(-3, 4, (5, 5))
    np.testing.assert_array_equal(reference.course_convolution(image, kernel),
                                  conv.map_output(conv.correlate2d(image, kernel)))
