"""Train a network: the course's dense net and CNN on Fashion-MNIST, with live curves."""

import time

import pandas as pd
import streamlit as st

from cnnviz import data, figures, ui

ui.require_app_frame()
st.title("Train a network")
st.markdown(
    "The course first trains a **dense network** on Fashion-MNIST to show its limits, then a "
    "**convolutional network**. Train them here on a subset, watch the curves grow epoch by "
    "epoch, and compare with the course's results."
)

models = ui.import_models()  # TensorFlow only on the pages that need it

RUNS_KEY = "train_runs"
SHIFT_KEY = "train_shift_result"
DOWNLOAD_KEY = "train_download"
VAL_IMAGES = 2000  # of the held-out images, evaluated after every epoch (kept small: fast)
ARCHITECTURES = ("Dense network (course)", "CNN (course)", "Custom CNN")

fashion, problem = ui.fashion_mnist()
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
        f"curves ({VAL_IMAGES:,} of them after each epoch); the {n_test:,} test images are "
        "measured once, after training. One example of each class:"
    )
    labels = fashion["train_labels"]
    firsts = [int((labels == c).argmax()) for c in range(len(data.CLASS_NAMES))]
    st.image([fashion["train_raw"][i] for i in firsts], caption=list(data.CLASS_NAMES), width=84)

# --- The model ---------------------------------------------------------------
st.header("1 · Choose a model", divider="gray")
choice = st.radio("Model", ARCHITECTURES, index=1, horizontal=True, key="train_arch")
arch = {"kind": "dense", "units": 20} if choice == ARCHITECTURES[0] else {
    "kind": "cnn", "filters": 64, "kernel_size": 3, "blocks": 2, "dense_units": 20}
if choice == ARCHITECTURES[2]:
    c1, c2, c3, c4 = st.columns(4)
    arch = {
        "kind": "custom",
        "filters": c1.select_slider("Filters per conv layer", [4, 8, 16, 32, 64, 128], 32,
                                    key="train_filters"),
        "kernel_size": c2.slider("Kernel size", *models.LIMITS["kernel_size"], 3, key="train_kernel"),
        "blocks": c3.slider("Conv blocks (conv + pool)", *models.LIMITS["blocks"], 2, key="train_blocks"),
        "dense_units": c4.select_slider("Dense units", [5, 10, 20, 50, 100, 200], 20, key="train_units"),
    }


@st.cache_data(show_spinner=False, max_entries=64)
def summary_table(arch_items: tuple) -> tuple[list[dict] | None, str | None, int]:
    """The model summary rows for an architecture, or the shape error in words."""
    arch = dict(arch_items)
    try:
        model = models.build_model(**arch)
    except models.ShapeError as exc:
        return None, str(exc), 0
    return models.summary_rows(model), None, model.count_params()


rows, shape_error, n_params = summary_table(tuple(sorted(arch.items())))
if shape_error:
    st.error(shape_error, icon=":material/crop_free:")
else:
    table = pd.DataFrame(rows)
    st.dataframe(
        table.drop(columns="shrinks").style.apply(
            lambda r: ["background-color: #fff3c4" if rows[r.name]["shrinks"] else ""] * len(r), axis=1),
        hide_index=True, width="content",
    )
    st.caption(f"{n_params:,} parameters." + (
        " Highlighted: layers where the image gets smaller (a k x k conv loses k - 1 pixels "
        "in each direction, a 2x2 max-pooling halves the size)." if table["shrinks"].any() else
        " No layer here looks at neighbouring pixels: Flatten turns the image into one long row."))

# --- Training ------------------------------------------------------------------
st.header("2 · Train it", divider="gray")
c1, c2, c3, c4 = st.columns(4)
epochs = c1.slider("Epochs", 1, models.LIMITS["epochs"], 3, key="train_epochs")
batch_size = c2.select_slider("Batch size", [16, 32, 64, 128, 256, 512], 32, key="train_batch",
                              help="The course uses Keras' default, 32.")
learning_rate = c3.select_slider("Learning rate", [0.0001, 0.0003, 0.001, 0.003, 0.01], 0.001,
                                 key="train_lr", help="The course uses Adam's default, 0.001.")
train_size = c4.select_slider(
    "Training images", [500, 1000, 2000, 5000, 10000, 20000, models.LIMITS["train_size"]], 5000,
    key="train_size", help="A random subset of the training images: small trains fast.")
b1, b2, _ = st.columns([1, 1, 4])


def clicked(container, label: str, key: str, **kwargs) -> bool:
    """A button whose click is recorded by a callback, so it survives a rerun of the frame."""
    container.button(label, key=key, on_click=st.session_state.__setitem__,
                     args=(f"{key}__clicked", True), **kwargs)
    return bool(st.session_state.pop(f"{key}__clicked", False))


start = clicked(b1, "Start training", "train_start", type="primary", disabled=bool(shape_error))
stop = clicked(b2, "Stop", "train_stop", help="Ends the training; the model keeps what it learnt.")
runs: list = st.session_state.setdefault(RUNS_KEY, [])


def wait_until_stopped(run, timeout: float = 30.0) -> bool:
    """Wait for an interrupted run to finish unwinding.

    With Streamlit's fast reruns (the default), a click during a training starts
    a new script run at once, while the old one stops at its next st.* call (the
    progress bar, at most 0.25 s apart). Until then the model is still changing.
    """
    if run.status != "running":
        return True
    with st.spinner("Stopping the training…"):
        deadline = time.monotonic() + timeout
        while run.status == "running" and time.monotonic() < deadline:
            time.sleep(0.1)
    return run.status != "running"


if runs and not wait_until_stopped(runs[-1]):
    st.warning("The previous training is still stopping. Wait a moment, then click again.")
    st.stop()


def run_training() -> None:
    """Wait for the server's training slot, then train with a live progress bar and curves."""
    name = choice.replace(" (course)", "") if arch["kind"] != "custom" else (
        f"Custom CNN {arch['blocks']}x({arch['filters']} {arch['kernel_size']}x{arch['kernel_size']}),"
        f" dense {arch['dense_units']}")
    run = models.TrainingRun(name, models.build_model(**arch), settings={
        **arch, "epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate,
        "train_size": train_size})
    (x_fit, y_fit), (x_val, y_val) = data.split_validation(
        fashion["train"], fashion["train_labels"], validation_size=data.VALIDATION_SIZE)
    x_fit, y_fit = data.subset(x_fit, y_fit, train_size, seed=len(runs))
    queue = models.training_queue()
    ticket = queue.join(name)
    status = st.empty()
    try:
        while not queue.try_acquire(ticket):
            ahead = queue.position(ticket) or 1
            status.info(f"One training at a time on this server: {ahead} ahead of yours. "
                        "Yours starts by itself; Stop leaves the line.", icon=":material/hourglass_top:")
            queue.touch(ticket)
            time.sleep(1.0)
        status.empty()
        runs.append(run)
        st.session_state[models.TRAINED_MODEL_KEY] = run.model
        st.session_state[models.TRAINED_MODEL_NAME_KEY] = name
        bar = st.progress(0.0, text="Starting…")
        chart = st.empty()
        last_update = [0.0]

        def on_batch(epoch: int, batch: int, steps: int) -> None:
            queue.touch(ticket)
            now = time.perf_counter()
            if now - last_update[0] > 0.25 or batch == steps:  # each st.* call lets Stop in
                last_update[0] = now
                bar.progress((epoch * steps + batch) / (epochs * steps),
                             text=f"Epoch {epoch + 1} of {epochs} · batch {batch} of {steps}")

        def on_epoch(epoch: int, logs: dict, seconds: float) -> None:
            chart.plotly_chart(figures.training_curves(run.history, total_epochs=epochs))

        models.train(run, x_fit, y_fit, epochs=epochs, batch_size=batch_size,
                     learning_rate=learning_rate, validation_data=(x_val[:VAL_IMAGES], y_val[:VAL_IMAGES]),
                     on_batch=on_batch, on_epoch=on_epoch)
    except Exception as exc:  # noqa: BLE001 - in words, never a traceback
        run.status = "failed"
        st.error(f"The training failed ({type(exc).__name__}: {exc}). Try a smaller model or "
                 "fewer images.", icon=":material/error:")
    finally:
        queue.release(ticket)  # also when Stop interrupts the run (a BaseException)


if start and not shape_error:
    run_training()
last = runs[-1] if runs else None
if last is not None and not start:
    if stop and last.status == "stopped":
        st.info(f"Stopped after {last.epochs_done} complete epoch(s). The model keeps what it "
                "learnt so far.", icon=":material/stop_circle:")
    if last.history:
        st.plotly_chart(figures.training_curves(last.history, total_epochs=last.settings["epochs"]),
                        key="train_curves")
if last is not None and last.status in ("done", "stopped"):
    if st.session_state.get(DOWNLOAD_KEY, (None,))[0] is not last:
        st.session_state[DOWNLOAD_KEY] = (last, models.model_bytes(last.model))
    st.download_button("Download the trained model (.keras)", st.session_state[DOWNLOAD_KEY][1],
                       file_name="cnnviz_fashion_model.keras", mime="application/zip",
                       icon=":material/download:", key="train_download_button")
    st.caption("The Activation maps page offers this model too.")

# --- Comparison ----------------------------------------------------------------
st.header("3 · Compare", divider="gray")
for run in runs:
    if run.test_accuracy is None and run.status in ("done", "stopped") and run.epochs_done:
        run.test_accuracy = models.evaluate(run.model, fashion["test"], fashion["test_labels"])["accuracy"]
table = models.comparison_rows(runs)
FORMATS = {"train accuracy": "{:.4f}", "validation accuracy": "{:.4f}", "test accuracy": "{:.4f}",
           "s / epoch": "{:.1f}", "ms / step": "{:.1f}"}
shown = pd.DataFrame(table).drop(columns="kind")
for column, pattern in FORMATS.items():  # "—" where the course reported nothing (not "None")
    shown[column] = [("—" if value is None or pd.isna(value) else pattern.format(value)) for value in shown[column]]
st.container(key="train_comparison").dataframe(
    shown, hide_index=True,
    column_config={c: st.column_config.TextColumn(c, alignment="right") for c in FORMATS})
ratio = models.cnn_to_dense_step_ratio(table)
if ratio is not None:
    st.info(f"Here one training step of the CNN takes {ratio:.1f}x as long as the dense network's "
            "(the course measured 7 ms against 1 ms). Convolutions win on accuracy"
            + (", not on speed." if ratio > 1 else " and, here, on speed too."), icon=":material/speed:")
st.caption("The course validated on the 10,000 test images, so its val_accuracy is shown as test "
           "accuracy. Your runs: validation = held-out training images, test = the 10,000 test images.")

# --- Shifted images ------------------------------------------------------------
st.header("4 · The limitation of dense networks: move the items", divider="gray")
st.markdown("Fashion-MNIST items are **centred**. Move the test images a few pixels and see which "
            "network still recognises them (the trained models shipped with the app, and yours).")
c1, c2, c3 = st.columns([1, 1, 2])
max_shift = c1.slider("Largest shift (pixels)", 1, 10, 6, key="train_shift")
axis = c2.radio("Direction", ["x", "y"], horizontal=True, key="train_axis",
                format_func=lambda a: "left/right" if a == "x" else "up/down")


@st.cache_resource(show_spinner="Loading the shipped models…")
def shipped_models() -> dict:
    return {"dense (shipped)": models.load_shipped("dense"), "CNN (shipped)": models.load_shipped("cnn")}


if clicked(c3, "Evaluate on shifted test images", "train_shift_go"):
    try:
        compared = dict(shipped_models())
    except (OSError, ValueError) as exc:
        compared = {}
        st.warning(f"The shipped models could not be loaded ({exc}).")
    if last is not None and last.epochs_done:
        compared[f"yours: {last.name}"] = last.model
    shifts = list(range(-max_shift, max_shift + 1))
    with st.spinner("Evaluating 1,000 test images at every shift…"):
        curves = models.accuracy_vs_shift(compared, fashion["test"][:1000],
                                          fashion["test_labels"][:1000], shifts, axis=axis)
    st.session_state[SHIFT_KEY] = (shifts, curves, axis)
if SHIFT_KEY in st.session_state:
    shifts, curves, shift_axis = st.session_state[SHIFT_KEY]
    st.plotly_chart(figures.shift_accuracy_figure(shifts, curves, axis=shift_axis), key="train_shift_chart")
