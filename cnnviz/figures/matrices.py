"""Matrices and images as figures: pixels with their numbers, with hover values."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cnnviz.core.palette import GRAY_COLORSCALE
from cnnviz.figures.layout import FONT_SIZE, SHOW_VALUES_MAX_SIDE, fast_figure, square_layout_spec


def matrix_heatmap(
    matrix: np.ndarray,
    *,
    title: str | None = None,
    show_values: bool | None = None,
    zmin: float | None = 0,
    zmax: float | None = 255,
    colorscale=GRAY_COLORSCALE,
    height: int | None = None,
    origin: tuple[int, int] = (0, 0),
    value_format: str = "",
    showscale: bool = False,
) -> go.Figure:
    """A 2-D matrix as a heatmap: hover gives row, column and value; small ones print the numbers.

    ``origin`` is the (row, column) of the top-left cell, so a crop keeps the
    coordinates it has in the full image.
    """
    matrix = np.asarray(matrix)
    if matrix.ndim != 2:
        raise ValueError(f"expected a 2-D matrix, got shape {matrix.shape}")
    rows, cols = matrix.shape
    if show_values is None:
        show_values = max(rows, cols) <= SHOW_VALUES_MAX_SIDE
    r0, c0 = origin
    trace = dict(
        type="heatmap",
        z=matrix,
        x=np.arange(c0, c0 + cols),
        y=np.arange(r0, r0 + rows),
        zmin=zmin,
        zmax=zmax,
        colorscale=colorscale,
        showscale=showscale,
        hovertemplate="row %{y}, column %{x}<br>value %{z" + value_format + "}<extra></extra>",
        xgap=1 if show_values else 0,
        ygap=1 if show_values else 0,
    )
    if show_values:
        trace.update(texttemplate="%{z" + value_format + "}", textfont=dict(size=max(8, FONT_SIZE - cols // 4)))
    layout = square_layout_spec(title=title, height=height, unit_ticks=max(rows, cols) <= 16)
    return fast_figure([trace], layout)


def rgb_figure(
    image: np.ndarray,
    *,
    title: str | None = None,
    show_values: bool | None = None,
    height: int | None = None,
    origin: tuple[int, int] = (0, 0),
) -> go.Figure:
    """An (H, W, 3) uint8 image: hover gives row, column and R, G, B; small ones print them."""
    image = np.asarray(image, dtype=np.uint8)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) image, got shape {image.shape}")
    rows, cols = image.shape[:2]
    if show_values is None:
        show_values = max(rows, cols) <= 8
    r0, c0 = origin
    data = [dict(type="image", z=image, x0=c0, y0=r0,
                 hovertemplate="row %{y}, column %{x}<br>R %{z[0]}, G %{z[1]}, B %{z[2]}<extra></extra>")]
    if show_values:
        rr, cc = np.mgrid[0:rows, 0:cols]
        luma = image[..., :3] @ np.array([0.299, 0.587, 0.114])
        data.append(dict(
            type="scatter", x=(cc + c0).ravel(), y=(rr + r0).ravel(), mode="text",
            text=[f"{r}<br>{g}<br>{b}" for r, g, b in image.reshape(-1, 3)],
            textfont=dict(size=FONT_SIZE if max(rows, cols) <= 4 else 10,
                          color=["black" if v > 140 else "white" for v in luma.ravel()]),
            hoverinfo="skip", showlegend=False,
        ))
    return fast_figure(data, square_layout_spec(title=title, height=height, unit_ticks=max(rows, cols) <= 16))


def image_figure(image: np.ndarray, **kwargs) -> go.Figure:
    """Grayscale (H, W) or colour (H, W, 3) uint8 image, with the matching figure builder."""
    image = np.asarray(image)
    return matrix_heatmap(image, **kwargs) if image.ndim == 2 else rgb_figure(image, **kwargs)
