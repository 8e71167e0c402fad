"""Weight snapshots over a training: the network from its random start to trained.

A :class:`Snapshot` is a copy of every weight array of a model (in the order of
Keras' ``model.get_weights()``) at one point of a training: before it (epoch 0,
the random start), after the early batches :data:`EARLY_BATCHES` of epoch 1
(where the epoch has that many), and after every epoch. A
:class:`SnapshotSeries` holds them in order, within a memory budget: when a new
snapshot would exceed it, every other intermediate epoch snapshot is dropped (the
random start, the early batches and the newest always stay), so a long training
keeps an evenly thinned record instead of failing.

Files (``.npz``, read with ``allow_pickle=False``): the weights of snapshot ``i``
as arrays ``s{i}_w{j}`` (float16 by default: half the size, far below what the
figures can show), plus ``epoch``, ``batch`` and ``val_accuracy`` (NaN where not
measured) arrays. numpy only: the figures and pages can read a series without Keras.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

EARLY_BATCHES = (10, 50, 200)
"""Batches of epoch 1 after which a snapshot is taken (where the epoch has more batches)."""

SESSION_BUDGET_BYTES = 24 * 2**20
"""At most this much memory for one session's snapshots (the course's CNN: 0.27 MB each,
so every point of a 30-epoch training fits; bigger custom CNNs are thinned)."""


@dataclass(frozen=True)
class Snapshot:
    """The weights after ``epoch`` complete epochs and ``batch`` batches of the next one.

    ``(0, 0)`` is the random start; ``(0, 10)`` after 10 batches of epoch 1;
    ``(3, 0)`` after epoch 3. ``val_accuracy`` is the validation accuracy of
    these weights (None until measured).
    """

    epoch: int
    batch: int
    weights: tuple[np.ndarray, ...]
    val_accuracy: float | None = None

    @property
    def nbytes(self) -> int:
        return sum(w.nbytes for w in self.weights)

    @property
    def is_start(self) -> bool:
        return self.epoch == 0 and self.batch == 0

    @property
    def label(self) -> str:
        """The slider's words: "random start", "epoch 1 · batch 50", "epoch 3"."""
        if self.is_start:
            return "random start"
        if self.batch:
            return f"epoch {self.epoch + 1} · batch {self.batch}"
        return f"epoch {self.epoch}"

    def with_accuracy(self, val_accuracy: float | None) -> Snapshot:
        return Snapshot(self.epoch, self.batch, self.weights,
                        None if val_accuracy is None else float(val_accuracy))


@dataclass
class SnapshotSeries:
    """Snapshots of one training, in training order, within ``budget_bytes`` of memory."""

    snapshots: list[Snapshot] = field(default_factory=list)
    budget_bytes: int = SESSION_BUDGET_BYTES
    thinned: int = 0
    """How many epoch snapshots were dropped to stay within the budget."""
    steps_per_epoch: int | None = None
    """Batches per epoch of the training (to place the early snapshots on an epoch axis)."""

    def __len__(self) -> int:
        return len(self.snapshots)

    def __getitem__(self, index: int) -> Snapshot:
        return self.snapshots[index]

    def __iter__(self):
        return iter(self.snapshots)

    @property
    def nbytes(self) -> int:
        return sum(s.nbytes for s in self.snapshots)

    @property
    def labels(self) -> list[str]:
        return [s.label for s in self.snapshots]

    @property
    def epoch_snapshots(self) -> list[Snapshot]:
        """The snapshots taken at the end of an epoch (the training curves' points)."""
        return [s for s in self.snapshots if s.batch == 0 and not s.is_start]

    def add(self, epoch: int, batch: int, weights: Iterable[np.ndarray],
            val_accuracy: float | None = None) -> Snapshot:
        """Record a copy of ``weights``; thin earlier epoch snapshots if over the budget."""
        snapshot = Snapshot(int(epoch), int(batch), tuple(np.array(w, copy=True) for w in weights),
                            None if val_accuracy is None else float(val_accuracy))
        self.snapshots.append(snapshot)
        while self.nbytes > self.budget_bytes and self._thin_once():
            pass
        return snapshot

    def _thin_once(self) -> bool:
        """Drop every other intermediate epoch snapshot (never the start, the early batches or
        the newest); False when nothing is left to drop."""
        candidates = [i for i, s in enumerate(self.snapshots[:-1]) if s.batch == 0 and not s.is_start]
        dropped = set(candidates[::2] if len(candidates) > 1 else candidates)
        if not dropped:
            return False
        self.snapshots = [s for i, s in enumerate(self.snapshots) if i not in dropped]
        self.thinned += len(dropped)
        return True

    def set_accuracy(self, index: int, val_accuracy: float | None) -> None:
        self.snapshots[index] = self.snapshots[index].with_accuracy(val_accuracy)

    def up_to_epoch(self, epoch: int) -> SnapshotSeries:
        """The snapshots up to and including the end of ``epoch`` (e.g. the epoch early
        stopping kept: the later ones are not on the way to the kept weights)."""
        kept = [s for s in self.snapshots if s.epoch < epoch or (s.epoch == epoch and s.batch == 0)]
        return SnapshotSeries(kept, budget_bytes=self.budget_bytes, thinned=self.thinned,
                              steps_per_epoch=self.steps_per_epoch)

    def positions(self) -> list[float]:
        """Where each snapshot lies on an epoch axis (0 = the start, 1 = the end of epoch 1;
        batch 50 of 1,688 at 0.03)."""
        steps = self.steps_per_epoch or 1
        return [s.epoch + s.batch / steps for s in self.snapshots]

    def points(self) -> list[tuple[float, str, float | None]]:
        """(position on the epoch axis, label, validation accuracy) of every snapshot: what
        the training curves mark."""
        return list(zip(self.positions(), self.labels, self.val_accuracies()))

    def val_accuracies(self) -> list[float | None]:
        return [s.val_accuracy for s in self.snapshots]

    def save(self, path: str | os.PathLike, *, dtype=np.float16) -> None:
        """Write the series as a compressed ``.npz`` (weights as ``dtype``)."""
        arrays: dict[str, np.ndarray] = {
            "epoch": np.array([s.epoch for s in self.snapshots], dtype=np.int32),
            "batch": np.array([s.batch for s in self.snapshots], dtype=np.int32),
            "val_accuracy": np.array([math.nan if s.val_accuracy is None else s.val_accuracy
                                      for s in self.snapshots], dtype=np.float64),
            "steps_per_epoch": np.array(self.steps_per_epoch or 0, dtype=np.int64),
        }
        for i, snapshot in enumerate(self.snapshots):
            for j, weight in enumerate(snapshot.weights):
                arrays[f"s{i}_w{j}"] = weight.astype(dtype)
        with open(path, "wb") as handle:
            np.savez_compressed(handle, **arrays)


class SnapshotFileError(ValueError):
    """A snapshot file that cannot be read, in words."""


def load_series(path: str | os.PathLike, *, expected_shapes: Sequence[tuple] | None = None) -> SnapshotSeries:
    """Read a series written by :meth:`SnapshotSeries.save` (weights as float32).

    With ``expected_shapes`` (the model's weight shapes), every snapshot must match
    them. Raises SnapshotFileError in words.
    """
    try:
        with np.load(path, allow_pickle=False) as npz:
            epochs, batches, accuracies = npz["epoch"], npz["batch"], npz["val_accuracy"]
            steps = int(npz["steps_per_epoch"]) if "steps_per_epoch" in npz.files else 0
            snapshots = []
            for i, (epoch, batch, accuracy) in enumerate(zip(epochs, batches, accuracies)):
                count = sum(1 for name in npz.files if name.startswith(f"s{i}_w"))
                weights = tuple(npz[f"s{i}_w{j}"].astype(np.float32) for j in range(count))
                if expected_shapes is not None and [w.shape for w in weights] != [tuple(s) for s in expected_shapes]:
                    raise SnapshotFileError(f"snapshot {i} does not have the model's weight shapes")
                snapshots.append(Snapshot(int(epoch), int(batch), weights,
                                          None if math.isnan(accuracy) else float(accuracy)))
    except SnapshotFileError:
        raise
    except (OSError, KeyError, ValueError) as exc:
        raise SnapshotFileError(f"the snapshot file could not be read ({type(exc).__name__}: {exc})") from exc
    return SnapshotSeries(snapshots, budget_bytes=max(SESSION_BUDGET_BYTES, sum(s.nbytes for s in snapshots)),
                          steps_per_epoch=steps or None)


def memory_note(series: SnapshotSeries) -> str:
    """How many snapshots a series holds and the memory they take, in words."""
    thinned = (f"; {series.thinned} epoch snapshots were dropped to stay within the limit"
               if series.thinned else "")
    return (f"{len(series)} weight snapshots kept, {series.nbytes / 2**20:.1f} MB of this session's memory "
            f"(at most {series.budget_bytes / 2**20:.0f} MB{thinned})")


def early_batches(steps: int, points: Sequence[int] = EARLY_BATCHES) -> tuple[int, ...]:
    """The early-batch points a first epoch of ``steps`` batches has (strictly inside it:
    after its last batch comes the epoch's own snapshot)."""
    return tuple(b for b in points if b < steps)
