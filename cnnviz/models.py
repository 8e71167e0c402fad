"""The course's Fashion-MNIST models: builders, training, evaluation, saving.

Two models from the course, built exactly (layer for layer, parameter for
parameter) and named layer by layer so pages can address them
(``model.get_layer("conv_1")``):

* the dense network: Flatten -> Dense 20 relu -> Dense 10 softmax (15,910 parameters);
* the CNN: Conv2D 64 3x3 relu -> MaxPooling 2 -> Conv2D 64 3x3 relu ->
  MaxPooling 2 -> Flatten -> Dense 20 relu -> Dense 10 softmax (69,798 parameters).

``build_cnn`` is parameterised (filters, kernel size, conv blocks, dense units)
for the Train page; ``cnn_shapes`` checks the shape arithmetic first, without
TensorFlow work, and refuses maps that would shrink below 1x1.

A classroom shares one server, so training goes through ``training_queue()``
(one training at a time per process, others wait in line) with TensorFlow's
threads capped (``cap_tf_threads``). Models are loaded only in Keras' safe mode.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from cnnviz.data import IMAGE_SHAPE, VALIDATION_SIZE, shift_images

TRAINED_MODEL_KEY = "cnnviz_trained_model"
"""st.session_state key holding the Keras model a student trained on the Train page
(the Activations page offers it). The value is a compiled ``keras.Model``."""

TRAINED_MODEL_NAME_KEY = "cnnviz_trained_model_name"
"""st.session_state key holding a short description of that model (a string)."""

COURSE_EPOCHS = 20
COURSE_BATCH_SIZE = 32
COURSE_LEARNING_RATE = 1e-3
"""The course trains with ``optimizer='adam'`` (learning rate 0.001), Keras' default batch of 32."""

DENSE_PARAMS = 15_910
CNN_PARAMS = 69_798
"""Parameter counts of the course's two models (what ``model.summary()`` prints)."""

COURSE_RESULTS = {
    "dense": {
        "model": "Course: dense network (reported)",
        "params": DENSE_PARAMS,
        "epochs": 20,
        "accuracy": 0.8932,
        "loss": 0.2944,
        "val_accuracy": 0.8675,
        "val_loss": 0.3820,
        "ms_per_step": 1.0,
    },
    "cnn": {
        "model": "Course: CNN (reported)",
        "params": CNN_PARAMS,
        "epochs": 20,
        "accuracy": 0.9659,
        "loss": 0.0901,
        "val_accuracy": 0.9065,
        "val_loss": 0.3361,
        "ms_per_step": 7.0,
    },
}
"""The course's printed results after 20 epochs (its validation set is the test set),
and its claimed time per training step ("7ms versus 1ms in my case")."""

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets" / "models"
SHIPPED_MODELS = {
    "dense": ASSETS_DIR / "fashion_dense.keras",
    "cnn": ASSETS_DIR / "fashion_cnn.keras",
}
"""The trained models shipped with the app (see their model cards beside them)."""

ALLOWED_LAYER_TYPES = frozenset(
    {"InputLayer", "Conv2D", "MaxPooling2D", "AveragePooling2D", "Flatten", "Dense",
     "Dropout", "Rescaling", "Reshape", "Activation", "BatchNormalization"}
)
"""Layer classes a loaded model may contain; anything else (e.g. Lambda) is refused."""

LIMITS = {
    "epochs": 30,
    "train_size": 60_000 - VALIDATION_SIZE,
    "batch_size": (16, 512),
    "filters": (1, 128),
    "kernel_size": (1, 7),
    "blocks": (1, 3),
    "dense_units": (1, 256),
}
"""Upper bounds a shared classroom server accepts for one training."""

TF_THREADS_ENV = "CNNVIZ_TF_THREADS"
"""Environment variable: TensorFlow threads per op for the app's trainings (default 1)."""


class ShapeError(ValueError):
    """A custom CNN whose feature maps would shrink below 1x1; the message shows the arithmetic."""


# --- Shapes -----------------------------------------------------------------


@dataclass(frozen=True)
class LayerShape:
    """One layer of a planned CNN: its name, what it does, and its output size."""

    name: str
    operation: str
    size: int
    channels: int
    arithmetic: str


def cnn_shapes(
    *,
    filters: int = 64,
    kernel_size: int = 3,
    blocks: int = 2,
    input_size: int = IMAGE_SHAPE[0],
    pool_size: int = 2,
) -> list[LayerShape]:
    """The spatial size after every conv ("valid", stride 1) and pooling layer.

    A conv with a k x k kernel maps n x n to (n - k + 1) x (n - k + 1); a 2x2
    max-pooling maps n to floor(n / 2). Raises ShapeError, with every step of
    that arithmetic in the message, when a map would shrink below 1x1.

    >>> [s.size for s in cnn_shapes()]
    [26, 13, 11, 5]
    """
    if blocks < 1 or kernel_size < 1 or filters < 1:
        raise ValueError(
            f"blocks, kernel_size and filters must be at least 1, got {blocks}, "
            f"{kernel_size}, {filters}"
        )
    steps: list[LayerShape] = []
    size = input_size
    for block in range(1, blocks + 1):
        conv = size - kernel_size + 1
        text = f"conv_{block}: {size} - {kernel_size} + 1 = {conv}"
        steps.append(LayerShape(f"conv_{block}", f"Conv2D {kernel_size}x{kernel_size}",
                                conv, filters, text))
        if conv < 1:
            raise ShapeError(_shape_message(steps, input_size))
        pooled = conv // pool_size
        text = f"pool_{block}: floor({conv} / {pool_size}) = {pooled}"
        steps.append(LayerShape(f"pool_{block}", f"MaxPooling {pool_size}x{pool_size}",
                                pooled, filters, text))
        if pooled < 1:
            raise ShapeError(_shape_message(steps, input_size))
        size = pooled
    return steps


def _shape_message(steps: Sequence[LayerShape], input_size: int) -> str:
    lines = [f"input: {input_size} x {input_size}"] + [s.arithmetic for s in steps]
    return (
        f"The feature maps would shrink below 1x1 at {steps[-1].name}: "
        + "; ".join(lines)
        + ". Use fewer blocks or a smaller kernel."
    )


# --- Builders ---------------------------------------------------------------


def build_dense(*, units: int = 20, num_classes: int = 10) -> keras.Sequential:
    """The course's dense network: Flatten -> Dense(units, relu) -> Dense(10, softmax)."""
    return keras.Sequential(
        [
            keras.Input(shape=IMAGE_SHAPE, name="image"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(units, activation="relu", name="dense_1"),
            keras.layers.Dense(num_classes, activation="softmax", name="output"),
        ],
        name="dense_net",
    )


def build_cnn(
    *,
    filters: int = 64,
    kernel_size: int = 3,
    blocks: int = 2,
    dense_units: int = 20,
    num_classes: int = 10,
) -> keras.Sequential:
    """The course's CNN, or a variant: ``blocks`` x (Conv2D relu -> MaxPooling 2), Flatten,
    Dense(dense_units, relu), Dense(10, softmax).

    Defaults are the course's (69,798 parameters). Raises ShapeError before
    building when the maps would shrink below 1x1.
    """
    cnn_shapes(filters=filters, kernel_size=kernel_size, blocks=blocks)
    layers: list[keras.layers.Layer] = [keras.Input(shape=IMAGE_SHAPE, name="image")]
    for block in range(1, blocks + 1):
        layers.append(
            keras.layers.Conv2D(filters, (kernel_size, kernel_size), activation="relu",
                                name=f"conv_{block}")
        )
        layers.append(keras.layers.MaxPooling2D(2, name=f"pool_{block}"))
    layers += [
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(dense_units, activation="relu", name="dense_1"),
        keras.layers.Dense(num_classes, activation="softmax", name="output"),
    ]
    return keras.Sequential(layers, name="cnn")


def build_model(kind: str, **options) -> keras.Sequential:
    """A model from a Train page choice: kind "dense" (options: units) or "cnn"/"custom"
    (options: filters, kernel_size, blocks, dense_units)."""
    if kind == "dense":
        return build_dense(**options)
    if kind in ("cnn", "custom"):
        return build_cnn(**options)
    raise ValueError(f"unknown model kind {kind!r}; choose 'dense', 'cnn' or 'custom'")


def compile_model(model: keras.Model, *, learning_rate: float = COURSE_LEARNING_RATE) -> keras.Model:
    """Compile as the course does: Adam, sparse categorical cross-entropy, accuracy."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def summary_rows(model: keras.Model) -> list[dict]:
    """``model.summary()`` as rows: layer, type, output shape, parameters, and whether
    the spatial size shrank at this layer (conv borders, pooling)."""
    rows = []
    previous = IMAGE_SHAPE[0]
    for layer in model.layers:
        shape = tuple(layer.output.shape[1:])
        size = shape[0] if len(shape) == 3 else None
        rows.append(
            {
                "layer": layer.name,
                "type": type(layer).__name__,
                "output shape": "(None, " + ", ".join(str(d) for d in shape) + ")",
                "parameters": int(layer.count_params()),
                "shrinks": size is not None and size < previous,
            }
        )
        if size is not None:
            previous = size
    return rows


# --- Threads and the one-at-a-time queue ------------------------------------

def cap_tf_threads(intra: int | None = None, inter: int = 1) -> tuple[int, int]:
    """Limit TensorFlow's thread pools (threads per op, ops in parallel); return those in force.

    On a shared 2-core server one training must leave a core for the other
    students' pages. This module calls it once on import (so every page that
    uses TensorFlow runs capped); a later call may change the values only until
    TensorFlow runs its first operation, after which nothing changes.
    ``intra`` defaults to ``$CNNVIZ_TF_THREADS`` or 1.
    """
    import tensorflow as tf

    if intra is None:
        try:
            intra = max(1, int(os.environ.get(TF_THREADS_ENV, "1") or 1))
        except ValueError:
            intra = 1
    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra)
        tf.config.threading.set_inter_op_parallelism_threads(inter)
    except RuntimeError:  # TensorFlow already running: its pools cannot change now
        pass
    return (tf.config.threading.get_intra_op_parallelism_threads(),
            tf.config.threading.get_inter_op_parallelism_threads())


cap_tf_threads()


@dataclass
class _Ticket:
    owner: str
    joined: float
    seen: float


class TrainingQueue:
    """One training at a time; the others wait in line and can see their place.

    Thread-safe (Streamlit runs each session's script in its own thread).
    A ticket not heard of (``touch``) for ``stale_after_s`` seconds is dropped,
    so a closed browser tab cannot hold the line forever.

    >>> q = TrainingQueue()
    >>> a, b = q.join("alice"), q.join("bob")
    >>> q.try_acquire(a), q.try_acquire(b), q.position(b)
    (True, False, 1)
    >>> q.release(a); q.try_acquire(b)
    True
    """

    def __init__(self, *, stale_after_s: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self._lock = threading.Lock()
        self._line: dict[int, _Ticket] = {}
        self._next = 0
        self._running: int | None = None
        self._stale_after_s = stale_after_s
        self._clock = clock

    def join(self, owner: str = "") -> int:
        """Get in line; returns a ticket number."""
        with self._lock:
            self._next += 1
            now = self._clock()
            self._line[self._next] = _Ticket(owner, now, now)
            return self._next

    def _drop_stale(self) -> None:
        now = self._clock()
        for ticket, info in list(self._line.items()):
            if now - info.seen > self._stale_after_s:
                del self._line[ticket]
                if self._running == ticket:
                    self._running = None

    def touch(self, ticket: int) -> None:
        """Say the ticket's owner is still there (waiting or training)."""
        with self._lock:
            if ticket in self._line:
                self._line[ticket].seen = self._clock()

    def position(self, ticket: int) -> int | None:
        """0 when this ticket trains now, n when n others are ahead, None when not in line."""
        with self._lock:
            self._drop_stale()
            if ticket not in self._line:
                return None
            if ticket == self._running:
                return 0
            ahead = sum(1 for t in self._line if t < ticket or t == self._running)
            return ahead

    def try_acquire(self, ticket: int) -> bool:
        """Take the training slot if it is free and this ticket is first in line."""
        with self._lock:
            self._drop_stale()
            if ticket not in self._line:
                return False
            if self._running == ticket:
                return True
            if self._running is None and ticket == min(self._line):
                self._running = ticket
                self._line[ticket].seen = self._clock()
                return True
            return False

    def release(self, ticket: int) -> None:
        """Leave the line (and the slot, if held). Safe to call more than once."""
        with self._lock:
            self._line.pop(ticket, None)
            if self._running == ticket:
                self._running = None

    @property
    def running(self) -> bool:
        """Whether a training runs now."""
        with self._lock:
            self._drop_stale()
            return self._running is not None

    def __len__(self) -> int:
        with self._lock:
            self._drop_stale()
            return len(self._line)


_queue = TrainingQueue()


def training_queue() -> TrainingQueue:
    """The process-wide queue shared by every session of the server."""
    return _queue


# --- Training ---------------------------------------------------------------


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
) -> TrainingRun:
    """Compile ``run.model`` the course's way and fit it, recording into ``run``.

    ``images`` are prepared (N, 28, 28, 1) floats in 0..1, ``labels`` integers.
    With ``flip``, every batch mirrors a random half of its images left-right
    (a training-data augmentation: the model itself is unchanged).
    The run's status is "running" while fitting, "done" after; if a hook
    raises (an interruption), it stays "stopped" with what it had, and the
    exception goes on to the caller.
    """
    if seed is not None:
        keras.utils.set_random_seed(seed)
    compile_model(run.model, learning_rate=learning_rate)
    progress = ProgressCallback(
        run, steps=steps_per_epoch(len(images), batch_size), on_batch=on_batch, on_epoch=on_epoch
    )
    run.status = "running"
    try:
        inputs = (_flipped_batches(images, labels, batch_size, seed) if flip
                  else {"x": images, "y": labels, "batch_size": batch_size})
        if flip:
            inputs = {"x": inputs, "shuffle": False}  # the pipeline shuffles
        run.model.fit(
            **inputs,
            epochs=epochs,
            validation_data=validation_data,
            callbacks=[progress, *callbacks],
            verbose=0,
        )
    except BaseException:
        run.status = "stopped"
        raise
    run.status = "done"
    return run


def _flipped_batches(images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int | None):
    """A shuffled tf.data pipeline mirroring a random half of each batch's images."""
    import tensorflow as tf

    def mirror(x, y):
        pick = tf.random.uniform((tf.shape(x)[0], 1, 1, 1)) < 0.5
        return tf.where(pick, tf.reverse(x, axis=[2]), x), y

    return (tf.data.Dataset.from_tensor_slices((images, labels))
            .shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size)
            .map(mirror, num_parallel_calls=1)
            .prefetch(2))


def comparison_rows(runs: Sequence[TrainingRun]) -> list[dict]:
    """The course's reported results, then one row per run: parameters, data, epochs,
    accuracies, seconds per epoch and milliseconds per training step.

    The course validated on the test set, so its val_accuracy goes in "test accuracy".
    A run's "kind" setting ("dense", "cnn", "custom") is kept for speed comparisons.
    """
    rows = [
        {"model": ref["model"], "kind": kind, "parameters": ref["params"],
         "training images": 60000, "epochs": ref["epochs"], "train accuracy": ref["accuracy"],
         "validation accuracy": None, "test accuracy": ref["val_accuracy"], "s / epoch": None,
         "ms / step": ref["ms_per_step"]}
        for kind, ref in COURSE_RESULTS.items()
    ]
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
            "ms / step": 1000 * seconds / steps if seconds is not None else None,
        })
    return rows


def cnn_to_dense_step_ratio(rows: Sequence[dict]) -> float | None:
    """How many times longer a training step of the latest CNN run took than the latest
    dense run's (None without one of each). The course claims CNNs are faster; here they are not."""
    latest = {}
    for row in rows[len(COURSE_RESULTS):]:
        if row["ms / step"]:
            latest["dense" if row["kind"] == "dense" else "cnn"] = row["ms / step"]
    if len(latest) < 2:
        return None
    return latest["cnn"] / latest["dense"]


# --- Evaluation -------------------------------------------------------------


def evaluate(model: keras.Model, images: np.ndarray, labels: np.ndarray, *,
             batch_size: int = 500) -> dict[str, float]:
    """Loss and accuracy of a model on prepared images (accuracy computed from predictions,
    so the model need not be compiled)."""
    probabilities = model.predict(images, batch_size=batch_size, verbose=0)
    labels = np.asarray(labels).astype(int)
    picked = np.clip(probabilities[np.arange(len(labels)), labels], 1e-7, 1.0)
    return {
        "loss": float(-np.mean(np.log(picked))),
        "accuracy": float(np.mean(np.argmax(probabilities, axis=1) == labels)),
    }


def accuracy_vs_shift(
    models: dict[str, keras.Model],
    images: np.ndarray,
    labels: np.ndarray,
    shifts: Sequence[int],
    *,
    axis: str = "x",
) -> dict[str, list[float]]:
    """Accuracy of each model on the images shifted by each number of pixels.

    The course's "limitation of dense networks": Fashion-MNIST items are
    centred, and a dense net that learned fixed positions suffers more when
    they move than a CNN whose filters slide over the image.
    """
    result: dict[str, list[float]] = {name: [] for name in models}
    for shift in shifts:
        moved = shift_images(images, shift, axis=axis)
        for name, model in models.items():
            result[name].append(evaluate(model, moved, labels)["accuracy"])
    return result


# --- Saving and loading -----------------------------------------------------


def save_model(model: keras.Model, path: str | os.PathLike, *, include_optimizer: bool = False) -> Path:
    """Save as a ``.keras`` file (by default without the optimizer's state: a third
    of the size, and all that viewing or predicting needs)."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"model files must end in .keras, got {path.name!r}")
    if not include_optimizer and getattr(model, "optimizer", None) is not None:
        # Keras 3 ignores include_optimizer for .keras files: save an uncompiled
        # copy with the same weights instead.
        # (clone_model would copy the compilation too; from_config does not.)
        copy = type(model).from_config(model.get_config())
        copy.set_weights(model.get_weights())
        model = copy
    model.save(path)
    return path


def model_bytes(model: keras.Model) -> bytes:
    """The model as the bytes of a ``.keras`` file (for a download button)."""
    with tempfile.TemporaryDirectory() as folder:
        path = save_model(model, Path(folder) / "model.keras")
        return path.read_bytes()


def check_layers(model: keras.Model) -> None:
    """Refuse models with layer types outside ALLOWED_LAYER_TYPES."""
    unexpected = sorted({type(l).__name__ for l in model.layers} - ALLOWED_LAYER_TYPES)
    if unexpected:
        raise ValueError(f"the model contains unsupported layer types: {', '.join(unexpected)}")


def load_model(path: str | os.PathLike) -> keras.Model:
    """Load a ``.keras`` model in Keras' safe mode and check its layer types."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"only .keras model files are accepted, got {path.name!r}")
    model = keras.saving.load_model(path, compile=False, safe_mode=True)
    check_layers(model)
    return model


def load_shipped(name: str) -> keras.Model:
    """One of the trained models shipped in assets/models ("dense" or "cnn")."""
    if name not in SHIPPED_MODELS:
        raise ValueError(f"unknown shipped model {name!r}; choose from {sorted(SHIPPED_MODELS)}")
    return load_model(SHIPPED_MODELS[name])
