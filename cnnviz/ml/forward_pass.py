"""A Keras model's layers as numbers for :mod:`cnnviz.core.forward_pass`, and the pass for one image
recomputed with numpy beside what Keras computed.

:func:`layer_specs` reads each layer's settings (``get_config``) and weights (``get_weights``)
into :class:`~cnnviz.core.forward_pass.LayerSpec` values; :class:`NetworkTrace` keeps them with
the model's :class:`~cnnviz.ml.activations.ActivationModel` (Keras' own outputs of every layer)
and a small cache of passes, one per image. Thread-safe: the shipped model's trace is shared by
every session.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from cnnviz.core import forward_pass as fp
from cnnviz.core.data import prepare_images
from cnnviz.ml.activations import ActivationModel, images_key

_SETTINGS = ("filters", "kernel_size", "strides", "padding", "dilation_rate", "groups", "activation", "use_bias",
             "pool_size", "units", "rate", "scale", "offset", "target_shape", "epsilon", "center", "data_format")
"""Settings read from a layer's config (those that change what it computes)."""


def _plain(value):
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):  # a serialised activation: {"class_name": ..., "config": {"name": ...}}
        return value.get("config", {}).get("name", value.get("class_name"))
    return value


def layer_specs(model) -> list[fp.LayerSpec]:
    """The layers of a Keras model, input layers left out, as LayerSpecs (float64 weights)."""
    import keras

    specs = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        config = layer.get_config()
        settings = {k: _plain(config[k]) for k in _SETTINGS if k in config}
        if settings.get("data_format", "channels_last") != "channels_last":
            settings["not_covered"] = "channels_first data"
        weights = tuple(np.asarray(w, dtype=np.float64) for w in layer.get_weights())
        for w in weights:
            w.setflags(write=False)
        specs.append(fp.LayerSpec(layer.name, type(layer).__name__, settings, weights))
    return specs


def _compiled_pass(extractor, warm_up_shape: tuple[int, ...]):
    """``extractor`` (a Keras model giving every layer's output) as a compiled function of a float32
    batch, returning numpy arrays, compiled now for ``warm_up_shape``. Thread-safe, as tf.function is.

    XLA-compiled (``jit_compile=True``) when the model allows it: Streamlit clears Keras' session
    after every script run (``keras.backend.clear_session()``), which empties TensorFlow's kernel
    cache, so a plain or eager call rebuilds its kernels at every new image (measured here: 24 ms
    against 2 ms for a plain tf.function, 60 ms of CPU in a busy server), while an XLA executable
    survives it (2.9 ms). Otherwise a plain tf.function.
    """
    import tensorflow as tf

    warm_up = tf.zeros(warm_up_shape, tf.float32)
    for jit in (True, False):
        compiled = tf.function(lambda batch: extractor(batch, training=False), jit_compile=jit, reduce_retracing=True)
        try:
            compiled(warm_up)
            break
        except Exception:  # a layer XLA cannot compile: the plain tf.function
            if not jit:
                raise

    def run(batch: np.ndarray) -> list[np.ndarray]:
        return [t.numpy() for t in compiled(tf.constant(batch, dtype=tf.float32))]

    return run


@dataclass(frozen=True)
class Pass:
    """One image through the network: the input as the model sees it, every layer's recomputed
    output and Keras' own (no batch axis), the largest difference per layer, and the layers that
    were not recomputed (with why)."""

    input: np.ndarray
    ours: list[np.ndarray]
    keras: list[np.ndarray]
    differences: list[float]
    skipped: list[str]

    def input_of(self, index: int) -> np.ndarray:
        """The recomputed input of layer ``index`` (the image for the first layer)."""
        return self.input if index == 0 else self.ours[index - 1]


class NetworkTrace:
    """A model's layers as numbers and its passes, one per image (a small cache, thread-safe)."""

    def __init__(self, explorer: ActivationModel, *, cache_size: int = 32):
        self.explorer = explorer
        self.token = uuid.uuid4().hex  # names this trace in caches of pictures made from it
        self.specs = layer_specs(explorer.model)
        self.names = [s.name for s in self.specs]
        self.kinds = [s.kind for s in self.specs]
        self.output_shapes = list(explorer.output_shapes)
        self.input_shape = tuple(int(d) for d in explorer.extractor.inputs[0].shape[1:])
        self.not_covered = [f"{s.name} ({s.kind})" for s in self.specs
                            if s.kind not in fp.COVERED or "not_covered" in s.config]
        self._cache: OrderedDict[str, Pass] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._keras_pass = _compiled_pass(explorer.extractor, (1, *self.input_shape))  # now, not at a first image

    def keras_outputs(self, image: np.ndarray) -> list[np.ndarray]:
        """Keras' output of every layer for one uint8 image, float64, without the batch axis.

        A compiled call of the model's feature extractor (:func:`_compiled_pass`): the numbers of
        calling it eagerly within float32 rounding (tested, 1e-5), several times faster (measured:
        1.7 ms against 9.5 ms here, and a new image after a Streamlit rerun 2.9 ms against ~25 ms).
        """
        batch = prepare_images(image[np.newaxis]).reshape(1, *self.input_shape)
        return [np.asarray(a, dtype=np.float64)[0] for a in self._keras_pass(batch)]

    def run(self, image: np.ndarray) -> Pass:
        """The pass for one uint8 28x28 image: numpy's and Keras' outputs of every layer."""
        image = np.asarray(image, dtype=np.uint8)
        key = images_key(image)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        theirs = self.keras_outputs(image)
        x = prepare_images(image[np.newaxis]).reshape(self.input_shape).astype(np.float64)
        ours, skipped = fp.forward(self.specs, x, fallback=theirs.__getitem__)
        differences = [float(np.abs(a - b).max(initial=0.0)) for a, b in zip(ours, theirs)]
        for array in (x, *ours, *theirs):
            array.setflags(write=False)
        result = Pass(x, ours, theirs, differences, skipped)
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return result
