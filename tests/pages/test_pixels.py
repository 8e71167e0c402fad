"""AppTest tests for the Pixels page: quick actions, resizing, state across pages, uploads."""

import numpy as np
import pytest
from cnnviz.core import images
from cnnviz.ui import image_inputs
from cnnviz.ui import state
from tests.conftest import button, open_in_apptest

PAGE = "pages/pixels.py"


@pytest.fixture
def at():
    app = open_in_apptest(PAGE)
    assert not app.exception, app.exception
    return app


def test_page_opens_on_the_course_matrices(at):
    assert at.title[0].value == "Pixels are numbers"
    np.testing.assert_array_equal(at.session_state[state.GRAY_MATRIX_KEY], images.SMILEY)
    np.testing.assert_array_equal(at.session_state["rgb_matrix"], images.RGB_GRID)
    assert any("(10, 10)" in m.value for m in at.markdown)


@pytest.mark.parametrize(
    "label, expected",
    [
        ("Invert", 255 - images.SMILEY),
        ("Clear", np.zeros((10, 10), np.uint8)),
        ("Fill", np.full((10, 10), 128, np.uint8)),
    ],
)
def test_quick_actions(at, label, expected):
    button(at, label).click().run()
    assert not at.exception
    np.testing.assert_array_equal(at.session_state[state.GRAY_MATRIX_KEY], expected)


def test_random_noise_and_reset(at):
    button(at, "Random").click().run()
    assert not np.array_equal(at.session_state[state.GRAY_MATRIX_KEY], images.SMILEY)
    button(at, "Reset smiley").click().run()
    np.testing.assert_array_equal(at.session_state[state.GRAY_MATRIX_KEY], images.SMILEY)
    button(at, "Add noise").click().run()
    noisy = at.session_state[state.GRAY_MATRIX_KEY]
    assert noisy.shape == (10, 10) and not np.array_equal(noisy, images.SMILEY)


def test_resize_keeps_what_fits(at):
    at.number_input(key="gray_rows").set_value(4).run()
    at.number_input(key="gray_cols").set_value(12).run()
    matrix = at.session_state[state.GRAY_MATRIX_KEY]
    assert matrix.shape == (4, 12)
    np.testing.assert_array_equal(matrix[:, :10], images.SMILEY[:4])
    assert any("(4, 12)" in m.value for m in at.markdown)


def test_edited_matrix_survives_a_page_switch(at):
    edited = images.random_matrix((6, 7), seed=3)
    at.session_state[state.GRAY_MATRIX_KEY] = edited
    at.run()
    at.switch_page("pages/home.py").run()
    at.switch_page(PAGE).run()
    np.testing.assert_array_equal(at.session_state[state.GRAY_MATRIX_KEY], edited)
    assert at.number_input(key="gray_rows").value == 6
    assert at.number_input(key="gray_cols").value == 7


def test_picture_section_reports_the_course_crop(at):
    assert at.selectbox(key="pixels_picture").value == images.DEFAULT_BUILTIN
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Height × width"] == "64 × 64"
    assert metrics["Number of values"] == "12,288"
    at.selectbox(key="pixels_picture").set_value("Camera").run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Height × width"] == "512 × 512" and metrics["Channels"] == "1"


def test_round_trip_shows_figure_and_exact_shapes(at):
    text = " ".join(m.value for m in at.markdown)
    assert "(400, 400, 4)" in text and "float32" in text
    assert "(3, 3, 3)" in text and "identical to the matrix: **yes**" in text


def test_bad_upload_gives_a_message_not_a_traceback(at):
    at.selectbox(key="pixels_picture").set_value(image_inputs.UPLOAD).run()
    at.get("file_uploader")[0].upload("notes.png", b"this is not an image", "image/png").run()
    assert not at.exception
    assert any("not a PNG or JPEG" in e.value for e in at.error)


def test_good_upload_is_described(at):
    at.selectbox(key="pixels_picture").set_value(image_inputs.UPLOAD).run()
    data = images.png_bytes(images.enlarge(images.RGB_GRID, 5))
    at.get("file_uploader")[0].upload("grid.png", data, "image/png").run()
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Height × width"] == "15 × 15" and metrics["Channels"] == "3"
