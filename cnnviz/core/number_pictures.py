"""Small matrices drawn as pictures with their numbers in the cells (numpy + Pillow).

The pixel explorer shows 11x11 crops and a kernel's arithmetic on every edit. As
Plotly heatmaps they kept the browser busy for 300-450 ms per edit (text in 121
cells, three charts); as PNG pictures they cost the browser a decode of about 50 kB
and the server a few milliseconds, once per crop for the whole class (cached by
the caller). Row and column numbers are drawn along the top and left edges, so a
crop keeps the coordinates it has in the full image.
"""

from __future__ import annotations

import functools

import numpy as np

from cnnviz.core.palette import KEPT_COLOR, WINDOW_COLOR, rgb
from cnnviz.core.rendering import signed_rgb

CELL = 40
"""Side of one cell, in pixels of the picture."""
LABEL_COLOR = (90, 90, 90)
PANEL_GAP = 64
"""Room between two panels of the arithmetic picture, for the × and = signs."""


@functools.lru_cache(maxsize=8)
def _font(size: int):
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def number_text(value: float) -> str:
    """A cell's number: integers as integers, others with up to 4 significant digits.

    >>> number_text(216.0), number_text(-0.25), number_text(1 / 3)
    ('216', '-0.25', '0.3333')
    """
    value = float(value)
    if value.is_integer() and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.4g}"


def cell_colours(values: np.ndarray, *, signed: bool, limit: float | None = None) -> np.ndarray:
    """(H, W, 3) uint8 colours: gray 0..255 (clipped), or the signed scale centred on 0."""
    values = np.asarray(values, dtype=np.float64)
    if signed:
        return signed_rgb(values, limit=limit)
    gray = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=-1)


def _cell(*matrices: np.ndarray) -> int:
    """One cell side that fits every number of ``matrices`` in the cell font."""
    widest = max(_font(15).getlength(number_text(v)) for m in matrices for v in np.asarray(m).ravel())
    return max(CELL, int(widest) + 12)


@functools.lru_cache(maxsize=4096)
def _glyphs(text: str, size: int):
    """``text`` rendered once as a grayscale mask (a number repeats across cells and pictures)."""
    from PIL import Image, ImageDraw

    left, top, right, bottom = _font(size).getbbox(text)
    mask = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
    ImageDraw.Draw(mask).text((-left, -top), text, fill=255, font=_font(size))
    return mask


def _put(picture, xy: tuple[float, float], text: str, fill, size: int, anchor: str) -> None:
    """Paste ``text`` at ``xy``: anchor "mm" centres it, "ms" centres it above, "rm" ends it there."""
    mask = _glyphs(text, size)
    w, h = mask.size
    x, y = xy
    x = x - w / 2 if anchor[0] == "m" else x - w
    y = y - h / 2 if anchor[1] == "m" else y - h
    picture.paste(fill, (round(x), round(y)), mask)


def _panel(picture, top: int, left: int, values: np.ndarray, colours: np.ndarray, origin, title, cell: int) -> None:
    rows, cols = values.shape
    if title:
        _put(picture, (left + cols * cell / 2, top - 30), title, (17, 17, 17), 15, "ms")
    for c in range(cols):
        _put(picture, (left + c * cell + cell / 2, top - 6), str(origin[1] + c), LABEL_COLOR, 12, "ms")
    cells = np.repeat(np.repeat(np.asarray(colours, np.uint8), cell, axis=0), cell, axis=1)
    for gap in (cell - 2, cell - 1):  # a 2-pixel white gap after every cell
        cells[gap::cell, :] = 255
        cells[:, gap::cell] = 255
    from PIL import Image

    picture.paste(Image.fromarray(cells), (left, top))
    luma = colours @ np.array([0.299, 0.587, 0.114])
    for r in range(rows):
        _put(picture, (left - 6, top + r * cell + cell / 2), str(origin[0] + r), LABEL_COLOR, 12, "rm")
        for c in range(cols):
            ink = (0, 0, 0) if luma[r, c] > 140 else (255, 255, 255)
            _put(picture, (left + c * cell + cell / 2 - 1, top + r * cell + cell / 2 - 1), number_text(values[r, c]),
                 ink, 15, "mm")


def _sign(draw, x: float, y: float, *, times: bool, half: int = 9) -> None:
    """A × or = sign drawn with lines (the built-in font has neither glyph at every size)."""
    ink = dict(fill=(17, 17, 17), width=4)
    if times:
        draw.line((x - half, y - half, x + half, y + half), **ink)
        draw.line((x - half, y + half, x + half, y - half), **ink)
    else:
        draw.line((x - half, y - 5, x + half, y - 5), **ink)
        draw.line((x - half, y + 5, x + half, y + 5), **ink)


def _frame(draw, top: int, left: int, box: tuple[int, int, int, int], colour: str, cell: int, width: int = 4) -> None:
    r0, r1, c0, c1 = box
    draw.rectangle((left + c0 * cell - 2, top + r0 * cell - 2, left + c1 * cell, top + r1 * cell),
                   outline=rgb(colour), width=width)


def matrix_picture(values: np.ndarray, *, origin: tuple[int, int] = (0, 0), signed: bool = False,
                   limit: float | None = None, title: str | None = None,
                   frame: tuple[int, int, int, int] | None = None,
                   ring: tuple[int, int] | None = None) -> np.ndarray:
    """A small matrix as an (H, W, 3) uint8 picture: coloured cells with their numbers.

    ``signed`` colours on the diverging scale (``limit`` at its ends, default the largest
    absolute value), else gray 0..255. ``origin`` numbers the rows and columns; ``frame``
    (r0, r1, c0, c1, in the crop's own cells) is outlined in the window colour, the cell
    ``ring`` (row, column in the crop) in the colour of a kept pooling value.
    """
    from PIL import Image, ImageDraw

    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.size == 0:
        raise ValueError(f"expected a non-empty 2-D matrix, got shape {values.shape}")
    rows, cols = values.shape
    cell, top, left = _cell(values), (64 if title else 26), 40
    picture = Image.new("RGB", (left + cols * cell + 8, top + rows * cell + 8), "white")
    draw = ImageDraw.Draw(picture)
    _panel(picture, top, left, values, cell_colours(values, signed=signed, limit=limit), origin, title, cell)
    if frame is not None:
        _frame(draw, top, left, frame, WINDOW_COLOR, cell)
    if ring is not None:
        r, c = ring
        draw.rectangle((left + c * cell + 3, top + r * cell + 3, left + (c + 1) * cell - 5, top + (r + 1) * cell - 5),
                       outline=rgb(KEPT_COLOR), width=4)
    return np.asarray(picture)


def arithmetic_picture(window: np.ndarray, kernel: np.ndarray, products: np.ndarray,
                       *, origin: tuple[int, int] = (0, 0), window_limit: float | None = None,
                       titles: tuple[str, str, str] = ("input window", "kernel", "products")) -> np.ndarray:
    """Input window × kernel = products, side by side, every cell with its number.

    The window is gray (0..255) and numbered with its input rows and columns; the kernel
    and the products are on the signed scale, each with its own largest absolute value.
    With ``window_limit`` the window is on the signed scale too, with that limit at its ends
    (a network's inputs are 0..1, its maps any size).
    """
    from PIL import Image, ImageDraw

    window, kernel, products = (np.asarray(a, dtype=np.float64) for a in (window, kernel, products))
    rows, cols = kernel.shape
    cell = _cell(window, kernel, products)
    top, left, width = 64, 40, cols * cell
    picture = Image.new("RGB", (left + 3 * width + 2 * PANEL_GAP + 8, top + rows * cell + 8), "white")
    draw = ImageDraw.Draw(picture)
    window_colours = (cell_colours(window, signed=False) if window_limit is None
                      else cell_colours(window, signed=True, limit=max(1e-9, window_limit)))
    panels = ((titles[0], window, origin, window_colours),
              (titles[1], kernel, (0, 0), cell_colours(kernel, signed=True, limit=max(1e-9, np.abs(kernel).max()))),
              (titles[2], products, (0, 0),
               cell_colours(products, signed=True, limit=max(1e-9, np.abs(products).max()))))
    for k, (title, values, where, colours) in enumerate(panels):
        x = left + k * (width + PANEL_GAP)
        _panel(picture, top, x, values, colours, where, title, cell)
        if k:
            _sign(draw, x - PANEL_GAP / 2 - 8, top + rows * cell / 2, times=k == 1)
    return np.asarray(picture)


def stacked(pictures, *, gap: int = 12) -> np.ndarray:
    """RGB pictures one above the other on white, left-aligned, ``gap`` pixels apart: several
    arithmetic pictures sent as one image (one element and one download instead of several)."""
    pictures = [np.asarray(p, dtype=np.uint8) for p in pictures]
    if not pictures:
        raise ValueError("no pictures to stack")
    width = max(p.shape[1] for p in pictures)
    height = sum(p.shape[0] for p in pictures) + gap * (len(pictures) - 1)
    out = np.full((height, width, 3), 255, np.uint8)
    y = 0
    for p in pictures:
        out[y:y + p.shape[0], :p.shape[1]] = p
        y += p.shape[0] + gap
    return out
