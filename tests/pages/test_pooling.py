"""AppTest of the Pooling page: the three panels' shapes, the window explorer, the CNN stages."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.core import convolution
from cnnviz.ui import image_inputs
from cnnviz.ui import state
from tests.conftest import ROOT

TIMEOUT = 60


def open_pooling(seed: dict | None = None) -> AppTest:
    """The app opened on the Pooling page (through app.py), with ``seed`` put in session state first."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    for key, value in (seed or {}).items():
        at.session_state[key] = value
    at.run()
    at.switch_page("pages/pooling.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def panel_labels(at: AppTest) -> list[str]:
    """The labels above the three panels: original, convolved, pooled."""
    return [m.value for m in at.markdown
            if m.value.startswith(("**Original image**", "**With the convolution", "**Downsampled"))]


def test_course_pipeline_shapes(data_dir):
    """The course's settings: 512x512 -> 512x512 -> 128x128, 93.8 % fewer values."""
    at = open_pooling()
    labels = panel_labels(at)
    assert len(labels) == 3
    assert "512x512" in labels[0] and "512x512" in labels[1]
    assert "128x128" in labels[2] and "**93.8 %** fewer" in labels[2]
    assert len(at.get("image")) >= 3


def test_pool_size_changes_the_pooled_panel(data_dir):
    """Pool size 2: 256x256, 75 % fewer; pool size 8: 64x64."""
    at = open_pooling()
    at.slider(key="pool_size").set_value(2).run()
    assert "256x256" in panel_labels(at)[2] and "**75.0 %** fewer" in panel_labels(at)[2]
    at.slider(key="pool_size").set_value(8).run()
    assert "64x64" in panel_labels(at)[2]
    assert not at.exception


def test_valid_convolution_gives_510_then_127(data_dir):
    """A "valid" convolution shrinks 512 to 510; 4x4 pooling gives 127 (valid) or 128 (same)."""
    at = open_pooling({state.CONV_SETTINGS_KEY: convolution.ConvolutionSettings(padding="valid")})
    labels = panel_labels(at)
    assert "510x510" in labels[1] and "**0.8 %** fewer" in labels[1]
    assert "127x127" in labels[2]
    at.radio(key="pool_edge").set_value("same").run()
    assert "128x128" in panel_labels(at)[2]
    at.slider(key="pool_cell_row").set_value(0).run()  # "same" pads one row above: a 3x4 window
    assert any("rows 0..2" in m.value for m in at.markdown)
    assert any("4 padded cells are ignored" in c.value for c in at.caption)


def test_rectangular_pool_and_stride(data_dir):
    """Height 4, width 2, stride 1: (512-4+1) x (512-2+1)."""
    at = open_pooling()
    at.toggle(key="pool_rect").set_value(True).run()
    at.slider(key="pool_width").set_value(2).run()
    at.selectbox(key="pool_stride").set_value(1).run()
    assert "509x511" in panel_labels(at)[2]
    assert not at.exception


@pytest.mark.parametrize("mode, word", [("max", "the largest is"), ("min", "the smallest is"), ("average", "are averaged")])
def test_window_explorer_says_what_was_kept(data_dir, mode, word):
    """The explorer names the window and what it kept (or the average)."""
    at = open_pooling()
    at.radio(key="pool_mode").set_value(mode).run()
    at.slider(key="pool_cell_row").set_value(3).run()
    at.slider(key="pool_cell_col").set_value(5).run()
    texts = [m.value for m in at.markdown]
    assert any("rows 12..15, columns 20..23" in t for t in texts)
    assert any(word in t and "cell (3, 5)" in t for t in texts)
    captions = [img.proto.imgs[0].caption for img in at.get("image")]
    assert any("The window (red) and the value it keeps" in c for c in captions)


def test_matrix_from_the_pixels_page(data_dir):
    """The matrix edited on the Pixels page is an input: 12x12 -> 12x12 -> 3x3."""
    matrix = np.arange(144, dtype=np.uint8).reshape(12, 12)
    at = open_pooling({state.GRAY_MATRIX_KEY: matrix})
    at.selectbox(key="pool_image").set_value(image_inputs.MY_MATRIX).run()
    labels = panel_labels(at)
    assert "12x12" in labels[0] and "3x3" in labels[2]
    assert not at.exception


def test_a_pool_larger_than_the_image_is_explained_not_raised(data_dir):
    """A 3x3 matrix with a 4x4 "valid" pool: a message, the two other panels stay."""
    at = open_pooling({state.GRAY_MATRIX_KEY: np.full((3, 3), 200, dtype=np.uint8)})
    at.selectbox(key="pool_image").set_value(image_inputs.MY_MATRIX).run()
    assert not at.exception
    assert any("does not fit" in w.value for w in at.warning)
    assert len(panel_labels(at)) == 2
    at.radio(key="pool_edge").set_value("same").run()
    assert "1x1" in panel_labels(at)[2]


def test_cnn_stages_follow_the_course_summary(data_dir):
    """1..3 conv(3x3)+pool(2) stages on 28x28: 28 -> 26 -> 13 -> 11 -> 5 -> 3 -> 1."""
    at = open_pooling()
    shapes = lambda: [m.value.split("\n")[-1] for m in at.markdown if m.value.startswith(("**Input**  ", "**Conv ", "**Pool "))]  # noqa: E731
    assert shapes() == ["28x28", "26x26", "13x13", "11x11", "5x5"]
    at.slider(key="pool_stages").set_value(3).run()
    assert shapes() == ["28x28", "26x26", "13x13", "11x11", "5x5", "3x3", "1x1"]
    at.slider(key="pool_stages").set_value(1).run()
    assert shapes() == ["28x28", "26x26", "13x13"]
    at.radio(key="pool_stage_source").set_value("This page's image, shrunk to 28x28").run()
    assert shapes() == ["28x28", "26x26", "13x13"]
    assert not at.exception


def test_page_does_not_import_tensorflow():
    """Pooling must stay light: neither the page's modules nor cnnviz.core.pooling import TensorFlow."""
    import subprocess
    import sys

    code = ("import sys; sys.path.insert(0, %r); import cnnviz.core.pooling, cnnviz.core.convolution, cnnviz.ui.resources, "
            "cnnviz.ui.kernel_controls, cnnviz.figures.matrices; print('tensorflow' in sys.modules or 'keras' in sys.modules)") % str(ROOT)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("False")


def test_kernel_controls_are_built_only_while_their_expander_is_open(data_dir):
    """Closed (the default): no kernel widgets are built; open: the shared kernel controls appear."""
    at = open_pooling()
    assert "pool_conv_preset" not in [s.key for s in at.selectbox]
    assert "[-1 -2 -1; 0 0 0; 1 2 1]" in at.caption[0].value  # the kernel in use is still named
    at.session_state["pool_conv_open"] = True
    at.run()
    assert "pool_conv_preset" in [s.key for s in at.selectbox]
    at.selectbox(key="pool_conv_preset").set_value("identity").run()
    assert not at.exception
    assert any("[0 0 0; 0 1 0; 0 0 0]" in c.value for c in at.caption)
