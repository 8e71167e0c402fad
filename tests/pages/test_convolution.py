"""AppTest for the Convolution page: presets, typed kernels, bad kernels keep the last good one, links."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.core import kernels
from cnnviz.ui import convolution_lab as lab
from cnnviz.ui.state import CONV_SETTINGS_KEY
from tests.conftest import ROOT


def open_page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if query:
        at.query_params.update(query)
    at.run()
    at.switch_page("pages/convolution.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def at(data_dir):
    return open_page()


def settings(at):
    return at.session_state[CONV_SETTINGS_KEY]


def painted(at) -> AppTest:
    """What the browser's paint report does after a new result (AppTest runs no JavaScript):
    the explorer and the kernel controls come back; a full run brings them back here."""
    return at.run()


def test_opens_on_the_course_view(at):
    """Stairwell, the course's kernel, weight 1, border kept, clipped."""
    s = settings(at)
    assert at.selectbox(key="conv_image").value.startswith("Stairwell")
    assert s.preset == "course_horizontal" and s.weight == 1 and s.padding == "course" and s.mapping == "clip"
    assert at.text_area(key="conv_kernel_text").value == "-1 -2 -1\n0 0 0\n1 2 1"


@pytest.mark.parametrize("name", ["sobel_x", "box_5", "unsharp_5", "identity"])
def test_choosing_a_preset(at, name):
    """A preset sets the kernel, its normalisation and the text box."""
    painted(at.selectbox(key="conv_preset").set_value(name).run())
    assert not at.exception
    s = settings(at)
    assert np.array_equal(s.kernel, kernels.PRESETS[name].kernel)
    assert s.normalise == kernels.PRESETS[name].normalise
    assert at.text_area(key="conv_kernel_text").value == kernels.format_kernel(kernels.PRESETS[name].kernel)


def test_typing_a_kernel(at):
    """A typed 2x4 kernel is used; the picker says it is my own."""
    painted(at.text_area(key="conv_kernel_text").set_value("1, 0, 0, -1; 2 0 0 -2").run())
    assert not at.exception and not at.error
    assert settings(at).kernel.tolist() == [[1, 0, 0, -1], [2, 0, 0, -2]]
    assert at.selectbox(key="conv_preset").value == "custom"


@pytest.mark.parametrize("bad, words", [("1 2; 3", "different lengths"), ("1 x", "not a number"), ("", "empty"),
                                        ("nan", "finite")])
def test_bad_kernel_keeps_the_last_good_one(at, bad, words):
    """A bad kernel gets a message naming the problem; the previous kernel stays in use."""
    painted(at.text_area(key="conv_kernel_text").set_value("0 1 0; 1 -4 1; 0 1 0").run())
    at.text_area(key="conv_kernel_text").set_value(bad).run()
    assert not at.exception
    assert any(words in e.value for e in at.error), [e.value for e in at.error]
    assert settings(at).preset == "laplacian_4"


def test_an_edit_brings_controls_result_and_explorer_in_step(at):
    """A kernel edit updates the controls and the result together and the explorer explains the new
    result. (AppTest reruns the whole script for a widget; in the browser an edit reruns only the lab
    fragment and the explorer follows the paint report: tests/e2e and benchmarks/bench_class cover that.)"""
    painted(at.text_area(key="conv_kernel_text").set_value("0 1 0; 1 -4 1; 0 1 0").run())
    assert not at.exception
    assert at.selectbox(key="conv_preset").value == "laplacian_4"
    assert at.session_state[lab.SHOWN_KEY] == at.session_state[lab.EXPLAINED_KEY]
    assert any("Output pixel" in h.value for h in at.subheader)
    painted(at.radio(key="conv_stride").set_value(2).run())
    assert at.radio(key="conv_stride").value == 2 and at.selectbox(key="conv_preset").value == "laplacian_4"
    assert settings(at).stride == 2


def test_options_and_pixel(at):
    """Options change the settings; the explorer follows a typed pixel; valid with a big kernel warns."""
    at.selectbox(key="conv_padding").set_value("valid").run()
    at.radio(key="conv_stride").set_value(2).run()
    at.run()
    at.radio(key="conv_mapping").set_value("signed").run()
    painted(at)
    at.number_input(key="conv_row").set_value(10).run()
    assert not at.exception
    s = settings(at)
    assert (s.padding, s.stride, s.mapping) == ("valid", 2, "signed")
    assert any("row 10" in h.value for h in at.subheader)
    assert at.query_params["pad"] == "valid" and at.query_params["row"] == "10"


def test_shared_link_opens_the_same_view_and_names_bad_parameters(data_dir):
    """A link sets kernel, image and options; bad parameters are named, never a crash."""
    at = open_page({"kernel": "1,2;3,4", "img": "Coins", "pad": "sideways", "stride": "2", "row": "x"})
    s = settings(at)
    assert s.kernel.tolist() == [[1, 2], [3, 4]] and s.stride == 2 and s.padding == "course"
    assert at.selectbox(key="conv_image").value == "Coins"
    warnings = " ".join(w.value for w in at.warning)
    assert len(at.warning) == 1 and "pad=" in warnings and "row=" in warnings


def test_kernel_survives_a_page_switch(at):
    """The kernel chosen here is still in use after visiting another page."""
    at.selectbox(key="conv_preset").set_value("emboss").run()
    at.switch_page("pages/pixels.py").run()
    at.switch_page("pages/convolution.py").run()
    assert not at.exception
    assert settings(at).preset == "emboss" and at.selectbox(key="conv_preset").value == "emboss"
