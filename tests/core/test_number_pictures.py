"""cnnviz.core.number_pictures: small matrices drawn with their numbers."""

import numpy as np
import pytest

from cnnviz.core import number_pictures as pictures
from cnnviz.core.palette import KEPT_COLOR, WINDOW_COLOR, rgb


@pytest.mark.parametrize("value, text", [(216.0, "216"), (-3.0, "-3"), (-0.25, "-0.25"), (1 / 3, "0.3333"),
                                         (1e7, "1e+07")])
def test_number_text(value, text):
    """Integers print as integers, everything else with up to 4 significant digits."""
    assert pictures.number_text(value) == text


def test_gray_cells_show_their_value_and_size_follows_the_matrix():
    """An 11x11 crop: RGB uint8, one cell per value; a cell's colour is its gray value."""
    values = np.full((11, 11), 200.0)
    values[0, 0] = 0
    picture = pictures.matrix_picture(values, origin=(328, 160))
    assert picture.dtype == np.uint8 and picture.ndim == 3 and picture.shape[2] == 3
    cell, top, left = pictures.CELL, 26, 40
    assert picture.shape[:2] == (top + 11 * cell + 8, left + 11 * cell + 8)
    assert tuple(picture[top + 3, left + 3]) == (0, 0, 0)  # corner of cell (0, 0), away from its number
    assert tuple(picture[top + cell + 3, left + cell + 3]) == (200, 200, 200)


def test_signed_cells_use_the_diverging_scale_and_frame_and_ring_are_drawn():
    """Signed: negative blue, positive red; the window frame red, the kept cell ringed orange."""
    values = np.array([[-4.0, 0.0], [0.0, 4.0]])
    picture = pictures.matrix_picture(values, signed=True, frame=(0, 2, 0, 2), ring=(1, 1))
    cell, top, left = pictures.CELL, 26, 40
    blue = picture[top + 8, left + 8]
    red = picture[top + cell + 14, left + cell + 14]
    assert blue[2] > blue[0] and red[0] > red[2]
    assert tuple(picture[top - 2, left + cell]) == rgb(WINDOW_COLOR)
    assert tuple(picture[top + cell + 4, left + cell + cell // 2]) == rgb(KEPT_COLOR)


def test_wide_numbers_widen_the_cells():
    """Cells grow so that the widest number fits."""
    narrow = pictures.matrix_picture(np.zeros((2, 2)))
    wide = pictures.matrix_picture(np.full((2, 2), -1234.567))
    assert wide.shape[1] > narrow.shape[1]


def test_arithmetic_picture_has_three_panels_side_by_side():
    """window x kernel = products: three panels of the kernel's shape and one height."""
    window = np.arange(9.0).reshape(3, 3)
    kernel = np.array([[-1.0, -2, -1], [0, 0, 0], [1, 2, 1]])
    picture = pictures.arithmetic_picture(window, kernel, window * kernel, origin=(5, 7))
    cell = pictures.CELL
    assert picture.shape[0] == 64 + 3 * cell + 8
    assert picture.shape[1] == 40 + 3 * 3 * cell + 2 * pictures.PANEL_GAP + 8


@pytest.mark.parametrize("shape", [(0, 3), (3,), (2, 2, 2)])
def test_not_a_matrix_is_refused(shape):
    with pytest.raises(ValueError, match="2-D"):
        pictures.matrix_picture(np.zeros(shape))


def test_stacked_puts_pictures_one_above_the_other_on_white():
    """Left-aligned, ``gap`` white rows between them, as wide as the widest."""
    from cnnviz.core.number_pictures import stacked

    a, b = np.zeros((3, 5, 3), np.uint8), np.full((2, 2, 3), 7, np.uint8)
    out = stacked([a, b], gap=4)
    assert out.shape == (3 + 4 + 2, 5, 3)
    assert (out[:3] == 0).all() and (out[3:7] == 255).all()
    assert (out[7:, :2] == 7).all() and (out[7:, 2:] == 255).all()
    with pytest.raises(ValueError):
        stacked([])
