"""One training at a time per server process: a line the other students wait in.

No TensorFlow here, so the line can be shown and tested without it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Ticket:
    owner: str
    joined: float
    seen: float


class TrainingQueue:
    """One training at a time; the others wait in line and can see their place.

    Thread-safe (Streamlit runs each session's script in its own thread).
    A ticket not heard of (``touch``) for ``stale_after_s`` seconds is dropped,
    so a closed browser tab cannot hold the line forever.

    >>> q = TrainingQueue()
    >>> a, b = q.join("alice"), q.join("bob")
    >>> q.try_acquire(a), q.try_acquire(b), q.position(b)
    (True, False, 1)
    >>> q.release(a); q.try_acquire(b)
    True
    """

    def __init__(self, *, stale_after_s: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._line: dict[int, _Ticket] = {}
        self._next = 0
        self._running: int | None = None
        self._stale_after_s = stale_after_s
        self._clock = clock

    def join(self, owner: str = "") -> int:
        """Get in line; returns a ticket number."""
        with self._lock:
            self._next += 1
            now = self._clock()
            self._line[self._next] = _Ticket(owner, now, now)
            return self._next

    def _drop_stale(self) -> None:
        now = self._clock()
        for ticket, info in list(self._line.items()):
            if now - info.seen > self._stale_after_s:
                del self._line[ticket]
                if self._running == ticket:
                    self._running = None

    def touch(self, ticket: int) -> None:
        """Say the ticket's owner is still there (waiting or training)."""
        with self._lock:
            if ticket in self._line:
                self._line[ticket].seen = self._clock()

    def position(self, ticket: int) -> int | None:
        """0 when this ticket trains now, n when n others are ahead, None when not in line."""
        with self._lock:
            self._drop_stale()
            if ticket not in self._line:
                return None
            if ticket == self._running:
                return 0
            ahead = sum(1 for t in self._line if t < ticket or t == self._running)
            return ahead

    def try_acquire(self, ticket: int) -> bool:
        """Take the training slot if it is free and this ticket is first in line."""
        with self._lock:
            self._drop_stale()
            if ticket not in self._line:
                return False
            if self._running == ticket:
                return True
            if self._running is None and ticket == min(self._line):
                self._running = ticket
                self._line[ticket].seen = self._clock()
                return True
            return False

    def wait_turn(self, ticket: int, timeout: float) -> bool:
        """Take the slot as soon as it is this ticket's turn, waiting at most ``timeout`` seconds.

        Wakes when another ticket leaves, not on a timer; returns whether the slot was taken.
        """
        deadline = self._clock() + timeout
        while not self.try_acquire(ticket):
            left = deadline - self._clock()
            if left <= 0:
                return False
            with self._changed:
                self._changed.wait(min(left, 1.0))  # stale tickets are noticed at least each second
        return True

    def release(self, ticket: int) -> None:
        """Leave the line (and the slot, if held). Safe to call more than once."""
        with self._lock:
            self._line.pop(ticket, None)
            if self._running == ticket:
                self._running = None
            self._changed.notify_all()

    @property
    def running(self) -> bool:
        """Whether a training runs now."""
        with self._lock:
            self._drop_stale()
            return self._running is not None

    def __len__(self) -> int:
        with self._lock:
            self._drop_stale()
            return len(self._line)


_queue = TrainingQueue()


def training_queue() -> TrainingQueue:
    """The process-wide queue shared by every session of the server."""
    return _queue

