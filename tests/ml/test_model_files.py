"""Tests for cnnviz.ml.model_files: every upload check, with bad files built here in tmp_path."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest


from cnnviz.ml import model_files as mf  # noqa: E402
from cnnviz.ml.models import build_cnn, build_dense  # noqa: E402


@pytest.fixture(scope="module")
def cnn_bytes(tmp_path_factory) -> bytes:
    """A small valid CNN saved as .keras (4 filters: quick)."""
    path = tmp_path_factory.mktemp("models") / "cnn.keras"
    build_cnn(filters=4, dense_units=8).save(path)
    return path.read_bytes()


def saved(model, folder: Path, name: str) -> bytes:
    path = folder / name
    model.save(path)
    return path.read_bytes()


def with_config(data: bytes, change) -> bytes:
    """A copy of a .keras archive whose config.json was changed by ``change(config)``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info)
            if info.filename == "config.json":
                config = json.loads(content)
                change(config)
                content = json.dumps(config).encode()
            dst.writestr(info.filename, content)
    return out.getvalue()


def refused(data: bytes, name: str, match: str) -> None:
    with pytest.raises(mf.ModelFileError, match=match):
        mf.open_model_bytes(data, name)


def test_good_keras_file_loads(cnn_bytes):
    explorer = mf.open_model_bytes(cnn_bytes, "mine.keras")
    assert explorer.map_layers() == ["conv_1", "pool_1", "conv_2", "pool_2"]
    assert explorer.shape("conv_1") == (26, 26, 4)


def test_legacy_h5_loads_through_the_same_checks(tmp_path):
    model = build_cnn(filters=4, dense_units=8)
    explorer = mf.open_model_bytes(saved(model, tmp_path, "old.h5"), "old.h5")
    assert explorer.shape("pool_2") == (5, 5, 4)


def lambda_model():
    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Lambda(lambda x: x * 2.0),
                             keras.layers.Conv2D(2, 3), keras.layers.Flatten(), keras.layers.Dense(10)])


@pytest.mark.parametrize("name", ["lambda.keras", "lambda.h5"])
def test_lambda_model_refused(tmp_path, name):
    """A model carrying Python code is refused, in .keras and legacy .h5 alike."""
    refused(saved(lambda_model(), tmp_path, name), name, "contains Python code")


def fake_child(monkeypatch, spec: dict) -> None:
    """Make the sandboxed child's answer ``spec`` (as if the child had been fooled)."""
    monkeypatch.setattr(mf, "_child_result", lambda outcome: {"ok": True, "spec": spec})


def cnn_spec(cnn_bytes) -> dict:
    config = json.loads(zipfile.ZipFile(io.BytesIO(cnn_bytes)).read("config.json"))
    return mf.model_spec(config)


def test_lambda_refused_even_past_the_child(cnn_bytes, monkeypatch):
    """Were the child fooled into passing a Lambda, the server's own check of its answer refuses it."""
    spec = cnn_spec(cnn_bytes)
    spec["layers"].insert(0, {"type": "Lambda", "name": "code"})
    fake_child(monkeypatch, spec)
    refused(cnn_bytes, "l.keras", "Python code")


def test_wrong_input_shape_refused(tmp_path):
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(2, 3), keras.layers.Flatten(),
                              keras.layers.Dense(10)])
    refused(saved(model, tmp_path, "rgb.keras"), "rgb.keras", r"expects inputs of shape \(32, 32, 3\)")


def test_wrong_input_refused_after_the_child(cnn_bytes, monkeypatch):
    """The server checks the child's answer again (here the child is made to pass a 32x32x3 input)."""
    spec = cnn_spec(cnn_bytes)
    spec["input"]["shape"] = [32, 32, 3]
    fake_child(monkeypatch, spec)
    refused(cnn_bytes, "rgb.keras", r"expects inputs of shape \(32, 32, 3\)")


def test_wrong_input_refused_by_check_model():
    """A Keras model in memory (the Train page's) goes through the same input check."""
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(2, 3), keras.layers.Flatten(),
                              keras.layers.Dense(10)])
    with pytest.raises(mf.ModelFileError, match=r"expects inputs of shape \(32, 32, 3\)"):
        mf.check_model(model)


def test_model_without_conv_refused(tmp_path):
    refused(saved(build_dense(), tmp_path, "dense.keras"), "dense.keras", "no Conv2D layer")


def test_wrong_number_of_outputs_refused(tmp_path):
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(2, 3), keras.layers.Flatten(),
                              keras.layers.Dense(3)])
    refused(saved(model, tmp_path, "three.keras"), "three.keras", "10 numbers")


def test_layer_outside_allowlist_refused(tmp_path):
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.GaussianNoise(0.1),
                              keras.layers.Conv2D(2, 3), keras.layers.Flatten(), keras.layers.Dense(10)])
    refused(saved(model, tmp_path, "noise.keras"), "noise.keras", "GaussianNoise")


def test_custom_module_refused(cnn_bytes):
    def change(config):
        config["config"]["layers"][1]["module"] = "evil.layers"
    refused(with_config(cnn_bytes, change), "evil.keras", "custom layer classes")


def test_huge_architecture_refused_before_loading(cnn_bytes, monkeypatch):
    """A config asking for billions of parameters is refused without Keras building it."""
    def change(config):
        config["config"]["layers"][-2]["config"]["units"] = 10**9
    monkeypatch.setattr(keras.saving, "load_model", lambda *a, **k: pytest.fail("Keras was called"))
    refused(with_config(cnn_bytes, change), "big.keras", "parameters; the limit is")


def test_zip_bomb_refused_before_unpacking(cnn_bytes, monkeypatch):
    """Members' declared uncompressed sizes are added up before anything is decompressed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(cnn_bytes)) as src, \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
        dst.writestr("padding.bin", b"\0" * (mf.MAX_UNCOMPRESSED_BYTES + 1))
    data = out.getvalue()
    assert len(data) < mf.MAX_FILE_BYTES  # small on disk, huge unpacked
    monkeypatch.setattr(zipfile.ZipFile, "read", lambda *a, **k: pytest.fail("a member was read"))
    refused(data, "bomb.keras", "would unpack to")


def test_h5_shape_bomb_refused(tmp_path, monkeypatch):
    """An HDF5 dataset declaring gigabytes but storing nothing is refused before Keras reads it."""
    import h5py

    path = tmp_path / "bomb.h5"
    build_cnn(filters=2, dense_units=4).save(path)
    with h5py.File(path, "a") as f:
        f.create_dataset("bomb", shape=(100_000, 100_000), dtype="float32", chunks=(100, 100),
                         compression="gzip")
    monkeypatch.setattr(keras.saving, "load_model", lambda *a, **k: pytest.fail("Keras was called"))
    refused(path.read_bytes(), "bomb.h5", "declares")


@pytest.mark.parametrize(
    "data, name, match",
    [
        (b"", "empty.keras", "empty"),
        (b"hello, I am a text file", "notes.keras", "not a Keras model file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "picture.h5", "not a Keras model file"),
        (b"PK\x03\x04 broken zip", "broken.keras", "not a valid zip"),
        (b"hello", "model.pkl", "must end in .keras or .h5"),
    ],
)
def test_not_a_keras_file_refused(data, name, match):
    refused(data, name, match)


def test_zip_without_config_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("readme.txt", "hello")
    refused(out.getvalue(), "other.keras", "no config.json")


def test_name_must_match_content(cnn_bytes):
    refused(cnn_bytes, "model.h5", "its content is a .keras")


def test_h5_without_model_refused(tmp_path):
    import h5py

    path = tmp_path / "weights.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("w", data=np.zeros(3))
    refused(path.read_bytes(), "weights.h5", "no model architecture")


def test_too_large_file_refused(monkeypatch, cnn_bytes):
    monkeypatch.setattr(mf, "MAX_FILE_BYTES", 1000)
    refused(cnn_bytes, "mine.keras", "the limit is")


def test_temporary_copy_is_deleted(cnn_bytes, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    mf.open_model_bytes(cnn_bytes, "mine.keras")
    assert not list(tmp_path.glob("cnnviz-upload-*"))


def test_open_model_file(tmp_path, cnn_bytes):
    path = tmp_path / "m.keras"
    path.write_bytes(cnn_bytes)
    assert mf.open_model_file(path).shape("conv_2") == (11, 11, 4)


def test_safe_mode_never_disabled():
    """Uploads are never deserialised by Keras (the model is rebuilt from checked fields); the
    shipped models load in safe mode; nothing in the library turns safe mode off."""
    import re

    library = Path(mf.__file__).parent
    uploads = Path(mf.__file__).read_text()
    assert not re.search(r"load_model\(|from_config\(|deserialize", uploads)
    assert "safe_mode=True" in (library / "models.py").read_text()
    for module in library.glob("*.py"):
        source = module.read_text()
        assert not re.search(r"safe_mode\s*=\s*False", source), module.name
        assert "unsafe_deserialization" not in source, module.name
