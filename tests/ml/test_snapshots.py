"""Snapshots taken during a real (short) training at the promised points."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnnviz.core import data
from cnnviz.core.snapshots import SnapshotSeries, load_series
from cnnviz.ml import models, snapshots, training


@pytest.fixture(scope="module")
def fashion(data_dir):
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist_folder(data_dir / data.FASHION_FOLDER)
    return (data.prepare_images(x_train), y_train), (data.prepare_images(x_test), y_test)


def same(a, b) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def test_snapshots_at_the_promised_points(fashion):
    """6,560 images in batches of 32 = 205 batches: start, batches 10/50/200, then every epoch;
    the first equals the untrained model, the last the trained one."""
    (x_train, y_train), (x_test, y_test) = fashion
    keras.utils.set_random_seed(0)
    model = models.build_cnn(filters=8)
    untrained = model.get_weights()
    run = training.TrainingRun("cnn", model, settings={})
    series = SnapshotSeries()
    training.train(run, x_train[:6560], y_train[:6560], epochs=2, batch_size=32,
                   validation_data=(x_test[:500], y_test[:500]), snapshots=series)
    assert run.snapshots is series
    assert [(s.epoch, s.batch) for s in series] == [(0, 0), (0, 10), (0, 50), (0, 200), (1, 0), (2, 0)]
    assert same(series[0].weights, untrained)
    assert same(series[-1].weights, model.get_weights())
    assert not same(series[1].weights, series[0].weights)
    assert [s.val_accuracy for s in series[-2:]] == run.history["val_accuracy"]
    assert all(s.val_accuracy is None for s in series[:4])
    snapshots.measure_accuracies(series, model, x_test[:500], y_test[:500])
    accuracies = series.val_accuracies()
    assert all(a is not None for a in accuracies)
    assert accuracies[0] < 0.3 < accuracies[-1]  # random start ~ 1 in 10, trained far better
    assert snapshots.accuracy(model, x_test[:500], y_test[:500]) == pytest.approx(accuracies[-1], abs=0.002)


def test_a_short_epoch_has_only_the_points_it_reaches(fashion):
    (x_train, y_train), _ = fashion
    run = training.TrainingRun("dense", models.build_dense(), settings={})
    series = SnapshotSeries()
    training.train(run, x_train[:640], y_train[:640], epochs=1, batch_size=32, snapshots=series)
    assert series.labels == ["random start", "epoch 1 · batch 10", "epoch 1"]


def test_the_trainer_saves_snapshots_up_to_the_kept_epoch(data_dir, monkeypatch, tmp_path):
    """`--snapshots` on a small subset: a file the model's shapes match, the card describes it."""
    from cnnviz.ml import train

    monkeypatch.setenv(data.DATA_DIR_ENV, str(data_dir))
    out, card, snaps = tmp_path / "d.keras", tmp_path / "d.md", tmp_path / "d_snapshots.npz"
    argv = ["--model", "dense", "--validation", "holdout", "--early-stop", "1", "--train-size", "800",
            "--epochs", "3", "--out", str(out), "--card", str(card), "--snapshots", str(snaps)]
    assert train.main(argv) == 0
    model = models.load_model(out)
    series = load_series(snaps, expected_shapes=[w.shape for w in model.get_weights()])
    assert series.labels[:2] == ["random start", "epoch 1 · batch 10"]
    assert all(a is not None for a in series.val_accuracies())
    for got, want in zip(series[-1].weights, model.get_weights()):  # the kept weights, as float16
        np.testing.assert_allclose(got, want, atol=2e-3, rtol=2e-3)
    text = card.read_text()
    assert f"{snaps.stat().st_size:,} bytes" in text and "| random start |" in text


def test_snapshots_sharing_one_copy_give_each_their_own_maps_and_kernels(fashion):
    """Two snapshots on one SnapshotScratch, asked in turn: each gives what a model holding its
    weights gives (the copy is reloaded when needed), and the original model is left alone."""
    from cnnviz.ml.activations import ActivationModel

    (x_train, y_train), (x_test, _) = fashion
    keras.utils.set_random_seed(1)
    model = models.build_cnn(filters=4)
    run = training.TrainingRun("cnn", model, settings={})
    series = SnapshotSeries()
    training.train(run, x_train[:640], y_train[:640], epochs=1, batch_size=32, snapshots=series)
    trained = [w.copy() for w in model.get_weights()]
    images = (x_test[:2, ..., 0] * 255).astype(np.uint8)
    scratch = snapshots.SnapshotScratch(model)
    start, end = (snapshots.snapshot_explorer(model, series[i], scratch) for i in (0, -1))
    for _ in range(2):  # in turn, twice: cached and reloaded
        for explorer, snapshot in ((start, series[0]), (end, series[-1])):
            reference = keras.models.clone_model(model)
            reference.set_weights(list(snapshot.weights))
            expected = ActivationModel(reference)
            np.testing.assert_allclose(explorer.maps(images, "conv_1"), expected.maps(images, "conv_1"), rtol=1e-5)
            np.testing.assert_allclose(explorer.probabilities(images), expected.probabilities(images), rtol=1e-5)
            np.testing.assert_array_equal(explorer.first_conv_kernels()[0], expected.first_conv_kernels()[0])
    many = (x_test[:snapshots.PASS_BATCH + 3, ..., 0] * 255).astype(np.uint8)  # two calls of the compiled pass
    reference = keras.models.clone_model(model)
    reference.set_weights(list(series[-1].weights))
    np.testing.assert_allclose(end.maps(many, "conv_1"), ActivationModel(reference).maps(many, "conv_1"),
                               rtol=1e-5, atol=1e-5)
    assert same(model.get_weights(), trained)
    with pytest.raises(ValueError, match="shapes"):
        snapshots.snapshot_explorer(model, SnapshotSeries().add(0, 0, [np.zeros(3)]), scratch)
