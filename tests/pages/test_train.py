"""AppTest tests for the Train page: data panel, model summary, shape errors, a tiny training."""

from __future__ import annotations

import keras
import pytest

from cnnviz.core import architecture
from cnnviz.ml.queue import training_queue
from cnnviz.ui import resources
from cnnviz.ui import state
from tests.conftest import button, open_in_apptest

PAGE = "pages/train.py"
TIMEOUT = 180  # TensorFlow's import and a training take longer than AppTest's default 3 s


@pytest.fixture
def at(data_dir):
    app = open_in_apptest(PAGE, timeout=TIMEOUT)
    assert not app.exception, app.exception
    return app


def test_page_opens_with_data_panel_and_course_cnn_summary(at):
    assert at.title[0].value == "Train a network"
    code = at.code[0].value
    assert "(60000, 28, 28)" in code and "(60000, 28, 28, 1)" in code and "0.0..1.0" in code
    summary = at.dataframe[0].value
    assert list(summary["layer"]) == ["conv_1", "pool_1", "conv_2", "pool_2", "flatten", "dense_1", "output"]
    assert summary["parameters"].sum() == architecture.CNN_PARAMS
    assert "(None, 5, 5, 64)" in list(summary["output shape"])
    comparison = at.dataframe[1].value
    # the course page's dense network, its CNN (no results printed), the shipped CNN's model card
    assert list(comparison["test accuracy"]) == ["0.8675", "—", "0.9143"]
    assert list(comparison["validation accuracy"]) == ["—", "—", "0.9213"]


def test_dense_summary(at):
    at.radio(key="train_arch").set_value("Dense network (course)").run()
    assert not at.exception
    assert at.dataframe[0].value["parameters"].sum() == architecture.DENSE_PARAMS


def test_custom_cnn_that_shrinks_below_one_pixel_is_refused(at):
    at.radio(key="train_arch").set_value("Custom CNN").run()
    at.slider(key="train_kernel").set_value(5)
    at.slider(key="train_blocks").set_value(3).run()
    assert not at.exception
    assert len(at.error) == 1 and "conv_3: 4 - 5 + 1 = 0" in at.error[0].value
    assert button(at, "Start training").disabled


def test_tiny_training_adds_a_run_curve_and_comparison_row(at):
    at.select_slider(key="train_size").set_value(500)
    at.slider(key="train_epochs").set_value(1)
    at.select_slider(key="train_batch").set_value(64)
    button(at, "Start training").click().run()
    assert not at.exception, at.exception
    assert not at.error
    runs = at.session_state["train_runs"]
    assert len(runs) == 1 and runs[0].status == "done" and runs[0].epochs_done == 1
    assert set(runs[0].history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert 0.0 <= runs[0].test_accuracy <= 1.0
    assert isinstance(at.session_state[state.TRAINED_MODEL_KEY], keras.Model)
    comparison = at.dataframe[1].value
    assert len(comparison) == 4 and comparison["model"].iloc[3] == "CNN"
    assert comparison["training images"].iloc[3] == "500"
    assert not training_queue().running  # the slot was released
    assert at.get("plotly_chart")  # the curves


def test_without_data_the_page_says_how_to_provide_it(monkeypatch, no_data_dir):
    from keras.datasets import fashion_mnist

    def offline():
        raise OSError("no network in tests")

    monkeypatch.setattr(fashion_mnist, "load_data", offline)
    resources._fashion_mnist.clear()
    try:
        app = open_in_apptest(PAGE, timeout=TIMEOUT)
        assert not app.exception
        assert len(app.error) == 1 and "CNNVIZ_DATA_DIR" in app.error[0].value
        assert not app.main.button  # the page stops there
    finally:
        resources._fashion_mnist.clear()


def test_training_waits_for_the_server_slot(at):
    """Another session holds the one training slot: this one waits, then trains after it."""
    import threading

    queue = training_queue()
    other = queue.join("another student")
    assert queue.try_acquire(other)
    threading.Timer(2.0, queue.release, args=(other,)).start()
    at.select_slider(key="train_size").set_value(500)
    at.slider(key="train_epochs").set_value(1)
    at.radio(key="train_arch").set_value("Dense network (course)")
    button(at, "Start training").click().run()
    assert not at.exception, at.exception
    runs = at.session_state["train_runs"]
    assert len(runs) == 1 and runs[0].status == "done"
    assert not queue.running and len(queue) == 0


def test_shifted_images_compare_dense_and_cnn(at):
    at.slider(key="train_shift").set_value(4)
    button(at, "Evaluate on shifted test images").click().run()
    assert not at.exception, at.exception
    shifts, curves, axis = at.session_state["train_shift_result"]
    assert shifts == list(range(-4, 5)) and axis == "x"
    assert set(curves) == {"dense (shipped)", "CNN (shipped)"}
    assert curves["CNN (shipped)"][0] > curves["dense (shipped)"][0]  # moved 4 px left
    assert curves["dense (shipped)"][4] > curves["dense (shipped)"][0] + 0.1  # centred is best


def test_custom_cnn_trains_and_is_named_by_its_settings(at):
    at.radio(key="train_arch").set_value("Custom CNN").run()
    at.select_slider(key="train_filters").set_value(8)
    at.slider(key="train_kernel").set_value(5)
    at.slider(key="train_blocks").set_value(1)
    at.select_slider(key="train_size").set_value(500)
    at.slider(key="train_epochs").set_value(1).run()
    assert list(at.dataframe[0].value["output shape"])[:2] == ["(None, 24, 24, 8)", "(None, 12, 12, 8)"]
    button(at, "Start training").click().run()
    assert not at.exception, at.exception
    run = at.session_state["train_runs"][-1]
    assert run.status == "done" and run.name == "Custom CNN 1x(8 5x5), dense 20"
    assert run.model.get_layer("conv_1").kernel.shape == (5, 5, 1, 8)
