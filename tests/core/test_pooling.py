"""Tests for cnnviz.core.pooling: the fast path equals the course-style loop and Keras."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from cnnviz.core import pooling
from cnnviz.core.pooling import EDGE_MODES, POOL_MODES, conv_pool_stages, pool2d, pooled_shape
from cnnviz.core.reference import course_pooling, reference_pool2d

SIZES = [1, 2, 3, 4, (2, 3), (3, 1)]
STRIDES = [None, 1, 2, 3, (1, 2)]
SHAPES = [(8, 8), (7, 9), (5, 4)]


def _image(shape, seed=0, high=4):
    """Small integers: many ties, exact in float32 (for Keras)."""
    return np.random.default_rng(seed).integers(0, high, shape).astype(np.int16)


def _fits(shape, size, padding):
    ph, pw = (size, size) if isinstance(size, int) else size
    return padding == "same" or (ph <= shape[0] and pw <= shape[1])


CASES = [
    (shape, mode, size, stride, padding)
    for shape, mode, size, stride, padding in itertools.product(SHAPES, POOL_MODES, SIZES, STRIDES, EDGE_MODES)
    if _fits(shape, size, padding)
]


@pytest.mark.parametrize("shape, mode, size, stride, padding", CASES)
def test_pool2d_equals_reference_loop(shape, mode, size, stride, padding):
    """Values, kept positions and padding equal the plain loop for every option."""
    image = _image(shape, seed=hash((shape, size, stride)) % 1000)
    fast = pool2d(image, mode=mode, pool_size=size, strides=stride, padding=padding)
    slow = reference_pool2d(image, mode=mode, pool_size=size, strides=stride, padding=padding)
    np.testing.assert_allclose(fast.values, slow.values)
    assert fast.pad == slow.pad
    assert fast.shape == pooled_shape(shape, pool_size=size, strides=stride, padding=padding)
    if mode == "average":
        assert fast.kept_rows is None and fast.kept_cols is None
    else:
        np.testing.assert_array_equal(fast.kept_rows, slow.kept_rows)
        np.testing.assert_array_equal(fast.kept_cols, slow.kept_cols)
        np.testing.assert_array_equal(image[fast.kept_rows, fast.kept_cols], fast.values)


@pytest.mark.parametrize("mode", POOL_MODES)
@pytest.mark.parametrize("padding", EDGE_MODES)
def test_channels_are_pooled_separately(mode, padding):
    """An (H, W, C) image gives each channel's own pooling."""
    image = np.stack([_image((7, 6), seed=s, high=50) for s in range(3)], axis=-1)
    pooled = pool2d(image, mode=mode, pool_size=3, strides=2, padding=padding)
    for c in range(3):
        alone = pool2d(image[..., c], mode=mode, pool_size=3, strides=2, padding=padding)
        np.testing.assert_allclose(pooled.values[..., c], alone.values)
        if mode != "average":
            np.testing.assert_array_equal(pooled.kept_rows[..., c], alone.kept_rows)
    np.testing.assert_allclose(pooled.values, reference_pool2d(image, mode=mode, pool_size=3, strides=2,
                                                               padding=padding).values)


def test_ties_keep_the_first_cell_in_row_major_order():
    """A flat window keeps its top-left cell, as argmax does."""
    pooled = pool2d(np.full((4, 4), 255), mode="max", pool_size=2)
    np.testing.assert_array_equal(pooled.kept_rows, [[0, 0], [2, 2]])
    np.testing.assert_array_equal(pooled.kept_cols, [[0, 2], [0, 2]])
    window = np.array([[0, 7], [7, 7]])
    pooled = pool2d(window, mode="max", pool_size=2)
    assert (pooled.kept_rows[0, 0], pooled.kept_cols[0, 0]) == (0, 1)


@pytest.mark.parametrize("mode, fill", [("max", -1.0), ("min", 300.0), ("average", 0.0)])
def test_same_padding_is_never_chosen_or_averaged(mode, fill):
    """Under "same", padded cells do not count even where they would win."""
    image = np.full((5, 5), 100.0) if mode != "max" else np.full((5, 5), -5.0)
    pooled = pool2d(image, mode=mode, pool_size=4, strides=4, padding="same")
    assert pooled.shape == (2, 2)
    np.testing.assert_allclose(pooled.values, image[0, 0])
    if mode != "average":
        assert pooled.kept_rows.min() >= 0 and pooled.kept_rows.max() < 5


def test_same_padding_puts_the_odd_cell_at_the_bottom_right():
    """Keras' rule: total padding split in two, the extra one after."""
    assert pooling.same_padding(5, 4, 1) == (1, 2)
    assert pooling.same_padding(510, 4, 4) == (1, 1)
    assert pooling.same_padding(7, 2, 2) == (0, 1)
    assert pooling.same_padding(8, 2, 2) == (0, 0)
    assert pool2d(np.zeros((5, 5)), pool_size=4, strides=1, padding="same").pad == (1, 2, 1, 2)


@pytest.mark.parametrize("shape, size, stride, padding, expected", [
    ((512, 512), 4, None, "valid", (128, 128)),
    ((510, 510), 4, None, "valid", (127, 127)),
    ((510, 510), 4, None, "same", (128, 128)),
    ((26, 26), 2, None, "valid", (13, 13)),
    ((11, 11), 2, None, "valid", (5, 5)),
    ((10, 12), (2, 3), (1, 2), "valid", (9, 5)),
    ((3, 3), 4, None, "valid", (0, 0)),
])
def test_pooled_shape(shape, size, stride, padding, expected):
    """The shape arithmetic the page shows."""
    assert pooled_shape(shape, pool_size=size, strides=stride, padding=padding) == expected


def test_course_pooling_equals_pool2d():
    """The course's 4x4 loop (sort, keep pixels[0]) equals 4x4 max pooling."""
    image = _image((32, 24), high=256)
    np.testing.assert_array_equal(course_pooling(image), pooling.max_pool(image, 4))


def test_course_pooling_of_the_convolved_stairwell(data_dir):
    """On the real stairwell the course's loop and pool2d agree (512 -> 128)."""
    from cnnviz.core.data import load_ascent

    image = load_ascent().astype(np.int16)
    image = np.abs(np.diff(image, axis=0, prepend=0))  # any 512x512 int16 "convolved" image
    pooled = pool2d(image, mode="max", pool_size=4)
    assert pooled.shape == (128, 128)
    np.testing.assert_array_equal(course_pooling(image), pooled.values)


def test_wrappers_and_reduction():
    """max_pool / average_pool / min_pool and the percentage shown on the page."""
    image = np.array([[1, 5, 0, 0], [2, 3, 0, 9]])
    np.testing.assert_array_equal(pooling.max_pool(image), [[5, 9]])
    np.testing.assert_array_equal(pooling.min_pool(image), [[1, 0]])
    np.testing.assert_array_equal(pooling.average_pool(image), [[2.75, 2.25]])
    assert pooling.reduction_percent((512, 512), (128, 128)) == pytest.approx(93.75)
    assert pooling.reduction_percent((512, 512), (512, 512)) == 0


@pytest.mark.parametrize("kwargs, message", [
    ({"mode": "median"}, "mode must be one of ['max', 'average', 'min'], got 'median'"),
    ({"padding": "full"}, "padding must be one of ['valid', 'same'], got 'full'"),
    ({"pool_size": 0}, "pool_size must be at least 1"),
    ({"pool_size": (2, 2, 2)}, "pool_size must be an int or a (height, width) pair"),
    ({"strides": "2"}, "strides must be an int or a (height, width) pair, got '2'"),
    ({"strides": (1, -1)}, "strides must be at least 1, got (1, -1)"),
    ({"pool_size": 9}, "a 9x9 window does not fit in a 8x8 image"),
])
def test_bad_options_raise_value_error_naming_them(kwargs, message):
    """Bad options are refused up front, quoting the value."""
    with pytest.raises(ValueError, match=re.escape(message)):
        pool2d(np.zeros((8, 8)), **kwargs)


def test_bad_images_raise_value_error():
    """1-D, 4-D and text arrays are refused."""
    for bad in (np.zeros(5), np.zeros((2, 2, 2, 2)), np.array([["a"]])):
        with pytest.raises(ValueError, match="expected"):
            pool2d(bad)


def test_window_and_describe_window():
    """An output cell's window, values and kept position, clipped at padded edges."""
    image = np.arange(25).reshape(5, 5)
    pooled = pool2d(image, mode="max", pool_size=4, strides=1, padding="same")
    assert pooled.window(0, 0) == (0, 3, 0, 3)  # one padded row/column above and left
    story = pooling.describe_window(pooled, image, 4, 4)
    assert story["bounds"] == (3, 5, 3, 5)
    assert story["kept"] == (4, 4) and story["result"] == 24
    np.testing.assert_array_equal(story["values"], image[3:5, 3:5])
    avg = pool2d(image, mode="average", pool_size=2)
    assert pooling.describe_window(avg, image, 1, 1)["kept"] is None
    with pytest.raises(ValueError, match="outside"):
        avg.window(2, 0)


def test_highlight_window_frames_without_covering_the_window():
    """The frame is coloured; the window's own pixels keep their gray values."""
    image = np.full((20, 20), 100, dtype=np.uint8)
    marked = pooling.highlight_window(image, (4, 8, 4, 8), thickness=1)
    assert marked.shape == (20, 20, 3) and marked.dtype == np.uint8
    assert tuple(marked[3, 3]) == (230, 30, 30)
    assert tuple(marked[5, 5]) == (100, 100, 100)
    assert tuple(marked[15, 15]) == (100, 100, 100)
    whole = pooling.highlight_window(image, (0, 20, 0, 20), thickness=1)
    assert tuple(whole[0, 0]) == (230, 30, 30)


def test_conv_pool_stages_follow_the_course_cnn_shapes():
    """28 -> 26 -> 13 -> 11 -> 5 -> 3 -> 1 with a 3x3 valid convolution and 2x2 pooling."""
    def valid_3x3(x):
        return x[1:-1, 1:-1] + 0.0  # shape only: a 3x3 "valid" step

    maps = conv_pool_stages(np.zeros((28, 28)), valid_3x3, stages=3)
    assert [m.shape[0] for _, m in maps] == [28, 26, 13, 11, 5, 3, 1]
    assert [name for name, _ in maps][:3] == ["Input", "Conv 1", "Pool 1"]
    assert len(conv_pool_stages(np.zeros((28, 28)), valid_3x3, stages=1)) == 3
    with pytest.raises(ValueError, match="stages"):
        conv_pool_stages(np.zeros((28, 28)), valid_3x3, stages=0)


# --------------------------------------------------------------------------
# Keras' layers on the same input (TensorFlow is imported only here)
# --------------------------------------------------------------------------

KERAS_CASES = [
    (shape, mode, size, stride, padding)
    for shape, mode, size, stride, padding in itertools.product(
        [(8, 8), (7, 9)], POOL_MODES, [1, 2, 3, (2, 3)], [None, 1, 2, (1, 2)], EDGE_MODES)
    if _fits(shape, size, padding)
]


@pytest.fixture(scope="module")
def keras_pool():
    """Keras' MaxPooling2D / AveragePooling2D applied to an (H, W) image; min = -max(-x)."""
    import keras

    def apply(image, mode, size, stride, padding):
        layer_class = keras.layers.AveragePooling2D if mode == "average" else keras.layers.MaxPooling2D
        layer = layer_class(pool_size=size, strides=stride, padding=padding)
        x = np.asarray(image, dtype=np.float32)[None, ..., None]
        sign = -1.0 if mode == "min" else 1.0
        return sign * np.asarray(layer(sign * x))[0, ..., 0]

    return apply


@pytest.mark.parametrize("shape, mode, size, stride, padding", KERAS_CASES)
def test_pool2d_equals_keras(keras_pool, shape, mode, size, stride, padding):
    """Same values as Keras' pooling layers, including "same" padding and averages at edges."""
    image = _image(shape, seed=7, high=50)
    ours = pool2d(image, mode=mode, pool_size=size, strides=stride, padding=padding).values
    np.testing.assert_allclose(ours, keras_pool(image, mode, size, stride, padding), rtol=1e-6)


def test_pool2d_equals_keras_on_a_convolved_size(keras_pool):
    """510x510 (a "valid" 3x3 convolution of the stairwell) pooled 4x4: 127 valid, 128 same."""
    image = _image((510, 510), seed=3, high=256)
    for padding, side in (("valid", 127), ("same", 128)):
        ours = pool2d(image, pool_size=4, padding=padding).values
        assert ours.shape == (side, side)
        np.testing.assert_allclose(ours, keras_pool(image, "max", 4, None, padding))
