"""Tests for cnnviz.core.architecture: shapes, the limits a shared server enforces, the reference rows."""

from __future__ import annotations

import pytest

from cnnviz.core import architecture


def test_course_cnn_shapes():
    assert [s.size for s in architecture.cnn_shapes()] == [26, 13, 11, 5]


def test_shrinking_below_one_pixel_shows_the_arithmetic():
    with pytest.raises(architecture.ShapeError, match="conv_3: 4 - 5 \\+ 1 = 0"):
        architecture.cnn_shapes(kernel_size=5, blocks=3)


def test_check_training_accepts_the_pages_largest_choices():
    architecture.check_training(kind="custom", epochs=architecture.LIMITS["epochs"], batch_size=512,
                                train_size=architecture.LIMITS["train_size"], filters=128,
                                kernel_size=7, blocks=3, dense_units=200)


@pytest.mark.parametrize("change, name", [
    ({"epochs": 31}, "epochs"), ({"epochs": 0}, "epochs"), ({"batch_size": 4096}, "batch_size"),
    ({"train_size": 60_000}, "train_size"), ({"filters": 1024}, "filters"), ({"blocks": 4}, "blocks"),
    ({"dense_units": 10_000}, "dense_units"),
])
def test_check_training_refuses_what_a_shared_server_does_not_run(change, name):
    settings = dict(kind="cnn", epochs=3, batch_size=32, train_size=5000, filters=64, kernel_size=3,
                    blocks=2, dense_units=20) | change
    with pytest.raises(ValueError, match=f"^{name} must be from"):
        architecture.check_training(**settings)


def test_dense_units_of_a_dense_network_are_checked():
    with pytest.raises(ValueError, match="dense_units"):
        architecture.check_training(kind="dense", units=100_000, epochs=1, batch_size=32, train_size=500)


def test_reference_rows_say_their_source():
    rows = architecture.reference_rows()
    assert [r["model"].split(":")[0] for r in rows] == ["Course page", "Course page", "cnnviz"]
    assert all(r["ms / step"] is None for r in rows)  # nobody reported a time per step
