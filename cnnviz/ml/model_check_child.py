"""The sandboxed child that reads an uploaded model file: ``python -m cnnviz.ml.model_check_child IN OUT``.

Started by :func:`cnnviz.ml.model_files.open_model_bytes` through :mod:`cnnviz.core.sandbox`,
never imported by the server. It limits itself first, then reads the file with ``zipfile``,
``json``, ``h5py`` and ``numpy`` only (never TensorFlow or Keras), and writes to OUT:

* ``result.json``: ``{"ok": true, "spec": <checked spec>}`` or ``{"ok": false, "message": ...}``;
* ``weights.npz`` (when ok): every layer's weights as float32 arrays named ``"<layer>_<i>"``
  (the layer's position in the spec and the weight's position in Keras' order).

Nothing is extracted to disk; every size is checked before it is read.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":  # limits before anything heavy is imported
    from cnnviz.core.sandbox import apply_limits

    apply_limits()

import io
import json
import math
import os
import re
import stat
import zipfile

import h5py
import numpy as np

from cnnviz.ml import model_schema as schema
from cnnviz.ml import model_spec
from cnnviz.ml.model_schema import ModelFileError, detail

_ZIP_MAGIC = b"PK\x03\x04"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
MAX_HDF5_OBJECTS = 2000
MAX_HDF5_DEPTH = 12
MAX_ATTRIBUTE_BYTES = 64 * 1024
FORBIDDEN_MODULES = ("tensorflow", "keras", "jax", "torch")
_OPTIMIZER_GROUPS = ("optimizer", "optimizer_weights")


# --- .keras archives ------------------------------------------------------------------


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return f"an absolute path ({detail(name)})"
    if ".." in re.split(r"[\\/]", name):
        return f"a path leading outside the archive ({detail(name)})"
    if stat.S_ISLNK(info.external_attr >> 16):
        return f"a symbolic link ({detail(name)})"
    if name not in schema.ARCHIVE_MEMBERS:
        return f"a file a Keras model does not contain ({detail(name)})"
    return None


def read_archive(data: bytes) -> tuple[bytes, bytes]:
    """(config.json, model.weights.h5) of a ``.keras`` archive, after every check on its members."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ModelFileError(f"This .keras file is not a valid zip archive ({detail(str(exc), 80)}).") from exc
    with archive:
        members = archive.infolist()
        if len(members) > schema.MAX_ARCHIVE_MEMBERS:
            raise ModelFileError(
                f"The archive holds {len(members)} files; a .keras model holds 3 "
                f"(the limit is {schema.MAX_ARCHIVE_MEMBERS})."
            )
        total = sum(m.file_size for m in members)
        if total > schema.MAX_UNCOMPRESSED_BYTES:
            raise ModelFileError(
                f"The archive would unpack to {total / 2**20:.0f} MB; the limit is "
                f"{schema.MAX_UNCOMPRESSED_BYTES // 2**20} MB (a zip bomb, or far too large a model)."
            )
        if "config.json" not in {m.filename for m in members}:
            raise ModelFileError(
                "This zip archive is not a Keras model: it has no config.json. Save the model "
                "with model.save('name.keras')."
            )
        names: dict[str, zipfile.ZipInfo] = {}
        for info in members:
            problem = _member_problem(info)
            if problem:
                raise ModelFileError(
                    f"The archive holds {problem}; a .keras model holds only "
                    f"{', '.join(schema.ARCHIVE_MEMBERS)}."
                )
            if info.filename in names:
                raise ModelFileError(f"The archive holds {detail(info.filename)} twice.")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise ModelFileError(f"The archive's {detail(info.filename)} uses a compression "
                                     "Keras does not write.")
            names[info.filename] = info
        if "model.weights.h5" not in names:
            raise ModelFileError("This .keras archive has no model.weights.h5: it holds no weights.")
        if names["config.json"].file_size > schema.MAX_CONFIG_BYTES:
            raise ModelFileError(f"config.json is {names['config.json'].file_size:,} bytes; far too "
                                 "large for a model's architecture.")

        def read(name: str) -> bytes:
            info = names[name]
            try:
                with archive.open(info) as f:
                    raw = f.read(info.file_size + 1)
            except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError, ValueError,
                    EOFError) as exc:
                raise ModelFileError(f"{name} could not be read from the archive "
                                     f"({detail(str(exc), 80)}).") from exc
            if len(raw) > info.file_size:
                raise ModelFileError(f"{name} is larger than the archive says: refused.")
            return raw

        return read("config.json"), read("model.weights.h5")


# --- HDF5 -----------------------------------------------------------------------------


def _open_h5(data: bytes, what: str) -> h5py.File:
    if not data.startswith(_HDF5_MAGIC):
        raise ModelFileError(f"The {what} is not an HDF5 file.")
    try:
        return h5py.File(io.BytesIO(data), mode="r")
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelFileError(f"The {what} could not be opened as HDF5 ({detail(str(exc), 80)}).") from exc


def inspect_h5(f: h5py.File, what: str) -> None:
    """Walk every link of an HDF5 file before any array is read: only groups and float datasets
    in the file itself (no soft or external links, no external storage, no virtual datasets),
    declared sizes summed and bounded."""
    declared, count = 0, 0
    stack = [(f, "", 0)]
    seen = set()
    while stack:
        group, path, depth = stack.pop()
        if depth > MAX_HDF5_DEPTH:
            raise ModelFileError(f"The {what} nests groups more than {MAX_HDF5_DEPTH} deep.")
        for key in group:
            count += 1
            if count > MAX_HDF5_OBJECTS:
                raise ModelFileError(f"The {what} holds more than {MAX_HDF5_OBJECTS} objects.")
            where = f"{path}/{key}"
            link = group.get(key, getlink=True)
            if isinstance(link, (h5py.SoftLink, h5py.ExternalLink)):
                kind = "an external link" if isinstance(link, h5py.ExternalLink) else "a soft link"
                raise ModelFileError(f"The {what} holds {kind} ({detail(where)}); Keras files hold none.")
            obj = group.get(key)
            if obj is None:
                raise ModelFileError(f"The {what} holds an entry that cannot be opened ({detail(where)}).")
            address = h5py.h5o.get_info(obj.id).addr
            if address in seen:
                raise ModelFileError(f"The {what} links one object twice ({detail(where)}).")
            seen.add(address)
            if isinstance(obj, h5py.Group):
                stack.append((obj, where, depth + 1))
                continue
            if not isinstance(obj, h5py.Dataset):
                raise ModelFileError(f"The {what} holds something that is neither a group nor an "
                                     f"array ({detail(where)}).")
            if obj.is_virtual:
                raise ModelFileError(f"The {what} holds a virtual dataset ({detail(where)}).")
            if obj.external:
                raise ModelFileError(f"The {what} stores data in another file ({detail(where)}).")
            shape = obj.shape
            if shape is None:
                raise ModelFileError(f"The {what} holds an array without a shape ({detail(where)}).")
            dtype = obj.dtype
            optimizer_scalar = (where.strip("/").split("/")[0] in _OPTIMIZER_GROUPS
                                and shape == () and dtype.kind in "iu")
            if not (dtype.kind == "f" and dtype.itemsize in (2, 4, 8)) and not optimizer_scalar:
                raise ModelFileError(f"The {what} holds an array of type {detail(str(dtype))} at "
                                     f"{detail(where)}; weights are floating-point numbers.")
            declared += math.prod(shape) * dtype.itemsize
            if declared > schema.MAX_UNCOMPRESSED_BYTES:
                raise ModelFileError(
                    f"The {what} declares more than {declared / 2**20:.0f} MB of weights; the "
                    f"limit is {schema.MAX_UNCOMPRESSED_BYTES // 2**20} MB (a shape bomb, or far "
                    "too large a model)."
                )


def _attribute(obj, name: str, what: str):
    """An HDF5 attribute, its size checked before it is read; None when absent."""
    if name not in obj.attrs:
        return None
    try:
        attr = h5py.h5a.open(obj.id, name.encode())
        shape = attr.shape
        if shape is None or math.prod(shape) > 10_000:
            raise ModelFileError(f"The {what}'s attribute {name!r} has no shape or far too many values.")
        value = obj.attrs[name]
    except ModelFileError:
        raise
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise ModelFileError(f"The {what}'s attribute {name!r} cannot be read "
                             f"({detail(str(exc), 80)}).") from exc
    limit = schema.MAX_CONFIG_BYTES if name == "model_config" else MAX_ATTRIBUTE_BYTES
    size = len(value) if isinstance(value, (str, bytes)) else getattr(value, "nbytes", 0)
    if size > limit:
        raise ModelFileError(f"The {what}'s attribute {name!r} is {size:,} bytes; far too large.")
    return value


def _text(value, name: str) -> str:
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "OSU":
        value = value[()]
    if isinstance(value, (bytes, np.bytes_)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise ModelFileError(f"The file's {name!r} attribute is not UTF-8 text.") from None
    if isinstance(value, str):
        return value
    raise ModelFileError(f"The file's {name!r} attribute is not text (it holds "
                         f"{detail(type(value).__name__)}).")


def _names(value, what: str) -> list[str]:
    """A list of names stored as an HDF5 attribute (layer_names, weight_names)."""
    if isinstance(value, np.ndarray) and value.ndim == 1 and (value.size == 0 or value.dtype.kind in "OSU"):
        return [_text(v, what) for v in value.tolist()]
    raise ModelFileError(f"The file's {what!r} attribute is not a list of names.")


def _read(dataset, expected: list[int], where: str, layer: str) -> np.ndarray:
    if not isinstance(dataset, h5py.Dataset):
        raise ModelFileError(f"The weights of layer {detail(layer)} are missing ({detail(where)}).")
    if list(dataset.shape) != list(expected):
        raise ModelFileError(f"The weights of layer {detail(layer)} have shape {tuple(dataset.shape)}; "
                             f"the architecture needs {tuple(expected)}.")
    try:
        return np.asarray(dataset[()], dtype=np.float32)
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelFileError(f"The weights of layer {detail(layer)} cannot be read "
                             f"({detail(str(exc), 80)}).") from exc


def _snake(name: str) -> str:
    """Keras' ``naming.to_snake_case`` for the class names of the allowed layers."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def keras_weights(f: h5py.File, spec: dict, shapes: list[list[list[int]]]) -> list[list[np.ndarray]]:
    """Weights from a ``.keras`` archive's ``model.weights.h5``: ``layers/<class>[_k]/vars/<i>``."""
    listed = ([{"type": "InputLayer", "name": spec["input"]["name"]}] if spec["kind"] == "functional"
              else []) + spec["layers"]
    used: dict[str, int] = {}
    paths = []
    for layer in listed:
        base = _snake(layer["type"])
        used[base] = used.get(base, -1) + 1
        paths.append(base if used[base] == 0 else f"{base}_{used[base]}")
    paths = paths[len(listed) - len(spec["layers"]):]
    layers_group = f.get("layers")
    if not isinstance(layers_group, h5py.Group):
        raise ModelFileError("The weights file has no 'layers' group: it is not from this model.")
    out = []
    for layer, path, expected in zip(spec["layers"], paths, shapes):
        group = layers_group.get(path)
        vars_group = group.get("vars") if isinstance(group, h5py.Group) else None
        if not isinstance(vars_group, h5py.Group):
            if not expected:
                out.append([])
                continue
            raise ModelFileError(f"The weights of layer {detail(layer['name'])} are missing.")
        saved_name = _attribute(vars_group, "name", "weights file")
        if saved_name is not None and _text(saved_name, "name") != layer["name"]:
            raise ModelFileError(f"The weights file does not match the architecture: it holds "
                                 f"{detail(_text(saved_name, 'name'))} where {detail(layer['name'])} should be.")
        if len(vars_group) != len(expected):
            raise ModelFileError(f"The weights file holds {len(vars_group)} arrays for layer "
                                 f"{detail(layer['name'])}; it needs {len(expected)}.")
        out.append([_read(vars_group.get(str(i)), shape, f"layers/{path}/vars/{i}", layer["name"])
                    for i, shape in enumerate(expected)])
    return out


def legacy_weights(f: h5py.File, spec: dict, shapes: list[list[list[int]]]) -> list[list[np.ndarray]]:
    """Weights from a legacy ``.h5`` model: ``model_weights/<layer>/<weight name>``, named by attributes."""
    group = f.get("model_weights")
    if not isinstance(group, h5py.Group):
        raise ModelFileError("This .h5 file holds no weights (no 'model_weights' group).")
    out = []
    for layer, expected in zip(spec["layers"], shapes):
        layer_group = group.get(layer["name"])
        if not isinstance(layer_group, h5py.Group):
            if not expected:
                out.append([])
                continue
            raise ModelFileError(f"The weights of layer {detail(layer['name'])} are missing.")
        value = _attribute(layer_group, "weight_names", "weights file")
        if value is None:
            raise ModelFileError(f"The weights of layer {detail(layer['name'])} are not named "
                                 "(no 'weight_names' attribute).")
        names = _names(value, "weight_names")
        if len(names) != len(expected):
            raise ModelFileError(f"The file names {len(names)} weights for layer "
                                 f"{detail(layer['name'])}; it needs {len(expected)}.")
        out.append([_read(layer_group.get(name), shape, name, layer["name"])
                    for name, shape in zip(names, expected)])
    return out


# --- The whole file -------------------------------------------------------------------


def check_file(data: bytes) -> tuple[dict, list[list[np.ndarray]]]:
    """(the checked spec, the weights) of an uploaded model file, or ModelFileError."""
    if len(data) > schema.MAX_FILE_BYTES:
        raise ModelFileError(f"The file is {len(data) / 2**20:.1f} MB; the limit is "
                             f"{schema.MAX_FILE_BYTES // 2**20} MB.")
    if data.startswith(_ZIP_MAGIC):
        raw, weights_bytes = read_archive(data)
        spec = model_spec.model_spec(schema.parse_json(raw, "config.json"))
        shapes = model_spec.check_spec(spec)["weights"]
        with _open_h5(weights_bytes, "weights file (model.weights.h5)") as f:
            inspect_h5(f, "weights file (model.weights.h5)")
            return spec, keras_weights(f, spec, shapes)
    if data.startswith(_HDF5_MAGIC):
        with _open_h5(data, ".h5 file") as f:
            inspect_h5(f, ".h5 file")
            raw = _attribute(f, "model_config", ".h5 file")
            if raw is None:
                raise ModelFileError(
                    "This HDF5 file holds no model architecture (no 'model_config'): it may hold "
                    "only weights. Save the whole model with model.save('name.keras')."
                )
            spec = model_spec.model_spec(schema.parse_json(_text(raw, "model_config"), "model_config"))
            shapes = model_spec.check_spec(spec)["weights"]
            return spec, legacy_weights(f, spec, shapes)
    raise ModelFileError("This is not a Keras model file: a .keras file is a zip archive and a .h5 "
                         "file is an HDF5 file, and this file's content is neither.")


def _write_result(output: str, result: dict) -> None:
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in FORBIDDEN_MODULES)
    result["imported"] = sorted({m.split(".")[0] for m in sys.modules})
    if heavy:  # never expected: the child refuses to vouch for a file once Keras is loaded
        result = {"ok": False, "message": "The checking process loaded a machine-learning library "
                  "it must not use; the file was refused.", "imported": result["imported"]}
    path = os.path.join(output, "result.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(result, f)


def main(argv: list[str]) -> int:
    source, output = argv
    try:
        with open(source, "rb") as f:
            data = f.read(schema.MAX_FILE_BYTES + 1)
        spec, weights = check_file(data)
        arrays = {f"{i}_{j}": array for i, layer in enumerate(weights) for j, array in enumerate(layer)}
        np.savez(os.path.join(output, "weights.npz"), **arrays)
        _write_result(output, {"ok": True, "spec": spec})
    except ModelFileError as exc:
        _write_result(output, {"ok": False, "message": str(exc)})
    except MemoryError:
        _write_result(output, {"ok": False, "message": "Reading this file needs more memory than "
                               "an upload may use; it was refused."})
    except RecursionError:
        _write_result(output, {"ok": False, "message": "This file is nested too deeply to read."})
    except Exception as exc:  # noqa: BLE001 - any other failure: a refusal in words
        _write_result(output, {"ok": False, "message": "This file could not be read as a Keras "
                               f"model ({type(exc).__name__}: {detail(str(exc), 120)})."})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
