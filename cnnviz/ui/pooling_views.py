"""The Pooling page's parts: pool options, panels drawn to scale, and the window being explained."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz.core import convolution, images, pooling
from cnnviz.ui import links, state
from cnnviz.ui.image_inputs import image_from_link
from cnnviz.ui.pixel_grid import set_matrix

MODE_LABELS = {"max": "Max (the course)", "average": "Average", "min": "Min"}
EDGE_LABELS = {"valid": "Valid: drop windows that stick out", "same": "Same: pad bottom/right, as Keras"}
DISPLAY_SIDE = 512
"""Panels are enlarged (nearest neighbour) to about this many pixels, so pooled blocks stay crisp."""
STAGE_ZOOM = 5
"""Screen pixels per value in the CNN stages: the maps are drawn to scale, so the shrinking shows."""
TITLES = {"Original": "Original image", "Convolved": "With the convolution applied", "Pooled": "Downsampled (pooled)"}
IMAGE_KEY, ROW_KEY, COL_KEY = "pool_image", "pool_cell_row", "pool_cell_col"
SAME_AS_SIZE = "= pool size"
FASHION_SOURCE, IMAGE_SOURCE = "A Fashion-MNIST image", "This page's image, shrunk to 28x28"
_WIDGETS = {"pool": "pool_mode", "pool_size": "pool_size", "pool_width": "pool_width", "pool_stride": "pool_stride",
            "pool_edge": "pool_edge", "row": ROW_KEY, "col": COL_KEY, "stages": "pool_stages",
            "test_image": "pool_stage_index"}
"""Link parameter -> the widget it seeds."""


def read_link(fashion_available: bool) -> None:
    """When a link opened the page: the image, kernel, options and pool (before the widgets exist)."""
    view = links.start("pooling", base=state.convolution_settings())
    if view is None:
        return
    state.set_convolution_settings(view.settings)
    values = dict(view.values)
    if "gray" in values:
        set_matrix(state.GRAY_MATRIX_KEY, values.pop("gray"))
    if "img" in values:
        st.session_state[IMAGE_KEY] = image_from_link(values.pop("img"))
    if "pool_width" in values:
        st.session_state["pool_rect"] = True
    source = values.pop("stage_input", None)
    if source == "fashion" and not fashion_available:
        links.ignored("pooling", "stage_input='fashion' was ignored: Fashion-MNIST is not available on this server.")
    elif source is not None:
        st.session_state["pool_stage_source"] = FASHION_SOURCE if source == "fashion" else IMAGE_SOURCE
    links.reset_absent(view, _WIDGETS, values)
    links.reset_absent(view, {"pool_width": "pool_rect"}, values)
    for name, value in values.items():
        st.session_state[_WIDGETS[name]] = value


def cell_slider(column, label: str, key: str, count: int) -> int:
    """An output row or column of the pooled image (a linked one is kept inside it, and named if it was not)."""
    if count <= 1:
        return 0
    name, what = ("row", "rows") if key == ROW_KEY else ("col", "columns")
    links.keep_within("pooling", key, name, count - 1, f"the pooled image has {count} {what}")
    return column.slider(label, 0, count - 1, count // 2, key=key)


def viewable(values: np.ndarray, factor: int = 1, *, signed: bool = False) -> np.ndarray:
    """uint8 to show (signed maps rescaled min..max), enlarged ``factor`` times."""
    shown = convolution.map_output(values, mapping="rescale" if signed else "clip")
    return images.enlarge(shown, factor) if factor > 1 else shown


def zoom(shape) -> int:
    return max(1, DISPLAY_SIDE // max(shape[:2]))


def framed(view: np.ndarray, bounds) -> np.ndarray:
    """The view enlarged for the screen, with a red frame around rows r0:r1, columns c0:c1."""
    factor = zoom(view.shape)
    return pooling.highlight_window(images.enlarge(view, factor), tuple(factor * b for b in bounds))


def shape_label(title: str, shape, original) -> None:
    change = pooling.reduction_percent(original[:2], shape[:2])
    tail = "" if title == "Original" else f" · **{change:.1f} %** fewer"
    st.markdown(f"**{TITLES[title]}**  \n{shape[0]}x{shape[1]} = {int(np.prod(shape[:2])):,} values{tail}")


def pool_controls() -> dict:
    a, b, c, d = st.columns([1.3, 1.4, 1.2, 1.6])
    mode = a.radio("Keep from each window", list(MODE_LABELS), format_func=MODE_LABELS.get, key="pool_mode")
    size = b.slider("Pool size", 1, pooling.MAX_POOL_SIZE, pooling.COURSE_POOL_SIZE, key="pool_size",
                    help="Side of the square window (the course: 4; CNNs usually use 2).")
    if b.toggle("Different height and width", key="pool_rect"):
        size = (size, b.slider("Pool width", 1, pooling.MAX_POOL_SIZE, size, key="pool_width"))
    stride = c.selectbox("Stride", [SAME_AS_SIZE, *range(1, pooling.MAX_POOL_SIZE + 1)], key="pool_stride",
                         help="Step between windows. Equal to the pool size, windows sit side by side.")
    edge = d.radio("Edges", list(EDGE_LABELS), format_func=EDGE_LABELS.get, key="pool_edge",
                   help="When the image side is not a multiple of the stride.")
    return dict(mode=mode, pool_size=size, strides=None if stride == SAME_AS_SIZE else stride, padding=edge)


def link_values(options: dict) -> dict:
    """The pool options (of :func:`pool_controls`) as link values."""
    size = options["pool_size"]
    height, width = size if isinstance(size, tuple) else (size, size)
    return {"pool": options["mode"], "pool_size": height, "pool_width": width if isinstance(size, tuple) else None,
            "pool_stride": options["strides"], "pool_edge": options["padding"]}
