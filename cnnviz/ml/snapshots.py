"""Taking weight snapshots during a Keras training, and measuring them.

:class:`SnapshotCallback` copies the model's weights into a
:class:`cnnviz.core.snapshots.SnapshotSeries` at the promised points: as training
begins (the random start), after batches 10, 50 and 200 of epoch 1 (where the
epoch has more batches) and after every epoch (with that epoch's validation
accuracy from Keras' logs). A copy of the course's CNN takes well under a
millisecond; nothing else runs inside the epochs. The early snapshots' validation
accuracy is measured after the training (:func:`measure_accuracies`), so it adds
nothing to an epoch's time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import keras
import numpy as np

from cnnviz.core.activation_inputs import MAX_IMAGES
from cnnviz.core.snapshots import EARLY_BATCHES, Snapshot, SnapshotSeries, early_batches
from cnnviz.ml.activations import ActivationModel, compiled_pass, conv_kernels, images_key

PASS_BATCH = MAX_IMAGES
"""Images per call of a snapshot's compiled pass (the most the Activations page shows at once)."""


class SnapshotCallback(keras.callbacks.Callback):
    """Record ``series`` snapshots of the model being fitted (see the module docstring).

    ``steps`` is the number of batches per epoch (to know which early points exist).
    """

    def __init__(self, series: SnapshotSeries, *, steps: int, points: Sequence[int] = EARLY_BATCHES):
        super().__init__()
        self.series = series
        self.points = set(early_batches(steps, points))
        series.steps_per_epoch = steps
        self._epoch = 0

    def on_train_begin(self, logs=None):
        if not len(self.series):
            self.series.add(0, 0, self.model.get_weights())

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        # As batch ``batch`` begins, ``batch`` batches are done; a batch-*begin* hook costs
        # nothing, while a batch-end hook makes Keras fetch the metrics every step.
        if self._epoch == 0 and batch in self.points:
            self.series.add(0, batch, self.model.get_weights())

    def on_epoch_end(self, epoch, logs=None):
        accuracy = (logs or {}).get("val_accuracy")
        self.series.add(epoch + 1, 0, self.model.get_weights(),
                        None if accuracy is None else float(accuracy))


def accuracy(model: keras.Model, images: np.ndarray, labels: np.ndarray, *, batch: int = 1000) -> float:
    """The share of ``images`` (prepared, (N, 28, 28, 1)) whose top class is the label."""
    right = 0
    for start in range(0, len(images), batch):
        probabilities = np.asarray(model(images[start:start + batch], training=False))
        right += int(np.sum(probabilities.argmax(axis=1) == labels[start:start + batch]))
    return right / max(1, len(images))


def measure_accuracies(series: SnapshotSeries, model: keras.Model, images: np.ndarray,
                       labels: np.ndarray, *, only_missing: bool = True) -> None:
    """Fill in each snapshot's validation accuracy on ``images``/``labels`` (by default only
    where the training's logs gave none: the random start and the early batches)."""
    copy = None
    for index, snapshot in enumerate(series):
        if only_missing and snapshot.val_accuracy is not None:
            continue
        if copy is None:
            copy = keras.models.clone_model(model)
        copy.set_weights(list(snapshot.weights))
        series.set_accuracy(index, accuracy(copy, images, labels))


class SnapshotScratch:
    """One copy of a model's architecture that every snapshot of its training borrows in turn
    (thread-safe): building a model and its feature extractor per snapshot costs far more than
    loading a snapshot's weights into one (about 70,000 numbers for the course's CNN). Its maps
    come from one compiled pass (compiled once, with the copy's weights read at each call): an eager
    call rebuilds TensorFlow's kernels after every script run, because Streamlit clears Keras'
    session then."""

    def __init__(self, model: keras.Model):
        self.explorer = ActivationModel(keras.models.clone_model(model), cache_size=0)
        self.shapes = [tuple(w.shape) for w in self.explorer.model.get_weights()]
        self.lock = threading.RLock()
        self.loaded: Snapshot | None = None
        self.compiled = compiled_pass(self.explorer.extractor, (PASS_BATCH, *self.explorer._input_shape))

    def extract(self, batch: np.ndarray) -> list[np.ndarray]:
        """Every layer's output for ``batch`` with the loaded weights, through the compiled pass (in
        chunks of PASS_BATCH, the last padded: one compiled shape)."""
        chunks = []
        for start in range(0, len(batch), PASS_BATCH):
            part = batch[start:start + PASS_BATCH]
            padded = np.zeros((PASS_BATCH, *part.shape[1:]), dtype=np.float32)
            padded[:len(part)] = part
            chunks.append([out[:len(part)] for out in self.compiled(padded)])
        return [np.concatenate(outs) for outs in zip(*chunks)]

    def load(self, snapshot: Snapshot) -> None:
        """Put ``snapshot``'s weights into the copy (hold ``lock``)."""
        if self.loaded is not snapshot:
            self.explorer.model.set_weights(list(snapshot.weights))
            self.loaded = snapshot


class SnapshotActivations(ActivationModel):
    """The ActivationModel of one snapshot: its maps, predictions and kernels, computed on the
    shared :class:`SnapshotScratch` with this snapshot's weights loaded, and cached per images."""

    def __init__(self, scratch: SnapshotScratch, snapshot: Snapshot, *, cache_size: int = 2):
        if [tuple(w.shape) for w in snapshot.weights] != scratch.shapes:
            raise ValueError("the snapshot's weights do not have this model's shapes")
        base = scratch.explorer  # not ActivationModel.__init__: the extractor is the scratch's
        self.model, self.extractor = base.model, base.extractor
        self.names, self.kinds, self.output_shapes = base.names, base.kinds, base.output_shapes
        self._input_shape = base._input_shape
        self._cache: OrderedDict[str, list[np.ndarray]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self.scratch, self.snapshot = scratch, snapshot

    def _outputs(self, images: np.ndarray) -> list[np.ndarray]:
        with self.scratch.lock:
            batch = np.asarray(images, dtype=np.uint8)
            if images_key(batch[np.newaxis] if batch.ndim == 2 else batch) not in self._cache:
                self.scratch.load(self.snapshot)
            return super()._outputs(images)

    def _extract(self, batch: np.ndarray) -> list[np.ndarray]:
        return self.scratch.extract(batch)  # the lock is held: see _outputs

    def first_conv_kernels(self) -> tuple[np.ndarray, np.ndarray]:
        with self.scratch.lock:
            self.scratch.load(self.snapshot)
            return super().first_conv_kernels()


def snapshot_explorer(model: keras.Model, snapshot: Snapshot, scratch: SnapshotScratch | None = None
                      ) -> ActivationModel:
    """An ActivationModel of ``model``'s architecture holding ``snapshot``'s weights (``model``
    is left alone), on ``scratch`` when given (shared by the snapshots of one training).
    Raises ValueError when the snapshot does not fit the model."""
    return SnapshotActivations(scratch or SnapshotScratch(model), snapshot)


def animation_steps(model: keras.Model, series: SnapshotSeries, images: np.ndarray, layers: Sequence[str],
                    filter_index: int) -> list[dict]:
    """What :func:`cnnviz.figures.snapshots.training_animation` shows at every snapshot: its label
    and validation accuracy, the first Conv2D layer's kernels, and ``filter_index``'s maps of
    ``images`` (uint8 (N, 28, 28)) at each of ``layers``. One copy of the model is loaded with
    each snapshot in turn (``model`` is left alone)."""
    explorer = ActivationModel(keras.models.clone_model(model), cache_size=0)  # new weights each time
    first_conv = explorer.names[explorer.kinds.index("Conv2D")]
    steps = []
    for snapshot in series:
        explorer.model.set_weights(list(snapshot.weights))
        kernels, _ = conv_kernels(explorer.model.get_layer(first_conv))
        steps.append({
            "label": snapshot.label, "val_accuracy": snapshot.val_accuracy, "kernels": kernels,
            "columns": [(name, np.array(explorer.maps(images, name)[..., filter_index])) for name in layers],
        })
    return steps
