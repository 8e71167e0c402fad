"""Keras' "same" padding (cnnviz.core.padding) held to Keras' own Conv2D and pooling layers."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnnviz.core import convolution as conv
from cnnviz.core import explain, pooling
from cnnviz.core.padding import same_padding

KERNELS = [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (2, 3), (4, 1)]
STRIDES = [1, 2, 3]
SIZES = [(28, 28), (13, 13), (7, 10)]


def keras_conv(image: np.ndarray, kernel: np.ndarray, stride: int) -> np.ndarray:
    """One-filter Conv2D(padding="same") of a 2-D image, no bias, as Keras computes it."""
    layer = keras.layers.Conv2D(1, kernel.shape, strides=stride, padding="same", use_bias=False)
    layer.build((1, *image.shape, 1))
    layer.set_weights([kernel.reshape(*kernel.shape, 1, 1).astype(np.float32)])
    out = layer(image[np.newaxis, ..., np.newaxis].astype(np.float32))
    return keras.ops.convert_to_numpy(out)[0, ..., 0]


@pytest.fixture(scope="module")
def rng():
    return np.random.default_rng(15)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("stride", STRIDES)
@pytest.mark.parametrize("kernel_shape", KERNELS)
def test_keras_padding_matches_conv2d_same(size, stride, kernel_shape, rng):
    """correlate2d(padding="keras") equals Conv2D(padding="same") for odd and even kernels, strides 1-3."""
    image = rng.random(size)
    kernel = rng.normal(size=kernel_shape)
    ours = conv.correlate2d(image, kernel, padding="keras", stride=stride)
    theirs = keras_conv(image, kernel, stride)
    assert ours.shape == theirs.shape == conv.output_shape(size, kernel_shape, padding="keras", stride=stride)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("stride", STRIDES)
@pytest.mark.parametrize("kernel_shape", [(2, 2), (3, 3), (4, 4)])
def test_explained_pixel_matches_conv2d_same(stride, kernel_shape, rng):
    """The explorer's window for every output pixel under padding "keras" gives Keras' value."""
    image = rng.integers(0, 256, size=(9, 11)).astype(np.float64)
    kernel = rng.normal(size=kernel_shape)
    settings = conv.ConvolutionSettings(kernel=kernel, preset=None, padding="keras", stride=stride, mapping="signed")
    theirs = keras_conv(image / 255.0, kernel, stride) * 255.0
    for r in range(theirs.shape[0]):
        for c in range(theirs.shape[1]):
            info = explain.pixel_arithmetic(image, settings, r, c)
            np.testing.assert_allclose(info.raw, theirs[r, c], rtol=1e-5, atol=1e-3)


def test_zero_padding_differs_from_keras_where_the_issue_says():
    """cnnviz's own "zero" padding is not Keras' "same": an even kernel, and a 3x3 kernel at stride 2 on 28x28."""
    rng = np.random.default_rng(1)
    image = rng.random((28, 28))
    for kernel_shape, stride in (((2, 2), 1), ((3, 3), 2)):
        kernel = rng.normal(size=kernel_shape)
        zero = conv.correlate2d(image, kernel, padding="zero", stride=stride)
        assert not np.allclose(zero, keras_conv(image, kernel, stride), atol=1e-5)
    kernel = rng.normal(size=(3, 3))  # an odd kernel at stride 1: the same numbers
    np.testing.assert_allclose(conv.correlate2d(image, kernel, padding="zero"), keras_conv(image, kernel, 1),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode,layer", [("max", keras.layers.MaxPooling2D), ("average", keras.layers.AveragePooling2D)])
@pytest.mark.parametrize("pool,stride", [(2, 2), (3, 2), (2, 1), (3, 3), (2, 3)])
def test_pooling_same_matches_keras(mode, layer, pool, stride):
    """pool2d(padding="same") uses the same rule and equals Keras' pooling layers."""
    image = np.random.default_rng(pool * 10 + stride).random((13, 11, 2))
    ours = pooling.pool2d(image, mode=mode, pool_size=pool, strides=stride, padding="same").values
    theirs = keras.ops.convert_to_numpy(
        layer(pool, strides=stride, padding="same")(image[np.newaxis].astype(np.float32)))[0]
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_same_padding_has_one_home():
    """Pooling uses the very function convolution uses."""
    assert pooling.same_padding is same_padding
