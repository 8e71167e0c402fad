"""One edit of a pixel grid, as the browser sends it, checked and applied to a matrix.

The pixel-grid component (:mod:`cnnviz.ui.pixel_grid`) sends one message per paint stroke,
typed value or undo: ``{"id": 7, "cells": [[row, column, value], ...]}``. A value is a number
(painted) or the text a student typed. Everything in the message comes from the browser, so
nothing in it is trusted: rows and columns must be whole numbers inside the matrix, values
must read as finite numbers; numbers outside the allowed range are clipped, fractions are
rounded where only whole numbers are allowed. Every fix is reported in words, naming the cell;
a cell that cannot be read keeps its value, so the last good matrix stays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

MAX_TEXT = 40
"""Longest typed value read (longer text is refused as not a number, and shown shortened)."""


@dataclass(frozen=True)
class GridLimits:
    """What a grid's cells may hold: ``low``..``high``, whole numbers or not.

    ``first_index`` is how the grid counts rows and columns in messages (0 as numpy does for
    images, 1 for kernels, whose grid is labelled from 1).
    """

    low: float = 0.0
    high: float = 255.0
    whole: bool = True
    first_index: int = 0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"GridLimits needs finite low < high, got {self.low!r}..{self.high!r}")

    def describe(self) -> str:
        """The range in words, e.g. ``0 to 255``."""
        return f"{_number(self.low)} to {_number(self.high)}"


PIXEL_LIMITS = GridLimits()
"""A grayscale or colour channel pixel: a whole number from 0 to 255."""


@dataclass(frozen=True)
class GridEdit:
    """The matrix after one edit, the fixes in words, and how many cells changed value."""

    matrix: np.ndarray
    messages: list[str] = field(default_factory=list)
    changed: int = 0
    edit_id: int | None = None


def _number(value: float) -> str:
    """A value as the grid shows it: ``3``, ``-0.25``, ``0.111111``."""
    return str(int(value)) if value == int(value) and abs(value) < 1e15 else f"{value:.6g}"


def read_value(value) -> float | None:
    """A cell value from the browser as a float: a number, or text such as ``12``, ``-0.5``,
    ``1/9``, ``1e3``; None when it is not a finite number.

    >>> read_value("1/9") == 1 / 9, read_value(" 7 "), read_value("lots"), read_value(True)
    (True, 7.0, None, None)
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text or len(text) > MAX_TEXT:
            return None
        try:
            number = float(Fraction(text)) if "/" in text else float(text)
        except (ValueError, ZeroDivisionError, OverflowError):
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _shown(value) -> str:
    """What the student sent, quoted for a message (shortened when long)."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return "an empty cell"
        return repr(text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…")
    text = repr(value)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"


def _index(value, size: int) -> int | None:
    """A row or column index from the browser, or None when it is not a whole number in 0..size-1."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and 0 <= value < size else None


def apply_edit(matrix: np.ndarray, message, limits: GridLimits = PIXEL_LIMITS) -> GridEdit:
    """``matrix`` with the cells of one grid edit ``message`` written in, checked against ``limits``.

    Never raises for a bad message: what cannot be used is left out and reported. The input
    matrix is not changed; the result has the same shape and dtype.

    >>> edit = apply_edit(np.zeros((2, 2), np.uint8), {"id": 1, "cells": [[0, 1, "300"], [1, 0, "x"]]})
    >>> edit.matrix.tolist(), edit.changed
    ([[0, 255], [0, 0]], 1)
    >>> print(*edit.messages, sep=chr(10))
    Row 0, column 1: 300 is outside 0..255; clipped to 255.
    Row 1, column 0: 'x' is not a number from 0 to 255; kept 0.
    """
    matrix = np.asarray(matrix)
    if matrix.ndim != 2:
        raise ValueError(f"a grid edits a 2-D matrix, got shape {matrix.shape}")
    result = matrix.copy()
    if not isinstance(message, dict) or not isinstance(message.get("cells"), list):
        return GridEdit(result, ["The grid sent an edit that could not be read; nothing was changed."])
    edit_id = message.get("id")
    edit_id = edit_id if isinstance(edit_id, int) and not isinstance(edit_id, bool) else None
    cells = message["cells"]
    rows, cols = matrix.shape
    if len(cells) > rows * cols:
        too_many = f"The edit names {len(cells)} cells but the matrix has only {rows * cols}; nothing was changed."
        return GridEdit(result, [too_many], edit_id=edit_id)
    first = limits.first_index
    messages: list[str] = []
    outside = 0
    changed: set[tuple[int, int]] = set()
    for cell in cells:
        if not isinstance(cell, (list, tuple)) or len(cell) != 3:
            outside += 1
            continue
        r, c = _index(cell[0], rows), _index(cell[1], cols)
        if r is None or c is None:
            outside += 1
            continue
        where = f"Row {r + first}, column {c + first}"
        raw = cell[2]
        value = read_value(raw)
        if value is None:
            messages.append(f"{where}: {_shown(raw)} is not a number from {limits.describe()}; "
                            f"kept {_number(float(result[r, c]))}.")
            continue
        typed = raw.strip() if isinstance(raw, str) else _number(value)
        clipped = min(max(value, limits.low), limits.high)
        new = float(np.rint(clipped)) if limits.whole else clipped
        if clipped != value:
            messages.append(f"{where}: {typed} is outside {_number(limits.low)}..{_number(limits.high)}; "
                            f"clipped to {_number(new)}.")
        elif new != value:
            messages.append(f"{where}: {typed} is not a whole number; rounded to {_number(new)}.")
        if result[r, c] != new:
            result[r, c] = new
            changed.add((r, c))
    if outside:
        messages.append(f"{outside} cell{'s' if outside > 1 else ''} of the edit named no cell of this "
                        f"{rows}x{cols} matrix; left out.")
    return GridEdit(result, messages, len(changed), edit_id)
