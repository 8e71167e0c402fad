"""TensorFlow's thread pools, capped so one training leaves a core to the other students."""

from __future__ import annotations

import os

import tensorflow as tf

TF_THREADS_ENV = "CNNVIZ_TF_THREADS"
"""Environment variable: TensorFlow threads per op for the app's trainings (default 1)."""


def cap_tf_threads(intra: int | None = None, inter: int = 1) -> tuple[int, int]:
    """Limit TensorFlow's thread pools (threads per op, ops in parallel); return those in force.

    On a shared 2-core server one training must leave a core for the other
    students' pages. The app calls it right after TensorFlow's import (so every page
    that uses TensorFlow runs capped); a later call may change the values only until
    TensorFlow runs its first operation, after which nothing changes.
    ``intra`` defaults to ``$CNNVIZ_TF_THREADS`` or 1.
    """
    if intra is None:
        try:
            intra = max(1, int(os.environ.get(TF_THREADS_ENV, "1") or 1))
        except ValueError:
            intra = 1
    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra)
        tf.config.threading.set_inter_op_parallelism_threads(inter)
    except RuntimeError:  # TensorFlow already running: its pools cannot change now
        pass
    return (tf.config.threading.get_intra_op_parallelism_threads(),
            tf.config.threading.get_inter_op_parallelism_threads())


cap_tf_threads()
