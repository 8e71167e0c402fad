"""A trained network's insides as figures: activation grids, all filters of a layer, learned kernels, predictions."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cnnviz.core.palette import (
    ACTIVATION_COLORSCALE,
    GRAY_COLORSCALE,
    PROBABILITY_COLORSCALE,
    SIGNED_COLORSCALE,
    TRUE_CLASS_COLOR,
)
from cnnviz.figures.layout import FONT_SIZE, fast_figure, plain_colorscale


def _normalised(maps: np.ndarray) -> np.ndarray:
    """Each map (over its last two axes) stretched from its own min..max to 0..1."""
    maps = np.asarray(maps, dtype=np.float64)
    low = maps.min(axis=(-2, -1), keepdims=True)
    span = maps.max(axis=(-2, -1), keepdims=True) - low
    return np.where(span > 0, (maps - low) / np.where(span > 0, span, 1.0), 0.0)


def activation_grid(
    images: np.ndarray,
    columns: list[tuple[str, np.ndarray]],
    *,
    row_labels: list[str],
    filter_index: int,
    colorscale: str = ACTIVATION_COLORSCALE,
    scale: str = "map",
    input_axes: bool = True,
    height_per_row: int | None = None,
    width: int = 900,
) -> go.Figure:
    """The course's grid, extended: one row per image, the image then one map per layer.

    ``columns`` holds (title, maps (N, h, w)) for the chosen filter of each
    layer. ``scale="map"`` stretches each map over its own min..max (one
    colour bar from 0 = the map's min to 1 = its max; hover shows the real
    value); ``"layer"`` gives every map of a layer the same range (one colour
    bar per layer, titled with the layer's name). With ``input_axes`` every map
    is drawn centred in a frame of the input's size, one input pixel per map
    pixel, so the shrinking from 28 to 26 to 13 ... is visible; otherwise each
    map fills its cell.

    Drawn fast enough to follow every change of class, filter or layer: one
    heatmap per column on one pair of axes (the images stacked, with gaps),
    built without Plotly's validation. Every column's cells are evenly spaced
    (the gap between images is whole empty rows), so plotly.js paints each
    heatmap as one small pixelated image instead of one rectangle per cell on a
    canvas the size of the plot (several times faster in the browser). Row
    labels are the y axis' tick labels; column titles are annotations.
    """
    if scale not in ("map", "layer"):
        raise ValueError(f"scale must be 'map' or 'layer'; got {scale!r}")
    images = np.asarray(images)
    n, side, side_x = len(images), images.shape[1], images.shape[2]
    ncols = 1 + len(columns)
    gap = max(2, round(side / 10))  # whole input pixels: the input's rows stay evenly spaced
    step_x, step_y = side_x + gap, side + gap  # one cell and the gap after it, in input pixels
    total_x, total_y = ncols * step_x - gap, n * step_y - gap
    if height_per_row is None:  # square cells filling about ``width`` pixels, beside labels and colour bars
        plot_width = width - 100 - (90 if scale == "map" else 55 * len(columns))
        height_per_row = int(min(280, plot_width / (total_x + gap / 2) * side))
    tops = np.arange(n) * step_y

    def stacked(values: np.ndarray, pad: int) -> np.ndarray:
        """(N, h, w, ...) stacked on the rows with ``pad`` NaN rows between images."""
        h = values.shape[1]
        out = np.full((n * (h + pad) - pad, *values.shape[2:]), np.nan, dtype=np.float32)
        for r in range(n):
            out[r * (h + pad):r * (h + pad) + h] = values[r]
        return out

    def rows_of(h: int) -> tuple[int, int, float, float]:
        """(times each map row is drawn, empty rows between images, row height, offset of the first
        row) for maps of ``h`` rows: evenly spaced rows, every image's map starting at its input's row."""
        if input_axes or h == side:  # one input pixel per map pixel, centred in the input's frame
            return 1, step_y - h, 1.0, (side - h) / 2
        repeat = -(-side // h)  # each map row drawn as ``repeat`` rows: the gap is then close to whole rows
        pad = max(1, round(gap * h * repeat / side))
        return repeat, pad, step_y / (h * repeat + pad), 0.0

    def y_edges(h: int, pad: int, size: float, offset: float) -> np.ndarray:
        return offset + size * np.arange(n * (h + pad) - pad + 1)

    data = [dict(
        type="heatmap", z=stacked(images.astype(np.float32), gap), x=np.arange(side_x + 1) - 0.5,
        y=y_edges(side, gap, 1.0, 0.0) - 0.5, zmin=0, zmax=255, colorscale=plain_colorscale(GRAY_COLORSCALE),
        showscale=False, hoverongaps=False, name="input",
        customdata=stacked(np.broadcast_to(np.dstack(np.mgrid[0:side, 0:side_x]), (n, side, side_x, 2)), gap),
        hovertemplate="<b>input</b> row %{customdata[0]}, column %{customdata[1]}<br>pixel %{z}<extra></extra>",
    )]
    layout: dict = {}
    frames = []
    for c, (title, maps) in enumerate(columns, start=1):
        maps = np.asarray(maps, dtype=np.float64)
        h, w = maps.shape[1:3]
        repeat, pad, size_y, off_y = rows_of(h)
        size_x, off_x = (1.0, (side_x - w) / 2) if input_axes else (side_x / w, 0.0)
        left = c * step_x
        if input_axes:
            frames += [f"M{left - 0.5},{top - 0.5}H{left + side_x - 0.5}V{top + side - 0.5}H{left - 0.5}Z"
                       for top in tops]  # plotly.js paths take absolute commands only
        trace = dict(
            type="heatmap", name=title, hoverongaps=False,
            x=left + off_x + size_x * np.arange(w + 1) - 0.5, y=y_edges(h * repeat, pad, size_y, off_y) - 0.5,
            customdata=stacked(np.repeat(np.concatenate(
                [np.broadcast_to(np.dstack(np.mgrid[0:h, 0:w]), (n, h, w, 2)), maps[..., np.newaxis]], axis=-1),
                repeat, axis=1), pad),
            hovertemplate=f"<b>{title}</b>, filter {filter_index}<br>activation %{{customdata[2]:.3f}}"
                          "<br>map row %{customdata[0]}, column %{customdata[1]}<extra></extra>",
        )
        if scale == "map":
            trace.update(z=stacked(np.repeat(_normalised(maps), repeat, axis=1), pad), coloraxis="coloraxis")
        else:
            low, high = float(maps.min()), float(maps.max())
            high = high if high > low else low + 1.0
            trace.update(  # one colour bar per layer, side by side on the right
                z=stacked(np.repeat(maps, repeat, axis=1), pad), zmin=low, zmax=high, colorscale=plain_colorscale(colorscale),
                colorbar=dict(title=dict(text=f"<b>{title}</b>", side="top", font=dict(size=FONT_SIZE - 3)),
                              thickness=12, len=n * height_per_row * step_y / side, lenmode="pixels",
                              y=1, yanchor="top", x=1.01 + 0.085 * (c - 1),
                              xanchor="left", nticks=5, tickfont=dict(size=FONT_SIZE - 4)),
            )
        data.append(trace)
    if scale == "map":
        layout["coloraxis"] = dict(
            colorscale=plain_colorscale(colorscale), cmin=0, cmax=1,
            colorbar=dict(title=dict(text="activation<br>0 = the map's min<br>1 = its max", side="top")
                          if n > 2 else dict(text="activation<br>0 = min, 1 = max", side="top"),
                          thickness=16, len=min(1.0, 400 / (n * height_per_row + 60)), y=1, yanchor="top"),
        )
    titles = [f"<b>input</b><br>{side}x{side_x}"] + [
        f"<b>{title}</b><br>{np.shape(maps)[1]}x{np.shape(maps)[2]}, filter {filter_index}"
        for title, maps in columns
    ]
    axis = dict(showgrid=False, zeroline=False, constrain="domain", showline=False)
    layout.update(
        annotations=[dict(x=c * step_x + (side_x - 1) / 2, y=-1.2, xref="x", yref="y", text=text,
                          showarrow=False, yanchor="bottom", font=dict(size=FONT_SIZE - 1))
                     for c, text in enumerate(titles)],
        shapes=[dict(type="path", path="".join(frames), layer="below", fillcolor="#f2f2f2",
                     line=dict(color="#bbbbbb", width=1))] if frames else [],
        xaxis=dict(axis, visible=False, range=[-0.5 - gap / 4, total_x - 0.5 + gap / 4]),
        yaxis=dict(axis, scaleanchor="x", constraintoward="top", range=[total_y - 0.5 + gap / 4, -0.5 - gap / 4], autorange=False,
                   tickmode="array", tickvals=tops + (side - 1) / 2, ticktext=list(row_labels),
                   ticks="", tickfont=dict(size=FONT_SIZE - 2), automargin=True),
        height=int((total_y + gap / 2) * height_per_row / side) + 100,
        margin=dict(l=10, r=10, t=80, b=20), font=dict(size=FONT_SIZE), plot_bgcolor="white",
        hoverlabel=dict(font_size=FONT_SIZE), showlegend=False,
    )
    return fast_figure(data, layout)


def _mosaic(stack: np.ndarray, columns: int, *, gap: int = 1) -> tuple[np.ndarray, np.ndarray, list]:
    """Tiles (K, h, w) laid out in a grid with NaN gaps: (z, customdata [k, row, col], tile corners)."""
    count, h, w = stack.shape
    rows = -(-count // columns)
    z = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), np.nan)
    data = np.full(z.shape + (3,), -1.0)
    corners = []
    rr, cc = np.mgrid[0:h, 0:w]
    for k in range(count):
        top, left = (k // columns) * (h + gap), (k % columns) * (w + gap)
        z[top:top + h, left:left + w] = stack[k]
        data[top:top + h, left:left + w] = np.dstack([np.full((h, w), k), rr, cc])
        corners.append((top, left))
    return z, data, corners


def _mosaic_figure(z, data, corners, *, tile: tuple[int, int], hover: str, labels: bool,
                   height: int, title: str | None, **heatmap) -> go.Figure:
    """One heatmap of the tiles and, with ``labels``, each tile's number: above small tiles
    (kernels), in the corner of big ones on a light patch. The numbers are one text trace, not
    one annotation each (64 annotations cost the browser more than the heatmap), and the figure
    is built without Plotly's validation: the slider over training snapshots redraws it."""
    traces = [dict(type="heatmap", z=z, customdata=data, hovertemplate=hover, hoverongaps=False, **heatmap)]
    if labels:
        tops, lefts = (np.array([corner[i] for corner in corners], dtype=float) for i in (0, 1))
        text = [str(k) for k in range(len(corners))]
        if tile[0] >= 10:  # inside, on a light patch in the tile's corner
            inset = max(1.5, tile[0] * 0.09)
            traces.append(dict(type="scatter", mode="markers+text", x=lefts - 0.5 + inset, y=tops - 0.5 + inset,
                               text=text, textposition="middle center", hoverinfo="skip", showlegend=False,
                               marker=dict(symbol="square", size=17, color="rgba(255,255,255,0.8)"),
                               textfont=dict(size=11, color="#111111"), cliponaxis=False))
        else:  # above the tile
            traces.append(dict(type="scatter", mode="text", x=lefts - 0.5, y=tops - 0.5, text=text,
                               textposition="top right", hoverinfo="skip", showlegend=False,
                               textfont=dict(size=11, color="#111111"), cliponaxis=False))
    rows, columns = z.shape
    axis = dict(visible=False, constrain="domain", showgrid=False, zeroline=False)
    layout = dict(
        xaxis=dict(axis, range=[-0.5, columns - 0.5]),
        yaxis=dict(axis, range=[rows - 0.5, -0.5], scaleanchor="x"),
        title=dict(text=title, x=0.0, xanchor="left") if title else None, height=height,
        margin=dict(l=10, r=10, t=70 if title else 20, b=10), font=dict(size=FONT_SIZE),
        plot_bgcolor="white", hoverlabel=dict(font_size=FONT_SIZE), showlegend=False,
    )
    return fast_figure(traces, layout)


def filter_grid(
    maps: np.ndarray,
    *,
    colorscale: str = ACTIVATION_COLORSCALE,
    scale: str = "map",
    columns: int = 8,
    title: str | None = None,
    height: int | None = None,
) -> go.Figure:
    """Every filter's map of one layer for one image, (h, w, filters), as a grid of tiles.

    ``scale="map"``: each tile stretched over its own min..max; ``"layer"``: one
    range for the whole layer (weak filters look dark). Hover gives the filter,
    the map's row and column, and the real activation.
    """
    if scale not in ("map", "layer"):
        raise ValueError(f"scale must be 'map' or 'layer'; got {scale!r}")
    stack = np.moveaxis(np.asarray(maps, dtype=np.float64), -1, 0)
    raw, _, _ = _mosaic(stack, columns)
    shown = _normalised(stack) if scale == "map" else stack
    z, data, corners = _mosaic(shown, columns)
    data = np.dstack([data, raw])
    h, w = stack.shape[1:]
    rows = -(-len(stack) // columns)
    bar = "activation<br>0 = the map's min<br>1 = its max" if scale == "map" else "activation"
    return _mosaic_figure(
        z, data, corners, tile=(h, w), labels=True, title=title,
        height=height or min(1400, 100 + rows * max(50, int(780 / columns))),
        hover="filter %{customdata[0]}, row %{customdata[1]}, column %{customdata[2]}"
              "<br>activation %{customdata[3]:.3f}<extra></extra>",
        colorscale=plain_colorscale(colorscale), colorbar=dict(title=dict(text=bar), thickness=16),
    )


def kernel_grid(
    kernels: np.ndarray,
    biases: np.ndarray | None = None,
    *,
    columns: int = 12,
    title: str | None = None,
    height: int | None = None,
) -> go.Figure:
    """Learned kernels (filters, kh, kw) as small heatmaps on one diverging scale, 0 = white.

    The scale ends at the 95th percentile of the weights' sizes, so a few large weights do not
    wash every other kernel out to white (they show at full colour; hover gives every real weight).
    """
    kernels = np.asarray(kernels, dtype=np.float64)
    limit = float(np.quantile(np.abs(kernels), 0.95)) or float(np.abs(kernels).max()) or 1.0
    z, data, corners = _mosaic(kernels, columns)
    bias = np.zeros(len(kernels)) if biases is None else np.asarray(biases, dtype=np.float64)
    k_index = data[..., 0].astype(int)
    data = np.dstack([data, np.where(k_index >= 0, bias[np.clip(k_index, 0, None)], np.nan)])
    rows = -(-len(kernels) // columns)
    return _mosaic_figure(
        z, data, corners, tile=kernels.shape[1:], labels=True, title=title,
        height=height or 90 + rows * 85,
        hover="filter %{customdata[0]}, weight row %{customdata[1]}, column %{customdata[2]}"
              "<br>weight %{z:.4f} (bias %{customdata[3]:.4f})<extra></extra>",
        colorscale=plain_colorscale(SIGNED_COLORSCALE), zmid=0, zmin=-limit, zmax=limit,
        colorbar=dict(title=dict(text="weight" if limit >= np.abs(kernels).max() else
                                 f"weight<br>(beyond ±{limit:.2g}:<br>full colour)"), thickness=16),
    )


def prediction_figure(
    probabilities: np.ndarray,
    class_names,
    *,
    true_labels=None,
    row_labels: list[str] | None = None,
    title: str | None = None,
) -> go.Figure:
    """Predicted probabilities, one row per image and one column per class, the true class framed."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    n = len(probabilities)
    labels = row_labels or [f"image {k}" for k in range(n)]
    fig = go.Figure(go.Heatmap(
        z=probabilities, x=list(class_names), y=labels, zmin=0, zmax=1, colorscale=plain_colorscale(PROBABILITY_COLORSCALE),
        texttemplate="%{z:.0%}", textfont=dict(size=FONT_SIZE - 2), xgap=2, ygap=2,
        hovertemplate="%{y}<br>%{x}: %{z:.1%}<extra></extra>",
        colorbar=dict(title=dict(text="probability"), tickformat=".0%", thickness=16),
    ))
    if true_labels is not None:
        for r, label in enumerate(true_labels):
            fig.add_shape(type="rect", x0=label - 0.5, x1=label + 0.5, y0=r - 0.5, y1=r + 0.5,
                          line=dict(color=TRUE_CLASS_COLOR, width=4))
    fig.update_xaxes(side="top", tickangle=-30, showgrid=False)
    fig.update_yaxes(autorange="reversed", showgrid=False, automargin=True)  # room for the row labels
    fig.update_layout(
        title=dict(text=title, x=0.0, xanchor="left", y=1, yanchor="top", yref="container", pad=dict(t=8))
        if title else None,
        height=170 + 48 * n, margin=dict(l=10, r=10, t=150 if title else 90, b=10),
        font=dict(size=FONT_SIZE), plot_bgcolor="white", hoverlabel=dict(font_size=FONT_SIZE),
    )
    return fig
