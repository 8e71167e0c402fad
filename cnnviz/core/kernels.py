"""Kernel presets (each with what it does and why) and reading kernels people type.

Every preset is defined here once, as a named constant, and listed in
:data:`PRESETS`. Blur kernels are written with whole numbers and marked
``normalise=True``: dividing by their sum keeps the image's brightness.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

import numpy as np

from cnnviz.core.convolution import COURSE_KERNEL, MAX_KERNEL_SIDE


def _const(rows) -> np.ndarray:
    array = np.array(rows, dtype=np.float64)
    array.setflags(write=False)
    return array


IDENTITY = _const([[0, 0, 0], [0, 1, 0], [0, 0, 0]])
COURSE_HORIZONTAL = COURSE_KERNEL
COURSE_VERTICAL = _const([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
SOBEL_X = COURSE_VERTICAL
SOBEL_Y = COURSE_HORIZONTAL
PREWITT_X = _const([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]])
PREWITT_Y = _const(PREWITT_X.T)
SCHARR_X = _const([[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]])
SCHARR_Y = _const(SCHARR_X.T)
LAPLACIAN_4 = _const([[0, 1, 0], [1, -4, 1], [0, 1, 0]])
LAPLACIAN_8 = _const([[1, 1, 1], [1, -8, 1], [1, 1, 1]])
BOX_3 = _const(np.ones((3, 3)))
BOX_5 = _const(np.ones((5, 5)))
_BINOMIAL_3 = np.array([1, 2, 1])
_BINOMIAL_5 = np.array([1, 4, 6, 4, 1])
GAUSSIAN_3 = _const(np.outer(_BINOMIAL_3, _BINOMIAL_3))
GAUSSIAN_5 = _const(np.outer(_BINOMIAL_5, _BINOMIAL_5))
SHARPEN = _const([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
UNSHARP_5 = _const(-GAUSSIAN_5 + np.pad([[512]], 2))
EMBOSS = _const([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])
OUTLINE = LAPLACIAN_8 * -1
OUTLINE.setflags(write=False)


@dataclass(frozen=True)
class Preset:
    """A named kernel with a one-line explanation of what it does and why."""

    label: str
    kernel: np.ndarray
    explanation: str
    normalise: bool = False


PRESETS: dict[str, Preset] = {
    "identity": Preset(
        "Identity", IDENTITY,
        "Only the centre is 1: every output pixel is the input pixel, so nothing changes."),
    "course_horizontal": Preset(
        "Course: horizontal edges", COURSE_HORIZONTAL,
        "The course's kernel: row below minus row above, so it lights up where brightness "
        "changes from top to bottom (horizontal edges)."),
    "course_vertical": Preset(
        "Course: vertical edges", COURSE_VERTICAL,
        "The course's second kernel: right column minus left column, so it lights up where "
        "brightness changes from left to right (vertical edges)."),
    "sobel_x": Preset(
        "Sobel x (vertical edges)", SOBEL_X,
        "Right minus left, with the middle row counted twice: a smoothed left-to-right "
        "difference (the same numbers as the course's vertical kernel)."),
    "sobel_y": Preset(
        "Sobel y (horizontal edges)", SOBEL_Y,
        "Bottom minus top, with the middle column counted twice: a smoothed top-to-bottom "
        "difference (the same numbers as the course's kernel)."),
    "prewitt_x": Preset(
        "Prewitt x (vertical edges)", PREWITT_X,
        "Right column minus left column, all rows equal: a plain left-to-right difference."),
    "prewitt_y": Preset(
        "Prewitt y (horizontal edges)", PREWITT_Y,
        "Bottom row minus top row, all columns equal: a plain top-to-bottom difference."),
    "scharr_x": Preset(
        "Scharr x (vertical edges)", SCHARR_X,
        "Like Sobel with weights 3-10-3, chosen so edges at every angle are measured more evenly."),
    "scharr_y": Preset(
        "Scharr y (horizontal edges)", SCHARR_Y,
        "Scharr's top-to-bottom version: bottom minus top with weights 3-10-3."),
    "laplacian_4": Preset(
        "Laplacian (4 neighbours)", LAPLACIAN_4,
        "Four neighbours minus four times the centre: 0 on flat areas and smooth slopes, "
        "large where brightness bends (edges in every direction)."),
    "laplacian_8": Preset(
        "Laplacian (8 neighbours)", LAPLACIAN_8,
        "All eight neighbours minus eight times the centre: like the 4-neighbour one, "
        "also reacting to diagonal edges."),
    "box_3": Preset(
        "Box blur 3x3", BOX_3,
        "Every pixel becomes the average of its 3x3 neighbourhood: details smear out. "
        "Normalised (divided by 9) so brightness stays the same.", normalise=True),
    "box_5": Preset(
        "Box blur 5x5", BOX_5,
        "The average of a 5x5 neighbourhood: a stronger blur. Normalised (divided by 25).",
        normalise=True),
    "gaussian_3": Preset(
        "Gaussian blur 3x3", GAUSSIAN_3,
        "A weighted average, the centre counting most: a softer, more natural blur than the "
        "box. Normalised (divided by 16).", normalise=True),
    "gaussian_5": Preset(
        "Gaussian blur 5x5", GAUSSIAN_5,
        "A wider weighted average (binomial weights 1-4-6-4-1): smooth blur. "
        "Normalised (divided by 256).", normalise=True),
    "sharpen": Preset(
        "Sharpen", SHARPEN,
        "Five times the centre minus its four neighbours: flat areas stay the same (the sum is "
        "1), differences between neighbours are exaggerated."),
    "unsharp_5": Preset(
        "Unsharp mask 5x5", UNSHARP_5,
        "Twice the image minus a Gaussian blur of it: adds back the detail the blur removed. "
        "Normalised (divided by 256).", normalise=True),
    "emboss": Preset(
        "Emboss", EMBOSS,
        "Bottom-right minus top-left: edges facing one way turn bright, the other way dark, "
        "like light falling on a relief."),
    "outline": Preset(
        "Outline", OUTLINE,
        "Eight times the centre minus its eight neighbours: flat areas go black, every outline "
        "turns white."),
}
"""All presets by short name (the names used in shared links)."""

DEFAULT_PRESET = "course_horizontal"


def preset_for(kernel) -> str | None:
    """The name of the preset with exactly this kernel, or None (first match wins)."""
    kernel = np.asarray(kernel, dtype=np.float64)
    for name, preset in PRESETS.items():
        if preset.kernel.shape == kernel.shape and np.array_equal(preset.kernel, kernel):
            return name
    return None


# --------------------------------------------------------------------------
# Typed kernels
# --------------------------------------------------------------------------

MAX_ABS_ENTRY = 1e6
"""Largest magnitude of a kernel entry (beyond it the pictures are meaningless)."""

MAX_TEXT_CHARS = 5000
"""Longest kernel text read (a 15x15 kernel of long decimals fits easily)."""


class KernelError(ValueError):
    """A typed kernel cannot be used; the message says why, in words."""


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_FRACTION = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*/\s*(\d+(?:\.\d*)?|\.\d+)$")


def parse_number(token: str, where: str) -> float:
    """One typed number (decimal, exponent or a fraction like 1/9); KernelError naming ``where``."""
    token = token.strip()
    low = token.lower().lstrip("+-")
    if low in ("nan", "inf", "infinity"):
        raise KernelError(f"{where}: {token!r} is not a finite number (NaN and infinity cannot be used).")
    if _NUMBER.match(token):
        value = float(token)
    elif (fraction := _FRACTION.match(token)) is not None:
        denominator = float(fraction.group(2))
        if denominator == 0:
            raise KernelError(f"{where}: {token!r} divides by zero.")
        value = float(fraction.group(1)) / denominator
    else:
        raise KernelError(f"{where}: {token!r} is not a number.")
    if not math.isfinite(value) or abs(value) > MAX_ABS_ENTRY:
        raise KernelError(f"{where}: {token!r} is too large (at most {MAX_ABS_ENTRY:g} in size).")
    return value


def check_grid(rows: list[list[float]]) -> np.ndarray:
    """A kernel from a list of rows of numbers: rectangular, 1x1..15x15, finite; else KernelError."""
    if not rows or all(len(row) == 0 for row in rows):
        raise KernelError("The kernel is empty: type at least one number.")
    widths = [len(row) for row in rows]
    if len(set(widths)) > 1:
        first = widths[0]
        bad = next(r for r, n in enumerate(widths) if n != first)
        raise KernelError(
            f"Rows have different lengths: row 1 has {first} numbers, row {bad + 1} has {widths[bad]}. "
            "Every row needs the same number of entries."
        )
    if len(rows) > MAX_KERNEL_SIDE or widths[0] > MAX_KERNEL_SIDE:
        raise KernelError(
            f"The kernel is {len(rows)}x{widths[0]}; the largest allowed is "
            f"{MAX_KERNEL_SIDE}x{MAX_KERNEL_SIDE}."
        )
    kernel = np.array(rows, dtype=np.float64)
    for (r, c), value in np.ndenumerate(kernel):
        where = f"Row {r + 1}, column {c + 1}"
        if not math.isfinite(value):
            raise KernelError(f"{where}: {value!r} is not a finite number (NaN and infinity cannot be used).")
        if abs(value) > MAX_ABS_ENTRY:
            raise KernelError(f"{where}: {value:g} is too large (at most {MAX_ABS_ENTRY:g} in size).")
    return kernel


def parse_kernel(text: str) -> np.ndarray:
    """Read a kernel typed as text; raise KernelError with a message naming the problem.

    Accepted: one row per line or rows separated by ``;``, numbers separated by spaces or
    commas, fractions such as ``1/9``; or JSON such as ``[[-1, -2, -1], [0, 0, 0], [1, 2, 1]]``.
    Rows and columns in messages are counted from 1.

    >>> parse_kernel("-1 -2 -1; 0 0 0; 1 2 1").astype(int).tolist()
    [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]
    """
    if text is None or not str(text).strip():
        raise KernelError("The kernel is empty: type at least one number.")
    text = str(text).strip()
    if len(text) > MAX_TEXT_CHARS:
        raise KernelError(f"The text is {len(text)} characters long; a kernel needs at most {MAX_TEXT_CHARS}.")
    if text.startswith("["):
        return _parse_json(text)
    lines = [line.strip().strip(",") for line in re.split(r"[;\n]", text)]
    lines = [line for line in lines if line]
    if not lines:
        raise KernelError("The kernel is empty: type at least one number.")
    if len(lines) > MAX_KERNEL_SIDE:
        raise KernelError(f"The kernel has {len(lines)} rows; the largest allowed is {MAX_KERNEL_SIDE}.")
    rows = []
    for r, line in enumerate(lines):
        tokens = [t for t in re.split(r"[\s,]+", re.sub(r"\s*/\s*", "/", line)) if t]
        if len(tokens) > MAX_KERNEL_SIDE:
            raise KernelError(
                f"Row {r + 1} has {len(tokens)} numbers; the largest allowed is {MAX_KERNEL_SIDE}."
            )
        rows.append([parse_number(t, f"Row {r + 1}, column {c + 1}") for c, t in enumerate(tokens)])
    return check_grid(rows)


def _parse_json(text: str) -> np.ndarray:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KernelError(
            f"This looks like JSON but cannot be read (line {exc.lineno}, character {exc.colno}: {exc.msg})."
        ) from exc
    if isinstance(data, list) and data and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in data):
        data = [data]  # one row written as a flat list
    if not isinstance(data, list) or not all(isinstance(row, list) for row in data):
        raise KernelError("JSON kernels are a list of rows, such as [[-1, -2, -1], [0, 0, 0], [1, 2, 1]].")
    if len(data) > MAX_KERNEL_SIDE or any(len(row) > MAX_KERNEL_SIDE for row in data):
        raise KernelError(f"The kernel is larger than {MAX_KERNEL_SIDE}x{MAX_KERNEL_SIDE}.")
    rows = []
    for r, row in enumerate(data):
        values = []
        for c, value in enumerate(row):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise KernelError(f"Row {r + 1}, column {c + 1}: {json.dumps(value)} is not a number.")
            values.append(float(value))
        rows.append(values)
    return check_grid(rows)


def format_number(value: float) -> str:
    """The shortest text that reads back as exactly this number (2.0 -> "2", 0.1 -> "0.1")."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return np.format_float_positional(value, trim="-") if 1e-4 <= abs(value) < 1e15 else repr(value)


def format_kernel(kernel, *, row_sep: str = "\n", col_sep: str = " ") -> str:
    """Kernel as text that :func:`parse_kernel` reads back exactly (one row per line by default)."""
    kernel = np.asarray(kernel, dtype=np.float64)
    return row_sep.join(col_sep.join(format_number(v) for v in row) for row in kernel)
