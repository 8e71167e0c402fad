"""Tests for cnnviz.core.checks: one wording for every refused option."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cnnviz.core.checks import check_choice, size_pair


def test_check_choice_accepts_a_choice():
    check_choice("mode", "max", ("max", "min"))


def test_check_choice_quotes_the_value_and_the_choices():
    with pytest.raises(ValueError, match=re.escape("mode must be one of ['max', 'min'], got 'median'")):
        check_choice("mode", "median", ("max", "min"))


@pytest.mark.parametrize("value, pair", [(3, (3, 3)), (np.int64(2), (2, 2)), ((2, 4), (2, 4)), ([1, 5], (1, 5))])
def test_size_pair(value, pair):
    assert size_pair(value, "pool_size") == pair


@pytest.mark.parametrize("value, words", [
    (0, "at least 1"), ((1, -1), "at least 1"), ((2, 2, 2), "(height, width) pair"),
    ("2", "(height, width) pair"), (True, "(height, width) pair"), (None, "(height, width) pair"),
])
def test_size_pair_refuses(value, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        size_pair(value, "pool_size")
