"""AppTest of every page's link: a URL with every parameter opens that view (and the page writes the same
URL back); each bad parameter is named, in one warning, and never crashes the page."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.core import share_link
from cnnviz.ui.state import CONV_SETTINGS_KEY, GRAY_MATRIX_KEY, RGB_MATRIX_KEY
from tests.conftest import ROOT

CRASH = "Something went wrong"
GRAY = np.arange(64, dtype=np.uint8).reshape(8, 8) * 3
RGB = np.arange(12, dtype=np.uint8).reshape(2, 2, 3) * 20
HUGE = "9" * 100_000


def open_link(page: str, query: dict, *, timeout: float = 60) -> AppTest:
    """The app opened on ``page`` by a URL carrying ``query`` (values may be lists: repeated keys)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.query_params.update(query)
    at.run()
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not any(CRASH in e.value for e in at.error), [e.value for e in at.error]
    return at


def link_warning(at: AppTest) -> str:
    """The one warning about the link, as plain text (its Markdown escapes removed)."""
    found = [w.value for w in at.warning if "link's settings were ignored" in w.value]
    assert len(found) == 1, [w.value for w in at.warning]
    return found[0].replace("\\", "")


def assert_no_link_warning(at: AppTest) -> None:
    assert not [w.value for w in at.warning if "link" in w.value], [w.value for w in at.warning]


def assert_named(at: AppTest, names) -> None:
    text = link_warning(at)
    for name in names:
        assert f"\n- {name}" in text or f"\n- '{name}'" in text, (name, text)


# --- Pixels ---------------------------------------------------------------------

PIXELS = {"gray": share_link.matrix_param(GRAY), "rgb": share_link.matrix_param(RGB), "img": "coins",
          "zoom": "8", "top": "10", "left": "20"}


def test_pixels_link_opens_the_view(data_dir):
    at = open_link("pixels", PIXELS)
    assert_no_link_warning(at)
    np.testing.assert_array_equal(at.session_state[GRAY_MATRIX_KEY], GRAY)
    np.testing.assert_array_equal(at.session_state[RGB_MATRIX_KEY], RGB)
    assert at.selectbox(key="pixels_picture").value == "Coins"
    assert at.select_slider(key="pixels_zoom_size").value == 8
    assert (at.slider(key="pixels_top").value, at.slider(key="pixels_left").value) == (10, 20)
    assert at.query_params == PIXELS  # the page writes back the very link that opened it


def test_pixels_link_names_each_bad_parameter(data_dir):
    at = open_link("pixels", {"gray": "1,2;3", "rgb": "2x2x3.AAAA", "img": "Nope", "zoom": "5", "top": "-1",
                              "left": HUGE, "extra": "1", "<b>x</b>": "1"})
    assert_named(at, ["gray=", "rgb=", "img=", "zoom=", "top=", "left", "extra", "<b>x</b>"])
    assert "100,000 characters" in link_warning(at)
    assert at.selectbox(key="pixels_picture").value == "Astronaut crop 64x64 (course)"


def test_pixels_link_keeps_the_window_inside_the_picture(data_dir):
    at = open_link("pixels", {"img": "coins", "zoom": "32", "top": "5000"})
    assert at.slider(key="pixels_top").value == 303 - 32
    assert_named(at, ["top=5000"])


def test_pixels_matrix_too_large_for_a_link_is_said(data_dir):
    at = open_link("pixels", {})
    at.number_input(key="gray_rows").set_value(20).run()
    assert "gray" not in at.query_params
    assert any("larger than a link carries" in c.value for c in at.caption)


# --- Convolution --------------------------------------------------------------------

CONVOLUTION = {"kernel": "1,2;3,4", "pad": "zero", "stride": "2", "weight": "0.5", "norm": "1", "flip": "1",
               "ch": "sum", "map": "signed", "img": "matrix", "gray": share_link.matrix_param(GRAY),
               "row": "3", "col": "2"}


def test_convolution_link_opens_the_view(data_dir):
    at = open_link("convolution", CONVOLUTION)
    at.run()  # the explorer follows once the result is painted (a full run here)
    assert_no_link_warning(at)
    s = at.session_state[CONV_SETTINGS_KEY]
    assert s.kernel.tolist() == [[1, 2], [3, 4]] and (s.padding, s.stride, s.weight) == ("zero", 2, 0.5)
    assert (s.normalise, s.flip, s.channels, s.mapping) == (True, True, "sum", "signed")
    assert at.selectbox(key="conv_image").value == "My matrix from the Pixels page"
    np.testing.assert_array_equal(at.session_state[GRAY_MATRIX_KEY], GRAY)
    assert any("row 3, column 2" in h.value for h in at.subheader)
    assert at.query_params == CONVOLUTION


def test_convolution_old_links_still_open(data_dir):
    """Links written before every page had one: ``img`` as the menu names it, ``m`` for the matrix."""
    at = open_link("convolution", {"img": "My matrix from the Pixels page", "m": "0,255;255,0"})
    assert_no_link_warning(at)
    assert at.session_state[GRAY_MATRIX_KEY].tolist() == [[0, 255], [255, 0]]


def test_convolution_link_names_each_bad_parameter(data_dir):
    at = open_link("convolution", {"kernel": "1 2; 3", "pad": "sideways", "stride": ["2", "9"], "weight": "1e9",
                                   "norm": "maybe", "img": "upload", "gray": "17x17.AAAA", "row": "-3",
                                   "col": "2.5", "pool": "max"})
    assert_named(at, ["kernel=", "pad=", "stride was given 2 times", "stride=", "weight=", "norm=", "img=",
                      "gray=", "row=", "col=", "pool"])
    assert at.session_state[CONV_SETTINGS_KEY].stride == 1


# --- Pooling ------------------------------------------------------------------------

POOLING = {"kernel": "sobel_x", "map": "signed", "img": "coins", "pool": "min", "pool_size": "3",
           "pool_width": "2", "pool_stride": "2", "pool_edge": "same", "row": "7", "col": "3", "stages": "3",
           "test_image": "7"}


def test_pooling_link_opens_the_view(data_dir):
    at = open_link("pooling", POOLING)
    assert_no_link_warning(at)
    assert at.session_state[CONV_SETTINGS_KEY].preset == "sobel_x"
    assert at.selectbox(key="pool_image").value == "Coins"
    assert at.radio(key="pool_mode").value == "min" and at.toggle(key="pool_rect").value
    assert (at.slider(key="pool_size").value, at.slider(key="pool_width").value) == (3, 2)
    assert at.selectbox(key="pool_stride").value == 2 and at.radio(key="pool_edge").value == "same"
    assert (at.slider(key="pool_cell_row").value, at.slider(key="pool_cell_col").value) == (7, 3)
    assert at.slider(key="pool_stages").value == 3 and at.slider(key="pool_stage_index").value == 7
    assert at.query_params == POOLING


def test_pooling_link_names_each_bad_parameter(data_dir):
    at = open_link("pooling", {"pool": "median", "pool_size": "99", "pool_width": "0", "pool_stride": "x",
                               "pool_edge": "", "row": "100000", "stages": "7", "stage_input": "camera",
                               "test_image": "10000", "zoom": "8"})
    assert_named(at, ["pool=", "pool_size=", "pool_width=", "pool_stride=", "pool_edge=", "row=100000",
                      "stages=", "stage_input=", "test_image=", "zoom"])
    assert at.radio(key="pool_mode").value == "max"


# --- Train ----------------------------------------------------------------------------

TRAIN = {"arch": "custom", "filters": "16", "kernel_size": "5", "blocks": "1", "units": "50", "epochs": "7",
         "batch": "128", "lr": "0.01", "images": "1000", "shift": "4", "axis": "y"}


def test_train_link_opens_the_settings(data_dir):
    at = open_link("train", TRAIN, timeout=180)
    assert_no_link_warning(at)
    assert at.radio(key="train_arch").value == "Custom CNN"
    assert [at.select_slider(key=k).value for k in ("train_filters", "train_units", "train_batch", "train_lr",
                                                    "train_size")] == [16, 50, 128, 0.01, 1000]
    assert [at.slider(key=k).value for k in ("train_kernel", "train_blocks", "train_epochs", "train_shift")] \
        == [5, 1, 7, 4]
    assert at.radio(key="train_axis").value == "y"
    assert at.query_params == TRAIN


def test_train_link_names_each_bad_parameter(data_dir):
    at = open_link("train", {"arch": "resnet", "filters": "7", "kernel_size": "0", "epochs": "300", "batch": "33",
                             "lr": "fast", "images": "-5", "shift": "1.5", "axis": "z", "run": "1"}, timeout=180)
    assert_named(at, ["arch=", "filters=", "kernel_size=", "epochs=", "batch=", "lr=", "images=", "shift=", "axis=",
                      "run"])
    assert at.radio(key="train_arch").value == "CNN (course)"


# --- Activations ------------------------------------------------------------------------

ACTIVATIONS = {"class": "8", "count": "4", "how": "random", "seed": "42", "layers": "conv_1,pool_1",
               "filter": "5", "cmap": "viridis", "scale": "layer", "axes": "0", "view": "filters",
               "f_image": "2", "f_layer": "pool_1"}


def test_activations_link_opens_the_view(data_dir):
    at = open_link("activations", ACTIVATIONS, timeout=180)
    assert_no_link_warning(at)
    assert at.selectbox(key="act_class").value == 8 and at.slider(key="act_count").value == 4
    assert at.radio(key="act_how").value == "random" and at.number_input(key="act_seed").value == 42
    assert at.multiselect(key="act_layers").value == ["conv_1", "pool_1"]
    assert at.number_input(key="act_filter").value == 5
    assert at.selectbox(key="act_cmap").value == "viridis" and at.radio(key="act_scale").value == "layer"
    assert at.toggle(key="act_axes").value is False
    assert at.session_state["act_view"] == "All filters of one layer"
    assert at.selectbox(key="act_f_image").value == 2 and at.selectbox(key="act_f_layer").value == "pool_1"
    assert at.query_params == ACTIVATIONS


def test_activations_link_with_indices(data_dir):
    query = {"how": "index", "indices": "5,23,28", "view": "predict"}
    at = open_link("activations", query, timeout=180)
    assert at.text_input(key="act_indices").value == "5, 23, 28"
    assert at.query_params == query


def test_activations_link_names_each_bad_parameter(data_dir):
    at = open_link("activations", {"model": "trained", "class": "Dragon", "count": "0", "how": "all",
                                   "indices": "1,x", "layers": "conv_1,nope", "filter": "999", "cmap": "rainbow",
                                   "scale": "log", "axes": "2", "view": "everything", "learned": "-1"},
                   timeout=180)
    assert_named(at, ["model=", "class=", "count=", "how=", "indices=", "layers: 'nope'", "filter=999", "cmap=",
                      "scale=", "axes=", "view=", "learned="])
    assert "cannot travel" in link_warning(at)
    assert at.multiselect(key="act_layers").value == ["conv_1"]


@pytest.mark.parametrize("page", ["pixels", "convolution", "pooling"])
def test_a_flood_of_unknown_parameters_is_counted_not_listed(page, data_dir):
    at = open_link(page, {f"k{i}": str(i) for i in range(200)})
    text = link_warning(at)
    assert text.count("\n- ") == share_link.MAX_NAMED + 1 and "188 more unknown parameters" in text
