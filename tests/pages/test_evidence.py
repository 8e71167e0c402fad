"""AppTest tests for the Class evidence page: the three views, another class, the classes x filters
grid, and opening a class and filter in the Activations page's grid."""

from __future__ import annotations


import numpy as np
import pytest


from cnnviz.ml import datasets  # noqa: E402
from cnnviz.ml.models import SHIPPED_MODELS  # noqa: E402
from cnnviz.ui import state  # noqa: E402
from tests.conftest import open_in_apptest  # noqa: E402
from tests.pages.elements import only_chart as figure, widget

PAGE = "pages/evidence.py"
CRASH = "Something went wrong"
TABS = {"occlusion": "Occlusion", "saliency": "Saliency", "gradcam": "Grad-CAM",
        "grid": "Which filter answers to which class"}


@pytest.fixture
def at(data_dir):
    assert SHIPPED_MODELS["cnn"].exists()
    app = open_in_apptest(PAGE, timeout=180)
    assert_ok(app)
    return app


def assert_ok(app) -> None:
    assert not app.exception, app.exception
    assert not [e.value for e in app.error], [e.value for e in app.error]




def open_tab(app, name: str):
    app.session_state["ev_view"] = TABS[name]
    app.run()
    assert_ok(app)
    return figure(app)


def test_opens_on_occlusion_of_the_first_ankle_boots(at):
    (_, _), (_, labels) = datasets.load_fashion_mnist()
    first = np.flatnonzero(labels == 9)[:3]
    spec = figure(at)
    titles = spec["layout"]["yaxis"]["ticktext"]
    assert [t.split("<br>")[0] for t in titles] == [f"#{i} Ankle boot" for i in first]
    assert [t["name"] for t in spec["data"]] == ["input", "probability drop", "image", "over the image"]
    assert any(m.value.startswith("**Occlusion** measures") and "Limits" in m.value for m in at.markdown)
    assert widget(at.slider, "ev_patch").value == 6 and widget(at.slider, "ev_stride").value == 2


@pytest.mark.parametrize("tab, map_name", [("saliency", "|gradient|"), ("gradcam", "Grad-CAM on conv_2")])
def test_saliency_and_grad_cam(at, tab, map_name):
    spec = open_tab(at, tab)
    assert spec["data"][1]["name"] == map_name
    assert any("*Limits*" in m.value for m in at.markdown)


def test_signed_saliency_and_conv_1_grad_cam(at):
    open_tab(at, "saliency")
    widget(at.radio, "ev_sign").set_value("signed").run()
    assert_ok(at)
    assert figure(at)["data"][1]["name"] == "gradient"
    open_tab(at, "gradcam")
    widget(at.selectbox, "ev_cam_layer").set_value("conv_1").run()
    assert_ok(at)
    assert "26x26" in figure(at)["layout"]["annotations"][1]["text"]


def test_explaining_another_class(at):
    widget(at.selectbox, "ev_target").set_value(8).run()
    assert_ok(at)
    assert all("→ Bag" in t for t in figure(at)["layout"]["yaxis"]["ticktext"])


def test_classes_x_filters_grid_then_open_in_the_activation_grid(at):
    spec = open_tab(at, "grid")
    cells = spec["data"][0]
    assert cells["type"] == "scatter" and cells["customdata"]["shape"].replace(" ", "") == "640,3"
    widget(at.selectbox, "ev_grid_class").set_value(8).run()
    assert_ok(at)
    chosen = widget(at.number_input, "ev_grid_filter_8").value
    button = widget(at.button, "ev_grid_open")
    assert button.label == f"Open Bag, filter {chosen} in the activation grid"
    button.click().run()
    assert not at.exception
    assert at.title[0].value == "Activation maps"
    assert widget(at.selectbox, "act_class").value == 8
    assert widget(at.number_input, "act_filter").value == chosen
    assert at.session_state[state.ACTIVATIONS_HOW_KEY] == "first"


def test_a_click_on_a_cell_opens_it(at):
    """What the chart's on_select callback does with a clicked marker (AppTest cannot click a chart)."""
    from cnnviz.ui import evidence_views

    open_tab(at, "grid")
    at.session_state[evidence_views.OPEN_REQUEST_KEY] = True
    at.session_state[state.ACTIVATIONS_CLASS_KEY] = 6
    at.session_state[state.ACTIVATIONS_FILTER_KEY] = 17
    at.run()
    assert not at.exception
    assert at.title[0].value == "Activation maps"
    assert widget(at.selectbox, "act_class").value == 6
    assert widget(at.number_input, "act_filter").value == 17


def test_clicked_cell_reads_the_marker():
    from cnnviz.ui.evidence_views import _clicked_cell

    assert _clicked_cell({"selection": {"points": [{"customdata": [3, 12, 0.5]}]}}, 64) == (3, 12)
    assert _clicked_cell({"selection": {"points": [{"customdata": {"0": 8, "1": 20, "2": 0.1}}]}}, 64) == (8, 20)
    assert _clicked_cell({"selection": {"points": [{"curve_number": 0, "point_index": 130}]}}, 64) == (2, 2)
    assert _clicked_cell({"selection": {"points": []}}, 64) is None
    assert _clicked_cell(None, 64) is None


# --- The page's link ----------------------------------------------------------------

LINK = {"class": "8", "count": "2", "how": "index", "indices": "0,23", "explain": "6", "view": "gradcam",
        "cam_layer": "conv_1"}


def test_a_link_opens_the_view_and_is_written_back(data_dir):
    from tests.pages.test_links import assert_no_link_warning, open_link

    at = open_link("evidence", LINK, timeout=180)
    assert_no_link_warning(at)
    assert widget(at.selectbox, "ev_class").value == 8
    assert widget(at.selectbox, "ev_target").value == 6
    assert widget(at.selectbox, "ev_cam_layer").value == "conv_1"
    spec = figure(at)
    assert [t.split("<br>")[0] for t in spec["layout"]["yaxis"]["ticktext"]] == ["#0 Ankle boot", "#23 Ankle boot"]
    assert all("→ Shirt" in t for t in spec["layout"]["yaxis"]["ticktext"])
    written = {k: at.query_params[k] for k in at.query_params}
    assert {k: (v[0] if isinstance(v, list) else v) for k, v in written.items()} == LINK


def test_bad_link_parameters_are_named(data_dir):
    from tests.pages.test_links import assert_named, open_link

    at = open_link("evidence", {"patch": "40", "cam_layer": "dense_1", "model": "upload", "zzz": "1",
                                "view": "occlusion"}, timeout=180)
    assert_named(at, ["patch", "cam_layer", "model", "zzz"])
    assert widget(at.slider, "ev_patch").value == 6
