"""Pooling: the course's "Example: manual pooling" (convolve, then keep the largest value of every block)."""

import numpy as np
import streamlit as st

from cnnviz.core import convolution, kernels, pooling
from cnnviz.ui import frame, links, resources, state
from cnnviz.ui import pooling_views as pv
from cnnviz.ui import questions as ask
from cnnviz.ui.fragments import anchored_fragment
from cnnviz.ui.image_inputs import MY_MATRIX, STAIRWELL, image_link_value, input_image_picker, link_notes
from cnnviz.ui.kernel_controls import kernel_controls
from cnnviz.ui.pooling_views import STAGE_ZOOM, framed, pool_controls, shape_label, viewable, zoom

frame.require_app_frame()
pv.read_link(fashion_available=resources.local_fashion_mnist() is not None)
st.title("Pooling")
links.warn("pooling")
st.markdown(
    "The course's *manual pooling*: convolve the image, then keep only the **largest value of every "
    "4x4 block**, \"reducing the amount of information while keeping the features that were "
    "detected\". Change the kernel, the pool or the image: every panel follows at once."
)


@anchored_fragment
def pipeline() -> None:
    left, right = st.columns([1, 2])
    with left:
        name, image = input_image_picker(pv.IMAGE_KEY)
        choice = st.session_state.get(pv.IMAGE_KEY, STAIRWELL)
        for note in link_notes(choice, "pooling"):
            st.caption(f":material/link_off: {note}")
    with right:
        conv_controls = st.expander("Convolution: the kernel and options of the Convolution page (change them here too)",
                                    icon=":material/blur_on:", key="pool_conv_open", on_change="rerun")
        with conv_controls:  # built only while open: a closed expander costs nothing
            settings = kernel_controls("pool_conv", show_channels=False) if conv_controls.open else \
                state.convolution_settings()
        name = kernels.PRESETS[settings.preset].label if settings.preset in kernels.PRESETS else "Your kernel"
        st.caption(f"**{name}** `[{kernels.format_kernel(settings.kernel, row_sep='; ')}]` · weight "
                   f"{settings.weight:g} · stride {settings.stride} · {convolution.PADDING_LABELS[settings.padding]} · "
                   f"{convolution.MAPPING_LABELS[settings.mapping]}")
    links.show("pooling", settings, img=image_link_value(choice),
               gray=state.gray_matrix() if choice == MY_MATRIX and not link_notes(choice) else None)
    pooling_lab(image, settings)
    shrink_section(image, settings)


@anchored_fragment
def pooling_lab(image: np.ndarray, settings: convolution.ConvolutionSettings) -> None:
    """Pool controls, the three panels and the explorer: a pool change reruns only this."""
    options = pool_controls()
    signed = settings.mapping == "signed"
    links.show("pooling", **pv.link_values(options))
    try:
        pooled = resources.pooled(image, settings, **options)
    except ValueError as exc:
        st.warning(f"{exc}. Showing the image and its convolution only.", icon=":material/warning:")
        pooled = None
    conv = resources.convolution_result(image, settings)[1]
    panels = [("Original", image), ("Convolved", conv)] + ([("Pooled", pooled.values)] if pooled is not None else [])
    for column, (title, values) in zip(st.columns(3), panels):
        with column:
            shape_label(title, values.shape, image.shape)
            what = ("panel", title, tuple(sorted(options.items())) if title == "Pooled" else ())
            st.image(resources.view_png(image, settings, what, lambda v=values, t=title: viewable(
                v, zoom(v.shape), signed=signed and t != "Original")), width="stretch", output_format="PNG")
    if pooled is not None:
        window_explorer(image, settings, options, pooled)
    else:
        links.show("pooling", row=None, col=None)


@anchored_fragment
def window_explorer(image: np.ndarray, settings: convolution.ConvolutionSettings, options: dict,
                    pooled: pooling.Pooled) -> None:
    st.header("Window explorer", divider="gray")
    conv = resources.convolution_result(image, settings)[1]
    signed = settings.mapping == "signed"
    rows, cols = pooled.shape[:2]
    a, b = st.columns(2)
    row = pv.cell_slider(a, "Output row", pv.ROW_KEY, rows)
    col = pv.cell_slider(b, "Output column", pv.COL_KEY, cols)
    links.show("pooling", row=None if row == rows // 2 else row, col=None if col == cols // 2 else col)
    story = pooling.describe_window(pooled, conv, row, col)
    ask.offer_pooling_window(story["values"], pooled.mode, signed=signed)
    r0, r1, c0, c1 = story["bounds"]
    count = story["values"].size
    if story["kept"] is None:
        st.markdown(f"The window's **{count} values** are averaged: **{story['result']:.2f}** goes into cell ({row}, {col}).")
    else:
        word = "largest" if pooled.mode == "max" else "smallest"
        st.markdown(f"Of the window's **{count} values**, the {word} is **{story['result']:g}** at row "
                    f"{story['kept'][0]}, column {story['kept'][1]} (ringed in orange): it goes into cell ({row}, {col}).")
    full = pooled.pool_size[0] * pooled.pool_size[1]
    if count < full:
        st.caption(f"This window sticks out of the image: its {full - count} padded cells are ignored (\"same\" edges).")
    pool_key = tuple(sorted(options.items()))
    p1, p2, p3 = st.columns([1, 1.2, 1])
    with p1:
        st.markdown(f"**Convolved image**: the window rows {r0}..{r1 - 1}, columns {c0}..{c1 - 1}")
        st.image(resources.view_jpeg(image, settings, ("framed conv", story["bounds"]),
                                     lambda: framed(viewable(conv, signed=signed), story["bounds"])),
                 width="stretch", output_format="JPEG")
    with p2:
        m0, m1 = max(r0 - 1, 0), min(r1 + 1, conv.shape[0])
        n0, n1 = max(c0 - 1, 0), min(c1 + 1, conv.shape[1])
        kept = story["kept"]
        st.image(resources.matrix_png(np.round(conv[m0:m1, n0:n1]) if signed else conv[m0:m1, n0:n1],
                                      origin=(m0, n0), signed=signed,
                                      limit=convolution.signed_limit(conv) if signed else None,
                                      frame=(r0 - m0, r1 - m0, c0 - n0, c1 - n0),
                                      ring=None if kept is None else (kept[0] - m0, kept[1] - n0)),
                 width="stretch", output_format="PNG",
                 caption="The window (red) and the value it keeps (orange), with a cell of its neighbours around it.")
    with p3:
        st.markdown(f"**Pooled image**: output cell row {row}, column {col}")
        st.image(resources.view_jpeg(image, settings, ("framed pooled", pool_key, row, col),
                                     lambda: framed(viewable(pooled.values, signed=signed), (row, row + 1, col, col + 1))),
                 width="stretch", output_format="JPEG")


@anchored_fragment
def shrink_section(image: np.ndarray, settings) -> None:
    st.header("How a CNN shrinks an image", divider="gray")
    st.markdown("The course's CNN repeats **convolution (3x3, no padding)** and **2x2 max pooling** on a 28x28 "
                "image: 28 → 26 → 13 → 11 → 5. Each step keeps the features and drops the detail.")
    fashion = resources.local_fashion_mnist()
    a, b, c = st.columns([1, 1, 2])
    stages = a.slider("Conv + pool stages", 1, pooling.MAX_STAGES, pooling.DEFAULT_STAGES, key="pool_stages")
    sources = ([pv.FASHION_SOURCE] if fashion is not None else []) + [pv.IMAGE_SOURCE]
    source = b.radio("Input", sources, key="pool_stage_source")
    index = None
    if source == pv.FASHION_SOURCE and fashion is not None:
        index = c.slider("Test image number", 0, len(fashion["test_raw"]) - 1, 0, key="pool_stage_index")
        small = fashion["test_raw"][index]
    else:
        small = pooling.cnn_input(image)
    links.show("pooling", stages=stages, stage_input="fashion" if source == pv.FASHION_SOURCE else "image",
               test_image=index)
    kernel = settings.kernel if settings.kernel.shape == (3, 3) else convolution.COURSE_KERNEL
    if settings.kernel.shape != (3, 3):
        st.caption("The kernel on this page is not 3x3: the stages use the course's kernel.")
    stage_settings = settings.replace(kernel=kernel, padding="valid", stride=1)
    maps = pooling.conv_pool_stages(small, lambda x: resources.convolution_result(x, stage_settings)[1], stages=stages)
    for column, (title, values) in zip(st.columns(7), maps):
        with column:
            st.markdown(f"**{title}**  \n{values.shape[0]}x{values.shape[1]}")
            st.image(resources.png_of(viewable(values, STAGE_ZOOM, signed=settings.mapping == "signed" and title != "Input")),
                     width="content", output_format="PNG")


pipeline()
links.caption(["The image (not an upload), kernel, options, pool and the cell explained are all in it."])
links.sync("pooling")
