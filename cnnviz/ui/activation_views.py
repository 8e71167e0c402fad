"""The Activations page's interactive parts: drawing your own input, and the learned kernels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from cnnviz.core import activation_inputs as act
from cnnviz.core import share_link
from cnnviz.core.activation_inputs import to_model_input
from cnnviz.core.data import CLASS_NAMES
from cnnviz.figures import network
from cnnviz.ui import frame, links, state
from cnnviz.ui.fragments import anchored_fragment
from cnnviz.ui.image_inputs import image_upload
from cnnviz.ui.pixel_grid import DRAWING_HELP, drawing_look, matrix_grid, set_matrix

DRAW_EDITOR = "act_draw_editor"
NO_PLOT_BAR = {"displayModeBar": False}
VIEW_LABELS = dict(zip(share_link.VIEWS, ("Activation grid", "All filters of one layer", "Learned kernels",
                                          "Predictions", "Draw your own")))
"""``view=`` link value -> the tab's label."""
_WIDGETS = {"count": "act_count", "how": "act_how", "seed": "act_seed", "cmap": "act_cmap", "scale": "act_scale",
            "axes": "act_axes", "f_image": "act_f_image", "learned": "act_kernel"}
"""Link parameter -> the widget it seeds (the others need the model: see :func:`seed_from_model`)."""
PENDING_KEY = "act_link_pending"
"""What the link asked for that depends on the model (layers, filter, f_layer), checked once it is loaded."""
CANNOT_TRAVEL = {"trained": "a model trained in this session", "upload": "an uploaded model"}
"""Model sources a link cannot carry (what they are, in words); the link opens the shipped CNN."""
HOW_LABELS = {"first": "First N of the class (course)", "random": "Random", "index": "By test-set number"}
"""How the test images of a class are chosen (cnnviz.core.activation_inputs.SELECTIONS), in words."""
COURSE_INDICES = (0, 23, 28)
"""The test images the original course notebook looks at."""


def read_images_link(page: str, values: dict, prefix: str) -> dict:
    """Take a link's model, class and test-set numbers out of ``values`` into the widgets ``{prefix}_class``
    and ``{prefix}_indices`` (a model that cannot travel is named); return the rest."""
    model = values.pop("model", "shipped")
    if model in CANNOT_TRAVEL:
        links.ignored(page, f"model={model!r} was ignored: {CANNOT_TRAVEL[model]} cannot travel in a "
                            "link; the shipped CNN is shown instead.")
    if "class" in values:
        st.session_state[f"{prefix}_class"] = int(values.pop("class"))
    if "indices" in values:
        st.session_state[f"{prefix}_indices"] = ", ".join(map(str, values.pop("indices")))
    return values


def choose_test_images(page: str, prefix: str, labels: np.ndarray, columns, *, max_images: int,
                       default_count: int, class_label: str = "Class", count_help: str | None = None,
                       indices_help: str = "0 to 9999, separated by commas (the original course notebook "
                                           "looks at 0, 23 and 28).") -> np.ndarray:
    """Class, how many and which test images (first N, random with a seed, or by number), kept in the
    link of ``page``; returns the chosen indices into ``labels``. ``columns``: where the class, the
    count, the choice and its seed or numbers go."""
    class_col, count_col, how_col, extra_col = columns
    label = class_col.selectbox(class_label, range(len(CLASS_NAMES)), index=act.COURSE_LABEL,
                                format_func=CLASS_NAMES.__getitem__, key=f"{prefix}_class")
    count = count_col.slider("How many images", 1, max_images, default_count, key=f"{prefix}_count", help=count_help)
    how = how_col.radio("Which images", act.SELECTIONS, format_func=HOW_LABELS.get, key=f"{prefix}_how",
                        horizontal=True)
    seed, indices = 0, ()
    if how == "random":
        seed = extra_col.number_input("Seed", 0, 1_000_000, 0, key=f"{prefix}_seed")
    elif how == "index":
        text = extra_col.text_input("Test-set numbers", ", ".join(map(str, COURSE_INDICES)), key=f"{prefix}_indices",
                                    help=indices_help)
        try:
            indices = act.parse_indices(text, size=len(labels), limit=max_images)
        except ValueError as exc:
            st.error(f"{exc}. Showing 0, 23, 28.", icon=":material/error:")
            indices = COURSE_INDICES
    links.show(page, **{"class": str(label)}, count=count, how=how, seed=seed if how == "random" else None,
               indices=tuple(indices) if how == "index" and tuple(indices) != COURSE_INDICES else None)
    return act.select_images(labels, label, count, how=how, seed=seed, indices=indices)


def read_link() -> None:
    """When a link opened the page: the class, images, view and display settings (before the widgets exist)."""
    view = links.start("activations")
    if view is None:
        return
    values = read_images_link("activations", dict(view.values), "act")
    if "view" in values:
        st.session_state["act_view"] = VIEW_LABELS[values.pop("view")]
    st.session_state[PENDING_KEY] = {k: values.pop(k) for k in ("layers", "filter", "f_layer") if k in values}
    links.reset_absent(view, _WIDGETS, values)
    for name, value in values.items():
        st.session_state[_WIDGETS[name]] = value


def seed_from_model(map_layers: list[str]) -> None:
    """The layers (and the filters tab's layer) a link asked for, checked against this model's layers."""
    pending = st.session_state.get(PENDING_KEY, {})
    for name, key in (("layers", "act_layers"), ("f_layer", "act_f_layer")):
        if name not in pending:
            continue
        asked = pending.pop(name)
        known = [layer for layer in asked if layer in map_layers]
        unknown = [layer for layer in asked if layer not in map_layers]
        if unknown:
            links.ignored("activations", f"{name}: {', '.join(map(repr, unknown))[:120]} ignored: this model's "
                                         f"maps are {', '.join(map_layers)}.")
        if known:
            st.session_state[key] = known if name == "layers" else known[0]


def seed_filter(max_filter: int) -> None:
    """The filter a link asked for, kept within the chosen layers' filters."""
    pending = st.session_state.get(PENDING_KEY, {})
    if "filter" in pending:
        st.session_state["act_filter"] = pending.pop("filter")
    links.keep_within("activations", "act_filter", "filter", max_filter,
                      f"the chosen layers have filters 0 to {max_filter}")


def _set_drawing(image: np.ndarray) -> None:
    set_matrix(state.DRAWING_KEY, image, grid_key=DRAW_EDITOR)


def _drawing_input(start: np.ndarray | None) -> np.ndarray:
    drawing = state.drawing(start)
    b1, b2, b3 = st.columns(3)
    if b1.button("Clear", key="act_draw_clear", help="All black, as the background of Fashion-MNIST."):
        _set_drawing(np.zeros_like(drawing))
    if start is not None and b2.button("Reset", key="act_draw_start",
                                       help="Start again from the first image of the grid."):
        _set_drawing(start)
    if b3.button("Invert", key="act_draw_invert", help="255 − value: the negative."):
        _set_drawing(255 - drawing)
    matrix_grid(state.DRAWING_KEY, default=drawing, key=DRAW_EDITOR, look=drawing_look(), help_text=DRAWING_HELP,
                label="Your 28 by 28 drawing, values 0 (black) to 255 (white)")
    with st.expander("Upload a picture"):
        invert = st.toggle("Invert the picture (dark object on a light background)", key="act_draw_upload_invert")
        decoded = image_upload("act_draw_upload", label="A PNG or JPEG, made 28x28 grayscale")
        if decoded is not None and st.session_state.get("act_draw_upload__used") != (id(decoded), invert):
            st.session_state["act_draw_upload__used"] = (id(decoded), invert)
            _set_drawing(to_model_input(decoded.array, invert=invert))
            st.rerun(scope="fragment")
    return state.drawing(start)


@anchored_fragment
def activation_playground(explorer, layers: list[str], filter_index: int, *, colorscale: str,
                          scale: str, input_axes: bool, start: np.ndarray | None = None) -> None:
    """Draw or edit a 28x28 image and see its activation maps and the prediction at once."""
    left, right = st.columns([1, 1.9])
    with left:
        drawing = _drawing_input(start)
    with right:
        probabilities = explorer.probabilities(drawing)
        best = int(probabilities[0].argmax())
        st.markdown(f"The model says **{CLASS_NAMES[best]}** ({probabilities[0, best]:.0%}).")
        st.plotly_chart(network.prediction_figure(probabilities, CLASS_NAMES, row_labels=["your drawing"]),
                        key="act_draw_predict", config=NO_PLOT_BAR, theme=None)
    columns = [(n, explorer.maps(drawing, n)[..., filter_index]) for n in layers]
    st.plotly_chart(network.activation_grid(
        drawing[np.newaxis], columns, row_labels=["your drawing"], filter_index=filter_index,
        colorscale=colorscale, scale=scale, input_axes=input_axes),
        key="act_draw_grid", config=NO_PLOT_BAR, theme=None)


def learned_kernels(explorer, *, when: str | None = None) -> None:
    """The first Conv2D layer's kernels as heatmaps, one of them sent to the Convolution lab.
    ``when``: the training snapshot they come from (None: the trained model)."""
    kernels, biases = explorer.first_conv_kernels()
    name = explorer.names[explorer.kinds.index("Conv2D")]
    count, kh, kw = kernels.shape
    what = f"{name} learned" if when is None else f"of {name} at {when}"
    st.plotly_chart(network.kernel_grid(
        kernels, biases, title=f"The {count} kernels {what} ({kh}x{kw}; white = 0, "
                               "red positive, blue negative)"),
        key="act_kernels", config=NO_PLOT_BAR, theme=None)
    st.markdown(
        f"Each map of **{name}** is `ReLU(sum(kernel × window) + bias)`: the layer also **adds "
        "a bias** and then **sets negative results to 0** (ReLU). The model saw pixels "
        "scaled to 0..1; the weights are small (mostly about ±0.1 to ±0.5)."
    )
    c1, c2 = st.columns([1, 2])
    links.keep_within("activations", "act_kernel", "learned", count - 1, f"{name} has kernels 0 to {count - 1}")
    k = c1.number_input(f"Kernel (0 to {count - 1})", 0, count - 1, min(1, count - 1), key="act_kernel")
    c1.dataframe(pd.DataFrame(kernels[k]).style.format("{:+.3f}"), hide_index=False)
    c1.caption(f"bias {biases[k]:+.4f}")
    links.show("activations", learned=None if k == min(1, count - 1) else int(k))
    with c2:
        st.markdown(
            "Open this kernel in the **Convolution lab** to slide it over any image yourself. "
            "On 0..255 pixels these small weights give results of a few tens, mostly negative, "
            "which the course's clipping would turn black: the lab opens with **signed values** "
            "(blue below 0, red above). It shows the sum only: no bias, no ReLU."
        )
        if st.button(f"Open kernel {k} in the Convolution lab", key="act_open_kernel",
                     icon=":material/blur_on:", type="primary"):
            settings = state.convolution_settings().replace(
                kernel=kernels[k], preset=None, mapping="signed", padding="valid", stride=1,
                weight=1.0, normalise=False, flip=False)
            state.set_convolution_settings(settings)
            st.switch_page(frame.CONVOLUTION_PAGE)
