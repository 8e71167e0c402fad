"""Fashion-MNIST as a user's machine gets it: the reference folder when ``CNNVIZ_DATA_DIR`` is set,
otherwise Keras' own loader (its cache, or a download), with a time limit.

Keras is imported only inside the loader's worker thread, so importing this module
costs nothing; the folder path needs no TensorFlow at all.
"""

from __future__ import annotations

import threading

import numpy as np

from cnnviz.core.data import (
    DOWNLOAD_TIMEOUT_S,
    FASHION_FOLDER,
    HOW_TO_PROVIDE,
    DataUnavailable,
    FashionMNIST,
    data_dir,
    load_fashion_mnist_folder,
)


def _load_with_keras(timeout_s: float) -> FashionMNIST:
    """keras.datasets.fashion_mnist.load_data() in a worker thread, with a time limit.

    Keras' downloader has no timeout or progress hook; an offline machine whose
    DNS stalls would otherwise hang the page. The worker is a daemon thread: on
    timeout it is abandoned (it finishes or fails on its own).
    """
    result: dict[str, object] = {}

    def work() -> None:
        try:
            from keras.datasets import fashion_mnist

            result["data"] = fashion_mnist.load_data()
        except BaseException as exc:  # noqa: BLE001 - reported to the caller below
            result["error"] = exc

    worker = threading.Thread(target=work, name="fashion-mnist-load", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise DataUnavailable(
            f"Loading Fashion-MNIST through Keras took longer than {timeout_s:.0f} s "
            f"(no internet?). {HOW_TO_PROVIDE}"
        )
    if "error" in result:
        exc = result["error"]
        raise DataUnavailable(
            f"Fashion-MNIST is not cached and could not be downloaded "
            f"({type(exc).__name__}: {exc}). {HOW_TO_PROVIDE}"
        ) from exc  # type: ignore[misc]
    (x_train, y_train), (x_test, y_test) = result["data"]  # type: ignore[misc]
    return (np.asarray(x_train), np.asarray(y_train)), (np.asarray(x_test), np.asarray(y_test))


def load_fashion_mnist(*, timeout_s: float = DOWNLOAD_TIMEOUT_S) -> FashionMNIST:
    """Fashion-MNIST as uint8 arrays: ((60000x28x28, 60000), (10000x28x28, 10000)).

    From ``$CNNVIZ_DATA_DIR/fashion-mnist/`` when the variable is set (no
    network, no TensorFlow), otherwise through Keras' loader (its cache, or a
    download) limited to ``timeout_s`` seconds. Raises DataUnavailable with a
    message saying how to provide the data.
    """
    folder = data_dir()
    if folder is not None:
        return load_fashion_mnist_folder(folder / FASHION_FOLDER)
    return _load_with_keras(timeout_s)
