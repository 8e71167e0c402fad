"""Tests for cnnviz.ui.painted_image: tokens, and mounting in a real script run.

Whether the browser reports the paint is checked in Chromium (tests/e2e/test_convolution_browser.py:
the explorer follows a kernel edit only through that report).
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from cnnviz.core.images import png_bytes
from cnnviz.ui.painted_image import token_of


def _black() -> bytes:
    import numpy as np

    return png_bytes(np.zeros((4, 4), np.uint8))


def test_token_follows_the_pictures_bytes():
    import numpy as np

    a, b = png_bytes(np.zeros((4, 4), np.uint8)), png_bytes(np.full((4, 4), 9, np.uint8))
    assert token_of(a) == token_of(bytes(a)) and token_of(a) != token_of(b)
    assert len(token_of(a)) == 16


def _script():
    import numpy as np
    import streamlit as st

    from cnnviz.core.images import png_bytes
    from cnnviz.ui.painted_image import painted_image

    picture = png_bytes(np.zeros((4, 4), np.uint8))
    st.session_state["tokens"] = (painted_image(picture, key="a", alt="black", on_painted=lambda: None),
                                  painted_image(None, key="b", alt="", on_painted=lambda: None))


def test_mounts_with_a_picture_and_with_nothing():
    at = AppTest.from_function(_script).run()
    assert not at.exception
    picture_token, nothing_token = at.session_state["tokens"]
    assert picture_token.startswith(token_of(_black()) + ".") and nothing_token == "nothing.1"
    at.run()
    assert at.session_state["tokens"][0] != picture_token  # every run reports once more
