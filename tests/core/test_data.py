"""Tests for cnnviz.core.data's Fashion-MNIST loading and the course's preparation."""

from __future__ import annotations

import gzip
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from cnnviz.core import data
from cnnviz.ml import datasets
from tests.conftest import ROOT


def write_idx(path, array: np.ndarray) -> None:
    """Write ``array`` (uint8) as a gzip-compressed IDX file."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def tiny_folder(tmp_path):
    """A data folder laid out like $CNNVIZ_DATA_DIR with 5 train and 3 test images."""
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    rng = np.random.default_rng(0)
    write_idx(folder / data.FASHION_FILES["train_images"], rng.integers(0, 256, (5, 28, 28)))
    write_idx(folder / data.FASHION_FILES["train_labels"], np.array([9, 0, 0, 3, 1]))
    write_idx(folder / data.FASHION_FILES["test_images"], rng.integers(0, 256, (3, 28, 28)))
    write_idx(folder / data.FASHION_FILES["test_labels"], np.array([9, 2, 1]))
    return tmp_path


def test_read_idx_round_trip(tmp_path):
    """An IDX file written by hand reads back with the same shape and values."""
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.gz", array)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "a.gz"), array)


def test_read_idx_rejects_other_files(tmp_path):
    """A gzip file that is not IDX is refused with a ValueError."""
    with gzip.open(tmp_path / "x.gz", "wb") as f:
        f.write(b"hello world")
    with pytest.raises(ValueError, match="not an unsigned-byte IDX"):
        data.read_idx(tmp_path / "x.gz")


def test_load_from_data_dir_env(tiny_folder, monkeypatch):
    """With CNNVIZ_DATA_DIR set, the four .gz files there are read (no Keras)."""
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tiny_folder))
    (x_train, y_train), (x_test, y_test) = datasets.load_fashion_mnist()
    assert x_train.shape == (5, 28, 28) and x_test.shape == (3, 28, 28)
    assert y_train.tolist() == [9, 0, 0, 3, 1] and y_test.tolist() == [9, 2, 1]
    assert x_train.dtype == np.uint8


def test_missing_file_in_data_dir_says_how_to_provide(tiny_folder, monkeypatch):
    """A data folder without the files gives DataUnavailable naming the variable and files."""
    (tiny_folder / "fashion-mnist" / data.FASHION_FILES["test_labels"]).unlink()
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tiny_folder))
    with pytest.raises(data.DataUnavailable) as info:
        datasets.load_fashion_mnist()
    assert data.DATA_DIR_ENV in str(info.value)
    assert "t10k-labels-idx1-ubyte.gz" in str(info.value)


def test_real_data_dir(data_dir, monkeypatch):
    """The reference folder holds all of Fashion-MNIST, labels in 0..9 (first: ankle boot)."""
    monkeypatch.setenv(data.DATA_DIR_ENV, str(data_dir))
    (x_train, y_train), (x_test, y_test) = datasets.load_fashion_mnist()
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert set(np.unique(y_train)) == set(range(10))
    assert data.CLASS_NAMES[y_train[0]] == "Ankle boot"
    assert np.bincount(y_test).tolist() == [1000] * 10


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No data folder, an empty Keras cache, and no network: as on an offline laptop."""
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    from keras.src.backend import config

    monkeypatch.setattr(config, "_KERAS_DIR", str(tmp_path / "keras-home"))

    def blocked(*args, **kwargs):
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket, "getaddrinfo", blocked)
    monkeypatch.setattr(socket.socket, "connect", blocked)


def test_offline_without_data_gives_clear_message_quickly(offline):
    """Offline with no folder: DataUnavailable within seconds, saying what to do."""
    started = time.monotonic()
    with pytest.raises(data.DataUnavailable) as info:
        datasets.load_fashion_mnist(timeout_s=30)
    assert time.monotonic() - started < 30
    message = str(info.value)
    assert data.DATA_DIR_ENV in message and "internet" in message


def test_keras_loader_that_hangs_is_given_up(monkeypatch):
    """A Keras download that never ends is abandoned after the time limit."""
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    from keras.datasets import fashion_mnist

    monkeypatch.setattr(fashion_mnist, "load_data", lambda: time.sleep(3))
    with pytest.raises(data.DataUnavailable, match="longer than"):
        datasets.load_fashion_mnist(timeout_s=0.2)


def test_data_module_does_not_import_tensorflow():
    """Loading the data module (and the data from a folder) keeps TensorFlow out."""
    code = ("import sys, cnnviz.core.data; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_prepare_images_course_steps():
    """Reshape to (N, 28, 28, 1) and scale 0..255 to 0..1, as float32."""
    images = np.full((2, 28, 28), 255, dtype=np.uint8)
    images[1] = 0
    prepared = data.prepare_images(images)
    assert prepared.shape == (2, 28, 28, 1) and prepared.dtype == np.float32
    assert prepared[0].max() == 1.0 and prepared[1].max() == 0.0


def test_prepare_images_rejects_other_sizes():
    with pytest.raises(ValueError, match="28x28"):
        data.prepare_images(np.zeros((2, 32, 32)))


def test_split_validation_holds_out_the_last_images():
    images, labels = np.arange(10), np.arange(10) % 3
    (a, b), (c, d) = data.split_validation(images, labels, validation_size=3)
    assert a.tolist() == list(range(7)) and c.tolist() == [7, 8, 9]
    assert b.tolist() == (np.arange(7) % 3).tolist()


def test_subset_is_random_but_reproducible():
    images, labels = np.arange(100), np.arange(100)
    a, la = data.subset(images, labels, 10, seed=1)
    b, _ = data.subset(images, labels, 10, seed=1)
    assert len(a) == 10 and a.tolist() == b.tolist() and (a == la).all()
    assert len(set(a.tolist())) == 10
    assert data.subset(images, labels, 500)[0] is images


@pytest.mark.parametrize("pixels, axis, expected", [
    (1, "x", [[0, 1, 2], [0, 4, 5], [0, 7, 8]]),
    (-1, "x", [[2, 3, 0], [5, 6, 0], [8, 9, 0]]),
    (2, "y", [[0, 0, 0], [0, 0, 0], [1, 2, 3]]),
    (0, "x", [[1, 2, 3], [4, 5, 6], [7, 8, 9]]),
    (5, "x", [[0, 0, 0], [0, 0, 0], [0, 0, 0]]),
])
def test_shift_images(pixels, axis, expected):
    """Shifting moves the content and fills the gap with zeros."""
    image = np.arange(1, 10).reshape(1, 3, 3)
    assert data.shift_images(image, pixels, axis=axis)[0].tolist() == expected


def test_shift_images_rejects_unknown_axis():
    with pytest.raises(ValueError, match="'z'"):
        data.shift_images(np.zeros((1, 3, 3)), 1, axis="z")
