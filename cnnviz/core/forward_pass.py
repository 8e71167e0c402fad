"""A trained network's forward pass recomputed by hand with cnnviz's own numpy code, and the
arithmetic behind any one value of it.

A layer is a :class:`LayerSpec`: its Keras class name, the few settings that change what it
computes, and its weights as float64 arrays (read from a Keras model by
:mod:`cnnviz.ml.forward_pass`; nothing here imports Keras). :func:`forward` runs every
layer on one image, each from the previous layer's *recomputed* output, so a map shown
is the course's convolution with a learned kernel, not a number looked up from Keras:

- Conv2D: :func:`cnnviz.core.convolution.correlate_channels` (every input channel's window
  times the kernel, summed over the channels), plus the bias, then the activation;
  "same" padding is Keras' rule (:mod:`cnnviz.core.padding`).
- MaxPooling2D / AveragePooling2D: :func:`cnnviz.core.pooling.pool2d`.
- Flatten and Reshape: numpy's row-major order (row, then column, then channel), as Keras.
- Dense: inputs times weights, summed, plus the bias, then the activation.
- BatchNormalization at inference: a per-channel scale and shift
  ``gamma * (x - mean) / sqrt(variance + epsilon) + beta``.
- Dropout: the identity at inference. Rescaling: ``x * scale + offset``.
- Activation: one of :data:`ACTIVATIONS`, Keras' definitions in numpy.

The ``explain_*`` functions return what a student needs to redo one value: the window,
the kernel slice, the products and sums for a convolution cell (channels ordered by the
size of their contribution), the window of a pooled value, where a flattened value came
from, a dense unit's largest contributions, a probability's softmax.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnviz.core import pooling
from cnnviz.core.convolution import correlate_channels
from cnnviz.core.padding import same_padding

SQRT_2 = float(np.sqrt(2.0))
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805
LEAKY_RELU_SLOPE = 0.2
"""Keras' default negative slope for the "leaky_relu" activation (Keras 3)."""


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free logistic function


def _softplus(x):
    return np.logaddexp(0.0, x)


def _softmax(x):
    shifted = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _hard_sigmoid(x):
    return np.clip(x + 3.0, 0.0, 6.0) / 6.0


def _gelu(x):
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / SQRT_2))


ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "relu6": lambda x: np.clip(x, 0.0, 6.0),
    "leaky_relu": lambda x: np.where(x >= 0, x, LEAKY_RELU_SLOPE * x),
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))),
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0))),
    "gelu": _gelu,
    "silu": lambda x: x * _sigmoid(x),
    "swish": lambda x: x * _sigmoid(x),
    "sigmoid": _sigmoid,
    "hard_sigmoid": _hard_sigmoid,
    "hard_silu": lambda x: x * _hard_sigmoid(x),
    "hard_swish": lambda x: x * _hard_sigmoid(x),
    "softmax": _softmax,
    "log_softmax": lambda x: x - np.max(x, axis=-1, keepdims=True)
    - np.log(np.exp(x - np.max(x, axis=-1, keepdims=True)).sum(axis=-1, keepdims=True)),
    "softplus": _softplus,
    "softsign": lambda x: x / (1.0 + np.abs(x)),
    "tanh": np.tanh,
    "exponential": np.exp,
    "mish": lambda x: x * np.tanh(_softplus(x)),
}
"""Every activation the upload allowlist admits, as Keras 3 defines it, in numpy (float64)."""

ACTIVATION_WORDS = {
    "linear": "linear: the value is kept as it is",
    "relu": "ReLU: a negative value becomes 0, a positive one is kept",
    "relu6": "ReLU6: below 0 becomes 0, above 6 becomes 6",
    "leaky_relu": f"leaky ReLU: a negative value is multiplied by {LEAKY_RELU_SLOPE}",
    "softmax": "softmax: exponentials divided by their sum",
}
"""How an activation is said in words (others are named by their Keras name)."""

ELEMENTWISE_ACTIVATIONS = frozenset(ACTIVATIONS) - {"softmax", "log_softmax"}
"""Activations that look at one value alone (softmax and log_softmax look at the whole vector)."""

COVERED = ("Conv2D", "MaxPooling2D", "AveragePooling2D", "Flatten", "Dense", "Dropout", "Rescaling",
           "Reshape", "Activation", "BatchNormalization")
"""Layer types recomputed and explained here: every type the upload allowlist admits."""

MAX_CHANNELS_SHOWN = 4
"""A convolution cell shows this many input channels in full (the largest contributions); the rest are summed."""

MAX_TERMS_SHOWN = 8
"""A dense unit lists this many weight x input terms (the largest); the rest are summed."""


class NotCovered(ValueError):
    """A layer (or a setting of it) that this recomputation does not cover; the message says which."""


@dataclass(frozen=True)
class LayerSpec:
    """One layer as numbers: its Keras class name (``kind``), name, settings and float64 weights."""

    name: str
    kind: str
    config: dict = field(default_factory=dict)
    weights: tuple = ()

    def get(self, key: str, default=None):
        return self.config.get(key, default)


def activation_of(spec: LayerSpec) -> str:
    """The layer's activation's name ("linear" when it has none); NotCovered for an unknown one."""
    name = spec.get("activation", "linear") or "linear"
    if name not in ACTIVATIONS:
        raise NotCovered(f"{spec.name}: the activation {name!r} is not one this page recomputes")
    return name


def activate(name: str, values) -> np.ndarray:
    """``values`` through the activation ``name`` (see :data:`ACTIVATIONS`), float64."""
    return ACTIVATIONS[name](np.asarray(values, dtype=np.float64))


def _pair(value) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    return int(value[0]), int(value[1])


def _bn_parts(spec: LayerSpec) -> tuple[np.ndarray, np.ndarray]:
    """BatchNormalization at inference as (scale, shift) per channel: x * scale + shift."""
    weights = list(spec.weights)
    gamma = weights.pop(0) if spec.get("scale", True) else None
    beta = weights.pop(0) if spec.get("center", True) else None
    mean, variance = weights
    std = np.sqrt(variance + float(spec.get("epsilon", 1e-3)))
    scale = (gamma if gamma is not None else 1.0) / std
    shift = (beta if beta is not None else 0.0) - mean * scale
    return np.broadcast_to(scale, mean.shape), np.broadcast_to(shift, mean.shape)


def conv_pre_activation(spec: LayerSpec, x: np.ndarray) -> np.ndarray:
    """A Conv2D layer's sums plus bias, before its activation, for one (H, W, C) input."""
    kernel = spec.weights[0]
    if spec.get("groups", 1) != 1:
        raise NotCovered(f"{spec.name}: grouped convolutions are not covered")
    sums = correlate_channels(x, kernel, strides=_pair(spec.get("strides", 1)),
                              padding=spec.get("padding", "valid"), dilation=_pair(spec.get("dilation_rate", 1)))
    if spec.get("use_bias", True) and len(spec.weights) > 1:
        sums = sums + spec.weights[1]
    return sums


def dense_pre_activation(spec: LayerSpec, x: np.ndarray) -> np.ndarray:
    """A Dense layer's inputs times weights, summed, plus the bias (before its activation)."""
    out = np.asarray(x, dtype=np.float64) @ spec.weights[0]
    if spec.get("use_bias", True) and len(spec.weights) > 1:
        out = out + spec.weights[1]
    return out


def run_layer(spec: LayerSpec, x: np.ndarray) -> np.ndarray:
    """One layer's output for one input (no batch axis), float64; NotCovered if not covered."""
    x = np.asarray(x, dtype=np.float64)
    kind = spec.kind
    if kind == "Conv2D":
        return activate(activation_of(spec), conv_pre_activation(spec, x))
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        size = _pair(spec.get("pool_size", 2))
        strides = spec.get("strides") or size
        return pooling.pool2d(x, mode="max" if kind == "MaxPooling2D" else "average", pool_size=size,
                              strides=_pair(strides), padding=spec.get("padding", "valid")).values
    if kind == "Flatten":
        return x.reshape(-1)
    if kind == "Reshape":
        return x.reshape(tuple(spec.get("target_shape")))
    if kind == "Dense":
        return activate(activation_of(spec), dense_pre_activation(spec, x))
    if kind == "Dropout":
        return x
    if kind == "Rescaling":
        return x * float(spec.get("scale", 1.0)) + float(spec.get("offset", 0.0))
    if kind == "Activation":
        return activate(activation_of(spec), x)
    if kind == "BatchNormalization":
        scale, shift = _bn_parts(spec)
        return x * scale + shift
    raise NotCovered(f"{spec.name}: {kind} layers are not recomputed on this page")


def forward(specs: list[LayerSpec], x: np.ndarray, *, fallback=None) -> tuple[list[np.ndarray], list[str]]:
    """Every layer's output for one input (no batch axis), each from the previous recomputed one.

    ``fallback(index)`` gives Keras' own output of a layer that is not covered, so the pass can
    go on from it; without it, NotCovered is raised. Returns (outputs, sentences about the
    layers not recomputed).
    """
    outputs, skipped = [], []
    current = np.asarray(x, dtype=np.float64)
    for index, spec in enumerate(specs):
        try:
            current = run_layer(spec, current)
        except NotCovered as exc:
            if fallback is None:
                raise
            skipped.append(str(exc))
            current = np.asarray(fallback(index), dtype=np.float64)
        outputs.append(current)
    return outputs, skipped


# --------------------------------------------------------------------------
# One value, explained
# --------------------------------------------------------------------------


@dataclass
class ChannelTerm:
    """One input channel's share of a convolution cell: window x kernel slice = products, and their sum."""

    channel: int
    window: np.ndarray
    kernel: np.ndarray
    products: np.ndarray
    total: float


@dataclass
class ConvCell:
    """Behind one value of a Conv2D map: every input channel's sum, the bias and the activation."""

    row: int
    col: int
    filter: int
    origin: tuple[int, int]  # input row and column of the window's top-left cell (may be negative: padding)
    inside: np.ndarray  # True where the window lies on the input (False: a padding zero)
    terms: list[ChannelTerm]  # every input channel, largest |sum| first
    total: float
    bias: float
    pre_activation: float
    activation: str
    value: float

    def shown_and_rest(self, count: int = MAX_CHANNELS_SHOWN) -> tuple[list[ChannelTerm], float, int]:
        """The ``count`` largest channel terms, the sum of the others and how many they are."""
        shown, rest = self.terms[:count], self.terms[count:]
        return shown, float(sum(t.total for t in rest)), len(rest)


def explain_conv(spec: LayerSpec, x: np.ndarray, row: int, col: int, filter_index: int) -> ConvCell:
    """How output (row, col) of filter ``filter_index`` of a Conv2D layer is made from its input ``x``."""
    x = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(spec.weights[0], dtype=np.float64)
    kh, kw, channels, filters = kernel.shape
    (sh, sw), (dh, dw) = _pair(spec.get("strides", 1)), _pair(spec.get("dilation_rate", 1))
    padding = spec.get("padding", "valid")
    h, w = x.shape[:2]
    span_h, span_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    top = same_padding(h, span_h, sh)[0] if padding == "same" else 0
    left = same_padding(w, span_w, sw)[0] if padding == "same" else 0
    out_h, out_w = (-(-h // sh), -(-w // sw)) if padding == "same" else ((h - span_h) // sh + 1, (w - span_w) // sw + 1)
    if not (0 <= row < out_h and 0 <= col < out_w and 0 <= filter_index < filters):
        raise ValueError(f"{spec.name} has {out_h}x{out_w} maps and {filters} filters: there is no "
                         f"row {row}, column {col}, filter {filter_index}")
    r0, c0 = row * sh - top, col * sw - left
    rows, cols = r0 + np.arange(kh) * dh, c0 + np.arange(kw) * dw
    inside = ((rows >= 0) & (rows < h))[:, None] & ((cols >= 0) & (cols < w))[None, :]
    windows = np.zeros((kh, kw, channels))
    windows[inside] = x[np.clip(rows, 0, h - 1)[:, None].repeat(kw, 1)[inside],
                        np.clip(cols, 0, w - 1)[None, :].repeat(kh, 0)[inside]]
    terms = []
    for c in range(channels):
        products = windows[..., c] * kernel[:, :, c, filter_index]
        terms.append(ChannelTerm(c, windows[..., c], kernel[:, :, c, filter_index], products, float(products.sum())))
    total = float(sum(t.total for t in terms))
    terms.sort(key=lambda t: -abs(t.total))
    bias = float(spec.weights[1][filter_index]) if spec.get("use_bias", True) and len(spec.weights) > 1 else 0.0
    activation = activation_of(spec)
    pre = total + bias
    return ConvCell(row, col, filter_index, (int(r0), int(c0)), inside, terms, total, bias, pre, activation,
                    float(activate(activation, np.array([pre]))[0]))


@dataclass
class PoolCell:
    """Behind one pooled value: the window (clipped to the input), the value kept or the mean."""

    row: int
    col: int
    channel: int
    mode: str
    bounds: tuple[int, int, int, int]
    window: np.ndarray
    kept: tuple[int, int] | None
    value: float


def explain_pool(spec: LayerSpec, x: np.ndarray, row: int, col: int, channel: int) -> PoolCell:
    """How output (row, col) of channel ``channel`` of a pooling layer comes from its input ``x``."""
    x = np.asarray(x, dtype=np.float64)
    if not 0 <= channel < x.shape[-1]:
        raise ValueError(f"{spec.name} has channels 0 to {x.shape[-1] - 1}, not {channel}")
    size = _pair(spec.get("pool_size", 2))
    mode = "max" if spec.kind == "MaxPooling2D" else "average"
    pooled = pooling.pool2d(x[..., channel], mode=mode, pool_size=size, strides=_pair(spec.get("strides") or size),
                            padding=spec.get("padding", "valid"))
    story = pooling.describe_window(pooled, x[..., channel], row, col)
    return PoolCell(row, col, channel, mode, story["bounds"], story["values"], story["kept"], story["result"])


def flat_source(shape: tuple[int, ...], index: int) -> tuple[int, ...]:
    """Where value ``index`` of a flattened (H, W, C) input came from: (row, column, channel).

    Keras' Flatten (channels last) reads row by row, then column, then channel:
    ``index = (row * W + column) * C + channel``.
    >>> flat_source((5, 5, 64), 65)
    (0, 1, 1)
    """
    size = int(np.prod(shape))
    if not 0 <= index < size:
        raise ValueError(f"the flattened layer has values 0 to {size - 1}, not {index}")
    return tuple(int(i) for i in np.unravel_index(index, shape))


@dataclass
class DenseUnit:
    """Behind one dense unit: its largest weight x input terms, the rest summed, the bias, the activation."""

    unit: int
    inputs: np.ndarray  # indices of the terms shown, largest |weight x input| first
    input_values: np.ndarray
    weights: np.ndarray
    products: np.ndarray
    rest: float
    rest_count: int
    total: float
    bias: float
    pre_activation: float
    activation: str
    value: float | None  # None for softmax: see explain_softmax


def explain_dense(spec: LayerSpec, x: np.ndarray, unit: int, *, count: int = MAX_TERMS_SHOWN) -> DenseUnit:
    """How unit ``unit`` of a Dense layer comes from its input vector ``x``."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    kernel = np.asarray(spec.weights[0], dtype=np.float64)
    if not 0 <= unit < kernel.shape[1]:
        raise ValueError(f"{spec.name} has units 0 to {kernel.shape[1] - 1}, not {unit}")
    products = x * kernel[:, unit]
    order = np.argsort(-np.abs(products), kind="stable")
    shown, rest = order[:count], order[count:]
    bias = float(spec.weights[1][unit]) if spec.get("use_bias", True) and len(spec.weights) > 1 else 0.0
    total = float(products.sum())
    activation = activation_of(spec)
    pre = total + bias
    value = None if activation not in ELEMENTWISE_ACTIVATIONS else float(activate(activation, np.array([pre]))[0])
    return DenseUnit(unit, shown, x[shown], kernel[shown, unit], products[shown], float(products[rest].sum()),
                     len(rest), total, bias, pre, activation, value)


@dataclass
class Softmax:
    """A probability from the logits: exp(logit - largest), their sum, and one share of it."""

    logits: np.ndarray
    shift: float
    exponentials: np.ndarray
    total: float
    index: int
    value: float


def explain_softmax(logits, index: int) -> Softmax:
    """Probability ``index`` of the softmax of ``logits``.

    The largest logit is subtracted first (exp of a large logit overflows); it changes no
    probability, since it divides the top and the bottom of every fraction alike.
    """
    logits = np.asarray(logits, dtype=np.float64).reshape(-1)
    if not 0 <= index < logits.size:
        raise ValueError(f"there are {logits.size} classes: 0 to {logits.size - 1}, not {index}")
    shift = float(logits.max())
    exps = np.exp(logits - shift)
    total = float(exps.sum())
    return Softmax(logits, shift, exps, total, int(index), float(exps[index] / total))


@dataclass
class ElementCell:
    """Behind one value of a layer that works value by value: the input value and the rule applied."""

    position: tuple[int, ...]
    input_value: float
    rule: str
    value: float


def explain_elementwise(spec: LayerSpec, x: np.ndarray, position: tuple[int, ...]) -> ElementCell:
    """BatchNormalization, Dropout, Rescaling, Activation (value by value) and Reshape: one value's rule."""
    x = np.asarray(x, dtype=np.float64)
    out = run_layer(spec, x)
    value = float(out[position])
    if spec.kind == "Reshape":
        flat = int(np.ravel_multi_index(position, out.shape))
        source = np.unravel_index(flat, x.shape)
        return ElementCell(tuple(int(i) for i in source), float(x[source]),
                           f"Reshape moves values without changing them: value {flat} in reading order, "
                           f"from input position {tuple(int(i) for i in source)}", value)
    given = float(x[position])
    if spec.kind == "Dropout":
        rule = (f"Dropout (rate {spec.get('rate', 0):g}) drops values only while training; here, at "
                "inference, it passes every value on unchanged")
    elif spec.kind == "Rescaling":
        rule = f"Rescaling: value × {spec.get('scale', 1.0):g} + {spec.get('offset', 0.0):g}"
    elif spec.kind == "Activation":
        name = activation_of(spec)
        if name not in ELEMENTWISE_ACTIVATIONS:
            rule = f"{name} over the whole vector of {x.shape[-1]} values"
        else:
            rule = ACTIVATION_WORDS.get(name, f"the activation {name}")
    elif spec.kind == "BatchNormalization":
        scale, shift = _bn_parts(spec)
        c = position[-1]
        rule = (f"BatchNormalization at inference, channel {c}: value × {scale[c]:.6g} + {shift[c]:.6g} "
                "(gamma / sqrt(moving variance + epsilon), and beta − mean × that scale)")
    else:
        raise NotCovered(f"{spec.name}: {spec.kind} values are explained elsewhere")
    return ElementCell(tuple(int(i) for i in position), given, rule, value)
