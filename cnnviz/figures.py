"""Plotly figure builders. Each function returns a figure; nothing is shown or saved here."""

from __future__ import annotations

import functools

import numpy as np
import plotly.graph_objects as go

GRAY_COLORSCALE = "gray"
"""Grayscale images: 0 black, 255 white (as matplotlib's cmap='gray' in the course)."""

SHOW_VALUES_MAX_SIDE = 32
"""Matrices up to this many rows and columns get their numbers printed in the cells."""

FONT_SIZE = 16
"""Base font size of figures: readable on a projector."""


@functools.lru_cache(maxsize=32)
def _colorscale(name: str) -> tuple:
    """A named colour scale as explicit [position, colour] stops (plotly.js knows few names)."""
    from plotly.colors import get_colorscale

    return tuple((float(p), c) for p, c in get_colorscale(name))


def _fast_figure(data: list[dict], layout: dict) -> go.Figure:
    """A figure from plain dicts without Plotly's property validation.

    Validating a figure costs tens of milliseconds; figures rebuilt on every
    kernel or matrix edit are built this way so the edit stays live.
    """
    for trace in data:
        if isinstance(trace.get("colorscale"), str):
            trace["colorscale"] = _colorscale(trace["colorscale"])
    return go.Figure({"data": data, "layout": layout}, _validate=False)


def _square_layout_spec(*, title: str | None, height: int | None, unit_ticks: bool = False) -> dict:
    """Layout of an image-like figure: row 0 at the top, square cells, axes on top."""
    axis = dict(showgrid=False, zeroline=False, constrain="domain")
    if unit_ticks:
        axis["dtick"] = 1
    return dict(
        title=dict(text=title, x=0.0, xanchor="left") if title else None,
        margin=dict(l=10, r=10, t=70 if title else 30, b=10),
        height=height,
        font=dict(size=FONT_SIZE),
        plot_bgcolor="white",
        hoverlabel=dict(font_size=FONT_SIZE),
        xaxis=dict(axis, side="top"),
        yaxis=dict(axis, autorange="reversed", scaleanchor="x"),
    )


def _square_layout(fig: go.Figure, *, title: str | None, height: int | None) -> go.Figure:
    fig.update_layout(_square_layout_spec(title=title, height=height))
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
    layout = _square_layout_spec(title=title, height=height, unit_ticks=max(rows, cols) <= 16)
    return _fast_figure([trace], layout)


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
    fig = _square_layout(fig, title=title, height=height)
    if max(rows, cols) <= 16:
        fig.update_xaxes(dtick=1)
        fig.update_yaxes(dtick=1)
    return fig


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


SHIFT_COLORS = ("#d9730d", "#1f5fbf", "#2e9e44", "#8e44ad")
"""Line colours of the models compared on shifted images, in the order given."""


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


# --------------------------------------------------------------------------
# Activation maps (the Activations page)
# --------------------------------------------------------------------------

ACTIVATION_COLORSCALE = "inferno"
"""The course's colour map for activation maps (``cmap='inferno'``)."""

ACTIVATION_COLORSCALES = ("inferno", "viridis", "magma", "gray", "hot")
"""Colour maps offered for activation maps; the first is the course's."""

KERNEL_COLORSCALE = "RdBu_r"
"""Learned weights: blue negative, white zero, red positive (a diverging scale)."""

TRUE_CLASS_COLOR = "#1a9641"


def plain_colorscale(name: str) -> list[list]:
    """A named Plotly colour scale with every colour written as ``rgb(r, g, b)``.

    Streamlit's Plotly theme marks its own colours with placeholder hex codes
    ("#000001" ... ) that its front end swaps for theme colours, whether or not
    the theme is used: inferno's and magma's first colour, "#000004", is one
    of them and turned 0 lavender. rgb() strings are left alone.
    """
    import plotly.colors as pc

    scale = pc.get_colorscale(name)
    return [[float(stop), pc.convert_colors_to_same_type(color, colortype="rgb")[0][0]]
            for stop, color in scale]


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
    built without Plotly's validation. Row labels are the y axis' tick labels;
    column titles are annotations.
    """
    if scale not in ("map", "layer"):
        raise ValueError(f"scale must be 'map' or 'layer'; got {scale!r}")
    images = np.asarray(images)
    n, side, side_x = len(images), images.shape[1], images.shape[2]
    ncols = 1 + len(columns)
    gap = max(2.0, side / 10)
    step_x, step_y = side_x + gap, side + gap  # one cell and the gap after it, in input pixels
    total_x, total_y = ncols * step_x - gap, n * step_y - gap
    if height_per_row is None:  # square cells filling about ``width`` pixels, beside labels and colour bars
        plot_width = width - 100 - (90 if scale == "map" else 55 * len(columns))
        height_per_row = int(min(280, plot_width / (total_x + gap / 2) * side))
    tops = np.arange(n) * step_y

    def stacked(values: np.ndarray) -> np.ndarray:
        """(N, h, w, ...) stacked on the rows with one NaN row between images."""
        h = values.shape[1]
        out = np.full((n * (h + 1) - 1, *values.shape[2:]), np.nan, dtype=np.float32)
        for r in range(n):
            out[r * (h + 1):r * (h + 1) + h] = values[r]
        return out

    def y_edges(h: int, size: float, offset: float) -> np.ndarray:
        # image r: edges top_r + offset + k * size (k = 0..h); the gap row runs to the next image.
        return np.concatenate([tops[r] + offset + size * np.arange(h + 1) for r in range(n)])

    data = [dict(
        type="heatmap", z=stacked(images.astype(np.float32)), x=np.arange(side_x + 1) - 0.5,
        y=y_edges(side, 1.0, 0.0) - 0.5, zmin=0, zmax=255, colorscale=plain_colorscale(GRAY_COLORSCALE),
        showscale=False, hoverongaps=False, name="input",
        customdata=stacked(np.broadcast_to(np.dstack(np.mgrid[0:side, 0:side_x]), (n, side, side_x, 2))),
        hovertemplate="<b>input</b> row %{customdata[0]}, column %{customdata[1]}<br>pixel %{z}<extra></extra>",
    )]
    layout: dict = {}
    frames = []
    for c, (title, maps) in enumerate(columns, start=1):
        maps = np.asarray(maps, dtype=np.float64)
        h, w = maps.shape[1:3]
        size_y, size_x = (1.0, 1.0) if input_axes else (side / h, side_x / w)
        off_y, off_x = ((side - h) / 2, (side_x - w) / 2) if input_axes else (0.0, 0.0)
        left = c * step_x
        if input_axes:
            frames += [f"M{left - 0.5},{top - 0.5}H{left + side_x - 0.5}V{top + side - 0.5}H{left - 0.5}Z"
                       for top in tops]  # plotly.js paths take absolute commands only
        trace = dict(
            type="heatmap", name=title, hoverongaps=False,
            x=left + off_x + size_x * np.arange(w + 1) - 0.5, y=y_edges(h, size_y, off_y) - 0.5,
            customdata=stacked(np.concatenate(
                [np.broadcast_to(np.dstack(np.mgrid[0:h, 0:w]), (n, h, w, 2)), maps[..., np.newaxis]], axis=-1)),
            hovertemplate=f"<b>{title}</b>, filter {filter_index}<br>activation %{{customdata[2]:.3f}}"
                          "<br>map row %{customdata[0]}, column %{customdata[1]}<extra></extra>",
        )
        if scale == "map":
            trace.update(z=stacked(_normalised(maps)), coloraxis="coloraxis")
        else:
            low, high = float(maps.min()), float(maps.max())
            high = high if high > low else low + 1.0
            trace.update(  # one colour bar per layer, side by side on the right
                z=stacked(maps), zmin=low, zmax=high, colorscale=plain_colorscale(colorscale),
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
    return _fast_figure(data, layout)


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
    fig = go.Figure(go.Heatmap(z=z, customdata=data, hovertemplate=hover, hoverongaps=False, **heatmap))
    if labels:  # each tile's number: above small tiles (kernels), in the corner of big ones on a light patch
        inside = tile[0] >= 10
        fig.update_layout(annotations=[
            dict(x=left - 0.5, y=top - 0.5, text=str(k), showarrow=False, xanchor="left",
                 yanchor="top" if inside else "bottom", font=dict(size=11, color="#111111"),
                 bgcolor="rgba(255,255,255,0.8)" if inside else None, borderpad=1)
            for k, (top, left) in enumerate(corners)])
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    fig.update_layout(
        title=dict(text=title, x=0.0, xanchor="left") if title else None, height=height,
        margin=dict(l=10, r=10, t=70 if title else 20, b=10), font=dict(size=FONT_SIZE),
        plot_bgcolor="white", hoverlabel=dict(font_size=FONT_SIZE),
    )
    return fig


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
        colorscale=plain_colorscale(KERNEL_COLORSCALE), zmid=0, zmin=-limit, zmax=limit,
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
        z=probabilities, x=list(class_names), y=labels, zmin=0, zmax=1, colorscale=plain_colorscale("Blues"),
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


# --------------------------------------------------------------------------
# Convolution lab
# --------------------------------------------------------------------------

SIGNED_COLORSCALE = "RdBu_r"
"""Signed convolution results and kernels: blue negative, white zero, red positive."""

WINDOW_COLOR = "#e61e1e"
"""Outline of the kernel's window on the input."""


def _colorscale_stops(name: str) -> tuple[np.ndarray, np.ndarray]:
    from plotly.colors import get_colorscale, unlabel_rgb

    scale = get_colorscale(name)
    positions = np.array([float(p) for p, _ in scale])
    colours = np.array([unlabel_rgb(c) if c.startswith("rgb") else unlabel_rgb(f"rgb{tuple(int(c[i:i + 2], 16) for i in (1, 3, 5))}")
                        for _, c in scale], dtype=np.float64)
    return positions, colours


def signed_rgb(values: np.ndarray, *, limit: float | None = None, colorscale: str = SIGNED_COLORSCALE) -> np.ndarray:
    """Signed values as an (H, W, 3) uint8 image on a diverging scale centred on 0.

    ``limit`` maps to the scale's ends (default: the largest absolute value), so the
    picture matches a Plotly heatmap with ``zmin=-limit, zmax=limit``.
    """
    values = np.asarray(values, dtype=np.float64)
    if limit is None:
        limit = max(1.0, float(np.abs(values).max(initial=0.0)))
    t = np.clip((values / limit + 1.0) / 2.0, 0.0, 1.0)
    positions, colours = _colorscale_stops(colorscale)
    rgb = np.stack([np.interp(t, positions, colours[:, k]) for k in range(3)], axis=-1)
    return np.rint(rgb).astype(np.uint8)


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


def arithmetic_figure(window: np.ndarray, kernel: np.ndarray, products: np.ndarray,
                      *, origin: tuple[int, int] = (0, 0), height: int | None = None) -> go.Figure:
    """Input window × kernel = products, side by side, every cell with its number."""
    window, kernel, products = (np.asarray(a, dtype=np.float64) for a in (window, kernel, products))
    kr, kc = kernel.shape
    r0, c0 = origin
    size = max(8, FONT_SIZE - 2 - max(kr, kc) // 2)
    klim = max(1e-9, float(np.abs(kernel).max()))
    plim = max(1e-9, float(np.abs(products).max()))
    panels = (
        ("input window", window, GRAY_COLORSCALE, 0, 255, np.arange(c0, c0 + kc), np.arange(r0, r0 + kr),
         "input row %{y}, column %{x}<br>value %{z:.4~g}"),
        ("× kernel", kernel, SIGNED_COLORSCALE, -klim, klim, np.arange(kc), np.arange(kr),
         "kernel row %{y}, column %{x}<br>%{z:.4~g}"),
        ("= products", products, SIGNED_COLORSCALE, -plim, plim, np.arange(kc), np.arange(kr),
         "product %{z:.4~g}"),
    )
    gap, width = 0.06, (1 - 2 * 0.06) / 3
    data, layout = [], dict(
        height=height or 140 + 110 * min(kr, 5), margin=dict(l=10, r=10, t=70, b=10),
        font=dict(size=FONT_SIZE), plot_bgcolor="white", hoverlabel=dict(font_size=FONT_SIZE), annotations=[],
    )
    for k, (label, z, scale, zmin, zmax, x, y, hover) in enumerate(panels, start=1):
        suffix = "" if k == 1 else str(k)
        data.append(dict(type="heatmap", z=z, x=x, y=y, zmin=zmin, zmax=zmax, colorscale=scale, showscale=False,
                         xgap=1, ygap=1, texttemplate="%{z:.4~g}", textfont=dict(size=size),
                         hovertemplate=hover + "<extra></extra>", xaxis=f"x{suffix}", yaxis=f"y{suffix}"))
        left = (k - 1) * (width + gap)
        layout[f"xaxis{suffix}"] = dict(domain=[left, left + width], anchor=f"y{suffix}", side="top", showgrid=False,
                                        zeroline=False, dtick=1 if kc <= 9 else None, constrain="domain")
        layout[f"yaxis{suffix}"] = dict(domain=[0, 1], anchor=f"x{suffix}", autorange="reversed",
                                        scaleanchor=f"x{suffix}", showgrid=False, zeroline=False,
                                        dtick=1 if kr <= 9 else None, constrain="domain")
        layout["annotations"].append(dict(text=label, x=left + width / 2, y=1, xref="paper", yref="paper",
                                          xanchor="center", yanchor="bottom", yshift=28, showarrow=False,
                                          font=dict(size=FONT_SIZE)))
    return _fast_figure(data, layout)


def sliding_animation(image: np.ndarray, steps, *, kernel_shape: tuple[int, int], anchor: tuple[int, int],
                      stride: int = 1, valid_offset: tuple[int, int] = (0, 0), mapping: str = "clip",
                      height: int = 460) -> go.Figure:
    """The kernel sliding over a small image one position at a time while the output fills in.

    ``steps`` is :func:`cnnviz.convolution.sliding_steps`' list of (row, col, output so far).
    Animated in the browser (Plotly frames, Play/Pause and a slider): no server round trip per step.
    """
    from plotly.subplots import make_subplots

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
        height=height, margin=dict(l=10, r=10, t=80, b=10), font=dict(size=FONT_SIZE), plot_bgcolor="#d6deeb",  # not computed yet
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
    return go.Figure(spec, _validate=False)
