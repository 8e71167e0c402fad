"""Checks of options passed as short strings or sizes, shared by every numpy module.

One wording for every refusal, quoting the value and the choices, so a student
(or a test) reads the same kind of sentence whatever went wrong.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def check_choice(name: str, value, choices: Iterable) -> None:
    """Raise ValueError unless ``value`` is one of ``choices``.

    >>> check_choice("mode", "max", ("max", "min"))
    >>> check_choice("mode", "median", ("max", "min"))
    Traceback (most recent call last):
    ValueError: mode must be one of ['max', 'min'], got 'median'
    """
    choices = list(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def size_pair(value, name: str) -> tuple[int, int]:
    """An int or a (height, width) pair of ints, as a pair of positive ints.

    >>> size_pair(3, "pool_size")
    (3, 3)
    >>> size_pair((2, 4), "pool_size")
    (2, 4)
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pair = (int(value), int(value))
    else:
        try:
            pair = tuple(int(v) for v in value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be an int or a (height, width) pair, got {value!r}") from None
        if len(pair) != 2:
            raise ValueError(f"{name} must be an int or a (height, width) pair, got {value!r}")
    if min(pair) < 1:
        raise ValueError(f"{name} must be at least 1, got {value!r}")
    return pair  # type: ignore[return-value]
