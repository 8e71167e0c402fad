"""Tests for cnnviz.ui.state: the cross-page keys behave as the pages rely on (in a real script run)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _script():
    import streamlit as st

    from cnnviz.core.kernels import PRESETS
    from cnnviz.ui import state

    step = st.session_state.setdefault("step", 0)
    settings = state.convolution_settings()
    if step == 1:
        state.set_convolution_settings(settings.replace(kernel=PRESETS["sobel_x"].kernel, preset="sobel_x"))
    elif step == 2:
        state.refuse_kernel("Row 1 is empty.", text="1 2\n")
    elif step == 3:
        state.set_convolution_settings(settings.replace(weight=2.0))
    st.session_state["seen"] = {
        "kernel": state.convolution_settings().kernel.tolist(), "text": state.kernel_text(),
        "version": state.kernel_version(), "error": state.kernel_error(),
        "gray": state.gray_matrix().shape, "rgb": state.rgb_matrix().shape,
        "drawing": state.drawing().shape, "trained": state.trained_model(), "runs": state.training_runs(),
    }
    st.session_state["step"] = step + 1


def test_defaults_are_the_courses():
    at = AppTest.from_function(_script).run()
    seen = at.session_state["seen"]
    assert seen["kernel"] == [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]
    assert seen["text"].splitlines() == ["-1 -2 -1", "0 0 0", "1 2 1"]
    assert (seen["version"], seen["error"]) == (0, None)
    assert (seen["gray"], seen["rgb"], seen["drawing"]) == ((10, 10), (3, 3, 3), (28, 28))
    assert seen["trained"] == (None, None) and seen["runs"] == []


def test_a_new_kernel_is_shown_everywhere_and_a_refused_one_keeps_the_last_good():
    at = AppTest.from_function(_script).run()
    at.run()  # step 1: a preset
    seen = at.session_state["seen"]
    assert seen["kernel"][0] == [-1.0, 0.0, 1.0] and seen["version"] == 1
    assert seen["text"].splitlines()[0] == "-1 0 1"
    at.run()  # step 2: a refused kernel keeps what was typed and the kernel in use
    seen = at.session_state["seen"]
    assert seen["error"] == "Row 1 is empty." and seen["text"] == "1 2\n"
    assert seen["kernel"][0] == [-1.0, 0.0, 1.0]
    at.run()  # step 3: an option change leaves the kernel's text and grids alone
    seen = at.session_state["seen"]
    assert seen["version"] == 1 and seen["text"] == "1 2\n" and at.session_state["conv_settings"].weight == 2.0
