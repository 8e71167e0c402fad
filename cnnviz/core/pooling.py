"""Pooling: max, average and min over windows, (the course's loop is in :mod:`cnnviz.core.reference`).

The course's "Example: manual pooling" keeps the largest value of every 4x4
block of the convolved stairwell: "reducing the amount of information while
keeping the features that were detected". :func:`pool2d` does the same for any
window size, stride and edge rule (Keras' ``MaxPooling2D`` / ``AveragePooling2D``
conventions), vectorised, and says which input cell each window kept.

Coordinates are (row, column) with row 0 at the top, as numpy indexes arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from cnnviz.core.checks import check_choice, size_pair
from cnnviz.core.padding import same_padding

POOL_MODES = ("max", "average", "min")
"""What a window is reduced to: its largest value, its mean, or its smallest value."""

EDGE_MODES = ("valid", "same")
"""Edge rules, as Keras names them: "valid" drops windows that would stick out of the
image; "same" pads so that every input cell is covered (output = ceil(input / stride))."""

MAX_POOL_SIZE = 8
"""Largest pool side offered in the app (the course uses 4; CNNs mostly use 2)."""

COURSE_POOL_SIZE = 4
"""The course's manual pooling: 4x4 blocks, stride 4."""

MAX_STAGES = 3
DEFAULT_STAGES = 2
"""Conv + pool stages the Pooling page shows on a 28x28 image (the course's CNN has two)."""


# --------------------------------------------------------------------------
# Options and shapes
# --------------------------------------------------------------------------


def pooled_shape(shape, *, pool_size=2, strides=None, padding: str = "valid") -> tuple[int, int]:
    """(rows, columns) of the pooled output of an image of ``shape`` (H, W, ...).

    >>> pooled_shape((512, 512), pool_size=4)
    (128, 128)
    >>> pooled_shape((510, 510), pool_size=4)
    (127, 127)
    >>> pooled_shape((510, 510), pool_size=4, padding="same")
    (128, 128)
    """
    check_choice("padding", padding, EDGE_MODES)
    ph, pw = size_pair(pool_size, "pool_size")
    sh, sw = size_pair(pool_size if strides is None else strides, "strides")
    h, w = int(shape[0]), int(shape[1])
    if padding == "same":
        return -(-h // sh), -(-w // sw)
    return max((h - ph) // sh + 1, 0), max((w - pw) // sw + 1, 0)


def reduction_percent(before: tuple[int, ...], after: tuple[int, ...]) -> float:
    """How many fewer values ``after`` has than ``before``, in percent (negative if more)."""
    n_before, n_after = int(np.prod(before)), int(np.prod(after))
    return 100.0 * (1 - n_after / n_before) if n_before else 0.0


# --------------------------------------------------------------------------
# The vectorised pooling
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Pooled:
    """The result of :func:`pool2d`.

    ``values`` is (rows, cols) or (rows, cols, channels), float64. For max
    and min, ``kept_rows`` / ``kept_cols`` (same shape, int) give the input
    position each output value came from; None for average.
    ``pad`` is the padding (top, bottom, left, right) "same" added.
    """

    values: np.ndarray
    kept_rows: np.ndarray | None
    kept_cols: np.ndarray | None
    mode: str
    pool_size: tuple[int, int]
    strides: tuple[int, int]
    padding: str
    pad: tuple[int, int, int, int]
    input_shape: tuple[int, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.values.shape)

    def window(self, row: int, col: int) -> tuple[int, int, int, int]:
        """Input rows ``r0:r1`` and columns ``c0:c1`` pooled into output cell (row, col).

        Clipped to the image: padded cells are not part of any window.
        """
        rows, cols = self.values.shape[:2]
        if not (0 <= row < rows and 0 <= col < cols):
            raise ValueError(f"output cell ({row}, {col}) is outside the {rows}x{cols} output")
        r0 = row * self.strides[0] - self.pad[0]
        c0 = col * self.strides[1] - self.pad[2]
        h, w = self.input_shape[:2]
        return max(r0, 0), min(r0 + self.pool_size[0], h), max(c0, 0), min(c0 + self.pool_size[1], w)


def pool2d(image, *, mode: str = "max", pool_size=2, strides=None, padding: str = "valid") -> Pooled:
    """Pool an (H, W) or (H, W, C) image over windows of ``pool_size``.

    Parameters
    ----------
    image : array_like
        Grayscale (H, W) or channels-last (H, W, C); each channel is pooled alone.
    mode : {"max", "average", "min"}
        Keep the largest value, the mean, or the smallest value of each window.
    pool_size : int or (int, int)
        Window height and width.
    strides : int or (int, int), optional
        Step between windows; defaults to ``pool_size`` (windows side by side).
    padding : {"valid", "same"}
        "valid" drops windows that stick out; "same" pads as Keras does (the odd
        cell at the bottom/right) and never picks or averages a padded cell.

    Returns
    -------
    Pooled
        Values (float64) and, for max and min, the position each value was
        kept from. Ties go to the first cell in row-major order, as ``argmax``.

    Examples
    --------
    >>> pool2d([[1, 5, 0, 0], [2, 3, 0, 9]], pool_size=2).values
    array([[5., 9.]])
    """
    check_choice("mode", mode, POOL_MODES)
    check_choice("padding", padding, EDGE_MODES)
    ph, pw = size_pair(pool_size, "pool_size")
    sh, sw = size_pair(pool_size if strides is None else strides, "strides")
    array = np.asarray(image)
    if array.ndim not in (2, 3):
        raise ValueError(f"expected an (H, W) or (H, W, C) image, got shape {array.shape}")
    if array.dtype.kind not in "biuf":
        raise ValueError(f"expected a numeric image, got dtype {array.dtype}")
    h, w = array.shape[:2]
    out_h, out_w = pooled_shape((h, w), pool_size=(ph, pw), strides=(sh, sw), padding=padding)
    if out_h == 0 or out_w == 0:
        raise ValueError(
            f"a {ph}x{pw} window does not fit in a {h}x{w} image with padding='valid': "
            "use a smaller pool or padding='same'"
        )
    top, bottom = same_padding(h, ph, sh) if padding == "same" else (0, 0)
    left, right = same_padding(w, pw, sw) if padding == "same" else (0, 0)
    fill = {"max": -np.inf, "min": np.inf, "average": 0.0}[mode]
    data = array.astype(np.float64)
    pad_width = [(top, bottom), (left, right)] + [(0, 0)] * (array.ndim - 2)
    if top or bottom or left or right:
        data = np.pad(data, pad_width, constant_values=fill)
    # Walk the pool_size offsets (at most 64) in row-major order; each step looks
    # at the same offset of every window at once, so memory stays O(output).
    span_h, span_w = (out_h - 1) * sh + 1, (out_w - 1) * sw + 1
    best = best_offset = count = None
    for i in range(ph):
        for j in range(pw):
            candidate = data[i:i + span_h:sh, j:j + span_w:sw]
            if best is None:
                best = candidate.copy()
                best_offset = np.zeros(best.shape, dtype=np.intp)
                continue
            if mode == "average":
                best += candidate
            else:
                better = candidate > best if mode == "max" else candidate < best
                np.copyto(best, candidate, where=better)
                np.copyto(best_offset, i * pw + j, where=better)
    kept_rows = kept_cols = None
    if mode == "average":
        if top or bottom or left or right:
            ones = np.pad(np.ones((h, w)), pad_width[:2])
            count = sum(ones[i:i + span_h:sh, j:j + span_w:sw] for i in range(ph) for j in range(pw))
            best /= count if array.ndim == 2 else count[..., None]
        else:
            best /= ph * pw
    else:
        starts_r = np.arange(out_h) * sh - top
        starts_c = np.arange(out_w) * sw - left
        extra = (None,) * (array.ndim - 2)
        kept_rows = starts_r[(slice(None), None, *extra)] + best_offset // pw
        kept_cols = starts_c[(None, slice(None), *extra)] + best_offset % pw
    return Pooled(
        values=best, kept_rows=kept_rows, kept_cols=kept_cols, mode=mode,
        pool_size=(ph, pw), strides=(sh, sw), padding=padding,
        pad=(top, bottom, left, right), input_shape=tuple(array.shape),
    )


def max_pool(image, pool_size=2, *, strides=None, padding: str = "valid") -> np.ndarray:
    """Largest value of every window (float64); see :func:`pool2d`."""
    return pool2d(image, mode="max", pool_size=pool_size, strides=strides, padding=padding).values


def average_pool(image, pool_size=2, *, strides=None, padding: str = "valid") -> np.ndarray:
    """Mean of every window (float64; padded cells not counted); see :func:`pool2d`."""
    return pool2d(image, mode="average", pool_size=pool_size, strides=strides, padding=padding).values


def min_pool(image, pool_size=2, *, strides=None, padding: str = "valid") -> np.ndarray:
    """Smallest value of every window (float64); see :func:`pool2d`."""
    return pool2d(image, mode="min", pool_size=pool_size, strides=strides, padding=padding).values


# --------------------------------------------------------------------------
# For the page: a window's story, and a small CNN's shapes
# --------------------------------------------------------------------------


def describe_window(pooled: Pooled, image: np.ndarray, row: int, col: int) -> dict:
    """What output cell (row, col) of a 2-D pooling did, for showing to students.

    Returns the window's bounds ``(r0, r1, c0, c1)``, its ``values`` (a copy of
    ``image[r0:r1, c0:c1]``), the ``result``, and for max/min the ``kept``
    (row, column) in the image.
    """
    r0, r1, c0, c1 = pooled.window(row, col)
    result = float(pooled.values[row, col])
    kept = None
    if pooled.kept_rows is not None:
        kept = (int(pooled.kept_rows[row, col]), int(pooled.kept_cols[row, col]))
    return {"bounds": (r0, r1, c0, c1), "values": np.array(image[r0:r1, c0:c1]), "result": result, "kept": kept}


def highlight_window(image: np.ndarray, bounds: tuple[int, int, int, int], *,
                     color=(230, 30, 30), thickness: int | None = None) -> np.ndarray:
    """An RGB uint8 copy of a grayscale image with a coloured frame around rows r0:r1, columns c0:c1.

    The frame is drawn just outside the window where there is room, so the
    window's own pixels stay visible.
    """
    gray = np.clip(np.asarray(image), 0, 255).astype(np.uint8)
    rgb = np.repeat(gray[..., None], 3, axis=2)
    h, w = gray.shape
    t = thickness if thickness is not None else max(1, max(h, w) // 64)
    r0, r1, c0, c1 = bounds
    top, bottom, left, right = max(r0 - t, 0), min(r1 + t, h), max(c0 - t, 0), min(c1 + t, w)
    frame = np.zeros((h, w), dtype=bool)
    frame[top:bottom, left:right] = True
    frame[r0:r1, c0:c1] = False
    if not frame.any():  # the window is the whole image: draw on its edge
        frame[top:bottom, left:right] = True
        frame[top + t:bottom - t, left + t:right - t] = False
    rgb[frame] = color
    return rgb


def conv_pool_stages(image: np.ndarray, convolve: Callable[[np.ndarray], np.ndarray], *,
                     stages: int = 2, pool_size: int = 2) -> list[tuple[str, np.ndarray]]:
    """The maps a small CNN makes: ``stages`` times convolve, then max-pool.

    ``convolve`` maps a 2-D array to a 2-D array (e.g. a 3x3 "valid"
    convolution: 28 -> 26). Returns [(name, map), ...] starting with the input;
    stops early when a map is too small to pool.
    """
    if stages < 1:
        raise ValueError(f"stages must be at least 1, got {stages}")
    maps = [("Input", np.asarray(image, dtype=np.float64))]
    current = maps[0][1]
    for k in range(1, stages + 1):
        current = np.asarray(convolve(current), dtype=np.float64)
        maps.append((f"Conv {k}", current))
        if min(current.shape[:2]) < pool_size:
            break
        current = max_pool(current, pool_size)
        maps.append((f"Pool {k}", current))
    return maps


def cnn_input(image: np.ndarray, *, side: int = 28) -> np.ndarray:
    """A grayscale image shrunk (anti-aliased) to ``side`` x ``side`` uint8, the size of the course's CNN input."""
    from skimage.transform import resize

    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"expected a grayscale (H, W) image, got shape {image.shape}")
    small = resize(image, (side, side), anti_aliasing=image.shape[0] > side or image.shape[1] > side,
                   preserve_range=True)
    return np.clip(np.rint(small), 0, 255).astype(np.uint8)
