"""Tests for cnnviz.ml.models: the course's builders, training, the queue, saving and the shipped models."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnnviz.core import data
from cnnviz.ml import models
from cnnviz.core import architecture
from cnnviz.ml.queue import TrainingQueue
from cnnviz.ml import threads
from cnnviz.ml import training


@pytest.fixture(scope="module")
def fashion(data_dir):
    """The real Fashion-MNIST, prepared the course's way."""
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist_folder(
        data_dir / data.FASHION_FOLDER)
    return (data.prepare_images(x_train), y_train), (data.prepare_images(x_test), y_test)


def output_shapes(model):
    return [(layer.name, tuple(layer.output.shape[1:])) for layer in model.layers]


def test_cnn_matches_the_course_summary():
    """Layer names, output shapes and parameters as the course's model.summary() prints them."""
    model = models.build_cnn()
    assert output_shapes(model) == [
        ("conv_1", (26, 26, 64)), ("pool_1", (13, 13, 64)),
        ("conv_2", (11, 11, 64)), ("pool_2", (5, 5, 64)),
        ("flatten", (1600,)), ("dense_1", (20,)), ("output", (10,)),
    ]
    assert [layer.count_params() for layer in model.layers] == [640, 0, 36928, 0, 0, 32020, 210]
    assert model.count_params() == architecture.CNN_PARAMS == 69_798


def test_dense_matches_the_course():
    model = models.build_dense()
    assert output_shapes(model) == [("flatten", (784,)), ("dense_1", (20,)), ("output", (10,))]
    assert model.count_params() == architecture.DENSE_PARAMS == 15_910


def test_custom_cnn_parameters():
    """Filters, kernel size, blocks and dense units change the model as the arithmetic says."""
    model = models.build_cnn(filters=8, kernel_size=5, blocks=1, dense_units=16)
    assert output_shapes(model)[:3] == [("conv_1", (24, 24, 8)), ("pool_1", (12, 12, 8)),
                                        ("flatten", (1152,))]
    assert model.count_params() == (5 * 5 * 8 + 8) + (1152 * 16 + 16) + (16 * 10 + 10)


def test_cnn_shapes_arithmetic():
    assert [(s.name, s.size) for s in architecture.cnn_shapes(kernel_size=5, blocks=2)] == [
        ("conv_1", 24), ("pool_1", 12), ("conv_2", 8), ("pool_2", 4)]


def test_maps_below_one_pixel_are_refused_with_the_arithmetic():
    """Three 5x5 blocks on 28x28: 24, 12, 8, 4, then 0 -> refused, the steps shown."""
    with pytest.raises(architecture.ShapeError) as info:
        models.build_cnn(kernel_size=5, blocks=3)
    message = str(info.value)
    assert "conv_3: 4 - 5 + 1 = 0" in message
    assert "pool_2: floor(8 / 2) = 4" in message and "28 x 28" in message


def test_summary_rows_mark_shrinking_layers():
    rows = models.summary_rows(models.build_cnn())
    assert [r["layer"] for r in rows if r["shrinks"]] == ["conv_1", "pool_1", "conv_2", "pool_2"]
    assert rows[0]["output shape"] == "(None, 26, 26, 64)"
    assert sum(r["parameters"] for r in rows) == architecture.CNN_PARAMS


def test_queue_one_at_a_time_in_order():
    queue = TrainingQueue()
    a, b, c = queue.join("a"), queue.join("b"), queue.join("c")
    assert queue.try_acquire(a) and not queue.try_acquire(b) and not queue.try_acquire(c)
    assert (queue.position(a), queue.position(b), queue.position(c)) == (0, 1, 2)
    queue.release(a)
    assert not queue.try_acquire(c)  # b is first in line
    assert queue.try_acquire(b) and queue.position(c) == 1
    queue.release(b)
    queue.release(b)  # releasing twice is harmless
    assert queue.try_acquire(c) and len(queue) == 1


def test_queue_drops_tickets_not_heard_of():
    """A closed tab cannot hold the slot: stale tickets are dropped."""
    now = [0.0]
    queue = TrainingQueue(stale_after_s=10, clock=lambda: now[0])
    a, b = queue.join(), queue.join()
    assert queue.try_acquire(a)
    now[0] = 5
    queue.touch(b)
    now[0] = 12
    assert queue.position(a) is None and queue.try_acquire(b)


def test_queue_released_when_training_is_interrupted():
    """An exception inside the run (like Streamlit's StopException) still frees the slot."""
    queue = TrainingQueue()

    class Interrupt(BaseException):
        pass

    ticket = queue.join()
    with pytest.raises(Interrupt):
        try:
            assert queue.try_acquire(ticket)
            raise Interrupt
        finally:
            queue.release(ticket)
    assert not queue.running and len(queue) == 0


def test_short_training_improves_accuracy_and_reports_progress(fashion):
    """One epoch on 2,000 real images beats chance by far; the callback sees every batch."""
    (x_train, y_train), (x_test, y_test) = fashion
    x, y = data.subset(x_train, y_train, 2000, seed=0)
    x_val, y_val = x_test[:1000], y_test[:1000]
    keras.utils.set_random_seed(0)
    run = training.TrainingRun("cnn", models.build_cnn(filters=32), settings={})
    before = models.evaluate(run.model, x_val, y_val)["accuracy"]
    batches, epochs = [], []
    training.train(run, x, y, epochs=2, batch_size=40, validation_data=(x_val, y_val),
                 on_batch=lambda e, b, n: batches.append((e, b, n)),
                 on_epoch=lambda e, logs, s: epochs.append(e))
    assert run.status == "done" and run.epochs_done == 2 and epochs == [0, 1]
    assert batches[0] == (0, 0, 50) and batches[-1] == (1, 50, 50) and len(batches) == 2 * 51
    assert (0, 50, 50) in batches  # each epoch ends with all its batches done
    assert set(run.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    after = models.evaluate(run.model, x_val, y_val)["accuracy"]
    assert before < 0.3 and after > 0.6
    assert run.history["val_accuracy"][-1] == pytest.approx(after, abs=1e-3)


def test_interrupted_training_keeps_finished_epochs(fashion):
    """A hook that raises (a Stop click) ends fit; the run keeps what it had."""
    (x_train, y_train), _ = fashion
    x, y = x_train[:300], y_train[:300]
    run = training.TrainingRun("dense", models.build_dense(), settings={})

    class Stop(BaseException):
        pass

    def stop_in_second_epoch(epoch, batch, steps):
        if epoch == 1 and batch == 2:
            raise Stop

    with pytest.raises(Stop):
        training.train(run, x, y, epochs=5, batch_size=100, on_batch=stop_in_second_epoch)
    assert run.status == "stopped" and run.epochs_done == 1 and len(run.history["loss"]) == 1


def test_save_and_load_round_trip(tmp_path):
    """Saved without the optimizer, loaded in safe mode: same predictions."""
    model = models.compile_model(models.build_cnn(filters=4))
    path = models.save_model(model, tmp_path / "m.keras")
    loaded = models.load_model(path)
    x = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert models.model_bytes(model)[:2] == b"PK"  # a zip, as .keras files are


def test_save_refuses_other_suffixes(tmp_path):
    with pytest.raises(ValueError, match=".keras"):
        models.save_model(models.build_dense(), tmp_path / "m.h5")


def test_unexpected_layer_types_are_refused():
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Lambda(lambda t: t)])
    with pytest.raises(ValueError, match="Lambda"):
        models.check_layers(model)


@pytest.mark.parametrize("name, minimum, params", [("cnn", 0.91, 69_798), ("dense", 0.86, 15_910)])
def test_shipped_models_on_the_real_test_set(fashion, name, minimum, params):
    """The shipped models reach the required accuracy on all 10,000 test images, files <= 1 MB."""
    _, (x_test, y_test) = fashion
    path = models.SHIPPED_MODELS[name]
    assert path.stat().st_size <= 1_000_000
    model = models.load_shipped(name)
    assert model.count_params() == params
    assert models.evaluate(model, x_test, y_test)["accuracy"] >= minimum


def test_cnn_tolerates_shifts_better_than_dense(fashion):
    """The course's point: moved items hurt the dense network more than the CNN."""
    _, (x_test, y_test) = fashion
    shipped = {name: models.load_shipped(name) for name in ("dense", "cnn")}
    curves = models.accuracy_vs_shift(shipped, x_test[:1000], y_test[:1000], [0, 4])
    assert curves["cnn"][0] > curves["dense"][0]
    assert curves["dense"][1] < curves["dense"][0] - 0.1
    assert curves["cnn"][1] > curves["dense"][1]


def test_flip_augmentation_trains(fashion):
    """Training through the mirrored-batches pipeline runs and records every epoch."""
    (x_train, y_train), _ = fashion
    run = training.TrainingRun("dense", models.build_dense(), settings={})
    training.train(run, x_train[:300], y_train[:300], epochs=2, batch_size=100, flip=True, seed=0)
    assert run.status == "done" and run.epochs_done == 2


@pytest.mark.parametrize("validation", [["--validation", "holdout", "--early-stop", "1"],
                                        ["--validation", "none"]])
def test_command_line_trainer_writes_model_and_card(data_dir, monkeypatch, tmp_path, validation):
    """`python -m cnnviz.ml.train` on a small subset: a loadable model and a card with the command."""
    from cnnviz.ml import train

    monkeypatch.setenv(data.DATA_DIR_ENV, str(data_dir))
    out, card = tmp_path / "d.keras", tmp_path / "d.md"
    argv = ["--model", "dense", *validation, "--train-size", "500", "--epochs", "2",
            "--out", str(out), "--card", str(card)]
    assert train.main(argv) == 0
    assert models.load_model(out).count_params() == architecture.DENSE_PARAMS
    text = card.read_text()
    assert "python -m cnnviz.ml.train " + " ".join(argv) in text
    assert "15,910 parameters" in text and "test (10,000 images)" in text


def test_command_line_trainer_refuses_early_stopping_on_the_test_set(tmp_path):
    from cnnviz.ml import train

    with pytest.raises(SystemExit):
        train.parse_args(["--model", "cnn", "--early-stop", "3", "--out", str(tmp_path / "m.keras")])


def test_tensorflow_threads_are_capped_on_import():
    """Importing cnnviz.ui.models caps TensorFlow to CNNVIZ_TF_THREADS threads per op (default 1)."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = ("import cnnviz.ui.models; import tensorflow as tf; "
            "print(tf.config.threading.get_intra_op_parallelism_threads(), "
            "tf.config.threading.get_inter_op_parallelism_threads())")
    env = {**os.environ, threads.TF_THREADS_ENV: "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    assert out[-2:] == ["1", "1"]


def test_build_model_from_a_page_choice():
    assert models.build_model("dense", units=20).count_params() == architecture.DENSE_PARAMS
    assert models.build_model("cnn", filters=64, kernel_size=3, blocks=2,
                              dense_units=20).count_params() == architecture.CNN_PARAMS
    with pytest.raises(ValueError, match="'rnn'"):
        models.build_model("rnn")


def test_comparison_rows_and_step_ratio():
    """Course rows first; a run's seconds per epoch and per step come from its record."""
    def run(kind, seconds, model):
        r = training.TrainingRun(kind, model, settings={"kind": kind, "train_size": 1000,
                                                      "batch_size": 100})
        r.history = {"accuracy": [0.5, 0.7], "val_accuracy": [0.6, 0.65]}
        r.epoch_seconds = [seconds, seconds]
        r.status, r.test_accuracy = "done", 0.66
        return r

    rows = training.comparison_rows([run("dense", 1.0, models.build_dense()),
                                     run("cnn", 4.0, models.build_cnn())])
    references = len(architecture.reference_rows())
    assert [r["run"] for r in rows] == [False] * references + [True, True]
    assert rows[0]["model"].startswith("Course page: dense") and rows[0]["test accuracy"] == 0.8675
    assert rows[1]["model"].startswith("Course page: CNN") and rows[1]["train accuracy"] is None
    dense, cnn = rows[references:]
    assert cnn["parameters"] == architecture.CNN_PARAMS and cnn["epochs"] == 2
    assert cnn["s / epoch"] == 4.0 and cnn["ms / step"] == pytest.approx(400.0)
    assert dense["train accuracy"] == 0.7 and dense["validation accuracy"] == 0.65
    assert training.cnn_to_dense_step_ratio(rows) == pytest.approx(4.0)
    assert training.cnn_to_dense_step_ratio(rows[:references + 1]) is None


COURSE_PAGE_FIGURES = {"accuracy": 0.8932, "loss": 0.2944, "val_accuracy": 0.8675, "val_loss": 0.3820}
"""What the course page prints after its dense network's 20 epochs, and nothing else."""


def test_values_labelled_as_the_course_are_the_course_pages():
    """Every number attributed to the course is one the course page prints; its CNN row has none."""
    assert architecture.COURSE_PAGE_DENSE == {"epochs": 20, **COURSE_PAGE_FIGURES}
    course_rows = [r for r in architecture.reference_rows() if r["model"].startswith("Course")]
    numbers = {"train accuracy", "validation accuracy", "test accuracy", "s / epoch", "ms / step"}
    dense, cnn = course_rows
    assert {k: dense[k] for k in numbers} == {"train accuracy": 0.8932, "validation accuracy": None,
                                              "test accuracy": 0.8675, "s / epoch": None, "ms / step": None}
    assert all(cnn[k] is None for k in numbers) and "no results" in cnn["model"]


def test_shipped_cnn_row_matches_its_model_card():
    """The shipped CNN's reference row carries the figures its model card prints."""
    card = (models.ASSETS_DIR / "fashion_cnn.md").read_text()
    figures = architecture.SHIPPED_CNN_CARD
    assert f"| training ({figures['training_images']:,} images) | {figures['accuracy']:.4f} |" in card
    assert f"| validation | {figures['val_accuracy']:.4f} |" in card
    assert f"| **test (10,000 images)** | **{figures['test_accuracy']:.4f}** |" in card
    assert f"weights kept from epoch {figures['epochs']}." in card
    assert f"{figures['seconds_per_epoch']:.0f} s per\nepoch on average" in card
