"""The Train page's parts: choosing an architecture, training it with live progress in this
session (through the server's one-at-a-time line), and comparing runs with the references.

Imports TensorFlow (through :mod:`cnnviz.ui.models`): only the Train page uses it.
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from cnnviz.core import architecture, data
from cnnviz.core.architecture import LIMITS, ShapeError, check_training
from cnnviz.core.snapshots import SnapshotSeries, memory_note
from cnnviz.figures import training as training_figures
from cnnviz.ml import models, snapshots, training
from cnnviz.ml.queue import training_queue
from cnnviz.ui import links, state
from cnnviz.ui.models import shipped_model

VAL_IMAGES = 2000
"""Held-out images evaluated after every epoch (kept small: fast)."""
ARCHITECTURES = ("Dense network (course)", "CNN (course)", "Custom CNN")
ARCH_LINKS = dict(zip(ARCHITECTURES, architecture.LINK_ARCHITECTURES))
"""Model choice -> its ``arch=`` link value."""
_WIDGETS = {"filters": "train_filters", "kernel_size": "train_kernel", "blocks": "train_blocks",
            "units": "train_units", "epochs": "train_epochs", "batch": "train_batch", "lr": "train_lr",
            "images": "train_size", "shift": "train_shift", "axis": "train_axis"}
"""Link parameter -> the widget it seeds."""
COURSE_CNN = {"kind": "cnn", "filters": 64, "kernel_size": 3, "blocks": 2, "dense_units": 20}
COURSE_DENSE = {"kind": "dense", "units": 20}
FORMATS = {"train accuracy": "{:.4f}", "validation accuracy": "{:.4f}", "test accuracy": "{:.4f}",
           "s / epoch": "{:.1f}", "ms / step": "{:.1f}"}
"""Number columns of the comparison and how they are written (a dash where a source reports nothing)."""
SHORT_LABELS = {"parameters": "params", "training images": "images", "epochs": "epochs",
                "train accuracy": "train acc.", "validation accuracy": "val. acc.", "test accuracy": "test acc.",
                "s / epoch": "s/epoch", "ms / step": "ms/step"}
"""Headers of the comparison's number columns, short enough to fit beside the model names (full name on hover)."""


def read_link() -> None:
    """When a link opened the page: the model and training settings (before the widgets exist)."""
    view = links.start("train")
    if view is None:
        return
    values = dict(view.values)
    if "arch" in values:
        arch = values.pop("arch")
        st.session_state["train_arch"] = next(c for c, v in ARCH_LINKS.items() if v == arch)
    links.reset_absent(view, _WIDGETS, values)
    for name, value in values.items():
        st.session_state[_WIDGETS[name]] = value


def architecture_picker() -> tuple[str, dict]:
    """The model radio (and a custom CNN's sliders); returns (choice, architecture settings)."""
    choice = st.radio("Model", ARCHITECTURES, index=1, horizontal=True, key="train_arch")
    links.show("train", arch=ARCH_LINKS[choice], filters=None, kernel_size=None, blocks=None, units=None)
    if choice == ARCHITECTURES[0]:
        return choice, dict(COURSE_DENSE)
    if choice == ARCHITECTURES[1]:
        return choice, dict(COURSE_CNN)
    c1, c2, c3, c4 = st.columns(4)
    start = architecture.CUSTOM_DEFAULTS
    arch = {
        "kind": "custom",
        "filters": c1.select_slider("Filters per conv layer", architecture.FILTER_CHOICES, start["filters"],
                                    key="train_filters"),
        "kernel_size": c2.slider("Kernel size", *LIMITS["kernel_size"], start["kernel_size"], key="train_kernel"),
        "blocks": c3.slider("Conv blocks (conv + pool)", *LIMITS["blocks"], start["blocks"], key="train_blocks"),
        "dense_units": c4.select_slider("Dense units", architecture.DENSE_UNIT_CHOICES, start["dense_units"],
                                        key="train_units"),
    }
    links.show("train", filters=arch["filters"], kernel_size=arch["kernel_size"], blocks=arch["blocks"],
               units=arch["dense_units"])
    return choice, arch


@st.cache_data(show_spinner=False, max_entries=64)
def _summary(arch_items: tuple) -> tuple[list[dict] | None, str | None, int]:
    try:
        model = models.build_model(**dict(arch_items))
    except ShapeError as exc:
        return None, str(exc), 0
    return models.summary_rows(model), None, model.count_params()


def model_summary(arch: dict) -> str | None:
    """Show the layers (shrinking ones highlighted) and the parameter count; returns the shape
    error in words when the maps would vanish, else None."""
    rows, shape_error, n_params = _summary(tuple(sorted(arch.items())))
    if shape_error:
        st.error(shape_error, icon=":material/crop_free:")
        return shape_error
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
    return None


def training_settings() -> dict:
    """Epochs, batch size, learning rate and training images, with the course's defaults explained."""
    c1, c2, c3, c4 = st.columns(4)
    settings = {
        "epochs": c1.slider("Epochs", 1, LIMITS["epochs"], architecture.DEFAULT_EPOCHS, key="train_epochs"),
        "batch_size": c2.select_slider("Batch size", architecture.BATCH_CHOICES, architecture.COURSE_BATCH_SIZE,
                                       key="train_batch", help="The course uses Keras' default, 32."),
        "learning_rate": c3.select_slider("Learning rate", architecture.LEARNING_RATES,
                                          architecture.COURSE_LEARNING_RATE,
                                          key="train_lr", help="The course uses Adam's default, 0.001."),
        "train_size": c4.select_slider(
            "Training images", architecture.TRAIN_SIZES, architecture.DEFAULT_TRAIN_SIZE,
            key="train_size", help="A random subset of the training images: small trains fast."),
    }
    links.show("train", epochs=settings["epochs"], batch=settings["batch_size"], lr=settings["learning_rate"],
               images=settings["train_size"])
    return settings


def clicked(container, label: str, key: str, **kwargs) -> bool:
    """A button whose click is recorded by a callback, so it survives a rerun of the frame."""
    container.button(label, key=key, on_click=st.session_state.__setitem__,
                     args=(f"{key}__clicked", True), **kwargs)
    return bool(st.session_state.pop(f"{key}__clicked", False))


def wait_until_settled(run, timeout: float = 30.0) -> bool:
    """Wait for an interrupted run to finish unwinding.

    With Streamlit's fast reruns (the default), a click during a training starts
    a new script run at once, while the old one stops at its next st.* call (the
    progress bar, at most 0.25 s apart). Until then the model is still changing.
    """
    if run.status != "running":
        return True
    with st.spinner("Stopping the training…"):
        return run.wait_settled(timeout)


def run_name(choice: str, arch: dict) -> str:
    """What the comparison calls a run of this architecture."""
    if arch["kind"] != "custom":
        return choice.replace(" (course)", "")
    return (f"Custom CNN {arch['blocks']}x({arch['filters']} {arch['kernel_size']}x{arch['kernel_size']}),"
            f" dense {arch['dense_units']}")


def run_training(name: str, arch: dict, settings: dict, fashion: dict) -> None:
    """Wait for the server's training slot, then train with a live progress bar and curves."""
    try:
        check_training(**arch, **settings)
    except ValueError as exc:
        st.error(f"This training is larger than a shared server allows: {exc}.", icon=":material/block:")
        return
    runs = state.training_runs()
    epochs = settings["epochs"]
    run = training.TrainingRun(name, models.build_model(**arch), settings={**arch, **settings})
    series = SnapshotSeries()
    (x_fit, y_fit), (x_val, y_val) = data.split_validation(
        fashion["train"], fashion["train_labels"], validation_size=data.VALIDATION_SIZE)
    x_fit, y_fit = data.subset(x_fit, y_fit, settings["train_size"], seed=len(runs))
    queue = training_queue()
    ticket = queue.join(name)
    status = st.empty()
    try:
        while not queue.wait_turn(ticket, timeout=1.0):
            ahead = queue.position(ticket) or 1
            status.info(f"One training at a time on this server: {ahead} ahead of yours. "
                        "Yours starts by itself; Stop leaves the line.", icon=":material/hourglass_top:")
            queue.touch(ticket)
        status.empty()
        for earlier in runs:  # one training's snapshots per session: the memory stays bounded
            earlier.snapshots = None
        runs.append(run)
        state.set_trained_model(run.model, name)
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
            chart.plotly_chart(training_figures.training_curves(run.history, total_epochs=epochs,
                                                                snapshot_points=series.points()))

        training.train(run, x_fit, y_fit, epochs=epochs, batch_size=settings["batch_size"],
                       learning_rate=settings["learning_rate"],
                       validation_data=(x_val[:VAL_IMAGES], y_val[:VAL_IMAGES]),
                       on_batch=on_batch, on_epoch=on_epoch, snapshots=series)
        bar.progress(1.0, text="Measuring the validation accuracy of the early snapshots…")
        snapshots.measure_accuracies(series, run.model, x_val[:VAL_IMAGES], y_val[:VAL_IMAGES])
        bar.progress(1.0, text=f"Done: {epochs} epoch(s).")
        chart.plotly_chart(training_figures.training_curves(run.history, total_epochs=epochs,
                                                            snapshot_points=series.points()))
    except Exception as exc:  # noqa: BLE001 - in words, never a traceback
        run.status = "failed"
        st.error(f"The training failed ({type(exc).__name__}: {exc}). Try a smaller model or "
                 "fewer images.", icon=":material/error:")
    finally:
        queue.release(ticket)  # also when Stop interrupts the run (a BaseException)


def last_run_results(last, *, stopped_now: bool, just_trained: bool) -> None:
    """The latest run's curves (unless this run just drew them live) and its download."""
    if stopped_now and last.status == "stopped" and not just_trained:
        st.info(f"Stopped after {last.epochs_done} complete epoch(s). The model keeps what it "
                "learnt so far.", icon=":material/stop_circle:")
    if last.history and not just_trained:
        st.plotly_chart(training_figures.training_curves(
            last.history, total_epochs=last.settings["epochs"],
            snapshot_points=last.snapshots.points() if last.snapshots else None), key="train_curves")
    if last.snapshots:
        st.caption(f":material/history: Dotted lines: {memory_note(last.snapshots)}; dropped when this "
                   "session ends or you train again. Watch them on the Activation maps page (model: *My model "
                   "from the Train page*): the kernels and maps from the random start to trained.")
    if last.status in ("done", "stopped"):
        download_key = "train_download"
        if st.session_state.get(download_key, (None,))[0] is not last:
            st.session_state[download_key] = (last, models.model_bytes(last.model))
        st.download_button("Download the trained model (.keras)", st.session_state[download_key][1],
                           file_name="cnnviz_fashion_model.keras", mime="application/zip",
                           icon=":material/download:", key="train_download_button")
        st.caption("The Activation maps page offers this model too.")


def comparison(runs: list, fashion: dict) -> None:
    """The reference rows and this session's runs (test accuracy measured once per run)."""
    for run in runs:
        if run.test_accuracy is None and run.status in ("done", "stopped") and run.epochs_done:
            run.test_accuracy = models.evaluate(run.model, fashion["test"], fashion["test_labels"])["accuracy"]
    table = training.comparison_rows(runs)
    shown = pd.DataFrame(table).drop(columns=["kind", "run"])
    for column, pattern in FORMATS.items():  # "—" where a source reports nothing (not "None")
        shown[column] = [("—" if value is None or pd.isna(value) else pattern.format(value))
                         for value in shown[column]]
    for column in ("parameters", "training images"):
        shown[column] = ["—" if value is None or pd.isna(value) else f"{int(value):,}" for value in shown[column]]
    shown["epochs"] = ["—" if value is None or pd.isna(value) else str(int(value)) for value in shown["epochs"]]
    st.container(key="train_comparison").dataframe(
        shown, hide_index=True,
        column_config={column: st.column_config.TextColumn(label, alignment="right", width="small", help=column)
                       for column, label in SHORT_LABELS.items()})
    ratio = training.cnn_to_dense_step_ratio(table)
    if ratio is not None:
        st.info(f"Here one training step of your CNN took {ratio:.1f}x as long as your dense network's. "
                "Convolutions win on accuracy" + (", not on speed." if ratio > 1 else " and, here, on speed too."),
                icon=":material/speed:")
    st.caption("The course page prints results for its dense network only, validated on the 10,000 test "
               "images: its val_accuracy is shown as test accuracy. For its CNN it prints none; the "
               "shipped CNN's row comes from its model card (validation: 6,000 held-out training images). "
               "Your runs: validation = held-out training images, test = the 10,000 test images; "
               "seconds per epoch as measured on this server.")


def shifted_images(last, fashion: dict) -> None:
    """The limitation of dense networks: accuracy of the shipped models (and yours) on moved items."""
    c1, c2, c3 = st.columns([1, 1, 2])
    max_shift = c1.slider("Largest shift (pixels)", 1, architecture.MAX_SHIFT, architecture.DEFAULT_SHIFT,
                          key="train_shift")
    axis = c2.radio("Direction", ["x", "y"], horizontal=True, key="train_axis",
                    format_func=lambda a: "left/right" if a == "x" else "up/down")
    links.show("train", shift=max_shift, axis=axis)
    result_key = "train_shift_result"
    if clicked(c3, "Evaluate on shifted test images", "train_shift_go"):
        try:
            compared = {"dense (shipped)": shipped_model("dense"), "CNN (shipped)": shipped_model("cnn")}
        except (OSError, ValueError) as exc:
            compared = {}
            st.warning(f"The shipped models could not be loaded ({exc}).")
        if last is not None and last.epochs_done:
            compared[f"yours: {last.name}"] = last.model
        shifts = list(range(-max_shift, max_shift + 1))
        with st.spinner("Evaluating 1,000 test images at every shift…"):
            curves = models.accuracy_vs_shift(compared, fashion["test"][:1000],
                                              fashion["test_labels"][:1000], shifts, axis=axis)
        st.session_state[result_key] = (shifts, curves, axis)
    if result_key in st.session_state:
        shifts, curves, shift_axis = st.session_state[result_key]
        st.plotly_chart(training_figures.shift_accuracy_figure(shifts, curves, axis=shift_axis),
                        key="train_shift_chart")
