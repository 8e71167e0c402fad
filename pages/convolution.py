"""Convolution lab: the course's "manual convolution", live, with the arithmetic behind every pixel."""

import numpy as np
import streamlit as st

from cnnviz.core import convolution as conv
from cnnviz.core import images
from cnnviz.ui import convolution_lab as lab
from cnnviz.ui import frame, links, resources, state
from cnnviz.ui import questions as ask
from cnnviz.ui.fragments import anchored_fragment
from cnnviz.ui.image_inputs import STAIRWELL, input_image_picker, link_notes
from cnnviz.ui.kernel_controls import kernel_controls
from cnnviz.ui.painted_image import report_when_painted

ZOOM = 11
NO_PLOT_BAR = lab.NO_PLOT_BAR

frame.require_app_frame()
st.title("Convolution: slide a kernel over an image")


def current_result(image: np.ndarray):
    """The current settings and their result on ``image`` (cached), or a ValueError."""
    settings = state.convolution_settings()
    return (settings, *resources.convolution_result(image, settings))


@anchored_fragment(key=lab.LAB)
def lab_section(image_name: str, image: np.ndarray) -> None:
    """The kernel, its options and the result: one fragment, so an edit is one run. The result is
    drawn first; the explorer follows once the browser reports it painted."""
    controls_col, results_col = st.columns([1.1, 3], gap="medium")
    with results_col:
        results(image_name, image)
    with controls_col:
        kernel_controls(lab.CONTROLS_KEY, show_channels=False, defer_grid=True)
    ask.offer_kernel(image, image_name.split(" (")[0], state.convolution_settings())


def results(image_name: str, image: np.ndarray) -> None:
    original_col, result_col = st.columns(2, gap="medium")
    try:
        settings, raw, shown, canvas = current_result(image)
    except ValueError as exc:
        result_col.warning(f"{exc}. Choose another border option or a smaller kernel.", icon=":material/warning:")
        with result_col, st.container(key="conv_result"):  # nothing to paint: the explorer follows at once
            lab.shown(report_when_painted(container="conv_result", key="conv_painted",
                                          on_painted=lab.explain_when_painted))
        return
    factor = max(1, 512 // max(image.shape))  # small matrices drawn with big, crisp pixels
    with original_col, st.container(key="conv_original"):
        st.image(resources.png_of(images.enlarge(image, factor)), width="stretch", output_format="PNG",
                 caption=f"Input: {image_name.split(' (')[0]} ({image.shape[0]}x{image.shape[1]})")
    with result_col, st.container(key="conv_result"):
        st.image(resources.png_of(images.enlarge(canvas, factor)), width="stretch", output_format="PNG",
                 caption=f"Result ({raw.shape[0]}x{raw.shape[1]}), {conv.MAPPING_LABELS[settings.mapping].lower()}")
        lab.shown(report_when_painted(container="conv_result", key="conv_painted",
                                      on_painted=lab.explain_when_painted))
    with original_col:
        with st.container(key="conv_kernel_picture"):
            st.image(resources.matrix_png(settings.kernel, signed=True, limit=float(np.abs(settings.kernel).max()) or 1.0,
                                          title="The kernel"),
                     width="content", output_format="PNG")
        if min(settings.kernel.shape) % 2 == 0 or settings.kernel.shape[0] != settings.kernel.shape[1]:
            st.caption(f"Even or non-square kernel: its centre is row {settings.kernel.shape[0] // 2 + 1}, "
                       f"column {settings.kernel.shape[1] // 2 + 1} (index size//2, as scipy.ndimage anchors it).")
    with result_col:
        st.caption(f"Values: min {raw.min():.4g}, max {raw.max():.4g}. "
                   + ("Blue is negative, white 0, red positive." if settings.mapping == "signed" else
                      "In the course, negative sums become 0 (black) and sums above 255 become 255 (white)."))


@anchored_fragment(key=lab.EXPLORER)
def explorer(image_name: str, image: np.ndarray) -> None:
    """Behind one output pixel: follows the results once they are painted, and reruns alone on a pick."""
    lab.explaining()
    try:
        settings, raw, shown, canvas = current_result(image)
    except ValueError:
        st.info("No result to explain with these settings.", icon=":material/info:")
        return
    pick, zoom_in, zoom_out = st.columns([0.8, 1.2, 1.2])
    with pick:
        st.markdown("**Click** the result to choose a pixel, or type its row and column.")
        r, c = lab.pick_pixel(canvas, image.shape, settings)
    cr, cc = conv.input_centre(r, c, settings.kernel.shape, padding=settings.padding, stride=settings.stride,
                               flip=settings.flip, image_shape=image.shape)
    top, left = max(0, min(cr - ZOOM // 2, image.shape[0] - ZOOM)), max(0, min(cc - ZOOM // 2, image.shape[1] - ZOOM))
    otop, oleft = max(0, min(r - ZOOM // 2, raw.shape[0] - ZOOM)), max(0, min(c - ZOOM // 2, raw.shape[1] - ZOOM))
    crop = raw if settings.mapping in ("signed",) else shown
    kr, kc = settings.kernel.shape
    window = (cr - kr // 2 - top, cr - kr // 2 - top + kr, cc - kc // 2 - left, cc - kc // 2 - left + kc)
    with zoom_in, st.container(key="conv_zoom_in"):
        st.image(resources.matrix_png(image[top:top + ZOOM, left:left + ZOOM], origin=(top, left),
                                      title="Input around it", frame=lab.clip_frame(window, ZOOM)),
                 width="stretch", output_format="PNG", caption="The red frame: the input window under the kernel.")
    with zoom_out, st.container(key="conv_zoom_out"):
        st.image(resources.matrix_png(crop[otop:otop + ZOOM, oleft:oleft + ZOOM], origin=(otop, oleft),
                                      signed=settings.mapping == "signed", limit=conv.signed_limit(raw),
                                      title="Output around it", frame=(r - otop, r - otop + 1, c - oleft, c - oleft + 1)),
                 width="stretch", output_format="PNG", caption="The red frame: the output pixel explained below.")
    lab.explain_pixel(image, raw, shown, settings, r, c)
    lab.write_link(settings, st.session_state.get(lab.IMAGE_KEY, STAIRWELL), state.gray_matrix())


@anchored_fragment(key=lab.IDLE)
def idle() -> None:
    """Nothing to show: what a paint report reruns when the explorer is already current."""


lab.read_link()
lab.follow_open_request()  # "Open in the Convolution lab" on the Inside the network page
links.warn("convolution")
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
picker_col, note_col = st.columns([1.1, 3], gap="medium")
with picker_col:
    picked_name, picked = input_image_picker(lab.IMAGE_KEY, fashion_test=True)  # a new image reruns the page
with note_col:
    lab.network_scale_note(picked_name)
cannot_travel = link_notes(st.session_state.get(lab.IMAGE_KEY, STAIRWELL), "convolution")
lab_section(picked_name, picked)
st.header("Behind one output pixel", divider="gray")
explorer(picked_name, picked)
idle()
if st.button("Watch the kernel slide over a small matrix", icon=":material/play_circle:", key="conv_slide_open"):
    lab.slide_dialog(state.gray_matrix(), state.convolution_settings())
links.caption(cannot_travel or ["The image, kernel, options and chosen pixel are all in it."])
