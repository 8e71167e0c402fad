"""The course's Fashion-MNIST models: builders, evaluation, saving and safe loading.

Two models from the course, built exactly (layer for layer, parameter for
parameter) and named layer by layer so pages can address them
(``model.get_layer("conv_1")``):

* the dense network: Flatten -> Dense 20 relu -> Dense 10 softmax (15,910 parameters);
* the CNN: Conv2D 64 3x3 relu -> MaxPooling 2 -> Conv2D 64 3x3 relu ->
  MaxPooling 2 -> Flatten -> Dense 20 relu -> Dense 10 softmax (69,798 parameters).

``build_cnn`` is parameterised (filters, kernel size, conv blocks, dense units)
for the Train page; :func:`cnnviz.core.architecture.cnn_shapes` checks the shape
arithmetic first. Models are loaded only in Keras' safe mode.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np

from cnnviz.core.architecture import ALLOWED_LAYER_TYPES, COURSE_LEARNING_RATE, cnn_shapes
from cnnviz.core.data import IMAGE_SHAPE, shift_images

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets" / "models"
SHIPPED_MODELS = {
    "dense": ASSETS_DIR / "fashion_dense.keras",
    "cnn": ASSETS_DIR / "fashion_cnn.keras",
}
"""The trained models shipped with the app (see their model cards beside them)."""
SHIPPED_SNAPSHOTS = {"cnn": ASSETS_DIR / "fashion_cnn_snapshots.npz"}
"""The weight snapshots of the training that produced a shipped model (its card describes them)."""



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
