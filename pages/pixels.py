"""Pixels are numbers: the course's "How computers see images", to touch."""

import numpy as np
import streamlit as st

from cnnviz import figures, images, ui

RGB_KEY = "rgb_matrix"
GRAY_EDITOR = "gray_editor"
GRAY, RGB, ROUND_TRIP = "pixels_gray", "pixels_rgb", "pixels_round_trip"
"""Keyed fragments: an edit reruns its own section and the round trip, which shows both matrices."""

ui.require_app_frame()
st.title("Pixels are numbers")
st.markdown(
    "A computer does not see a smiley or an astronaut: it sees a **matrix of numbers**. "
    "In a grayscale image every number is one pixel's brightness, from **0 (black)** to **255 (white)**."
)


@st.fragment(key=GRAY)
def grayscale_section() -> None:
    st.header("A grayscale matrix", divider="gray")
    matrix = ui.gray_matrix()

    def replace_matrix(make) -> None:
        ui.set_matrix(ui.GRAY_MATRIX_KEY, make(ui.gray_matrix()), editor_key=GRAY_EDITOR)
        for key in ("gray_rows", "gray_cols"):  # re-read the size from the new matrix
            st.session_state.pop(key, None)
        st.rerun([GRAY, ROUND_TRIP])

    def resize() -> None:
        shape = (st.session_state["gray_rows"], st.session_state["gray_cols"])
        ui.set_matrix(ui.GRAY_MATRIX_KEY, images.resize_matrix(ui.gray_matrix(), *shape),
                      editor_key=GRAY_EDITOR)
        st.rerun([GRAY, ROUND_TRIP])

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
    matrix = ui.gray_matrix()

    left, right = st.columns([1.1, 1])
    with left:
        st.caption("Click a cell, type a number from 0 to 255, press Enter. The image updates at once.")
        matrix = ui.matrix_editor(ui.GRAY_MATRIX_KEY, default=images.SMILEY, key=GRAY_EDITOR,
                                  rerun=(GRAY, ROUND_TRIP),
                                  height=min(38 * (matrix.shape[0] + 1), 520))
    with right:
        st.plotly_chart(figures.matrix_heatmap(matrix, title=f"The same {matrix.shape[0]}x{matrix.shape[1]} matrix as an image", height=460),
                        key="gray_image", config={"displayModeBar": False})
    info = images.describe(matrix)
    st.markdown(f"Shape **{info['shape']}** · dtype **{info['dtype']}** · **{info['values']}** values, "
                "one number per pixel. This matrix is kept while you visit the other pages, and "
                "**Convolution** and **Pooling** offer it as an input image.")
    d1, d2, d3, _ = st.columns([1, 1, 1, 3])
    d1.download_button("⬇ CSV", images.csv_text(matrix), "matrix.csv", "text/csv")
    d2.download_button("⬇ .npy", images.npy_bytes(matrix), "matrix.npy", "application/octet-stream")
    d3.download_button("⬇ PNG image", images.png_bytes(matrix), "matrix.png", "image/png")


def reset_rgb() -> None:
    for k in range(3):
        ui.set_matrix(RGB_KEY, images.RGB_GRID.copy(), editor_key=f"rgb_editor_{k}")
    st.rerun([RGB, ROUND_TRIP])


@st.fragment(key=RGB)
def rgb_section() -> None:
    st.header("A colour (RGB) matrix", divider="gray")
    st.markdown(
        "A colour image has **three numbers per pixel**: how much **R**ed, **G**reen and **B**lue light. "
        "So it is a stack of three matrices, shape **height × width × 3**. "
        "Top-right is **Red 255 + Green 255 = Yellow**: screens mix light, not paint."
    )
    channels = st.columns(3)
    for k, (column, name) in enumerate(zip(channels, ("Red", "Green", "Blue"))):
        with column:
            st.markdown(f"**{name} channel** `[:, :, {k}]`")
            ui.matrix_editor(RGB_KEY, default=images.RGB_GRID, key=f"rgb_editor_{k}", channel=k,
                             rerun=(RGB, ROUND_TRIP))
    rgb = st.session_state[RGB_KEY]
    left, right = st.columns([1, 1])
    with left:
        st.plotly_chart(figures.rgb_figure(rgb, title=f"Shape {rgb.shape}: H x W x 3", height=380),
                        key="rgb_image", config={"displayModeBar": False})
    with right:
        st.markdown("The same array as numpy prints it:")
        st.code(np.array2string(rgb, separator=", "), language="python")
        st.button("Reset to the course's 3x3 grid", key="rgb_reset", on_click=reset_rgb)


@st.fragment
def image_section() -> None:
    st.header("Any picture is a matrix", divider="gray")
    options = [*images.BUILTIN_IMAGES, ui.UPLOAD]
    choice = st.selectbox("Picture", options, key="pixels_picture",
                          help="Pictures bundled with scikit-image, or your own PNG/JPEG.")
    if choice == ui.UPLOAD:
        decoded = ui.image_upload("pixels_upload")
        if decoded is None:
            st.caption("No picture uploaded yet.")
            return
        picture = decoded.array
    else:
        picture = ui.builtin_image(choice)
    info = images.describe(picture)
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Height × width", f"{info['height']} × {info['width']}")
    m2.metric("Channels", info["channels"])
    m3.metric("dtype", info["dtype"])
    m4.metric("Number of values", f"{info['values']:,}")
    st.markdown("The top-left 3x3 pixels, as the course prints them (`image[0:3, 0:3]`):")
    st.code(np.array2string(picture[0:3, 0:3]), language="python")

    height, width = picture.shape[:2]
    c0, c1, c2 = st.columns([1, 2, 2])
    zoom = c0.select_slider("Zoom window", [4, 8, 16, 32], 8 if picture.ndim == 3 else 16, key="pixels_zoom_size",
                            help="Pixels per side in the zoom view. Up to 32 grey values, or 8 colour pixels "
                                 "(three numbers each), are printed in the cells.")
    size = min(zoom, height, width)
    top = c1.slider("Zoom window: first row", 0, height - size, (height - size) // 2, key="pixels_top") \
        if height > size else 0
    left = c2.slider("Zoom window: first column", 0, width - size, (width - size) // 2, key="pixels_left") \
        if width > size else 0
    crop = picture[top:top + size, left:left + size]
    a, b = st.columns(2)
    with a:
        st.image(picture, caption=f"The whole picture ({height}x{width}); the zoom shows rows {top}..{top + size - 1}, "
                 f"columns {left}..{left + size - 1}", width="stretch", clamp=True)
    with b:
        st.plotly_chart(figures.image_figure(crop, origin=(top, left), height=520,
                                             show_values=crop.ndim == 2 or size <= 8,
                                             title="Zoom: hover any pixel for its values"),
                        key="pixels_zoom", config={"displayModeBar": False})


@st.fragment(key=ROUND_TRIP)
def round_trip_section() -> None:
    st.header("Vice versa: image → file → matrix", divider="gray")
    st.markdown(
        "The course saves the RGB plot with matplotlib's `savefig` and reads it back with `plt.imread`. "
        "What comes back is the **picture of the figure** (4 x 4 inches at 100 dots per inch, with "
        "margins, as floats 0..1 with an alpha channel), **not the 3x3 matrix**. Saving the matrix "
        "itself as a PNG with Pillow gives back exactly the same numbers."
    )
    for key, label, matrix in (("rgb", "RGB grid", st.session_state.get(RGB_KEY, images.RGB_GRID)),
                               ("gray", "grayscale matrix", ui.gray_matrix())):
        figure_back, exact_back = ui.round_trips(matrix)
        st.subheader(f"The {label}")
        a, b = st.columns(2)
        b = b.container(key=f"round_trip_{key}")
        with a:
            st.markdown(f"**matplotlib** `savefig` → `plt.imread`: shape **{figure_back.shape}**, "
                        f"dtype **{figure_back.dtype}**, values {figure_back.min():.1f}..{figure_back.max():.1f}")
            st.image(figure_back, width=260, clamp=True)
        with b:
            same = exact_back.shape == matrix.shape and bool(np.array_equal(exact_back, matrix))
            st.markdown(f"**Pillow** PNG of the matrix itself: shape **{exact_back.shape}**, dtype "
                        f"**{exact_back.dtype}**, identical to the matrix: **{'yes' if same else 'no'}**")
            st.image(images.enlarge(exact_back, 24), width=260, caption="Each pixel drawn as a 24x24 block so you can see it")


grayscale_section()
rgb_section()
image_section()
round_trip_section()
