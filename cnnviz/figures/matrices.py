"""Matrices and images as figures: pixels with their numbers, kernels, results, pooling windows."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cnnviz.core.palette import GRAY_COLORSCALE, KEPT_COLOR, SIGNED_COLORSCALE, WINDOW_COLOR
from cnnviz.figures.layout import FONT_SIZE, SHOW_VALUES_MAX_SIDE, fast_figure, square_layout, square_layout_spec


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
    fig = go.Figure(
        go.Image(
            z=image,
            x0=c0,
            y0=r0,
            hovertemplate="row %{y}, column %{x}<br>R %{z[0]}, G %{z[1]}, B %{z[2]}<extra></extra>",
        )
    )
    if show_values:
        rr, cc = np.mgrid[0:rows, 0:cols]
        luma = image[..., :3] @ np.array([0.299, 0.587, 0.114])
        fig.add_trace(
            go.Scatter(
                x=(cc + c0).ravel(),
                y=(rr + r0).ravel(),
                mode="text",
                text=[f"{r}<br>{g}<br>{b}" for r, g, b in image.reshape(-1, 3)],
                textfont=dict(
                    size=FONT_SIZE if max(rows, cols) <= 4 else 10,
                    color=["black" if v > 140 else "white" for v in luma.ravel()],
                ),
                hoverinfo="skip",
                showlegend=False,
            )
        )
    fig = square_layout(fig, title=title, height=height)
    if max(rows, cols) <= 16:
        fig.update_xaxes(dtick=1)
        fig.update_yaxes(dtick=1)
    return fig


def image_figure(image: np.ndarray, **kwargs) -> go.Figure:
    """Grayscale (H, W) or colour (H, W, 3) uint8 image, with the matching figure builder."""
    image = np.asarray(image)
    return matrix_heatmap(image, **kwargs) if image.ndim == 2 else rgb_figure(image, **kwargs)


def kernel_figure(kernel: np.ndarray, *, title: str | None = None, height: int | None = None) -> go.Figure:
    """A kernel as a coloured grid with its numbers (blue negative, white 0, red positive)."""
    kernel = np.asarray(kernel, dtype=np.float64)
    limit = max(1e-9, float(np.abs(kernel).max()))
    return matrix_heatmap(kernel, title=title, show_values=True, zmin=-limit, zmax=limit,
                          colorscale=SIGNED_COLORSCALE, value_format=":.4~g",
                          height=height or 90 + 34 * kernel.shape[0] + (50 if title else 0))


def result_heatmap(values: np.ndarray, *, mapping: str, title: str | None = None,
                   origin: tuple[int, int] = (0, 0), height: int | None = None,
                   limit: float | None = None) -> go.Figure:
    """A crop of a convolution result: gray 0..255, or diverging around 0 for signed values."""
    values = np.asarray(values)
    if mapping == "signed":
        limit = limit or max(1.0, float(np.abs(values).max(initial=0.0)))
        return matrix_heatmap(values, title=title, origin=origin, height=height, zmin=-limit, zmax=limit,
                              colorscale=SIGNED_COLORSCALE, value_format=":.4~g")
    return matrix_heatmap(values, title=title, origin=origin, height=height)


def pool_window_figure(
    neighbourhood: np.ndarray,
    *,
    origin: tuple[int, int],
    window: tuple[int, int, int, int],
    kept: tuple[int, int] | None = None,
    title: str | None = None,
    height: int | None = None,
    zmin: float | None = 0,
    zmax: float | None = 255,
    colorscale=GRAY_COLORSCALE,
    value_format: str = "",
) -> go.Figure:
    """A crop of a map with its numbers, one pooling window framed and the kept cell ringed.

    ``origin`` is the crop's top-left (row, column) in the map; ``window`` is
    (r0, r1, c0, c1) and ``kept`` (row, column), both in the map's coordinates.
    """
    fig = matrix_heatmap(neighbourhood, origin=origin, show_values=True, title=title, height=height,
                         zmin=zmin, zmax=zmax, colorscale=colorscale, value_format=value_format)
    r0, r1, c0, c1 = window
    fig.add_shape(type="rect", x0=c0 - 0.5, x1=c1 - 0.5, y0=r0 - 0.5, y1=r1 - 0.5,
                  line=dict(color=WINDOW_COLOR, width=5))
    if kept is not None:
        r, c = kept
        fig.add_shape(type="rect", x0=c - 0.42, x1=c + 0.42, y0=r - 0.42, y1=r + 0.42,
                      line=dict(color=KEPT_COLOR, width=5))
    fig.update_xaxes(dtick=1 if neighbourhood.shape[1] <= 12 else None)
    fig.update_yaxes(dtick=1 if neighbourhood.shape[0] <= 12 else None)
    return fig
