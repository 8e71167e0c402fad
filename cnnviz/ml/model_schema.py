"""What an uploaded model's architecture may say, field by field: the limits, the allowlists,
and reading JSON and values within them, without Keras.

A Keras ``config.json`` (or a legacy ``.h5`` file's ``model_config``) is read by
:func:`cnnviz.ml.model_spec.model_spec` into a *spec*: plain JSON holding only the fields cnnviz
needs to rebuild the model itself, layer by layer. Everything else in the file
is refused unless it is one of the exact shapes Keras 3 writes (an initializer
wrapper, a dtype policy), checked by value. :func:`cnnviz.ml.model_spec.check_spec` checks a spec
again (the server calls it on what the sandboxed child hands back), infers every
layer's output shape and counts the parameters exactly, before anything is built.

This module imports no Keras or TensorFlow: it runs in the sandboxed child
(``cnnviz.ml.model_check_child``) as well as in the server.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np

from cnnviz.core.architecture import ALLOWED_LAYER_TYPES

MAX_FILE_BYTES = 10 * 1024 * 1024
"""Largest accepted upload (the course's CNN is about 0.3 MB; the server refuses more than 10 MB too)."""

MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
"""Largest total uncompressed size of a ``.keras`` archive's members, or of an HDF5 file's datasets."""

MAX_CONFIG_BYTES = 1024 * 1024
"""Largest ``config.json`` (a model's architecture is a few kilobytes)."""

MAX_JSON_DEPTH = 20
"""Deepest nesting of lists and objects in a config (Keras writes about 10)."""

MAX_ARCHIVE_MEMBERS = 16
"""More members than this is refused before anything else is looked at (a model has 3)."""

MAX_PARAMETERS = 20_000_000
"""The one limit on parameters, computed exactly from the checked config before anything is built."""

MAX_LAYERS = 64
MAX_LAYER_VALUES = 2_000_000
"""Largest output of one layer for one image (the course's CNN: 43,264 at conv_1)."""

NUM_CLASSES = 10

ARCHIVE_MEMBERS = ("config.json", "metadata.json", "model.weights.h5")

LAMBDA_MARKERS = frozenset({"Lambda", "__lambda__", "TFOpLambda", "SlicingOpLambda"})

ACTIVATIONS = frozenset({
    "linear", "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish",
    "sigmoid", "hard_sigmoid", "hard_silu", "hard_swish", "softmax", "log_softmax",
    "softplus", "softsign", "tanh", "exponential", "mish",
})
"""Activations by name: Keras' own functions that compute and nothing else."""

PADDINGS = frozenset({"valid", "same"})
DATA_FORMATS = frozenset({"channels_last"})
DTYPES = frozenset({"float32"})

_INITIALIZER_NAMES = frozenset({
    "glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform",
    "zeros", "ones", "random_normal", "random_uniform", "truncated_normal", "orthogonal",
    "identity", "variance_scaling", "constant",
})
_SEED = {"seed": "seed"}
_INITIALIZER_WRAPPERS = {
    # class name -> allowed config keys and their kinds (what Keras 3.15 writes)
    **{name: {"seed": "seed", "input_axes": "null", "output_axes": "null"}
       for name in ("GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "LecunNormal",
                    "LecunUniform")},
    "Zeros": {}, "Ones": {}, "Identity": {"gain": "number"},
    "RandomNormal": {**_SEED, "mean": "number", "stddev": "number"},
    "TruncatedNormal": {**_SEED, "mean": "number", "stddev": "number"},
    "RandomUniform": {**_SEED, "minval": "number", "maxval": "number"},
    "Constant": {"value": "number"},
    "Orthogonal": {**_SEED, "gain": "number"},
    "VarianceScaling": {**_SEED, "scale": "number", "mode": ("fan_in", "fan_out", "fan_avg"),
                        "distribution": ("truncated_normal", "untruncated_normal", "uniform",
                                         "normal"),
                        "input_axes": "null", "output_axes": "null"},
}
_REGULARIZER_NAMES = frozenset({"l1", "l2", "l1_l2"})
_REGULARIZER_WRAPPERS = {"L1": {"l1": "number"}, "L2": {"l2": "number"},
                         "L1L2": {"l1": "number", "l2": "number"}}
_CONSTRAINT_NAMES = frozenset({"non_neg", "unit_norm", "max_norm", "min_max_norm"})
_CONSTRAINT_WRAPPERS = {
    "NonNeg": {}, "UnitNorm": {"axis": "axis"}, "MaxNorm": {"max_value": "number", "axis": "axis"},
    "MinMaxNorm": {"min_value": "number", "max_value": "number", "rate": "number", "axis": "axis"},
}

_COMMON = {"name": "name", "trainable": "bool", "dtype": "dtype"}
_INIT, _REG, _CONS = "initializer", "regularizer", "constraint"
_NAMED_OBJECTS = {
    _INIT: (_INITIALIZER_NAMES, "keras.initializers", _INITIALIZER_WRAPPERS, False,
            "must be the name of a Keras initializer"),
    _REG: (_REGULARIZER_NAMES, "keras.regularizers", _REGULARIZER_WRAPPERS, True,
           "must be null or a Keras regularizer (l1, l2)"),
    _CONS: (_CONSTRAINT_NAMES, "keras.constraints", _CONSTRAINT_WRAPPERS, True, "must be null or a Keras constraint"),
}
"""Settings that name a Keras object: (plain names, module, wrapper classes, null allowed, the refusal)."""
LAYER_KEYS = {
    "InputLayer": {"name": "name", "dtype": "dtype", "batch_shape": "shape",
                   "batch_input_shape": "shape", "sparse": "false", "ragged": "false",
                   "optional": "false"},
    "Conv2D": {**_COMMON, "filters": "count", "kernel_size": "pair", "strides": "pair",
               "padding": "padding", "data_format": "data_format", "dilation_rate": "pair",
               "groups": "one", "activation": "activation", "use_bias": "bool",
               "kernel_initializer": _INIT, "bias_initializer": _INIT,
               "kernel_regularizer": _REG, "bias_regularizer": _REG, "activity_regularizer": _REG,
               "kernel_constraint": _CONS, "bias_constraint": _CONS},
    "MaxPooling2D": {**_COMMON, "pool_size": "pair", "strides": "pair_or_null",
                     "padding": "padding", "data_format": "data_format"},
    "Flatten": {**_COMMON, "data_format": "data_format"},
    "Dense": {**_COMMON, "units": "count", "activation": "activation", "use_bias": "bool",
              "kernel_initializer": _INIT, "bias_initializer": _INIT,
              "kernel_regularizer": _REG, "bias_regularizer": _REG, "activity_regularizer": _REG,
              "kernel_constraint": _CONS, "bias_constraint": _CONS, "quantization_config": "null"},
    "Dropout": {**_COMMON, "rate": "rate", "seed": "seed", "noise_shape": "null"},
    "Rescaling": {**_COMMON, "scale": "number", "offset": "number"},
    "Reshape": {**_COMMON, "target_shape": "target_shape"},
    "Activation": {**_COMMON, "activation": "activation"},
    "BatchNormalization": {**_COMMON, "axis": "bn_axis", "momentum": "number", "epsilon": "number",
                           "center": "bool", "scale": "bool", "beta_initializer": _INIT,
                           "gamma_initializer": _INIT, "moving_mean_initializer": _INIT,
                           "moving_variance_initializer": _INIT, "beta_regularizer": _REG,
                           "gamma_regularizer": _REG, "beta_constraint": _CONS,
                           "gamma_constraint": _CONS, "synchronized": "false",
                           "renorm": "false", "renorm_clipping": "null",
                           "renorm_momentum": "number"},
}
LAYER_KEYS["AveragePooling2D"] = LAYER_KEYS["MaxPooling2D"]
assert set(LAYER_KEYS) == ALLOWED_LAYER_TYPES, "every allowed layer type needs its allowed keys"

SPEC_FIELDS = {
    "Conv2D": ("filters", "kernel_size", "strides", "padding", "dilation_rate", "activation",
               "use_bias"),
    "MaxPooling2D": ("pool_size", "strides", "padding"),
    "AveragePooling2D": ("pool_size", "strides", "padding"),
    "Flatten": (),
    "Dense": ("units", "activation", "use_bias"),
    "Dropout": ("rate",),
    "Rescaling": ("scale", "offset"),
    "Reshape": ("target_shape",),
    "Activation": ("activation",),
    "BatchNormalization": ("epsilon", "momentum", "center", "scale"),
}
"""What a spec keeps of each layer (besides type and name): all that the rebuilt model needs.
Initializers, regularizers and constraints are checked but not kept: the weights come from
the file and the rebuilt model is only used for inference."""

LAYER_DEFAULTS = {
    "Conv2D": {"strides": [1, 1], "padding": "valid", "dilation_rate": [1, 1],
               "activation": "linear", "use_bias": True},
    "MaxPooling2D": {"pool_size": [2, 2], "strides": None, "padding": "valid"},
    "Dense": {"activation": "linear", "use_bias": True},
    "Dropout": {"rate": 0.0},
    "Rescaling": {"scale": 1.0, "offset": 0.0},
    "Activation": {"activation": "linear"},
    "BatchNormalization": {"epsilon": 1e-3, "momentum": 0.99, "center": True, "scale": True},
}
LAYER_DEFAULTS["AveragePooling2D"] = LAYER_DEFAULTS["MaxPooling2D"]
REQUIRED_KEYS = {"Conv2D": ("filters", "kernel_size"), "Dense": ("units",),
             "Reshape": ("target_shape",), "Activation": ("activation",)}

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,79}$")
MODEL_CLASSES = {"Sequential": "sequential", "Functional": "functional", "Model": "functional"}
MODEL_MODULES = frozenset({None, "keras", "keras.models", "keras.src.models.functional",
                            "keras.src.models.sequential", "keras.src.models.model"})
_MAX_SIZE = 4096
"""Largest kernel, stride, pool or shape entry anywhere in a config."""


class ModelFileError(ValueError):
    """A model file was refused; the message says why in words a student understands."""


def detail(value, limit: int = 60) -> str:
    """A file-supplied value for a message: quoted, one line, cut at ``limit`` characters."""
    text = repr(value)
    text = re.sub(r"[\x00-\x1f\x7f]", "?", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- JSON with limits ------------------------------------------------------------

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def json_depth(text: str) -> int:
    """How deeply lists and objects nest in a JSON text (strings skipped), without parsing it."""
    skeleton = _JSON_STRING.sub("", text)
    codes = np.frombuffer(skeleton.encode("utf-8", errors="replace"), dtype=np.uint8)
    steps = np.isin(codes, (ord("{"), ord("["))).astype(np.int32) - np.isin(
        codes, (ord("}"), ord("]"))).astype(np.int32)
    return int(np.cumsum(steps).max(initial=0))


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def parse_json(raw: bytes | str, where: str, *, limit: int = MAX_CONFIG_BYTES):
    """JSON text from a file, refused (ModelFileError) when too large, too deep or invalid."""
    if not isinstance(raw, (bytes, str)):
        raise ModelFileError(f"The model's {where} is not text (it is {type(raw).__name__}).")
    if len(raw) > limit:
        raise ModelFileError(f"The model's {where} is {len(raw):,} bytes; far too large for a "
                             f"model's architecture (the limit is {limit:,}).")
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise ModelFileError(f"The model's {where} is not UTF-8 text ({exc.reason}).") from exc
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise ModelFileError(f"The model's {where} nests {depth} levels deep; a Keras model needs "
                             f"about 10 (the limit is {MAX_JSON_DEPTH}).")
    try:
        return json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(f"The model's {where} is not valid JSON: {detail(str(exc), 120)}.") from exc


def walk(node):
    """Every dict nested in a JSON value (iteratively: depth is bounded, but no recursion)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


# --- Values -----------------------------------------------------------------------


class Refused(Exception):
    """A value of the wrong kind (turned into a message naming the layer and the key)."""


def _is_int(v) -> bool:
    return type(v) is int


def _is_number(v) -> bool:
    return (type(v) is int or type(v) is float) and math.isfinite(v) and abs(v) < 1e30


def _pair(v, *, low: int = 1) -> list[int]:
    if _is_int(v):
        v = [v, v]
    if not (isinstance(v, list) and len(v) == 2 and all(_is_int(s) and low <= s <= _MAX_SIZE for s in v)):
        raise Refused(f"must be a whole number or two, from {low} to {_MAX_SIZE}")
    return list(v)


def _wrapper(value, module: str, classes: dict, what: str):
    """One of the exact objects Keras writes for ``what`` (class from a fixed list, config by value)."""
    keys = set(value)
    if not keys <= {"module", "class_name", "config", "registered_name"} or "class_name" not in keys:
        raise Refused(f"must be the name of a Keras {what}")
    if value.get("module", module) != module or value.get("registered_name") is not None:
        raise Refused(f"names code outside Keras' {what}s ({detail(value.get('module'))})")
    cls = value["class_name"]
    if cls not in classes:
        raise Refused(f"names {detail(cls)}, not one of Keras' {what}s "
                      f"({', '.join(sorted(classes))})")
    config = value.get("config", {})
    if not isinstance(config, dict):
        raise Refused(f"has a {what} setting that is not an object")
    for key, sub in config.items():
        if key not in classes[cls]:
            raise Refused(f"has an unexpected {what} setting {detail(key)}")
        check_value(sub, classes[cls][key])
    return cls


def check_value(v, kind):
    """Check one config value against its kind; returns the value to keep in a spec."""
    if isinstance(kind, tuple):
        if v not in kind:
            raise Refused(f"must be one of {', '.join(kind)}")
        return v
    if kind == "name":
        if not (isinstance(v, str) and _NAME.match(v)):
            raise Refused("must be a name of letters, digits, '_', '.' or '-' (at most 80)")
        return v
    if kind in ("bool", "false"):
        if type(v) is not bool or (kind == "false" and v):
            raise Refused("must be false" if kind == "false" else "must be true or false")
        return v
    if kind == "null":
        if v is not None:
            raise Refused("must be null")
        return v
    if kind == "seed":
        if not (v is None or (_is_int(v) and 0 <= v < 2**32)):
            raise Refused("must be null or a whole number")
        return v
    if kind == "number":
        if not _is_number(v):
            raise Refused("must be a finite number")
        return float(v)
    if kind == "rate":
        if not (_is_number(v) and 0 <= v < 1):
            raise Refused("must be a number from 0 to just under 1")
        return float(v)
    if kind in ("count", "one"):
        if not (_is_int(v) and v >= 1) or (kind == "one" and v != 1):
            raise Refused("must be 1 (grouped convolutions are not accepted)" if kind == "one"
                          else "must be a whole number of at least 1")
        return v
    if kind == "pair":
        return _pair(v)
    if kind == "pair_or_null":
        return None if v is None else _pair(v)
    if kind == "axis":
        if not (_is_int(v) or (isinstance(v, list) and len(v) <= 4 and all(map(_is_int, v)))):
            raise Refused("must be an axis number")
        return v
    if kind == "bn_axis":
        if v not in (-1, 3, [-1], [3]):
            raise Refused("must be -1 (the channels)")
        return -1
    if kind == "padding":
        if v not in PADDINGS:
            raise Refused(f"must be one of {', '.join(sorted(PADDINGS))}")
        return v
    if kind == "data_format":
        if v is not None and v not in DATA_FORMATS:
            raise Refused("must be channels_last")
        return v
    if kind == "activation":
        if isinstance(v, str) and v in ACTIVATIONS:
            return v
        raise Refused(f"must be the name of one of Keras' activations ({', '.join(sorted(ACTIVATIONS))}); "
                      "objects naming other functions are refused")
    if kind == "dtype":
        if isinstance(v, str):
            name = v
        elif isinstance(v, dict) and set(v) <= {"module", "class_name", "config", "registered_name",
                                                 "shared_object_id"}:
            cfg = v.get("config")
            if (v.get("module") != "keras" or v.get("class_name") != "DTypePolicy"
                    or v.get("registered_name") is not None or not isinstance(cfg, dict)
                    or set(cfg) != {"name"} or not (v.get("shared_object_id") is None
                                                    or _is_int(v["shared_object_id"]))):
                raise Refused("must be a float32 dtype policy as Keras writes it")
            name = cfg["name"]
        else:
            raise Refused("must be a float32 dtype policy as Keras writes it")
        if name not in DTYPES:
            raise Refused(f"is {detail(name)}; only float32 models are accepted")
        return name
    if kind == "shape":
        if not (isinstance(v, list) and 2 <= len(v) <= 5
                and all(s is None or (_is_int(s) and 1 <= s <= _MAX_SIZE) for s in v)):
            raise Refused("must be a list of sizes (whole numbers or null)")
        return v
    if kind == "target_shape":
        if not (isinstance(v, list) and 1 <= len(v) <= 3
                and all(_is_int(s) and (s == -1 or 1 <= s <= 10**7) for s in v)
                and v.count(-1) <= 1):
            raise Refused("must be a list of 1 to 3 sizes (at most one -1)")
        return list(v)
    if kind in _NAMED_OBJECTS:
        names, module, wrappers, nullable, message = _NAMED_OBJECTS[kind]
        if (v is None and nullable) or (isinstance(v, str) and v in names):
            return v
        if isinstance(v, dict):
            return _wrapper(v, module, wrappers, kind)
        raise Refused(message)
    raise AssertionError(kind)  # pragma: no cover - a kind missing above is a bug here
