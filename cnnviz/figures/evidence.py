"""Class evidence as figures: a row per image (the image, the evidence map, the map drawn over
the image), and the clickable classes x filters grid."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cnnviz.core.palette import ACTIVATION_COLORSCALE, EVIDENCE_SELECTED_COLOR, GRAY_COLORSCALE
from cnnviz.figures.layout import FONT_SIZE, fast_figure, plain_colorscale

DIM = 1.6
"""The image under an overlay is drawn this much darker (white becomes mid-grey), so the
colours on top stand out."""


def _stops(scale) -> list[list]:
    """A colour scale as [position, colour] lists; explicit stops keep rgba() (transparency)."""
    return plain_colorscale(scale) if isinstance(scale, str) else [[float(p), c] for p, c in scale]


def evidence_grid(
    images: np.ndarray,
    maps: np.ndarray,
    *,
    row_labels: list[str],
    map_title: str,
    colorscale,
    zmin: float,
    zmax: float,
    colorbar_title: str,
    hover_label: str,
    overlay: np.ndarray | None = None,
    overlay_colorscale=None,
    hover_values: np.ndarray | None = None,
    hover_format: str = ".3f",
    map_size: str | None = None,
    width: int = 900,
) -> go.Figure:
    """One row per image: the image, its evidence map, and the map drawn over the image.

    ``maps`` (N, h, w) are drawn over the whole 28x28 cell (a coarse map, e.g. Grad-CAM's
    11x11, shows its real blocks); ``overlay`` (N, 28, 28), by default ``maps``, is drawn over
    the darkened image with ``overlay_colorscale`` (transparent where there is no evidence).
    Both use ``zmin``..``zmax``; hover gives ``hover_values`` (by default the maps).
    """
    images = np.asarray(images, dtype=np.float64)
    maps = np.asarray(maps, dtype=np.float64)
    n, side, side_x = images.shape
    h, w = maps.shape[1:3]
    overlay = maps if overlay is None else np.asarray(overlay, dtype=np.float64)
    hover_values = maps if hover_values is None else np.asarray(hover_values, dtype=np.float64)
    gap = 3.0
    step_x, step_y = side_x + gap, side + gap
    tops = np.arange(n) * step_y
    cell = (width - 260) / (3 * step_x)  # screen pixels per image pixel
    height = int(n * step_y * cell) + 90

    def stacked(values: np.ndarray) -> np.ndarray:
        rows = values.shape[1]
        out = np.full((n * (rows + 1) - 1, *values.shape[2:]), np.nan)
        for r in range(n):
            out[r * (rows + 1):r * (rows + 1) + rows] = values[r]
        return out

    def y_edges(rows: int) -> np.ndarray:
        size = side / rows
        return np.concatenate([tops[r] + size * np.arange(rows + 1) for r in range(n)]) - 0.5

    def x_edges(column: int, cols: int) -> np.ndarray:
        return column * step_x + (side_x / cols) * np.arange(cols + 1) - 0.5

    gray = plain_colorscale(GRAY_COLORSCALE)
    pixel = stacked(np.broadcast_to(np.dstack(np.mgrid[0:side, 0:side_x]), (n, side, side_x, 2)))
    cells = stacked(np.concatenate([np.broadcast_to(np.dstack(np.mgrid[0:h, 0:w]), (n, h, w, 2)),
                                    hover_values[..., np.newaxis]], axis=-1))
    where = "row %{customdata[0]}, column %{customdata[1]}"
    data = [
        dict(type="heatmap", name="input", z=stacked(images), x=x_edges(0, side_x), y=y_edges(side),
             zmin=0, zmax=255, colorscale=gray, showscale=False, hoverongaps=False, customdata=pixel,
             hovertemplate=f"<b>input</b> {where}<br>pixel %{{z}}<extra></extra>"),
        dict(type="heatmap", name=map_title, z=stacked(maps), x=x_edges(1, w), y=y_edges(h),
             zmin=zmin, zmax=zmax, colorscale=_stops(colorscale), hoverongaps=False, customdata=cells,
             hovertemplate=f"<b>{map_title}</b> {where}<br>{hover_label} "
                           f"%{{customdata[2]:{hover_format}}}<extra></extra>",
             colorbar=dict(title=dict(text=colorbar_title, side="top"), thickness=16,
                           len=min(0.85, 420 / max(height - 90, 1)), y=0.85, yanchor="top")),
        dict(type="heatmap", name="image", z=stacked(images), x=x_edges(2, side_x), y=y_edges(side),
             zmin=0, zmax=255 * DIM, colorscale=gray, showscale=False, hoverinfo="skip"),
        dict(type="heatmap", name="over the image", z=stacked(overlay), x=x_edges(2, side_x),
             y=y_edges(side), zmin=zmin, zmax=zmax, showscale=False, hoverongaps=False,
             colorscale=_stops(overlay_colorscale or colorscale), customdata=pixel,
             hovertemplate=f"<b>over the image</b> {where}<br>{hover_label} %{{z:{hover_format}}}<extra></extra>"),
    ]
    titles = ["<b>input</b><br>28x28", f"<b>{map_title}</b><br>{map_size or f'{h}x{w}'}",
              "<b>over the image</b><br>(darkened)"]
    axis = dict(showgrid=False, zeroline=False, showline=False, constrain="domain")
    layout = dict(
        annotations=[dict(x=c * step_x + (side_x - 1) / 2, y=-1.2, xref="x", yref="y", text=t,
                          showarrow=False, yanchor="bottom", font=dict(size=FONT_SIZE - 1))
                     for c, t in enumerate(titles)],
        xaxis=dict(axis, visible=False, range=[-0.5 - gap / 4, 3 * step_x - gap - 0.5 + gap / 4]),
        yaxis=dict(axis, scaleanchor="x", autorange=False, range=[n * step_y - gap - 0.5 + gap / 4, -0.5 - gap / 4],
                   tickmode="array", tickvals=tops + (side - 1) / 2, ticktext=list(row_labels), ticks="",
                   tickfont=dict(size=FONT_SIZE - 2), automargin=True),
        height=height, width=width, margin=dict(l=10, r=10, t=75, b=10), font=dict(size=FONT_SIZE),
        plot_bgcolor="white", hoverlabel=dict(font_size=FONT_SIZE), showlegend=False,
    )
    return fast_figure(data, layout)


def class_filter_grid(
    values: np.ndarray,
    *,
    class_names,
    raw: np.ndarray | None = None,
    order: np.ndarray | None = None,
    layer: str = "",
    colorscale=ACTIVATION_COLORSCALE,
    colorbar_title: str = "mean activation",
    zmax: float | None = None,
    selected: tuple[int, int] | None = None,
    per_band: int = 32,
    width: int = 900,
) -> go.Figure:
    """Classes (rows) x filters (columns) as square markers coloured by ``values`` (classes, F),
    so a click selects a cell (Plotly heatmap clicks do not reach Streamlit).

    More than ``per_band`` filters are drawn in bands of ``per_band`` columns, one under the
    other, each with the class names and the filter numbers, so the cells stay large enough for
    a projector. ``order``: the filters' order (by default 0, 1, 2, ...); ``raw``: the mean
    activations shown on hover; ``selected``: (class, filter) ringed. Each marker's
    ``customdata`` is [class, filter, raw value].
    """
    values = np.nan_to_num(np.asarray(values, dtype=np.float64))
    raw = values if raw is None else np.nan_to_num(np.asarray(raw, dtype=np.float64))
    classes, filters = values.shape
    order = np.arange(filters) if order is None else np.asarray(order, dtype=int)
    position = np.empty(filters, dtype=int)
    position[order] = np.arange(filters)
    bands = -(-filters // per_band)
    columns = -(-filters // bands)
    band_rows = classes + 1.6  # the band's classes and a gap holding the filter numbers
    left, right, top, bottom = 120, 140, 30, 10
    cell = (width - left - right) / columns
    height = int(round(cell * (bands * band_rows - 0.6) + top + bottom))

    def xy(cls, flt):
        pos = position[flt]
        return pos % columns, (pos // columns) * band_rows + cls

    cls, flt = np.mgrid[0:classes, 0:filters]
    cls, flt = cls.ravel(), flt.ravel()
    x, y = xy(cls, flt)
    peak = float(values.max()) if zmax is None else zmax
    data = [dict(
        type="scatter", mode="markers", name="cells", x=x, y=y,
        customdata=np.column_stack([cls, flt, raw[cls, flt]]),
        marker=dict(symbol="square", size=cell * 0.9, color=values[cls, flt], cmin=0,
                    cmax=peak if peak > 0 else 1.0, colorscale=plain_colorscale(colorscale),
                    line=dict(width=0),
                    colorbar=dict(title=dict(text=colorbar_title, side="top"), thickness=16,
                                  len=min(1.0, 300 / max(height - top - bottom, 1)), y=1, yanchor="top")),
        selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1)),
        hovertemplate="<b>%{text}</b>, filter %{customdata[1]}<br>mean activation %{customdata[2]:.3f}"
                      "<br>click: open it in the activation grid<extra></extra>",
        text=[class_names[c] for c in cls],
    )]
    if selected is not None:
        c, f = selected
        sx, sy = xy(np.array([c]), np.array([f]))
        data.append(dict(type="scatter", mode="markers", name="selected", x=sx, y=sy,
                         customdata=[[c, f, raw[c, f]]], hoverinfo="skip",
                         marker=dict(symbol="square-open", size=cell * 1.2,
                                     color=EVIDENCE_SELECTED_COLOR, line=dict(width=3))))
    annotations = [dict(x=p % columns, y=(p // columns) * band_rows - 0.75, text=str(order[p]),
                        xref="x", yref="y", showarrow=False, yanchor="bottom",
                        font=dict(size=min(FONT_SIZE - 4, int(cell * 0.6))))
                   for p in range(filters)]
    ticks = [b * band_rows + c for b in range(bands) for c in range(classes)]
    layout = dict(
        annotations=annotations,
        xaxis=dict(range=[-0.5, columns - 0.5], visible=False, fixedrange=True),
        yaxis=dict(range=[bands * band_rows - 1.1, -1.5], showgrid=False, zeroline=False, fixedrange=True,
                   tickmode="array", tickvals=ticks, ticktext=list(class_names)[:classes] * bands,
                   tickfont=dict(size=FONT_SIZE - 3)),
        width=width, height=height, margin=dict(l=left, r=right, t=top, b=bottom, autoexpand=False),
        font=dict(size=FONT_SIZE), plot_bgcolor="white", hoverlabel=dict(font_size=FONT_SIZE),
        showlegend=False, dragmode=False, clickmode="event+select", hovermode="closest",
    )
    return fast_figure(data, layout)
