"""Why did the network say "Ankle boot"? Occlusion, saliency, Grad-CAM and the class x filter grid.

All three explanations work on any model the Activations page accepts (the shipped CNN, the
student's, an upload), through its :class:`~cnnviz.ml.activations.ActivationModel`:

* **occlusion** slides a patch over the image and records the class probabilities at every
  position, in one batch; cached per (image, patch, stride, fill), for every class at once;
* **saliency** is the gradient of the class's *score* (its logit: the last Dense layer's
  output before its softmax, whose gradients saturate) with respect to the input pixels;
* **Grad-CAM** weighs a convolution layer's maps by the mean gradient of that score and keeps
  the positive part (Selvaraju et al., 2017);
* the **class x filter grid** is the mean activation of every filter of a layer over the first
  test images of each class; cached per set of images.

The score is computed from the last Dense layer's input times its kernel plus its bias: the
model itself (the shipped one is shared by every student) is never changed or rebuilt.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from cnnviz.core import evidence as core
from cnnviz.core.data import prepare_images
from cnnviz.ml.activations import ActivationModel, as_probabilities, images_key

BATCH = 256
"""Occluded images per forward pass."""

GRAD_CAM_PAPER = "https://arxiv.org/abs/1610.02391"
SALIENCY_PAPER = "https://arxiv.org/abs/1312.6034"
OCCLUSION_PAPER = "https://arxiv.org/abs/1311.2901"


@dataclass(frozen=True)
class Occlusion:
    """The class probabilities with a patch at every position.

    ``probabilities`` (R, C, classes) for a patch starting at ``rows[i]``, ``cols[j]``;
    ``original`` (classes,) for the image as it is.
    """

    rows: np.ndarray
    cols: np.ndarray
    patch: int
    original: np.ndarray
    probabilities: np.ndarray

    def drop(self, label: int) -> np.ndarray:
        """How much the class's probability falls with the patch at each position (R, C);
        negative where hiding that part makes the class more likely."""
        return self.original[label] - self.probabilities[..., label]

    def pixel_drop(self, label: int, shape=(28, 28)) -> np.ndarray:
        """The drop per pixel (H, W): the mean over the patch positions that hid the pixel."""
        return core.spread_to_pixels(self.drop(label), self.rows, self.cols, self.patch, shape)


class EvidenceModel:
    """An ActivationModel's class evidence, with its caches. Thread-safe (the shipped model's
    is shared by every session). Get one with :func:`evidence_for`.

    ``conv_layers``: the Conv2D layers Grad-CAM can use, ``score_name``: what the score is.
    """

    def __init__(self, explorer: ActivationModel, *, cache_size: int = 64):
        self.explorer = explorer
        extractor = explorer.extractor
        names, kinds, shapes = explorer.names, explorer.kinds, explorer.output_shapes
        self.conv_layers = [n for n, k, s in zip(names, kinds, shapes) if k == "Conv2D" and len(s) == 3]
        self.map_layers = explorer.map_layers()
        self._input_shape = tuple(int(d) for d in extractor.inputs[0].shape[1:])
        dense = [i for i, k in enumerate(kinds) if k == "Dense"]
        self._dense = None
        feature = extractor.outputs[-1]
        if dense:
            i = dense[-1]
            layer = extractor.get_layer(names[i])
            before = extractor.inputs[0] if i == 0 else extractor.outputs[i - 1]
            if int(before.shape[-1]) == int(layer.kernel.shape[0]):
                self._dense, feature = layer, before
        if self._dense is not None:
            activation = getattr(self._dense.activation, "__name__", "activation")
            self.score_name = (f"the logit (layer {self._dense.name} before its {activation})"
                               if activation != "linear" else f"the logit (layer {self._dense.name})")
        else:
            self.score_name = "the model's output (no Dense layer to take the logit from)"
        index = {n: names.index(n) for n in self.map_layers}
        self._conv_index = {n: k for k, n in enumerate(self.conv_layers)}
        inputs = extractor.inputs[0]
        self._graph = keras.Model(inputs,
                                  [extractor.outputs[index[n]] for n in self.conv_layers] + [feature])
        self._maps = keras.Model(inputs, [extractor.outputs[index[n]] for n in self.map_layers])
        self._output = keras.Model(inputs, extractor.outputs[-1])
        self._cache: OrderedDict[tuple, object] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.RLock()

    # -- plumbing ------------------------------------------------------------

    def _batch(self, images: np.ndarray) -> np.ndarray:
        images = np.asarray(images, dtype=np.uint8)
        if images.ndim == 2:
            images = images[np.newaxis]
        return prepare_images(images).reshape(len(images), *self._input_shape)

    def _cached(self, key: tuple, compute):
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            value = compute()
            self._cache[key] = value
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return value

    def _scores(self, feature):
        """The class scores (logits) from the last Dense layer's input."""
        if self._dense is None:
            return feature
        scores = keras.ops.matmul(feature, self._dense.kernel)
        return scores if self._dense.bias is None else scores + self._dense.bias

    def _forward(self, batch):
        outputs = self._graph(batch, training=False)
        return list(outputs[:-1]), self._scores(outputs[-1])

    # -- predictions ---------------------------------------------------------

    def logits(self, images: np.ndarray) -> np.ndarray:
        """The class scores before the softmax, (N, classes)."""
        with self._lock:
            return keras.ops.convert_to_numpy(self._forward(self._batch(images))[1]).astype(np.float64)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """The model's class probabilities (N, classes)."""
        with self._lock:
            batch = self._batch(images)
            out = [keras.ops.convert_to_numpy(self._output(batch[k:k + BATCH], training=False))
                   for k in range(0, len(batch), BATCH)]
        return as_probabilities(np.concatenate(out))

    # -- occlusion -----------------------------------------------------------

    def occlusion(self, image: np.ndarray, *, patch: int = core.OCCLUSION_PATCH,
                  stride: int = core.OCCLUSION_STRIDE, fill: int = core.FILLS["grey"]) -> Occlusion:
        """The probabilities with the patch at every position, computed in batches (cached)."""
        image = np.asarray(image, dtype=np.uint8)

        def compute() -> Occlusion:
            batch, rows, cols = core.occluded_images(image, patch, stride, fill)
            probabilities = self.probabilities(np.concatenate([image[np.newaxis], batch]))
            result = Occlusion(rows=rows, cols=cols, patch=patch, original=probabilities[0],
                               probabilities=probabilities[1:].reshape(len(rows), len(cols), -1))
            for array in (result.rows, result.cols, result.original, result.probabilities):
                array.setflags(write=False)
            return result

        return self._cached(("occlusion", images_key(image), int(patch), int(stride), int(fill)), compute)

    # -- gradients -----------------------------------------------------------

    def saliency(self, images: np.ndarray, labels) -> np.ndarray:
        """d score[label] / d pixel for each image (N, H, W), pixels scaled 0..1 as the model sees
        them: positive where brightening the pixel raises the class's score."""
        labels = np.asarray(labels, dtype=int).reshape(-1)
        with self._lock:
            x = tf.convert_to_tensor(self._batch(images))
            with tf.GradientTape() as tape:
                tape.watch(x)
                _, scores = self._forward(x)
                picked = tf.gather(scores, labels, axis=1, batch_dims=1)
            gradient = tape.gradient(picked, x)
        return np.asarray(gradient, dtype=np.float64).reshape(len(labels), *self._input_shape[:2])

    def grad_cam(self, images: np.ndarray, labels, layer: str | None = None) -> np.ndarray:
        """Grad-CAM on a Conv2D layer (the last one by default) for each image: (N, h, w) at the
        layer's size, ReLU(sum over filters of mean(d score / d map) x map); >= 0."""
        layer = self.conv_layers[-1] if layer is None else layer
        if layer not in self._conv_index:
            raise ValueError(f"Grad-CAM needs a Conv2D layer; choose from {', '.join(self.conv_layers)}")
        labels = np.asarray(labels, dtype=int).reshape(-1)
        with self._lock:
            x = tf.convert_to_tensor(self._batch(images))
            with tf.GradientTape() as tape:
                maps, scores = self._forward(x)
                chosen = maps[self._conv_index[layer]]
                picked = tf.gather(scores, labels, axis=1, batch_dims=1)
            gradient = tape.gradient(picked, chosen)
            weights = tf.reduce_mean(gradient, axis=(1, 2), keepdims=True)
            cam = tf.nn.relu(tf.reduce_sum(weights * chosen, axis=-1))
        return np.asarray(cam, dtype=np.float64)

    # -- the class x filter grid -------------------------------------------------

    def class_filter_means(self, images: np.ndarray, labels: np.ndarray, layer: str) -> np.ndarray:
        """Mean activation of each filter of ``layer`` over the images of each class: (classes, F).
        Computed for every map layer at once and cached per set of images."""
        if layer not in self.map_layers:
            raise ValueError(f"no map layer named {layer!r}; choose from {', '.join(self.map_layers)}")
        images = np.asarray(images, dtype=np.uint8)
        labels = np.asarray(labels, dtype=int)

        def compute() -> dict[str, np.ndarray]:
            batch = self._batch(images)
            per_image: list[list[np.ndarray]] = [[] for _ in self.map_layers]
            for k in range(0, len(batch), BATCH):
                outputs = self._maps(batch[k:k + BATCH], training=False)
                outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
                for store, maps in zip(per_image, outputs):
                    store.append(keras.ops.convert_to_numpy(keras.ops.mean(maps, axis=(1, 2))))
            result = {}
            for name, store in zip(self.map_layers, per_image):
                means = core.class_means(np.concatenate(store), labels)
                means.setflags(write=False)
                result[name] = means
            return result

        key = ("grid", images_key(images), images_key(labels.astype(np.uint8)), len(labels))
        return self._cached(key, compute)[layer]


_EVIDENCE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_EVIDENCE_LOCK = threading.Lock()


def evidence_for(explorer: ActivationModel) -> EvidenceModel:
    """The EvidenceModel of an ActivationModel, built once and kept as long as the explorer lives."""
    with _EVIDENCE_LOCK:
        model = _EVIDENCE.get(explorer)
        if model is None:
            model = EvidenceModel(explorer)
            _EVIDENCE[explorer] = model
        return model
