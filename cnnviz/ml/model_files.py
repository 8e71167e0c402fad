"""Checked loading of model files that users upload (``.keras`` and legacy ``.h5``).

A Keras model file is a program as much as it is data: Keras and TensorFlow both say
so, and safe mode bounds neither memory nor the Keras functions a config may name. So
the server never parses an upload, and never hands one to Keras:

1. here, in the server: the size (at most ``MAX_FILE_BYTES``) and the format from the
   content (a zip for ``.keras``, HDF5 for ``.h5``; the name has to agree);
2. in a fresh sandboxed child process (:mod:`cnnviz.core.sandbox` runs
   :mod:`cnnviz.ml.model_check_child`; it never imports TensorFlow or Keras, and has
   1 GB of address space, a few seconds of processor time and a wall-clock timeout):
   the archive's members (only ``config.json``, ``metadata.json``, ``model.weights.h5``;
   sizes added up before anything is decompressed), the HDF5 file's every link and
   dataset before any array is read (declared sizes bounded, float data stored in the
   file itself), the whole architecture field by field against an allowlist
   (:mod:`cnnviz.ml.model_schema`: layer types, their settings and value types,
   activations by name, exactly one 28x28x1 input, 10 outputs, the exact parameter
   count against ``MAX_PARAMETERS``), then the weights, shapes checked against it;
3. back here: the child's plain answer (a spec as JSON, the weights as ``.npz`` read
   with ``allow_pickle=False``, every array's header checked before it is read) is
   checked again, and the model is rebuilt by :func:`build_model` from the spec's
   fields alone, with Keras' layer constructors: nothing in the file is deserialised
   (Keras' safe mode is never turned off anywhere in cnnviz);
4. the rebuilt model: the same checks as a model trained on the Train page
   (:func:`check_model`).

Any failure raises ``ModelFileError`` whose message starts with the reason, in words;
the caller keeps whatever model it had before.
"""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import numpy as np

from cnnviz.core.data import IMAGE_SHAPE
from cnnviz.core import sandbox
from cnnviz.ml.model_schema import (  # noqa: F401 - re-exported: the limits live with the checks
    MAX_ARCHIVE_MEMBERS,
    MAX_CONFIG_BYTES,
    MAX_FILE_BYTES,
    MAX_PARAMETERS,
    MAX_UNCOMPRESSED_BYTES,
    NUM_CLASSES,
    ModelFileError,
    detail,
    parse_json,
)
from cnnviz.ml.model_spec import check_spec, input_message, model_spec

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
CHILD_MODULE = "cnnviz.ml.model_check_child"

_ZIP_MAGIC = b"PK\x03\x04"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_MAX_MESSAGE = 1000


# --- In the server: size and format ---------------------------------------------------


def sniff_format(data: bytes, filename: str = "") -> str:
    """``"keras"`` or ``"h5"`` from the file's content (not its name), else ModelFileError.

    The name only has to agree: a zip called ``model.h5`` is refused.
    """
    suffix = Path(filename).suffix.lower()
    if filename and suffix not in MODEL_SUFFIXES:
        raise ModelFileError(
            f"This is not a Keras model file: the name must end in .keras or .h5 "
            f"({detail(filename)})."
        )
    if data.startswith(_ZIP_MAGIC):
        kind = "keras"
    elif data.startswith(_HDF5_MAGIC):
        kind = "h5"
    else:
        raise ModelFileError(
            "This is not a Keras model file: a .keras file is a zip archive and a .h5 file "
            "is an HDF5 file, and this file's content is neither."
        )
    if filename and (kind == "keras") != (suffix == ".keras"):
        expected = ".keras (a zip archive)" if kind == "keras" else ".h5 (an HDF5 file)"
        raise ModelFileError(
            f"The file's name and content disagree: its content is a {expected}, but its name "
            f"({detail(filename)}) says otherwise. Rename it to match, or upload the file Keras saved."
        )
    return kind


def _check_size(data: bytes) -> None:
    if not data:
        raise ModelFileError("The file is empty.")
    if len(data) > MAX_FILE_BYTES:
        raise ModelFileError(
            f"The file is {len(data) / 2**20:.1f} MB; the limit is {MAX_FILE_BYTES // 2**20} MB "
            "(the course's CNN is about 0.3 MB)."
        )


def check_config(config: dict) -> list[str]:
    """Check a parsed architecture (``config.json``) without Keras; return its layer types in order.

    The same allowlist the sandboxed child applies (:func:`cnnviz.ml.model_schema.model_spec`).
    """
    return [layer["type"] for layer in model_spec(config)["layers"]]


# --- The sandbox's answer ---------------------------------------------------------------


def _plain(text: str) -> str:
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "?", text).strip()
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _crash_message(outcome: sandbox.Outcome) -> str:
    if outcome.timed_out:
        return (f"Checking this file took longer than {sandbox.WALL_SECONDS:.0f} seconds, so it was "
                "stopped; a Keras model file is checked in well under one.")
    code = outcome.returncode
    if code is not None and code < 0:
        import signal

        if -code == signal.SIGXCPU:
            return ("Checking this file used more processor time than an upload may use "
                    f"({sandbox.CPU_SECONDS} s), so it was stopped.")
        return ("Checking this file needed more memory or time than an upload may use, so the "
                f"checking process was stopped (signal {-code}).")
    return ("This file could not be checked: the checking process stopped without an answer "
            f"(exit status {code}).")


def _child_result(outcome: sandbox.Outcome) -> dict:
    path = outcome.output / "result.json"
    if outcome.timed_out or not path.is_file():
        raise ModelFileError(_crash_message(outcome))
    if path.stat().st_size > 4 * MAX_CONFIG_BYTES:
        raise ModelFileError("The checking process gave too long an answer; the file was refused.")
    result = parse_json(path.read_bytes(), "check result", limit=4 * MAX_CONFIG_BYTES)
    if not isinstance(result, dict) or type(result.get("ok")) is not bool:
        raise ModelFileError("The checking process gave a malformed answer; the file was refused.")
    if not result["ok"]:
        message = result.get("message")
        raise ModelFileError(_plain(message) if isinstance(message, str) and message.strip()
                             else "The file was refused.")
    return result


def read_weights(path: Path, expected: list[list[list[int]]]) -> list[list[np.ndarray]]:
    """The ``.npz`` of weights the child wrote: exactly the arrays ``expected`` (shapes per layer),
    every header checked before its array is read, float32, no pickles."""
    names = {f"{i}_{j}": tuple(shape) for i, layer in enumerate(expected) for j, shape in enumerate(layer)}
    if not names:
        return [[] for _ in expected]
    if not path.is_file() or path.stat().st_size > sandbox.FILE_BYTES:
        raise ModelFileError("The checking process handed back no usable weights.")
    bad = ModelFileError("The checking process handed back weights that do not match the "
                         "architecture; the file was refused.")
    try:
        with zipfile.ZipFile(path) as archive:
            members = {info.filename: info for info in archive.infolist()}
            if set(members) != {f"{name}.npy" for name in names}:
                raise bad
            for name, shape in names.items():
                info = members[f"{name}.npy"]
                if info.file_size > 4 * int(np.prod(shape, dtype=np.int64)) + 4096:
                    raise bad
                with archive.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    if version == (1, 0):
                        header = np.lib.format.read_array_header_1_0(f)
                    elif version == (2, 0):
                        header = np.lib.format.read_array_header_2_0(f)
                    else:
                        raise bad
                if tuple(header[0]) != shape or header[1] or header[2] != np.dtype("<f4"):
                    raise bad
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: np.asarray(npz[name]) for name in names}
    except ModelFileError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise bad from exc
    return [[arrays[f"{i}_{j}"] for j in range(len(layer))] for i, layer in enumerate(expected)]


def check_in_sandbox(data: bytes, kind: str) -> tuple[dict, list[list[np.ndarray]]]:
    """(checked spec, weights) of an upload, read by the sandboxed child; ModelFileError otherwise."""
    suffix = ".keras" if kind == "keras" else ".h5"
    try:
        with sandbox.run(CHILD_MODULE, data, name="model" + suffix) as outcome:
            result = _child_result(outcome)
            spec = result.get("spec")
            implied = check_spec(spec)  # the child read hostile bytes: its answer is checked again
            weights = read_weights(outcome.output / "weights.npz", implied["weights"])
    except sandbox.SandboxBusy:
        raise ModelFileError("The server is checking other students' uploads right now; try "
                             "again in a minute.") from None
    except OSError as exc:
        raise ModelFileError(f"The file could not be checked: the server could not start the "
                             f"checking process ({type(exc).__name__}).") from exc
    return spec, weights


# --- Rebuilding the model from the checked spec ------------------------------------------


def _make_layer(layer: dict):
    import keras

    L, kind, name = keras.layers, layer["type"], layer["name"]
    if kind == "Conv2D":
        return L.Conv2D(layer["filters"], tuple(layer["kernel_size"]), strides=tuple(layer["strides"]),
                        padding=layer["padding"], dilation_rate=tuple(layer["dilation_rate"]),
                        activation=layer["activation"], use_bias=layer["use_bias"], name=name)
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        strides = None if layer["strides"] is None else tuple(layer["strides"])
        return getattr(L, kind)(tuple(layer["pool_size"]), strides=strides,
                                padding=layer["padding"], name=name)
    if kind == "Flatten":
        return L.Flatten(name=name)
    if kind == "Dense":
        return L.Dense(layer["units"], activation=layer["activation"], use_bias=layer["use_bias"],
                       name=name)
    if kind == "Dropout":
        return L.Dropout(layer["rate"], name=name)
    if kind == "Rescaling":
        return L.Rescaling(layer["scale"], offset=layer["offset"], name=name)
    if kind == "Reshape":
        return L.Reshape(tuple(layer["target_shape"]), name=name)
    if kind == "Activation":
        return L.Activation(layer["activation"], name=name)
    if kind == "BatchNormalization":
        return L.BatchNormalization(axis=-1, momentum=layer["momentum"], epsilon=layer["epsilon"],
                                    center=layer["center"], scale=layer["scale"], name=name)
    raise ModelFileError(f"This model contains layer types this page does not accept: {detail(kind)}.")


def build_model(spec: dict, weights: list[list[np.ndarray]] | None = None):
    """A Keras model rebuilt from a checked spec, layer by layer with Keras' constructors, and
    its weights set (shapes checked against the built layers). Nothing is deserialised."""
    import keras

    implied = check_spec(spec)
    shape = IMAGE_SHAPE if len(implied["input_shape"]) == 3 else IMAGE_SHAPE[:2]
    inputs = keras.Input(shape=shape, name=spec["input"]["name"])
    layers = [_make_layer(layer) for layer in spec["layers"]]
    if spec["kind"] == "sequential":
        model = keras.Sequential([inputs, *layers], name=spec["name"])
    else:
        x = inputs
        for layer in layers:
            x = layer(x)
        model = keras.Model(inputs, x, name=spec["name"])
    if weights is not None:
        if len(weights) != len(layers):
            raise ModelFileError("The weights do not match the architecture (a layer is missing).")
        for layer, arrays in zip(layers, weights):
            built = [tuple(w.shape) for w in layer.weights]
            if built != [tuple(a.shape) for a in arrays]:
                raise ModelFileError(
                    f"The weights of layer {detail(layer.name)} have shapes "
                    f"{[tuple(a.shape) for a in arrays]}; the layer needs {built}."
                )
            if arrays:
                layer.set_weights(arrays)
    return model


# --- The rebuilt model --------------------------------------------------------------------


def check_model(model):
    """Check a Keras model: allowed layers, input compatible with 28x28 grayscale,
    at least one Conv2D, one output per class. Returns its ActivationModel (the
    feature extractor is built once, here) or raises ModelFileError."""
    from cnnviz.ml.activations import ActivationModel, model_input_shape  # Keras: only once the file passed
    from cnnviz.ml.models import check_layers

    try:
        check_layers(model)
    except ValueError as exc:
        raise ModelFileError(f"This model is refused: {exc}.") from exc
    if not any(type(layer).__name__ == "Conv2D" for layer in model.layers):
        raise ModelFileError("This model has no Conv2D layer, so there are no activation maps to show.")
    shape = model_input_shape(model)
    if shape is not None and shape not in (IMAGE_SHAPE, IMAGE_SHAPE[:2]) and not _fits(shape):
        raise ModelFileError(input_message(shape))

    try:
        explorer = ActivationModel(model)
    except ValueError as exc:
        raise ModelFileError(
            f"This model cannot take 28x28 grayscale images, shape {IMAGE_SHAPE} ({exc})."
        ) from exc
    outputs = explorer.output_shapes[-1]
    if outputs[-1] != NUM_CLASSES or len(outputs) != 1:
        raise ModelFileError(
            f"This model's output has shape {outputs}; a Fashion-MNIST classifier gives "
            f"{NUM_CLASSES} numbers, one per class."
        )
    return explorer


def _fits(shape: tuple) -> bool:
    """Whether a declared shape accepts (28, 28, 1), allowing unknown (None) sizes."""
    return len(shape) == 3 and all(s is None or s == t for s, t in zip(shape, IMAGE_SHAPE))


def open_model_bytes(data: bytes, filename: str = "model.keras"):
    """Check and load an uploaded model file; return its ActivationModel (the Keras model
    is its ``.model``) or raise ModelFileError (the reason first, in words).

    The file is read only by the sandboxed child; the server rebuilds the model from
    the child's checked answer (see the module's docstring).
    """
    _check_size(data)
    kind = sniff_format(data, filename)
    spec, weights = check_in_sandbox(data, kind)
    try:
        model = build_model(spec, weights)
    except ModelFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - Keras raises many kinds; all mean "refused"
        raise ModelFileError(
            "This model could not be rebuilt from its checked architecture "
            f"({type(exc).__name__}: {detail(str(exc).splitlines()[0] if str(exc) else '', 160)})."
        ) from exc
    try:
        return check_model(model)
    except ModelFileError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise ModelFileError(
            f"This model cannot be explored here ({type(exc).__name__}: {detail(str(exc), 160)})."
        ) from exc


def open_model_file(path: str | os.PathLike):
    """``open_model_bytes`` for a file on disk (size checked before it is read)."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ModelFileError(
            f"The file is {size / 2**20:.1f} MB; the limit is {MAX_FILE_BYTES // 2**20} MB."
        )
    return open_model_bytes(path.read_bytes(), path.name)
