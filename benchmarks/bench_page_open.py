"""Server CPU per page open: one protocol client opening each light page again and again.

bench_class measures a class (queueing included); this isolates what one page open costs the
server. One session (Streamlit's websocket protocol, as benchmarks/bench_class.py speaks it)
opens every page once to warm the caches, then for each page switches away and back ``--opens``
times; the server process's CPU seconds (psutil) around each open, divided by the opens, and the
client's wall time are printed for cnnviz, an optional ``--compare`` checkout and the minimal
four-page app of bench_class, one after the other on fresh servers. Asserts nothing.

    CNNVIZ_DATA_DIR=/work/shared/data python -m benchmarks.bench_page_open [--opens 12] [--compare /work/baseline]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import bench_class as bc  # noqa: E402

PAGES = ("", "pixels", "convolution", "pooling")


async def opens(url: str, meter: bc.Meter, n: int) -> dict[str, tuple[float, float]]:
    """Page -> (server CPU ms, client wall ms) per open, averaged over ``n`` opens."""
    async with bc.Session(url, bc.Record()) as s:
        for name in PAGES:
            await s.open(name, record=False)
        out = {}
        for name in PAGES:
            cpu = wall = 0.0
            for _ in range(n):
                await s.open("pixels" if name == "" else "", record=False)  # leave, then come back
                c0, t0 = meter.cpu(), time.perf_counter()
                await s.open(name, record=False)  # with the paint report's run, as a browser does
                cpu += meter.cpu() - c0
                wall += time.perf_counter() - t0
            out[name or "home"] = (1000 * cpu / n, 1000 * wall / n)
        return out


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" (1, 5, 15 min; {os.cpu_count()} cores)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--opens", type=int, default=12, help="opens per page")
    ap.add_argument("--compare", type=Path, help="a second checkout of the project, measured in the same run")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cnnviz-opens-"))
    print(f"machine load at start: {load()}")
    print(f"server CPU / client wall time per page open, {args.opens} opens per page\n")
    for app in ("cnnviz", *(["compared"] if args.compare else []), "minimal"):
        proc, url = bc.start_server(app, tmp, args.compare)
        meter = bc.Meter(proc.pid)
        try:
            result = asyncio.run(opens(url, meter, args.opens))
        finally:
            meter.stop()
            bc.stop_app(proc)
        print(f"{app:9s} " + " | ".join(f"{page}: {cpu:4.0f} ms CPU, {wall:4.0f} ms wall"
                                        for page, (cpu, wall) in result.items()))
    print(f"\nmachine load at end:   {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
