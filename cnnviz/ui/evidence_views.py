"""The Class evidence page's views: which images, occlusion, saliency, Grad-CAM, and the
clickable classes x filters grid that opens the Activations page.

Importing this module imports TensorFlow (through :mod:`cnnviz.ml.evidence`): the page imports
it inside a spinner, as the Activations page does.
"""

from __future__ import annotations

import functools

import numpy as np
import streamlit as st

from cnnviz.core import evidence as ev
from cnnviz.core.data import CLASS_NAMES
from cnnviz.core.palette import (
    HEAT_COLORSCALE,
    HEAT_OVERLAY_COLORSCALE,
    SIGNED_COLORSCALE,
    SIGNED_GREY_COLORSCALE,
    SIGNED_OVERLAY_COLORSCALE,
)
from cnnviz.figures import evidence as figures
from cnnviz.ml.evidence import GRAD_CAM_PAPER, OCCLUSION_PAPER, SALIENCY_PAPER, EvidenceModel, evidence_for
from cnnviz.ui import activation_views, frame, links, models, state

PLOT_CONFIG = {"displayModeBar": False}
MAX_IMAGES = ev.MAX_IMAGES
PREDICTED = -1
"""The "Explain" choice meaning each image's own top guess."""
SOURCE_KEY = "ev_source"
"""The model picker's key on this page."""
PAGE = "evidence"
"""This page's name in links."""
VIEW_LABELS = dict(zip(ev.VIEWS, ("Occlusion", "Saliency", "Grad-CAM", "Which filter answers to which class")))
"""``view=`` link value -> the tab's label."""
_WIDGETS = {"count": "ev_count", "how": "ev_how", "seed": "ev_seed", "patch": "ev_patch", "stride": "ev_stride",
            "fill": "ev_fill", "sign": "ev_sign", "grid_n": "ev_grid_count", "grid_scale": "ev_grid_scale",
            "group": "ev_grid_group"}
"""Link parameter -> the widget it seeds (the layers need the model: see :func:`seed_layers`)."""
PENDING_KEY = "ev_link_pending"
"""The layers a link asked for, checked once the model is loaded."""
OPEN_REQUEST_KEY = "ev__open_activations"
"""Set by a click on the classes x filters grid: the next run opens the Activations page."""


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def read_link() -> None:
    """When a link opened the page: the images, the class explained, the view and its settings
    (call before the widgets exist)."""
    view = links.start(PAGE)
    if view is None:
        return
    values = activation_views.read_images_link(PAGE, dict(view.values), "ev")
    if "explain" in values:
        explain = values.pop("explain")
        st.session_state["ev_target"] = PREDICTED if explain == "predicted" else int(explain)
    if "view" in values:
        st.session_state["ev_view"] = VIEW_LABELS[values.pop("view")]
    st.session_state[PENDING_KEY] = {k: values.pop(k) for k in ("cam_layer", "grid_layer") if k in values}
    links.reset_absent(view, _WIDGETS, values)
    for name, value in values.items():
        st.session_state[_WIDGETS[name]] = value


def seed_layers(model: EvidenceModel) -> None:
    """The Grad-CAM and grid layers a link asked for, checked against this model's layers."""
    pending = st.session_state.get(PENDING_KEY, {})
    for name, key, known in (("cam_layer", "ev_cam_layer", model.conv_layers),
                             ("grid_layer", "ev_grid_layer", model.map_layers)):
        if name not in pending:
            continue
        asked = pending.pop(name)[0]
        if asked in known:
            st.session_state[key] = asked
        else:
            links.ignored(PAGE, f"{name}={asked!r} was ignored: this model's layers for it are "
                                f"{', '.join(known)}.")


def show_view(tab_label: str | None) -> None:
    """Tell the link which tab is open (each tab's own settings are added by its view)."""
    links.show(PAGE, view=next((v for v, label in VIEW_LABELS.items() if label == tab_label), None),
               patch=None, stride=None, fill=None, sign=None, cam_layer=None, grid_layer=None,
               grid_n=None, grid_scale=None, group=None)


def evidence_model(explorer) -> EvidenceModel | None:
    """The chosen model's evidence (built once per model), or None after saying why not."""
    try:
        return evidence_for(explorer)
    except Exception as exc:  # noqa: BLE001 - an odd model: a sentence, not a traceback
        st.error(f"This model's class evidence cannot be computed ({_short(exc)}).", icon=":material/error:")
        return None


def choose_images(fashion) -> tuple[np.ndarray, np.ndarray | None, list[str], object]:
    """The class, number and choice of test images (or the drawing from the Activations page):
    (images (N, 28, 28) uint8, true labels or None, one label per image, the column left for
    :func:`choose_target`)."""
    use_drawing = fashion is None
    c1, c2, c3, c4 = st.columns([1.1, 0.9, 1.5, 1.6])
    if fashion is not None:
        labels = fashion["test_labels"]
        chosen = activation_views.choose_test_images(
            PAGE, "ev", labels, (c1, c2, c3, c3), max_images=MAX_IMAGES, default_count=3,
            class_label="Class of the images", count_help="Each image gets its own row in every view.",
            indices_help=f"0 to 9999, separated by commas; at most {MAX_IMAGES}.")
        use_drawing = c2.toggle("My drawing", key="ev_drawing",
                                help="Explain the 28x28 image drawn in the Activations page's "
                                     "*Draw your own* tab instead.")
    if use_drawing:
        return state.drawing(None)[np.newaxis], None, ["your drawing"], c4
    true = labels[chosen]
    return (fashion["test_raw"][chosen], true, [f"#{i} {CLASS_NAMES[t]}" for i, t in zip(chosen, true)], c4)


def choose_target(probabilities: np.ndarray, column=st) -> tuple[np.ndarray, int]:
    """The "Explain" box: each image's predicted class (default) or one class for all.
    Returns (the class explained in each image, the choice)."""
    choice = column.selectbox(
        "Explain the class", [PREDICTED, *range(len(CLASS_NAMES))], key="ev_target",
        format_func=lambda c: "predicted (each image's top guess)" if c == PREDICTED
        else CLASS_NAMES[c],
        help="Which class's evidence to show. Pick another class to ask: what in this image "
             "speaks for (or against) that one?")
    links.show(PAGE, explain="predicted" if choice == PREDICTED else str(choice))
    targets = probabilities.argmax(axis=1) if choice == PREDICTED else np.full(len(probabilities), choice)
    return targets.astype(int), choice


def row_labels(base: list[str], probabilities: np.ndarray, targets: np.ndarray) -> list[str]:
    """Row titles: the image, then the class explained and its probability."""
    return [f"{b}<br>→ {CLASS_NAMES[t]} {probabilities[k, t]:.0%}"
            for k, (b, t) in enumerate(zip(base, targets))]


def _show(figure, key: str) -> None:
    st.plotly_chart(figure, key=key, config=PLOT_CONFIG, theme=None, width="content")


# --- Occlusion ----------------------------------------------------------------


def occlusion_view(model: EvidenceModel, images: np.ndarray, targets: np.ndarray, labels: list[str]) -> None:
    c1, c2, c3 = st.columns([1, 1, 1.4])
    patch = c1.slider("Patch size (pixels)", *ev.PATCH_SIZES, ev.OCCLUSION_PATCH, key="ev_patch",
                      help="The side of the square that hides part of the image.")
    stride = c2.slider("Stride (pixels)", *ev.STRIDES, ev.OCCLUSION_STRIDE, key="ev_stride",
                       help="How far the patch moves each step: smaller is finer and slower.")
    fill = c3.radio("Patch colour", list(ev.FILLS), key="ev_fill", horizontal=True,
                    format_func=lambda f: f"{f} ({ev.FILLS[f]})",
                    help="Grey is the usual choice; black is Fashion-MNIST's background, so it "
                         "erases instead of painting a square.")
    links.show(PAGE, patch=patch, stride=stride, fill=fill)
    positions = len(ev.patch_starts(28, patch, stride)) ** 2
    st.markdown(
        f"**Occlusion** measures how much the probability of the class falls when a {fill} "
        f"{patch}x{patch} patch hides each part of the image ({positions} positions; red: hiding "
        "it costs the class, blue: hiding it helps). *Limits*: as coarse as the patch, and a square "
        "patch is itself something the network never saw in training.")
    bar = st.progress(0.0, text=f"Sliding the patch over {len(images)} image(s), {positions} positions each…")
    try:
        drops = []
        for k, (image, target) in enumerate(zip(images, targets)):
            drops.append(model.occlusion(image, patch=patch, stride=stride, fill=ev.FILLS[fill])
                         .pixel_drop(int(target)))
            bar.progress((k + 1) / len(images))
    except Exception as exc:  # noqa: BLE001
        bar.empty()
        st.error(f"Occlusion could not be computed for this model ({_short(exc)}).", icon=":material/error:")
        return
    bar.empty()
    drops = np.stack(drops)
    limit = ev.symmetric_limit(drops)
    _show(figures.evidence_grid(
        images, drops, row_labels=labels, map_title="probability drop", map_size="per pixel",
        colorscale=SIGNED_COLORSCALE, overlay_colorscale=SIGNED_OVERLAY_COLORSCALE,
        zmin=-limit, zmax=limit, hover_label="probability drop", hover_format=".1%",
        colorbar_title="probability<br>drop<br>(red: hiding<br>it hurts)"), "ev_occlusion")
    st.caption("Each pixel shows the mean drop over the patch positions that hid it. One colour scale "
               f"for all rows (±{limit:.0%}). Idea: [Zeiler & Fergus, 2013]({OCCLUSION_PAPER}).")


# --- Saliency -------------------------------------------------------------------


def saliency_view(model: EvidenceModel, images: np.ndarray, targets: np.ndarray, labels: list[str]) -> None:
    sign = st.radio("Show", ev.SALIENCY_SIGNS, key="ev_sign", horizontal=True,
                    format_func={"absolute": "How much (|gradient|)",
                                 "signed": "Which way (signed; zero is grey)"}.get,
                    help="Signed: orange where a brighter pixel would raise the class's score, "
                         "blue where it would lower it.")
    links.show(PAGE, sign=sign)
    st.markdown(
        "**Saliency** measures how much the class's score (its logit, before the softmax, which "
        "would flatten the gradient) changes when one pixel gets a little brighter: the gradient. "
        "*Limits*: noisy and local; it shows where the score is sensitive right now, not what the "
        "network recognised.")
    with st.spinner("Computing the gradients…"):
        try:
            gradient = model.saliency(images, targets)
        except Exception as exc:  # noqa: BLE001
            st.error(f"Saliency could not be computed for this model ({_short(exc)}).", icon=":material/error:")
            return
    if sign == "absolute":
        shown = ev.scaled_each(np.abs(gradient))
        figure = figures.evidence_grid(
            images, shown, row_labels=labels, map_title="|gradient|", colorscale=HEAT_COLORSCALE,
            overlay_colorscale=HEAT_OVERLAY_COLORSCALE, zmin=0, zmax=1, hover_values=np.abs(gradient),
            hover_label="|d score / d pixel|", colorbar_title="|gradient|<br>(1 = row max)")
    else:
        shown = ev.scaled_each(gradient, signed=True)
        figure = figures.evidence_grid(
            images, shown, row_labels=labels, map_title="gradient", colorscale=SIGNED_GREY_COLORSCALE,
            overlay_colorscale=SIGNED_OVERLAY_COLORSCALE, zmin=-1, zmax=1, hover_values=gradient,
            hover_label="d score / d pixel", colorbar_title="gradient<br>(±1 = row max)")
    _show(figure, "ev_saliency")
    st.caption(f"Score: {model.score_name}. Each row is scaled to its own largest value. Pixels are "
               f"0..1 as the model sees them. Idea: [Simonyan et al., 2013]({SALIENCY_PAPER}).")


# --- Grad-CAM --------------------------------------------------------------------


def grad_cam_view(model: EvidenceModel, images: np.ndarray, targets: np.ndarray, labels: list[str]) -> None:
    layers = model.conv_layers
    layer = st.selectbox("Convolution layer", layers, index=len(layers) - 1, key="ev_cam_layer",
                         format_func=lambda n: f"{n} ({'x'.join(map(str, model.explorer.shape(n)[:2]))})",
                         help="The last convolution (the default) sees the most; an earlier one is finer "
                              "but sees simpler patterns.")
    links.show(PAGE, cam_layer=None if layer == layers[-1] else (layer,))
    h, w = model.explorer.shape(layer)[:2]
    st.markdown(
        f"**Grad-CAM** weighs each map of **{layer}** by how much the class's score depends on it "
        "(the mean gradient) and keeps the parts that count for the class. *Limits*: as coarse as "
        f"its layer ({h}x{w} here), stretched over the 28x28 image; it cannot show evidence against.")
    with st.spinner("Computing Grad-CAM…"):
        try:
            cam = model.grad_cam(images, targets, layer)
        except Exception as exc:  # noqa: BLE001
            st.error(f"Grad-CAM could not be computed for this model ({_short(exc)}).", icon=":material/error:")
            return
    shown = ev.scaled_each(cam)
    _show(figures.evidence_grid(
        images, shown, row_labels=labels, map_title=f"Grad-CAM on {layer}", overlay=ev.upsample(shown),
        colorscale=HEAT_COLORSCALE, overlay_colorscale=HEAT_OVERLAY_COLORSCALE, zmin=0, zmax=1,
        hover_values=cam, hover_label="Grad-CAM", colorbar_title="Grad-CAM<br>(1 = row max)"),
        "ev_gradcam")
    empty = [labels[k].split("<br>")[0] for k in range(len(cam)) if not cam[k].max() > 0]
    if empty:
        st.info(f"Nothing in {layer} counts for the class in: {', '.join(empty)} (all-zero map).",
                icon=":material/info:")
    st.caption(f"Score: {model.score_name}. Middle: the map at {layer}'s own {h}x{w}; right: "
               f"stretched smoothly over the image. Idea: [Selvaraju et al., 2017]({GRAD_CAM_PAPER}).")


# --- Which filter answers to which class ---------------------------------------------------


def _clicked_cell(event, filters: int) -> tuple[int, int] | None:
    """(class, filter) of the clicked marker of the grid, or None."""
    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError, AttributeError):
        return None
    for point in points or []:
        data = point.get("customdata")
        if isinstance(data, dict):  # how the browser sends a typed array's row: {"0": class, "1": filter, ...}
            data = [data.get("0"), data.get("1")] if "0" in data and "1" in data else None
        if isinstance(data, (list, tuple)) and len(data) >= 2:
            return int(data[0]), int(data[1])
        if point.get("curve_number", 0) == 0 and point.get("point_index") is not None:
            return divmod(int(point["point_index"]), filters)
    return None


def _request_open(label: int, filter_index: int, layers: list[str]) -> None:
    """Set the Activations page to this class and filter; the next run switches to it.

    Runs in a widget callback (before the script, so no rerun can lose the click), where
    ``st.switch_page`` cannot be called: :func:`follow_open_request` does it.
    """
    state.open_activation_grid(label, filter_index, layers)
    models.carry_model_choice(SOURCE_KEY, "act_source")
    st.session_state[OPEN_REQUEST_KEY] = True


def _on_grid_click(filters_per_layer: dict[str, int], filters: int) -> None:
    clicked = _clicked_cell(st.session_state.get("ev_grid"), filters)
    if clicked is not None:
        label, filter_index = clicked
        _request_open(label, filter_index, [n for n, f in filters_per_layer.items() if f > filter_index])


def follow_open_request() -> None:
    """Switch to the Activations page when a click asked for it (call at the top of the page)."""
    if st.session_state.pop(OPEN_REQUEST_KEY, False):
        st.switch_page(frame.ACTIVATIONS_PAGE)


def class_filter_view(model: EvidenceModel, fashion, default_class: int) -> None:
    if fashion is None:
        st.info("The classes x filters grid averages Fashion-MNIST's test images, which are not "
                "available here.", icon=":material/cloud_off:")
        return
    c1, c2, c3, c4 = st.columns([1, 1.2, 1.6, 1.3])
    layers = model.map_layers
    layer = c1.selectbox("Layer", layers, index=layers.index(model.conv_layers[-1]), key="ev_grid_layer")
    count = c2.slider("Test images per class (N)", 1, ev.MAX_PER_CLASS, ev.GRID_IMAGES, key="ev_grid_count",
                      help="The first N test images of each class are averaged.")
    scale = c3.radio("Colour", ev.GRID_SCALES, key="ev_grid_scale", horizontal=True,
                     format_func={"filter": "Each filter: 1 = its top class", "raw": "Mean activation"}.get)
    grouped = c4.toggle("Group filters by class", key="ev_grid_group",
                        help="Order the columns by the class each filter answers to most.")
    links.show(PAGE, grid_layer=None if layer == model.conv_layers[-1] else (layer,), grid_n=count,
               grid_scale=scale, group=grouped)
    st.markdown(
        f"Each cell is the **mean activation** of one filter of **{layer}** over the first {count} "
        "test images of a class. *Limits*: a mean over whole maps says which class wakes a filter "
        "up, not where; many filters answer to several classes. **Click a cell** to see that class "
        "and filter in the activation grid.")
    labels = fashion["test_labels"]
    chosen = ev.first_per_class(labels, count)
    with st.spinner(f"Averaging {layer}'s maps over {len(chosen)} test images…"):
        try:
            means = model.class_filter_means(fashion["test_raw"][chosen], labels[chosen], layer)
        except Exception as exc:  # noqa: BLE001
            st.error(f"The grid could not be computed for this model ({_short(exc)}).", icon=":material/error:")
            return
    filters = means.shape[1]
    values = ev.grid_values(means, scale)
    s1, s2, s3 = st.columns([1.2, 1, 2])
    pick_class = s1.selectbox("Class", range(len(CLASS_NAMES)), index=default_class,
                              format_func=CLASS_NAMES.__getitem__, key="ev_grid_class")
    strongest = int(np.nan_to_num(ev.scaled_per_filter(means))[pick_class].argmax())
    pick_filter = s2.number_input(f"Filter (0 to {filters - 1})", 0, filters - 1, strongest,
                                  key=f"ev_grid_filter_{pick_class}",
                                  help="Starts at the filter that answers most to this class.")
    per_layer = {n: model.explorer.filters(n) for n in model.map_layers}
    st.plotly_chart(figures.class_filter_grid(
        values, raw=means, class_names=CLASS_NAMES, layer=layer, selected=(pick_class, pick_filter),
        order=ev.grouped_filter_order(means) if grouped else None,
        colorbar_title="1 = the<br>filter's top<br>class" if scale == "filter" else "mean<br>activation"),
        key="ev_grid", on_select=functools.partial(_on_grid_click, per_layer, filters), selection_mode="points",
        config=PLOT_CONFIG, theme=None, width="content")
    st.caption(f"Rows: classes; columns: the {filters} filters of {layer}, numbered above each band"
               + (", grouped by the class each answers to most." if grouped else ".")
               + " Ringed: the class and filter in the boxes above.")
    s3.markdown("&nbsp;")
    s3.button(f"Open {CLASS_NAMES[pick_class]}, filter {pick_filter} in the activation grid",
              key="ev_grid_open", icon=":material/local_fire_department:", type="primary",
              on_click=_request_open,
              args=(pick_class, int(pick_filter), [n for n, f in per_layer.items() if f > pick_filter]))
