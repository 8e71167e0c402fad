"""Where one output pixel of a convolution comes from: its window, products and sum, the
output filling in step by step, and the result drawn on the input's grid.

These explain :func:`cnnviz.core.convolution.correlate2d` to a student; they compute
nothing the fast path does not, one pixel (or one small image) at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz.core.convolution import (
    ConvolutionSettings,
    anchor,
    applied_kernel,
    check_kernel,
    correlate2d,
    input_centre,
    map_output,
    normalise_factor,
    output_shape,
    padded_index,
)


@dataclass
class PixelArithmetic:
    """Everything behind one output pixel: the window, the products and how they become a value."""

    row: int
    col: int
    centre: tuple[int, int]
    window: np.ndarray | None  # (rows, cols) input values under the kernel (None: border kept)
    inside: np.ndarray | None  # True where the window lies on the image (False: padding)
    kernel: np.ndarray  # the kernel as applied (flipped for true convolution)
    products: np.ndarray | None
    total: float | None
    factor: float
    raw: float
    shown: float
    border_kept: bool


def pixel_arithmetic(image, settings: ConvolutionSettings, row: int, col: int,
                     *, channel: int | None = None) -> PixelArithmetic:
    """The course's multiply-add lines for output pixel (row, col), made explicit.

    For a colour image give ``channel`` (with channels="separate"), or leave it None to
    explain the channel sum on a grayscale version is not attempted: the page shows gray inputs.
    """
    image = np.asarray(image)
    plane = image if image.ndim == 2 else image[..., channel or 0]
    kernel = check_kernel(settings.kernel)
    kr, kc = kernel.shape
    rows, cols = output_shape(plane.shape, kernel.shape, padding=settings.padding, stride=settings.stride)
    if not (0 <= row < rows and 0 <= col < cols):
        raise ValueError(f"output pixel ({row}, {col}) is outside the {rows}x{cols} result")
    cr, cc = input_centre(row, col, kernel.shape, padding=settings.padding, stride=settings.stride,
                          flip=settings.flip, image_shape=plane.shape)
    applied = applied_kernel(kernel, flip=settings.flip)
    ar, ac = anchor(kernel.shape, flip=settings.flip)
    factor = normalise_factor(kernel, weight=settings.weight, normalise=settings.normalise)
    h, w = plane.shape
    fits = ar <= cr < h - (kr - 1 - ar) and ac <= cc < w - (kc - 1 - ac)
    if settings.padding == "course" and not fits:
        raw = float(plane[cr, cc])
        shown = float(map_output(np.array([raw]), mapping=settings.mapping)[0]) \
            if settings.mapping != "rescale" else raw
        return PixelArithmetic(row, col, (cr, cc), None, None, applied, None, None, factor, raw, shown, True)
    window = np.zeros((kr, kc), dtype=np.float64)
    inside = np.zeros((kr, kc), dtype=bool)
    for a in range(kr):
        for b in range(kc):
            i = padded_index(cr + a - ar, h, settings.padding)
            j = padded_index(cc + b - ac, w, settings.padding)
            inside[a, b] = 0 <= cr + a - ar < h and 0 <= cc + b - ac < w
            window[a, b] = 0.0 if i is None or j is None else float(plane[i, j])
    products = window * applied
    total = float(products.sum())
    raw = total * factor
    shown = raw if settings.mapping in ("signed", "rescale") else float(
        map_output(np.array([raw]), mapping=settings.mapping)[0])
    return PixelArithmetic(row, col, (cr, cc), window, inside, applied, products, total, factor, raw, shown, False)


def sliding_steps(image, settings: ConvolutionSettings) -> list[tuple[int, int, np.ndarray]]:
    """The output filling in one kernel position at a time: (row, col, output so far) per step.

    Cells not computed yet are NaN. Meant for small images (the 10x10 matrix), not 512x512.
    Border pixels kept by the course's padding are filled in first (they need no arithmetic).
    """
    plane = np.asarray(image)
    if plane.ndim != 2:
        raise ValueError(f"sliding_steps takes a grayscale (H, W) image, got shape {plane.shape}")
    raw = correlate2d(plane, settings.kernel, **{**settings.correlate_options(), "channels": "separate"})
    shown = map_output(raw, mapping=settings.mapping).astype(np.float64)
    partial = np.full(raw.shape, np.nan)
    steps = []
    if settings.padding == "course":
        kr, kc = settings.kernel.shape
        ar, ac = anchor(settings.kernel.shape, flip=settings.flip)
        h, w = plane.shape
        rr, cc = np.mgrid[0:raw.shape[0], 0:raw.shape[1]] * settings.stride
        border = ~((rr >= ar) & (rr < h - (kr - 1 - ar)) & (cc >= ac) & (cc < w - (kc - 1 - ac)))
        partial[border] = shown[border]
    else:
        border = np.zeros(raw.shape, dtype=bool)
    for r in range(raw.shape[0]):
        for c in range(raw.shape[1]):
            if border[r, c]:
                continue
            partial[r, c] = shown[r, c]
            steps.append((r, c, partial.copy()))
    return steps



def align_to_input(shown: np.ndarray, image_shape, settings: ConvolutionSettings,
                   *, fill=(214, 222, 235)) -> np.ndarray:
    """The result drawn on the input's grid, so both can be shown side by side at one scale.

    Each output pixel covers ``stride`` x ``stride`` input pixels; a "valid" result is shifted
    by the kernel's anchor so every output pixel sits on the input pixel it was computed for.
    Where there is no output (valid padding), the canvas shows ``fill`` (a light blue-grey).
    Returns (H, W, 3) uint8.
    """
    shown = np.asarray(shown, dtype=np.uint8)
    if settings.stride == 1 and settings.padding != "valid" and shown.shape[:2] == tuple(image_shape[:2]):
        return shown  # nothing to stretch or fill: the result already sits on the input's grid
    rgb = shown if shown.ndim == 3 else np.repeat(shown[..., None], 3, axis=2)
    s = settings.stride
    big = rgb.repeat(s, axis=0).repeat(s, axis=1)
    h, w = image_shape[:2]
    canvas = np.empty((h, w, 3), dtype=np.uint8)
    canvas[:] = fill
    top, left = anchor(settings.kernel.shape, flip=settings.flip) if settings.padding == "valid" else (0, 0)
    rows, cols = min(big.shape[0], h - top), min(big.shape[1], w - left)
    canvas[top:top + rows, left:left + cols] = big[:rows, :cols]
    return canvas


def output_pixel_at(row: int, col: int, image_shape, settings: ConvolutionSettings) -> tuple[int, int]:
    """The output pixel drawn at input pixel (row, col) by :func:`align_to_input` (clamped to the result)."""
    top, left = anchor(settings.kernel.shape, flip=settings.flip) if settings.padding == "valid" else (0, 0)
    rows, cols = output_shape(image_shape, settings.kernel.shape, padding=settings.padding, stride=settings.stride)
    r = min(max((int(row) - top) // settings.stride, 0), rows - 1)
    c = min(max((int(col) - left) // settings.stride, 0), cols - 1)
    return r, c

