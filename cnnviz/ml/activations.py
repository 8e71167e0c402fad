"""Activation maps: what every layer of a trained CNN makes of an image.

The course's "Visualizing CNN" builds
``keras.models.Model(inputs=model.input, outputs=[layer.output for layer in model.layers])``
and calls it on one image at a time. ``ActivationModel`` does the same once
per model, correctly for Sequential models loaded from a file (which in
Keras 3 have no defined inputs until they are called) and for functional
models, and caches the maps per set of images.

Images are uint8 28x28 arrays (Fashion-MNIST, drawn or uploaded); they are
prepared as the course does (``/ 255.0``, shape (N, 28, 28, 1)).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import keras
import numpy as np

from cnnviz.core.data import IMAGE_SHAPE, prepare_images

MAP_LAYER_TYPES = ("Conv2D", "MaxPooling2D", "AveragePooling2D")
"""Layers whose outputs are stacks of 2-D maps (shown by default)."""

def model_input_shape(model) -> tuple | None:
    """The input shape a model declares, without the batch axis; None when it declares none
    (a Sequential model never built)."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    if not inputs:
        return None
    return tuple(inputs[0].shape[1:])


def feature_extractor(model):
    """A Keras model from the image to every layer's output (input layers left out).

    Sequential models are rebuilt by calling their layers, in order, on a new
    28x28x1 input: this works whether or not the loaded model was ever built.
    Functional models already know their graph. Raises ValueError when the
    model cannot take a 28x28 grayscale image.
    """
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if not layers:
        raise ValueError("the model has no layers")
    try:
        if isinstance(model, keras.Sequential):
            declared = model_input_shape(model)
            shape = declared if declared in (IMAGE_SHAPE, IMAGE_SHAPE[:2]) else IMAGE_SHAPE
            inputs = keras.Input(shape=shape, name="image")
            x, outputs = inputs, []
            for layer in layers:
                x = layer(x)
                outputs.append(x)
            return keras.Model(inputs, outputs, name="feature_extractor")
        return keras.Model(model.inputs, [layer.output for layer in layers], name="feature_extractor")
    except Exception as exc:  # noqa: BLE001 - Keras raises ValueError, TypeError, ...
        raise ValueError(str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__) from exc


def images_key(images: np.ndarray) -> str:
    """A short fingerprint of a batch of images (the activation cache's key)."""
    images = np.ascontiguousarray(images, dtype=np.uint8)
    digest = hashlib.blake2b(images.tobytes(), digest_size=12)
    digest.update(str(images.shape).encode())
    return digest.hexdigest()


def compiled_pass(extractor, warm_up_shape: tuple[int, ...]):
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


class ActivationModel:
    """A trained model with its feature extractor, built once, and a small cache of maps.

    Thread-safe: the shipped model's ActivationModel is shared by every
    student's session.

    Attributes: ``model``, ``extractor``, ``names`` and ``kinds`` (layer names
    and class names, in order), ``output_shapes`` (without the batch axis).
    """

    def __init__(self, model, *, cache_size: int = 32):
        self.model = model
        self.extractor = feature_extractor(model)
        layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
        self.names = [layer.name for layer in layers]
        self.kinds = [type(layer).__name__ for layer in layers]
        self.output_shapes = [tuple(int(d) for d in t.shape[1:]) for t in self.extractor.outputs]
        self._input_shape = tuple(int(d) for d in self.extractor.inputs[0].shape[1:])
        self._cache: OrderedDict[str, list[np.ndarray]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    # -- layers -----------------------------------------------------------

    def map_layers(self) -> list[str]:
        """Names of the layers whose outputs are stacks of 2-D maps (conv and pooling)."""
        return [n for n, k, s in zip(self.names, self.kinds, self.output_shapes)
                if k in MAP_LAYER_TYPES and len(s) == 3]

    def shape(self, name: str) -> tuple[int, ...]:
        """Output shape of a layer, e.g. (26, 26, 64)."""
        return self.output_shapes[self._index(name)]

    def filters(self, name: str) -> int:
        """Number of maps (filters, channels) a layer outputs."""
        return self.shape(name)[-1]

    def _index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise ValueError(f"no layer named {name!r}; layers: {', '.join(self.names)}") from None

    # -- computing ----------------------------------------------------------

    def _outputs(self, images: np.ndarray) -> list[np.ndarray]:
        images = np.asarray(images, dtype=np.uint8)
        if images.ndim == 2:
            images = images[np.newaxis]
        key = images_key(images)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            batch = prepare_images(images).reshape(len(images), *self._input_shape)
            result = self._extract(batch)
            for array in result:
                array.setflags(write=False)
            self._cache[key] = result
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return result

    def _extract(self, batch: np.ndarray) -> list[np.ndarray]:
        """Every layer's output for a float batch shaped as the model's input."""
        return [keras.ops.convert_to_numpy(t) for t in self.extractor(batch, training=False)]

    def activations(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """Every layer's output for uint8 images (N, 28, 28): {layer name: array (N, ...)}."""
        return dict(zip(self.names, self._outputs(images)))

    def maps(self, images: np.ndarray, name: str) -> np.ndarray:
        """One layer's maps for the images, shape (N, height, width, filters)."""
        return self._outputs(images)[self._index(name)]

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """The model's class probabilities (N, 10); a softmax is applied to logits."""
        return as_probabilities(self._outputs(images)[-1])

    def first_conv_kernels(self) -> tuple[np.ndarray, np.ndarray]:
        """The first Conv2D layer's learned kernels (filters, kh, kw) and biases (filters,)."""
        return conv_kernels(self.model.get_layer(self.names[self.kinds.index("Conv2D")]))


def as_probabilities(outputs: np.ndarray) -> np.ndarray:
    """Outputs as probabilities: unchanged when they already are, else a softmax (logits)."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if np.all(outputs >= 0) and np.allclose(outputs.sum(axis=-1), 1.0, atol=1e-3):
        return outputs
    shifted = np.exp(outputs - outputs.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def conv_kernels(layer) -> tuple[np.ndarray, np.ndarray]:
    """A Conv2D layer's kernels for its first input channel, (filters, kh, kw), and biases."""
    weights = layer.get_weights()
    kernel = np.asarray(weights[0])[:, :, 0, :]
    bias = np.asarray(weights[1]) if len(weights) > 1 else np.zeros(kernel.shape[-1])
    return np.transpose(kernel, (2, 0, 1)).astype(np.float64), bias.astype(np.float64)
