"""The convolution explained as a figure: the kernel sliding step by step, animated in the browser."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnviz.core.palette import GRAY_COLORSCALE, NO_OUTPUT_COLOR, SIGNED_COLORSCALE, WINDOW_COLOR
from cnnviz.figures.layout import FONT_SIZE, fast_figure


def sliding_animation(image: np.ndarray, steps, *, kernel_shape: tuple[int, int], anchor: tuple[int, int],
                      stride: int = 1, valid_offset: tuple[int, int] = (0, 0), mapping: str = "clip",
                      height: int = 460) -> go.Figure:
    """The kernel sliding over a small image one position at a time while the output fills in.

    ``steps`` is :func:`cnnviz.convolution.sliding_steps`' list of (row, col, output so far).
    Animated in the browser (Plotly frames, Play/Pause and a slider): no server round trip per step.
    """
    image = np.asarray(image, dtype=np.float64)
    kr, kc = kernel_shape
    ar, ac = anchor
    first = steps[0][2] if steps else np.full((1, 1), np.nan)
    signed = mapping == "signed"
    finals = [s[2] for s in steps]
    limit = max([1.0] + [float(np.nanmax(np.abs(f))) for f in finals[-1:] if np.isfinite(f).any()])
    out_scale = dict(colorscale=SIGNED_COLORSCALE, zmin=-limit, zmax=limit) if signed else \
        dict(colorscale=GRAY_COLORSCALE, zmin=0, zmax=255)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.08,
                        subplot_titles=("input: the kernel's window", "output, filling in"))
    size = max(8, FONT_SIZE - max(image.shape) // 3)
    fig.add_trace(go.Heatmap(z=image, colorscale=GRAY_COLORSCALE, zmin=0, zmax=255, showscale=False, xgap=1,
                             ygap=1, texttemplate="%{z:.0f}", textfont=dict(size=size),
                             hovertemplate="row %{y}, column %{x}<br>%{z}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Heatmap(z=first, showscale=False, xgap=1, ygap=1, texttemplate="%{z:.4~g}",
                             textfont=dict(size=size), hoverongaps=False,
                             hovertemplate="row %{y}, column %{x}<br>%{z}<extra></extra>", **out_scale),
                  row=1, col=2)

    def shapes(r: int, c: int) -> list[dict]:
        top = r * stride + valid_offset[0] - ar
        left = c * stride + valid_offset[1] - ac
        return [
            dict(type="rect", xref="x", yref="y", x0=left - 0.5, x1=left + kc - 0.5, y0=top - 0.5,
                 y1=top + kr - 0.5, line=dict(color=WINDOW_COLOR, width=4)),
            dict(type="rect", xref="x2", yref="y2", x0=c - 0.5, x1=c + 0.5, y0=r - 0.5, y1=r + 0.5,
                 line=dict(color=WINDOW_COLOR, width=4)),
        ]

    if steps:
        fig.update_layout(shapes=shapes(steps[0][0], steps[0][1]))
    play = dict(frame=dict(duration=350, redraw=True), fromcurrent=True, transition=dict(duration=0))
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=80, b=10), font=dict(size=FONT_SIZE), plot_bgcolor=NO_OUTPUT_COLOR,  # not computed yet
    )
    controls = dict(
        updatemenus=[dict(type="buttons", direction="left", x=0.0, y=-0.04, xanchor="left", yanchor="top",
                          buttons=[dict(label="▶ Play", method="animate", args=[None, play]),
                                   dict(label="❚❚ Pause", method="animate",
                                        args=[[None], dict(mode="immediate", frame=dict(duration=0, redraw=False))])])],
        sliders=[dict(active=0, x=0.22, y=-0.02, len=0.78, currentvalue=dict(prefix="step "),
                      steps=[dict(label=str(k + 1), method="animate",
                                  args=[[str(k)], dict(mode="immediate", frame=dict(duration=0, redraw=True))])
                             for k in range(len(steps))])],
    )
    for k in (1, 2):
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{'' if k == 1 else k}", showgrid=False,
                         zeroline=False, constrain="domain", row=1, col=k)
        fig.update_xaxes(side="top", showgrid=False, zeroline=False, constrain="domain", row=1, col=k)
    fig.update_annotations(yshift=26)
    # Frames as plain dicts, assembled without Plotly's per-frame validation (about 40x faster).
    spec = fig.to_dict()
    spec["layout"].update(controls)
    spec["frames"] = [
        dict(name=str(k), traces=[1], layout=dict(shapes=shapes(r, c)),
             data=[dict(type="heatmap", z=np.where(np.isnan(partial), None, partial).tolist())])
        for k, (r, c, partial) in enumerate(steps)
    ]
    return fast_figure(spec["data"], spec["layout"], frames=spec["frames"])
