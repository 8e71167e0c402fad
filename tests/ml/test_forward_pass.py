"""The forward pass recomputed with numpy (cnnviz.core.forward_pass) held to Keras, layer by layer,
for the shipped CNN and for the architectures an upload may have; and every explanation adding up."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnnviz.core import forward_pass as fp
from cnnviz.core.convolution import correlate2d, correlate_channels
from cnnviz.core.data import load_fashion_mnist_folder
from cnnviz.ml.activations import ActivationModel
from cnnviz.ml.forward_pass import NetworkTrace, layer_specs
from cnnviz.ml.models import load_shipped

TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}
"""Keras computes in float32; numpy here in float64."""

L = keras.layers


def _randomise_batch_norm(model, rng):
    """Moving statistics and gamma/beta away from 1 and 0, so BatchNormalization really scales and shifts."""
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            layer.set_weights([rng.uniform(0.5, 2.0, w.shape) if i in (0, 3) else rng.normal(0, 0.3, w.shape)
                               for i, w in enumerate(layer.get_weights())])
    return model


ARCHITECTURES = {
    "course-like, logits": lambda: [L.Conv2D(4, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten(),
                                    L.Dense(10)],
    "strided same, even kernel, average pooling": lambda: [
        L.Conv2D(3, 4, strides=2, padding="same", activation="tanh"),
        L.AveragePooling2D(2, padding="same"), L.Conv2D(5, 2, strides=2, padding="same", activation="elu"),
        L.Flatten(), L.Dense(7, activation="sigmoid"), L.Dense(10, activation="softmax")],
    "batch norm, dropout, several dense": lambda: [
        L.Rescaling(2.0, offset=-1.0), L.Conv2D(6, 3, padding="same", use_bias=False),
        L.BatchNormalization(), L.Activation("relu"), L.MaxPooling2D(3, strides=2), L.Dropout(0.5),
        L.Conv2D(4, 3, strides=2), L.Flatten(), L.Dense(16, activation="gelu"), L.Dropout(0.3),
        L.Dense(12, activation="leaky_relu"), L.Dense(10, activation="softmax")],
    "odd stride, dilation, reshape": lambda: [
        L.Conv2D(3, 3, strides=3, padding="same", activation="selu"),
        L.Conv2D(4, 3, dilation_rate=2, padding="same", activation="swish"),
        L.Reshape((10 * 10 * 4,)), L.Dense(10), L.Activation("softmax")],
}


def build(name: str, rng) -> keras.Model:
    keras.utils.set_random_seed(15)
    model = keras.Sequential([keras.Input((28, 28, 1)), *ARCHITECTURES[name]()])
    return _randomise_batch_norm(model, rng)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(15)
    return rng.integers(0, 256, size=(2, 28, 28), dtype=np.uint8)


@pytest.fixture(scope="module")
def shipped():
    return NetworkTrace(ActivationModel(load_shipped("cnn")))


def assert_every_layer_agrees(trace: NetworkTrace, image) -> None:
    run = trace.run(image)
    assert not run.skipped
    for name, ours, theirs in zip(trace.names, run.ours, run.keras):
        assert ours.shape == theirs.shape, name
        np.testing.assert_allclose(ours, theirs, **TOLERANCE, err_msg=f"layer {name}")


def test_shipped_cnn_agrees_with_keras_on_test_images(shipped, data_dir):
    """Every layer of the shipped CNN, recomputed from the previous recomputed layer, equals Keras'."""
    _, (test_images, _) = load_fashion_mnist_folder(data_dir / "fashion-mnist")
    for index in (0, 23, 28, 9999):
        assert_every_layer_agrees(shipped, test_images[index])


def test_shipped_cnn_agrees_with_keras_on_noise_and_black(shipped, images):
    for image in (*images, np.zeros((28, 28), np.uint8), np.full((28, 28), 255, np.uint8)):
        assert_every_layer_agrees(shipped, image)
    assert shipped.kinds == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense"]
    assert shipped.not_covered == []


def test_the_compiled_keras_pass_equals_the_eager_one(shipped, images):
    """NetworkTrace's compiled (XLA) Keras pass gives the feature extractor's own eager outputs, layer by layer,
    within float32 rounding; also after Keras' session is cleared (Streamlit does it after every run)."""
    for image in images:
        eager = shipped.explorer.activations(image[np.newaxis]).values()
        for name, compiled, own in zip(shipped.names, shipped.keras_outputs(image), eager):
            np.testing.assert_allclose(compiled, own[0], **TOLERANCE, err_msg=name)
    keras.backend.clear_session(free_memory=False)
    for compiled, own in zip(shipped.keras_outputs(images[0]), shipped.explorer.activations(images[:1]).values()):
        np.testing.assert_allclose(compiled, own[0], **TOLERANCE)


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_upload_architectures_agree_with_keras(name, images):
    """Strides 1-3, "valid" and "same", even kernels, average pooling, BatchNormalization, Dropout,
    Rescaling, Reshape, Activation layers and several dense layers: each layer equals Keras'."""
    trace = NetworkTrace(ActivationModel(build(name, np.random.default_rng(3))))
    for image in images:
        assert_every_layer_agrees(trace, image)
        for compiled, own in zip(trace.keras_outputs(image), trace.explorer.activations(image[np.newaxis]).values()):
            np.testing.assert_allclose(compiled, own[0], **TOLERANCE)  # compiled = eager Keras


@pytest.mark.parametrize("name", sorted(fp.ACTIVATIONS))
def test_every_allowed_activation_matches_keras(name):
    x = np.linspace(-6, 6, 61).reshape(1, -1)
    theirs = keras.ops.convert_to_numpy(keras.activations.get(name)(x.astype(np.float32)))
    np.testing.assert_allclose(fp.activate(name, x), theirs, **TOLERANCE)


def test_every_allowed_activation_is_recomputed():
    from cnnviz.ml.model_schema import ACTIVATIONS

    assert set(fp.ACTIVATIONS) == set(ACTIVATIONS)


def test_every_allowed_layer_type_is_covered():
    from cnnviz.core.architecture import ALLOWED_LAYER_TYPES

    assert set(fp.COVERED) == set(ALLOWED_LAYER_TYPES) - {"InputLayer"}


def test_correlate_channels_is_correlate2d_summed_over_channels():
    """The layer's sums are the Convolution page's correlate2d, one input channel at a time, added up."""
    rng = np.random.default_rng(2)
    x, kernels = rng.random((9, 8, 3)), rng.normal(size=(3, 2, 3, 2))
    for padding, ours_padding in (("valid", "valid"), ("same", "keras")):
        for stride in (1, 2, 3):
            out = correlate_channels(x, kernels, strides=(stride, stride), padding=padding)
            for f in range(2):
                expected = sum(correlate2d(x[..., c], kernels[:, :, c, f], padding=ours_padding, stride=stride)
                               for c in range(3))
                np.testing.assert_allclose(out[..., f], expected, rtol=1e-12, atol=1e-12)


# --- explanations add up to the value Keras computed ------------------------------------------


def test_conv_2_cell_adds_up_to_keras(shipped, images):
    """A conv_2 cell: 64 channel sums (largest first), shown + rest + bias, ReLU: Keras' value."""
    run = shipped.run(images[0])
    index = shipped.names.index("conv_2")
    theirs = run.keras[index]
    r, c, f = np.unravel_index(int(np.argmax(theirs)), theirs.shape)
    cell = fp.explain_conv(shipped.specs[index], run.input_of(index), int(r), int(c), int(f))
    assert len(cell.terms) == 64
    assert [abs(t.total) for t in cell.terms] == sorted((abs(t.total) for t in cell.terms), reverse=True)
    shown, rest, rest_count = cell.shown_and_rest()
    assert rest_count == 64 - fp.MAX_CHANNELS_SHOWN
    np.testing.assert_allclose(sum(t.total for t in shown) + rest + cell.bias, cell.pre_activation, rtol=1e-12)
    np.testing.assert_allclose(cell.value, theirs[r, c, f], **TOLERANCE)
    for t in cell.terms:
        np.testing.assert_allclose(t.products, t.window * t.kernel)


def test_conv_1_cell_with_negative_sum_is_zeroed(shipped, images):
    run = shipped.run(images[1])
    pre = fp.conv_pre_activation(shipped.specs[0], run.input)
    r, c, f = np.unravel_index(int(np.argmin(pre)), pre.shape)
    cell = fp.explain_conv(shipped.specs[0], run.input, int(r), int(c), int(f))
    assert cell.pre_activation < 0 and cell.value == 0.0 == run.keras[0][r, c, f]
    assert cell.origin == (r, c) and cell.inside.all()


def test_same_padding_cell_knows_its_zeros(images):
    trace = NetworkTrace(ActivationModel(build("strided same, even kernel, average pooling", np.random.default_rng(3))))
    run = trace.run(images[0])
    last = run.keras[0].shape[0] - 1
    cell = fp.explain_conv(trace.specs[0], run.input, last, last, 1)
    assert not cell.inside.all()  # the bottom/right window runs into Keras' extra zeros
    np.testing.assert_allclose(cell.value, run.keras[0][last, last, 1], **TOLERANCE)
    pooled = fp.explain_pool(trace.specs[1], run.ours[0], 0, 0, 2)
    np.testing.assert_allclose(pooled.value, run.keras[1][0, 0, 2], **TOLERANCE)
    np.testing.assert_allclose(pooled.value, pooled.window.mean())


def test_pool_flatten_dense_softmax_add_up(shipped, images):
    run = shipped.run(images[0])
    pool = fp.explain_pool(shipped.specs[1], run.ours[0], 4, 7, 9)
    assert pool.value == pool.window.max() and pool.kept is not None
    np.testing.assert_allclose(pool.value, run.keras[1][4, 7, 9], **TOLERANCE)
    assert fp.flat_source((5, 5, 64), 3 * 64 + 5) == (0, 3, 5)
    assert run.ours[4][3 * 64 + 5] == run.ours[3][0, 3, 5]
    unit = fp.explain_dense(shipped.specs[5], run.ours[4], 3)
    assert unit.rest_count == 1600 - fp.MAX_TERMS_SHOWN
    np.testing.assert_allclose(unit.products.sum() + unit.rest, unit.total, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(unit.value, run.keras[5][3], **TOLERANCE)
    logits = fp.explain_dense(shipped.specs[6], run.ours[5], 0)
    assert logits.value is None and logits.activation == "softmax"
    logit_vector = fp.dense_pre_activation(shipped.specs[6], run.ours[5])
    best = int(np.argmax(run.keras[6]))
    soft = fp.explain_softmax(logit_vector, best)
    np.testing.assert_allclose(soft.exponentials.sum(), soft.total)
    np.testing.assert_allclose(soft.value, run.keras[6][best], **TOLERANCE)


def test_elementwise_layers_explained(images):
    trace = NetworkTrace(ActivationModel(build("batch norm, dropout, several dense", np.random.default_rng(3))))
    run = trace.run(images[0])
    for index, kind in enumerate(trace.kinds):
        if kind in ("Rescaling", "BatchNormalization", "Activation", "Dropout"):
            position = (3, 4, run.ours[index].shape[-1] - 1) if run.ours[index].ndim == 3 else (2,)
            cell = fp.explain_elementwise(trace.specs[index], run.input_of(index), position)
            np.testing.assert_allclose(cell.value, run.keras[index][position], **TOLERANCE)
            assert cell.rule
    trace = NetworkTrace(ActivationModel(build("odd stride, dilation, reshape", np.random.default_rng(3))))
    run = trace.run(images[0])
    cell = fp.explain_elementwise(trace.specs[2], run.ours[1], (77,))
    assert cell.position == (1, 9, 1) and cell.value == cell.input_value


def test_bad_clicks_are_refused_in_words(shipped, images):
    run = shipped.run(images[0])
    with pytest.raises(ValueError, match="26x26"):
        fp.explain_conv(shipped.specs[0], run.input, 26, 0, 0)
    with pytest.raises(ValueError, match="units 0 to 19"):
        fp.explain_dense(shipped.specs[5], run.ours[4], 20)
    with pytest.raises(ValueError, match="10 classes"):
        fp.explain_softmax(run.ours[6], 10)
    with pytest.raises(ValueError, match="0 to 1599"):
        fp.flat_source((5, 5, 64), 1600)


def test_a_layer_not_covered_falls_back_to_keras_and_is_named():
    spec = fp.LayerSpec("odd", "SomethingElse")
    outputs, skipped = fp.forward([spec], np.ones(3), fallback=lambda i: np.zeros(3))
    assert skipped and "SomethingElse" in skipped[0] and outputs[0].tolist() == [0, 0, 0]
    with pytest.raises(fp.NotCovered):
        fp.forward([spec], np.ones(3))


def test_layer_specs_read_settings_and_weights():
    model = build("course-like, logits", np.random.default_rng(0))
    specs = layer_specs(model)
    assert [s.kind for s in specs] == ["Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    assert specs[0].get("activation") == "relu" and specs[0].weights[0].shape == (3, 3, 1, 4)
    assert specs[3].get("activation") == "linear"
