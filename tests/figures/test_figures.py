"""Tests for cnnviz.figures: the Activations page's grid (one heatmap per column, fast to draw)."""
from __future__ import annotations

import numpy as np
import pytest

from cnnviz.figures import network


@pytest.fixture
def grid_inputs():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(2, 28, 28), dtype=np.uint8)
    columns = [("conv_1", rng.random((2, 26, 26)) * 3), ("pool_1", rng.random((2, 13, 13)) - 0.5)]
    return images, columns


def grid(grid_inputs, **kwargs):
    images, columns = grid_inputs
    return network.activation_grid(images, columns, row_labels=["#0 Bag", "#5 Bag"], filter_index=1, **kwargs)


def test_activation_grid_one_heatmap_per_column(grid_inputs):
    fig = grid(grid_inputs)
    assert [t.name for t in fig.data] == ["input", "conv_1", "pool_1"]
    assert list(fig.layout.yaxis.ticktext) == ["#0 Bag", "#5 Bag"]
    assert [a.text for a in fig.layout.annotations] == [
        "<b>input</b><br>28x28", "<b>conv_1</b><br>26x26, filter 1", "<b>pool_1</b><br>13x13, filter 1"]


@pytest.mark.parametrize("scale", ["map", "layer"])
def test_activation_grid_hover_gives_the_real_values(grid_inputs, scale):
    """Each map's rows are stacked image after image with empty (NaN) rows between, one image per
    28 + 3 input rows; hover data holds the map's own row, column and real activation."""
    _, columns = grid_inputs
    trace = grid(grid_inputs, scale=scale).data[2]
    maps = columns[1][1]
    data = np.asarray(trace.customdata)
    assert data.shape == (31 + 13, 13, 3)
    np.testing.assert_allclose(data[31:, :, 2], maps[1], rtol=1e-6)
    assert data[31 + 4, 7, 0] == 4 and data[31 + 4, 7, 1] == 7
    z = np.asarray(trace.z)
    assert np.isnan(z[13:31]).all() and not np.isnan(z[:13]).any() and not np.isnan(z[31:]).any()
    if scale == "map":  # each map stretched over its own min..max
        assert z[:13].min() == 0 and z[:13].max() == pytest.approx(1)
        assert trace.coloraxis == "coloraxis"
    else:  # one range and one labelled colour bar per layer
        assert (trace.zmin, trace.zmax) == pytest.approx((maps.min(), maps.max()))
        assert "pool_1" in trace.colorbar.title.text


@pytest.mark.parametrize("input_axes, first, step", [(True, 2 * (28 + 3) + 7.5 - 0.5, 1.0),
                                                     (False, 2 * (28 + 3) - 0.5, 28 / 13)])
def test_activation_grid_input_axes_or_fill(grid_inputs, input_axes, first, step):
    """On the input's axes a 13x13 map sits centred in a 28x28 frame; otherwise it fills the cell."""
    fig = grid(grid_inputs, input_axes=input_axes)
    x = np.asarray(fig.data[2].x)
    assert x[0] == pytest.approx(first) and np.diff(x) == pytest.approx(np.full(13, step))
    assert bool(fig.layout.shapes) == input_axes  # the 28x28 frames


@pytest.mark.parametrize("input_axes", [True, False])
def test_activation_grid_cells_evenly_spaced(input_axes):
    """Evenly spaced cells in every column (gaps are whole empty rows) let plotly.js paint each
    heatmap as one pixelated image; on the input's axes every map pixel is one input pixel, and
    each image's map starts where its input's row starts (plus the centring offset)."""
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    columns = [(name, rng.random((3, h, h))) for name, h in [("conv_1", 26), ("pool_1", 13), ("conv_2", 11),
                                                              ("pool_2", 5)]]
    fig = network.activation_grid(images, columns, row_labels=["a", "b", "c"], filter_index=0,
                                  input_axes=input_axes)
    for trace in fig.data:
        for edges in (np.asarray(trace.x), np.asarray(trace.y)):
            assert np.ptp(np.diff(edges)) == pytest.approx(0, abs=1e-9), trace.name
        y, z = np.asarray(trace.y), np.asarray(trace.z)
        assert len(y) == len(z) + 1
        assert y[-1] - 0.5 <= 3 * 28 + 2 * 3 + 1  # the last image ends within its row (fill: within a row)
        if input_axes:
            h = next((m.shape[1] for name, m in columns if name == trace.name), 28)
            starts = [y[0] + 0.5 + r * 31 for r in range(3)]
            assert starts == pytest.approx([(28 - h) / 2 + r * 31 for r in range(3)])
            assert np.diff(y)[0] == 1.0


def test_activation_grid_refuses_unknown_scale(grid_inputs):
    with pytest.raises(ValueError, match="'image'"):
        grid(grid_inputs, scale="image")
