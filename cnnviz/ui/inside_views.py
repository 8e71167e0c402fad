"""The Inside the network page's views: one image's whole forward pass, a clickable picture per
layer, and how the clicked value was made, recomputed with numpy beside Keras' own number.

Importing this module imports TensorFlow (through :mod:`cnnviz.ml.forward_pass`): the page
imports it inside a spinner, as the other model pages do.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import streamlit as st
from streamlit_image_coordinates import streamlit_image_coordinates

from cnnviz.core import forward_pass as fp
from cnnviz.core import images
from cnnviz.core import network_pictures as pictures
from cnnviz.core.activation_inputs import COURSE_LABEL
from cnnviz.core.data import CLASS_NAMES
from cnnviz.ml.forward_pass import NetworkTrace, Pass
from cnnviz.ui import (
    activation_views,
    convolution_lab,
    frame,
    links,
    models,
    resources,
    state,
)
from cnnviz.ui.fragments import anchored_fragment

PAGE = "inside"
"""This page's name in links."""
SOURCE_KEY = "in_source"
"""The model picker's key on this page."""
PICK_KEY = "in_pick"
"""The value explained: (layer index, position); layer -1 is the input, a position is
(channel, row, column) in a map layer and (index,) in a vector."""
OPEN_REQUEST_KEY = "in__open_lab"
"""Set by "Open in the Convolution lab": the next run opens the lab."""
MISS_KEY = "in_miss"
"""A sentence about the last click that landed on no value (shown once)."""
PENDING_KEY = "in_link_pending"
"""The layer and position a link asked for, checked once the model is loaded."""
MAX_COLUMNS = 8
"""Layers side by side in the whole-pass view (a longer network wraps onto more rows)."""
ZOOM_SCALE = 12
"""Screen pixels per value in the enlarged map of the explained value."""
TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}
"""When a recomputed value "matches Keras" (Keras computes in float32)."""
INPUT_NAME = "input"
EXPLANATION_FRAGMENT = "in_explanation"
"""The key of the explained value's fragment: a click on a layer picture reruns only it."""
TEST_IMAGE_KEY = "in__test_image"
"""The test image shown, as (class, number within the class), or None for the drawing: what
"Open in the Convolution lab" sends."""


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- The model and the image ----------------------------------------------------------------


@st.cache_resource(show_spinner="Reading the shipped CNN's weights (once per server)…")
def _shipped_trace(_explorer) -> NetworkTrace:
    return NetworkTrace(_explorer)


def network_trace(explorer) -> NetworkTrace | None:
    """The chosen model's layers as numbers (shared for the shipped CNN, once per model in a
    session otherwise), or None after saying why not."""
    try:
        shipped, _ = models.shipped_activation_model()
        if explorer is shipped:
            return _shipped_trace(explorer)
        memo = st.session_state.get("in__trace_memo")
        if memo is None or memo[0] is not explorer:
            memo = (explorer, NetworkTrace(explorer))
            st.session_state["in__trace_memo"] = memo
        return memo[1]
    except Exception as exc:  # noqa: BLE001 - an odd model: a sentence, not a traceback
        st.error(f"This model's layers could not be read ({_short(exc)}).", icon=":material/error:")
        return None


def read_link() -> None:
    """When a link opened the page: the model, the image and the value explained (before the widgets)."""
    view = links.start(PAGE)
    if view is None:
        return
    values = activation_views.read_images_link(PAGE, dict(view.values), "in")
    if "index" in values:
        st.session_state["in_index"] = int(values.pop("index"))
    if "drawing" in values:
        st.session_state["in_drawing"] = bool(values.pop("drawing"))
    st.session_state[PENDING_KEY] = {k: values.pop(k) for k in ("layer", "at") if k in values}


def choose_image(fashion) -> tuple[np.ndarray, str]:
    """A test image by class and its number within the class, or the drawing: (uint8 28x28, a label)."""
    c1, c2, c3 = st.columns([1.2, 1, 1.6])
    use_drawing = fashion is None
    if fashion is not None:
        labels = fashion["test_labels"]
        label = c1.selectbox("Class", range(len(CLASS_NAMES)), index=COURSE_LABEL, key="in_class",
                             format_func=CLASS_NAMES.__getitem__)
        members = np.flatnonzero(labels == label)
        links.keep_within(PAGE, "in_index", "index", len(members) - 1,
                          f"there are {len(members)} test images of {CLASS_NAMES[label]}")
        k = c2.number_input(f"Image of the class (0 to {len(members) - 1})", 0, len(members) - 1, 0, key="in_index",
                            help="Which of the class's test images, in the test set's order.")
        use_drawing = c3.toggle("My drawing instead", key="in_drawing",
                                help="The 28x28 image drawn (or uploaded) in the Activations page's "
                                     "*Draw your own* tab.")
        links.show(PAGE, **{"class": str(label)}, index=int(k), drawing=use_drawing or None)
        if not use_drawing:
            number = int(members[int(k)])
            st.session_state[TEST_IMAGE_KEY] = (int(label), int(k))
            return fashion["test_raw"][number], f"test image #{number} ({CLASS_NAMES[label]})"
    else:
        st.caption("Fashion-MNIST is not available here: the page shows your drawing from the Activations page.")
    st.session_state[TEST_IMAGE_KEY] = None
    return state.drawing(None), "your drawing"


def run_pass(trace: NetworkTrace, image: np.ndarray) -> Pass | None:
    """The image through every layer (cached per model and image), or None after saying why not."""
    try:
        return trace.run(image)
    except Exception as exc:  # noqa: BLE001 - a model that cannot take this image: words
        st.error(f"This model could not run on the image ({_short(exc)}).", icon=":material/error:")
        return None


# --- Selection --------------------------------------------------------------------------------


def _is_map(shape) -> bool:
    return len(shape) == 3


def _is_probabilities(trace: NetworkTrace, index: int) -> bool:
    """Whether layer ``index`` outputs class probabilities (a softmax over the last layer's 10 values)."""
    spec = trace.specs[index]
    if index == len(trace.specs) - 1 and spec.get("activation") == "softmax":
        return True
    return spec.kind == "Dropout" and index > 0 and _is_probabilities(trace, index - 1)


def _shape_of(trace: NetworkTrace, run: Pass, layer: int) -> tuple[int, ...]:
    return run.input.shape if layer < 0 else run.ours[layer].shape


def default_pick(trace: NetworkTrace, run: Pass) -> tuple[int, tuple[int, ...]]:
    """The first conv layer's strongest value for this image (the input's middle without a conv layer)."""
    layer = next((i for i, k in enumerate(trace.kinds) if k == "Conv2D" and _is_map(run.ours[i].shape)), -1)
    if layer < 0:
        shape = run.input.shape
        return -1, (0, shape[0] // 2, shape[1] // 2) if len(shape) == 3 else (0,)
    r, c, f = np.unravel_index(int(np.argmax(run.ours[layer])), run.ours[layer].shape)
    return layer, (int(f), int(r), int(c))


def _valid(trace: NetworkTrace, run: Pass, pick) -> bool:
    try:
        layer, position = int(pick[0]), tuple(int(p) for p in pick[1])
    except (TypeError, ValueError, IndexError):
        return False
    if not -1 <= layer < len(trace.specs):
        return False
    shape = _shape_of(trace, run, layer)
    if len(shape) == 3:
        return len(position) == 3 and position[0] < shape[2] and position[1] < shape[0] and position[2] < shape[1]
    return len(position) == 1 and 0 <= position[0] < int(np.prod(shape))


def current_pick(trace: NetworkTrace, run: Pass) -> tuple[int, tuple[int, ...]]:
    """The value explained: a link's choice the first time, then the last click (kept valid)."""
    pending = st.session_state.pop(PENDING_KEY, None)
    if pending:
        names = [INPUT_NAME, *trace.names]
        asked = pending.get("layer", (None,))[0]
        if asked is not None and asked not in names:
            links.ignored(PAGE, f"layer={asked!r} was ignored: this model's layers are {', '.join(names)}.")
        elif asked is not None:
            pick = (names.index(asked) - 1, tuple(pending.get("at", ())))
            if _valid(trace, run, pick):
                st.session_state[PICK_KEY] = pick
            else:
                links.ignored(PAGE, f"at={','.join(map(str, pick[1]))!r} was ignored: it is not a value of {asked}.")
    pick = st.session_state.get(PICK_KEY)
    if pick is None or not _valid(trace, run, pick):
        pick = default_pick(trace, run)
        st.session_state[PICK_KEY] = pick
    return pick


def _set_pick(layer: int, position: tuple[int, ...]) -> None:
    st.session_state[PICK_KEY] = (layer, position)


def _picked(key: str, value) -> bool:
    """Whether the click ``value`` of the component ``key`` is new (each click is handled once)."""
    if not value or value.get("unix_time") == st.session_state.get(f"{key}__seen"):
        return False
    st.session_state[f"{key}__seen"] = value.get("unix_time")
    return True


def _click_xy(value, natural_width: int) -> tuple[float, float]:
    scale = natural_width / float(value.get("width") or natural_width)
    return value["x"] * scale, value["y"] * scale


# --- The whole pass -----------------------------------------------------------------------------


@st.cache_resource(max_entries=512, show_spinner=False)
def _layer_picture(token: str, image_key: str, layer: int, _trace: NetworkTrace, _run: Pass):
    """(PNG bytes, natural width, Mosaic or None for the probability bars, colour-scale limit) of one layer."""
    values = _run.input if layer < 0 else _run.ours[layer]
    limit = pictures.layer_limit(values)
    mosaic = None
    if layer >= 0 and _is_probabilities(_trace, layer):
        picture = pictures.probability_picture(values, CLASS_NAMES)
    elif _is_map(values.shape):
        picture, mosaic = pictures.map_mosaic(values, limit=1.0 if layer < 0 else limit, gray=layer < 0)
    else:
        n = int(np.prod(values.shape))
        picture, mosaic = pictures.vector_mosaic(values, limit=limit, columns=40 if n > 400 else (5 if n > 10 else 1))
    return images.png_bytes(picture, compress_level=1), picture.shape[1], mosaic, limit


def _layer_title(trace: NetworkTrace, run: Pass, layer: int) -> tuple[str, str]:
    shape = _shape_of(trace, run, layer)
    kind = "the image, 0..1" if layer < 0 else trace.kinds[layer]
    return (INPUT_NAME if layer < 0 else trace.names[layer]), f"{kind} · {'×'.join(map(str, shape))}"


def _scale_caption(trace: NetworkTrace, run: Pass, layer: int, limit: float) -> str:
    values = run.input if layer < 0 else run.ours[layer]
    if layer < 0:
        return "black 0 … white 1"
    if layer >= 0 and _is_probabilities(trace, layer):
        return "probabilities (sum 1)"
    low = float(values.min())
    return f"white 0 … red {limit:.3g}" if low >= 0 else f"blue −{limit:.3g} … white 0 … red +{limit:.3g}"


@anchored_fragment
def image_pass_and_explanation(trace: NetworkTrace, fashion, model_name: str) -> None:
    """The image, its whole pass and the explained value: choosing another image or clicking a value
    reruns only this part of the page, not the model picker above it."""
    with st.container(border=True):
        image, label = choose_image(fashion)
    with st.spinner("Running the image through every layer, with numpy and with Keras…"):
        run = run_pass(trace, image)
    if run is None:
        return
    st.caption(f"{model_name[0].upper()}{model_name[1:]}, {label}. Each column is one layer's output, in order; "
               "every map of a layer shares one colour scale (white is 0), given under it.")
    pass_and_explanation(trace, run, image)
    with st.expander("Does numpy agree with Keras everywhere? The largest difference in each layer"):
        agreement_table(trace, run)


def pass_and_explanation(trace: NetworkTrace, run: Pass, image: np.ndarray) -> None:
    """The whole pass, then the explained value (a fragment of its own: a click reruns only it)."""
    with st.container(key="in_pass"):
        whole_pass(trace, run, image)
    st.divider()
    explained_value(trace, run, image)


@anchored_fragment(key=EXPLANATION_FRAGMENT)
def explained_value(trace: NetworkTrace, run: Pass, image: np.ndarray) -> None:
    """The explained value: a click on a layer's picture reruns only this (the pass on screen stays as it is)."""
    with st.container(key="in_explained"):
        explanation(trace, run, image)


def whole_pass(trace: NetworkTrace, run: Pass, image: np.ndarray) -> None:
    """One column per layer, in order, each a clickable picture of all its values; a click picks a value."""
    token, image_key = trace.token, resources.image_digest(image)
    layers = [-1, *range(len(trace.specs))]
    for start in range(0, len(layers), MAX_COLUMNS):
        row = layers[start:start + MAX_COLUMNS]
        weights = [_column_weight(trace, run, layer) for layer in row]
        weights += [1.0] * ((MAX_COLUMNS - len(row)) if len(layers) > MAX_COLUMNS else 0)
        for layer, column in zip(row, st.columns(weights, gap="small")):
            png, width, mosaic, limit = _layer_picture(token, image_key, layer, trace, run)
            name, shape = _layer_title(trace, run, layer)
            with column:
                st.markdown(f"**{name}**")
                st.caption(shape)
                key = f"in_click_{layer + 1}"
                streamlit_image_coordinates(resources.EncodedPicture(png), key=key, width="stretch",
                                            image_format="PNG", cursor="pointer",
                                            on_click=partial(_layer_clicked, trace, run, layer, mosaic, width, key))
                st.caption(_scale_caption(trace, run, layer, limit))


def _layer_clicked(trace: NetworkTrace, run: Pass, layer: int, mosaic, width: int, key: str) -> None:
    """A click on a layer's picture (its callback): pick the value under it and rerun only the explanation."""
    value = st.session_state.get(key)
    if _picked(key, value):
        _pick_from_click(trace, run, layer, mosaic, _click_xy(value, width))
    st.rerun([EXPLANATION_FRAGMENT])


def _column_weight(trace: NetworkTrace, run: Pass, layer: int) -> float:
    """How wide a layer's column is: maps with many channels and the labelled probabilities get more room."""
    shape = _shape_of(trace, run, layer)
    if layer >= 0 and _is_probabilities(trace, layer):
        return 1.9
    if len(shape) == 3:
        return 1.0 if shape[2] == 1 else 1.45
    return 1.0 if int(np.prod(shape)) <= 64 else 1.15


def _pick_from_click(trace: NetworkTrace, run: Pass, layer: int, mosaic, xy) -> None:
    x, y = xy
    if mosaic is None:  # the probability bars: one row per class
        k = int(y // pictures.PROBABILITY_ROW)
        if 0 <= k < len(CLASS_NAMES):
            st.session_state[PICK_KEY] = (layer, (k,))
        return
    cell = mosaic.cell_at(x, y)
    if cell is None:
        st.session_state[MISS_KEY] = "That click fell between two maps (or past the last value): click on a map's cells."
        return
    index, r, c = cell
    if _is_map(_shape_of(trace, run, layer)):
        st.session_state[PICK_KEY] = (layer, (index, r, c))
    else:
        st.session_state[PICK_KEY] = (layer, (r * mosaic.map_shape[1] + c,))


# --- How the value was made ----------------------------------------------------------------------


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def keras_line(ours: float, theirs: float) -> None:
    """Our value beside Keras' for the same cell, and their difference."""
    difference = abs(ours - theirs)
    if np.isclose(ours, theirs, **TOLERANCE):
        st.success(f"**Matches Keras**: Keras computed {theirs:.8g} for this value, numpy here {ours:.8g} "
                   f"(difference {difference:.1e}; Keras computes in float32, numpy here in float64).",
                   icon=":material/check_circle:")
    else:
        st.warning(f"Keras computed {theirs:.8g}, numpy here {ours:.8g}: they differ by {difference:.3g}.",
                   icon=":material/warning:")


def explanation(trace: NetworkTrace, run: Pass, image: np.ndarray) -> None:
    """The explained value: an enlarged map to pick the exact cell, and the arithmetic that made it."""
    miss = st.session_state.pop(MISS_KEY, None)
    if miss:
        st.info(miss, icon=":material/ads_click:")
    layer, position = current_pick(trace, run)
    names = [INPUT_NAME, *trace.names]
    links.show(PAGE, layer=(names[layer + 1],), at=tuple(position))
    shape = _shape_of(trace, run, layer)
    kind = "Input" if layer < 0 else trace.kinds[layer]
    st.subheader(_heading(trace, layer, position, shape))
    if _is_map(shape):
        left, right = st.columns([1, 2.4], gap="medium")
        with left:
            _zoom(trace, run, layer, position)
            if kind == "Conv2D" and run.input_of(layer).shape[-1] == 1:
                _open_in_lab(trace, run, layer, position, image)
        body = right
    else:
        body = st.container()
    with body:
        try:
            _explain(trace, run, layer, position)
        except fp.NotCovered as exc:
            st.info(f"{exc}: this value is Keras' own, not recomputed here.", icon=":material/info:")
        except ValueError as exc:
            st.info(f"This value cannot be explained: {exc}.", icon=":material/info:")


def _heading(trace: NetworkTrace, layer: int, position, shape) -> str:
    name = INPUT_NAME if layer < 0 else trace.names[layer]
    if len(shape) == 3:
        what = "filter" if layer >= 0 and trace.kinds[layer] == "Conv2D" else "channel"
        return f"{name}, {what} {position[0]}, row {position[1]}, column {position[2]}"
    if layer >= 0 and _is_probabilities(trace, layer):
        return f"{name}: the probability of {CLASS_NAMES[position[0]]} (class {position[0]})"
    return f"{name}, value {position[0]}"


def _zoom(trace: NetworkTrace, run: Pass, layer: int, position) -> None:
    channel, r, c = position
    values = (run.input if layer < 0 else run.ours[layer])[..., channel]
    limit = 1.0 if layer < 0 else pictures.layer_limit(run.ours[layer])
    picture = pictures.zoomed_map(values, limit=limit, gray=layer < 0, selected=(r, c),
                                  scale=max(4, min(ZOOM_SCALE, 336 // max(values.shape))))
    key = "in_zoom"
    streamlit_image_coordinates(resources.EncodedPicture(resources.png_of(picture)), key=key, width="stretch",
                                image_format="PNG", cursor="crosshair",
                                on_click=partial(_zoom_clicked, layer, channel, values.shape[:2], picture.shape[1], key))
    st.caption("Click this map to explain another of its cells (framed: the one explained).")


def _zoom_clicked(layer: int, channel: int, shape: tuple[int, int], width: int, key: str) -> None:
    """A click on the enlarged map (its callback, before the explanation reruns): explain that cell."""
    click = st.session_state.get(key)
    if _picked(key, click):
        x, y = _click_xy(click, width)
        scale = width / shape[1]
        rr, cc = int(y // scale), int(x // scale)
        if 0 <= rr < shape[0] and 0 <= cc < shape[1]:
            st.session_state[PICK_KEY] = (layer, (channel, rr, cc))


def follow_open_request() -> None:
    """Switch to the Convolution lab when "Open in the Convolution lab" asked for it (call at the top of the page)."""
    if st.session_state.pop(OPEN_REQUEST_KEY, False):
        st.switch_page(frame.CONVOLUTION_PAGE)


def _send_to_lab(learned: convolution_lab.LearnedFilter, padding: str, stride: int, pixel: tuple[int, int]) -> None:
    """The learned kernel into the lab's settings, with a signed output (its sums are small and mostly negative),
    and the test image shown here (a drawing is not sent: the lab keeps its own image)."""
    settings = state.convolution_settings().replace(
        kernel=learned.kernel, preset=None, mapping="signed", padding=padding, stride=stride, weight=1.0,
        normalise=False, flip=False)
    test_image = st.session_state.get(TEST_IMAGE_KEY)
    convolution_lab.open_request(kernel_settings=settings, learned=learned, test_image=test_image,
                                 pixel=pixel if test_image is not None else None)
    st.session_state[OPEN_REQUEST_KEY] = True
    st.rerun()  # the whole page, not only the explanation's fragment: its top switches to the lab


def _open_in_lab(trace: NetworkTrace, run: Pass, layer: int, position, image: np.ndarray) -> None:
    from cnnviz.core.convolution import MAX_KERNEL_SIDE, STRIDES

    filter_index, r, c = position
    spec = trace.specs[layer]
    kernel = np.array(spec.weights[0][:, :, 0, filter_index])
    bias = float(spec.weights[1][filter_index]) if len(spec.weights) > 1 else 0.0
    learned = convolution_lab.LearnedFilter(trace.names[layer], int(filter_index), kernel, bias,
                                            str(spec.get("activation", "linear")))
    stride = int(spec.get("strides", (1, 1))[0])
    if max(kernel.shape) > MAX_KERNEL_SIDE or stride not in STRIDES or spec.get("dilation_rate", (1, 1)) != (1, 1):
        st.caption("This filter cannot be opened in the Convolution lab (its kernel, stride or dilation is not one "
                   "the lab offers).")
        return
    st.button("Open in the Convolution lab", key="in_open_lab", icon=":material/blur_on:",
              on_click=_send_to_lab,
              args=(learned, "keras" if spec.get("padding") == "same" else "valid", stride, (int(r), int(c))),
              help=f"Slide filter {filter_index}'s learned kernel over "
                   + ("this test image" if st.session_state.get(TEST_IMAGE_KEY) else "the lab's own image")
                   + " yourself (signed output: the sum only, no bias, no ReLU). The lab works on 0..255 pixel "
                     "values, so its sums are 255 times this page's sums before the bias.")


def _explain(trace: NetworkTrace, run: Pass, layer: int, position) -> None:
    if layer < 0:
        channel, r, c = position
        value = float(run.input[r, c, channel])
        st.markdown(f"The network's input: pixel (row {r}, column {c}) of the 28x28 image, **{round(value * 255)}** "
                    f"on the 0..255 scale, divided by 255 as the course prepares images: **{_fmt(value)}**.")
        return
    spec, x = trace.specs[layer], run.input_of(layer)
    ours, theirs = run.ours[layer], run.keras[layer]
    if spec.kind == "Conv2D":
        _explain_conv(trace, spec, x, position, layer)
        keras_line(float(ours[position[1], position[2], position[0]]), float(theirs[position[1], position[2], position[0]]))
    elif spec.kind in ("MaxPooling2D", "AveragePooling2D"):
        channel, r, c = position
        cell = fp.explain_pool(spec, x, r, c, channel)
        r0, r1, c0, c1 = cell.bounds
        ring = None if cell.kept is None else (cell.kept[0] - r0, cell.kept[1] - c0)
        st.image(resources.matrix_png(cell.window, origin=(r0, c0), signed=True, limit=pictures.layer_limit(x),
                                      title=f"{trace.names[layer - 1] if layer else INPUT_NAME}, channel {channel}",
                                      ring=ring), width="content", output_format="PNG")
        if cell.mode == "max":
            st.markdown(f"The {r1 - r0}x{c1 - c0} window (rows {r0}–{r1 - 1}, columns {c0}–{c1 - 1}) keeps its "
                        f"**largest value**, at row {cell.kept[0]}, column {cell.kept[1]} (ringed): **{_fmt(cell.value)}**.")
        else:
            st.markdown(f"The {r1 - r0}x{c1 - c0} window's **mean**: {_fmt(cell.window.sum())} ÷ {cell.window.size} "
                        f"= **{_fmt(cell.value)}** (padding cells are not counted).")
        keras_line(cell.value, float(theirs[r, c, channel]))
    elif spec.kind == "Flatten" or spec.kind == "Reshape" and len(ours.shape) == 1 and len(x.shape) == 3:
        index = position[0]
        source = fp.flat_source(x.shape, index)
        before = trace.names[layer - 1] if layer else INPUT_NAME
        st.markdown(f"Flatten copies values without changing them, reading **{before}** row by row, then column, "
                    f"then channel: value {index} = ({source[0]} × {x.shape[1]} + {source[1]}) × {x.shape[2]} + "
                    f"{source[2]}, so it is {before}'s **row {source[0]}, column {source[1]}, channel {source[2]}**: "
                    f"**{_fmt(float(ours[index]))}**.")
        st.button(f"Explain that value in {before}", key="in_to_source", on_click=_set_pick,
                  args=(layer - 1, (source[2], source[0], source[1])))
        keras_line(float(ours[index]), float(theirs[index]))
    elif spec.kind == "Dense":
        _explain_dense(trace, spec, x, layer, position[0], run)
    elif spec.kind == "Activation" and spec.get("activation") == "softmax" or (
            _is_probabilities(trace, layer) and spec.kind != "Dense"):
        _explain_softmax(x.reshape(-1), position[0], float(theirs.reshape(-1)[position[0]]),
                         what=f"{trace.names[layer - 1]}'s values")
    else:
        where = tuple(position[1:]) + (position[0],) if len(position) == 3 else tuple(position)
        cell = fp.explain_elementwise(spec, x, where)
        st.markdown(f"{cell.rule}: input **{_fmt(cell.input_value)}** → **{_fmt(cell.value)}**.")
        keras_line(cell.value, float(theirs[where]))


def _explain_conv(trace: NetworkTrace, spec, x, position, layer: int) -> None:
    filter_index, r, c = position
    cell = fp.explain_conv(spec, x, r, c, filter_index)
    shown, rest, rest_count = cell.shown_and_rest()
    kh, kw = cell.terms[0].kernel.shape
    before = trace.names[layer - 1] if layer else INPUT_NAME
    channels = len(cell.terms)
    if channels == 1:
        st.markdown(f"The {kh}x{kw} window of **{before}** under the kernel (rows {cell.origin[0]}–"
                    f"{cell.origin[0] + kh - 1}, columns {cell.origin[1]}–{cell.origin[1] + kw - 1}), times the "
                    f"learned kernel of filter {filter_index}, cell by cell, as on the Convolution page:")
    else:
        st.markdown(f"**{before}** has {channels} channels: filter {filter_index} has a {kh}x{kw} kernel slice for "
                    f"each, and the layer adds up the {channels} sums. The {len(shown)} largest contributions in full "
                    f"(window rows {cell.origin[0]}–{cell.origin[0] + kh - 1}, columns {cell.origin[1]}–"
                    f"{cell.origin[1] + kw - 1}):")
    limit = pictures.layer_limit(x)
    rows = tuple((term.window, term.kernel, term.products,
                  (f"{before} ch {term.channel}" if channels > 1 else f"{before} window",
                   "kernel" if channels == 1 else f"kernel slice {term.channel}", f"products, sum {term.total:+.4g}"))
                 for term in shown)
    with st.container(key="in_arithmetic"):  # one row per channel (readable on a projector), sent as one picture
        st.image(resources.arithmetic_rows_png(rows, origin=cell.origin, window_limit=limit), width="content",
                 output_format="PNG")
    if not cell.inside.all():
        st.caption("Cells outside the input are Keras' \"same\" padding zeros (the extra zero goes at the bottom/right).")
    lines = [f"channel {t.channel}: {t.total:+.6g}" for t in shown] if channels > 1 else []
    if rest_count:
        lines.append(f"the other {rest_count} channels together: {rest:+.6g}")
    steps = "  \n".join(lines)
    activation = fp.ACTIVATION_WORDS.get(cell.activation, f"the activation {cell.activation}")
    st.markdown((steps + "  \n" if steps else "")
                + f"**Sum{' over the channels' if channels > 1 else ' of the products'}** = {cell.total:+.6g}  \n"
                + f"**+ bias** {cell.bias:+.6g} = {cell.pre_activation:+.6g}  \n"
                + f"**{activation}** → **{_fmt(cell.value)}**")
    if channels > 1:
        with st.expander(f"All {channels} channels by the size of their contribution"):
            st.table(pd.DataFrame({"channel": [str(t.channel) for t in cell.terms],
                                   "sum of window × kernel slice": [f"{t.total:+.6g}" for t in cell.terms]}),
                     hide_index=True)


def _explain_dense(trace: NetworkTrace, spec, x, layer: int, unit: int, run: Pass) -> None:
    cell = fp.explain_dense(spec, x, unit)
    before = trace.names[layer - 1] if layer else INPUT_NAME
    flat_from = None
    if layer >= 1 and trace.kinds[layer - 1] == "Flatten":
        flat_from = (trace.names[layer - 2] if layer >= 2 else INPUT_NAME, run.input_of(layer - 1).shape)
    rows = []
    for i, v, w, p in zip(cell.inputs, cell.input_values, cell.weights, cell.products):
        where = f"{before} #{int(i)}"
        if flat_from is not None and len(flat_from[1]) == 3:
            rr, cc, ch = fp.flat_source(flat_from[1], int(i))
            where += f" = {flat_from[0]} ({rr}, {cc}, ch {ch})"
        rows.append({"input": where, "input value": f"{v:.6g}", "weight": f"{w:+.6g}", "weight × input": f"{p:+.6g}"})
    if cell.rest_count:
        rows.append({"input": f"the other {cell.rest_count} inputs together", "input value": "",
                     "weight": "", "weight × input": f"{cell.rest:+.6g}"})
    st.markdown(f"Unit {unit} multiplies each of the {x.size} values of **{before}** by its own weight and adds "
                f"them up. The largest contributions first:")
    st.table(pd.DataFrame(rows), hide_index=True)
    text = (f"**Sum** = {cell.total:+.6g}  \n**+ bias** {cell.bias:+.6g} = {cell.pre_activation:+.6g}")
    if cell.value is None:
        label = CLASS_NAMES[unit] if spec.weights[0].shape[1] == len(CLASS_NAMES) else f"unit {unit}"
        st.markdown(text + f" (the **logit** of {label}; this layer's activation is the softmax)")
        logits = fp.dense_pre_activation(spec, x)
        _explain_softmax(logits, unit, float(run.keras[layer].reshape(-1)[unit]), what="the logits")
        return
    activation = fp.ACTIVATION_WORDS.get(cell.activation, f"the activation {cell.activation}")
    st.markdown(text + f"  \n**{activation}** → **{_fmt(cell.value)}**")
    keras_line(cell.value, float(run.keras[layer].reshape(-1)[unit]))


def _explain_softmax(logits, index: int, keras_value: float, *, what: str) -> None:
    soft = fp.explain_softmax(logits, index)
    names = CLASS_NAMES if logits.size == len(CLASS_NAMES) else [str(k) for k in range(logits.size)]
    st.markdown(f"**Softmax** turns {what} into probabilities: e to the power of each, divided by their sum. "
                f"The largest ({soft.shift:.4g}) is subtracted first: it changes no probability, and keeps e^x "
                "from overflowing.")
    st.table(pd.DataFrame({
        "class": [f"→ {n}" if k == index else n for k, n in enumerate(names)],
        "logit": [f"{v:+.4f}" for v in soft.logits],
        "logit − largest": [f"{v:+.4f}" for v in soft.logits - soft.shift],
        "e^(logit − largest)": [f"{v:.6g}" for v in soft.exponentials],
        "probability": [f"{v:.4%}" for v in soft.exponentials / soft.total]}), hide_index=True)
    st.markdown(f"**Sum** of the exponentials = {soft.total:.6g}; {names[index]}: "
                f"{soft.exponentials[index]:.6g} ÷ {soft.total:.6g} = **{soft.value:.6g}** ({soft.value:.2%}).")
    keras_line(soft.value, keras_value)


def agreement_table(trace: NetworkTrace, run: Pass) -> None:
    """The largest difference between numpy's and Keras' values, layer by layer."""
    st.table(pd.DataFrame({
        "layer": trace.names, "type": trace.kinds, "values": [str(a.size) for a in run.ours],
        "largest |numpy − Keras|": [f"{d:.1e}" for d in run.differences],
        "matches (1e-5)": ["yes" if np.allclose(a, b, **TOLERANCE) else "no" for a, b in zip(run.ours, run.keras)],
    }), hide_index=True)
    for sentence in run.skipped:
        st.caption(f"Not recomputed: {sentence} (its values are Keras' own).")
