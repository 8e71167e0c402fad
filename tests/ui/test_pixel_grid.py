"""Tests for cnnviz.ui.pixel_grid: what the component is given, messages shown as typed, resets.

AppTest cannot drive the component (its edits are tested in Chromium: tests/e2e); here the
Python side: the data sent to the browser, the messages under a grid, and set_matrix.
"""

import numpy as np
from streamlit.testing.v1 import AppTest

from cnnviz.ui.pixel_grid import as_plain_text


def test_markdown_in_a_quoted_value_is_shown_as_typed():
    text = as_plain_text("Row 1, column 1: '**x** ![i](http://e/x.png)' is not a number; kept 0.")
    assert "**" not in text and "![" not in text and "](" not in text
    assert text.replace("\\", "") == "Row 1, column 1: '**x** ![i](http://e/x.png)' is not a number; kept 0."


def _grid_app():
    import numpy as np
    import streamlit as st

    from cnnviz.core.grid_edits import GridLimits
    from cnnviz.ui import pixel_grid

    st.session_state.setdefault("m", np.array([[0, 128], [255, 7]], np.uint8))
    if st.session_state.get("reset"):
        pixel_grid.set_matrix("m", np.zeros((2, 2)), grid_key="g")
    st.session_state["data"] = pixel_grid._data(st.session_state["m"], "g", GridLimits(), pixel_grid.gray_look((2, 2)),
                                                "A grid", "help")
    st.session_state["kernel_data"] = pixel_grid._data(
        np.array([[0.5, -1.0]]), "k", GridLimits(low=-5, high=5, whole=False, first_index=1),
        pixel_grid.signed_look(1.0), "Kernel", "help")
    pixel_grid.matrix_grid("m", default=np.zeros((2, 2)), key="g", label="A grid")


def test_the_data_sent_to_the_browser():
    """Values as numbers, the range, the colours, the brush and the edit bookkeeping (ack, version)."""
    at = AppTest.from_function(_grid_app).run()
    assert not at.exception
    data = at.session_state["data"]
    assert data["values"] == [[0, 128], [255, 7]] and data["ack"] == 0 and data["version"] == 0
    assert (data["low"], data["high"], data["whole"], data["first_index"]) == (0, 255, True, 0)
    assert data["colours"] == {"kind": "sequential", "low": [0, 0, 0], "high": [255, 255, 255]}
    assert data["label"] == "A grid" and [b["value"] for b in data["brushes"]] == [0, 128, 255]
    kernel = at.session_state["kernel_data"]
    assert kernel["values"] == [[0.5, -1.0]] and kernel["colours"]["kind"] == "diverging"
    assert kernel["colours"]["zero"] == [247, 247, 247] and kernel["first_index"] == 1


def test_replacing_the_matrix_resets_the_grid_and_its_messages():
    """set_matrix with the grid's key: a new version (the browser forgets its undo history), no old messages."""
    at = AppTest.from_function(_grid_app)
    at.session_state["g__messages"] = ["Row 0, column 0: 'x' is not a number from 0 to 255; kept 0."]
    at.run()
    assert [w.value for w in at.warning] == [as_plain_text(at.session_state["g__messages"][0])]
    at.session_state["reset"] = True
    at.run()
    assert not at.exception and not at.warning
    assert at.session_state["data"]["version"] == 1 and at.session_state["data"]["values"] == [[0, 0], [0, 0]]
    assert np.array_equal(at.session_state["m"], np.zeros((2, 2))) and at.session_state["m"].dtype == np.uint8


def test_many_messages_are_summed_up():
    at = AppTest.from_function(_grid_app)
    at.session_state["g__messages"] = [f"Row {r}, column 0: 300 is outside 0..255; clipped to 255." for r in range(12)]
    at.run()
    assert len(at.warning) == 9 and "4 more cells" in at.warning[-1].value
