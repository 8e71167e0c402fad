"""Reference data: where it comes from, and what to say when it is missing.

One environment variable, ``CNNVIZ_DATA_DIR``, names a folder laid out like
the project's shared data (``fashion-mnist/*.gz``, ``scipy-ascent/ascent.dat``).
Without it the app does what users' machines do: SciPy's and Keras' own
loaders with their caches, which need the internet the first time.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np

DATA_DIR_ENV = "CNNVIZ_DATA_DIR"

CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
"""Fashion-MNIST's ten classes, in label order (label 9 is "Ankle boot")."""


class DataUnavailable(RuntimeError):
    """A data set could not be loaded; the message says how to provide it."""


def data_dir() -> Path | None:
    """The folder named by ``CNNVIZ_DATA_DIR``, or None when it is unset or empty."""
    value = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(value).expanduser() if value else None


def load_ascent() -> np.ndarray:
    """SciPy's 512x512 "ascent" stairwell as uint8.

    Read from ``$CNNVIZ_DATA_DIR/scipy-ascent/ascent.dat`` when the variable
    is set, otherwise through ``scipy.datasets.ascent()`` (its cache, or a
    download). Raises DataUnavailable with a readable message otherwise.
    """
    folder = data_dir()
    if folder is not None:
        path = folder / "scipy-ascent" / "ascent.dat"
        try:
            with open(path, "rb") as f:
                # The same trusted file and format scipy.datasets.ascent() reads.
                image = np.array(pickle.load(f), dtype=np.uint8)
        except (OSError, pickle.UnpicklingError, ValueError, EOFError) as exc:
            raise DataUnavailable(
                f"The stairwell image could not be read from {path} "
                f"({DATA_DIR_ENV} is set): {exc}"
            ) from exc
        if image.shape != (512, 512):
            raise DataUnavailable(f"{path} is not the 512x512 stairwell (shape {image.shape}).")
        return image
    try:
        from scipy import datasets

        return np.asarray(datasets.ascent(), dtype=np.uint8)
    except Exception as exc:  # noqa: BLE001 - pooch/network errors vary widely
        raise DataUnavailable(
            "The stairwell image (scipy.datasets.ascent) is not cached and could not be "
            f"downloaded ({type(exc).__name__}). Connect to the internet once, or set "
            f"{DATA_DIR_ENV} to a folder containing scipy-ascent/ascent.dat."
        ) from exc


# --- Fashion-MNIST -----------------------------------------------------------

FASHION_FOLDER = "fashion-mnist"
"""Sub-folder of ``$CNNVIZ_DATA_DIR`` holding the four original ``.gz`` files."""

FASHION_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
"""The original IDX file names (the same names Keras' loader downloads)."""

IMAGE_SHAPE = (28, 28, 1)
"""One prepared Fashion-MNIST image: height, width, one grey channel."""

VALIDATION_SIZE = 6000
"""Training images held out (the last ones) to choose settings and draw validation curves;
the 10,000 test images are kept for the final measurement."""

TEST_SIZE = 10_000
"""Fashion-MNIST's test images (numbered 0 to 9,999)."""

DOWNLOAD_TIMEOUT_S = 120.0
"""How long Keras' loader (cache or download) may take before we give up."""

HOW_TO_PROVIDE = (
    f"Set {DATA_DIR_ENV} to a folder containing {FASHION_FOLDER}/ with the four "
    "original files (" + ", ".join(FASHION_FILES.values()) + "), or connect to the "
    "internet once so that keras.datasets.fashion_mnist.load_data() can download "
    "and cache them."
)
"""What to tell a user whose machine has no Fashion-MNIST."""

_IDX_DTYPES = {0x08: np.uint8}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one gzip-compressed IDX file (the format Fashion-MNIST ships in).

    The header is two zero bytes, a type code (0x08 = unsigned byte), the
    number of dimensions, then one big-endian uint32 per dimension.
    """
    import gzip

    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    ndim = raw[3]
    header_end = 4 + 4 * ndim
    shape = tuple(int(n) for n in np.frombuffer(raw[4:header_end], dtype=">u4"))
    data = np.frombuffer(raw, dtype=np.uint8, offset=header_end)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path} holds {data.size} values, its header says {shape}")
    return data.reshape(shape)


FashionMNIST = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
"""((train_images, train_labels), (test_images, test_labels)), uint8, as Keras returns."""


def load_fashion_mnist_folder(folder: str | os.PathLike) -> FashionMNIST:
    """Fashion-MNIST from a folder holding the four original ``.gz`` files."""
    folder = Path(folder)
    try:
        parts = {key: read_idx(folder / name) for key, name in FASHION_FILES.items()}
    except (OSError, ValueError, EOFError) as exc:
        raise DataUnavailable(
            f"Fashion-MNIST could not be read from {folder} ({exc}). {HOW_TO_PROVIDE}"
        ) from exc
    for split in ("train", "test"):
        images, labels = parts[f"{split}_images"], parts[f"{split}_labels"]
        if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE[:2] or len(images) != len(labels):
            raise DataUnavailable(
                f"The {split} files in {folder} do not look like Fashion-MNIST "
                f"(images {images.shape}, labels {labels.shape}). {HOW_TO_PROVIDE}"
            )
    return (
        (parts["train_images"], parts["train_labels"]),
        (parts["test_images"], parts["test_labels"]),
    )


def prepare_images(images: np.ndarray) -> np.ndarray:
    """The course's preparation: reshape to (N, 28, 28, 1) and scale 0..255 to 0..1.

    ``training_images = training_images.reshape(60000, 28, 28, 1) / 255.0``,
    as float32 (what Keras computes in) to halve the memory of float64.
    """
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[np.newaxis]
    if images.shape[1:3] != IMAGE_SHAPE[:2]:
        raise ValueError(f"expected images of 28x28 pixels, got shape {images.shape}")
    return images.reshape(len(images), *IMAGE_SHAPE).astype(np.float32) / np.float32(255.0)


def split_validation(
    images: np.ndarray, labels: np.ndarray, *, validation_size: int
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Hold out the last ``validation_size`` training images for choosing settings.

    The test set is then measured once, never used to pick epochs or rates.
    """
    if not 0 < validation_size < len(images):
        raise ValueError(
            f"validation_size must be between 1 and {len(images) - 1}, got {validation_size}"
        )
    cut = len(images) - validation_size
    return (images[:cut], labels[:cut]), (images[cut:], labels[cut:])


def subset(
    images: np.ndarray, labels: np.ndarray, size: int, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A random, class-mixed subset of ``size`` images (all of them if size >= N)."""
    if size >= len(images):
        return images, labels
    if size < 1:
        raise ValueError(f"subset size must be at least 1, got {size}")
    index = np.sort(np.random.default_rng(seed).choice(len(images), size=size, replace=False))
    return images[index], labels[index]


def shift_images(images: np.ndarray, pixels: int, *, axis: str = "x") -> np.ndarray:
    """Images moved by ``pixels`` (right/down when positive), the gap filled with 0.

    Used for the course's "limitation of dense networks": items in
    Fashion-MNIST are centred, so a dense net that learned positions fails
    when they move, while convolutions + pooling tolerate it better.
    """
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    images = np.asarray(images)
    pixels = int(pixels)
    if pixels == 0:
        return images.copy()
    dim = 2 if axis == "x" else 1
    size = images.shape[dim]
    shifted = np.zeros_like(images)
    if abs(pixels) >= size:
        return shifted
    src = [slice(None)] * images.ndim
    dst = [slice(None)] * images.ndim
    if pixels > 0:
        src[dim], dst[dim] = slice(0, size - pixels), slice(pixels, size)
    else:
        src[dim], dst[dim] = slice(-pixels, size), slice(0, size + pixels)
    shifted[tuple(dst)] = images[tuple(src)]
    return shifted
