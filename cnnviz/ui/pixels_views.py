"""The Pixels page's parts: quick actions on the grayscale matrix, downloads, the zoom window
and the course's savefig/imread round trip."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz.core import images, share_link
from cnnviz.figures import matrices
from cnnviz.ui import links, resources, state
from cnnviz.ui.painted_image import report_when_painted
from cnnviz.ui.pixel_grid import set_matrix

RGB_EDITORS = tuple(f"rgb_editor_{k}" for k in range(3))
PICTURE_KEY, ZOOM_KEY, TOP_KEY, LEFT_KEY = "pixels_picture", "pixels_zoom_size", "pixels_top", "pixels_left"
ROUND_TRIP_SHOWS_KEY = "pixels_round_trip_shows"
"""Digests of the two matrices the round trip section shows now."""


def _both_matrices() -> tuple[str, str]:
    return resources.image_digest(state.gray_matrix()), resources.image_digest(state.rgb_matrix())


def round_trip_shows() -> None:
    """Record, in the round trip section, which matrices it shows."""
    st.session_state[ROUND_TRIP_SHOWS_KEY] = _both_matrices()


def follow_when_painted(chart_key: str, round_trip: str, idle: str) -> None:
    """Mount after the chart keyed ``chart_key``: once the browser has painted it, rerun the ``round_trip`` fragment
    if it shows an older matrix, else only the empty ``idle`` one.

    A matrix edit then shows its image first: the course's matplotlib round trip (a savefig, tens to
    hundreds of milliseconds) no longer stands between the stroke and the picture.
    """
    def follow() -> None:
        st.rerun([round_trip] if st.session_state.get(ROUND_TRIP_SHOWS_KEY) != _both_matrices() else [idle])

    report_when_painted(container=chart_key, key=f"{chart_key}_painted", on_painted=follow)


def read_link(gray_editor: str) -> None:
    """When a link opened the page: its matrices, picture and zoom window (before the widgets exist)."""
    view = links.start("pixels")
    if view is None:
        return
    values = view.values
    if "gray" in values:
        set_matrix(state.GRAY_MATRIX_KEY, values["gray"], grid_key=gray_editor)
    if "rgb" in values:
        for editor in RGB_EDITORS:
            set_matrix(state.RGB_MATRIX_KEY, values["rgb"], grid_key=editor)
    name = share_link.BUILTIN_SLUGS[values.get("img", share_link.image_slug(images.DEFAULT_BUILTIN))]
    st.session_state[PICTURE_KEY] = name
    links.reset_absent(view, {"zoom": ZOOM_KEY, "top": TOP_KEY, "left": LEFT_KEY}, values)
    if "zoom" in values:
        st.session_state[ZOOM_KEY] = values["zoom"]
    picture = resources.builtin_image(name)
    size = min(values.get("zoom", 8 if picture.ndim == 3 else 16), *picture.shape[:2])
    for param, key, side, what in (("top", TOP_KEY, picture.shape[0], "row"),
                                   ("left", LEFT_KEY, picture.shape[1], "column")):
        if param in values:
            st.session_state[key] = min(values[param], side - size)
            if values[param] > side - size:
                links.ignored("pixels", f"{param}={values[param]} was ignored: in this picture the zoom window "
                                        f"starts at {what} {side - size} at most (used instead).")


def travelling(matrix: np.ndarray, kind: str):
    """``matrix`` when a link can carry it; else None, and a caption saying what a link opens instead."""
    if share_link.can_travel(matrix):
        return matrix
    side = share_link.MAX_LINK_SIDE
    st.caption(f":material/link_off: This {matrix.shape[0]}x{matrix.shape[1]} {kind} matrix is larger than a link "
               f"carries ({side}x{side}): a link to this page opens the course's matrix instead.")
    return None


def gray_matrix_actions(editor_key: str, *, rerun: tuple[str, ...]) -> None:
    """Rows, columns, fill value and the quick-action buttons (Clear, Fill, Invert, ...)."""
    matrix = state.gray_matrix()

    def replace_matrix(make) -> None:
        set_matrix(state.GRAY_MATRIX_KEY, make(state.gray_matrix()), grid_key=editor_key)
        for key in ("gray_rows", "gray_cols"):  # re-read the size from the new matrix
            st.session_state.pop(key, None)
        st.rerun(list(rerun))

    def resize() -> None:
        shape = (st.session_state["gray_rows"], st.session_state["gray_cols"])
        set_matrix(state.GRAY_MATRIX_KEY, images.resize_matrix(state.gray_matrix(), *shape),
                      grid_key=editor_key)
        st.rerun(list(rerun))

    c1, c2, c3, _ = st.columns([1, 1, 1, 3])
    c1.number_input("Rows", 1, images.MAX_MATRIX_SIDE, matrix.shape[0], key="gray_rows", on_change=resize,
                    help="1 to 64. Growing adds black cells; shrinking keeps the top-left part.")
    c2.number_input("Columns", 1, images.MAX_MATRIX_SIDE, matrix.shape[1], key="gray_cols", on_change=resize,
                    help="1 to 64. Growing adds black cells; shrinking keeps the left part.")
    fill_value = c3.number_input("Fill value", 0, 255, 128, key="gray_fill_value",
                                 help="The value the Fill button writes into every cell.")
    actions = [
        ("Clear", "Every cell 0 (black).", np.zeros_like),
        ("Fill", "Every cell the fill value.", lambda m: np.full_like(m, fill_value)),
        ("Invert", "255 − value: the negative.", images.invert),
        ("Random", "Random values 0..255.", lambda m: images.random_matrix(m.shape)),
        ("Add noise", "Random changes of about ±25.", images.add_noise),
        ("Reset smiley", "Back to the course's 10x10 smiley.", lambda m: images.SMILEY.copy()),
    ]
    for column, (label, help_text, make) in zip(st.columns([1, 1, 1, 1, 1.2, 1.4, 2]), actions):
        column.button(label, help=help_text, on_click=replace_matrix, args=(make,),
                      type="primary" if label == "Reset smiley" else "secondary")
    matrix = state.gray_matrix()


def downloads(matrix: np.ndarray) -> None:
    """The matrix as CSV, .npy and PNG downloads."""
    d1, d2, d3, _ = st.columns([1, 1, 1, 3])
    d1.download_button("⬇ CSV", images.csv_text(matrix), "matrix.csv", "text/csv")
    d2.download_button("⬇ .npy", images.npy_bytes(matrix), "matrix.npy", "application/octet-stream")
    d3.download_button("⬇ PNG image", images.png_bytes(matrix), "matrix.png", "image/png")


def _inside(key: str, last: int) -> None:
    """Keep a stored window position inside the picture (a slider refuses a value beyond its end)."""
    if st.session_state.get(key) is not None and st.session_state[key] > last:
        st.session_state[key] = last


def zoom_window(picture: np.ndarray) -> dict:
    """A window of the picture, chosen with sliders, with every pixel's values.

    Returns the window for the link: ``zoom``, ``top``, ``left`` (None where it is the default).
    """
    height, width = picture.shape[:2]
    c0, c1, c2 = st.columns([1, 2, 2])
    default_zoom = 8 if picture.ndim == 3 else 16
    zoom = c0.select_slider("Zoom window", images.ZOOM_WINDOWS, default_zoom, key=ZOOM_KEY,
                            help="Pixels per side in the zoom view. Up to 32 grey values, or 8 colour pixels "
                                 "(three numbers each), are printed in the cells.")
    size = min(zoom, height, width)
    _inside(TOP_KEY, height - size)
    _inside(LEFT_KEY, width - size)
    top = c1.slider("Zoom window: first row", 0, height - size, (height - size) // 2, key=TOP_KEY) \
        if height > size else 0
    left = c2.slider("Zoom window: first column", 0, width - size, (width - size) // 2, key=LEFT_KEY) \
        if width > size else 0
    crop = picture[top:top + size, left:left + size]
    a, b = st.columns(2)
    with a:
        step = max(1, max(height, width) // 1024)  # a large upload is shown at most about 1024 pixels wide
        st.image(resources.png_of(picture[::step, ::step]), output_format="PNG", caption=f"The whole picture ({height}x{width}); the zoom shows rows {top}..{top + size - 1}, "
                 f"columns {left}..{left + size - 1}", width="stretch")
    with b:
        st.plotly_chart(matrices.image_figure(crop, origin=(top, left), height=520,
                                             show_values=crop.ndim == 2 or size <= 8,
                                             title="Zoom: hover any pixel for its values"),
                        key="pixels_zoom", config={"displayModeBar": False})
    return {"zoom": None if zoom == default_zoom else zoom,
            "top": None if top == (height - size) // 2 else top,
            "left": None if left == (width - size) // 2 else left}


def round_trip(key: str, label: str, matrix: np.ndarray) -> None:
    """The course's savefig/imread round trip of ``matrix`` beside Pillow's exact one."""
    figure_back, exact_back, figure_png, exact_png = resources.round_trips(matrix)
    st.subheader(f"The {label}")
    a, b = st.columns(2)
    b = b.container(key=f"round_trip_{key}")
    with a:
        st.markdown(f"**matplotlib** `savefig` → `plt.imread`: shape **{figure_back.shape}**, "
                    f"dtype **{figure_back.dtype}**, values {figure_back.min():.1f}..{figure_back.max():.1f}")
        st.image(figure_png, width="content", output_format="PNG")
    with b:
        same = exact_back.shape == matrix.shape and bool(np.array_equal(exact_back, matrix))
        st.markdown(f"**Pillow** PNG of the matrix itself: shape **{exact_back.shape}**, dtype "
                    f"**{exact_back.dtype}**, identical to the matrix: **{'yes' if same else 'no'}**")
        side = resources.round_trip_block(exact_back.shape)
        st.image(exact_png, width="content", output_format="PNG",
                 caption=f"Each pixel drawn as a {side}x{side} block so you can see it")
