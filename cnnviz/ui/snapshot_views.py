"""Watch the network learn: a slider over the weight snapshots of the model's training (the
kernels, maps and predictions follow it) and a Play animation of the kernels and maps.

The shipped CNN's snapshots come from its file beside it (loaded once per server, shared
read-only); a model trained on the Train page carries its own in its TrainingRun (this
session's only). An uploaded model has none. Imports TensorFlow (through :mod:`cnnviz.ml`).
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import streamlit as st

from cnnviz.core.snapshots import SnapshotSeries, load_series
from cnnviz.figures import snapshots as snapshot_figures
from cnnviz.ml import snapshots
from cnnviz.ml.activations import ActivationModel, images_key
from cnnviz.ml.models import SHIPPED_SNAPSHOTS
from cnnviz.ui import state
from cnnviz.ui.models import shipped_activation_model, shipped_model

SLIDER_KEYS = {"shipped": "act_snapshot_shipped", "trained": "act_snapshot_trained"}
"""The snapshot slider of each model source (separate: their snapshots differ)."""
PLAY_KEY = "act_snapshot_play"
SESSION_SCRATCH_KEY = "act_snapshot__scratch"
"""(a weak reference to the session's snapshot series, the model copy they borrow): the series
itself stays owned by its TrainingRun, so training again frees it."""
SESSION_EXPLORERS_KEY = "act_snapshot__explorers"
SESSION_EXPLORERS = 3
"""At most this many snapshot models of a session's own training are kept built (memory)."""
ANIMATED_IMAGES = 4
"""The Play animation shows at most this many of the chosen images (one frame per snapshot)."""
VALIDATION_WORDS = {"shipped": "the 6,000 held-out training images",
                    "trained": "the held-out training images the Train page validates on"}


@dataclass(frozen=True)
class Chosen:
    """The snapshot the slider chose: its series, index, the model it belongs to, and its explorer."""

    source: str
    series: SnapshotSeries
    index: int
    model: object
    explorer: ActivationModel

    @property
    def is_final(self) -> bool:
        return self.index == len(self.series) - 1


def when(chosen: Chosen | None) -> str | None:
    """The chosen snapshot in words for titles ("the random start", "epoch 1 · batch 50"), or
    None for the trained weights."""
    if chosen is None or chosen.is_final:
        return None
    label = chosen.series[chosen.index].label
    return "the " + label if label == "random start" else label


@st.cache_resource(show_spinner="Loading the shipped CNN's training snapshots (once per server)…")
def _shipped_series() -> SnapshotSeries:
    model = shipped_model("cnn")
    series = load_series(SHIPPED_SNAPSHOTS["cnn"], expected_shapes=[w.shape for w in model.get_weights()])
    for snapshot in series:
        for weight in snapshot.weights:
            weight.setflags(write=False)  # shared by every session
    return series


def shipped_series() -> tuple[SnapshotSeries | None, str | None]:
    """The shipped CNN's snapshots, or None and why not (not cached: a missing file is retried)."""
    try:
        return _shipped_series(), None
    except Exception as exc:  # noqa: BLE001 - a missing or broken file: words, not a traceback
        return None, (f"The shipped CNN's training snapshots ({SHIPPED_SNAPSHOTS['cnn'].name}) could not be "
                      f"loaded ({type(exc).__name__}: {str(exc)[:200]}).")


@st.cache_resource(show_spinner=False)
def _shipped_scratch() -> snapshots.SnapshotScratch:
    """The one copy of the shipped CNN that its snapshots borrow (once per server)."""
    return snapshots.SnapshotScratch(shipped_model("cnn"))


@st.cache_resource(show_spinner=False, max_entries=64)
def _shipped_snapshot_explorer(index: int) -> ActivationModel:
    return snapshots.snapshot_explorer(shipped_model("cnn"), _shipped_series()[index], _shipped_scratch())


def trained_run():
    """The Train page's run whose model the Activations page explores (this session), or None."""
    model, _ = state.trained_model()
    return next((run for run in reversed(state.training_runs()) if run.model is model), None)


def _session_explorer(run, index: int) -> ActivationModel:
    """A snapshot model of this session's training (on one copy of the model that all its
    snapshots borrow), the last few kept with their maps."""
    held = st.session_state.get(SESSION_SCRATCH_KEY)
    if held is None or held[0]() is not run.snapshots:  # another training: a new copy, nothing built
        held = (weakref.ref(run.snapshots), snapshots.SnapshotScratch(run.model))
        st.session_state[SESSION_SCRATCH_KEY] = held
        st.session_state[SESSION_EXPLORERS_KEY] = OrderedDict()
    built: OrderedDict = st.session_state[SESSION_EXPLORERS_KEY]
    if index not in built:
        built[index] = snapshots.snapshot_explorer(run.model, run.snapshots[index], held[1])
        while len(built) > SESSION_EXPLORERS:
            built.popitem(last=False)
    built.move_to_end(index)
    return built[index]


def _source_snapshots(source: str, explorer):
    """(series, model, the final explorer or None, why there are none) for a model source."""
    if source == "upload":
        return None, None, None, (
            "Snapshots of an uploaded model do not exist: a model file holds only its final weights, not "
            "how it got there. Choose the shipped CNN, or train one on the Train page, to watch it learn.")
    if source == "trained":
        run = trained_run()
        if run is None or not run.snapshots:
            return None, None, None, "This model's training kept no snapshots."
        final = explorer if run.status == "done" and explorer is not None and explorer.model is run.model else None
        return run.snapshots, run.model, final, None
    shipped, problem = shipped_activation_model()
    series, series_problem = shipped_series()
    if series is None or shipped is None:
        return None, None, None, series_problem or problem
    return series, shipped.model, shipped, None  # the last snapshot is the shipped model itself


def effective_source(explorer, source: str) -> str:
    """The source whose model ``explorer`` is: the picker shows the shipped CNN while the chosen
    source has no model yet."""
    shipped, _ = shipped_activation_model()
    if explorer is not None and explorer is shipped:
        return "shipped"
    return source


def snapshot_slider(explorer, source: str) -> tuple[ActivationModel | None, Chosen | None]:
    """The "watch it learn" slider for the chosen model source, with the validation accuracy of
    the chosen snapshot beside it. Returns the explorer of the chosen snapshot (the page's
    kernels, maps and predictions then show it) and what was chosen; for a model without
    snapshots, says so (no slider) and returns ``explorer`` unchanged and None."""
    source = effective_source(explorer, source)
    series, model, final, problem = _source_snapshots(source, explorer)
    if series is None:
        st.info(problem, icon=":material/history_toggle_off:")
        return explorer, None
    labels = series.labels
    last = len(series) - 1
    key = SLIDER_KEYS[source]
    if st.session_state.get(key, last) > last:  # a new, shorter training: start at its end
        del st.session_state[key]
    with st.container(border=True, key="act_snapshots"):
        left, right = st.columns([3, 1], vertical_alignment="center")
        index = left.select_slider(
            "Watch it learn: the weights at", options=list(range(len(series))), value=last,
            format_func=lambda i: labels[i] + (" (trained)" if i == last else ""), key=key,
            help="Snapshots of this model's training: the random start, after 10, 50 and 200 batches of "
                 "epoch 1, then after every epoch. The kernels, maps and predictions below follow.")
        accuracy = series[index].val_accuracy
        right.metric("Validation accuracy", "—" if accuracy is None else f"{accuracy:.1%}",
                     help=f"Measured on {VALIDATION_WORDS[source]} with these weights."
                     + (" Not measured: the training was stopped before it could be." if accuracy is None else ""))
        trail = " → ".join("—" if a is None else f"{a:.0%}" for a in _milestones(series))
        left.caption(f"Validation accuracy along the way: {trail}. "
                     + ("These are the trained weights." if index == last else
                        "Below: the model with these weights, not the trained one."))
    if index == last and final is not None:
        chosen_explorer = final
    else:
        try:
            chosen_explorer = (_shipped_snapshot_explorer(index) if source == "shipped"
                               else _session_explorer(trained_run(), index))
        except (ValueError, IndexError) as exc:
            st.error(f"This snapshot cannot be shown ({exc}); showing the trained model.", icon=":material/error:")
            return explorer, None
    return chosen_explorer, Chosen(source, series, index, model, chosen_explorer)


def kernel_scale_note(chosen: Chosen | None) -> None:
    """Under the kernels of an earlier snapshot: their colour range beside the trained kernels'
    (each figure fills its own scale, so the growth of the weights is said in numbers)."""
    if chosen is None or chosen.is_final:
        return
    here, trained = (snapshot_figures.kernel_limit(chosen.series[i].weights[0]) for i in (chosen.index, -1))
    st.caption(f":material/straighten: Full colour here beyond ±{here:.2g}; for the trained kernels beyond "
               f"±{trained:.2g}. The weights start small and random and grow "
               f"({trained / here:.1f}x here) as patterns form; each snapshot fills the colour scale, so "
               "compare the numbers on the colour bars.")


def _milestones(series: SnapshotSeries) -> list[float | None]:
    """The validation accuracy at the start, after the early batches, and at the end."""
    picks = [i for i, s in enumerate(series) if s.epoch == 0] + [len(series) - 1]
    return [series[i].val_accuracy for i in dict.fromkeys(picks)]


@st.cache_data(show_spinner=False, max_entries=16)
def _shipped_steps(images_digest: str, layers: tuple, filter_index: int, _images: np.ndarray) -> list[dict]:
    return snapshots.animation_steps(shipped_model("cnn"), _shipped_series(), _images, layers, filter_index)


def training_animation(chosen: Chosen | None, images: np.ndarray, layers: list[str], filter_index: int, *,
                       row_labels: list[str], colorscale: str, input_axes: bool) -> None:
    """A toggle that shows the Play animation: the first layer's kernels and the chosen maps at
    every snapshot, as one figure the browser plays by itself."""
    if chosen is None:
        return
    if not st.toggle("▶ Animate the training (kernels and maps at every snapshot)", key=PLAY_KEY,
                     help="One figure with a frame per snapshot: press its Play button, or drag its slider."):
        return
    images = np.asarray(images[:ANIMATED_IMAGES], dtype=np.uint8)
    with st.spinner(f"Computing the maps at all {len(chosen.series)} snapshots…"):
        if chosen.source == "shipped":
            steps = _shipped_steps(images_key(images), tuple(layers), int(filter_index), images)
        else:
            steps = snapshots.animation_steps(chosen.model, chosen.series, images, layers, filter_index)
        first_conv = chosen.explorer.names[chosen.explorer.kinds.index("Conv2D")]
        figure = snapshot_figures.training_animation(
            images, steps, row_labels=row_labels[:ANIMATED_IMAGES], filter_index=filter_index,
            kernel_layer=first_conv, colorscale=colorscale, input_axes=input_axes,
            start=0 if chosen.is_final else chosen.index)  # Play runs forward from here
    st.plotly_chart(figure, key="act_snapshot_animation", config={"displayModeBar": False}, theme=None)
    shown = "" if len(row_labels) <= ANIMATED_IMAGES else f" (the first {ANIMATED_IMAGES} images)"
    st.caption(f"Press ▶ Play: every snapshot in turn, {snapshot_figures.FRAME_MS} ms each{shown}. Each map is "
               "stretched over its own range, so you see its pattern form; each snapshot's kernels have "
               "their own colour range (written above them).")
