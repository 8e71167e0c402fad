"""Tests for cnnviz.figures.evidence: the rows of evidence maps and the clickable classes x filters grid."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.core.data import CLASS_NAMES
from cnnviz.core.palette import HEAT_COLORSCALE, HEAT_OVERLAY_COLORSCALE
from cnnviz.figures import evidence


@pytest.fixture
def rows():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(2, 28, 28), dtype=np.uint8), rng.random((2, 11, 11))


def test_evidence_grid_image_map_and_overlay(rows):
    images, maps = rows
    fig = evidence.evidence_grid(
        images, maps, row_labels=["#0 Bag", "#5 Bag"], map_title="Grad-CAM on conv_2",
        overlay=np.zeros((2, 28, 28)), colorscale=HEAT_COLORSCALE, overlay_colorscale=HEAT_OVERLAY_COLORSCALE,
        zmin=0, zmax=1, hover_label="Grad-CAM", colorbar_title="Grad-CAM")
    assert [t.name for t in fig.data] == ["input", "Grad-CAM on conv_2", "image", "over the image"]
    assert list(fig.layout.yaxis.ticktext) == ["#0 Bag", "#5 Bag"]
    assert "11x11" in fig.layout.annotations[1].text
    data = np.asarray(fig.data[1].customdata)
    assert data.shape == (2 * 12 - 1, 11, 3)  # two maps stacked with one empty row between
    np.testing.assert_allclose(data[12:, :, 2], maps[1])
    # the coarse map fills the 28-pixel cell: 11 cells, 12 edges, 28 pixels wide
    x = np.asarray(fig.data[1].x)
    assert len(x) == 12 and x[-1] - x[0] == pytest.approx(28)
    # the overlay keeps transparency (rgba stops), and its image is dimmed
    assert any("rgba" in str(c) for _, c in fig.data[3].colorscale)
    assert fig.data[2].zmax > 255


def test_evidence_grid_hover_values(rows):
    images, _ = rows
    shown, raw = np.full((2, 28, 28), 0.5), np.full((2, 28, 28), 7.0)
    fig = evidence.evidence_grid(images, shown, row_labels=["a", "b"], map_title="|gradient|",
                                 colorscale=HEAT_COLORSCALE, zmin=0, zmax=1, hover_label="g",
                                 colorbar_title="g", hover_values=raw)
    assert np.nanmax(np.asarray(fig.data[1].customdata)[..., 2]) == 7.0


def test_class_filter_grid_markers_know_their_class_and_filter():
    rng = np.random.default_rng(0)
    means = rng.random((10, 64))
    order = np.argsort(-means[9])
    fig = evidence.class_filter_grid(means, class_names=CLASS_NAMES, layer="conv_2", order=order,
                                     selected=(9, int(order[0])))
    cells = fig.data[0]
    assert cells.type == "scatter" and cells.marker.symbol == "square"  # markers: clicks reach Streamlit
    data = np.asarray(cells.customdata)
    assert data.shape == (640, 3)
    k = 9 * 64 + 5  # class 9, filter 5
    assert data[k].tolist()[:2] == [9, 5] and data[k, 2] == pytest.approx(means[9, 5])
    band_rows = 10 + 1.6
    position = int(np.flatnonzero(order == 5)[0])
    assert cells.x[k] == position % 32 and cells.y[k] == pytest.approx(position // 32 * band_rows + 9)
    ring = fig.data[1]
    assert ring.x[0] == 0 and ring.y[0] == pytest.approx(9)  # the filter that answers most to class 9 comes first
    assert [a.text for a in fig.layout.annotations][:3] == [str(f) for f in order[:3]]
    assert list(fig.layout.yaxis.ticktext) == list(CLASS_NAMES) * 2  # two bands of 32 filters


def test_class_filter_grid_small_layer_is_one_band():
    fig = evidence.class_filter_grid(np.ones((10, 4)), class_names=CLASS_NAMES)
    assert list(fig.layout.yaxis.ticktext) == list(CLASS_NAMES)
    assert np.asarray(fig.data[0].x).max() == 3
