"""A layer's values as one picture (numpy + Pillow), and which value a click on it lands on.

The whole forward pass is one picture per layer, not hundreds of Plotly subplots: the 64 maps
of a conv layer side by side in a compact grid, a vector (flatten, dense) as a grid of cells
read row by row, the class probabilities as labelled bars. :class:`Mosaic` remembers where
every value was drawn, so a click (x, y on the picture) finds its map, row and column.
Colours: one signed scale per layer (white 0, red positive, blue negative; the layer's largest
absolute value at the ends), the input in gray.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from cnnviz.core.palette import WINDOW_COLOR, rgb
from cnnviz.core.rendering import signed_rgb

GAP = 2
"""Pixels between two maps of a mosaic."""
BACKGROUND = (236, 239, 244)
"""What shows between the maps, and in the cells after a vector's last value."""
TARGET_WIDTH = 330
"""About how wide a mosaic is drawn (it is then stretched to its column)."""


@dataclass(frozen=True)
class Mosaic:
    """Where a layer's values are drawn: ``count`` maps of ``map_shape`` in a grid of ``columns``,
    each value ``scale`` pixels, ``GAP`` pixels between maps. A vector is one map read row by row
    (``length`` values)."""

    count: int
    map_shape: tuple[int, int]
    columns: int
    scale: int
    length: int | None = None

    @property
    def grid_rows(self) -> int:
        return -(-self.count // self.columns)

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the picture in pixels."""
        h, w = self.map_shape
        return (self.grid_rows * (h * self.scale + GAP) - GAP, self.columns * (w * self.scale + GAP) - GAP)

    def cell_at(self, x: float, y: float) -> tuple[int, int, int] | None:
        """(map, row, column) drawn at pixel (x, y) of the picture, or None (a gap, outside, no value)."""
        h, w = self.map_shape
        step_y, step_x = h * self.scale + GAP, w * self.scale + GAP
        if x < 0 or y < 0:
            return None
        grid_r, inner_y = divmod(int(y), step_y)
        grid_c, inner_x = divmod(int(x), step_x)
        if grid_c >= self.columns or inner_y >= h * self.scale or inner_x >= w * self.scale:
            return None
        index = grid_r * self.columns + grid_c
        row, col = inner_y // self.scale, inner_x // self.scale
        if index >= self.count:
            return None
        if self.length is not None and row * w + col >= self.length:
            return None
        return index, int(row), int(col)

    def top_left(self, index: int) -> tuple[int, int]:
        """Pixel (y, x) of map ``index``'s top-left corner."""
        h, w = self.map_shape
        grid_r, grid_c = divmod(index, self.columns)
        return grid_r * (h * self.scale + GAP), grid_c * (w * self.scale + GAP)


def layer_limit(values) -> float:
    """The end of a layer's colour scale: its largest absolute value (a tiny positive number if all are 0)."""
    return max(float(np.abs(np.asarray(values, dtype=np.float64)).max(initial=0.0)), 1e-9)


def colours(values, *, limit: float, gray: bool = False) -> np.ndarray:
    """(…, 3) uint8: gray 0..limit (the input), else the signed scale with ``limit`` at its ends."""
    values = np.asarray(values, dtype=np.float64)
    if gray:
        level = np.clip(np.rint(values / limit * 255.0), 0, 255).astype(np.uint8)
        return np.repeat(level[..., None], 3, axis=-1)
    return signed_rgb(values, limit=limit)


def map_columns(count: int) -> int:
    """Columns of a compact grid of ``count`` maps (64 -> 8, 32 -> 6, 10 -> 4, 1 -> 1)."""
    return max(1, int(np.ceil(np.sqrt(count))))


def map_mosaic(maps, *, limit: float | None = None, gray: bool = False, columns: int | None = None,
               width: int = TARGET_WIDTH) -> tuple[np.ndarray, Mosaic]:
    """Every map of an (H, W, C) layer output in one (height, width, 3) uint8 picture, and its Mosaic."""
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim == 2:
        maps = maps[..., None]
    if maps.ndim != 3 or maps.size == 0:
        raise ValueError(f"expected (H, W, C) maps, got shape {maps.shape}")
    h, w, count = maps.shape
    columns = columns or map_columns(count)
    scale = max(1, (width - GAP * (columns - 1)) // (columns * w))
    mosaic = Mosaic(count, (h, w), columns, scale)
    picture = np.empty((*mosaic.size, 3), dtype=np.uint8)
    picture[:] = BACKGROUND
    cells = colours(maps, limit=limit if limit is not None else layer_limit(maps), gray=gray)
    for index in range(count):
        y, x = mosaic.top_left(index)
        block = cells[:, :, index].repeat(scale, axis=0).repeat(scale, axis=1)
        picture[y:y + h * scale, x:x + w * scale] = block
    return picture, mosaic


def vector_mosaic(values, *, limit: float | None = None, columns: int | None = None,
                  width: int = TARGET_WIDTH, max_scale: int = 28) -> tuple[np.ndarray, Mosaic]:
    """A vector (flatten, dense) as a grid of cells read row by row, and its Mosaic (value = row * columns + column)."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    n = values.size
    columns = columns or max(1, int(np.ceil(np.sqrt(n))))
    rows = -(-n // columns)
    scale = max(1, min(max_scale, width // columns))
    mosaic = Mosaic(1, (rows, columns), 1, scale, length=n)
    grid = np.zeros(rows * columns)
    grid[:n] = values
    cells = colours(grid.reshape(rows, columns), limit=limit if limit is not None else layer_limit(values))
    cells.reshape(-1, 3)[n:] = BACKGROUND
    picture = cells.repeat(scale, axis=0).repeat(scale, axis=1)
    if scale >= 6:  # a thin white line between cells, so each value is a cell one can aim at
        picture[scale - 1::scale, :] = 255
        picture[:, scale - 1::scale] = 255
    return np.ascontiguousarray(picture), mosaic


@functools.lru_cache(maxsize=4)
def _font(size: int):
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


PROBABILITY_ROW = 30
"""Height in pixels of one class's row in the probability picture."""


def probability_picture(probabilities, names, *, width: int = 240, bar_colour=(31, 95, 191)) -> np.ndarray:
    """The class probabilities as labelled horizontal bars, one row of :data:`PROBABILITY_ROW` pixels
    per class (a click's y // PROBABILITY_ROW is the class)."""
    from PIL import Image, ImageDraw

    probabilities = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    picture = Image.new("RGB", (width, PROBABILITY_ROW * len(probabilities)), "white")
    draw = ImageDraw.Draw(picture)
    label_w, bar_w = int(width * 0.40), int(width * 0.34)
    for k, (p, name) in enumerate(zip(probabilities, names)):
        top = k * PROBABILITY_ROW
        if k % 2:
            draw.rectangle((0, top, width, top + PROBABILITY_ROW - 1), fill=(246, 248, 251))
        draw.text((4, top + PROBABILITY_ROW / 2), str(name), fill=(17, 17, 17), font=_font(14), anchor="lm")
        draw.rectangle((label_w, top + 7, label_w + max(1, round(bar_w * float(p))), top + PROBABILITY_ROW - 8),
                       fill=bar_colour)
        draw.text((width - 4, top + PROBABILITY_ROW / 2), f"{p:.1%}", fill=(17, 17, 17), font=_font(14), anchor="rm")
    return np.asarray(picture)


def zoomed_map(values, *, limit: float, gray: bool = False, selected: tuple[int, int] | None = None,
               window: tuple[int, int, int, int] | None = None, scale: int = 12) -> np.ndarray:
    """One 2-D map enlarged (``scale`` pixels a value), the ``selected`` cell framed, and a ``window``
    (r0, r1, c0, c1) outlined, as (H, W, 3) uint8."""
    from PIL import Image, ImageDraw

    values = np.asarray(values, dtype=np.float64)
    picture = Image.fromarray(colours(values, limit=limit, gray=gray).repeat(scale, axis=0).repeat(scale, axis=1))
    draw = ImageDraw.Draw(picture)
    if window is not None:
        r0, r1, c0, c1 = window
        draw.rectangle((c0 * scale, r0 * scale, c1 * scale - 1, r1 * scale - 1), outline=rgb(WINDOW_COLOR), width=2)
    if selected is not None:
        r, c = selected
        draw.rectangle((c * scale, r * scale, (c + 1) * scale - 1, (r + 1) * scale - 1), outline=(0, 0, 0), width=2)
        draw.rectangle((c * scale + 2, r * scale + 2, (c + 1) * scale - 3, (r + 1) * scale - 3),
                       outline=(255, 255, 255), width=1)
    return np.asarray(picture)
