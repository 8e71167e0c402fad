"""The training animation (one figure, a frame per snapshot) and the snapshot marks on the curves."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.figures import snapshots as figures
from cnnviz.figures.training import training_curves


def steps(count: int = 3, images: int = 2) -> list[dict]:
    rng = np.random.default_rng(0)
    return [{"label": label, "val_accuracy": None if i == 1 else 0.1 + 0.3 * i,
             "kernels": rng.normal(0, 0.1 * (i + 1), (8, 3, 3)),
             "columns": [("conv_1", rng.random((images, 26, 26))), ("pool_1", rng.random((images, 13, 13)))]}
            for i, label in enumerate(["random start", "epoch 1 · batch 10", "epoch 1"][:count])]


def test_one_frame_per_snapshot_updating_maps_and_kernels():
    images = np.zeros((2, 28, 28), np.uint8)
    fig = figures.training_animation(images, steps(), row_labels=["a", "b"], filter_index=0,
                                     kernel_layer="conv_1", colorscale="inferno")
    assert len(fig.frames) == 3
    assert [f.name for f in fig.frames] == ["0", "1", "2"]
    assert fig.frames[0].traces == (1, 2, 3)  # the two map columns and the kernels; the input stays
    assert "random start" in fig.layout.title.text and "not measured" in fig.frames[1].layout.title.text
    assert "70.0%" in fig.frames[2].layout.title.text
    limits = [f.data[-1].zmax for f in fig.frames]
    assert limits[0] < limits[-1]  # each snapshot's own colour range
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["▶ Play", "❚❚ Pause"]
    assert [s.label for s in fig.layout.sliders[0].steps] == ["start", "b10", "1"]


def test_no_snapshots_is_refused():
    with pytest.raises(ValueError, match="no snapshots"):
        figures.training_animation(np.zeros((1, 28, 28)), [], row_labels=["a"], filter_index=0,
                                   kernel_layer="conv_1", colorscale="inferno")


def test_curves_mark_the_snapshots_where_they_were_taken():
    history = {"loss": [1.0, 0.5], "accuracy": [0.6, 0.8], "val_loss": [0.9, 0.6], "val_accuracy": [0.65, 0.75]}
    points = [(0.0, "random start", 0.1), (0.2, "epoch 1 · batch 10", None), (1.0, "epoch 1", 0.65),
              (2.0, "epoch 2", 0.75)]
    fig = training_curves(history, total_epochs=2, snapshot_points=points)
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert sorted({s.x0 for s in lines}) == [0.0, 0.2, 1.0, 2.0] and len(lines) == 8  # on both plots
    marks = next(t for t in fig.data if t.name.startswith("weight snapshot"))
    assert list(marks.x) == [0.0, 1.0, 2.0] and list(marks.y) == [0.1, 0.65, 0.75]  # where measured
    assert fig.layout.xaxis.range[0] < 0  # the random start is in view
