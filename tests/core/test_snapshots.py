"""cnnviz.core.snapshots: labels, the memory budget, files."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.core import snapshots
from cnnviz.core.snapshots import Snapshot, SnapshotFileError, SnapshotSeries, early_batches, load_series


def weights(value: float, size: int = 250):
    return [np.full((size,), value, dtype=np.float32), np.full((2, 2), value, dtype=np.float32)]


def test_labels_name_epoch_and_batch():
    assert Snapshot(0, 0, ()).label == "random start"
    assert Snapshot(0, 50, ()).label == "epoch 1 · batch 50"
    assert Snapshot(3, 0, ()).label == "epoch 3"


@pytest.mark.parametrize("steps, expected", [(5, ()), (11, (10,)), (200, (10, 50)), (201, (10, 50, 200))])
def test_early_points_only_where_the_epoch_has_them(steps, expected):
    assert early_batches(steps) == expected


def test_add_copies_the_weights():
    series = SnapshotSeries()
    w = weights(1.0)
    series.add(0, 0, w)
    w[0][:] = 5
    assert series[0].weights[0][0] == 1.0


def test_budget_thins_epoch_snapshots_but_keeps_start_early_and_newest():
    one = sum(w.nbytes for w in weights(0))
    series = SnapshotSeries(budget_bytes=8 * one)
    series.add(0, 0, weights(0))
    series.add(0, 10, weights(0.1))
    for epoch in range(1, 21):
        series.add(epoch, 0, weights(epoch), val_accuracy=epoch / 100)
        assert series.nbytes <= series.budget_bytes
    assert series.labels[:2] == ["random start", "epoch 1 · batch 10"]
    assert series[-1].label == "epoch 20"
    assert series.thinned == 22 - len(series)
    kept = [s.epoch for s in series.epoch_snapshots]
    assert kept == sorted(kept) and len(kept) >= 3


def test_up_to_epoch_drops_the_later_ones():
    series = SnapshotSeries()
    for point in [(0, 0), (0, 10), (1, 0), (2, 0), (3, 0)]:
        series.add(*point, weights(point[0]))
    assert series.up_to_epoch(2).labels == ["random start", "epoch 1 · batch 10", "epoch 1", "epoch 2"]


def test_file_round_trip_as_float16(tmp_path):
    series = SnapshotSeries()
    series.add(0, 0, weights(0.125))
    series.add(1, 0, weights(-0.3), val_accuracy=0.81)
    path = tmp_path / "s.npz"
    series.save(path)
    back = load_series(path, expected_shapes=[(250,), (2, 2)])
    assert back.labels == series.labels
    assert back.val_accuracies() == [None, 0.81]
    np.testing.assert_allclose(back[1].weights[0], -0.3, rtol=1e-3)
    assert back[1].weights[0].dtype == np.float32


def test_a_bad_file_is_refused_in_words(tmp_path):
    path = tmp_path / "bad.npz"
    path.write_bytes(b"not a zip")
    with pytest.raises(SnapshotFileError, match="could not be read"):
        load_series(path)
    series = SnapshotSeries()
    series.add(0, 0, weights(0))
    series.save(path)
    with pytest.raises(SnapshotFileError, match="shapes"):
        load_series(path, expected_shapes=[(3,)])


def test_the_session_budget_holds_a_long_course_cnn_training():
    """Every point of a 30-epoch course CNN training (69,798 float32 weights) fits the budget."""
    assert (1 + len(snapshots.EARLY_BATCHES) + 30) * 69_798 * 4 <= snapshots.SESSION_BUDGET_BYTES
