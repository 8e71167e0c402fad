"""Ask the class, measured: one presenter asks, N students answer within 10 s, the projector counts.

Every client speaks Streamlit's websocket protocol (``benchmarks.bench_class.Session``; no
browsers). The presenter opens ``--page`` (Convolution by default), types the presenter key
(``bench_follow.present``) and, once every student follows, clicks "Ask about this view" in
the sidebar (Pixels and Home offer none: there it types a question in the dialog). It then
does what the browser does with the projector's timed card (``auto_rerun``): reruns it every
interval and reads "N answered".

Each student opens Home, follows the presenter (the follow poll of ``bench_follow``), and when
its page shows the question (the poll noticed it and reran the page) it picks a choice at a
random moment within ``--within`` seconds and clicks it (the button's trigger in the card's
fragment, as the browser sends it); one student in four changes its mind once.

Measured: pose → each student's page showing the question; the answer runs (a fragment
rerun) against the student's poll runs before the question (the baseline, same run); answers
counted by the store's tally on the projector versus answers the students sent; the last
answer's reply → the first projector run showing every answer; errors (an exception element,
a timeout, a refusal, a closed socket); server CPU and RSS. Asserts nothing.

    CNNVIZ_DATA_DIR=/work/shared/data python -m benchmarks.bench_questions [--students 100] [--within 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
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
from benchmarks.bench_follow import poll, present
from tests.e2e.conftest import free_port, start_app, stop_app, wait_healthy

KEY = "bench-questions-key"
ANSWERED = re.compile(r"(\d+) answered")
QUESTION = re.compile(r"Question (\d+):")
ANSWER_KEY = "questions_answer_"
TAKEN = "Your answer is in"


async def click(s: Session, key: str, fragment: str = "", extra: list[WidgetState] | None = None) -> float:
    """Trigger the button whose widget key is ``key`` (in ``fragment``), as the browser does."""
    trigger = WidgetState(id=s.ids[key], trigger_value=True)
    cs = ClientState(query_string=s.query, page_script_hash=s.page_hash, fragment_id=fragment)
    cs.widget_states.widgets.extend([*s.states(), *(extra or []), trigger])
    return await s.run(cs)


def fragment_of(s: Session, key: str) -> str:
    """The fragment id of the button with widget key ``key`` on the last screen."""
    wid = s.ids[key]
    found = next((f for el, f in s.buttons.values() if el.button.id == wid), None)
    if found is None and key.startswith(ANSWER_KEY):  # the answer buttons share labels and one fragment
        found = next(f for label, (el, f) in s.buttons.items() if label in ("Choose this", "My answer"))
    return found or ""


def answer_buttons(s: Session) -> list[str]:
    """The widget keys of the answer buttons on screen (one per choice)."""
    return sorted(k for k in s.ids if k.startswith(ANSWER_KEY))


async def ask(teacher: Session) -> None:
    """Pose a question: about the view when the page offers one, else a typed one in the dialog."""
    if "questions_ask_view" in teacher.ids:
        await click(teacher, "questions_ask_view")
        return
    await click(teacher, "questions_type")
    prompt = WidgetState(id=teacher.ids["questions_free_prompt"], string_value="Which layer shrinks the image?")
    choices = WidgetState(id=teacher.ids["questions_free_choices"], string_value="Convolution\nPooling\nDense")
    await click(teacher, "questions_free_ask", fragment_of(teacher, "questions_free_ask"), [prompt, choices])


async def projector_count(teacher: Session) -> int | None:
    """Rerun the projector's timed fragments once (as the browser's timers do); the count it shows."""
    count = None
    for fragment in list(teacher.timers):
        cs = ClientState(query_string=teacher.query, page_script_hash=teacher.page_hash, fragment_id=fragment)
        cs.widget_states.widgets.extend(teacher.states())
        await teacher.run(cs)
        for text in teacher.texts:
            if m := ANSWERED.search(text):
                count = int(m.group(1))
    return count


@dataclass
class Class:
    posed_at: float = 0.0
    seen: list[float] = field(default_factory=list)        # pose -> the student's page shows the question
    polls_before: list[float] = field(default_factory=list)
    answers: list[float] = field(default_factory=list)     # an answer's run (send -> script_finished)
    sent: int = 0
    taken: int = 0
    changed: int = 0
    last_answer: float = 0.0
    students: int = 0
    settled: int = 0                                        # students whose page follows the presenter's
    ask_run: float = 0.0
    tally_delay: float | None = None
    final_count: int | None = None


async def student(url: str, seed: int, within: float, stop_at: float, page: str, c: Class, rec: Record) -> None:
    rng = random.Random(seed)
    await asyncio.sleep(rng.uniform(0, 3))
    try:
        async with Session(url, rec) as s:
            await s.open("", record=False)
            c.students += 1
            answered = settled = False
            while time.monotonic() < stop_at and not answered:
                await asyncio.sleep(next(iter(s.timers.values()), 1.0) if s.timers else 1.0)
                took = await poll(s)
                if not c.posed_at and settled:
                    c.polls_before.append(took)
                if not settled and s.page == page:
                    settled, c.settled = True, c.settled + 1
                if not answer_buttons(s):
                    continue
                c.seen.append(time.perf_counter() - c.posed_at)
                buttons = answer_buttons(s)
                picks = [rng.choice(buttons)]
                if rng.random() < 0.25:
                    picks.append(rng.choice([b for b in buttons if b != picks[0]]))
                await asyncio.sleep(rng.uniform(0.5, within - 1.5))
                for pick in picks:
                    c.sent += 1 if pick is picks[0] else 0
                    c.changed += 1 if pick is not picks[0] else 0
                    c.answers.append(await click(s, pick, fragment_of(s, pick)))
                    if not any(TAKEN in t for t in s.texts):
                        rec.errors.append(f"answer not taken: {[t[:80] for t in s.texts][-2:]}")
                c.taken += 1
                c.last_answer = max(c.last_answer, time.perf_counter())
                answered = True
    except Exception as exc:  # noqa: BLE001 - counted
        rec.errors.append(f"student: {type(exc).__name__}: {exc}"[:160])


async def run(url: str, n: int, page: str, within: float, meter: Meter) -> tuple[Class, Record, float]:
    rec, c = Record(), Class()
    async with Session(url, rec) as teacher:
        await teacher.open(page, record=False)
        await present(teacher, KEY)
        if "classroom_stop" not in teacher.ids:
            raise RuntimeError("the presenter key was not accepted")
        stop_at = time.monotonic() + 90 + within + 20
        tasks = [asyncio.create_task(student(url, i, within, stop_at, teacher.page, c, rec)) for i in range(n)]
        deadline = time.monotonic() + 90
        while c.settled < n and time.monotonic() < deadline:  # everyone follows the presenter's page
            await asyncio.sleep(0.5)
        await asyncio.sleep(3)  # a few quiet polls: the baseline
        cpu_before = meter.cpu()
        c.posed_at = time.perf_counter()
        await ask(teacher)
        c.ask_run = time.perf_counter() - c.posed_at
        if not any(QUESTION.search(t) for t in teacher.texts):
            raise RuntimeError(f"no question on the projector: {teacher.texts[:3]}")
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            count = await projector_count(teacher)
            c.final_count = count
            done = all(t.done() for t in tasks)
            if done and c.taken and count is not None and count >= c.taken and c.tally_delay is None:
                c.tally_delay = time.perf_counter() - c.last_answer
                break
            await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - started)))
        await asyncio.gather(*tasks)
        return c, rec, meter.cpu() - cpu_before


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--students", type=int, default=100)
    ap.add_argument("--within", type=float, default=10.0, help="students answer within this many seconds")
    ap.add_argument("--page", default="convolution", help="the presenter's page ('' for Home)")
    args = ap.parse_args()
    with open("/proc/loadavg") as f:
        print(f"machine load before: {f.read().split()[:3]} ({os.cpu_count()} cores)")
    port = free_port()
    proc = start_app(port, Path(tempfile.mkdtemp()) / "server.log", {"CNNVIZ_PRESENTER_KEY": KEY})
    try:
        wait_healthy(port, proc)
        meter = Meter(proc.pid)
        c, rec, cpu = asyncio.run(run(f"http://127.0.0.1:{port}", args.students, args.page, args.within, meter))
        rss = meter.peak
        meter.stop()
    finally:
        stop_app(proc)
    print(f"\n{args.students} students, one question on {args.page or 'home'} answered within {args.within:g} s "
          f"({c.students} joined)")
    print(f"  {c.settled} followed the presenter's page before the question; presenter's ask run {c.ask_run:.2f} s")
    print(f"  pose -> question on the student's page: {pct(c.seen)} s (p50/p95)  [{len(c.seen)} students]")
    print(f"  student poll run before the question (baseline): {pct(c.polls_before)} s")
    print(f"  answer run (fragment rerun): {pct(c.answers)} s  [{len(c.answers)} runs, {c.changed} changed answers]")
    if c.polls_before and c.answers:
        print(f"  ratio answer run / poll run (p50): {statistics.median(c.answers) / statistics.median(c.polls_before):.2f}x")
    print(f"  answers: {c.taken} students answered, projector counted {c.final_count}")
    print("  last answer -> projector shows every answer: "
          + (f"{c.tally_delay:.2f} s" if c.tally_delay is not None else "never"))
    print(f"  errors: {len(rec.errors)}" + (f"  first: {rec.errors[:3]}" if rec.errors else ""))
    print(f"  server: RSS peak {rss / 2**20:.0f} MB, CPU {cpu:.1f} s from the question to the end")
    with open("/proc/loadavg") as f:
        print(f"machine load after: {f.read().split()[:3]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
