"""AppTest tests for the Inside the network page: the whole pass, choosing the value explained
(clicks land in session_state), each layer type's explanation with "matches Keras", and links."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnnviz.ml.models import SHIPPED_MODELS
from cnnviz.ui import convolution_lab as lab
from cnnviz.ui import inside_views as views
from cnnviz.ui import resources, state
from cnnviz.ui.image_inputs import FASHION_TEST
from tests.conftest import open_in_apptest
from tests.pages.test_links import link_warning, open_link

PAGE = "pages/inside.py"
CONV_1, POOL_1, CONV_2, POOL_2, FLATTEN, DENSE, OUTPUT = range(7)


@pytest.fixture
def at(data_dir):
    assert SHIPPED_MODELS["cnn"].exists()
    app = open_in_apptest(PAGE, timeout=180)
    assert_ok(app)
    return app


def assert_ok(app) -> None:
    assert not app.exception, app.exception
    assert not [e.value for e in app.error], [e.value for e in app.error]


def pick(app, layer: int, position: tuple[int, ...]):
    """What a click on a layer's picture does: the value explained is kept in session_state."""
    app.session_state[views.PICK_KEY] = (layer, position)
    app.run()
    assert_ok(app)
    return app


def matches_keras(app) -> bool:
    return any(s.value.startswith("**Matches Keras**") for s in app.success)


def text(app) -> str:
    return "\n".join(m.value for m in app.markdown)


def test_opens_on_the_strongest_conv_1_value_of_the_first_ankle_boot(at):
    heading = at.subheader[0].value
    assert heading.startswith("conv_1, filter ")
    assert "The 3x3 window of **input** under the kernel" in text(at)
    assert "ReLU" in text(at) and matches_keras(at)
    assert at.query_params["layer"] == "conv_1" and "class" not in at.query_params  # the default class
    layer, (f, r, c) = at.session_state[views.PICK_KEY]
    assert layer == CONV_1 and heading == f"conv_1, filter {f}, row {r}, column {c}"


def test_a_conv_2_cell_lists_channels_by_contribution(at):
    pick(at, CONV_2, (5, 4, 6))
    assert at.subheader[0].value == "conv_2, filter 5, row 4, column 6"
    body = text(at)
    assert "**pool_1** has 64 channels" in body
    assert "the other 60 channels together" in body and "**+ bias**" in body
    assert matches_keras(at)
    assert [e.label for e in at.expander if "All 64 channels" in e.label]


def test_pool_flatten_dense_and_probability(at):
    pick(at, POOL_2, (3, 1, 2))
    assert "keeps its **largest value**" in text(at) and matches_keras(at)
    pick(at, FLATTEN, (1 * 5 * 64 + 2 * 64 + 7,))
    assert "pool_2's **row 1, column 2, channel 7**" in text(at) and matches_keras(at)
    pick(at, DENSE, (3,))
    assert "Unit 3 multiplies each of the 1600 values of **flatten**" in text(at) and matches_keras(at)
    pick(at, OUTPUT, (9,))
    assert at.subheader[0].value == "output: the probability of Ankle boot (class 9)"
    assert "**Softmax** turns the logits into probabilities" in text(at)
    assert "**Sum** of the exponentials" in text(at) and matches_keras(at)


def test_flatten_button_opens_its_source(at):
    pick(at, FLATTEN, (70,))
    next(b for b in at.button if b.key == "in_to_source").click().run()
    assert_ok(at)
    assert at.session_state[views.PICK_KEY] == (POOL_2, (6, 0, 1))
    assert at.subheader[0].value == "pool_2, channel 6, row 0, column 1"


def test_a_pick_that_does_not_exist_falls_back_to_the_default(at):
    pick(at, 42, (0,))
    assert at.subheader[0].value.startswith("conv_1, filter ")
    pick(at, CONV_1, (0, 99, 99))
    assert at.subheader[0].value.startswith("conv_1, filter ")


def test_another_image_keeps_the_value_explained(at):
    pick(at, CONV_2, (1, 2, 3))
    at.session_state["in_index"] = 5
    at.run()
    assert_ok(at)
    assert at.subheader[0].value == "conv_2, filter 1, row 2, column 3" and matches_keras(at)
    assert at.query_params["index"] == "5" and at.query_params["at"] == "1,2,3"


def test_agreement_table_says_every_layer_matches(at):
    tables = [t.value for t in at.table if "largest |numpy − Keras|" in t.value.columns]
    assert len(tables) == 1
    assert list(tables[0]["matches (1e-5)"]) == ["yes"] * 7


def test_a_link_opens_the_value_explained(data_dir):
    at = open_link("inside", {"class": "Bag", "index": "3", "layer": "conv_2", "at": "5,3,4"}, timeout=180)
    assert at.subheader[0].value == "conv_2, filter 5, row 3, column 4"
    assert matches_keras(at)


def test_a_bad_link_is_named_and_the_page_opens(data_dir):
    at = open_link("inside", {"layer": "conv_9", "at": "1"}, timeout=180)
    assert "layer='conv_9' was ignored" in link_warning(at)
    assert at.subheader[0].value.startswith("conv_1, filter ")


def test_a_trained_model_with_same_padding_strides_and_average_pooling(data_dir):
    """The student's own model (here: "same" padding, stride 2, an even kernel, average pooling, logits)."""
    keras.utils.set_random_seed(1)
    model = keras.Sequential([
        keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 4, strides=2, padding="same", activation="relu", name="c1"),
        keras.layers.AveragePooling2D(2, name="avg"), keras.layers.Flatten(name="flat"),
        keras.layers.Dense(10, name="logits")])
    at = open_in_apptest(PAGE, timeout=180)
    at.session_state[state.TRAINED_MODEL_KEY] = model
    at.session_state[state.TRAINED_MODEL_NAME_KEY] = "my same-padding CNN"
    at.session_state[views.SOURCE_KEY] = "trained"
    at.run()
    assert_ok(at)
    assert at.subheader[0].value.startswith("c1, filter ")
    assert matches_keras(at)
    pick(at, 0, (2, 13, 13))  # the bottom-right corner: Keras' extra zero
    assert matches_keras(at)
    assert any("padding zeros" in c.value for c in at.caption)
    pick(at, 1, (1, 3, 3))
    assert "window's **mean**" in text(at) and matches_keras(at)
    pick(at, 3, (4,))
    assert "**+ bias**" in text(at) and matches_keras(at)
    assert not [i.value for i in at.info if "Not recomputed" in i.value]


def test_open_a_conv_1_filter_in_the_convolution_lab(at):
    """The learned kernel travels to the lab with a signed output, with the test image (as its class and
    number within the class) and the clicked cell."""
    from cnnviz.ml.models import load_shipped

    pick(at, CONV_1, (7, 10, 12))
    next(b for b in at.button if b.key == "in_open_lab").click().run()
    assert not at.exception
    assert_ok(at)
    settings = at.session_state[state.CONV_SETTINGS_KEY]
    kernel = load_shipped("cnn").get_layer("conv_1").get_weights()[0][:, :, 0, 7]
    np.testing.assert_allclose(settings.kernel, kernel, rtol=1e-6)
    assert settings.mapping == "signed" and settings.padding == "valid" and settings.preset is None
    assert at.title[0].value.startswith("Convolution")  # the lab opened
    assert at.selectbox(key=lab.IMAGE_KEY).value == FASHION_TEST
    assert (at.selectbox(key=lab.CLASS_KEY).value, at.number_input(key=lab.INDEX_KEY).value) == (9, 0)
    assert (at.number_input(key="conv_row").value, at.number_input(key="conv_col").value) == (10, 12)
    assert at.query_params["img"] == "fashion" and "class" not in at.query_params  # Ankle boot, 0: the defaults


def conv_1_of(test_number: int) -> np.ndarray:
    """Keras' conv_1 output (26, 26, 64) for one Fashion-MNIST test image."""
    from cnnviz.core.data import prepare_images
    from cnnviz.ml.datasets import load_fashion_mnist
    from cnnviz.ml.models import load_shipped

    model = load_shipped("cnn")
    image = load_fashion_mnist()[1][0][test_number]
    return keras.Model(model.inputs, model.get_layer("conv_1").output)([prepare_images(image)]).numpy()[0]


def test_the_lab_computes_the_networks_conv_1_value(at):
    """Sent to the lab, test image 7 of Pullover: the lab's 0..255 sum ÷ 255 + bias, ReLU, is Keras' conv_1
    value at the clicked cell, and the lab's explanation says so."""
    from cnnviz.core import explain

    at.selectbox(key="in_class").set_value(2).run()
    at.number_input(key="in_index").set_value(7).run()
    assert at.session_state[views.TEST_IMAGE_KEY] == (2, 7)
    pick(at, CONV_1, (5, 9, 14))
    next(b for b in at.button if b.key == "in_open_lab").click().run()
    assert_ok(at)
    assert (at.selectbox(key=lab.CLASS_KEY).value, at.number_input(key=lab.INDEX_KEY).value) == (2, 7)
    assert at.query_params["class"] == "2" and at.query_params["index"] == "7"
    number = int(np.flatnonzero(resources.fashion_mnist()[0]["test_labels"] == 2)[7])
    image = resources.fashion_mnist()[0]["test_raw"][number]
    learned = at.session_state[lab.LEARNED_KEY]
    info = explain.pixel_arithmetic(image, at.session_state[state.CONV_SETTINGS_KEY], 9, 14)
    _, after = lab.network_value(info.raw, learned)
    np.testing.assert_allclose(after, conv_1_of(number)[9, 14, 5], rtol=1e-5, atol=1e-5)
    assert after > 0  # a cell ReLU keeps, so the bias matters
    assert any("**In the network** (conv_1, filter 5" in m.value and f"**{after:.6g}**" in m.value
               for m in at.markdown)
    assert [c for c in at.caption if c.value == lab.NETWORK_SCALE_NOTE]


def test_a_drawing_is_not_sent_to_the_lab(at):
    """With the drawing shown, only the kernel goes to the lab: the lab keeps its own image."""
    at.toggle(key="in_drawing").set_value(True).run()
    pick(at, CONV_1, (3, 10, 12))
    next(b for b in at.button if b.key == "in_open_lab").click().run()
    assert_ok(at)
    assert at.title[0].value.startswith("Convolution")
    assert at.selectbox(key=lab.IMAGE_KEY).value.startswith("Stairwell")
    assert at.session_state[state.CONV_SETTINGS_KEY].mapping == "signed"
