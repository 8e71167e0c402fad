"""A misbehaving child for tests of cnnviz.core.sandbox: ``python -m tests.ml.sandbox_child IN OUT``.

What it does is chosen by the input's content: sleep, eat memory, spin, start a grandchild that
sleeps, or crash.
"""

from __future__ import annotations

import sys

from cnnviz.core.sandbox import apply_limits

if __name__ == "__main__":
    apply_limits(cpu=1)
    source, output = sys.argv[1:]
    with open(source, "rb") as f:
        what = f.read()
    if b"sleep" in what:
        import time

        time.sleep(60)
    elif b"memory" in what:
        try:
            hog = bytearray(3 * 1024**3)
        except MemoryError:
            sys.exit(3)
    elif b"spin" in what:
        while True:
            pass
    elif b"fork" in what:
        import os
        import time

        try:
            pid = os.fork()
        except OSError:
            sys.exit(4)
        if pid == 0:
            with open(os.path.join(output, "grandchild"), "w") as f:
                f.write(str(os.getpid()))
        time.sleep(60)
    elif b"crash" in what:
        import os

        os.abort()
