"""What the Activations page looks at, in numpy: which test images, and a student's own drawing.

The course's "Visualizing CNN" shows ``LABEL = 9`` (Ankle boot), ``CONVOLUTION_NUMBER = 1``
and three images; the choices here start from those. The maps themselves come from
:mod:`cnnviz.ml.activations` (Keras).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from skimage.transform import resize

from cnnviz.core.checks import check_choice
from cnnviz.core.data import CLASS_NAMES, IMAGE_SHAPE
from cnnviz.core.images import to_grayscale

SELECTIONS = ("first", "random", "index")
"""How images are chosen: the first N of the class (the course), random with a seed, or by test-set index."""

SCALES = ("map", "layer")
"""Colour scale of activation maps: each map its own min..max, or one range per layer."""

MAX_IMAGES = 10

MAX_SEED = 1_000_000
"""Largest seed for a random choice of images."""

COURSE_LABEL = 9
COURSE_FILTER = 1
COURSE_IMAGES = 3
"""The course's settings: ``LABEL = 9`` (Ankle boot), ``CONVOLUTION_NUMBER = 1``, three images."""

PAPER_URL = "https://arxiv.org/abs/1311.2901"
PAPER_TITLE = "Visualizing and Understanding Convolutional Networks (Zeiler & Fergus, 2013)"


# --------------------------------------------------------------------------
# Choosing test images
# --------------------------------------------------------------------------


def parse_indices(text: str, *, size: int, limit: int = MAX_IMAGES) -> list[int]:
    """Test-set indices typed as "0, 23, 28" (the course's own picks). Raises ValueError in words."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p.strip()]
    if not parts:
        raise ValueError("type at least one image number, e.g. 0, 23, 28")
    indices = []
    for part in parts:
        try:
            value = int(part)
        except ValueError:
            raise ValueError(f"{part!r} is not a whole number") from None
        if not 0 <= value < size:
            raise ValueError(f"{value} is outside the test set (0 to {size - 1})")
        indices.append(value)
    if len(indices) > limit:
        raise ValueError(f"at most {limit} images at once; got {len(indices)}")
    return indices


def select_images(
    labels: np.ndarray,
    label: int,
    count: int,
    *,
    how: str = "first",
    seed: int = 0,
    indices: Sequence[int] = (),
) -> np.ndarray:
    """Test-set indices of the images to show.

    ``how="first"``: the first ``count`` images of class ``label`` (the course);
    ``"random"``: ``count`` images of the class drawn with ``seed``;
    ``"index"``: the given ``indices``, whatever their class.

    >>> select_images(np.array([9, 1, 9, 9, 9]), 9, 3)
    array([0, 2, 3])
    """
    check_choice("how", how, SELECTIONS)
    labels = np.asarray(labels)
    if how == "index":
        chosen = np.asarray(list(indices), dtype=int)
        if chosen.size == 0 or chosen.min() < 0 or chosen.max() >= len(labels):
            raise ValueError(f"indices must be between 0 and {len(labels) - 1}; got {list(indices)}")
        return chosen
    if not 0 <= label < len(CLASS_NAMES):
        raise ValueError(f"label must be 0..{len(CLASS_NAMES) - 1}; got {label}")
    if not 1 <= count <= MAX_IMAGES:
        raise ValueError(f"count must be 1..{MAX_IMAGES}; got {count}")
    members = np.flatnonzero(labels == label)
    if how == "first":
        return members[:count]
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(members, size=min(count, len(members)), replace=False))


def value_range(maps: np.ndarray) -> tuple[float, float]:
    """min and max of maps, widened to a non-empty range (all-zero maps are common after ReLU)."""
    low, high = float(np.min(maps)), float(np.max(maps))
    if high <= low:
        high = low + 1.0
    return low, high


# --------------------------------------------------------------------------
# A student's own input
# --------------------------------------------------------------------------


def to_model_input(image: np.ndarray, *, invert: bool = False) -> np.ndarray:
    """Any grayscale or RGB uint8 image as a 28x28 uint8 model input.

    Fashion-MNIST shows light items on a black background: photos of dark
    things on white need ``invert=True``.
    """
    gray = to_grayscale(np.asarray(image))
    if gray.shape != IMAGE_SHAPE[:2]:
        gray = resize(gray.astype(np.float64), IMAGE_SHAPE[:2], anti_aliasing=True,
                      preserve_range=True)
        gray = np.clip(np.rint(gray), 0, 255).astype(np.uint8)
    return 255 - gray if invert else gray.astype(np.uint8)
