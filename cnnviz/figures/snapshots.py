"""The network learning, as one animated figure: the first layer's kernels and the chosen maps
at every weight snapshot, from the random start to trained, played in the browser.

One Plotly figure with one frame per snapshot (its own slider and Play button): the browser
steps through the frames itself, without a rerun of the page per step.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from cnnviz.core.palette import SIGNED_COLORSCALE
from cnnviz.figures.layout import FONT_SIZE, fast_figure, plain_colorscale
from cnnviz.figures.network import _mosaic, activation_grid

KERNEL_COLUMNS = 16
"""Kernels per row of the animation's kernel mosaic (64 kernels: 4 rows)."""
FRAME_MS = 700
"""How long Play shows each snapshot (ms): long enough to see what changed."""
KERNEL_ROW_PIXELS = 58
"""Height of one row of kernels in the animation (about 16 px per weight)."""


def kernel_limit(kernels: np.ndarray) -> float:
    """The colour range ±limit of a set of kernels: the 95th percentile of the weights' sizes
    (as :func:`cnnviz.figures.network.kernel_grid`), so each snapshot fills the colour scale."""
    kernels = np.abs(np.asarray(kernels, dtype=np.float64))
    return float(np.quantile(kernels, 0.95)) or float(kernels.max()) or 1.0


def frame_title(label: str, val_accuracy: float | None) -> str:
    """What the animation says about one snapshot."""
    accuracy = "not measured" if val_accuracy is None else f"{val_accuracy:.1%}"
    return f"<b>{label}</b> · validation accuracy {accuracy}"


def _kernel_trace(kernels: np.ndarray) -> dict:
    z, data, _ = _mosaic(np.asarray(kernels, dtype=np.float64), KERNEL_COLUMNS)
    limit = kernel_limit(kernels)
    return dict(z=z, customdata=data, zmin=-limit, zmax=limit)


def training_animation(
    images: np.ndarray,
    steps: Sequence[dict],
    *,
    row_labels: list[str],
    filter_index: int,
    kernel_layer: str,
    colorscale: str,
    input_axes: bool = True,
    start: int = 0,
) -> go.Figure:
    """Kernels (top) and the chosen filter's maps (below) at each snapshot, one frame each.

    ``steps`` holds one dict per snapshot, in training order: ``label``, ``val_accuracy``
    (or None), ``kernels`` (filters, kh, kw) of the first Conv2D layer and ``columns``
    ((layer name, maps (N, h, w)) per layer, as :func:`cnnviz.figures.network.activation_grid`
    takes them). Each map is stretched over its own range (what changes is the pattern, not
    its size); each snapshot's kernels get their own ±range, written in its frame. ``start``:
    the snapshot shown before Play is pressed.
    """
    if not steps:
        raise ValueError("no snapshots to animate")
    grids = [activation_grid(images, step["columns"], row_labels=row_labels, filter_index=filter_index,
                             colorscale=colorscale, scale="map", input_axes=input_axes) for step in steps]
    kernels = [_kernel_trace(step["kernels"]) for step in steps]
    shown = grids[start].to_plotly_json()
    data, layout = list(shown["data"]), dict(shown["layout"])
    n_maps = len(data) - 1
    for trace in data[1:]:  # hover gives what every frame has (its z); the real values stay on the grid below
        trace.pop("customdata", None)
        trace["hovertemplate"] = (f"<b>{trace['name']}</b>, filter {filter_index}<br>activation %{{z:.2f}} "
                                  "(0 = this map's min, 1 = its max)<extra></extra>")
    rows = -(-len(steps[0]["kernels"]) // KERNEL_COLUMNS)
    kernel_px = 70 + rows * KERNEL_ROW_PIXELS
    maps_px = int(layout["height"])
    total = maps_px + kernel_px + 90
    split = maps_px / total
    kh, kw = np.shape(steps[0]["kernels"])[1:]
    data.append(dict(
        type="heatmap", xaxis="x2", yaxis="y2", hoverongaps=False, name="kernels", zmid=0,
        colorscale=plain_colorscale(SIGNED_COLORSCALE), showscale=False,
        hovertemplate="kernel %{customdata[0]}, row %{customdata[1]}, column %{customdata[2]}"
                      "<br>weight %{z:.4f}<extra></extra>",
        **kernels[start]))
    axis = dict(showgrid=False, zeroline=False, constrain="domain", visible=False)
    layout["yaxis"] = dict(layout["yaxis"], domain=[0, split])
    layout.update(
        xaxis2=dict(axis, anchor="y2"),
        yaxis2=dict(axis, anchor="x2", autorange="reversed", scaleanchor="x2", domain=[split + 0.06, 0.97]),
        height=total,
        margin=dict(l=10, r=10, t=70, b=110),
        title=dict(text=frame_title(steps[start]["label"], steps[start]["val_accuracy"]), x=0.01, xanchor="left"),
    )

    def kernel_note(step_kernels: dict) -> dict:
        return dict(text=f"<b>{kernel_layer}</b>: its {len(steps[0]['kernels'])} kernels ({kh}x{kw}), "
                         f"white = 0, red + / blue −, full colour beyond ±{step_kernels['zmax']:.2g}",
                    x=0, y=0.985, xref="paper", yref="paper", xanchor="left", yanchor="bottom",
                    showarrow=False, font=dict(size=FONT_SIZE - 2))

    base_annotations = list(layout.get("annotations", []))
    layout["annotations"] = [*base_annotations, kernel_note(kernels[start])]
    frames = []
    for i, (step, grid, kernel) in enumerate(zip(steps, grids, kernels)):
        maps = grid.to_plotly_json()["data"][1:]
        frames.append(dict(
            name=str(i),
            data=[dict(type="heatmap", z=t["z"]) for t in maps]
            + [dict(type="heatmap", **kernel)],
            traces=list(range(1, n_maps + 1)) + [n_maps + 1],
            layout=dict(title=dict(text=frame_title(step["label"], step["val_accuracy"]), x=0.01, xanchor="left"),
                        annotations=[*base_annotations, kernel_note(kernel)]),
        ))
    play = dict(frame=dict(duration=FRAME_MS, redraw=True), transition=dict(duration=0),
                fromcurrent=True, mode="immediate")
    layout["updatemenus"] = [dict(
        type="buttons", direction="left", x=0, y=0, xanchor="left", yanchor="top", pad=dict(t=40, r=10),
        showactive=False, font=dict(size=FONT_SIZE),
        buttons=[dict(label="▶ Play", method="animate", args=[None, play]),
                 dict(label="❚❚ Pause", method="animate",
                      args=[[None], dict(frame=dict(duration=0, redraw=False), mode="immediate")])])]
    layout["sliders"] = [dict(
        active=start, x=0.3, len=0.7, y=0, yanchor="top", pad=dict(t=30),
        currentvalue=dict(visible=False), font=dict(size=FONT_SIZE - 4),
        steps=[dict(label=_short(step["label"]), method="animate",
                    args=[[str(i)], dict(frame=dict(duration=0, redraw=True), mode="immediate",
                                         transition=dict(duration=0))])
               for i, step in enumerate(steps)])]
    return fast_figure(data, layout, frames=frames)


def _short(label: str) -> str:
    """A slider tick: "start", "b10" (batch 10 of epoch 1), "3" (epoch 3)."""
    if label == "random start":
        return "start"
    if "batch" in label:
        return "b" + label.rsplit(" ", 1)[-1]
    return label.rsplit(" ", 1)[-1]
