"""Tests for cnnviz.convolution: the fast path against the plain loops, option by option."""

import itertools

import numpy as np
import pytest
from scipy import ndimage

from cnnviz import convolution as conv
from cnnviz.data import load_ascent

RNG = np.random.default_rng(2024)


def test_course_stairwell_bit_for_bit(data_dir):
    """The course's own loop and cnnviz give the same stairwell, pixel for pixel."""
    image = load_ascent()
    course = conv.course_convolution(image, conv.COURSE_KERNEL, 1)
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
    course = conv.course_convolution(image, kernel, weight)
    np.testing.assert_array_equal(course, conv.map_output(conv.correlate2d(image, kernel, weight=weight)))


def test_course_loop_general_kernel_matches_reference():
    """The generated-lines loop for a 5x5 kernel agrees with the fast path."""
    image = RNG.integers(0, 256, (11, 12)).astype(np.uint8)
    kernel = RNG.integers(-3, 4, (5, 5))
    np.testing.assert_array_equal(conv.course_convolution(image, kernel),
                                  conv.map_output(conv.correlate2d(image, kernel)))


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
        loop = conv.loop_correlate2d(image, kernel, **options)
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
    loop = conv.loop_correlate2d(image, kernel, padding=padding, normalise=True, flip=True)
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


def test_pixel_arithmetic_adds_up():
    """The explained pixel's products sum to the fast path's value; border pixels are flagged."""
    image = RNG.integers(0, 256, (10, 10)).astype(np.uint8)
    settings = conv.ConvolutionSettings(weight=0.5)
    raw = conv.correlate2d(image, settings.kernel, **settings.correlate_options())
    info = conv.pixel_arithmetic(image, settings, 4, 6)
    assert info.total * info.factor == raw[4, 6]
    assert info.shown == conv.map_output(raw)[4, 6]
    assert conv.pixel_arithmetic(image, settings, 0, 3).border_kept
    valid = settings.replace(padding="valid", stride=2)
    raw = conv.correlate2d(image, valid.kernel, **valid.correlate_options())
    assert conv.pixel_arithmetic(image, valid, 1, 2).raw == raw[1, 2]


def test_sliding_steps_end_with_the_result():
    """The last animation step is the whole mapped result."""
    image = RNG.integers(0, 256, (6, 6)).astype(np.uint8)
    settings = conv.ConvolutionSettings()
    steps = conv.sliding_steps(image, settings)
    assert len(steps) == 16
    np.testing.assert_array_equal(steps[-1][2], conv.map_output(conv.correlate2d(image, settings.kernel)))


def test_align_to_input_and_click_mapping():
    """A strided valid result drawn on the input grid; a click maps back to its output pixel."""
    settings = conv.ConvolutionSettings(padding="valid", stride=2)
    shown = np.arange(12, dtype=np.uint8).reshape(3, 4)
    canvas = conv.align_to_input(shown, (8, 10), settings)
    assert canvas.shape == (8, 10, 3)
    assert canvas[1, 1, 0] == 0 and canvas[1 + 2, 1 + 4, 0] == shown[1, 2]
    assert conv.output_pixel_at(3, 5, (8, 10), settings) == (1, 2)


def test_matrix_param_round_trip():
    """A small matrix travels through a link and comes back; bad ones are refused in words."""
    matrix = RNG.integers(0, 256, (4, 5)).astype(np.uint8)
    np.testing.assert_array_equal(conv.parse_matrix_param(conv.matrix_param(matrix)), matrix)
    for bad in ("1,2;3", "1,x", "300", ";".join(["1"] * 17)):
        with pytest.raises(ValueError):
            conv.parse_matrix_param(bad)
