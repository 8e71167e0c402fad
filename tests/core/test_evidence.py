"""Tests for cnnviz.core.evidence: patch positions, spreading patch results onto pixels,
upsampling, choosing images per class, and scaling the classes x filters grid."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.core import evidence as ev


def test_patch_starts_cover_the_far_edge():
    assert ev.patch_starts(28, 6, 2).tolist() == list(range(0, 23, 2))
    assert ev.patch_starts(28, 5, 4).tolist() == [0, 4, 8, 12, 16, 20, 23]
    assert ev.patch_starts(28, 28, 3).tolist() == [0]
    with pytest.raises(ValueError, match="patch"):
        ev.patch_starts(28, 0, 1)
    with pytest.raises(ValueError, match="stride"):
        ev.patch_starts(28, 3, 0)


def test_occluded_images_hide_one_square_each():
    image = np.full((28, 28), 255, np.uint8)
    batch, rows, cols = ev.occluded_images(image, 6, 2, fill=128)
    assert batch.shape == (144, 28, 28) and len(rows) == len(cols) == 12
    assert np.all((batch == 128).sum(axis=(1, 2)) == 36)
    assert np.all(batch[13, 2:8, 2:8] == 128) and batch[13, 0, 0] == 255  # row 1, column 1: start (2, 2)
    assert np.all(image == 255)  # the image itself is untouched


def test_spread_to_pixels_is_the_mean_of_the_covering_patches():
    rows = cols = ev.patch_starts(28, 6, 2)
    grid = np.arange(144, dtype=float).reshape(12, 12)
    pixels = ev.spread_to_pixels(grid, rows, cols, 6)
    assert pixels.shape == (28, 28)
    assert pixels[0, 0] == grid[0, 0]  # only the first patch covers the corner
    expected = np.mean([grid[i, j] for i in range(12) for j in range(12)
                        if rows[i] <= 10 < rows[i] + 6 and cols[j] <= 7 < cols[j] + 6])
    assert pixels[10, 7] == pytest.approx(expected)
    np.testing.assert_array_equal(ev.spread_to_pixels(np.ones((12, 12)), rows, cols, 6), np.ones((28, 28)))


def test_upsample_keeps_a_constant_and_the_shape():
    maps = np.stack([np.full((11, 11), 3.0), np.zeros((11, 11))])
    out = ev.upsample(maps)
    assert out.shape == (2, 28, 28)
    np.testing.assert_allclose(out[0], 3.0)
    np.testing.assert_allclose(out[1], 0.0)


def test_scaled_each_and_symmetric_limit():
    maps = np.array([[[1.0, 2.0]], [[0.0, 0.0]], [[-4.0, 2.0]]])
    np.testing.assert_allclose(ev.scaled_each(np.abs(maps))[0], [[0.5, 1.0]])
    np.testing.assert_allclose(ev.scaled_each(maps)[1], [[0.0, 0.0]])
    np.testing.assert_allclose(ev.scaled_each(maps, signed=True)[2], [[-1.0, 0.5]])
    assert ev.symmetric_limit(maps) == 4.0 and ev.symmetric_limit(np.zeros(3)) == 1.0


def test_first_per_class_and_class_means():
    labels = np.array([2, 0, 1, 0, 2, 1, 0])
    chosen = ev.first_per_class(labels, 2, classes=3)
    assert chosen.tolist() == [1, 3, 2, 5, 0, 4]
    values = np.arange(14, dtype=float).reshape(7, 2)
    means = ev.class_means(values[chosen], labels[chosen], classes=4)
    np.testing.assert_allclose(means[0], values[[1, 3]].mean(axis=0))
    assert np.isnan(means[3]).all()  # no image of class 3
    with pytest.raises(ValueError):
        ev.first_per_class(labels, 0)


def test_grid_scaling_and_grouping():
    means = np.array([[1.0, 0.0, 4.0], [2.0, 0.0, 1.0]])
    np.testing.assert_allclose(ev.grid_values(means, "filter"), [[0.5, 0.0, 1.0], [1.0, 0.0, 0.25]])
    np.testing.assert_allclose(ev.grid_values(means, "raw"), means)
    # filter 2 answers to class 0, filter 0 to class 1, filter 1 never fires: last
    assert ev.grouped_filter_order(means).tolist() == [2, 0, 1]
    with pytest.raises(ValueError):
        ev.grid_values(means, "nope")
