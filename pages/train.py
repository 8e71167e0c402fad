"""Train a network: the course's dense net and CNN on Fashion-MNIST, with live curves."""

import streamlit as st

from cnnviz.core import data
from cnnviz.ui import frame, links, resources, state

frame.require_app_frame()
st.title("Train a network")
st.markdown(
    "The course first trains a **dense network** on Fashion-MNIST to show its limits, then a "
    "**convolutional network**. Train them here on a subset, watch the curves grow epoch by "
    "epoch, and compare them with the course's printed results and the app's trained CNN."
)
with st.spinner("Starting TensorFlow (once per server)…"):
    from cnnviz.ui import training_view as tv  # TensorFlow only on the pages that need it
tv.read_link()
links.warn("train")

fashion, problem = resources.fashion_mnist()
if fashion is None:
    st.error(problem, icon=":material/cloud_off:")
    st.stop()

# --- The data ----------------------------------------------------------------
with st.expander("The data: Fashion-MNIST and the course's preparation", icon=":material/dataset:"):
    n_train, n_test = len(fashion["train_raw"]), len(fashion["test_raw"])
    st.code(
        f"training_images.shape  # {fashion['train_raw'].shape}, {fashion['train_raw'].dtype}, "
        f"values 0..255\n"
        f"training_images = training_images.reshape({n_train}, 28, 28, 1) / 255.0\n"
        f"training_images.shape  # {fashion['train'].shape}, {fashion['train'].dtype}, values "
        f"{fashion['train_range'][0]:.1f}..{fashion['train_range'][1]:.1f}\n"
        f"val_images.shape       # {fashion['test_raw'].shape} -> {fashion['test'].shape}",
        language="python",
    )
    st.caption(
        f"Here the last {data.VALIDATION_SIZE:,} training images are held out for the validation "
        f"curves ({tv.VAL_IMAGES:,} of them after each epoch); the {n_test:,} test images are "
        "measured once, after training. One example of each class:"
    )
    labels = fashion["train_labels"]
    firsts = [int((labels == c).argmax()) for c in range(len(data.CLASS_NAMES))]
    st.image([fashion["train_raw"][i] for i in firsts], caption=list(data.CLASS_NAMES), width=84)

# --- The model ---------------------------------------------------------------
st.header("1 · Choose a model", divider="gray")
choice, arch = tv.architecture_picker()
shape_error = tv.model_summary(arch)

# --- Training ------------------------------------------------------------------
st.header("2 · Train it", divider="gray")
settings = tv.training_settings()
links.sync("train", done=False)  # before a training starts: the address bar holds these settings meanwhile
b1, b2, _ = st.columns([1, 1, 4])
start = tv.clicked(b1, "Start training", "train_start", type="primary", disabled=bool(shape_error))
stop = tv.clicked(b2, "Stop", "train_stop", help="Ends the training; the model keeps what it learnt.")
runs = state.training_runs()
if runs and not tv.wait_until_settled(runs[-1]):
    st.warning("The previous training is still stopping. Wait a moment, then click again.")
    st.stop()
if start and not shape_error:
    tv.run_training(tv.run_name(choice, arch), arch, settings, fashion)
last = runs[-1] if runs else None
if last is not None:
    tv.last_run_results(last, stopped_now=stop, just_trained=start)

# --- Comparison ----------------------------------------------------------------
st.header("3 · Compare", divider="gray")
tv.comparison(runs, fashion)

# --- Shifted images ------------------------------------------------------------
st.header("4 · The limitation of dense networks: move the items", divider="gray")
st.markdown("Fashion-MNIST items are **centred**. Move the test images a few pixels and see which "
            "network still recognises them (the trained models shipped with the app, and yours).")
tv.shifted_images(last, fashion)
links.caption(["The model and its settings travel in it, not a training: whoever opens it trains their own."])
links.sync("train")
