"""The Pooling page's parts: pool options, panels drawn to scale, and the window being explained."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz.core import convolution, images, pooling

MODE_LABELS = {"max": "Max (the course)", "average": "Average", "min": "Min"}
EDGE_LABELS = {"valid": "Valid: drop windows that stick out", "same": "Same: pad bottom/right, as Keras"}
DISPLAY_SIDE = 512
"""Panels are enlarged (nearest neighbour) to about this many pixels, so pooled blocks stay crisp."""
STAGE_ZOOM = 5
"""Screen pixels per value in the CNN stages: the maps are drawn to scale, so the shrinking shows."""
TITLES = {"Original": "Original image", "Convolved": "With the convolution applied", "Pooled": "Downsampled (pooled)"}


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
    stride = c.selectbox("Stride", ["= pool size", *range(1, pooling.MAX_POOL_SIZE + 1)], key="pool_stride",
                         help="Step between windows. Equal to the pool size, windows sit side by side.")
    edge = d.radio("Edges", list(EDGE_LABELS), format_func=EDGE_LABELS.get, key="pool_edge",
                   help="When the image side is not a multiple of the stride.")
    return dict(mode=mode, pool_size=size, strides=None if stride == "= pool size" else stride, padding=edge)
