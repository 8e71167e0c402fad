"""Convolution lab: the course's "manual convolution", live, with the arithmetic behind every pixel."""

import time

import numpy as np
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit_image_coordinates import streamlit_image_coordinates

from cnnviz import convolution as conv
from cnnviz import figures, images, kernels, ui

IMAGE_KEY, PIXEL_KEY, LINK_READ_KEY, LINK_PROBLEMS_KEY = "conv_image", "conv_pixel", "conv_link_read", "conv_link_problems"
DEFAULT_PIXEL = (333, 165)
"""Opens on a horizontal edge of the stairwell (sum 216 with the course's kernel: nothing clipped)."""
ZOOM = 11
NO_PLOT_BAR = {"displayModeBar": False}
PAINT_PAUSE = 0.09
"""Seconds the explorer waits after new results, so the browser paints the result image before
drawing the explorer's charts (drawing them blocks the browser for 100-200 ms)."""

ui.require_app_frame()
st.title("Convolution: slide a kernel over an image")


def read_link() -> None:
    """Once per session: take the kernel, options, image and pixel from the URL; say what was ignored."""
    if st.session_state.get(LINK_READ_KEY):
        return
    st.session_state[LINK_READ_KEY] = True
    params = st.query_params.to_dict()
    settings, problems = kernels.settings_from_query(params, ui.current_convolution_settings())
    ui.set_convolution_settings(settings)
    if "m" in params:
        try:
            ui.set_matrix(ui.GRAY_MATRIX_KEY, conv.parse_matrix_param(params["m"]))
        except ValueError as exc:
            problems.append(f"m (the matrix) was ignored: {exc}.")
    if "img" in params:
        choices = [ui.STAIRWELL, ui.MY_MATRIX, *images.BUILTIN_IMAGES]
        if params["img"] in choices:
            st.session_state[IMAGE_KEY] = params["img"]
        else:
            problems.append(f"img={params['img'][:40]!r} was ignored: not one of the built-in images.")
    if "row" in params or "col" in params:
        try:
            pixel = (int(params.get("row", DEFAULT_PIXEL[0])), int(params.get("col", DEFAULT_PIXEL[1])))
            if min(pixel) < 0:
                raise ValueError
            st.session_state[PIXEL_KEY] = pixel
        except ValueError:
            problems.append("row/col were ignored: they must be whole numbers, 0 or more.")
    st.session_state[LINK_PROBLEMS_KEY] = problems


def write_link(settings: conv.ConvolutionSettings, image_name: str, matrix: np.ndarray) -> None:
    """Keep the URL in step with the view, so the address bar is always a shareable link."""
    params = kernels.settings_to_query(settings)
    if image_name not in (ui.STAIRWELL, ui.UPLOAD):
        params["img"] = image_name
    if image_name == ui.MY_MATRIX and max(matrix.shape) <= 16 and not np.array_equal(matrix, images.SMILEY):
        params["m"] = conv.matrix_param(matrix)
    if st.session_state.get(PIXEL_KEY, DEFAULT_PIXEL) != DEFAULT_PIXEL:
        params["row"], params["col"] = map(str, st.session_state[PIXEL_KEY])
    if params != st.query_params.to_dict():
        st.query_params.from_dict(params)


def pick_pixel(shown_canvas: np.ndarray, image_shape, settings) -> tuple[int, int]:
    """Choose the output pixel to explain: click the small picture or type row and column."""
    rows, cols = conv.output_shape(image_shape, settings.kernel.shape, padding=settings.padding, stride=settings.stride)
    r, c = st.session_state.get(PIXEL_KEY, DEFAULT_PIXEL)
    seed = "conv_row" not in st.session_state or "conv_col" not in st.session_state
    factor, step = max(1, 256 // max(image_shape[:2])), max(1, max(image_shape[:2]) // 256)
    picture = images.enlarge(shown_canvas, factor) if factor > 1 else shown_canvas[::step, ::step]  # ~300 px shown
    click = streamlit_image_coordinates(picture, width="stretch", key="conv_click",
                                        image_format="JPEG", jpeg_quality=85, cursor="crosshair")
    if click and click.get("unix_time") != st.session_state.get("conv_click_seen"):
        st.session_state["conv_click_seen"] = click.get("unix_time")
        scale = image_shape[1] / click["width"]
        r, c = conv.output_pixel_at(int(click["y"] * scale), int(click["x"] * scale), image_shape, settings)
        seed = True
    if seed or st.session_state["conv_row"] >= rows or st.session_state["conv_col"] >= cols:
        st.session_state["conv_row"], st.session_state["conv_col"] = min(r, rows - 1), min(c, cols - 1)
    a, b = st.columns(2)
    r = a.number_input("Output row", 0, rows - 1, key="conv_row")
    c = b.number_input("Output column", 0, cols - 1, key="conv_col")
    st.session_state[PIXEL_KEY] = (int(r), int(c))
    return int(r), int(c)


def explain_pixel(image: np.ndarray, raw: np.ndarray, shown: np.ndarray, settings, r: int, c: int) -> None:
    info = conv.pixel_arithmetic(image, settings, r, c)
    cr, cc = info.centre
    st.subheader(f"Output pixel (row {r}, column {c}): the kernel centred on input ({cr}, {cc})")
    if info.border_kept:
        st.info(f"This pixel is on the border, where the kernel does not fit: as in the course it keeps "
                f"its input value, {info.raw:g}.", icon=":material/border_outer:")
        return
    kr, kc = info.kernel.shape
    top, left = cr - kr // 2, cc - kc // 2
    st.plotly_chart(figures.arithmetic_figure(info.window, info.kernel, info.products, origin=(top, left)),
                    key="conv_arith", config=NO_PLOT_BAR)
    lines = [f"{w:g} × {k:g} = {p:g}" for w, k, p in zip(info.window.ravel(), info.kernel.ravel(), info.products.ravel())]
    shown_lines = lines if len(lines) <= 9 else [*lines[:8], f"… and {len(lines) - 8} more products"]
    weight_text = f"× {info.factor:g}" + (" (weight ÷ kernel sum)" if settings.normalise and conv.can_normalise(settings.kernel) else " (weight)")
    final = {"clip": f"clip to 0..255 and drop the fraction → **{int(info.shown)}**",
             "abs": f"absolute value, clip to 255, drop the fraction → **{int(info.shown)}**",
             "rescale": f"rescaled with the whole result's min..max → **{int(shown[r, c])}**",
             "signed": f"kept with its sign → **{info.raw:.4g}**"}[settings.mapping]
    padding_note = "" if info.inside.all() else " Cells outside the image come from the padding."
    st.markdown(f"**{kr * kc} products** (window × kernel, cell by cell): " + "; ".join(shown_lines)
                + f"  \n**Sum** = {info.total:g} → {weight_text} = {info.raw:.6g} → {final}.{padding_note}")


@st.dialog("Watch the kernel slide", width="large")
def slide_dialog(small: np.ndarray, settings: conv.ConvolutionSettings) -> None:
    """Step/play: built only when asked for, so kernel edits stay fast; animated in the browser."""
    st.markdown("The current kernel and options on the small matrix from the **Pixels** page (the course's smiley "
                "until you edit it). Press **Play**, or drag the slider to move one position at a time.")
    try:
        steps = conv.sliding_steps(small, settings)
    except ValueError as exc:
        st.warning(f"{exc}.", icon=":material/warning:")
        return
    where = conv.anchor(settings.kernel.shape, flip=settings.flip)
    st.plotly_chart(figures.sliding_animation(
        small, steps, kernel_shape=settings.kernel.shape, anchor=where, stride=settings.stride,
        mapping=settings.mapping, valid_offset=where if settings.padding == "valid" else (0, 0)),
        key="conv_slide", config=NO_PLOT_BAR)


def current_result(image: np.ndarray):
    """The current settings and their result on ``image`` (cached), or a ValueError."""
    settings = ui.current_convolution_settings()
    return (settings, *ui.convolution_result(image, settings))


@st.fragment(key="conv_controls")
def controls() -> None:
    """The kernel and options: an edit reruns the results first, then these controls only if they changed."""
    ui.kernel_controls("conv", show_channels=False, results=("conv_results", "conv_explorer"),
                       controls="conv_controls")


@st.fragment(key="conv_results")
def results(image_name: str, image: np.ndarray) -> None:
    original_col, result_col = st.columns(2, gap="medium")
    try:
        settings, raw, shown, canvas = current_result(image)
    except ValueError as exc:
        result_col.warning(f"{exc}. Choose another border option or a smaller kernel.", icon=":material/warning:")
        return
    factor = max(1, 512 // max(image.shape))  # small matrices drawn with big, crisp pixels
    with original_col, st.container(key="conv_original"):
        st.image(ui.png_of(images.enlarge(image, factor)), width="stretch", output_format="PNG",
                 caption=f"Input: {image_name.split(' (')[0]} ({image.shape[0]}x{image.shape[1]})")
    with result_col, st.container(key="conv_result"):
        st.image(ui.png_of(images.enlarge(canvas, factor)), width="stretch", output_format="PNG",
                 caption=f"Result ({raw.shape[0]}x{raw.shape[1]}), {conv.MAPPING_LABELS[settings.mapping].lower()}")
    with original_col:
        st.plotly_chart(figures.kernel_figure(settings.kernel, title="The kernel"), key="conv_kernel_fig",
                        config=NO_PLOT_BAR)
        if min(settings.kernel.shape) % 2 == 0 or settings.kernel.shape[0] != settings.kernel.shape[1]:
            st.caption(f"Even or non-square kernel: its centre is row {settings.kernel.shape[0] // 2 + 1}, "
                       f"column {settings.kernel.shape[1] // 2 + 1} (index size//2, as scipy.ndimage anchors it).")
    with result_col:
        st.caption(f"Values: min {raw.min():.4g}, max {raw.max():.4g}. "
                   + ("Blue is negative, white 0, red positive." if settings.mapping == "signed" else
                      "In the course, negative sums become 0 (black) and sums above 255 become 255 (white)."))


@st.fragment(key="conv_explorer")
def explorer(image_name: str, image: np.ndarray) -> None:
    """Behind one output pixel: reruns after the results on every edit, and alone on a pick."""
    ctx = get_script_run_ctx()
    if ctx is not None and len(ctx.fragment_ids_this_run or ()) > 1:  # an edit: results, then this
        time.sleep(PAINT_PAUSE)
    try:
        settings, raw, shown, canvas = current_result(image)
    except ValueError:
        st.info("No result to explain with these settings.", icon=":material/info:")
        return
    pick, zoom_in, zoom_out = st.columns([0.8, 1.2, 1.2])
    with pick:
        st.markdown("**Click** the result to choose a pixel, or type its row and column.")
        r, c = pick_pixel(canvas, image.shape, settings)
    cr, cc = conv.input_centre(r, c, settings.kernel.shape, padding=settings.padding, stride=settings.stride,
                               flip=settings.flip)
    top, left = max(0, min(cr - ZOOM // 2, image.shape[0] - ZOOM)), max(0, min(cc - ZOOM // 2, image.shape[1] - ZOOM))
    otop, oleft = max(0, min(r - ZOOM // 2, raw.shape[0] - ZOOM)), max(0, min(c - ZOOM // 2, raw.shape[1] - ZOOM))
    crop = raw if settings.mapping in ("signed",) else shown
    with zoom_in:
        st.plotly_chart(figures.matrix_heatmap(image[top:top + ZOOM, left:left + ZOOM], origin=(top, left), height=430,
                                               title="Input around it"), key="conv_zoom_in", config=NO_PLOT_BAR)
    with zoom_out:
        st.plotly_chart(figures.result_heatmap(crop[otop:otop + ZOOM, oleft:oleft + ZOOM], mapping=settings.mapping,
                                               origin=(otop, oleft), height=430, title="Output around it",
                                               limit=conv.signed_limit(raw)), key="conv_zoom_out", config=NO_PLOT_BAR)
    explain_pixel(image, raw, shown, settings, r, c)
    write_link(settings, st.session_state.get(IMAGE_KEY, ui.STAIRWELL), ui.gray_matrix())


read_link()
for problem in st.session_state.get(LINK_PROBLEMS_KEY, []):
    st.warning(f"From the link: {problem}", icon=":material/link_off:")
with st.expander("What is a kernel, and why do edge kernels light up edges?", expanded=True, icon=":material/school:"):
    st.markdown(
        "A **kernel** (or filter) is a small grid of numbers. To compute one output pixel, lay the kernel over the "
        "input so its centre sits on that pixel, **multiply** each kernel number by the pixel under it, and **add** "
        "the products up. Then slide the kernel one pixel along and repeat, for every pixel.\n\n"
        "The course's kernel has **−1 −2 −1** on top, **0 0 0** in the middle and **1 2 1** below. On a flat, even "
        "area the top and bottom rows cancel out: the sum is about 0 (black). Where the picture gets brighter from "
        "top to bottom, the bottom row wins: a big sum (white). So the result is bright exactly on "
        "**horizontal edges**. Turn the kernel on its side and it finds vertical edges. A convolutional network "
        "*learns* the numbers of many such kernels by itself."
    )
controls_col, results_col = st.columns([1.1, 3], gap="medium")
with controls_col:
    picked_name, picked = ui.input_image_picker(IMAGE_KEY)  # a new image reruns the page
    controls()
with results_col:
    results(picked_name, picked)
st.header("Behind one output pixel", divider="gray")
explorer(picked_name, picked)
if st.button("Watch the kernel slide over a small matrix", icon=":material/play_circle:", key="conv_slide_open"):
    slide_dialog(ui.gray_matrix(), ui.current_convolution_settings())
st.caption(":material/link: **Share this view:** copy the address from your browser's address bar. "
           + ("Uploaded images cannot travel in a link: whoever opens it sees the stairwell instead."
              if st.session_state.get(IMAGE_KEY) == ui.UPLOAD else
              "The image, kernel, options and chosen pixel are all in it."))
