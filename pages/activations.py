"""Activation maps: what a trained CNN's filters respond to (the course's "Visualizing CNN")."""

import numpy as np
import streamlit as st

from cnnviz.core import activation_inputs as act
from cnnviz.core.data import CLASS_NAMES, HOW_TO_PROVIDE
from cnnviz.core.palette import ACTIVATION_COLORSCALES
from cnnviz.figures import network
from cnnviz.ui import frame, links, resources, state
from cnnviz.ui import questions as ask

frame.require_app_frame()
with st.spinner("Starting TensorFlow (once per server)…"):
    from cnnviz.ui import activation_views, models, snapshot_views  # TensorFlow only on the pages that need it
activation_views.read_link()
SCALE_LABELS = {"map": "Each map its own range", "layer": "One range per layer"}

st.title("Activation maps")
st.markdown(
    "A trained CNN's filters light up where they find their pattern. As in the course, pick a "
    "class and a filter and follow the **same filter's maps** through the layers: 28x28 in, "
    "26x26 after the first convolution, 13x13 after pooling, 11x11, 5x5. Bright = strong "
    f"activation. The idea comes from [{act.PAPER_TITLE}]({act.PAPER_URL})."
)
links.warn("activations")
explorer, model_name = models.activation_model_picker("act_source", link_page="activations")
if explorer is None:
    st.stop()
explorer, snapshot = snapshot_views.snapshot_slider(explorer, st.session_state.get("act_source", "shipped"))
st.caption(f"Exploring {model_name}: " + " → ".join(
    f"{n} {'x'.join(map(str, s))}" for n, s in zip(explorer.names, explorer.output_shapes)))

fashion, data_problem = resources.fashion_mnist()
map_layers = explorer.map_layers()
activation_views.seed_from_model(map_layers)
with st.container(border=True):
    c1, c2, c3, c4 = st.columns([1.2, 1, 1.6, 1.3])
    if fashion is None:
        st.warning(f"Fashion-MNIST is not available here, so the grid shows your own drawing "
                   f"(tab *Draw your own*). {HOW_TO_PROVIDE}", icon=":material/cloud_off:")
        test_images = test_labels = None
    else:
        test_images, test_labels = fashion["test_raw"], fashion["test_labels"]
        chosen = activation_views.choose_test_images("activations", "act", test_labels, (c1, c2, c3, c4),
                                                     max_images=act.MAX_IMAGES, default_count=act.COURSE_IMAGES)
    layers = st.multiselect("Layers", map_layers, default=map_layers, key="act_layers",
                            help="Every convolution and pooling layer by default.") or map_layers
    d1, d2, d3, d4 = st.columns([1, 1, 1.4, 1.4])
    max_filter = min(explorer.filters(n) for n in layers) - 1
    activation_views.seed_filter(max_filter)
    filter_index = d1.number_input(f"Filter (0 to {max_filter})", 0, max_filter,
                                   min(act.COURSE_FILTER, max_filter), key="act_filter",
                                   help="The course's CONVOLUTION_NUMBER: which of the layer's maps to show.")
    colorscale = d2.selectbox("Colour map", ACTIVATION_COLORSCALES, key="act_cmap")
    scale = d3.radio("Colour scale", act.SCALES, format_func=SCALE_LABELS.get, key="act_scale",
                     horizontal=True)
    input_axes = d4.toggle("Same 28x28 axes for all", True, key="act_axes",
                           help="On: every map keeps its real size, so you see it shrink. "
                                "Off: each map fills its cell.")
    links.show("activations", layers=None if layers == map_layers else tuple(layers),
               filter=None if filter_index == min(act.COURSE_FILTER, max_filter) else int(filter_index),
               cmap=colorscale, scale=scale, axes=input_axes)

if test_images is not None:
    images, true = test_images[chosen], test_labels[chosen]
    row_labels = [f"#{i} {CLASS_NAMES[t]}" for i, t in zip(chosen, true)]
else:
    images = state.drawing(None)[np.newaxis]
    true, row_labels = None, ["your drawing"]
snapshot_views.training_animation(snapshot, images, layers, filter_index, row_labels=row_labels,
                                  colorscale=colorscale, input_axes=input_axes)

ask.offer_class(CLASS_NAMES, images[0], f"the first image on screen ({row_labels[0]})",
                lambda: explorer.probabilities(images[:1])[0])
grid_tab, filters_tab, kernels_tab, predict_tab, draw_tab = st.tabs(
    list(activation_views.VIEW_LABELS.values()), key="act_view", on_change="rerun")
links.show("activations", view=next((v for v, label in activation_views.VIEW_LABELS.items()
                                     if label == st.session_state.get("act_view")), None),
           f_image=None, f_layer=None, learned=None)

with grid_tab:
    if grid_tab.open:
        columns = [(n, explorer.maps(images, n)[..., filter_index]) for n in layers]
        st.plotly_chart(network.activation_grid(
            images, columns, row_labels=row_labels, filter_index=filter_index,
            colorscale=colorscale, scale=scale, input_axes=input_axes),
            key="act_grid", config={"displayModeBar": False}, theme=None)
        st.caption("Hover a map for its values. Rows: images; columns: the image, then the chosen "
                   "filter's map after each layer, with its size.")

with filters_tab:
    if filters_tab.open:
        f1, f2 = st.columns(2)
        links.keep_within("activations", "act_f_image", "f_image", len(images) - 1,
                          f"{len(images)} images are shown")
        row = f1.selectbox("Image", range(len(images)), format_func=row_labels.__getitem__, key="act_f_image")
        layer = f2.selectbox("Layer", map_layers, key="act_f_layer")
        maps = explorer.maps(images[row:row + 1], layer)[0]
        links.show("activations", f_image=row, f_layer=None if layer == map_layers[0] else (layer,))
        st.plotly_chart(network.filter_grid(
            maps, colorscale=colorscale, scale=scale,
            title=f"All {maps.shape[-1]} maps of {layer} ({maps.shape[0]}x{maps.shape[1]}) for {row_labels[row]}"),
            key="act_filters", config={"displayModeBar": False}, theme=None)

with kernels_tab:
    if kernels_tab.open:
        snapshot_views.kernel_scale_note(snapshot)
        activation_views.learned_kernels(explorer, when=snapshot_views.when(snapshot))

with predict_tab:
    if predict_tab.open:
        probabilities = explorer.probabilities(images)
        st.plotly_chart(network.prediction_figure(
            probabilities, CLASS_NAMES, true_labels=true, row_labels=row_labels,
            title="What the model predicts (framed in green: the true class)"),
            key="act_predict", config={"displayModeBar": False}, theme=None)
        if true is not None:
            right = int(np.sum(probabilities.argmax(axis=1) == true))
            st.markdown(f"The model's top guess is right for **{right} of {len(true)}** images.")

with draw_tab:
    if draw_tab.open:
        st.caption(":material/link_off: Your drawing stays in this browser: a link to this tab opens it "
                   "on the first image of the grid.")
        activation_views.activation_playground(explorer, layers, filter_index, colorscale=colorscale,
                                 scale=scale, input_axes=input_axes,
                                 start=None if test_images is None else images[0])
links.caption(["The shipped model, the images and every setting travel in it; a model trained or uploaded "
               "in this session, and a drawing, do not (the link opens the shipped CNN and the grid's first image)."])
links.sync("activations")
