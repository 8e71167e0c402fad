"""Tests for cnnviz.core.network_pictures: one picture per layer, and a click finding its value."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.core import network_pictures as pictures


def test_map_mosaic_places_every_map_and_finds_clicks():
    maps = np.zeros((26, 26, 64))
    maps[3, 5, 10] = 2.0
    picture, mosaic = pictures.map_mosaic(maps)
    assert mosaic.columns == 8 and mosaic.grid_rows == 8
    assert picture.shape[:2] == mosaic.size and picture.shape[1] <= pictures.TARGET_WIDTH
    y, x = mosaic.top_left(10)
    s = mosaic.scale
    assert mosaic.cell_at(x + 5 * s + s / 2, y + 3 * s + s / 2) == (10, 3, 5)
    assert tuple(picture[y + 3 * s, x + 5 * s]) != tuple(picture[y, x])  # the hot cell is coloured
    assert mosaic.cell_at(x + 26 * s, y) is None  # the gap after map 10
    assert mosaic.cell_at(-1, 0) is None and mosaic.cell_at(0, picture.shape[0] + 5) is None


def test_mosaic_of_an_uneven_count_has_no_value_past_the_last_map():
    picture, mosaic = pictures.map_mosaic(np.ones((5, 5, 10)))
    assert mosaic.columns == 4 and mosaic.grid_rows == 3
    y, x = mosaic.top_left(11)  # the 12th slot is empty
    assert mosaic.cell_at(x + 1, y + 1) is None
    assert tuple(picture[y + 1, x + 1]) == pictures.BACKGROUND


def test_vector_mosaic_reads_row_by_row():
    values = np.arange(1600, dtype=float)
    _, mosaic = pictures.vector_mosaic(values, columns=40)
    s = mosaic.scale
    assert mosaic.cell_at(7 * s + 1, 2 * s + 1) == (0, 2, 7)  # value 2 * 40 + 7
    _, small = pictures.vector_mosaic(np.ones(20), columns=5)
    assert small.map_shape == (4, 5) and small.cell_at(4 * small.scale + 1, 3 * small.scale + 1) == (0, 3, 4)
    _, odd_mosaic = pictures.vector_mosaic(np.ones(7), columns=3)
    assert odd_mosaic.cell_at(2 * odd_mosaic.scale + 1, 2 * odd_mosaic.scale + 1) is None  # past value 6


def test_input_is_gray_and_layers_signed():
    assert pictures.colours(np.array([0.0, 1.0]), limit=1.0, gray=True).tolist() == [[0, 0, 0], [255, 255, 255]]
    signed = pictures.colours(np.array([-1.0, 0.0, 1.0]), limit=1.0)
    assert signed[1].tolist() == [247, 247, 247] and signed[0, 2] > signed[0, 0] and signed[2, 0] > signed[2, 2]
    assert pictures.layer_limit(np.zeros(3)) > 0


def test_probability_picture_has_one_row_per_class():
    picture = pictures.probability_picture(np.full(10, 0.1), [f"class {k}" for k in range(10)])
    assert picture.shape[0] == 10 * pictures.PROBABILITY_ROW


def test_zoomed_map_frames_the_selected_cell():
    picture = pictures.zoomed_map(np.zeros((5, 5)), limit=1.0, selected=(1, 2), scale=10)
    assert picture.shape == (50, 50, 3)
    assert picture[10, 25].tolist() == [0, 0, 0]  # the frame's top edge
    assert picture[0, 0].tolist() == [247, 247, 247]


def test_bad_maps_are_refused():
    with pytest.raises(ValueError, match="expected"):
        pictures.map_mosaic(np.zeros((2, 2, 2, 2)))
