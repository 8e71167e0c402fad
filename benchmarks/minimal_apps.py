"""Minimal Streamlit apps for bench_controls: the Convolution and Pooling pages' controls and work, nothing else.

Each app carries the real page's widgets with THE SAME keys, kinds, labels and options, so
bench_controls drives both with the same Playwright steps, and on every edit does the work
whose result a student waits for, with ``cnnviz.core`` and nothing around it:

* Convolution: ``ConvolutionSettings(...).apply`` on the 512x512 stairwell, shown as
  ``st.image`` of PNG bytes in ``st.container(key="conv_result")``; the pixel explorer's
  heading ``Output pixel (row R, column C) ...`` and its three number pictures (input
  around it, output around it, the arithmetic) in containers keyed ``conv_zoom_in``,
  ``conv_zoom_out``, ``conv_arith``, as on the real page, in a part of its own (with
  ``FRAGMENT``, a second fragment): a result edit shows the new result and leaves the
  explorer as it was (the floor for "result visible"; cnnviz updates it after the paint).
* Pooling: ``pool2d`` of the convolved stairwell (the course's kernel), shown as a PNG under
  the same label as the real page's panel ("Downsampled (pooled)"); the window explorer's
  three pictures (framed convolution, the window's numbers, framed pooled image) under the
  same header ("Window explorer"); the CNN stages under "How a CNN shrinks an image".

The last result is kept in ``st.session_state`` (one entry, keyed by what it depends on), so
an edit that does not change it (an explorer row, a window cell) does not redo it: the floor
for "the same work". No page frame, no caching of pictures across sessions, no share link,
no paint reports.

Fragments: ``FRAGMENT`` (or bench_controls ``--fragment`` / ``--no-fragment``) runs the page
(the controls and result; the Convolution explorer apart) in ``st.fragment`` s or plainly. Measured here once each way (bench_controls --edits 4, weight,
normalise, explorer row, pooling mode, window row; 2 shared cores at load 3-6, so noisy): one
fragment gave minimal-app medians of 196 / 137 / 226 / 150 / 142 ms, none 150 / 264 / 367 / 186 /
180 ms. One fragment was faster on 4 of 5 controls, so it is the default.
"""

from __future__ import annotations

FRAGMENT = True
"""Wrap the whole minimal page in one ``st.fragment`` (True) or run it plainly (False)."""

_HEAD = '''
import numpy as np
import streamlit as st

from cnnviz.core import convolution as conv
from cnnviz.core import explain, images, kernels, number_pictures, pooling
from cnnviz.core.data import load_ascent

ss = st.session_state


@st.cache_resource
def stairwell() -> np.ndarray:
    return load_ascent()


def png(picture) -> bytes:
    return images.png_bytes(np.asarray(picture), compress_level=1)


def remembered(name, key, build):
    """The last ``build()`` for ``key`` (one entry per name): an edit that does not change ``key`` reuses it."""
    if ss.get(name, (None, None))[0] != key:
        ss[name] = (key, build())
    return ss[name][1]
'''

CONVOLUTION_APP = _HEAD + '''
from cnnviz.core.grid_edits import GridLimits
from cnnviz.ui.pixel_grid import pixel_grid, signed_look

ZOOM = 11
if "conv_settings" not in ss:
    ss.conv_settings = conv.ConvolutionSettings()


def use(**changes):
    ss.conv_settings = ss.conv_settings.replace(**changes)


def new_kernel(kernel, **changes):
    use(kernel=kernel, **changes)
    ss.conv_kernel_text = kernels.format_kernel(kernel)
    ss.conv_kernel_rows, ss.conv_kernel_cols = kernel.shape


def on_preset():
    preset = kernels.PRESETS.get(ss.conv_preset)
    if preset is not None:
        new_kernel(preset.kernel.copy(), preset=ss.conv_preset, normalise=preset.normalise, weight=1.0)
        ss.conv_normalise, ss.conv_weight = preset.normalise, 1.0


def on_text():
    try:
        new_kernel(kernels.parse_kernel(ss.conv_kernel_text), preset=None)
    except kernels.KernelError:
        pass


def on_size():
    old = ss.conv_settings.kernel
    resized = np.zeros((int(ss.conv_kernel_rows), int(ss.conv_kernel_cols)))
    r, c = min(resized.shape[0], old.shape[0]), min(resized.shape[1], old.shape[1])
    resized[:r, :c] = old[:r, :c]
    new_kernel(resized, preset=None)


def on_grid(edit):
    use(kernel=edit.matrix, preset=None)
    ss.conv_kernel_text = kernels.format_kernel(edit.matrix)


def option(field):
    """Widget arguments for a settings field: seeded from the settings once, then the widget's own state."""
    ss.setdefault(f"conv_{field}", getattr(ss.conv_settings, field))
    return dict(key=f"conv_{field}", on_change=lambda: use(**{field: ss[f"conv_{field}"]}))


def page():
    settings = ss.conv_settings
    kernel = settings.kernel
    ss.setdefault("conv_preset", settings.preset)
    ss.setdefault("conv_kernel_text", kernels.format_kernel(kernel))
    ss.setdefault("conv_kernel_rows", kernel.shape[0])
    ss.setdefault("conv_kernel_cols", kernel.shape[1])
    controls, result = st.columns([1.1, 3])
    with controls:
        st.selectbox("Kernel", [*kernels.PRESETS, "custom"], key="conv_preset", on_change=on_preset,
                     format_func=lambda n: kernels.PRESETS[n].label if n in kernels.PRESETS else "My own kernel")
        a, b = st.columns(2)
        a.number_input("Rows", 1, conv.MAX_KERNEL_SIDE, key="conv_kernel_rows", on_change=on_size)
        b.number_input("Columns", 1, conv.MAX_KERNEL_SIDE, key="conv_kernel_cols", on_change=on_size)
        with st.container(key="conv_kernel_grid"):
            pixel_grid(kernel, key="conv_kernel_grid_cells", label="Kernel", current=lambda: ss.conv_settings.kernel,
                       store=on_grid, limits=GridLimits(low=-1e6, high=1e6, whole=False, first_index=1),
                       look=signed_look(float(np.abs(kernel).max())))
        st.text_area("…or type the kernel", key="conv_kernel_text", on_change=on_text)
        st.number_input("Weight", -conv.MAX_ABS_WEIGHT, conv.MAX_ABS_WEIGHT, step=0.1, format="%g",
                        **option("weight"))
        st.checkbox("Normalise (÷ kernel sum)", disabled=not conv.can_normalise(kernel),
                    **option("normalise"))
        st.selectbox("Border (padding)", conv.PADDINGS,
                     format_func=conv.PADDING_LABELS.get, **option("padding"))
        st.radio("Stride", conv.STRIDES, horizontal=True, **option("stride"))
        st.toggle("Flip kernel (convolution)", **option("flip"))
        st.radio("Show the result as", conv.MAPPINGS,
                 format_func=conv.MAPPING_LABELS.get, **option("mapping"))
    image = stairwell()
    key = (kernel.tobytes(), kernel.shape, settings.correlate_options(), settings.mapping)

    def convolve():
        raw, shown = settings.apply(image)
        return raw, shown, png(shown)

    raw, shown, picture = remembered("conv_last", key, convolve)
    with result, st.container(key="conv_result"):
        st.image(picture, output_format="PNG", caption=f"Result ({raw.shape[0]}x{raw.shape[1]})")


def explorer_page():
    """The pixel explorer: its own part of the page (a result edit does not rebuild it)."""
    settings = ss.conv_settings
    image = stairwell()
    key = (settings.kernel.tobytes(), settings.kernel.shape, settings.correlate_options(), settings.mapping)
    raw, shown, _ = remembered("conv_last", key, lambda: (*settings.apply(image), None))
    rows, cols = raw.shape
    for name, default, side in (("conv_row", 333, rows), ("conv_col", 165, cols)):
        if name not in ss or ss[name] >= side:
            ss[name] = min(default, side - 1)
    pick, zoom_in, zoom_out = st.columns([0.8, 1.2, 1.2])
    r = pick.number_input("Output row", 0, rows - 1, key="conv_row")
    c = pick.number_input("Output column", 0, cols - 1, key="conv_col")
    info = explain.pixel_arithmetic(image, settings, r, c)
    cr, cc = info.centre
    top, left = max(0, min(cr - ZOOM // 2, image.shape[0] - ZOOM)), max(0, min(cc - ZOOM // 2, image.shape[1] - ZOOM))
    otop, oleft = max(0, min(r - ZOOM // 2, rows - ZOOM)), max(0, min(c - ZOOM // 2, cols - ZOOM))
    with zoom_in, st.container(key="conv_zoom_in"):
        st.image(png(number_pictures.matrix_picture(image[top:top + ZOOM, left:left + ZOOM], origin=(top, left),
                                                    title="Input around it")), output_format="PNG")
    with zoom_out, st.container(key="conv_zoom_out"):
        st.image(png(number_pictures.matrix_picture(shown[otop:otop + ZOOM, oleft:oleft + ZOOM], origin=(otop, oleft),
                                                    title="Output around it",
                                                    frame=(r - otop, r - otop + 1, c - oleft, c - oleft + 1))),
                 output_format="PNG")
    st.subheader(f"Output pixel (row {r}, column {c}): the kernel centred on input ({cr}, {cc})")
    if not info.border_kept:
        kr, kc = info.kernel.shape
        with st.container(key="conv_arith"):
            st.image(png(number_pictures.arithmetic_picture(info.window, info.kernel, info.products,
                                                            origin=(cr - kr // 2, cc - kc // 2))), output_format="PNG")
'''

POOLING_APP = _HEAD + '''
from cnnviz.ml.datasets import load_fashion_mnist

MODES = {"max": "Max (the course)", "average": "Average", "min": "Min"}
EDGES = {"valid": "Valid: drop windows that stick out", "same": "Same: pad bottom/right, as Keras"}
SETTINGS = conv.ConvolutionSettings()  # the course's kernel, as the real page opens


@st.cache_resource
def convolved() -> np.ndarray:
    return SETTINGS.apply(stairwell())[1]


@st.cache_resource
def fashion_test() -> np.ndarray:
    return load_fashion_mnist()[1][0]


def zoomed(values) -> np.ndarray:
    return images.enlarge(values, max(1, 512 // max(values.shape[:2])))


def framed(view, bounds) -> np.ndarray:
    factor = max(1, 512 // max(view.shape[:2]))
    return pooling.highlight_window(images.enlarge(view, factor), tuple(factor * b for b in bounds))


def page():
    a, b, c, d = st.columns([1.3, 1.4, 1.2, 1.6])
    mode = a.radio("Keep from each window", list(MODES), format_func=MODES.get, key="pool_mode")
    size = b.slider("Pool size", 1, pooling.MAX_POOL_SIZE, pooling.COURSE_POOL_SIZE, key="pool_size")
    if b.toggle("Different height and width", key="pool_rect"):
        size = (size, b.slider("Pool width", 1, pooling.MAX_POOL_SIZE, size, key="pool_width"))
    stride = c.selectbox("Stride", ["= pool size", *range(1, pooling.MAX_POOL_SIZE + 1)], key="pool_stride")
    edge = d.radio("Edges", list(EDGES), format_func=EDGES.get, key="pool_edge")
    options = dict(mode=mode, pool_size=size, strides=None if stride == "= pool size" else stride, padding=edge)
    image = convolved()

    def pool():
        result = pooling.pool2d(image, **options)
        return result, png(zoomed(np.clip(result.values, 0, 255).astype(np.uint8)))

    pooled, picture = remembered("pool_last", repr(sorted(options.items())), pool)
    st.markdown("**Downsampled (pooled)**")
    st.image(picture, output_format="PNG")
    st.header("Window explorer")
    rows, cols = pooled.shape[:2]
    e, f = st.columns(2)
    row = e.slider("Output row", 0, rows - 1, rows // 2, key="pool_cell_row") if rows > 1 else 0
    col = f.slider("Output column", 0, cols - 1, cols // 2, key="pool_cell_col") if cols > 1 else 0
    story = pooling.describe_window(pooled, image, row, col)
    r0, r1, c0, c1 = story["bounds"]
    m0, m1, n0, n1 = max(r0 - 1, 0), min(r1 + 1, image.shape[0]), max(c0 - 1, 0), min(c1 + 1, image.shape[1])
    kept = story["kept"]
    p1, p2, p3 = st.columns([1, 1.2, 1])
    p1.image(images.jpeg_bytes(framed(image, story["bounds"])), output_format="JPEG")
    p2.image(png(number_pictures.matrix_picture(image[m0:m1, n0:n1], origin=(m0, n0), frame=(r0 - m0, r1 - m0, c0 - n0, c1 - n0),
                                                ring=None if kept is None else (kept[0] - m0, kept[1] - n0))),
             output_format="PNG")
    shown = np.clip(pooled.values, 0, 255).astype(np.uint8)
    p3.image(images.jpeg_bytes(framed(shown, (row, row + 1, col, col + 1))), output_format="JPEG")
    st.header("How a CNN shrinks an image")
    g, h, k = st.columns([1, 1, 2])
    stages = g.slider("Conv + pool stages", 1, 3, 2, key="pool_stages")
    sources = ["A Fashion-MNIST image", "This page's image, shrunk to 28x28"]
    source = h.radio("Input", sources, key="pool_stage_source")
    if source == sources[0]:
        small = fashion_test()[k.slider("Test image number", 0, len(fashion_test()) - 1, 0, key="pool_stage_index")]
    else:
        small = pooling.cnn_input(stairwell())
    stage_settings = SETTINGS.replace(padding="valid", stride=1)
    maps = pooling.conv_pool_stages(small, lambda x: stage_settings.apply(x)[1], stages=stages)
    for column, (title, values) in zip(st.columns(7), maps):
        column.image(png(images.enlarge(np.clip(values, 0, 255).astype(np.uint8), 5)), output_format="PNG")
'''

_TAIL = {True: "\nst.fragment(page)()\nif 'explorer_page' in globals():\n    st.fragment(explorer_page)()\n",
         False: "\npage()\nif 'explorer_page' in globals():\n    explorer_page()\n"}


def source(app: str, *, fragment: bool = FRAGMENT) -> str:
    """The app's source, its parts run as ``st.fragment`` s or plainly."""
    return app + _TAIL[fragment]
