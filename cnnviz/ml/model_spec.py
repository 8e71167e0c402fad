"""An uploaded model's architecture as a *spec*: the layers cnnviz rebuilds, their shapes and
their exact parameter count, worked out from the checked config before anything is built.

No Keras or TensorFlow: this runs in the sandboxed child as well as in the server, which
checks the child's answer again with :func:`check_spec`.
"""

from __future__ import annotations

import math

from cnnviz.core.architecture import ALLOWED_LAYER_TYPES
from cnnviz.core.data import IMAGE_SHAPE
from cnnviz.ml.model_schema import (
    LAMBDA_MARKERS,
    LAYER_DEFAULTS,
    LAYER_KEYS,
    MAX_LAYER_VALUES,
    MAX_LAYERS,
    MAX_PARAMETERS,
    MODEL_CLASSES,
    MODEL_MODULES,
    NUM_CLASSES,
    REQUIRED_KEYS,
    SPEC_FIELDS,
    ModelFileError,
    Refused,
    check_value,
    detail,
    walk,
)


# --- The architecture -------------------------------------------------------------


def _lambda_check(config) -> None:
    for node in walk(config):
        if node.get("class_name") in LAMBDA_MARKERS or "__lambda__" in (node.get("class_name"),
                                                                         node.get("module")):
            raise ModelFileError(
                "This model contains Python code (a Lambda layer or function). Such code could "
                "do anything on the server, so Keras' safe mode refuses it and so does this app."
            )


def _keys_message(kind: str, name, key) -> str:
    extra = ""
    if str(key).startswith("lora"):
        extra = " LoRA settings multiply a layer's weights and are not accepted."
    return (f"Layer {detail(name)} ({kind}) has a setting this page does not accept: "
            f"{detail(key)}.{extra} Save the model with ordinary layers.")


def _layer(entry, *, sequential: bool) -> dict:
    """One layer entry of a config, checked, as a spec layer (plus its inbound references)."""
    if not isinstance(entry, dict):
        raise ModelFileError("The model's layer list holds something that is not a layer.")
    kind = entry.get("class_name")
    if kind not in ALLOWED_LAYER_TYPES:
        if isinstance(kind, str) and kind in MODEL_CLASSES:
            raise ModelFileError("This model contains another model inside it (a nested "
                                 f"{kind}); this page accepts one model of plain layers.")
        raise ModelFileError(
            f"This model contains layer types this page does not accept: {detail(kind)}. "
            f"Accepted: {', '.join(sorted(ALLOWED_LAYER_TYPES))}."
        )
    allowed_entry = {"module", "class_name", "config", "registered_name", "build_config"}
    if not sequential:
        allowed_entry |= {"name", "inbound_nodes"}
    module = entry.get("module")
    if module is not None and module != "keras.layers":
        raise ModelFileError(f"Layer {detail((entry.get('config') or {}).get('name'))} comes from "
                             f"{detail(module)}, not from Keras: custom layer classes are not accepted.")
    if entry.get("registered_name") is not None:
        raise ModelFileError(f"A {kind} layer is registered as {detail(entry['registered_name'])}: "
                             "custom layer classes are not accepted.")
    unexpected = sorted(set(entry) - allowed_entry, key=str)
    if unexpected:
        raise ModelFileError(f"A {kind} layer entry has an unexpected field {detail(unexpected[0])}.")
    config = entry.get("config")
    if not isinstance(config, dict):
        raise ModelFileError(f"A {kind} layer's settings are not an object.")
    name = config.get("name")
    keys = LAYER_KEYS[kind]
    for key in config:
        if key not in keys:
            raise ModelFileError(_keys_message(kind, name, key))
    checked = {}
    for key, value in config.items():
        try:
            checked[key] = check_value(value, keys[key])
        except Refused as exc:
            raise ModelFileError(f"Layer {detail(name)} ({kind}): its setting {key!r} {exc}.") from None
    if "name" not in checked:
        raise ModelFileError(f"A {kind} layer has no name.")
    build = entry.get("build_config")
    if build is not None and not (isinstance(build, dict) and set(build) <= {"input_shape"}):
        raise ModelFileError(f"Layer {detail(name)} has an unexpected build_config.")
    if isinstance(build, dict) and build.get("input_shape") is not None:
        try:
            check_value(build["input_shape"], "shape")
        except Refused as exc:
            raise ModelFileError(f"Layer {detail(name)}: its build input_shape {exc}.") from None
    if kind == "InputLayer":
        shape = checked.get("batch_shape", checked.get("batch_input_shape"))
        if shape is None:
            raise ModelFileError(f"Input {detail(name)} declares no shape.")
        layer = {"type": "InputLayer", "name": checked["name"], "shape": shape[1:]}
    else:
        for key in REQUIRED_KEYS.get(kind, ()):
            if key not in checked:
                raise ModelFileError(f"Layer {detail(name)} ({kind}) has no {key!r}.")
        values = {**LAYER_DEFAULTS.get(kind, {}), **checked}
        layer = {"type": kind, "name": checked["name"],
                 **{key: values[key] for key in SPEC_FIELDS[kind]}}
    if not sequential:
        if entry.get("name", layer["name"]) != layer["name"]:
            raise ModelFileError(f"Layer {detail(layer['name'])} is listed under another name.")
        layer["_inbound"] = _inbound(entry.get("inbound_nodes"), layer["name"])
    return layer


def _history(ref) -> str | None:
    """The layer name a functional reference points at: ``[name, 0, 0]`` (or Keras 2's ``[name, 0, 0, {}]``)."""
    if (isinstance(ref, list) and len(ref) in (3, 4) and isinstance(ref[0], str)
            and ref[1] == 0 and ref[2] == 0 and (len(ref) == 3 or ref[3] == {})):
        return ref[0]
    return None


def _inbound(nodes, name) -> list[str]:
    """The names of the layers feeding this one (one node, one tensor), from Keras 3's or Keras 2's format."""
    bad = ModelFileError(f"Layer {detail(name)} is connected in a way this page does not accept "
                         "(each layer must take exactly one other layer's output, once).")
    if nodes == []:
        return []
    if not (isinstance(nodes, list) and len(nodes) == 1):
        raise bad
    node = nodes[0]
    if isinstance(node, dict):  # Keras 3: {"args": [tensor], "kwargs": {...}}
        args, kwargs = node.get("args"), node.get("kwargs", {})
        if set(node) - {"args", "kwargs"} or not isinstance(args, list) or len(args) != 1:
            raise bad
        if not isinstance(kwargs, dict) or any(
                k not in ("mask", "training") or not (v is None or type(v) is bool)
                for k, v in kwargs.items()):
            raise bad
        tensor = args[0]
        if not (isinstance(tensor, dict) and tensor.get("class_name") == "__keras_tensor__"
                and set(tensor) == {"class_name", "config"} and isinstance(tensor["config"], dict)
                and set(tensor["config"]) <= {"shape", "dtype", "keras_history"}):
            raise bad
        source = _history(tensor["config"].get("keras_history"))
    elif isinstance(node, list) and len(node) == 1:  # Keras 2: [[name, 0, 0, {}]]
        source = _history(node[0])
    else:
        raise bad
    if source is None:
        raise bad
    return [source]


def _endpoints(value, what: str) -> str:
    """The one layer name of ``input_layers`` / ``output_layers`` (``[n, 0, 0]`` or ``[[n, 0, 0]]``)."""
    if isinstance(value, list) and value and isinstance(value[0], list):
        if len(value) != 1:
            raise ModelFileError(
                f"This model has {len(value)} {what}s; this page needs exactly one "
                f"{'input (a 28x28 grayscale image)' if what == 'input' else 'output (10 class scores)'}."
            )
        value = value[0]
    name = _history(value)
    if name is None:
        raise ModelFileError(f"The model's {what} is not described as Keras describes it.")
    return name


def model_spec(config) -> dict:
    """A parsed ``config.json`` / ``model_config`` as a checked spec, or ModelFileError.

    The spec: ``{"kind": "sequential"|"functional", "name", "input": {"name", "shape"},
    "layers": [{"type", "name", ...}]}`` with the layers in the order they are applied.
    """
    if not isinstance(config, dict):
        raise ModelFileError("The model's architecture is not a JSON object describing a Keras model.")
    _lambda_check(config)
    cls = config.get("class_name")
    if cls not in MODEL_CLASSES:
        raise ModelFileError(f"The file holds a {detail(cls)}, not a Sequential or functional model.")
    kind = MODEL_CLASSES[cls]
    unexpected = set(config) - {"module", "class_name", "config", "registered_name",
                                "build_config", "compile_config"}
    if unexpected:
        raise ModelFileError(f"The model has an unexpected top-level field {detail(sorted(unexpected)[0])}.")
    if config.get("module") not in MODEL_MODULES or config.get("registered_name") not in (None, "Functional"):
        raise ModelFileError(f"The model comes from {detail(config.get('module'))}, not from Keras: "
                             "custom model classes are not accepted.")
    # compile_config (optimizer, loss) is never read: the model is rebuilt uncompiled.
    body = config.get("config")
    if not isinstance(body, dict) or not isinstance(body.get("layers"), list):
        raise ModelFileError("The model's architecture lists no layers.")
    top_keys = ({"name", "trainable", "dtype", "layers", "build_input_shape"} if kind == "sequential"
                else {"name", "trainable", "layers", "input_layers", "output_layers"})
    extra = set(body) - top_keys
    if extra:
        raise ModelFileError(f"The model's settings hold an unexpected field {detail(sorted(extra)[0])}.")
    entries = body["layers"]
    if len(entries) > MAX_LAYERS:
        raise ModelFileError(f"The model has {len(entries)} layers; the limit is {MAX_LAYERS}.")
    name = body.get("name", "model")
    try:
        name = check_value(name, "name")
        if "dtype" in body:
            check_value(body["dtype"], "dtype")
        if "trainable" in body:
            check_value(body["trainable"], "bool")
    except Refused as exc:
        raise ModelFileError(f"The model's own settings: {exc}.") from None
    count = sum(isinstance(e, dict) and e.get("class_name") == "InputLayer" for e in entries)
    if kind == "functional":
        _endpoints(body.get("input_layers"), "input")  # exactly one, before anything else
    if count > 1:
        raise ModelFileError(f"This model has {count} inputs; this page needs exactly one "
                             "input (a 28x28 grayscale image).")
    layers = [_layer(entry, sequential=kind == "sequential") for entry in entries]
    inputs = [layer for layer in layers if layer["type"] == "InputLayer"]
    if kind == "sequential":
        if inputs and layers[0] is not inputs[0]:
            raise ModelFileError("The model's input layer is not its first layer.")
        if inputs:
            model_input = {"name": inputs[0]["name"], "shape": inputs[0]["shape"]}
        else:
            shape = body.get("build_input_shape")
            try:
                shape = check_value(shape, "shape")[1:] if shape is not None else list(IMAGE_SHAPE)
            except Refused as exc:
                raise ModelFileError(f"The model's build_input_shape {exc}.") from None
            model_input = {"name": "image", "shape": shape}
        chain = [layer for layer in layers if layer["type"] != "InputLayer"]
    else:
        model_input, chain = _functional_chain(body, layers, inputs)
    spec = {"kind": kind, "name": name, "input": model_input, "layers": chain}
    check_spec(spec)
    return spec


def _functional_chain(body: dict, layers: list[dict], inputs: list[dict]):
    """A functional model's layers as the one chain from its input to its output."""
    input_name = _endpoints(body.get("input_layers"), "input")
    output_name = _endpoints(body.get("output_layers"), "output")
    if not inputs or inputs[0]["name"] != input_name:
        raise ModelFileError("The model's input is not one of its input layers.")
    by_name = {}
    for layer in layers:
        if layer["name"] in by_name:
            raise ModelFileError(f"Two layers are named {detail(layer['name'])}.")
        by_name[layer["name"]] = layer
    for layer in layers:
        if (layer["type"] == "InputLayer") != (not layer["_inbound"]):
            raise ModelFileError(f"Layer {detail(layer['name'])} takes no input.")
        for source in layer["_inbound"]:
            if source not in by_name:
                raise ModelFileError(f"Layer {detail(layer['name'])} takes its input from an unknown "
                                     f"layer {detail(source)}.")
    chain, current, seen = [], by_name.get(output_name), set()
    if current is None:
        raise ModelFileError(f"The model's output {detail(output_name)} is not one of its layers.")
    while current["type"] != "InputLayer":
        if current["name"] in seen:
            raise ModelFileError("The model's layers are connected in a loop.")
        seen.add(current["name"])
        chain.append(current)
        current = by_name[current["_inbound"][0]]
    if len(chain) + 1 != len(layers):
        raise ModelFileError("The model has layers that do not lie on the one path from its input "
                             "to its output (branches are not accepted).")
    chain.reverse()
    for layer in layers:
        layer.pop("_inbound", None)
    return {"name": inputs[0]["name"], "shape": inputs[0]["shape"]}, chain


# --- The spec: shapes and parameters ---------------------------------------------------------


def input_message(shape) -> str:
    shape = tuple(shape)
    return (
        f"This model expects inputs of shape {shape}; this page feeds 28x28 grayscale "
        f"images, shape {IMAGE_SHAPE}. Train it on Fashion-MNIST images (28x28, 1 channel)."
    )


def _fits(shape) -> bool:
    """Whether a declared shape (without the batch axis) accepts a 28x28(x1) image."""
    if len(shape) == 3:
        return all(s is None or s == t for s, t in zip(shape, IMAGE_SHAPE))
    return len(shape) == 2 and all(s is None or s == t for s, t in zip(shape, IMAGE_SHAPE[:2]))


def _conv_size(n: int, k: int, s: int, padding: str, d: int = 1) -> int:
    if padding == "same":
        return -(-n // s)
    return (n - ((k - 1) * d + 1)) // s + 1


def layer_weights(layer: dict, shape: tuple[int, ...]) -> tuple[list[tuple[int, ...]], tuple[int, ...]]:
    """(the shapes of a layer's weights, in Keras' order; its output shape) for an input shape."""
    kind, name = layer["type"], layer["name"]

    def need_maps():
        if len(shape) != 3:
            raise ModelFileError(f"Layer {detail(name)} ({kind}) needs maps (height, width, "
                                 f"channels) but receives shape {shape}.")

    if kind == "Conv2D":
        need_maps()
        (kh, kw), (sh, sw), (dh, dw) = layer["kernel_size"], layer["strides"], layer["dilation_rate"]
        out = (_conv_size(shape[0], kh, sh, layer["padding"], dh),
               _conv_size(shape[1], kw, sw, layer["padding"], dw), layer["filters"])
        weights = [(kh, kw, shape[2], layer["filters"])] + ([(layer["filters"],)] if layer["use_bias"] else [])
    elif kind in ("MaxPooling2D", "AveragePooling2D"):
        need_maps()
        (ph, pw) = layer["pool_size"]
        (sh, sw) = layer["strides"] or (ph, pw)
        out = (_conv_size(shape[0], ph, sh, layer["padding"]),
               _conv_size(shape[1], pw, sw, layer["padding"]), shape[2])
        weights = []
    elif kind == "Flatten":
        out, weights = (math.prod(shape),), []
    elif kind == "Dense":
        out = shape[:-1] + (layer["units"],)
        weights = [(shape[-1], layer["units"])] + ([(layer["units"],)] if layer["use_bias"] else [])
    elif kind == "BatchNormalization":
        c = shape[-1]
        weights = [(c,)] * (int(layer["scale"]) + int(layer["center"]) + 2)
        out = shape
    elif kind == "Reshape":
        target, size = list(layer["target_shape"]), math.prod(shape)
        known = math.prod(s for s in target if s != -1)
        if -1 in target:
            if size % known:
                raise ModelFileError(f"Layer {detail(name)} (Reshape) cannot reshape {shape} to {tuple(target)}.")
            target[target.index(-1)] = size // known
        if math.prod(target) != size:
            raise ModelFileError(f"Layer {detail(name)} (Reshape) cannot reshape {shape} to {tuple(target)}.")
        out, weights = tuple(target), []
    else:  # Dropout, Rescaling, Activation
        out, weights = shape, []
    if any(s < 1 for s in out):
        raise ModelFileError(f"The maps would shrink below 1x1 at layer {detail(name)} ({kind}): "
                             f"its output would be {out} for a 28x28 image.")
    return weights, out


def check_spec(spec) -> dict:
    """Check a spec (types, names, shapes, one input, 10 outputs, limits); return what it implies:
    ``{"input_shape", "weights": [[shape, ...] per layer], "parameters", "output_shape"}``.

    Raises ModelFileError. Called on every spec, including what the sandboxed child returns.
    """
    if not (isinstance(spec, dict) and set(spec) == {"kind", "name", "input", "layers"}
            and spec["kind"] in ("sequential", "functional") and isinstance(spec["layers"], list)
            and isinstance(spec["input"], dict) and set(spec["input"]) == {"name", "shape"}):
        raise ModelFileError("The checked model description is malformed.")
    if len(spec["layers"]) > MAX_LAYERS:
        raise ModelFileError(f"The model has {len(spec['layers'])} layers; the limit is {MAX_LAYERS}.")
    _lambda_check(spec)
    try:
        check_value(spec["name"], "name")
        check_value(spec["input"]["name"], "name")
        declared = check_value([None] + list(spec["input"]["shape"]) if isinstance(
            spec["input"]["shape"], list) else None, "shape")[1:]
    except Refused as exc:
        raise ModelFileError(f"The model's input: {exc}.") from None
    if not _fits(declared):
        raise ModelFileError(input_message(declared))
    shape = IMAGE_SHAPE if len(declared) == 3 else IMAGE_SHAPE[:2]
    names = {spec["input"]["name"]}
    weights, total, kinds = [], 0, []
    for layer in spec["layers"]:
        if isinstance(layer, dict) and layer.get("type") in LAMBDA_MARKERS:
            _lambda_check({"class_name": layer["type"]})
        if not isinstance(layer, dict) or layer.get("type") not in SPEC_FIELDS:
            kind = layer.get("type") if isinstance(layer, dict) else layer
            raise ModelFileError(f"This model contains layer types this page does not accept: "
                                 f"{detail(kind)}. Accepted: {', '.join(sorted(ALLOWED_LAYER_TYPES))}.")
        kind = layer["type"]
        fields = SPEC_FIELDS[kind]
        if set(layer) != {"type", "name", *fields}:
            raise ModelFileError(f"A {kind} layer's checked description is malformed.")
        keys = LAYER_KEYS[kind]
        for key in ("name", *fields):
            try:
                check_value(layer[key], keys[key])
            except Refused as exc:
                raise ModelFileError(f"Layer {detail(layer.get('name'))} ({kind}): its setting "
                                     f"{key!r} {exc}.") from None
        if layer["name"] in names:
            raise ModelFileError(f"Two layers are named {detail(layer['name'])}.")
        names.add(layer["name"])
        layer_shapes, shape = layer_weights(layer, shape)
        total += sum(math.prod(s) for s in layer_shapes)
        if total > MAX_PARAMETERS:
            raise ModelFileError(
                f"This architecture has at least {total:,} parameters; the limit is "
                f"{MAX_PARAMETERS:,}. Use fewer filters or smaller dense layers."
            )
        if math.prod(shape) > MAX_LAYER_VALUES:
            raise ModelFileError(f"Layer {detail(layer['name'])} ({kind}) would output {math.prod(shape):,} "
                                 f"values per image; the limit is {MAX_LAYER_VALUES:,}.")
        weights.append([list(s) for s in layer_shapes])
        kinds.append(kind)
    if "Conv2D" not in kinds:
        raise ModelFileError(
            "This model has no Conv2D layer, so there are no activation maps to show. "
            "Upload a convolutional network (the Train page's CNN, for example)."
        )
    if shape != (NUM_CLASSES,):
        raise ModelFileError(
            f"This model's output has shape {shape}; a Fashion-MNIST classifier gives "
            f"{NUM_CLASSES} numbers, one per class."
        )
    return {"input_shape": list(declared), "weights": weights, "parameters": total,
            "output_shape": list(shape)}
