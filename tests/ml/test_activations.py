"""Tests for cnnviz.ml.activations: the feature extractor, its cache, choosing images, drawing."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest


from cnnviz.ml import activations as act  # noqa: E402
from cnnviz.ml.models import SHIPPED_MODELS, build_cnn, load_shipped  # noqa: E402
from cnnviz.core import activation_inputs  # noqa: E402

SHIPPED_SHAPES = {"conv_1": (26, 26, 64), "pool_1": (13, 13, 64), "conv_2": (11, 11, 64), "pool_2": (5, 5, 64)}


@pytest.fixture(scope="module")
def small_cnn():
    """A small CNN like the course's (4 filters), untrained: shapes and plumbing only."""
    keras.utils.set_random_seed(0)
    return build_cnn(filters=4, dense_units=8)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(0, 256, size=(3, 28, 28), dtype=np.uint8)


def test_shipped_cnn_extractor_shapes():
    """The shipped CNN's maps are 26x26x64, 13x13x64, 11x11x64 and 5x5x64 (the course's model.summary())."""
    path = SHIPPED_MODELS["cnn"]
    assert path.exists(), f"{path} is missing: the trained CNN must be committed to assets/models/"
    explorer = act.ActivationModel(load_shipped("cnn"))
    assert explorer.map_layers() == list(SHIPPED_SHAPES)
    for name, shape in SHIPPED_SHAPES.items():
        assert explorer.shape(name) == shape
    maps = explorer.activations(np.zeros((3, 28, 28), np.uint8))
    assert {name: maps[name].shape[1:] for name in SHIPPED_SHAPES} == SHIPPED_SHAPES
    assert explorer.probabilities(np.zeros((2, 28, 28), np.uint8)).shape == (2, 10)


def test_sequential_loaded_from_file(tmp_path, small_cnn, images):
    """A Sequential model saved and loaded back (Keras 3: no inputs until called) gives its maps."""
    path = tmp_path / "cnn.keras"
    small_cnn.save(path)
    loaded = keras.saving.load_model(path, compile=False, safe_mode=True)
    explorer = act.ActivationModel(loaded)
    assert explorer.names == ["conv_1", "pool_1", "conv_2", "pool_2", "flatten", "dense_1", "output"]
    assert explorer.output_shapes[:4] == [(26, 26, 4), (13, 13, 4), (11, 11, 4), (5, 5, 4)]
    expected = small_cnn.predict(images.reshape(3, 28, 28, 1) / 255.0, verbose=0)
    np.testing.assert_allclose(explorer.probabilities(images), expected, rtol=1e-4, atol=1e-6)


def test_sequential_never_built():
    """A Sequential model without an Input gets one: its layers are called on 28x28x1."""
    model = keras.Sequential([keras.layers.Conv2D(2, 3, name="c"), keras.layers.MaxPooling2D(name="p"),
                              keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    explorer = act.ActivationModel(model)
    assert explorer.shape("c") == (26, 26, 2) and explorer.shape("p") == (13, 13, 2)


def test_functional_model(images):
    """Functional models use their own graph; conv maps match a direct sub-model."""
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(3, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.AveragePooling2D(2, name="avg")(x)
    outputs = keras.layers.Dense(10)(keras.layers.Flatten()(x))
    model = keras.Model(inputs, outputs)
    explorer = act.ActivationModel(model)
    assert explorer.map_layers() == ["conv", "avg"]
    direct = keras.Model(inputs, model.get_layer("conv").output)(images.reshape(3, 28, 28, 1) / 255.0)
    np.testing.assert_allclose(explorer.maps(images, "conv"), np.asarray(direct), rtol=1e-5, atol=1e-6)
    probabilities = explorer.probabilities(images)  # logits -> softmax
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)


def test_activations_cached_per_images(small_cnn, images):
    """The same images are computed once; other images are computed anew."""
    explorer = act.ActivationModel(small_cnn)
    first = explorer.maps(images, "conv_1")
    assert explorer.maps(images.copy(), "conv_1") is first
    assert explorer.maps(images[:2], "conv_1") is not first
    assert not first.flags.writeable


def test_wrong_input_raises_value_error():
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(2, 3), keras.layers.Flatten(),
                              keras.layers.Dense(10)])
    with pytest.raises(ValueError):
        act.ActivationModel(model)


def test_unknown_layer_name(small_cnn):
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        act.ActivationModel(small_cnn).shape("nope")


def test_first_conv_kernels(small_cnn):
    kernels, biases = act.ActivationModel(small_cnn).first_conv_kernels()
    weights = small_cnn.get_layer("conv_1").get_weights()[0]
    assert kernels.shape == (4, 3, 3) and biases.shape == (4,)
    np.testing.assert_allclose(kernels[2], weights[:, :, 0, 2])


LABELS = np.array([9, 1, 9, 0, 9, 9, 2, 9])


@pytest.mark.parametrize(
    "how, kwargs, expected",
    [
        ("first", {}, [0, 2, 4]),
        ("index", {"indices": [3, 6]}, [3, 6]),
    ],
)
def test_select_images(how, kwargs, expected):
    assert activation_inputs.select_images(LABELS, 9, 3, how=how, **kwargs).tolist() == expected


def test_select_random_is_seeded_and_of_the_class():
    a = activation_inputs.select_images(LABELS, 9, 3, how="random", seed=4)
    assert a.tolist() == activation_inputs.select_images(LABELS, 9, 3, how="random", seed=4).tolist()
    assert len(set(a.tolist())) == 3 and all(LABELS[a] == 9)


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((9, 3), {"how": "last"}, "how must be one of ['first', 'random', 'index'], got 'last'"),
        ((10, 3), {}, "label must be 0..9"),
        ((9, 11), {}, "count must be 1..10"),
        ((9, 3), {"how": "index", "indices": [99]}, "indices must be between 0 and 7"),
    ],
)
def test_select_images_refuses(args, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        activation_inputs.select_images(LABELS, *args, **kwargs)


@pytest.mark.parametrize(
    "text, expected",
    [("0, 23, 28", [0, 23, 28]), ("5", [5]), ("1;2 3", [1, 2, 3])],
)
def test_parse_indices(text, expected):
    assert activation_inputs.parse_indices(text, size=100) == expected


@pytest.mark.parametrize(
    "text, message",
    [("", "at least one"), ("a, 2", "'a' is not a whole number"), ("100", "outside the test set"),
     (",".join(["1"] * 11), "at most 10")],
)
def test_parse_indices_refuses(text, message):
    with pytest.raises(ValueError, match=message):
        activation_inputs.parse_indices(text, size=100)


def test_as_probabilities():
    probabilities = np.array([[0.2, 0.8]])
    assert act.as_probabilities(probabilities) is not None
    np.testing.assert_allclose(act.as_probabilities(probabilities), probabilities)
    np.testing.assert_allclose(act.as_probabilities(np.array([[0.0, np.log(3.0)]])), [[0.25, 0.75]])


def test_to_model_input_resizes_and_inverts():
    image = np.full((56, 84, 3), 255, np.uint8)
    result = activation_inputs.to_model_input(image, invert=True)
    assert result.shape == (28, 28) and result.dtype == np.uint8 and result.max() == 0

