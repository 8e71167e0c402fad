"""Untrusted bytes are handled in fresh, limited child processes: never in the server, never a fork of it.

One home for what every sandboxed check shares (model files, images): the child's clean
environment, its resource limits, killing its whole process group, and a few slots so a
class cannot start children without bound.

:func:`run` is the file-based runner (model checks): the server (one process for a whole class) never parses an uploaded file itself. It
starts ``python -m <module> <input> <output folder>`` with :mod:`subprocess`, in a new
session (its own process group), from a private temporary folder, with a clean
environment; the child limits itself with :func:`apply_limits` before it imports
anything heavy. A crash, a hang or a memory blow-up costs the child only: the wall-clock
timeout kills the whole process group, and the folder is removed whatever happened.

Standard library only: the children import this module too.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MEMORY_BYTES = 1024 * 1024 * 1024
"""The child's address space (RLIMIT_AS): numpy and h5py need ~120 MB of it."""
CPU_SECONDS = 5
"""The child's processor time (RLIMIT_CPU): checking the course's CNN takes well under one."""
FILE_BYTES = 96 * 1024 * 1024
"""Largest file the child may write (RLIMIT_FSIZE): the weights it hands back."""
WALL_SECONDS = 15.0
"""The child is killed (its whole process group) after this long, whatever it is doing."""
MAX_RUNNING = 2
"""Children running at once, per server; more uploads wait (``BUSY_SECONDS``) for their turn."""
BUSY_SECONDS = 30.0

PREFIX = "cnnviz-upload-"
_ROOT = Path(__file__).resolve().parents[2]


class SandboxBusy(RuntimeError):
    """Every sandbox slot stayed taken for as long as the caller would wait."""


class Slots:
    """At most ``count`` children of one kind at once; the next waits up to ``wait_seconds``."""

    def __init__(self, count: int, wait_seconds: float):
        self._semaphore = threading.BoundedSemaphore(count)
        self.wait_seconds = wait_seconds

    @contextmanager
    def taken(self) -> Iterator[None]:
        """Hold one slot for the block; SandboxBusy when none frees up in time."""
        if not self._semaphore.acquire(timeout=self.wait_seconds):
            raise SandboxBusy("every sandbox slot is busy")
        try:
            yield
        finally:
            self._semaphore.release()


_slots = Slots(MAX_RUNNING, BUSY_SECONDS)


def apply_limits(*, memory: int = MEMORY_BYTES, cpu: int = CPU_SECONDS,
                 file_size: int = FILE_BYTES) -> None:
    """Limit this (child) process: address space, processor time, file size, no core dumps,
    few open files and no new processes. Call it first thing in a child."""
    import resource

    for which, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_CPU, cpu),
                         (resource.RLIMIT_FSIZE, file_size), (resource.RLIMIT_CORE, 0),
                         (resource.RLIMIT_NOFILE, 64), (resource.RLIMIT_NPROC, 0)):
        soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY and value > hard:
            value = hard
        try:
            # CPU: the soft limit sends SIGXCPU (the process dies), the hard one SIGKILL.
            resource.setrlimit(which, (value, value + 1 if which == resource.RLIMIT_CPU else value))
        except (ValueError, OSError):
            if which != resource.RLIMIT_NPROC:  # root ignores NPROC; the rest must hold
                raise


@dataclass
class Outcome:
    """What a child did: its exit status (negative: killed by that signal), whether it ran out
    of time, its output folder (gone once the ``run`` block ends) and the end of its stderr."""

    returncode: int | None
    timed_out: bool
    output: Path
    stderr: str


def child_environment(folder: str | None = None) -> dict[str, str]:
    """A minimal environment for a child: none of the server's variables (secrets, keys, settings).

    ``folder`` (the child's private temporary folder) becomes its HOME and TMPDIR.
    """
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(_ROOT),
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "OMP_NUM_THREADS": "1",  # numpy's BLAS would otherwise reserve memory for a thread per core
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "HDF5_PLUGIN_PRELOAD": "::",  # no HDF5 filter plugins (shared libraries) are loaded
        "HDF5_USE_FILE_LOCKING": "FALSE",
    }
    if folder is not None:
        env["HOME"] = env["TMPDIR"] = folder
    return env


def kill_group(process: subprocess.Popen) -> None:
    """Kill the child and everything it started (its process group: children start a new session)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@contextmanager
def run(module: str, payload: bytes, *, name: str = "input.bin",
        wall_seconds: float | None = None) -> Iterator[Outcome]:
    """Run ``python -m module <folder>/name <folder>/out`` on ``payload`` in the sandbox.

    Yields the :class:`Outcome` while the output folder still exists; the private
    temporary folder (mode 0700) is removed when the block ends, also on failure or
    timeout. Raises SandboxBusy when no slot frees up in ``BUSY_SECONDS``.
    """
    wall_seconds = WALL_SECONDS if wall_seconds is None else wall_seconds
    with _slots.taken():
        yield from _run_in_folder(module, payload, name=name, wall_seconds=wall_seconds)


def _run_in_folder(module: str, payload: bytes, *, name: str, wall_seconds: float) -> Iterator[Outcome]:
    folder = tempfile.mkdtemp(prefix=PREFIX)
    try:
        path, output = os.path.join(folder, name), os.path.join(folder, "out")
        os.mkdir(output, 0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        stderr_path = os.path.join(folder, "stderr.txt")
        with open(stderr_path, "wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-s", "-m", module, path, output],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                cwd=folder, env=child_environment(folder), start_new_session=True, close_fds=True,
            )
            timed_out = False
            try:
                process.wait(timeout=wall_seconds)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                kill_group(process)  # the child and anything it might have started
                process.wait()
        with open(stderr_path, "rb") as f:
            f.seek(max(0, os.path.getsize(stderr_path) - 2000))
            tail = f.read().decode("utf-8", errors="replace")
        yield Outcome(process.returncode, timed_out, Path(output), tail)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
