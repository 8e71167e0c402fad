"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import timeit


def best_time(function, *, repeat: int = 5, number: int = 1) -> float:
    """Fastest of ``repeat`` runs, in seconds per call (the least disturbed by a noisy machine)."""
    return min(timeit.repeat(function, repeat=repeat, number=number)) / number
