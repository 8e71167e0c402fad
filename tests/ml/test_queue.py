"""Tests for cnnviz.ml.queue: one training at a time; waiting wakes when the slot is freed."""

from __future__ import annotations

import sys
import threading
import time

from cnnviz.ml.queue import TrainingQueue


def test_the_queue_needs_no_tensorflow():
    import subprocess

    out = subprocess.run([sys.executable, "-c", "import sys, cnnviz.ml.queue; print('tensorflow' in sys.modules)"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


def test_wait_turn_wakes_when_the_slot_is_released():
    queue = TrainingQueue()
    first, second = queue.join("a"), queue.join("b")
    assert queue.try_acquire(first)
    threading.Timer(0.2, queue.release, args=(first,)).start()
    started = time.monotonic()
    assert queue.wait_turn(second, timeout=5.0)
    assert time.monotonic() - started < 2.0
    assert queue.position(second) == 0


def test_wait_turn_gives_up_after_its_timeout():
    queue = TrainingQueue()
    first, second = queue.join("a"), queue.join("b")
    assert queue.try_acquire(first)
    assert not queue.wait_turn(second, timeout=0.1)
    assert queue.position(second) == 1
