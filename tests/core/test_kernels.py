"""Tests for cnnviz.core.kernels: presets, typed kernels (every form and every bad form), links."""

import numpy as np
import pytest

from cnnviz.core import kernels
from cnnviz.core.convolution import correlate2d
from cnnviz.core import share_link

COURSE = [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]


def test_presets_are_complete_and_explained():
    """Every preset the issue lists exists, with a one-line explanation."""
    for name in ("identity", "course_horizontal", "course_vertical", "sobel_x", "sobel_y", "prewitt_x", "prewitt_y",
                 "scharr_x", "laplacian_4", "laplacian_8", "box_3", "box_5", "gaussian_3", "gaussian_5", "sharpen",
                 "unsharp_5", "emboss", "outline"):
        preset = kernels.PRESETS[name]
        assert preset.explanation and "\n" not in preset.explanation
        assert not preset.kernel.flags.writeable
    assert kernels.PRESETS["course_horizontal"].kernel.tolist() == COURSE


def test_identity_and_normalised_blurs_keep_a_flat_image():
    """Identity changes nothing; normalised blurs and the unsharp mask keep a flat image flat."""
    image = np.full((9, 9), 100.0)
    assert np.array_equal(correlate2d(image, kernels.IDENTITY, padding="edge"), image)
    for name in ("box_3", "box_5", "gaussian_3", "gaussian_5", "unsharp_5"):
        np.testing.assert_allclose(correlate2d(image, kernels.PRESETS[name].kernel, padding="edge", normalise=True), 100)


@pytest.mark.parametrize("text", [
    "-1 -2 -1; 0 0 0; 1 2 1", "-1,-2,-1\n0,0,0\n1,2,1", " -1, -2, -1 ;\n 0 0 0 ;\n 1 2 1 ",
    "[[-1, -2, -1], [0, 0, 0], [1, 2, 1]]", "-1.0 -2e0 -1\n0 0 0\n+1 2 1",
])
def test_parse_every_form(text):
    """Spaces, commas, semicolons, newlines, JSON and exponents all read the course's kernel."""
    assert kernels.parse_kernel(text).tolist() == COURSE


def test_parse_fractions_shapes_and_round_trip():
    """Fractions, 1x1, non-square and 15x15 kernels; format_kernel reads back exactly."""
    assert kernels.parse_kernel("1/9 1/9").tolist() == [[1 / 9, 1 / 9]]
    assert kernels.parse_kernel("5").shape == (1, 1)
    assert kernels.parse_kernel("[1, 2, 3]").shape == (1, 3)
    big = np.arange(225).reshape(15, 15) / 7
    assert np.array_equal(kernels.parse_kernel(kernels.format_kernel(big)), big)
    assert np.array_equal(kernels.parse_kernel(share_link.kernel_to_param(big)), big)


@pytest.mark.parametrize("text, words", [
    ("", "empty"), ("   \n ;", "empty"), ("1 2; 3", "different lengths"), ("1 a", "'a' is not a number"),
    ("nan 1", "NaN"), ("1 -inf", "finite"), ("1e400", "too large"), ("1/0", "divides by zero"),
    ("[[1, 2], [3]]", "different lengths"), ('[[1, "x"]]', "not a number"), ("[[1, 2]", "JSON"),
    ("[[1, true]]", "not a number"), ("{}", "not a number"), (";".join(["1"] * 16), "15"), (" ".join(["1"] * 16), "15"),
    ("x" * 6000, "characters"),
])
def test_every_bad_form_is_named(text, words):
    """Each bad entry raises KernelError with a message naming the problem."""
    with pytest.raises(kernels.KernelError, match=words):
        kernels.parse_kernel(text)


def test_preset_for():
    """A typed kernel equal to a preset is recognised."""
    assert kernels.preset_for(np.array(COURSE)) == "course_horizontal"
    assert kernels.preset_for(np.ones((2, 2))) is None
