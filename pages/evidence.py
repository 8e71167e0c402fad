"""Class evidence: why did the network say "Ankle boot"? Occlusion, saliency, Grad-CAM, and which
filter answers to which class."""

import streamlit as st

from cnnviz.core.data import CLASS_NAMES, HOW_TO_PROVIDE
from cnnviz.ui import frame, links, resources

frame.require_app_frame()
with st.spinner("Starting TensorFlow (once per server)…"):
    from cnnviz.ui import evidence_views as views, models  # TensorFlow only on the pages that need it
views.follow_open_request()  # a click on the classes x filters grid opens the Activations page
views.read_link()

st.title("Class evidence: why did it say that?")
st.markdown(
    "The Activations page shows what each filter lights up. Here, the question is the network's "
    "answer: **which pixels made it choose its class?** Three ways to ask, each with its limits: "
    "hide part of the image and watch the probability (**occlusion**), ask which pixels the score "
    "is most sensitive to (**saliency**), and ask which places in a convolution layer's maps count "
    "for the class (**Grad-CAM**). The last tab shows **which filter answers to which class**."
)
links.warn(views.PAGE)
explorer, model_name = models.activation_model_picker(views.SOURCE_KEY, link_page=views.PAGE)
if explorer is None:
    st.stop()
model = views.evidence_model(explorer)
if model is None:
    st.stop()
views.seed_layers(model)
st.caption(f"Explaining {model_name}. The class score used by saliency and Grad-CAM: {model.score_name}.")

fashion, data_problem = resources.fashion_mnist()
with st.container(border=True):
    if fashion is None:
        st.warning(f"Fashion-MNIST is not available here, so the views explain your own drawing "
                   f"(Activations page, tab *Draw your own*). {HOW_TO_PROVIDE}", icon=":material/cloud_off:")
    images, true, base_labels, target_column = views.choose_images(fashion)
    probabilities = model.probabilities(images)
    targets, choice = views.choose_target(probabilities, target_column)

guesses = probabilities.argmax(axis=1)
st.markdown("The model says: " + "; ".join(
    f"{label} → **{CLASS_NAMES[g]}** ({probabilities[k, g]:.0%})"
    for k, (label, g) in enumerate(zip(base_labels, guesses))) + ".")
labels = views.row_labels(base_labels, probabilities, targets)

occlusion_tab, saliency_tab, cam_tab, grid_tab = st.tabs(
    list(views.VIEW_LABELS.values()), key="ev_view", on_change="rerun")
views.show_view(st.session_state.get("ev_view"))

with occlusion_tab:
    if occlusion_tab.open:
        views.occlusion_view(model, images, targets, labels)

with saliency_tab:
    if saliency_tab.open:
        views.saliency_view(model, images, targets, labels)

with cam_tab:
    if cam_tab.open:
        views.grad_cam_view(model, images, targets, labels)

with grid_tab:
    if grid_tab.open:
        views.class_filter_view(model, fashion, int(targets[0]) if choice == views.PREDICTED else choice)
links.caption(["The shipped model, the images, the class explained and each view's settings travel in it; "
               "a model trained or uploaded in this session, and a drawing, do not."])
links.sync(views.PAGE)
