"""Training the course's way with progress reports, and comparing runs with references.

A classroom shares one server, so the app trains through
:func:`cnnviz.ml.queue.training_queue` (one training at a time per process) with
TensorFlow's threads capped (:mod:`cnnviz.ml.threads`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from cnnviz.core.architecture import COURSE_BATCH_SIZE, COURSE_LEARNING_RATE, reference_rows
from cnnviz.core.snapshots import SnapshotSeries
from cnnviz.ml.models import compile_model
from cnnviz.ml.snapshots import SnapshotCallback


@dataclass
class TrainingRun:
    """A training's settings and what it produced so far (kept when it is interrupted)."""

    name: str
    model: keras.Model
    settings: dict
    history: dict[str, list[float]] = field(default_factory=dict)
    epoch_seconds: list[float] = field(default_factory=list)
    status: str = "new"  # new, running, stopped, done, failed
    test_accuracy: float | None = None
    snapshots: SnapshotSeries | None = None
    """The weights at the random start, early batches and every epoch (when asked for)."""
    _settled: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)

    def wait_settled(self, timeout: float) -> bool:
        """Wait until the run is not fitting any more (an interrupted fit unwinds at its
        next progress report); True when it has settled within ``timeout`` seconds."""
        if self.status != "running":
            return True
        return self._settled.wait(timeout)

    @property
    def epochs_done(self) -> int:
        return len(self.epoch_seconds)

    def last(self, metric: str) -> float | None:
        """The latest value of a metric ("accuracy", "val_loss", ...), or None."""
        values = self.history.get(metric) or []
        return values[-1] if values else None


class ProgressCallback(keras.callbacks.Callback):
    """Reports progress to plain functions: ``on_batch(epoch, done, steps)`` before every
    batch and once at the epoch's end (``done`` batches of ``steps`` finished; cheap: no
    metric values are fetched), ``on_epoch(epoch, logs, seconds)`` after
    every epoch; records each epoch's metrics and duration into a TrainingRun.

    An exception raised by a hook (e.g. Streamlit interrupting the script for
    a Stop click) ends ``fit`` there; the run keeps every finished epoch.
    """

    def __init__(
        self,
        run: TrainingRun | None = None,
        *,
        steps: int | None = None,
        on_batch: Callable[[int, int, int], None] | None = None,
        on_epoch: Callable[[int, dict, float], None] | None = None,
    ):
        super().__init__()
        self.run = run
        self.steps = steps
        self.on_batch = on_batch
        self.on_epoch = on_epoch
        self._epoch = 0
        self._started = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._started = time.perf_counter()

    def on_train_batch_begin(self, batch, logs=None):
        # The hook runs as a batch *begins* (``batch`` batches are done): Keras
        # converts the metric tensors to Python numbers before every batch-*end*
        # hook, which stalls the pipeline each step (~30 % slower on CPU here).
        if self.on_batch is not None:
            self.on_batch(self._epoch, batch, self.steps or 0)

    def on_epoch_end(self, epoch, logs=None):
        if self.on_batch is not None and self.steps:
            self.on_batch(epoch, self.steps, self.steps)
        seconds = time.perf_counter() - self._started
        values = {k: float(v) for k, v in (logs or {}).items()}
        if self.run is not None:
            for key, value in values.items():
                self.run.history.setdefault(key, []).append(value)
            self.run.epoch_seconds.append(seconds)
        if self.on_epoch is not None:
            self.on_epoch(epoch, values, seconds)


def steps_per_epoch(n_images: int, batch_size: int) -> int:
    """How many batches one epoch of ``n_images`` takes."""
    return max(1, -(-n_images // batch_size))


def train(
    run: TrainingRun,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    epochs: int,
    batch_size: int = COURSE_BATCH_SIZE,
    learning_rate: float = COURSE_LEARNING_RATE,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    on_batch: Callable[[int, int, int], None] | None = None,
    on_epoch: Callable[[int, dict, float], None] | None = None,
    callbacks: Iterable[keras.callbacks.Callback] = (),
    seed: int | None = None,
    flip: bool = False,
    snapshots: SnapshotSeries | None = None,
) -> TrainingRun:
    """Compile ``run.model`` the course's way and fit it, recording into ``run``.

    ``images`` are prepared (N, 28, 28, 1) floats in 0..1, ``labels`` integers.
    With ``flip``, every batch mirrors a random half of its images left-right
    (a training-data augmentation: the model itself is unchanged).
    With ``snapshots``, the weights are recorded into it at the points of
    :class:`cnnviz.ml.snapshots.SnapshotCallback` (also kept as ``run.snapshots``).
    The run's status is "running" while fitting, "done" after; if a hook
    raises (an interruption), it stays "stopped" with what it had, and the
    exception goes on to the caller.
    """
    if seed is not None:
        keras.utils.set_random_seed(seed)
    compile_model(run.model, learning_rate=learning_rate)
    steps = steps_per_epoch(len(images), batch_size)
    progress = ProgressCallback(run, steps=steps, on_batch=on_batch, on_epoch=on_epoch)
    recording = []
    if snapshots is not None:
        run.snapshots = snapshots
        recording.append(SnapshotCallback(snapshots, steps=steps))
    run.status = "running"
    run._settled.clear()
    try:
        inputs = (_flipped_batches(images, labels, batch_size, seed) if flip
                  else {"x": images, "y": labels, "batch_size": batch_size})
        if flip:
            inputs = {"x": inputs, "shuffle": False}  # the pipeline shuffles
        run.model.fit(
            **inputs,
            epochs=epochs,
            validation_data=validation_data,
            callbacks=[*recording, progress, *callbacks],
            verbose=0,
        )
    except BaseException:
        run.status = "stopped"
        raise
    else:
        run.status = "done"
    finally:
        run._settled.set()
    return run


def _flipped_batches(images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int | None):
    """A shuffled tf.data pipeline mirroring a random half of each batch's images."""


    def mirror(x, y):
        pick = tf.random.uniform((tf.shape(x)[0], 1, 1, 1)) < 0.5
        return tf.where(pick, tf.reverse(x, axis=[2]), x), y

    return (tf.data.Dataset.from_tensor_slices((images, labels))
            .shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size)
            .map(mirror, num_parallel_calls=1)
            .prefetch(2))


def comparison_rows(runs: Sequence[TrainingRun]) -> list[dict]:
    """The reference rows (the course page's printed results, the shipped CNN's model card),
    then one row per run: parameters, data, epochs, accuracies, measured seconds per epoch
    and milliseconds per training step.

    A run's "kind" setting ("dense", "cnn", "custom") is kept for speed comparisons;
    reference rows carry ``"run": False``.
    """
    rows = [{**row, "run": False} for row in reference_rows()]
    for run in runs:
        done = run.epochs_done
        seconds = sum(run.epoch_seconds) / done if done else None
        steps = steps_per_epoch(run.settings.get("train_size", 1), run.settings.get("batch_size", 1))
        rows.append({
            "model": run.name + ("" if run.status == "done" else f" ({run.status})"),
            "kind": run.settings.get("kind"), "parameters": run.model.count_params(),
            "training images": run.settings.get("train_size"), "epochs": done,
            "train accuracy": run.last("accuracy"), "validation accuracy": run.last("val_accuracy"),
            "test accuracy": run.test_accuracy, "s / epoch": seconds,
            "ms / step": 1000 * seconds / steps if seconds is not None else None, "run": True,
        })
    return rows


def cnn_to_dense_step_ratio(rows: Sequence[dict]) -> float | None:
    """How many times longer a training step of the latest CNN run took than the latest
    dense run's, both measured here (None without one of each)."""
    latest = {}
    for row in rows:
        if row["run"] and row["ms / step"]:
            latest["dense" if row["kind"] == "dense" else "cnn"] = row["ms / step"]
    if len(latest) < 2:
        return None
    return latest["cnn"] / latest["dense"]
