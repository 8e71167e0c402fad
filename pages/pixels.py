"""Pixels are numbers: the course's "How computers see images", to touch."""

import numpy as np
import streamlit as st

from cnnviz.core import images, share_link
from cnnviz.figures import matrices
from cnnviz.ui import frame, links, resources, state
from cnnviz.ui import pixels_views as pv
from cnnviz.ui.fragments import anchored_fragment
from cnnviz.ui.image_inputs import UPLOAD, UPLOAD_NOTE, image_upload
from cnnviz.ui.pixel_grid import channel_look, matrix_grid, set_matrix

GRAY_EDITOR = "gray_editor"
GRAY, RGB, ROUND_TRIP, IDLE = "pixels_gray", "pixels_rgb", "pixels_round_trip", "pixels_idle"
"""Keyed fragments: an edit reruns its own section; the round trip, which shows both matrices, follows
once the browser has painted the new image (pixels_views.follow_when_painted)."""

frame.require_app_frame()
pv.read_link(GRAY_EDITOR)
st.title("Pixels are numbers")
links.warn("pixels")
st.markdown(
    "A computer does not see a smiley or an astronaut: it sees a **matrix of numbers**. "
    "In a grayscale image every number is one pixel's brightness, from **0 (black)** to **255 (white)**."
)


@anchored_fragment(key=GRAY)
def grayscale_section() -> None:
    st.header("A grayscale matrix", divider="gray")
    pv.gray_matrix_actions(GRAY_EDITOR, rerun=(GRAY, ROUND_TRIP))
    matrix = state.gray_matrix()
    left, right = st.columns([1.1, 1])
    with left:
        st.caption("Paint with the brush, or pick a cell and type a number from 0 to 255. The image updates at once.")
        matrix = matrix_grid(state.GRAY_MATRIX_KEY, default=images.SMILEY, key=GRAY_EDITOR,
                             label=f"Grayscale matrix, {matrix.shape[0]} by {matrix.shape[1]}, values 0 to 255",
                             rerun=(GRAY,))
    with right:
        st.plotly_chart(matrices.matrix_heatmap(matrix, title=f"The same {matrix.shape[0]}x{matrix.shape[1]} matrix as an image", height=460),
                        key="gray_image", config={"displayModeBar": False})
        pv.follow_when_painted("gray_image", ROUND_TRIP, IDLE)
    info = images.describe(matrix)
    st.markdown(f"Shape **{info['shape']}** · dtype **{info['dtype']}** · **{info['values']}** values, "
                "one number per pixel. This matrix is kept while you visit the other pages, and "
                "**Convolution** and **Pooling** offer it as an input image.")
    pv.downloads(matrix)
    links.show("pixels", gray=pv.travelling(matrix, "gray"))


def reset_rgb() -> None:
    for k in range(3):
        set_matrix(state.RGB_MATRIX_KEY, images.RGB_GRID.copy(), grid_key=f"rgb_editor_{k}")
    st.rerun([RGB, ROUND_TRIP])


@anchored_fragment(key=RGB)
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
            matrix_grid(state.RGB_MATRIX_KEY, default=images.RGB_GRID, key=f"rgb_editor_{k}", channel=k,
                        label=f"{name} channel, 0 to 255", look=channel_look(k), rerun=(RGB,))
    rgb = state.rgb_matrix()
    left, right = st.columns([1, 1])
    with left:
        st.plotly_chart(matrices.rgb_figure(rgb, title=f"Shape {rgb.shape}: H x W x 3", height=380),
                        key="rgb_image", config={"displayModeBar": False})
        pv.follow_when_painted("rgb_image", ROUND_TRIP, IDLE)
    with right:
        st.markdown("The same array as numpy prints it:")
        st.code(np.array2string(rgb, separator=", "), language="python")
        st.button("Reset to the course's 3x3 grid", key="rgb_reset", on_click=reset_rgb)
    links.show("pixels", rgb=pv.travelling(rgb, "colour"))


@anchored_fragment
def image_section() -> None:
    st.header("Any picture is a matrix", divider="gray")
    options = [*images.BUILTIN_IMAGES, UPLOAD]
    choice = st.selectbox("Picture", options, key="pixels_picture",
                          help="Pictures bundled with scikit-image, or your own PNG/JPEG.")
    if choice == UPLOAD:
        st.caption(":material/link_off: " + UPLOAD_NOTE.format(instead=f"the {images.DEFAULT_BUILTIN.split(' (')[0]}"))
        links.show("pixels", img=None, zoom=None, top=None, left=None)
        decoded = image_upload("pixels_upload")
        if decoded is None:
            st.caption("No picture uploaded yet.")
            return
        picture = decoded.array
    else:
        picture = resources.builtin_image(choice)
    info = images.describe(picture)
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Height × width", f"{info['height']} × {info['width']}")
    m2.metric("Channels", info["channels"])
    m3.metric("dtype", info["dtype"])
    m4.metric("Number of values", f"{info['values']:,}")
    st.markdown("The top-left 3x3 pixels, as the course prints them (`image[0:3, 0:3]`):")
    st.code(np.array2string(picture[0:3, 0:3]), language="python")
    window = pv.zoom_window(picture)
    if choice != UPLOAD:
        links.show("pixels", img=share_link.image_slug(choice), **window)



@anchored_fragment(key=ROUND_TRIP)
def round_trip_section() -> None:
    st.header("Vice versa: image → file → matrix", divider="gray")
    st.markdown(
        "The course saves the RGB plot with matplotlib's `savefig` and reads it back with `plt.imread`. "
        "What comes back is the **picture of the figure** (4 x 4 inches at 100 dots per inch, with "
        "margins, as floats 0..1 with an alpha channel), **not the 3x3 matrix**. Saving the matrix "
        "itself as a PNG with Pillow gives back exactly the same numbers."
    )
    pv.round_trip_shows()
    for key, label, matrix in (("rgb", "RGB grid", state.rgb_matrix()),
                               ("gray", "grayscale matrix", state.gray_matrix())):
        pv.round_trip(key, label, matrix)


@anchored_fragment(key=IDLE)
def idle() -> None:
    """Nothing to show: what a paint report reruns when the round trip is already current."""


grayscale_section()
rgb_section()
image_section()
round_trip_section()
idle()
links.caption([f"Matrices up to {share_link.MAX_LINK_SIDE}x{share_link.MAX_LINK_SIDE}, the picture and its zoom "
               "window travel in it; an uploaded picture does not."])
links.sync("pixels")
