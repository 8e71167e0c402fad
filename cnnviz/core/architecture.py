"""The course's two networks as plain numbers: layer shapes, parameter counts, training limits.

No TensorFlow here: the Train page checks a planned CNN's shape arithmetic and its
settings before anything is built, and shows the arithmetic when maps would vanish.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cnnviz.core.data import IMAGE_SHAPE, VALIDATION_SIZE

COURSE_EPOCHS = 20
COURSE_BATCH_SIZE = 32
COURSE_LEARNING_RATE = 1e-3
"""The course trains with ``optimizer='adam'`` (learning rate 0.001), Keras' default batch of 32."""

DENSE_PARAMS = 15_910
CNN_PARAMS = 69_798
"""Parameter counts of the course's two models (what ``model.summary()`` prints)."""

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
"""Bounds a shared classroom server accepts for one training (an int: from 1 to it)."""

LINK_ARCHITECTURES = ("dense", "cnn", "custom")
"""The Train page's models (the course's dense network, its CNN, a custom CNN) as ``arch=`` link values."""

FILTER_CHOICES = (4, 8, 16, 32, 64, 128)
DENSE_UNIT_CHOICES = (5, 10, 20, 50, 100, 200)
CUSTOM_DEFAULTS = {"filters": 32, "kernel_size": 3, "blocks": 2, "dense_units": 20}
"""What the Train page offers for a custom CNN, and where it starts."""

BATCH_CHOICES = (16, 32, 64, 128, 256, 512)
LEARNING_RATES = (0.0001, 0.0003, 0.001, 0.003, 0.01)
TRAIN_SIZES = (500, 1000, 2000, 5000, 10000, 20000, LIMITS["train_size"])
DEFAULT_EPOCHS = 3
DEFAULT_TRAIN_SIZE = 5000
"""The Train page's training settings: what it offers and where it starts (short runs on a subset)."""

MAX_SHIFT = 10
DEFAULT_SHIFT = 6
"""Largest shift (pixels) of the Train page's shifted test images, and where it starts."""


class ShapeError(ValueError):
    """A custom CNN whose feature maps would shrink below 1x1; the message shows the arithmetic."""


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



def check_training(*, epochs: int, batch_size: int, train_size: int, kind: str = "cnn",
                   filters: int = 1, kernel_size: int = 1, blocks: int = 1, dense_units: int = 1,
                   units: int = 1, **_ignored) -> None:
    """Refuse a training a shared classroom server does not run; ValueError naming the setting.

    >>> check_training(epochs=3, batch_size=32, train_size=5000)
    >>> check_training(epochs=300, batch_size=32, train_size=5000)
    Traceback (most recent call last):
    ValueError: epochs must be from 1 to 30, got 300
    """
    values = {"epochs": epochs, "train_size": train_size, "batch_size": batch_size}
    if kind != "dense":
        values.update(filters=filters, kernel_size=kernel_size, blocks=blocks, dense_units=dense_units)
    else:
        values["dense_units"] = units
    for name, value in values.items():
        limit = LIMITS[name]
        low, high = limit if isinstance(limit, tuple) else (1, limit)
        if not low <= value <= high:
            raise ValueError(f"{name} must be from {low} to {high}, got {value}")


# --------------------------------------------------------------------------
# Reference results, each labelled with where it comes from
# --------------------------------------------------------------------------

COURSE_PAGE_DENSE = {"epochs": 20, "accuracy": 0.8932, "loss": 0.2944, "val_accuracy": 0.8675, "val_loss": 0.3820}
"""Everything the course page prints about a training: its dense network after 20 epochs
(its validation set is the 10,000 test images). It prints no results for its CNN and no
time per step for either model."""

SHIPPED_CNN_CARD = {"epochs": 21, "training_images": 54_000, "accuracy": 0.9473,
                    "val_accuracy": 0.9213, "test_accuracy": 0.9143, "seconds_per_epoch": 56.0}
"""The shipped CNN as its model card (assets/models/fashion_cnn.md) reports it: weights kept
from epoch 21, validation on 6,000 held-out training images, then the 10,000 test images."""


def reference_rows() -> list[dict]:
    """Rows for the Train page's comparison that no student trained, each saying its source.

    None marks what the source does not report (shown as a dash), never a guess.
    """
    dense = COURSE_PAGE_DENSE
    card = SHIPPED_CNN_CARD
    return [
        {"model": "Course page: dense network", "kind": "dense", "parameters": DENSE_PARAMS,
         "training images": 60_000, "epochs": dense["epochs"], "train accuracy": dense["accuracy"],
         "validation accuracy": None, "test accuracy": dense["val_accuracy"], "s / epoch": None,
         "ms / step": None},
        {"model": "Course page: CNN (no results printed)", "kind": "cnn",
         "parameters": CNN_PARAMS, "training images": None, "epochs": None, "train accuracy": None,
         "validation accuracy": None, "test accuracy": None, "s / epoch": None, "ms / step": None},
        {"model": "cnnviz: shipped CNN (model card)", "kind": "cnn", "parameters": CNN_PARAMS,
         "training images": card["training_images"], "epochs": card["epochs"],
         "train accuracy": card["accuracy"], "validation accuracy": card["val_accuracy"],
         "test accuracy": card["test_accuracy"], "s / epoch": card["seconds_per_epoch"], "ms / step": None},
    ]
