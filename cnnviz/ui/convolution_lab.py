"""The Convolution lab's parts: its link, the pixel picker, the arithmetic behind a pixel, the slide.

The page lays them out; the link is read when it opens the page and kept in step
with the view (:mod:`cnnviz.core.share_link` says what a link carries).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st
from streamlit_image_coordinates import streamlit_image_coordinates

from cnnviz.core import convolution as conv
from cnnviz.core import explain, images, share_link
from cnnviz.core.activation_inputs import COURSE_LABEL
from cnnviz.core.data import CLASS_NAMES
from cnnviz.figures import convolution as conv_figures
from cnnviz.ui import kernel_controls, links, resources, state
from cnnviz.ui.image_inputs import (
    FASHION_TEST,
    MY_MATRIX,
    class_members,
    image_from_link,
    image_link_value,
    test_image_keys,
)
from cnnviz.ui.pixel_grid import set_matrix

IMAGE_KEY, PIXEL_KEY = "conv_image", "conv_pixel"
DEFAULT_PIXEL = (333, 165)
"""Opens on a horizontal edge of the stairwell (sum 216 with the course's kernel: nothing clipped)."""
NO_PLOT_BAR = {"displayModeBar": False}
LAB, EXPLORER, IDLE = "conv_lab", "conv_explorer", "conv_idle"
CONTROLS_KEY = "conv"
"""Prefix of the lab's kernel-control widgets (``kernel_controls(CONTROLS_KEY, ...)``)."""
"""Keyed fragments: an edit reruns the lab (controls and result); the explorer follows once the browser
has painted the result."""
SHOWN_KEY, EXPLAINED_KEY = "conv_shown_token", "conv_explained_token"
"""The result picture on screen and the one the explorer explains (tokens of
cnnviz.ui.painted_image.report_when_painted)."""
CLASS_KEY, INDEX_KEY = test_image_keys(IMAGE_KEY)
"""The widgets choosing a Fashion-MNIST test image: its class and its number within the class."""
OPEN_KEY = "conv__opened_from_network"
"""What "Open in the Convolution lab" (Inside the network) sent, taken at the lab's next run (:func:`open_request`)."""
LEARNED_KEY = "conv_learned_filter"
"""The learned filter last sent here (:class:`LearnedFilter`): the explorer relates its sums to the network's."""


@dataclass(frozen=True)
class LearnedFilter:
    """A first-layer filter of a trained network sent to the lab: which one, its kernel and its bias."""

    layer: str
    filter: int
    kernel: np.ndarray
    bias: float
    activation: str = "relu"


def open_request(*, kernel_settings, learned: LearnedFilter, test_image: tuple[int, int] | None,
                 pixel: tuple[int, int] | None) -> None:
    """Ask the lab's next run to show ``learned`` with ``kernel_settings``, on the Fashion-MNIST test image
    ``test_image`` (class, number within the class; None keeps the lab's image) with the output ``pixel``
    explained. Called by another page just before it switches here."""
    state.set_convolution_settings(kernel_settings)
    st.session_state[OPEN_KEY] = {"learned": learned, "test_image": test_image, "pixel": pixel}


def follow_open_request() -> None:
    """Call at the top of the page, before its widgets: take what :func:`open_request` sent."""
    request = st.session_state.pop(OPEN_KEY, None)
    if not request:
        return
    st.session_state[LEARNED_KEY] = request["learned"]
    if request["test_image"] is not None:
        st.session_state[IMAGE_KEY] = FASHION_TEST
        st.session_state[CLASS_KEY], st.session_state[INDEX_KEY] = (int(v) for v in request["test_image"])
    if request["pixel"] is not None:
        st.session_state[PIXEL_KEY] = tuple(int(v) for v in request["pixel"])
        for key in ("conv_row", "conv_col"):  # seeded again from the pixel
            st.session_state.pop(key, None)


def read_link() -> None:
    """Call first on every full run: when a link opened the page, take the kernel, options, image,
    matrix and pixel from it (:mod:`cnnviz.ui.links` names what was ignored, in one warning)."""
    view = links.start("convolution", base=state.convolution_settings())
    if view is None:
        return
    state.set_convolution_settings(view.settings)
    values = view.values
    if "gray" in values:
        set_matrix(state.GRAY_MATRIX_KEY, values["gray"])
    if "img" in values:
        st.session_state[IMAGE_KEY] = image_from_link(values["img"])
    _read_test_image(view)
    if view.whole or "row" in values or "col" in values:
        st.session_state[PIXEL_KEY] = (values.get("row", DEFAULT_PIXEL[0]), values.get("col", DEFAULT_PIXEL[1]))
        links.reset_absent(view, {"row": "conv_row", "col": "conv_col"}, {})  # seeded from the pixel


def _read_test_image(view: share_link.LinkView) -> None:
    """A link's ``class`` and ``index`` (the test image's number within its class): each taken only when
    it names an image that exists; otherwise one sentence, and the image shown before stays."""
    values = view.values
    if view.whole:
        links.reset_absent(view, {"class": CLASS_KEY, "index": INDEX_KEY}, values)
    if "class" not in values and "index" not in values:
        return
    fashion = resources.local_fashion_mnist()
    if fashion is None:
        if values.get("img") == share_link.FASHION_TEST:
            links.ignored("convolution", "img='fashion' was ignored: Fashion-MNIST is not available on this "
                                         "server; the camera image is shown instead.")
        return
    label = int(values.get("class", st.session_state.get(CLASS_KEY, COURSE_LABEL)))
    if "class" in values:
        st.session_state[CLASS_KEY] = label
    if "index" in values:
        count = len(class_members(fashion["test_labels"], label))
        if values["index"] < count:
            st.session_state[INDEX_KEY] = int(values["index"])
        else:
            links.ignored("convolution", f"index={values['index']} was ignored: there are {count} test images of "
                                         f"{CLASS_NAMES[label]} (0 to {count - 1}).")


def write_link(settings: conv.ConvolutionSettings, image_name: str, matrix: np.ndarray) -> None:
    """Keep the URL in step with the view, so the address bar is always a shareable link."""
    pixel = st.session_state.get(PIXEL_KEY, DEFAULT_PIXEL)
    pixel = None if tuple(pixel) == DEFAULT_PIXEL else tuple(pixel)
    test_image = image_name == FASHION_TEST
    links.show("convolution", settings, img=image_link_value(image_name),
               gray=matrix if image_name == MY_MATRIX and share_link.can_travel(matrix) else None,
               **{"class": str(st.session_state[CLASS_KEY]) if test_image and CLASS_KEY in st.session_state else None},
               index=st.session_state.get(INDEX_KEY) if test_image else None,
               row=None if pixel is None else pixel[0], col=None if pixel is None else pixel[1])
    links.sync("convolution")


NETWORK_SCALE_NOTE = (
    "The network sees this image's pixels divided by 255 (0..1), as the course prepares them; the lab works on "
    "the 0..255 values shown here, so the lab's input is the network's input × 255. With a learned kernel "
    "(signed output, weight 1, no normalising, the layer's padding and stride, as \"Open in the Convolution lab\" "
    "sets them), each sum here is "
    "255 × (the network's value before ReLU − the filter's bias): divide it by 255, add the bias and apply ReLU "
    "to get the network's value."
)
"""How the lab's 0..255 sums relate to a trained network's first layer (checked by the tests against Keras)."""


def network_scale_note(image_name: str) -> None:
    """Under the picker, for a Fashion-MNIST test image: how the lab's numbers relate to the network's."""
    if image_name.startswith("Fashion-MNIST test image"):
        st.caption(NETWORK_SCALE_NOTE)


def learned_filter(settings: conv.ConvolutionSettings) -> LearnedFilter | None:
    """The learned filter sent here whose kernel the lab uses now, unchanged and with the options that
    keep its sums the network's (signed, weight 1, not normalised, not flipped); else None."""
    learned = st.session_state.get(LEARNED_KEY)
    if (learned is None or settings.kernel.shape != learned.kernel.shape
            or not np.array_equal(settings.kernel, learned.kernel) or settings.weight != 1
            or settings.normalise or settings.flip or settings.mapping != "signed"):
        return None
    return learned


def network_value(total: float, learned: LearnedFilter) -> tuple[float, float]:
    """What the network computes from a lab sum ``total`` on 0..255 pixels with ``learned``'s kernel:
    (the value before the activation, total / 255 + bias; the value after ReLU)."""
    before = total / 255.0 + learned.bias
    return before, max(before, 0.0)


def pick_pixel(shown_canvas: np.ndarray, image_shape, settings) -> tuple[int, int]:
    """Choose the output pixel to explain: click the small picture or type row and column."""
    rows, cols = conv.output_shape(image_shape, settings.kernel.shape, padding=settings.padding, stride=settings.stride)
    r, c = st.session_state.get(PIXEL_KEY, DEFAULT_PIXEL)
    seed = "conv_row" not in st.session_state or "conv_col" not in st.session_state
    factor, step = max(1, 256 // max(image_shape[:2])), max(1, max(image_shape[:2]) // 256)
    picture = images.enlarge(shown_canvas, factor) if factor > 1 else shown_canvas[::step, ::step]  # ~300 px shown
    click = streamlit_image_coordinates(resources.jpeg_picture(picture), width="stretch", key="conv_click",
                                        image_format="JPEG", cursor="crosshair")
    if click and click.get("unix_time") != st.session_state.get("conv_click_seen"):
        st.session_state["conv_click_seen"] = click.get("unix_time")
        scale = image_shape[1] / click["width"]
        r, c = explain.output_pixel_at(int(click["y"] * scale), int(click["x"] * scale), image_shape, settings)
        seed = True
    if seed or st.session_state["conv_row"] >= rows or st.session_state["conv_col"] >= cols:
        # a pixel outside this result (the stairwell's default on a 28x28 image): its middle, not a dull corner
        st.session_state["conv_row"] = r if 0 <= r < rows else rows // 2
        st.session_state["conv_col"] = c if 0 <= c < cols else cols // 2
    a, b = st.columns(2)
    r = a.number_input("Output row", 0, rows - 1, key="conv_row")
    c = b.number_input("Output column", 0, cols - 1, key="conv_col")
    st.session_state[PIXEL_KEY] = (int(r), int(c))
    return int(r), int(c)


def clip_frame(window: tuple[int, int, int, int], side: int) -> tuple[int, int, int, int] | None:
    """A window (r0, r1, c0, c1) clipped to a side x side crop (None when it lies outside)."""
    r0, r1, c0, c1 = (max(0, min(side, v)) for v in window)
    return (r0, r1, c0, c1) if r1 > r0 and c1 > c0 else None


def explain_pixel(image: np.ndarray, raw: np.ndarray, shown: np.ndarray, settings, r: int, c: int) -> None:
    info = explain.pixel_arithmetic(image, settings, r, c)
    cr, cc = info.centre
    st.subheader(f"Output pixel (row {r}, column {c}): the kernel centred on input ({cr}, {cc})")
    if info.border_kept:
        st.info(f"This pixel is on the border, where the kernel does not fit: as in the course it keeps "
                f"its input value, {info.raw:g}.", icon=":material/border_outer:")
        return
    kr, kc = info.kernel.shape
    top, left = cr - kr // 2, cc - kc // 2
    with st.container(key="conv_arith"):
        st.image(resources.arithmetic_png(info.window, info.kernel, info.products, origin=(top, left)),
                 width="content", output_format="PNG")
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
    learned = learned_filter(settings)
    if learned is not None and image.shape == (28, 28) and learned.activation == "relu":
        before, after = network_value(info.raw, learned)
        st.markdown(f"**In the network** ({learned.layer}, filter {learned.filter}, which sees this image ÷ 255): "
                    f"{info.raw:.6g} ÷ 255 = {info.raw / 255:.6g}  \n**+ bias** {learned.bias:+.6g} = "
                    f"{before:+.6g}  \n**ReLU** (negative → 0) → **{after:.6g}**, the value the Inside the network "
                    f"page shows for this cell.")


@st.dialog("Watch the kernel slide", width="large")
def slide_dialog(small: np.ndarray, settings: conv.ConvolutionSettings) -> None:
    """Step/play: built only when asked for, so kernel edits stay fast; animated in the browser."""
    st.markdown("The current kernel and options on the small matrix from the **Pixels** page (the course's smiley "
                "until you edit it). Press **Play**, or drag the slider to move one position at a time.")
    try:
        steps = explain.sliding_steps(small, settings)
    except ValueError as exc:
        st.warning(f"{exc}.", icon=":material/warning:")
        return
    where = conv.anchor(settings.kernel.shape, flip=settings.flip)
    st.plotly_chart(conv_figures.sliding_animation(
        small, steps, kernel_shape=settings.kernel.shape, anchor=where, stride=settings.stride,
        mapping=settings.mapping, valid_offset=where if settings.padding == "valid" else (0, 0)),
        key="conv_slide", config=NO_PLOT_BAR)


def shown(token: str) -> None:
    """Record which result picture the results fragment has just sent."""
    st.session_state[SHOWN_KEY] = token


def explaining() -> None:
    """Record that the explorer now explains the result on screen."""
    st.session_state[EXPLAINED_KEY] = st.session_state.get(SHOWN_KEY)


def explain_when_painted() -> None:
    """The browser has painted a new result: rerun the explorer if it explains an older one, and the
    lab if its kernel grid still shows the previous kernel (see ``kernel_controls(defer_grid=True)``).

    Otherwise rerun only the empty ``IDLE`` fragment, so the report costs nothing.
    """
    targets = [EXPLORER] if st.session_state.get(EXPLAINED_KEY) != st.session_state.get(SHOWN_KEY) else []
    if kernel_controls.grid_waiting(CONTROLS_KEY):
        kernel_controls.show_new_grid(CONTROLS_KEY)
        targets.append(LAB)
    st.rerun(targets or [IDLE])
