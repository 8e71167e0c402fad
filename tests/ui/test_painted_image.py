"""Tests for cnnviz.ui.painted_image: mounting in a real script run, one token per call.

Whether the browser reports the paint is checked in Chromium (tests/e2e/test_convolution_browser.py:
the explorer follows a kernel edit only through that report).
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _script():
    import numpy as np
    import streamlit as st

    from cnnviz.ui.painted_image import report_when_painted

    with st.container(key="box"):
        st.image(np.zeros((4, 4), np.uint8))
        st.session_state["token"] = report_when_painted(container="box", key="report", on_painted=lambda: None)


def test_mounts_and_gives_each_run_its_own_token():
    at = AppTest.from_function(_script).run()
    assert not at.exception
    first = at.session_state["token"]
    assert first == "box.1"
    at.run()
    assert at.session_state["token"] == "box.2"  # every run reports once more
