"""AppTest tests for the Activations page: model source, selection of images, filter and layers."""

from __future__ import annotations

import base64

import numpy as np
import pytest


from cnnviz.core import data  # noqa: E402
from cnnviz.ml.models import SHIPPED_MODELS  # noqa: E402
from cnnviz.core import activation_inputs  # noqa: E402
from cnnviz.ml import datasets  # noqa: E402
from cnnviz.ui import resources  # noqa: E402
from tests.conftest import open_in_apptest  # noqa: E402
from tests.pages.elements import only_chart as chart, widget

PAGE = "pages/activations.py"
CRASH = "Something went wrong"


@pytest.fixture(scope="module")
def shipped():
    path = SHIPPED_MODELS["cnn"]
    assert path.exists(), f"{path} is missing: the trained CNN must be committed to assets/models/"
    return path


@pytest.fixture
def at(shipped, data_dir):
    app = open_in_apptest(PAGE, timeout=180)
    assert_ok(app)
    return app


def assert_ok(app) -> None:
    assert not app.exception, app.exception
    assert not [e.value for e in app.error if CRASH in e.value]




def plotly_array(value) -> np.ndarray:
    """An array from a figure's JSON: a list, or Plotly's typed array {"dtype", "bdata" (base64)}."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value)


def row_titles(figure: dict) -> list[str]:
    """The grid's row labels: the y axis' tick labels, one per image."""
    return list(figure["layout"]["yaxis"]["ticktext"])


def test_defaults_are_the_courses(at):
    """Ankle boot, filter 1, the first three images of the class, every conv and pooling layer."""
    assert widget(at.selectbox, "act_class").value == activation_inputs.COURSE_LABEL
    assert widget(at.number_input, "act_filter").value == activation_inputs.COURSE_FILTER
    assert widget(at.number_input, "act_filter").max == 63
    assert widget(at.multiselect, "act_layers").value == ["conv_1", "pool_1", "conv_2", "pool_2"]
    (_, _), (_, labels) = datasets.load_fashion_mnist()
    first = np.flatnonzero(labels == 9)[:3]
    assert row_titles(chart(at)) == [f"#{i} Ankle boot" for i in first]


def test_changing_the_class_changes_the_rows(at):
    widget(at.selectbox, "act_class").set_value(7).run()
    assert_ok(at)
    titles = row_titles(chart(at))
    assert len(titles) == 3 and all(t.endswith("Sneaker") for t in titles)


def test_random_images_follow_the_seed(at):
    widget(at.radio, "act_how").set_value("random").run()
    widget(at.number_input, "act_seed").set_value(5).run()
    assert_ok(at)
    (_, _), (_, labels) = datasets.load_fashion_mnist()
    expected = activation_inputs.select_images(labels, 9, 3, how="random", seed=5)
    assert row_titles(chart(at)) == [f"#{i} Ankle boot" for i in expected]


def test_bad_indices_get_a_message_and_the_course_picks(at):
    widget(at.radio, "act_how").set_value("index").run()
    widget(at.text_input, "act_indices").set_value("0, seven").run()
    assert_ok(at)
    assert any("'seven' is not a whole number" in e.value for e in at.error)
    assert [t.split()[0] for t in row_titles(chart(at))] == ["#0", "#23", "#28"]


def test_layers_and_images_shape_the_grid(at):
    widget(at.multiselect, "act_layers").set_value(["conv_1"]).run()
    widget(at.slider, "act_count").set_value(5).run()
    assert_ok(at)
    figure = chart(at)
    assert len(row_titles(figure)) == 5
    assert [trace["name"] for trace in figure["data"]] == ["input", "conv_1"]  # one heatmap per column
    # edges: 5 maps of 26 rows, each but the last followed by 5 empty rows (one image per 28 + 3 rows)
    assert len(plotly_array(figure["data"][1]["y"])) == 5 * 26 + 4 * 5 + 1
    titles = [a["text"] for a in figure["layout"]["annotations"]]
    assert titles == ["<b>input</b><br>28x28", "<b>conv_1</b><br>26x26, filter 1"]


def test_filter_limited_to_the_layers_filters(at):
    assert widget(at.number_input, "act_filter").max == 63
    widget(at.number_input, "act_filter").set_value(63).run()
    assert_ok(at)


def test_learned_kernels_tab(at):
    """The kernels tab offers every kernel of conv_1 and the way to the Convolution lab.
    (The click itself is tested in the browser: AppTest does not keep a tab's state.)"""
    at.session_state["act_view"] = "Learned kernels"
    at.run()
    assert_ok(at)
    assert widget(at.number_input, "act_kernel").max == 63
    assert widget(at.button, "act_open_kernel").label == "Open kernel 1 in the Convolution lab"
    assert any("adds a bias" in m.value for m in at.markdown)


def test_bad_upload_keeps_the_shipped_model(at):
    widget(at.radio, "act_source").set_value("upload").run()
    uploader = at.get("file_uploader")[0]
    uploader.set_value(("model.keras", b"not a model at all", "application/octet-stream"))
    at.run()
    assert_ok(at)
    assert any("not a Keras model file" in e.value for e in at.error)
    assert any("Showing the shipped CNN" in i.value for i in at.info)
    assert row_titles(chart(at))  # the grid is still there


def test_without_fashion_mnist_the_drawing_is_used(shipped, monkeypatch):
    """Offline and without CNNVIZ_DATA_DIR: a message saying how to provide the data, and the drawing."""
    def unavailable(**kwargs):
        raise data.DataUnavailable("Fashion-MNIST is not cached and could not be downloaded.")

    monkeypatch.setattr(resources, "load_fashion_mnist", unavailable)
    resources._fashion_mnist.clear()
    try:
        app = open_in_apptest(PAGE, timeout=180)
        assert_ok(app)
        assert any(data.DATA_DIR_ENV in w.value for w in app.warning)
        assert row_titles(chart(app)) == ["your drawing"]
    finally:
        resources._fashion_mnist.clear()
