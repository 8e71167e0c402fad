"""Class evidence in numpy: the occluded images, spreading patch results onto pixels,
upsampling a coarse map, choosing test images per class, scaling the class x filter grid.

The Keras side (probabilities, gradients) is :mod:`cnnviz.ml.evidence`; this module
holds the arithmetic that needs no network, so it is testable and readable on its own.
"""

from __future__ import annotations

import numpy as np
from skimage.transform import resize

from cnnviz.core.checks import check_choice
from cnnviz.core.data import CLASS_NAMES, IMAGE_SHAPE

OCCLUSION_PATCH = 6
OCCLUSION_STRIDE = 2
"""The default grey patch: 6x6 pixels, moved 2 pixels at a time (12 x 12 = 144 positions)."""

PATCH_SIZES = (2, 14)
STRIDES = (1, 8)
"""The smallest and largest patch side and stride offered."""

MAX_IMAGES = 6
"""At most this many images are explained at once (a row each)."""

VIEWS = ("occlusion", "saliency", "gradcam", "grid")
"""The Class evidence page's tabs, as ``view=`` link values (the first is the default)."""

FILLS = {"grey": 128, "black": 0}
"""What the patch is filled with: mid-grey (the usual choice), or black (Fashion-MNIST's background)."""

SALIENCY_SIGNS = ("absolute", "signed")
"""Saliency as |gradient| (how much), or signed (raises the score / lowers it)."""

GRID_SCALES = ("filter", "raw")
"""The class x filter grid: each filter scaled to its strongest class, or raw mean activations."""

MAX_PER_CLASS = 100
GRID_IMAGES = 20
"""The class x filter grid averages the first 20 (at most 100) test images of each class."""


def patch_starts(size: int, patch: int, stride: int) -> np.ndarray:
    """Where a patch of ``patch`` pixels starts along an axis of ``size`` pixels, every
    ``stride`` pixels; the last start is moved in so that the far edge is covered too.

    >>> patch_starts(28, 6, 2)[[0, 1, -1]], len(patch_starts(28, 6, 2))
    (array([ 0,  2, 22]), 12)
    >>> patch_starts(10, 4, 4)
    array([0, 4, 6])
    """
    if not 1 <= patch <= size:
        raise ValueError(f"the patch must be 1 to {size} pixels; got {patch}")
    if stride < 1:
        raise ValueError(f"the stride must be at least 1 pixel; got {stride}")
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    return np.asarray(starts)


def occluded_images(image: np.ndarray, patch: int = OCCLUSION_PATCH, stride: int = OCCLUSION_STRIDE,
                    fill: int = FILLS["grey"]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Copies of a 2-D uint8 image with a ``patch`` x ``patch`` square set to ``fill``, one per
    position: (images (R*C, H, W), row starts (R,), column starts (C,)), row-major."""
    image = np.asarray(image, dtype=np.uint8)
    if image.ndim != 2:
        raise ValueError(f"expected one 2-D image; got shape {image.shape}")
    rows = patch_starts(image.shape[0], patch, stride)
    cols = patch_starts(image.shape[1], patch, stride)
    batch = np.repeat(image[np.newaxis], len(rows) * len(cols), axis=0)
    k = 0
    for r in rows:
        for c in cols:
            batch[k, r:r + patch, c:c + patch] = fill
            k += 1
    return batch, rows, cols


def spread_to_pixels(grid: np.ndarray, rows: np.ndarray, cols: np.ndarray, patch: int,
                     shape: tuple[int, int] = IMAGE_SHAPE[:2]) -> np.ndarray:
    """A value per patch position (R, C) as a value per pixel: the mean over the patches
    that covered that pixel (0 where none did).

    >>> spread_to_pixels(np.array([[1.0, 3.0]]), np.array([0]), np.array([0, 1]), 2, (2, 3))
    array([[1., 2., 3.],
           [1., 2., 3.]])
    """
    grid = np.asarray(grid, dtype=np.float64)
    total = np.zeros(shape)
    count = np.zeros(shape)
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            total[r:r + patch, c:c + patch] += grid[i, j]
            count[r:r + patch, c:c + patch] += 1
    return np.divide(total, count, out=np.zeros(shape), where=count > 0)


def upsample(maps: np.ndarray, shape: tuple[int, int] = IMAGE_SHAPE[:2]) -> np.ndarray:
    """Coarse maps (N, h, w) stretched bilinearly over the whole image, (N, *shape)."""
    maps = np.asarray(maps, dtype=np.float64)
    return np.stack([resize(m, shape, order=1, mode="edge", anti_aliasing=False) for m in maps])


def scaled_each(maps: np.ndarray, *, signed: bool = False) -> np.ndarray:
    """Each map (N, H, W) divided by its own largest value (``signed``: largest |value|), so
    every map spans 0..1 (or -1..1); all-zero maps stay 0."""
    maps = np.asarray(maps, dtype=np.float64)
    top = np.abs(maps).max(axis=(1, 2), keepdims=True) if signed else maps.max(axis=(1, 2), keepdims=True)
    return np.divide(maps, top, out=np.zeros_like(maps), where=top > 0)


def symmetric_limit(values: np.ndarray) -> float:
    """The largest |value| (1.0 when all are 0): a colour range centred on zero."""
    top = float(np.max(np.abs(values))) if np.size(values) else 0.0
    return top if top > 0 else 1.0


def first_per_class(labels: np.ndarray, count: int, classes: int = len(CLASS_NAMES)) -> np.ndarray:
    """Indices of the first ``count`` images of each class, class 0's first.

    >>> first_per_class(np.array([1, 0, 1, 0, 0]), 2, classes=2)
    array([1, 3, 0, 2])
    """
    if not 1 <= count <= MAX_PER_CLASS:
        raise ValueError(f"choose 1 to {MAX_PER_CLASS} images per class; got {count}")
    labels = np.asarray(labels)
    return np.concatenate([np.flatnonzero(labels == c)[:count] for c in range(classes)]).astype(int)


def class_means(per_image: np.ndarray, labels: np.ndarray, classes: int = len(CLASS_NAMES)) -> np.ndarray:
    """Per-image values (M, F) averaged over the images of each class: (classes, F); NaN for a
    class with no image."""
    per_image = np.asarray(per_image, dtype=np.float64)
    labels = np.asarray(labels)
    out = np.full((classes, per_image.shape[1]), np.nan)
    for c in range(classes):
        members = labels == c
        if members.any():
            out[c] = per_image[members].mean(axis=0)
    return out


def scaled_per_filter(means: np.ndarray) -> np.ndarray:
    """Each filter's (column's) class means divided by its largest one: 1 = the class it
    answers to most; a filter that never fires stays 0."""
    means = np.nan_to_num(np.asarray(means, dtype=np.float64))
    top = means.max(axis=0, keepdims=True)
    return np.divide(means, top, out=np.zeros_like(means), where=top > 0)


def grouped_filter_order(means: np.ndarray) -> np.ndarray:
    """Filters ordered by the class they answer to most (class 0's first), then by how much
    more than their mean over the classes they answer to it; silent filters last."""
    means = np.nan_to_num(np.asarray(means, dtype=np.float64))
    scaled = scaled_per_filter(means)
    best = np.where(means.max(axis=0) > 0, scaled.argmax(axis=0), means.shape[0])
    margin = scaled.max(axis=0) - scaled.mean(axis=0)
    return np.lexsort((-margin, best))


def grid_values(means: np.ndarray, scale: str) -> np.ndarray:
    """What the class x filter grid colours: ``"filter"`` (each filter 0..1 over the classes)
    or ``"raw"`` (the mean activations)."""
    check_choice("scale", scale, GRID_SCALES)
    return scaled_per_filter(means) if scale == "filter" else np.asarray(means, dtype=np.float64)
