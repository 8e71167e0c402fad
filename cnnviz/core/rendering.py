"""Numbers as pictures (numpy only): signed values on the app's diverging colour scale.

An ``st.image`` of such a picture is far cheaper than a Plotly heatmap of a 512x512
result, and shows the same colours (:data:`cnnviz.core.palette.SIGNED_COLORSCALE`).
"""

from __future__ import annotations

import functools

import numpy as np

from cnnviz.core.palette import SIGNED_COLORSCALE, rgb


@functools.lru_cache(maxsize=8)
def _stops(colorscale: tuple) -> tuple[np.ndarray, np.ndarray]:
    positions = np.array([float(p) for p, _ in colorscale])
    colours = np.array([rgb(c) for _, c in colorscale], dtype=np.float64)
    return positions, colours


def signed_rgb(values: np.ndarray, *, limit: float | None = None, colorscale: tuple = SIGNED_COLORSCALE) -> np.ndarray:
    """Signed values as an (H, W, 3) uint8 image on a diverging scale centred on 0.

    ``limit`` maps to the scale's ends (default: the largest absolute value), so the
    picture matches a Plotly heatmap with ``zmin=-limit, zmax=limit``.

    >>> signed_rgb(np.array([[-1.0, 0.0, 1.0]]))[0].tolist()
    [[5, 48, 97], [247, 247, 247], [103, 0, 31]]
    """
    values = np.asarray(values, dtype=np.float64)
    if limit is None:
        limit = max(1.0, float(np.abs(values).max(initial=0.0)))
    t = np.clip((values / limit + 1.0) / 2.0, 0.0, 1.0)
    positions, colours = _stops(tuple(colorscale))
    out = np.stack([np.interp(t, positions, colours[:, k]) for k in range(3)], axis=-1)
    return np.rint(out).astype(np.uint8)
