"""Tests for cnnviz.core.convolution: the fast path against the plain loops, option by option."""

import itertools

import numpy as np
import pytest
from scipy import ndimage

from cnnviz.core import convolution as conv
from cnnviz.core import reference

RNG = np.random.default_rng(2024)


OPTIONS = list(itertools.product(conv.PADDINGS, conv.STRIDES, [False, True], [False, True], conv.CHANNELS))


@pytest.mark.parametrize("kshape", [(1, 1), (3, 3), (2, 2), (4, 3), (5, 5), (9, 9)])
@pytest.mark.parametrize("ishape", [(8, 9), (7, 6, 3)])
def test_integer_kernels_bit_for_bit_every_option(kshape, ishape):
    """Integer kernels on random images: fast path == plain loops, bit for bit, under every option."""
    image = RNG.integers(0, 256, ishape).astype(np.uint8)
    kernel = RNG.integers(-4, 5, kshape)
    kernel.flat[0] = 1  # a non-zero sum most of the time, so normalise does something
    for padding, stride, flip, normalise, channels in OPTIONS:
        if padding == "valid" and (kshape[0] > ishape[0] or kshape[1] > ishape[1]):
            continue  # no output (tested separately)
        options = dict(padding=padding, stride=stride, flip=flip, normalise=normalise, channels=channels, weight=0.7)
        fast = conv.correlate2d(image, kernel, **options)
        loop = reference.loop_correlate2d(image, kernel, **options)
        assert fast.shape == loop.shape, options
        np.testing.assert_array_equal(fast, loop, err_msg=str(options))
        for mapping in ("clip", "abs", "rescale"):
            np.testing.assert_array_equal(conv.map_output(fast, mapping=mapping), conv.map_output(loop, mapping=mapping))


@pytest.mark.parametrize("padding", conv.PADDINGS)
def test_float_kernels_within_tolerance(padding):
    """Float kernels: the raw sums agree within floating-point tolerance before the final cast."""
    image = RNG.integers(0, 256, (9, 10)).astype(np.uint8)
    kernel = RNG.normal(size=(3, 4))
    fast = conv.correlate2d(image, kernel, padding=padding, normalise=True, flip=True)
    loop = reference.loop_correlate2d(image, kernel, padding=padding, normalise=True, flip=True)
    np.testing.assert_allclose(fast, loop, rtol=1e-10, atol=1e-9)


def test_large_integer_kernel_uses_exact_fft():
    """A 15x15 integer kernel (FFT path) still equals scipy.ndimage exactly."""
    image = RNG.integers(0, 256, (40, 37)).astype(np.uint8)
    kernel = RNG.integers(-5, 6, (15, 15))
    fast = conv.correlate2d(image, kernel, padding="zero")
    np.testing.assert_array_equal(fast, ndimage.correlate(image.astype(float), kernel.astype(float), mode="constant"))


@pytest.mark.parametrize("kshape", [(3, 3), (4, 4), (2, 5)])
def test_flip_is_scipy_convolve(kshape):
    """flip=True is true convolution, anchored as scipy.ndimage.convolve anchors even kernels."""
    image = RNG.integers(0, 256, (8, 8)).astype(float)
    kernel = RNG.integers(-3, 4, kshape).astype(float)
    np.testing.assert_array_equal(conv.convolve2d(image, kernel, padding="zero"),
                                  ndimage.convolve(image, kernel, mode="constant"))


def test_paddings_match_scipy_modes():
    """zero/reflect/edge are ndimage's constant/mirror/nearest; valid shrinks by k-1."""
    image = RNG.integers(0, 256, (6, 7)).astype(float)
    kernel = RNG.integers(-3, 4, (3, 3)).astype(float)
    for padding, mode in (("zero", "constant"), ("reflect", "mirror"), ("edge", "nearest")):
        np.testing.assert_array_equal(conv.correlate2d(image, kernel, padding=padding),
                                      ndimage.correlate(image, kernel, mode=mode))
    assert conv.correlate2d(image, kernel, padding="valid").shape == (4, 5)
    assert conv.correlate2d(image, kernel, padding="zero", stride=2).shape == (3, 4)


def test_map_output_modes():
    """clip truncates toward zero like the course's int16 store; abs, rescale, signed."""
    values = np.array([-300.0, -2.5, 0.0, 12.9, 255.5, 400.0])
    assert conv.map_output(values).tolist() == [0, 0, 0, 12, 255, 255]
    assert conv.map_output(values, mapping="abs").tolist() == [255, 2, 0, 12, 255, 255]
    assert conv.map_output(values, mapping="rescale").tolist()[0] == 0
    assert conv.map_output(values, mapping="rescale").tolist()[-1] == 255
    assert conv.map_output(np.full(3, 7.0), mapping="rescale").tolist() == [0, 0, 0]
    np.testing.assert_array_equal(conv.map_output(values, mapping="signed"), values)


@pytest.mark.parametrize("bad", [dict(padding="same"), dict(stride=0), dict(channels="mean")])
def test_bad_options_name_the_choices(bad):
    """Bad option strings raise a ValueError quoting the value."""
    with pytest.raises(ValueError, match=repr(list(bad.values())[0])):
        conv.correlate2d(np.zeros((4, 4)), np.ones((3, 3)), **bad)


def test_bad_kernels_and_valid_too_small():
    """Oversized, non-finite kernels and a kernel bigger than the image with 'valid' are refused."""
    for kernel in (np.ones((16, 3)), np.array([[np.nan]]), np.ones((0, 0))):
        with pytest.raises(ValueError):
            conv.correlate2d(np.zeros((20, 20)), kernel)
    with pytest.raises(ValueError, match="larger than the image"):
        conv.correlate2d(np.zeros((3, 3)), np.ones((5, 5)), padding="valid")
    assert conv.correlate2d(np.zeros((3, 3)), np.ones((5, 5)), padding="course").shape == (3, 3)


def test_normalise_skips_zero_sum_kernels():
    """Normalising divides by the kernel's sum, except when that sum is 0."""
    assert conv.normalise_factor(np.ones((3, 3)), weight=2, normalise=True) == pytest.approx(2 / 9)
    assert conv.normalise_factor(conv.COURSE_KERNEL, weight=2, normalise=True) == 2
