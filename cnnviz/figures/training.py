"""Training figures: loss and accuracy per epoch, accuracy on shifted images."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnviz.core.palette import SHIFT_COLORS, SNAPSHOT_COLOR, TRAIN_COLOR, VALIDATION_COLOR
from cnnviz.figures.layout import FONT_SIZE


def training_curves(history: dict[str, list[float]], *, total_epochs: int | None = None,
                    height: int = 380,
                    snapshot_points: list[tuple[float, str, float | None]] | None = None) -> go.Figure:
    """Loss and accuracy per epoch, training (solid) and validation (dashed), side by side.

    ``history`` is Keras' ``History.history`` layout: {"loss": [...],
    "accuracy": [...], "val_loss": [...], "val_accuracy": [...]}. With
    ``total_epochs`` the x axis is fixed to the whole run, so the curves grow
    into it epoch by epoch. ``snapshot_points`` ((position on the epoch axis, label,
    validation accuracy or None) per weight snapshot: 0 = the random start, 0.03 = an early
    batch, 3 = after epoch 3) are marked as dotted grey lines on both plots, and as grey
    diamonds at their validation accuracy where it was measured.
    """
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
    if snapshot_points:
        for col in (1, 2):
            for x, _, _ in snapshot_points:
                fig.add_vline(x=x, line=dict(color=SNAPSHOT_COLOR, width=1, dash="dot"), row=1, col=col)
        measured = [(x, label, a) for x, label, a in snapshot_points if a is not None]
        fig.add_trace(
            go.Scatter(x=[p[0] for p in measured], y=[p[2] for p in measured], mode="markers",
                       name="weight snapshot (its validation accuracy)",
                       marker=dict(symbol="diamond", size=10, color=SNAPSHOT_COLOR),
                       text=[p[1] for p in measured],
                       hovertemplate="snapshot %{text}<br>validation accuracy %{y:.4f}<extra></extra>"),
            row=1, col=2)
    if total_epochs:
        low = -0.3 if snapshot_points else 0.5
        fig.update_xaxes(range=[low, total_epochs + 0.5])
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
    for i, (name, values) in enumerate(curves.items()):
        fig.add_trace(go.Scatter(x=list(shifts), y=values, mode="lines+markers", name=name,
                                 line=dict(width=3, color=SHIFT_COLORS[i % len(SHIFT_COLORS)]),
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
