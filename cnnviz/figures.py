"""Plotly figure builders. Each function returns a figure; nothing is shown or saved here."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

GRAY_COLORSCALE = "gray"
"""Grayscale images: 0 black, 255 white (as matplotlib's cmap='gray' in the course)."""

SHOW_VALUES_MAX_SIDE = 32
"""Matrices up to this many rows and columns get their numbers printed in the cells."""

FONT_SIZE = 16
"""Base font size of figures: readable on a projector."""


def _square_layout(fig: go.Figure, *, title: str | None, height: int | None) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0.0, xanchor="left") if title else None,
        margin=dict(l=10, r=10, t=70 if title else 30, b=10),
        height=height,
        font=dict(size=FONT_SIZE),
        plot_bgcolor="white",
        hoverlabel=dict(font_size=FONT_SIZE),
    )
    fig.update_xaxes(side="top", showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(autorange="reversed", showgrid=False, zeroline=False, scaleanchor="x", constrain="domain")
    return fig


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
    trace = go.Heatmap(
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
    fig = _square_layout(go.Figure(trace), title=title, height=height)
    if max(rows, cols) <= 16:
        fig.update_xaxes(dtick=1)
        fig.update_yaxes(dtick=1)
    return fig


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
                    size=FONT_SIZE,
                    color=["black" if v > 140 else "white" for v in luma.ravel()],
                ),
                hoverinfo="skip",
                showlegend=False,
            )
        )
    return _square_layout(fig, title=title, height=height)


def image_figure(image: np.ndarray, **kwargs) -> go.Figure:
    """Grayscale (H, W) or colour (H, W, 3) uint8 image, with the matching figure builder."""
    image = np.asarray(image)
    return matrix_heatmap(image, **kwargs) if image.ndim == 2 else rgb_figure(image, **kwargs)


# --------------------------------------------------------------------------
# Training (Train page)
# --------------------------------------------------------------------------

TRAIN_COLOR = "#1f5fbf"
VALIDATION_COLOR = "#d9730d"
"""Training curves in blue, validation curves in orange, on every training figure."""


def training_curves(history: dict[str, list[float]], *, total_epochs: int | None = None,
                    height: int = 380) -> go.Figure:
    """Loss and accuracy per epoch, training (solid) and validation (dashed), side by side.

    ``history`` is Keras' ``History.history`` layout: {"loss": [...],
    "accuracy": [...], "val_loss": [...], "val_accuracy": [...]}. With
    ``total_epochs`` the x axis is fixed to the whole run, so the curves grow
    into it epoch by epoch.
    """
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss (lower is better)",
                                                        "Accuracy (higher is better)"))
    for col, metric in ((1, "loss"), (2, "accuracy")):
        for prefix, name, color, dash in (("", "training", TRAIN_COLOR, "solid"),
                                          ("val_", "validation", VALIDATION_COLOR, "dash")):
            values = history.get(prefix + metric) or []
            fig.add_trace(
                go.Scatter(x=list(range(1, len(values) + 1)), y=values, mode="lines+markers",
                           name=name, legendgroup=name, showlegend=col == 1,
                           line=dict(color=color, dash=dash, width=3),
                           hovertemplate=f"epoch %{{x}}<br>{name} {metric} %{{y:.4f}}<extra></extra>"),
                row=1, col=col)
    if total_epochs:
        fig.update_xaxes(range=[0.5, total_epochs + 0.5])
    fig.update_xaxes(title_text="epoch", dtick=1 if (total_epochs or 0) <= 20 else 5)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=50, b=10),
                      font=dict(size=FONT_SIZE), legend=dict(orientation="h", y=-0.25),
                      plot_bgcolor="white")
    fig.update_yaxes(gridcolor="#e5e5e5")
    return fig


def shift_accuracy_figure(shifts, curves: dict[str, list[float]], *, axis: str = "x",
                          height: int = 380) -> go.Figure:
    """Accuracy against how many pixels the test images were moved, one line per model."""
    fig = go.Figure()
    for name, values in curves.items():
        fig.add_trace(go.Scatter(x=list(shifts), y=values, mode="lines+markers", name=name,
                                 line=dict(width=3),
                                 hovertemplate="shift %{x} px<br>accuracy %{y:.3f}<extra>"
                                 + name + "</extra>"))
    direction = "right" if axis == "x" else "down"
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10),
                      font=dict(size=FONT_SIZE), plot_bgcolor="white",
                      xaxis_title=f"pixels moved {direction} (negative: the other way)",
                      yaxis_title="test accuracy", yaxis_range=[0, 1],
                      legend=dict(orientation="h", y=-0.3))
    fig.update_xaxes(dtick=1, gridcolor="#e5e5e5")
    fig.update_yaxes(gridcolor="#e5e5e5")
    return fig


# --------------------------------------------------------------------------
# Pooling
# --------------------------------------------------------------------------

POOL_WINDOW_COLOR = "#e61e1e"
"""Frame of the pooling window being explained (the same red as the frame drawn on the image)."""

POOL_KEPT_COLOR = "#ffb000"
"""Ring around the cell a max/min pooling window kept."""


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
                  line=dict(color=POOL_WINDOW_COLOR, width=5))
    if kept is not None:
        r, c = kept
        fig.add_shape(type="rect", x0=c - 0.42, x1=c + 0.42, y0=r - 0.42, y1=r + 0.42,
                      line=dict(color=POOL_KEPT_COLOR, width=5))
    fig.update_xaxes(dtick=1 if neighbourhood.shape[1] <= 12 else None)
    fig.update_yaxes(dtick=1 if neighbourhood.shape[0] <= 12 else None)
    return fig
