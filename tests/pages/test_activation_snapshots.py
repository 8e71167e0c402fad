"""AppTest of the Activations page's "watch it learn" slider and its Play animation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnviz.core.snapshots import load_series
from cnnviz.ml.models import SHIPPED_SNAPSHOTS
from tests.conftest import open_in_apptest
from tests.pages.elements import widget
from tests.pages.test_activations import assert_ok, plotly_array

PAGE = "pages/activations.py"
SLIDER = "act_snapshot_shipped"


@pytest.fixture(scope="module")
def series():
    path = SHIPPED_SNAPSHOTS["cnn"]
    assert path.exists(), f"{path} is missing: the shipped CNN's snapshots must be committed beside it"
    return load_series(path)


@pytest.fixture
def at(series, data_dir):
    app = open_in_apptest(PAGE, timeout=180)
    assert_ok(app)
    return app


def charts(app) -> list[dict]:
    """Every figure the page sent."""
    return [json.loads(e.proto.spec) for e in app.get("plotly_chart")]


def grid(app) -> dict:
    """The activation grid (the figure whose traces start with the input image, without frames)."""
    return next(spec for spec in charts(app) if spec["data"][0].get("name") == "input" and not spec.get("frames"))


def matrix(value) -> np.ndarray:
    """A 2-D array from a figure's JSON (a nested list, or a typed array with its shape)."""
    if isinstance(value, dict):
        shape = tuple(int(n) for n in str(value["shape"]).split(","))
        return plotly_array(value).reshape(shape).astype(np.float64)
    return np.asarray(value, dtype=np.float64)


def maps_of(spec: dict) -> list[np.ndarray]:
    return [plotly_array(t["customdata"]) for t in spec["data"][1:]]


def test_the_slider_names_every_snapshot_and_starts_trained(at, series):
    slider = widget(at.select_slider, SLIDER)
    assert slider.options == [label + (" (trained)" if i == len(series) - 1 else "")
                              for i, label in enumerate(series.labels)]
    assert slider.options[0] == "random start" and slider.options[1] == "epoch 1 · batch 10"
    assert slider.value == len(series) - 1
    accuracy = next(m for m in at.metric if m.label == "Validation accuracy")
    assert accuracy.value == f"{series[-1].val_accuracy:.1%}"


def test_moving_the_slider_changes_the_maps_predictions_and_accuracy(at, series):
    trained = maps_of(grid(at))
    widget(at.select_slider, SLIDER).set_value(0).run()
    assert_ok(at)
    start = maps_of(grid(at))
    assert any(not np.array_equal(a, b) for a, b in zip(trained, start))
    accuracy = next(m for m in at.metric if m.label == "Validation accuracy")
    assert accuracy.value == f"{series[0].val_accuracy:.1%}"
    assert any("not the trained one" in c.value for c in at.caption)


def test_the_kernels_tab_follows_the_slider(at, series):
    at.session_state["act_view"] = "Learned kernels"
    widget(at.select_slider, SLIDER).set_value(0).run()
    assert_ok(at)
    kernels = next(spec for spec in charts(at) if "kernels" in (spec["layout"].get("title") or {}).get("text", ""))
    z = matrix(kernels["data"][0]["z"])
    first = series[0].weights[0][:, :, 0, 0]  # conv_1's kernel 0 at the random start
    np.testing.assert_allclose(z[:3, :3], first, rtol=1e-6)
    assert "at the random start" in kernels["layout"]["title"]["text"]
    assert any("for the trained kernels beyond" in c.value for c in at.caption)


def test_play_builds_one_figure_with_a_frame_per_snapshot(at, series):
    widget(at.toggle, "act_snapshot_play").set_value(True).run()
    assert_ok(at)
    animation = next(spec for spec in charts(at) if spec.get("frames"))
    assert len(animation["frames"]) == len(series)
    assert animation["layout"]["updatemenus"][0]["buttons"][0]["label"] == "▶ Play"
    first, last = animation["frames"][0]["data"][-1]["z"], animation["frames"][-1]["data"][-1]["z"]
    assert not np.array_equal(plotly_array(first), plotly_array(last))  # the kernels change


def test_an_uploaded_model_has_no_snapshots(at):
    """A good upload (seeded: the upload itself is tested in test_model_upload.py): the message,
    and no slider."""
    from cnnviz.ml.activations import ActivationModel
    from cnnviz.ml.models import load_shipped

    at.session_state["act_source__upload__last_good"] = ("mine.keras", ActivationModel(load_shipped("cnn")))
    widget(at.radio, "act_source").set_value("upload").run()
    assert_ok(at)
    assert any("Snapshots of an uploaded model do not exist" in i.value for i in at.info)
    assert not [s for s in at.select_slider if s.key == SLIDER]


def test_a_training_on_the_train_page_keeps_snapshots_the_activations_page_shows(data_dir):
    """A tiny training (1,000 images, batch 16: 63 batches an epoch): snapshots at the start, after
    batches 10 and 50, after each epoch; their memory is shown; the Activations page's slider offers
    them for "My model from the Train page", the last equal to the trained model."""
    from cnnviz.core.snapshots import SESSION_BUDGET_BYTES
    from tests.conftest import button

    app = open_in_apptest("pages/train.py", timeout=240)
    app.select_slider(key="train_size").set_value(1000)
    app.slider(key="train_epochs").set_value(2)
    app.select_slider(key="train_batch").set_value(16)
    button(app, "Start training").click().run()
    assert_ok(app)
    run = app.session_state["train_runs"][-1]
    assert run.status == "done"
    assert run.snapshots.labels == ["random start", "epoch 1 · batch 10", "epoch 1 · batch 50", "epoch 1", "epoch 2"]
    assert all(a is not None for a in run.snapshots.val_accuracies())
    assert all(np.array_equal(a, b) for a, b in zip(run.snapshots[-1].weights, run.model.get_weights()))
    assert any("5 weight snapshots kept" in c.value and f"at most {SESSION_BUDGET_BYTES // 2**20} MB" in c.value
               for c in app.caption)
    curves = next(json.loads(e.proto.spec) for e in app.get("plotly_chart"))
    marked = next(t for t in curves["data"] if t.get("name", "").startswith("weight snapshot"))
    assert len(plotly_array(marked["x"])) == 5

    app.switch_page(PAGE)
    app.run()
    widget(app.radio, "act_source").set_value("trained").run()
    assert_ok(app)
    slider = widget(app.select_slider, "act_snapshot_trained")
    assert slider.options[-1] == "epoch 2 (trained)" and slider.value == 4
    slider.set_value(0).run()
    assert_ok(app)
    accuracy = next(m for m in app.metric if m.label == "Validation accuracy")
    assert accuracy.value == f"{run.snapshots[0].val_accuracy:.1%}"
