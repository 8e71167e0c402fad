"""AppTest for the Convolution page: presets, typed kernels, bad kernels keep the last good one, links."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.core import explain, kernels
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


# --- Fashion-MNIST test images -------------------------------------------------------------------


def test_choosing_a_fashion_mnist_test_image(at):
    """Class and number within the class pick a test image; the link carries them; the caption says how the
    lab's 0..255 values relate to the network's 0..1 inputs."""
    from cnnviz.core.data import CLASS_NAMES
    from cnnviz.ui import resources
    from cnnviz.ui.image_inputs import FASHION_TEST

    at.selectbox(key=lab.IMAGE_KEY).set_value(FASHION_TEST).run()
    at.selectbox(key=lab.CLASS_KEY).set_value(CLASS_NAMES.index("Sandal")).run()
    painted(at.number_input(key=lab.INDEX_KEY).set_value(3).run())
    assert not at.exception
    fashion = resources.fashion_mnist()[0]
    number = int(np.flatnonzero(fashion["test_labels"] == 5)[3])
    assert [c for c in at.caption if c.value == lab.NETWORK_SCALE_NOTE]
    assert (at.query_params["img"], at.query_params["class"], at.query_params["index"]) == ("fashion", "5", "3")
    # the stairwell's default pixel lies outside a 28x28 result: the middle is explained, from this image's pixels
    assert (at.number_input(key="conv_row").value, at.number_input(key="conv_col").value) == (14, 14)
    info = explain.pixel_arithmetic(fashion["test_raw"][number], settings(at), 14, 14)
    assert any(f"**Sum** = {info.total:g}" in m.value for m in at.markdown)
    assert info.window.any()  # the middle of a sandal is not empty: the sum is the image's


def test_a_fashion_link_opens_the_test_image(data_dir):
    """``?img=fashion&class=2&index=7`` opens that test image; the explained pixel is the image's own."""
    from cnnviz.ui.image_inputs import FASHION_TEST

    at = open_page({"img": "fashion", "class": "2", "index": "7", "kernel": "sobel_x", "row": "9", "col": "14"})
    assert not at.warning
    assert at.selectbox(key=lab.IMAGE_KEY).value == FASHION_TEST
    assert (at.selectbox(key=lab.CLASS_KEY).value, at.number_input(key=lab.INDEX_KEY).value) == (2, 7)
    assert (at.number_input(key="conv_row").value, at.number_input(key="conv_col").value) == (9, 14)
    assert at.query_params["class"] == "2" and at.query_params["index"] == "7"


@pytest.mark.parametrize(("query", "named"), [({"class": "dog"}, "class='dog' was ignored"),
                                              ({"class": "2", "index": "1000"},
                                               "index=1000 was ignored: there are 1000 test images of Pullover"),
                                              ({"index": "-4"}, "index='-4' was ignored")])
def test_a_bad_class_or_index_in_a_link_is_named_and_the_image_kept(data_dir, query, named):
    """A class or number that names no test image: one sentence; the image before (class and number) stays."""
    at = open_page({"img": "fashion", **query})
    assert not at.exception
    assert named in " ".join(w.value for w in at.warning)
    assert at.number_input(key=lab.INDEX_KEY).value == 0
    assert at.selectbox(key=lab.CLASS_KEY).value == (2 if query.get("class") == "2" else 9)


def test_without_the_data_the_test_images_say_so_and_the_rest_works(no_data_dir):
    """No CNNVIZ_DATA_DIR: choosing a test image says why not in words, the camera is used, and the other
    images still work."""
    from cnnviz.ui.image_inputs import FASHION_MISSING, FASHION_TEST

    at = open_page()
    painted(at.selectbox(key=lab.IMAGE_KEY).set_value(FASHION_TEST).run())
    assert not at.exception
    assert [i for i in at.info if i.value == FASHION_MISSING]
    assert any("row" in h.value for h in at.subheader)  # the explorer explains the camera image
    painted(at.selectbox(key=lab.IMAGE_KEY).set_value("Coins").run())
    assert not at.exception and not [i for i in at.info if i.value == FASHION_MISSING]
