"""Hostile model files against cnnviz.ml.model_files, its sandbox and its schema.

Every file is built here, in memory or in tmp_path; each refusal is asserted by its own
reason, within bounds on the test process (the "server") — memory growth under 300 MB,
under 5 s — and with every Keras setting unchanged.
"""

from __future__ import annotations

import io
import json
import resource
import signal
import stat
import tempfile
import time
import zipfile
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest


from cnnviz.ml import model_files as mf  # noqa: E402
from cnnviz.core import sandbox  # noqa: E402
from cnnviz.ml import model_schema, model_spec  # noqa: E402
from cnnviz.ml.models import SHIPPED_MODELS, build_cnn, compile_model, save_model  # noqa: E402

MEMORY_BOUND = 300 * 2**20
TIME_BOUND = 5.0


# --- Building files ------------------------------------------------------------------


@pytest.fixture(scope="module")
def cnn_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("models") / "cnn.keras"
    build_cnn(filters=4, dense_units=8).save(path)
    return path.read_bytes()


@pytest.fixture(scope="module")
def cnn_h5(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("models") / "cnn.h5"
    build_cnn(filters=4, dense_units=8).save(path)
    return path


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {info.filename: z.read(info) for info in z.infolist()}


def archive(contents: dict, *, compression=zipfile.ZIP_STORED) -> bytes:
    """A zip of ``contents`` (name -> bytes, or name -> (ZipInfo, bytes))."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as z:
        for name, content in contents.items():
            if isinstance(content, tuple):
                z.writestr(*content)
            else:
                z.writestr(name, content)
    return out.getvalue()


def config_of(data: bytes) -> dict:
    return json.loads(members(data)["config.json"])


def with_config(data: bytes, change=None, *, text=None) -> bytes:
    """The archive with config.json changed by ``change(config)`` or replaced by ``text(json_text)``."""
    contents = members(data)
    if change is not None:
        config = json.loads(contents["config.json"])
        change(config)
        contents["config.json"] = json.dumps(config).encode()
    if text is not None:
        contents["config.json"] = text(contents["config.json"].decode()).encode()
    return archive(contents)


def layer_config(config: dict, name: str) -> dict:
    return next(e for e in config["config"]["layers"] if e["config"]["name"] == name)["config"]


def set_in_layer(layer_name: str, /, **values):
    def change(config):
        layer_config(config, layer_name).update(values)
    return change


def with_weights(data: bytes, tmp_path: Path, change) -> bytes:
    """The archive with model.weights.h5 changed by ``change(h5py.File)``."""
    contents = members(data)
    path = tmp_path / "weights.h5"
    path.write_bytes(contents["model.weights.h5"])
    with h5py.File(path, "a") as f:
        change(f)
    contents["model.weights.h5"] = path.read_bytes()
    return archive(contents)


def with_h5(source: Path, tmp_path: Path, change) -> bytes:
    path = tmp_path / "changed.h5"
    path.write_bytes(source.read_bytes())
    with h5py.File(path, "a") as f:
        change(f)
    return path.read_bytes()


# --- Bounds and Keras' settings -------------------------------------------------------------


def keras_settings() -> dict:
    """Every process-wide Keras setting a hostile file might try to change."""
    from keras.src.backend.common import global_state
    from keras.src.saving import serialization_lib

    c = keras.config
    settings = {
        "floatx": c.floatx(), "epsilon": c.epsilon(), "image_data_format": c.image_data_format(),
        "dtype_policy": c.dtype_policy().name, "backend": c.backend(),
        "interactive_logging": c.is_interactive_logging_enabled(),
        "traceback_filtering": c.is_traceback_filtering_enabled(),
        "in_safe_mode": serialization_lib.in_safe_mode(),
        "safe_mode_saving": global_state.get_global_attribute("safe_mode_saving"),
    }
    for getter in ("max_epochs", "max_steps_per_epoch", "is_flash_attention_enabled", "is_nnx_enabled"):
        if hasattr(c, getter):
            try:
                settings[getter] = getattr(c, getter)()
            except Exception as exc:  # noqa: BLE001 - a getter this backend lacks
                settings[getter] = type(exc).__name__
    return settings


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def refused_within_bounds(data: bytes, name: str, match: str) -> str:
    """Refused with a message matching ``match``; the server's memory and time bounded; Keras untouched."""
    before, rss, start = keras_settings(), peak_rss(), time.perf_counter()
    with pytest.raises(mf.ModelFileError, match=match) as info:
        mf.open_model_bytes(data, name)
    elapsed, grown = time.perf_counter() - start, peak_rss() - rss
    assert grown < MEMORY_BOUND, f"the server grew by {grown / 2**20:.0f} MB"
    assert elapsed < TIME_BOUND, f"took {elapsed:.1f} s"
    assert keras_settings() == before
    message = str(info.value)
    assert "Traceback" not in message and len(message) <= 1000
    if "Lambda" not in match and "Python code" not in match:
        assert "Python code" not in message
    return message


# --- The corpus: (id, build(cnn_bytes, cnn_h5, tmp_path) -> (bytes, name), reason) -------------


def two_inputs(cnn, h5, tmp):
    """A functional model whose second input (100000,) feeds a Dense layer: 100M parameters."""
    image = keras.Input((28, 28, 1), name="image")
    side = keras.Input((7,), name="side")
    x = keras.layers.Conv2D(2, 3, name="conv")(image)
    x = keras.layers.Flatten(name="flat")(x)
    out = keras.layers.Dense(10, name="out")(x)
    extra = keras.layers.Dense(3, name="big")(side)
    path = tmp / "two.keras"
    keras.Model([image, side], [out, extra]).save(path)

    def change(config):
        layer_config(config, "side")["batch_shape"] = [None, 100000]
        layer_config(config, "big")["units"] = 1000
    return with_config(path.read_bytes(), change), "two.keras"


def nested_model(cnn, h5, tmp):
    def change(config):
        inner = config_of(cnn)
        config["config"]["layers"].insert(1, inner)
    return with_config(cnn, change), "nested.keras"


def deep_json(cnn, h5, tmp):
    return with_config(cnn, text=lambda t: t.replace('"activation": "relu"',
                                                     '"activation": ' + "[" * 5000 + "]" * 5000, 1)), "deep.keras"


def extra_member(cnn, h5, tmp):
    contents = members(cnn)
    contents["filler.bin"] = bytes(48 * 2**20)
    return archive(contents, compression=zipfile.ZIP_DEFLATED), "filler.keras"


def special_member(name, mode=None):
    def build(cnn, h5, tmp):
        contents = members(cnn)
        info = zipfile.ZipInfo(name)
        if mode is not None:
            info.external_attr = mode << 16
        contents[name] = (info, b"/etc/passwd")
        return archive(contents), "special.keras"
    return build


def symlink_member(cnn, h5, tmp):
    contents = members(cnn)
    info = zipfile.ZipInfo("metadata.json")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    contents["metadata.json"] = (info, b"/etc/passwd")
    return archive(contents), "link.keras"


def virtual_dataset(f):
    layout = h5py.VirtualLayout(shape=(4,), dtype="f4")
    layout[:] = h5py.VirtualSource("/tmp/other.h5", "data", shape=(4,))
    f.create_virtual_dataset("virtual", layout)


CONFIG_SETTER = {"module": "keras.src.backend.config", "class_name": "function",
                 "config": "set_image_data_format", "registered_name": "function"}
NESTED_LAMBDA = {"module": "keras.layers", "class_name": "Lambda",
                 "config": {"name": "l", "function": {"class_name": "__lambda__", "config": {}}}}

CORPUS = [
    # memory bombs
    ("keras-weights-shape-bomb", lambda c, h, t: (with_weights(c, t, lambda f: f.create_dataset(
        "layers/conv2d/vars/bomb", shape=(20_000, 20_000), dtype="f4", chunks=(100, 100),
        compression="gzip")), "bomb.keras"), "declares more than"),
    ("h5-shape-bomb", lambda c, h, t: (with_h5(h, t, lambda f: f.create_dataset(
        "bomb", shape=(100_000, 100_000), dtype="f4", chunks=(100, 100), compression="gzip")),
        "bomb.h5"), "declares more than"),
    ("zip-bomb", lambda c, h, t: (archive({**members(c), "padding.bin": bytes(60 * 2**20)},
                                          compression=zipfile.ZIP_DEFLATED), "z.keras"), "would unpack to"),
    ("huge-config-json", lambda c, h, t: (archive({**members(c), "config.json": b" " * (2 * 2**20)},
                                                  compression=zipfile.ZIP_DEFLATED), "c.keras"),
     "config.json is .* far too large"),
    # the parameter bound
    ("lora-dense", lambda c, h, t: (with_config(c, set_in_layer("dense_1", lora_rank=4000, lora_alpha=4000)),
                                    "lora.keras"), "'lora_rank'.*LoRA"),
    ("lora-conv", lambda c, h, t: (with_config(c, set_in_layer("conv_1", lora_rank=4000)), "lora.keras"),
     "'lora_rank'"),
    ("two-inputs", two_inputs, "2 inputs; this page needs exactly one"),
    ("huge-filters", lambda c, h, t: (with_config(c, set_in_layer("conv_2", filters=10**6)), "f.keras"),
     "parameters; the limit is"),
    ("huge-maps", lambda c, h, t: (with_config(c, set_in_layer("conv_1", filters=4000)), "f.keras"),
     "values per image"),
    # nested objects reaching Keras functions
    ("activation-config-setter", lambda c, h, t: (with_config(c, set_in_layer("conv_1", activation=CONFIG_SETTER)),
                                                  "a.keras"), "'activation' must be the name of one of Keras' activations"),
    ("activation-nested-lambda", lambda c, h, t: (with_config(c, set_in_layer("conv_1", activation=NESTED_LAMBDA)),
                                                  "a.keras"), "contains Python code"),
    ("initializer-function", lambda c, h, t: (with_config(c, set_in_layer("conv_1", kernel_initializer={
        "module": "keras.initializers", "class_name": "function", "config": "set_floatx",
        "registered_name": None})), "i.keras"), "not one of Keras' initializers"),
    ("initializer-other-module", lambda c, h, t: (with_config(c, set_in_layer("conv_1", kernel_initializer={
        "module": "keras.config", "class_name": "Zeros", "config": {}, "registered_name": None})), "i.keras"),
     "outside Keras' initializers"),
    ("dtype-policy-function", lambda c, h, t: (with_config(c, set_in_layer("conv_1", dtype=CONFIG_SETTER)),
                                               "d.keras"), "float32 dtype policy"),
    ("regularizer-string", lambda c, h, t: (with_config(c, set_in_layer("dense_1", kernel_regularizer="set_epsilon")),
                                            "r.keras"), "Keras regularizer"),
    ("custom-registered", lambda c, h, t: (with_config(c, lambda cfg: cfg["config"]["layers"][1].update(
        registered_name="evil>Conv2D")), "r.keras"), "custom layer classes"),
    ("nested-model", nested_model, "another model inside it"),
    # archives
    ("extra-member-48mb", extra_member, "a file a Keras model does not contain"),
    ("path-traversal", special_member("../../evil.py"), "outside the archive"),
    ("absolute-member", special_member("/tmp/evil.py"), "absolute path"),
    ("symlink-member", symlink_member, "symbolic link"),
    ("many-members", lambda c, h, t: (archive({**members(c), **{f"m{i}": b"" for i in range(20)}}), "m.keras"),
     "holds 23 files"),
    ("no-weights", lambda c, h, t: (archive({"config.json": members(c)["config.json"]}), "w.keras"),
     "no model.weights.h5"),
    ("soft-link", lambda c, h, t: (with_weights(c, t, lambda f: f.__setitem__(
        "layers/loop", h5py.SoftLink("/layers"))), "s.keras"), "soft link"),
    ("external-link", lambda c, h, t: (with_weights(c, t, lambda f: f.__setitem__(
        "layers/ext", h5py.ExternalLink("/etc/passwd", "/"))), "e.keras"), "external link"),
    ("external-storage", lambda c, h, t: (with_weights(c, t, lambda f: f.create_dataset(
        "ext", shape=(10,), dtype="f4", external=[("/etc/passwd", 0, 40)])), "e.keras"), "another file"),
    ("virtual-dataset", lambda c, h, t: (with_weights(c, t, virtual_dataset), "v.keras"), "virtual dataset"),
    ("integer-weights", lambda c, h, t: (with_weights(c, t, lambda f: f.create_dataset(
        "layers/conv2d/vars/x", data=np.arange(3))), "i.keras"), "floating-point"),
    ("string-weights", lambda c, h, t: (with_weights(c, t, lambda f: f.create_dataset(
        "layers/conv2d/vars/x", data=np.array([b"abc"]))), "i.keras"), "floating-point"),
    ("null-dataspace", lambda c, h, t: (with_weights(c, t, lambda f: f.create_dataset(
        "empty", data=h5py.Empty("f4"))), "n.keras"), "without a shape"),
    ("wrong-weight-shape", lambda c, h, t: (with_weights(c, t, lambda f: (
        f.__delitem__("layers/conv2d/vars/0"),
        f.create_dataset("layers/conv2d/vars/0", data=np.zeros((5, 5, 1, 4), "f4")))), "s.keras"),
     r"have shape \(5, 5, 1, 4\); the architecture needs \(3, 3, 1, 4\)"),
    ("extra-weights", lambda c, h, t: (with_weights(c, t, lambda f: f.create_dataset(
        "layers/conv2d/vars/2", data=np.zeros(4, "f4"))), "x.keras"), "holds 3 arrays for layer 'conv_1'"),
    # exceptions that used to reach the page
    ("h5-config-not-text", lambda c, h, t: (with_h5(h, t, lambda f: f.attrs.__setitem__(
        "model_config", np.arange(5))), "n.h5"), "'model_config' attribute is not text"),
    ("h5-no-weight-names", lambda c, h, t: (with_h5(h, t, lambda f: f["model_weights/conv_1"].attrs.__delitem__(
        "weight_names")), "n.h5"), "not named"),
    ("h5-numeric-weight-names", lambda c, h, t: (with_h5(h, t, lambda f: f["model_weights/conv_1"].attrs.__setitem__(
        "weight_names", np.array([1.0, 2.0]))), "n.h5"), "not a list of names"),
    ("h5-deep-config", lambda c, h, t: (with_h5(h, t, lambda f: f.attrs.__setitem__(
        "model_config", "[" * 50_000 + "]" * 50_000)), "d.h5"), "nests 50000 levels"),
    ("config-not-object", lambda c, h, t: (with_config(c, text=lambda s: "[1, 2, 3]"), "l.keras"),
     "not a JSON object"),
    ("layers-not-list", lambda c, h, t: (with_config(c, lambda cfg: cfg["config"].update(layers={"a": 1})),
                                         "l.keras"), "lists no layers"),
    ("kernel-size-string", lambda c, h, t: (with_config(c, set_in_layer("conv_1", kernel_size="3x3")), "k.keras"),
     "'kernel_size' must be a whole number"),
    ("filters-float", lambda c, h, t: (with_config(c, set_in_layer("conv_1", filters=4.5)), "k.keras"),
     "'filters' must be a whole number"),
    ("units-infinite", lambda c, h, t: (with_config(c, text=lambda s: s.replace('"units": 8', '"units": 1e400')),
                                        "u.keras"), "'units' must be a whole number"),
    ("units-5000-digits", lambda c, h, t: (with_config(c, text=lambda s: s.replace('"units": 8', '"units": 1' + "0" * 5000)),
                                           "u.keras"), "not valid JSON"),
    ("deep-json", deep_json, r"nests 50\d\d levels"),
    ("nan", lambda c, h, t: (with_config(c, text=lambda s: s.replace('"units": 8', '"units": NaN')),
                             "u.keras"), "not valid JSON"),
    ("strides-three", lambda c, h, t: (with_config(c, set_in_layer("pool_1", strides=[1, 1, 1])), "s.keras"),
     "'strides' must be"),
    ("pool-size-null", lambda c, h, t: (with_config(c, set_in_layer("pool_1", pool_size=None)), "p.keras"),
     "'pool_size' must be"),
    ("name-number", lambda c, h, t: (with_config(c, set_in_layer("conv_1", name=5)), "n.keras"), "must be a name"),
    ("padding-causal", lambda c, h, t: (with_config(c, set_in_layer("conv_1", padding="causal")), "p.keras"),
     "'padding' must be one of same, valid"),
    ("channels-first", lambda c, h, t: (with_config(c, set_in_layer("conv_1", data_format="channels_first")),
                                        "p.keras"), "must be channels_last"),
    ("shrinks-below-1x1", lambda c, h, t: (with_config(c, set_in_layer("conv_1", kernel_size=[29, 29])), "s.keras"),
     "shrink below 1x1 at layer 'conv_1'"),
    ("long-class-name", lambda c, h, t: (with_config(c, lambda cfg: cfg["config"]["layers"][1].update(
        class_name="X" * 5000)), "x.keras"), "^This model contains layer types this page does not accept"),
    # truncated and polyglot files
    ("truncated-keras", lambda c, h, t: (c[: len(c) // 2], "t.keras"), "not a valid zip archive"),
    ("truncated-h5", lambda c, h, t: (h.read_bytes()[:3000], "t.h5"), "could not be opened as HDF5"),
    ("h5-then-zip", lambda c, h, t: (h.read_bytes() + c, "p.keras"), "name and content disagree"),
    ("zip-magic-then-h5", lambda c, h, t: (b"PK\x03\x04" + h.read_bytes(), "p.keras"), "not a valid zip archive"),
    ("png-then-zip", lambda c, h, t: (b"\x89PNG\r\n\x1a\n" + c, "p.keras"), "not a Keras model file"),
]


@pytest.mark.parametrize("build, match", [pytest.param(b, m, id=i) for i, b, m in CORPUS])
def test_hostile_file_refused(build, match, cnn_bytes, cnn_h5, tmp_path, monkeypatch):
    """Refused with its own reason, the server bounded, Keras' settings unchanged, no temporary file left."""
    data, name = build(cnn_bytes, cnn_h5, tmp_path)
    assert len(data) <= mf.MAX_FILE_BYTES, f"{len(data)} bytes: the test file is too large"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    refused_within_bounds(data, name, match)
    assert not list(scratch.iterdir()), "the sandbox left files behind"


def test_reason_comes_first_and_details_are_cut(cnn_bytes):
    data = with_config(cnn_bytes, lambda cfg: cfg["config"]["layers"][1].update(class_name="X" * 5000))
    message = refused_within_bounds(data, "x.keras", "layer types")
    assert message.startswith("This model contains layer types this page does not accept: 'XXX")
    assert "Accepted: Activation, AveragePooling2D" in message and len(message) < 400


def test_training_still_works_after_hostile_files(cnn_bytes):
    """The Keras-config attacks are refused, and model.fit works afterwards."""
    for value in (CONFIG_SETTER, {**CONFIG_SETTER, "config": "set_floatx"}, NESTED_LAMBDA):
        refused_within_bounds(with_config(cnn_bytes, set_in_layer("conv_1", activation=value)),
                              "a.keras", "activation|Python code")
    model = compile_model(build_cnn(filters=2, dense_units=4))
    history = model.fit(np.zeros((8, 28, 28, 1), "f4"), np.arange(8) % 10, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


# --- Good models keep working ---------------------------------------------------------------


def same_predictions(explorer, path: Path) -> None:
    reference = keras.saving.load_model(path, compile=False, safe_mode=True)
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype("f4")
    np.testing.assert_allclose(explorer.model.predict(x, verbose=0), reference.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_shipped_cnn_loads_with_its_weights():
    path = SHIPPED_MODELS["cnn"]
    explorer = mf.open_model_file(path)
    assert explorer.map_layers() == ["conv_1", "pool_1", "conv_2", "pool_2"]
    assert explorer.model.count_params() == 69_798
    same_predictions(explorer, path)


def test_train_page_model_saved_compiled_loads(tmp_path):
    model = compile_model(build_cnn(filters=3, kernel_size=5, blocks=1, dense_units=6))
    model.fit(np.zeros((4, 28, 28, 1), "f4"), np.arange(4), epochs=1, verbose=0)
    save_model(model, tmp_path / "trained.keras")
    explorer = mf.open_model_file(tmp_path / "trained.keras")
    assert explorer.shape("conv_1") == (24, 24, 3)
    same_predictions(explorer, tmp_path / "trained.keras")


def test_model_saved_with_its_optimizer_loads(tmp_path):
    """model.save of a compiled, trained model keeps the optimizer's state (an int64 counter): fine."""
    model = compile_model(build_cnn(filters=2, dense_units=4))
    model.fit(np.zeros((4, 28, 28, 1), "f4"), np.arange(4), epochs=1, verbose=0)
    model.save(tmp_path / "full.keras")
    same_predictions(mf.open_model_file(tmp_path / "full.keras"), tmp_path / "full.keras")


def functional_model():
    inputs = keras.Input((28, 28, 1), name="img")
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    x = keras.layers.Conv2D(4, 3, activation="relu", padding="same", kernel_initializer="he_normal",
                            kernel_regularizer="l2")(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.AveragePooling2D(2)(x)
    x = keras.layers.Dropout(0.2)(x)
    x = keras.layers.Reshape((14 * 14 * 4,))(x)
    x = keras.layers.Activation("gelu")(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    bn = model.layers[3]
    bn.set_weights([w + np.float32(0.5) for w in bn.get_weights()])  # not the initial values
    return model


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_functional_model_within_the_allowlist_loads(tmp_path, suffix):
    path = tmp_path / f"functional{suffix}"
    functional_model().save(path)
    explorer = mf.open_model_file(path)
    assert explorer.kinds == ["Rescaling", "Conv2D", "BatchNormalization", "AveragePooling2D",
                              "Dropout", "Reshape", "Activation", "Dense"]
    same_predictions(explorer, path)


def test_legacy_h5_sequential_has_its_weights(cnn_h5):
    same_predictions(mf.open_model_file(cnn_h5), cnn_h5)


def test_unknown_input_size_is_read_as_28x28(cnn_bytes):
    """Input shape (None, None, 1) no longer raises: the page feeds 28x28 images."""
    data = with_config(cnn_bytes, set_in_layer("image", batch_shape=[None, None, None, 1]))
    assert mf.open_model_bytes(data, "any.keras").shape("conv_1") == (26, 26, 4)


# --- The sandbox itself -----------------------------------------------------------------------


def test_child_never_imports_keras(cnn_bytes):
    with sandbox.run(mf.CHILD_MODULE, cnn_bytes, name="m.keras") as outcome:
        result = json.loads((outcome.output / "result.json").read_text())
    assert result["ok"], result
    imported = set(result["imported"])
    assert {"h5py", "numpy", "zipfile", "json"} <= imported
    assert not imported & {"tensorflow", "keras", "jax", "torch", "streamlit"}


def test_timeout_kills_the_process_group(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    start = time.perf_counter()
    with sandbox.run("tests.ml.sandbox_child", b"sleep", wall_seconds=1.5) as outcome:
        assert outcome.timed_out and outcome.returncode == -signal.SIGKILL
    assert time.perf_counter() - start < 5
    assert not list(tmp_path.glob(sandbox.PREFIX + "*"))


def test_a_grandchild_dies_with_the_child():
    """Where a fork is possible at all (RLIMIT_NPROC does not bind root), the whole group is killed."""
    with sandbox.run("tests.ml.sandbox_child", b"fork", wall_seconds=2) as outcome:
        pid_file = outcome.output / "grandchild"
        pid = int(pid_file.read_text()) if pid_file.exists() else None
    if outcome.returncode == 4:
        return  # the fork itself was refused
    assert outcome.timed_out and pid is not None
    time.sleep(0.2)
    status = Path(f"/proc/{pid}/status")
    assert not status.exists() or "zombie" in status.read_text()


def test_memory_is_limited_in_the_child():
    rss = peak_rss()
    with sandbox.run("tests.ml.sandbox_child", b"memory") as outcome:
        assert outcome.returncode == 3  # MemoryError under RLIMIT_AS
    assert peak_rss() - rss < MEMORY_BOUND


def test_processor_time_is_limited_in_the_child():
    start = time.perf_counter()
    with sandbox.run("tests.ml.sandbox_child", b"spin") as outcome:
        assert outcome.returncode in (-signal.SIGXCPU, -signal.SIGKILL)
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("payload, match", [(b"sleep", "took longer than 2 seconds"),
                                            (b"crash", r"stopped \(signal 6\)"),
                                            (b"nothing", "without an answer")])
def test_a_failing_child_is_a_sentence(payload, match, monkeypatch, tmp_path):
    monkeypatch.setattr(mf, "CHILD_MODULE", "tests.ml.sandbox_child")
    monkeypatch.setattr(sandbox, "WALL_SECONDS", 2.0)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    refused_within_bounds(b"PK\x03\x04" + payload, "m.keras", match)
    assert not list(tmp_path.glob(sandbox.PREFIX + "*"))


def test_forged_weights_from_the_child_refused(cnn_bytes, monkeypatch, tmp_path):
    """The server reads the child's .npz header by header: a forged shape is refused unread."""
    spec = mf.model_spec(config_of(cnn_bytes))
    expected = model_spec.check_spec(spec)["weights"]
    path = tmp_path / "w.npz"
    arrays = {f"{i}_{j}": np.zeros(s, "f4") for i, layer in enumerate(expected) for j, s in enumerate(layer)}
    arrays["0_0"] = np.zeros((3, 3, 1, 5), "f4")
    np.savez(path, **arrays)
    with pytest.raises(mf.ModelFileError, match="do not match the architecture"):
        mf.read_weights(path, expected)
    arrays["0_0"] = np.array([{"a": 1}], dtype=object)
    np.savez(path, **arrays)
    with pytest.raises(mf.ModelFileError, match="do not match the architecture"):
        mf.read_weights(path, expected)


def test_spec_from_the_child_is_checked_again(cnn_bytes, monkeypatch):
    spec = mf.model_spec(config_of(cnn_bytes))
    spec["layers"][0]["activation"] = CONFIG_SETTER
    monkeypatch.setattr(mf, "_child_result", lambda outcome: {"ok": True, "spec": spec})
    refused_within_bounds(cnn_bytes, "m.keras", "'activation' must be the name")


def test_json_depth_is_measured_without_parsing():
    assert model_schema.json_depth('{"a": [1, {"b": "[[[[["}]}') == 3
    with pytest.raises(mf.ModelFileError, match="nests 100001 levels"):
        model_schema.parse_json("[" * 100_001, "config.json")
