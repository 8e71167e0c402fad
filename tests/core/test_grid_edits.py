"""Tests for cnnviz.core.grid_edits: every edit message the browser may send, good or bad."""

import numpy as np
import pytest

from cnnviz.core.grid_edits import PIXEL_LIMITS, GridLimits, apply_edit, read_value

KERNEL = GridLimits(low=-1e6, high=1e6, whole=False, first_index=1)


def smiley() -> np.ndarray:
    return np.array([[0, 255, 0], [255, 0, 255], [0, 128, 0]], dtype=np.uint8)


def test_a_paint_stroke_writes_every_cell_and_counts_the_changes():
    """A stroke of three cells, one already at the brush value: two cells change, no message."""
    edit = apply_edit(smiley(), {"id": 4, "cells": [[0, 0, 200], [0, 1, 200], [1, 1, 255]]})
    assert edit.matrix[0].tolist() == [200, 200, 0] and edit.matrix[1, 1] == 255
    assert edit.changed == 3 and edit.messages == [] and edit.edit_id == 4
    assert edit.matrix.dtype == np.uint8


def test_the_input_matrix_is_not_changed():
    before = smiley()
    apply_edit(before, {"id": 1, "cells": [[0, 0, 99]]})
    assert before[0, 0] == 0


def test_a_typed_number_is_read_from_its_text():
    edit = apply_edit(smiley(), {"id": 1, "cells": [[2, 2, " 42 "]]})
    assert edit.matrix[2, 2] == 42 and edit.messages == []


@pytest.mark.parametrize("typed", ["lots", "", "   ", "12abc", "nan", "inf", "-inf", "1/0", "1/2/3", "0x10",
                                   "9" * 41, None, True, [1], {"v": 1}])
def test_a_value_that_is_not_a_number_keeps_the_cell_and_says_so(typed):
    """Text, empty cells, NaN, infinity, division by zero, over-long text, booleans, lists: the cell
    keeps its value and one message names the cell and the range."""
    edit = apply_edit(smiley(), {"id": 2, "cells": [[1, 0, typed]]})
    assert edit.matrix.tolist() == smiley().tolist() and edit.changed == 0
    assert len(edit.messages) == 1
    assert edit.messages[0].startswith("Row 1, column 0: ") and "is not a number from 0 to 255; kept 255." in edit.messages[0]


def test_garbage_is_quoted_in_the_message():
    edit = apply_edit(smiley(), {"id": 2, "cells": [[1, 1, "lots"]]})
    assert edit.messages == ["Row 1, column 1: 'lots' is not a number from 0 to 255; kept 0."]


def test_a_very_long_text_is_shortened_in_the_message():
    edit = apply_edit(smiley(), {"id": 2, "cells": [[0, 0, "x" * 500]]})
    assert len(edit.messages[0]) < 120 and "…" in edit.messages[0]


@pytest.mark.parametrize("typed, kept, message", [
    ("300", 255, "Row 0, column 0: 300 is outside 0..255; clipped to 255."),
    ("-5", 0, "Row 0, column 0: -5 is outside 0..255; clipped to 0."),
    (1e300, 255, "Row 0, column 0: 1e+300 is outside 0..255; clipped to 255."),
    ("7.6", 8, "Row 0, column 0: 7.6 is not a whole number; rounded to 8."),
    ("1/3", 0, "Row 0, column 0: 1/3 is not a whole number; rounded to 0."),
])
def test_out_of_range_values_are_clipped_and_fractions_rounded_with_a_message(typed, kept, message):
    edit = apply_edit(smiley(), {"id": 3, "cells": [[0, 0, typed]]})
    assert edit.matrix[0, 0] == kept and edit.messages == [message]


def test_a_kernel_takes_fractions_and_negatives_and_counts_from_1():
    kernel = np.zeros((3, 3))
    edit = apply_edit(kernel, {"id": 1, "cells": [[0, 0, "1/9"], [1, 1, -2.5], [2, 2, "2e7"], [2, 0, "x"]]}, KERNEL)
    assert edit.matrix[0, 0] == pytest.approx(1 / 9) and edit.matrix[1, 1] == -2.5 and edit.matrix[2, 2] == 1e6
    assert edit.messages == ["Row 3, column 3: 2e7 is outside -1000000..1000000; clipped to 1000000.",
                             "Row 3, column 1: 'x' is not a number from -1000000 to 1000000; kept 0."]
    assert edit.matrix.dtype == np.float64


@pytest.mark.parametrize("message", [None, "edit", 7, [], {"id": 1}, {"id": 1, "cells": "0,0,255"},
                                     {"cells": {"0": 1}}])
def test_a_message_that_cannot_be_read_changes_nothing(message):
    edit = apply_edit(smiley(), message)
    assert edit.matrix.tolist() == smiley().tolist() and edit.changed == 0
    assert edit.messages == ["The grid sent an edit that could not be read; nothing was changed."]


@pytest.mark.parametrize("cell", [[3, 0, 1], [0, 3, 1], [-1, 0, 1], [0, -1, 1], ["0", 0, 1], [0.5, 0, 1],
                                  [True, 0, 1], [None, 0, 1], [0, 0], [0, 0, 1, 2], "0,0,1", 5])
def test_cells_outside_the_matrix_or_malformed_are_left_out(cell):
    """Rows and columns must be whole numbers inside the matrix; the other cells still apply."""
    edit = apply_edit(smiley(), {"id": 5, "cells": [cell, [2, 2, 77]]})
    assert edit.matrix[2, 2] == 77 and edit.changed == 1
    assert edit.messages == ["1 cell of the edit named no cell of this 3x3 matrix; left out."]


def test_a_whole_float_index_is_accepted():
    assert apply_edit(smiley(), {"id": 1, "cells": [[1.0, 2.0, 9]]}).matrix[1, 2] == 9


def test_more_cells_than_the_matrix_has_is_refused_whole():
    edit = apply_edit(smiley(), {"id": 6, "cells": [[0, 0, 1]] * 10})
    assert edit.matrix.tolist() == smiley().tolist() and edit.edit_id == 6
    assert "names 10 cells but the matrix has only 9" in edit.messages[0]


@pytest.mark.parametrize("edit_id", ["7", 1.5, True, None])
def test_an_id_that_is_not_a_whole_number_is_dropped(edit_id):
    assert apply_edit(smiley(), {"id": edit_id, "cells": [[0, 0, 1]]}).edit_id is None


def test_only_2d_matrices_are_edited():
    with pytest.raises(ValueError, match="2-D"):
        apply_edit(np.zeros((2, 2, 3)), {"id": 1, "cells": []})


def test_limits_must_be_a_finite_range():
    with pytest.raises(ValueError):
        GridLimits(low=5, high=5)
    with pytest.raises(ValueError):
        GridLimits(low=0, high=float("inf"))
    assert PIXEL_LIMITS.describe() == "0 to 255"


@pytest.mark.parametrize("raw, value", [(3, 3.0), (-0.5, -0.5), ("1/4", 0.25), ("-3/4", -0.75), ("1e2", 100.0),
                                        (float("nan"), None), ("", None), (False, None), (b"1", None)])
def test_read_value(raw, value):
    assert read_value(raw) == value
