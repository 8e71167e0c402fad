"""Checked loading of model files that users upload (``.keras`` and legacy ``.h5``).

A Keras model file is a program as much as it is data: Keras and TensorFlow
both say so. Every upload goes through the same gate, cheapest check first,
and nothing is deserialised before the file has passed the checks that do
not need Keras:

1. size: at most ``MAX_FILE_BYTES``;
2. really a Keras file: a ``.keras`` zip with ``config.json`` (members'
   *uncompressed* sizes added up before anything is read: zip bombs), or an
   HDF5 file with a ``model_config`` attribute (declared dataset sizes added
   up: HDF5 "shape bombs");
3. the architecture, read from that JSON: no Python code (``Lambda`` layers,
   ``__lambda__`` functions), only layer types from
   ``cnnviz.models.ALLOWED_LAYER_TYPES``, at least one Conv2D, and an upper
   bound on the parameters so a config cannot ask for gigabytes;
4. loading with ``keras.saving.load_model(..., safe_mode=True)`` from a private
   temporary file that is deleted afterwards (safe mode is never turned off);
5. the loaded model: the same layer check, input compatible with 28x28
   grayscale images, 10 outputs (one per Fashion-MNIST class).

Any failure raises ``ModelFileError`` whose message says, in words, what is
wrong; the caller keeps whatever model it had before.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from cnnviz.core.architecture import ALLOWED_LAYER_TYPES
from cnnviz.core.checks import size_pair
from cnnviz.core.data import IMAGE_SHAPE

MAX_FILE_BYTES = 10 * 1024 * 1024
"""Largest accepted upload (the course's CNN is about 0.3 MB; the server refuses more than 10 MB too)."""

MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
"""Largest total uncompressed size of a ``.keras`` archive's members, or of an HDF5 file's datasets."""

MAX_CONFIG_BYTES = 1024 * 1024
"""Largest ``config.json`` (a model's architecture is a few kilobytes)."""

MAX_ARCHIVE_MEMBERS = 16
"""A ``.keras`` file holds three members (config, metadata, weights)."""

MAX_PARAMETERS = 20_000_000
"""Upper bound on the parameters the architecture may ask for (80 MB of float32)."""

NUM_CLASSES = 10

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")

_ZIP_MAGIC = b"PK\x03\x04"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_CONTAINER_CLASSES = frozenset({"Sequential", "Functional", "Model"})
_LAMBDA_MARKERS = frozenset({"Lambda", "__lambda__", "TFOpLambda", "SlicingOpLambda"})


class ModelFileError(ValueError):
    """A model file was refused; the message says why in words a student understands."""


# --- Step 1 and 2: size and format ------------------------------------------


def sniff_format(data: bytes, filename: str = "") -> str:
    """``"keras"`` or ``"h5"`` from the file's content (not its name), else ModelFileError.

    The name only has to agree: a zip called ``model.h5`` is refused.
    """
    suffix = Path(filename).suffix.lower()
    if filename and suffix not in MODEL_SUFFIXES:
        raise ModelFileError(
            f"{filename!r} is not a Keras model file: the name must end in .keras or .h5."
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
            f"{filename!r}: its content is a {expected}, but its name says otherwise. "
            "Rename it to match, or upload the file Keras saved."
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


def keras_archive_config(data: bytes) -> dict:
    """The architecture (``config.json``) of a ``.keras`` archive, after the zip-bomb checks.

    The uncompressed sizes the archive declares are added up before any
    member is decompressed, and each read is capped at its declared size.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ModelFileError(f"This .keras file is not a valid zip archive ({exc}).") from exc
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ARCHIVE_MEMBERS:
            raise ModelFileError(
                f"The archive holds {len(members)} files; a .keras model holds 3 "
                f"(the limit is {MAX_ARCHIVE_MEMBERS})."
            )
        total = sum(m.file_size for m in members)
        if total > MAX_UNCOMPRESSED_BYTES:
            raise ModelFileError(
                f"The archive would unpack to {total / 2**20:.0f} MB; the limit is "
                f"{MAX_UNCOMPRESSED_BYTES // 2**20} MB (a zip bomb, or far too large a model)."
            )
        names = {m.filename: m for m in members}
        if "config.json" not in names:
            raise ModelFileError(
                "This zip archive is not a Keras model: it has no config.json. Save the model "
                "with model.save('name.keras')."
            )
        info = names["config.json"]
        if info.file_size > MAX_CONFIG_BYTES:
            raise ModelFileError(f"config.json is {info.file_size:,} bytes; far too large for a model.")
        try:
            with archive.open(info) as f:
                raw = f.read(MAX_CONFIG_BYTES + 1)
        except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as exc:
            raise ModelFileError(f"config.json could not be read from the archive ({exc}).") from exc
    if len(raw) > MAX_CONFIG_BYTES:
        raise ModelFileError("config.json is larger than the archive says: refused.")
    return _parse_config(raw, "config.json")


def h5_config(data: bytes) -> dict:
    """The architecture (the ``model_config`` attribute) of a legacy ``.h5`` model file.

    Also adds up the sizes every dataset declares (HDF5 "shape bombs" declare
    huge arrays and store next to nothing) before Keras reads any of them.
    """
    import h5py

    try:
        f = h5py.File(io.BytesIO(data), mode="r")
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"This .h5 file could not be opened as HDF5 ({exc}).") from exc
    with f:
        raw = f.attrs.get("model_config")
        if raw is None:
            raise ModelFileError(
                "This HDF5 file holds no model architecture (no 'model_config'): it may hold "
                "only weights. Save the whole model with model.save('name.keras')."
            )
        declared = 0

        def add(name: str, obj) -> None:
            nonlocal declared
            if isinstance(obj, h5py.Dataset):
                declared += int(np.prod(obj.shape, dtype=np.float64)) * obj.dtype.itemsize

        f.visititems(add)
        if declared > MAX_UNCOMPRESSED_BYTES:
            raise ModelFileError(
                f"The file declares {declared / 2**20:.0f} MB of weights; the limit is "
                f"{MAX_UNCOMPRESSED_BYTES // 2**20} MB (a shape bomb, or far too large a model)."
            )
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    if len(raw) > MAX_CONFIG_BYTES:
        raise ModelFileError("The model_config attribute is far too large for a model.")
    return _parse_config(raw, "model_config")


def _parse_config(raw: bytes | str, where: str) -> dict:
    try:
        config = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"The model's {where} is not valid JSON ({exc}).") from exc
    if not isinstance(config, dict) or "class_name" not in config:
        raise ModelFileError(f"The model's {where} does not describe a Keras model.")
    return config


# --- Step 3: the architecture, before deserialising --------------------------


def _walk(node) -> Iterator[dict]:
    """Every dict nested anywhere in a JSON value."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _layer_entries(config: dict) -> list[dict]:
    if config.get("class_name") not in _CONTAINER_CLASSES:
        raise ModelFileError(
            f"The file holds a {config.get('class_name')!r}, not a Sequential or functional model."
        )
    layers = (config.get("config") or {}).get("layers")
    if not isinstance(layers, list):
        raise ModelFileError("The model's architecture lists no layers.")
    return [entry for entry in layers if isinstance(entry, dict)]


def check_config(config: dict) -> list[str]:
    """Check a model's architecture JSON; return its layer types in order.

    Refuses Python code anywhere (Lambda layers, serialised lambdas), layer
    types outside the allowlist (nested models included), custom classes from
    outside Keras, models without a Conv2D, and architectures whose parameter
    bound exceeds ``MAX_PARAMETERS``.
    """
    for node in _walk(config):
        if node.get("class_name") in _LAMBDA_MARKERS:
            raise ModelFileError(
                "This model contains Python code (a Lambda layer or function). Such code could "
                "do anything on the server, so Keras' safe mode refuses it and so does this app."
            )
    entries = _layer_entries(config)
    kinds = [str(entry.get("class_name")) for entry in entries]
    unexpected = sorted(set(kinds) - ALLOWED_LAYER_TYPES)
    if unexpected:
        raise ModelFileError(
            f"This model contains layer types this page does not accept: {', '.join(unexpected)}. "
            f"Accepted: {', '.join(sorted(ALLOWED_LAYER_TYPES))}."
        )
    for entry in entries:
        module = entry.get("module")
        if module is not None and not str(module).startswith("keras"):
            raise ModelFileError(
                f"Layer {entry.get('config', {}).get('name')!r} comes from {module!r}, not from "
                "Keras: custom layer classes are not accepted."
            )
    declared = _declared_input_shape(entries)
    if declared is not None and declared not in (IMAGE_SHAPE, IMAGE_SHAPE[:2]) and not _fits(declared):
        raise ModelFileError(_input_message(declared))
    if "Conv2D" not in kinds:
        raise ModelFileError(
            "This model has no Conv2D layer, so there are no activation maps to show. "
            "Upload a convolutional network (the Train page's CNN, for example)."
        )
    bound = parameter_bound(entries, sequential=config.get("class_name") == "Sequential")
    if bound > MAX_PARAMETERS:
        raise ModelFileError(
            f"This architecture could need up to {bound:,.0f} parameters; the limit is "
            f"{MAX_PARAMETERS:,}. Use fewer filters or smaller dense layers."
        )
    return kinds


def _declared_input_shape(entries: list[dict]) -> tuple | None:
    """The first input shape the architecture declares (Keras 3 ``batch_shape`` or
    legacy ``batch_input_shape``), without the batch axis."""
    for entry in entries:
        cfg = entry.get("config") or {}
        shape = cfg.get("batch_shape") or cfg.get("batch_input_shape")
        if isinstance(shape, list) and len(shape) >= 2:
            return tuple(None if s is None else int(s) for s in shape[1:])
    return None


def _input_message(shape: tuple) -> str:
    return (
        f"This model expects inputs of shape {shape}; this page feeds 28x28 grayscale "
        f"images, shape {IMAGE_SHAPE}. Train it on Fashion-MNIST images (28x28, 1 channel)."
    )


def _config_pair(value, default: int) -> tuple[int, int]:
    """A size from an untrusted layer config; ``default`` when it is not a valid size."""
    try:
        return size_pair(value, "size")
    except ValueError:
        return default, default


def parameter_bound(entries: list[dict], *, sequential: bool) -> float:
    """An upper bound on the parameters the layers ask for, from their configs alone.

    Tracks (positions, channels) of the tensor flowing through: convolutions
    and pooling never add positions; Flatten turns positions into channels.
    For a Sequential model the layers form one chain; for a functional model
    the largest values seen so far are used, an upper bound for any branch.
    """
    positions, channels = float(np.prod(IMAGE_SHAPE[:2])), float(IMAGE_SHAPE[2])
    most_positions, most_channels = positions, channels
    total = 0.0
    for entry in entries:
        kind, cfg = entry.get("class_name"), entry.get("config") or {}
        if not sequential:
            positions, channels = most_positions, most_channels
        if kind == "Conv2D":
            kh, kw = _config_pair(cfg.get("kernel_size"), 3)
            filters = float(cfg.get("filters") or 1)
            total += kh * kw * channels * filters + filters
            channels = filters
        elif kind in ("MaxPooling2D", "AveragePooling2D"):
            ph, pw = _config_pair(cfg.get("pool_size"), 2)
            sh, sw = _config_pair(cfg.get("strides") or (ph, pw), 2)
            positions = max(1.0, positions / max(1, sh * sw))
        elif kind == "Flatten":
            positions, channels = 1.0, positions * channels
        elif kind == "Dense":
            units = float(cfg.get("units") or 1)
            total += channels * units + units
            channels = units
        elif kind == "BatchNormalization":
            total += 4 * channels
        elif kind == "Reshape":
            target = cfg.get("target_shape") or []
            size = positions * channels
            last = float(target[-1]) if target and target[-1] not in (None, -1) else size
            positions, channels = max(1.0, size / max(last, 1.0)), last
        most_positions, most_channels = max(most_positions, positions), max(most_channels, channels)
    return total


# --- Step 4 and 5: loading and checking the model ------------------------------


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
        raise ModelFileError(_input_message(shape))

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
    is its ``.model``) or raise ModelFileError.

    The bytes are written to a private temporary folder (only this process's
    user can read it) that is deleted as soon as Keras has read the file.
    """
    _check_size(data)
    kind = sniff_format(data, filename)
    config = keras_archive_config(data) if kind == "keras" else h5_config(data)
    check_config(config)

    import keras

    suffix = ".keras" if kind == "keras" else ".h5"
    with tempfile.TemporaryDirectory(prefix="cnnviz-upload-") as folder:
        path = os.path.join(folder, "model" + suffix)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        try:
            model = keras.saving.load_model(path, compile=False, safe_mode=True)
        except Exception as exc:  # noqa: BLE001 - Keras raises many kinds; all mean "refused"
            text = str(exc)
            if "lambda" in text.lower() or "safe_mode" in text:
                raise ModelFileError(
                    "This model contains Python code (a lambda), which Keras' safe mode refuses."
                ) from exc
            raise ModelFileError(
                f"Keras could not load this model ({type(exc).__name__}: {text[:300]})."
            ) from exc
    return check_model(model)


def open_model_file(path: str | os.PathLike):
    """``open_model_bytes`` for a file on disk (size checked before it is read)."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ModelFileError(
            f"The file is {size / 2**20:.1f} MB; the limit is {MAX_FILE_BYTES // 2**20} MB."
        )
    return open_model_bytes(path.read_bytes(), path.name)
