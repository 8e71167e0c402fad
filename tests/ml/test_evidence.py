"""Tests for cnnviz.ml.evidence on a model built to look at one corner only, and on the shipped CNN.

The corner model: one Conv2D with two fixed 3x3 filters (0: brightness, 1: darkness), then a
Dense layer whose class 0 reads filter 0 in the top-left 6x6 of the 26x26 map only, i.e. input
pixels in rows and columns 0..7. Nothing else reaches any class.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest


from cnnviz.core import evidence as core  # noqa: E402
from cnnviz.ml.activations import ActivationModel  # noqa: E402
from cnnviz.ml.evidence import EvidenceModel, evidence_for  # noqa: E402
from cnnviz.ml.models import SHIPPED_MODELS, load_shipped  # noqa: E402

SEEN = 8  # the corner model sees input rows and columns 0..7


@pytest.fixture(scope="module")
def corner_model():
    model = keras.Sequential([
        keras.Input((28, 28, 1), name="image"),
        keras.layers.Conv2D(2, 3, activation="relu", name="conv"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(10, activation="softmax", name="output"),
    ])
    kernel = np.zeros((3, 3, 1, 2), np.float32)
    kernel[..., 0, 0], kernel[..., 0, 1] = 1 / 9, -1 / 9
    model.get_layer("conv").set_weights([kernel, np.array([0.0, 0.5], np.float32)])
    dense = np.zeros((26, 26, 2, 10), np.float32)
    dense[:6, :6, 0, 0] = 1.0
    model.get_layer("output").set_weights([dense.reshape(-1, 10), np.zeros(10, np.float32)])
    return EvidenceModel(ActivationModel(model))


@pytest.fixture(scope="module")
def corner_image():
    image = np.zeros((28, 28), np.uint8)
    image[1:6, 1:6] = 220  # seen by class 0
    image[15:25, 12:24] = 220  # never seen
    return image


def test_logits_softmax_is_the_models_output(corner_model, corner_image):
    images = np.stack([corner_image, np.zeros((28, 28), np.uint8), 255 - corner_image])
    logits = corner_model.logits(images)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(e / e.sum(axis=1, keepdims=True), corner_model.probabilities(images),
                               rtol=1e-5, atol=1e-6)
    assert "logit" in corner_model.score_name and "softmax" in corner_model.score_name


def test_occlusion_highlights_the_corner_and_nothing_it_cannot_see(corner_model, corner_image):
    occlusion = corner_model.occlusion(corner_image, patch=6, stride=2, fill=0)
    assert occlusion.probabilities.shape == (12, 12, 10)
    drop = occlusion.drop(0)
    far = (occlusion.rows[:, None] >= SEEN) | (occlusion.cols[None, :] >= SEEN)
    np.testing.assert_allclose(drop[far], 0.0, atol=1e-7)  # a patch that changes nothing seen: no drop
    assert drop[~far].max() > 0.05
    pixels = occlusion.pixel_drop(0)
    row, col = np.unravel_index(pixels.argmax(), pixels.shape)
    assert row < SEEN and col < SEEN
    assert np.abs(pixels[14:, :]).max() < 1e-7


def test_occlusion_is_cached_and_deterministic(corner_model, corner_image):
    first = corner_model.occlusion(corner_image)
    assert corner_model.occlusion(corner_image.copy()) is first  # cached per (image, patch, stride, fill)
    other = EvidenceModel(corner_model.explorer).occlusion(corner_image)
    np.testing.assert_array_equal(other.probabilities, first.probabilities)
    assert corner_model.occlusion(corner_image, patch=4) is not first
    assert not first.probabilities.flags.writeable


def test_saliency_is_zero_where_the_model_cannot_look(corner_model, corner_image):
    gradient = corner_model.saliency(corner_image[np.newaxis], [0])
    assert gradient.shape == (1, 28, 28) and np.isfinite(gradient).all()
    assert np.all(gradient[0, SEEN:, :] == 0) and np.all(gradient[0, :, SEEN:] == 0)
    assert np.abs(gradient[0, :SEEN, :SEEN]).max() > 0
    np.testing.assert_array_equal(corner_model.saliency(corner_image[np.newaxis], [0]), gradient)
    assert np.all(corner_model.saliency(corner_image[np.newaxis], [3]) == 0)  # class 3 reads nothing


def test_grad_cam_highlights_the_corner(corner_model, corner_image):
    image = corner_image.copy()
    image[15:25, 12:24] = 0  # only the corner is bright
    cam = corner_model.grad_cam(image[np.newaxis], [0], "conv")
    assert cam.shape == (1, 26, 26) and np.all(cam >= 0) and cam.max() > 0
    assert np.all(cam[0, SEEN:, :] == 0) and np.all(cam[0, :, SEEN:] == 0)
    np.testing.assert_array_equal(corner_model.grad_cam(image[np.newaxis], [0]), cam)  # last conv by default


def test_grad_cam_cannot_tell_apart_two_places_the_same_filter_fires(corner_model, corner_image):
    """Its limit, shown to students: the far square lights up too, although class 0 never sees it
    (Grad-CAM weighs whole maps); occlusion does not."""
    cam = corner_model.grad_cam(corner_image[np.newaxis], [0], "conv")[0]
    assert cam[18, 16] > 0


def test_grad_cam_refuses_a_layer_that_is_not_a_convolution(corner_model, corner_image):
    with pytest.raises(ValueError, match="Conv2D"):
        corner_model.grad_cam(corner_image[np.newaxis], [0], "flatten")


def test_class_filter_means_equal_a_direct_mean(corner_model):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8)
    labels = np.array([0, 0, 1, 1, 1, 2, 3, 4, 5, 6, 7, 9])
    means = corner_model.class_filter_means(images, labels, "conv")
    maps = corner_model.explorer.maps(images, "conv")
    direct = np.stack([maps[labels == c].mean(axis=(0, 1, 2)) if (labels == c).any()
                       else np.full(2, np.nan) for c in range(10)])
    np.testing.assert_allclose(means, direct, rtol=1e-5, atol=1e-6, equal_nan=True)
    assert corner_model.class_filter_means(images, labels, "conv") is means  # cached


@pytest.fixture(scope="module")
def shipped():
    assert SHIPPED_MODELS["cnn"].exists()
    return evidence_for(ActivationModel(load_shipped("cnn")))


def test_shipped_cnn_views_and_the_model_left_alone(shipped):
    model = shipped.explorer.model
    before = [w.copy() for w in model.get_weights()]
    images = np.random.default_rng(0).integers(0, 256, size=(2, 28, 28), dtype=np.uint8)
    assert shipped.conv_layers == ["conv_1", "conv_2"]
    logits = shipped.logits(images)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(e / e.sum(axis=1, keepdims=True), model.predict(
        images.reshape(2, 28, 28, 1) / 255.0, verbose=0), rtol=1e-4, atol=1e-6)
    assert shipped.saliency(images, [9, 8]).shape == (2, 28, 28)
    assert shipped.grad_cam(images, [9, 8]).shape == (2, 11, 11)
    assert shipped.grad_cam(images, [9, 8], "conv_1").shape == (2, 26, 26)
    assert shipped.occlusion(images[0]).probabilities.shape == (12, 12, 10)
    assert model.get_layer("output").activation.__name__ == "softmax"  # never swapped for a linear one
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert evidence_for(shipped.explorer) is shipped  # one per model


def test_first_per_class_grid_on_the_shipped_cnn(shipped):
    labels = np.repeat(np.arange(10), 3)
    images = np.random.default_rng(2).integers(0, 256, size=(30, 28, 28), dtype=np.uint8)
    chosen = core.first_per_class(labels, 2)
    means = shipped.class_filter_means(images[chosen], labels[chosen], "conv_2")
    assert means.shape == (10, 64) and np.all(means >= 0)  # ReLU maps
