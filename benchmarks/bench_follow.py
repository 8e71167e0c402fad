"""Follow the instructor, measured: one presenter and N following students on one server.

Every client speaks Streamlit's websocket protocol (``benchmarks.bench_class.Session``; no
browsers). The presenter opens the Convolution page, types the presenter key into the sidebar
form (the form's widget states and its submit trigger, as the browser sends them), then every
``--every`` seconds changes one number on the page (kernel rows/columns, weight, the explained
output row/column: what ``Session.edit`` picks), like a teacher walking the class through it.

Each student opens Home, then does what the browser does with the sidebar's timed fragment:
when the server announces it (``auto_rerun``: fragment id and interval), it reruns that
fragment every interval with its widgets' values; a run that switches page (``st.switch_page``
to the presenter's view) ends with the new page's ``script_finished``, and the student then
sends the page's paint report as a browser does once it has painted.

Measured: **follow delay** — presenter's edit sent → the first student run that finished with
the presenter's new URL (its query string equal to the presenter's); **presenter edit** — edit
sent → its ``script_finished``, with no students (the baseline, same run) and with N; poll runs;
students that left follow mode by mistake; errors (an exception element, a timeout, a closed
socket); server RSS and CPU. Asserts nothing.

    CNNVIZ_DATA_DIR=/work/shared/data python -m benchmarks.bench_follow [--students 100] [--seconds 40]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.WidgetStates_pb2 import WidgetState

from benchmarks.bench_class import Meter, Record, Session, pct
from tests.e2e.conftest import free_port, start_app, stop_app, wait_healthy

KEY = "bench-follow-key"
FOLLOWING = "Following the instructor"


async def present(s: Session, key: str) -> float:
    """Type ``key`` into the sidebar's presenter-key form and submit it, as the browser does."""
    button, fragment = s.buttons["Start presenting"]
    typed = WidgetState(id=s.ids["classroom_key_typed"], string_value=key)
    submit = WidgetState(id=button.button.id, trigger_value=True)
    cs = ClientState(query_string=s.query, page_script_hash=s.page_hash, fragment_id=fragment)
    cs.widget_states.widgets.extend([*s.states(typed), submit])
    return await s.run(cs)


async def poll(s: Session) -> float:
    """One timed rerun of the follow panel's fragment (the browser's timer), then its paint report."""
    fragment = next(iter(s.timers))
    cs = ClientState(query_string=s.query, page_script_hash=s.page_hash, fragment_id=fragment)
    cs.widget_states.widgets.extend(s.states())
    took = await s.run(cs)
    await s.paint_report()
    return took


@dataclass
class Follow:
    changes: list[tuple[float, str]] = field(default_factory=list)  # (presenter's edit sent, its URL query)
    delays: list[float] = field(default_factory=list)
    polls: list[float] = field(default_factory=list)
    edits: list[float] = field(default_factory=list)
    left: int = 0
    missed: int = 0
    students: int = 0
    cpu_before: float = 0.0


async def student(url: str, seed: int, stop_at: float, fol: Follow, rec: Record) -> None:
    rng = random.Random(seed)
    await asyncio.sleep(rng.uniform(0, 3))
    try:
        async with Session(url, rec) as s:
            await s.open("", record=False)
            if not s.timers:
                raise RuntimeError("no timed follow fragment on the page")
            fol.students += 1
            seen = -1
            while time.monotonic() < stop_at:
                interval = next(iter(s.timers.values()), 1.0) if s.timers else 1.0
                await asyncio.sleep(interval)
                fol.polls.append(await poll(s))
                if any("The instructor is presenting" in t for t in s.texts):  # the panel offers to rejoin
                    fol.left += 1
                    return
                now = time.perf_counter()
                for j in range(len(fol.changes) - 1, seen, -1):
                    if fol.changes[j][1] == s.query:
                        fol.delays.append(now - fol.changes[j][0])
                        fol.missed += j - seen - 1  # changes superseded before this student saw them
                        seen = j
                        break
    except Exception as exc:  # noqa: BLE001 - counted
        rec.errors.append(f"student: {type(exc).__name__}: {exc}"[:160])


async def presenter_edits(s: Session, rng: random.Random, stop_at: float, every: float, fol: Follow,
                          out: list[float]) -> None:
    while time.monotonic() < stop_at:
        await asyncio.sleep(every * rng.uniform(0.8, 1.2))
        t0 = time.perf_counter()
        before = len(s.rec.edits)
        if not await s.edit(rng):
            raise RuntimeError("the presenter's page has no number to change")
        out.append(s.rec.edits[before])
        fol.changes.append((t0, s.query))


async def run(url: str, n: int, seconds: float, every: float, meter: Meter) -> tuple[Follow, Record, list[float]]:
    rec, fol, alone = Record(), Follow(), []
    rng = random.Random(0)
    async with Session(url, rec) as teacher:
        await teacher.open("", record=False)
        await teacher.open("convolution", record=False)
        await present(teacher, KEY)
        if not any("Presenting" in t for t in teacher.texts + [""]) and "classroom_stop" not in teacher.ids:
            raise RuntimeError("the presenter key was not accepted")
        # Baseline: the presenter's edits with nobody following (same server, same run).
        await presenter_edits(teacher, rng, time.monotonic() + min(12.0, seconds / 3), 0.5, Follow(), alone)
        fol.cpu_before = meter.cpu()
        stop_at = time.monotonic() + seconds
        tasks = [asyncio.create_task(student(url, i, stop_at, fol, rec)) for i in range(n)]
        await asyncio.sleep(6)  # everyone has joined and taken the first view
        await presenter_edits(teacher, rng, stop_at - 3, every, fol, fol.edits)
        await asyncio.gather(*tasks)
    return fol, rec, alone


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--students", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument("--every", type=float, default=3.0, help="seconds between the presenter's edits")
    args = ap.parse_args()
    with open("/proc/loadavg") as f:
        print(f"machine load before: {f.read().split()[:3]} ({os.cpu_count()} cores)")
    port = free_port()
    tmp = Path(tempfile.mkdtemp())
    proc = start_app(port, tmp / "server.log", {"CNNVIZ_PRESENTER_KEY": KEY})
    try:
        wait_healthy(port, proc)
        meter = Meter(proc.pid)
        fol, rec, alone = asyncio.run(run(f"http://127.0.0.1:{port}", args.students, args.seconds, args.every, meter))
        cpu, rss = meter.cpu() - fol.cpu_before, meter.peak
        meter.stop()
    finally:
        stop_app(proc)
    errors = rec.errors
    print(f"\n{args.students} students following one presenter for {args.seconds:.0f} s "
          f"(presenter edits every ~{args.every:g} s; {fol.students} joined)")
    print(f"  follow delay (edit sent -> student's run finished with the new view): {pct(fol.delays)}"
          f"  [{len(fol.delays)} views taken, {fol.missed} superseded before seen]")
    print(f"  presenter edit, nobody following: {pct(alone)}")
    print(f"  presenter edit, {args.students} following:  {pct(fol.edits)}")
    if alone and fol.edits:
        print(f"  ratio (p50 with / without followers): {statistics.median(fol.edits) / statistics.median(alone):.2f}x")
    print(f"  student poll runs: {pct(fol.polls)}  ({len(fol.polls) / args.seconds:.0f} per second)")
    print(f"  students who left follow mode by mistake: {fol.left}")
    print(f"  errors: {len(errors)}" + (f"  first: {errors[:3]}" if errors else ""))
    print(f"  server: RSS peak {rss / 2**20:.0f} MB, CPU {cpu:.1f} s over the class")
    with open("/proc/loadavg") as f:
        print(f"machine load after: {f.read().split()[:3]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
