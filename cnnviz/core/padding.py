"""Keras' "same" padding, in one place: how many zeros go before and after one axis.

Keras (and TensorFlow) give a "same" layer ``ceil(size / stride)`` outputs along an axis and
pad just enough for the last window to fit. The padding is split in two with the odd cell at
the *end* (bottom/right), and window ``i`` starts at input index ``i * stride - before``.
Convolution (``Conv2D(padding="same")``), pooling (``MaxPooling2D`` / ``AveragePooling2D``)
and the forward pass recomputed by hand all use this rule; cnnviz's own zero padding
(a kernel anchored at ``size // 2``) differs from it for even kernels and for strides above 1.
"""

from __future__ import annotations


def same_padding(size: int, window: int, stride: int) -> tuple[int, int]:
    """Padding (before, after) of one axis of length ``size`` under Keras' "same" rule.

    >>> same_padding(28, 3, 1)   # a 3x3 kernel: one zero on each side
    (1, 1)
    >>> same_padding(28, 2, 1)   # an even kernel: the extra zero goes at the end
    (0, 1)
    >>> same_padding(28, 3, 2)   # 14 outputs need 27 + 3 - 28 = 1 zero, at the end
    (0, 1)
    """
    out = -(-int(size) // int(stride))
    total = max((out - 1) * int(stride) + int(window) - int(size), 0)
    return total // 2, total - total // 2


def same_output_size(size: int, stride: int) -> int:
    """Outputs along one axis under "same": ``ceil(size / stride)``."""
    return -(-int(size) // int(stride))
