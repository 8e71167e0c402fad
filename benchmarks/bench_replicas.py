"""A class across replicas: 150 protocol students on 3 Streamlit replicas behind nginx, the classroom in Redis.

The deployment is the README's command, ``scripts/serve_classroom.sh --replicas N`` (Redis, N replicas,
nginx with cookie-sticky routing), started on 127.0.0.1 with free ports. Each client speaks Streamlit's
websocket protocol through nginx (``benchmarks.bench_class.Session``) with the route cookie a browser
gets from nginx on its first visit (random per student, as nginx's ``$request_id`` would make it).

One presenter opens the Convolution page and types the presenter key; every ``--every`` seconds it
changes one number (``Session.edit``). Each student opens Home and follows (the sidebar's timed
fragment, as in ``benchmarks.bench_follow``); a third of them (``--explorers``) instead explore on their
own like ``benchmarks.bench_class``: open Pixels, Convolution, Pooling, then edit numbers.

Then the presenter asks a question (on Convolution: "Which of these is this kernel's result?"), every
following student answers it, and (the second part) Redis is killed and restarted empty while answers
are still arriving: answers counted before, what the projector counts after the replicas wrote the
class back, and answers refused while Redis was away (each said "paused" in words; the student can
answer again) are printed.

Measured: page open and edit p50/p95 (send -> ``script_finished``), follow delay p50/p95 (presenter's
edit sent -> a follower's run finished with the presenter's URL), errors (an exception element, a
timeout, a closed socket), RSS per replica, per replica how many students it served; and the same
harness against ONE replica behind the same nginx (the baseline, same run). Asserts nothing.

    CNNVIZ_DATA_DIR=/work/shared/data python -m benchmarks.bench_replicas [--students 150] [--replicas 3]
        [--seconds 40] [--skip-single]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from benchmarks.bench_class import PAGES, Record, Session, load, pct
from benchmarks.bench_follow import poll, present
from benchmarks.bench_questions import (
    answer_buttons,
    ask,
    click,
    fragment_of,
    projector_count,
)
from tests.services import ROUTE_COOKIE, ClassroomDeployment

KEY = "bench-replicas-key"
LEFT = "The instructor is presenting"
"""The panel of a student who stopped following (it offers to rejoin)."""

TARGETS = ("targets: page open p95 and edit p95 with 150 students on 3 replicas no worse than 50 on one "
           "(the same per-replica load); follow delay p95 <= 2 s; 0 errors; nothing counted lost across "
           "a Redis restart")


class RoutedSession(Session):
    """A protocol client that carries nginx's route cookie, so all its requests reach one replica."""

    def __init__(self, url: str, record: Record, route: str | None = None):
        super().__init__(url, record)
        self.route = route or secrets.token_hex(16)

    async def __aenter__(self):
        import websockets

        self.ws = await websockets.connect(self.url, subprotocols=["streamlit"], max_size=2**27,
                                           additional_headers={"Cookie": f"{ROUTE_COOKIE}={self.route}"},
                                           open_timeout=60)
        return self


async def sees_question(s: Session, tries: int = 10) -> bool:
    """Rerun the follow fragment (the browser's timer) until the question's answer buttons are on screen."""
    for _ in range(tries):
        if answer_buttons(s):
            return True
        await asyncio.sleep(1.0)
        await poll(s)
    return bool(answer_buttons(s))


@dataclass
class Run:
    rec: Record = field(default_factory=Record)
    changes: list[tuple[float, str]] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    presenter_edits: list[float] = field(default_factory=list)
    followers: int = 0
    explorers: int = 0
    routes: dict[str, int] = field(default_factory=dict)
    answered: int = 0
    refused_paused: int = 0
    count_before_restart: int | None = None
    count_after_restart: int | None = None
    count_final: int | None = None
    answers_taken: int = 0
    restart_at: float | None = None


async def follower(url: str, seed: int, stop_at: float, run: Run, question: asyncio.Event, done: asyncio.Event) -> None:
    rng = random.Random(seed)
    await asyncio.sleep(rng.uniform(0, 4))
    try:
        async with RoutedSession(url, run.rec) as s:
            await s.open("")
            while time.monotonic() < stop_at and not question.is_set():
                await asyncio.sleep(1.0)
                await poll(s)
                s.left = getattr(s, "left", False) or any(LEFT in t for t in s.texts)
                for j in range(len(run.changes) - 1, -1, -1):
                    sent, query = run.changes[j]
                    if query == s.query:
                        if not getattr(s, "took", None) or s.took < j:
                            s.took = j
                            run.delays.append(time.perf_counter() - sent)
                        break
            if s.page == "convolution" and not getattr(s, "left", False):
                run.followers += 1
            await question.wait()
            await asyncio.sleep(rng.uniform(0, 6))  # answers arrive over several seconds (the restart falls among them)
            for attempt in range(4):
                if not await sees_question(s):
                    continue
                buttons = answer_buttons(s)
                await click(s, buttons[rng.randrange(len(buttons))], fragment_of(s, buttons[0]))
                if any("paused" in t for t in s.texts):
                    run.refused_paused += 1
                    await asyncio.sleep(2.0)  # the student answers again a moment later
                    continue
                run.answered += 1
                break
            await done.wait()
    except Exception as exc:  # noqa: BLE001 - every failure is counted
        run.rec.errors.append(f"follower: {type(exc).__name__}: {exc}"[:160])


async def explorer(url: str, seed: int, stop_at: float, run: Run) -> None:
    """A student exploring alone (bench_class's student): open the pages, then edit numbers."""
    rng = random.Random(seed)
    await asyncio.sleep(rng.uniform(0, 4))
    try:
        async with RoutedSession(url, run.rec) as s:
            for name in PAGES:
                await s.open(name)
                await asyncio.sleep(rng.uniform(0.2, 1.0))
            while time.monotonic() < stop_at:
                await asyncio.sleep(rng.uniform(0, 4))
                if rng.random() < 1 / 8 or not await s.edit(rng):
                    await s.open(rng.choice([p for p in PAGES if p != s.page]))
        run.explorers += 1
    except Exception as exc:  # noqa: BLE001
        run.rec.errors.append(f"explorer: {type(exc).__name__}: {exc}"[:160])


async def presenter(url: str, every: float, stop_at: float, run: Run, question: asyncio.Event,
                    done: asyncio.Event, restart) -> None:
    rng = random.Random(0)
    try:
        async with RoutedSession(url, Record()) as t:
            await t.open("convolution", record=False)
            await present(t, KEY)
            await asyncio.sleep(6)  # the class arrives and starts following
            while time.monotonic() < stop_at:
                t0 = time.perf_counter()
                if await t.edit(rng):
                    run.presenter_edits.append(time.perf_counter() - t0)
                    run.changes.append((t0, t.query))
                await asyncio.sleep(every)
            await ask(t)
            question.set()
            if restart is not None:
                await asyncio.sleep(3.0)  # some answers are in
                run.count_before_restart = await projector_count(t)
                run.restart_at = time.monotonic()
                await asyncio.to_thread(restart)
                await asyncio.sleep(5.0)  # the replicas notice, pause, reconnect and write the class back
                run.count_after_restart = await projector_count(t)
            await asyncio.sleep(14.0)
            run.count_final = await projector_count(t)
            done.set()
    except Exception as exc:  # noqa: BLE001
        run.rec.errors.append(f"presenter: {type(exc).__name__}: {exc}"[:160])
        question.set()
        done.set()


def replica_pids(deployment: ClassroomDeployment) -> list[psutil.Process]:
    """The replicas' processes (the streamlit children of the script), in port order."""
    script = psutil.Process(deployment.proc.pid)
    found = {}
    for child in script.children(recursive=True):
        try:
            cmd = child.cmdline()
        except psutil.Error:
            continue
        if "streamlit" in " ".join(cmd) and "--server.port" in cmd:
            found[int(cmd[cmd.index("--server.port") + 1])] = child
    return [found[p] for p in sorted(found)]


def rss_of(proc: psutil.Process) -> int:
    """Resident memory of a replica and its children (sandbox decoders come and go: those gone are skipped)."""
    total = 0
    try:
        family = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        family = [proc]
    for p in family:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def restart_redis(deployment: ClassroomDeployment) -> None:
    """Kill the deployment's redis-server (no persistence): serve_classroom.sh starts an empty one at once."""
    script = psutil.Process(deployment.proc.pid)
    redis_proc = next(c for c in script.children(recursive=True) if c.name().startswith("redis-server"))
    redis_proc.kill()
    redis_proc.wait(10)


async def warm(url: str, route: str) -> None:
    async with RoutedSession(url, Record(), route) as s:
        for name in PAGES:
            await s.open(name, record=False)


async def class_run(deployment, n: int, seconds: float, every: float, explorers: float, with_restart: bool) -> Run:
    run = Run()
    stop_at = time.monotonic() + seconds
    question, done = asyncio.Event(), asyncio.Event()
    n_explorers = round(n * explorers)
    restart = (lambda: restart_redis(deployment)) if with_restart else None
    tasks = [presenter(deployment.url, every, stop_at, run, question, done, restart)]
    tasks += [explorer(deployment.url, 1000 + i, stop_at, run) for i in range(n_explorers)]
    tasks += [follower(deployment.url, i, stop_at, run, question, done) for i in range(n - n_explorers)]
    await asyncio.gather(*tasks)
    return run


def measure(replicas: int, n: int, args, tmp: Path, with_restart: bool) -> dict:
    deployment = ClassroomDeployment(tmp, replicas, KEY, ROOT).start()
    try:
        routes = deployment.routes()
        for route in routes:
            asyncio.run(warm(deployment.url, route))
        procs = replica_pids(deployment)
        rss0 = [rss_of(proc) for proc in procs]
        run = asyncio.run(class_run(deployment, n, args.seconds, args.every, args.explorers, with_restart))
        rss = [rss_of(proc) for proc in procs]
        return {"replicas": replicas, "n": n, "run": run, "rss0": rss0, "rss": rss, "restart": with_restart}
    finally:
        deployment.stop()


def report(rows: list[dict]) -> None:
    print(f"\n{'replicas':>8}{'students':>9}  {'open p50/p95 s (n)':<22}{'edit p50/p95 s (n)':<22}"
          f"{'follow delay p50/p95 s (n)':<28}{'presenter edit':<16}{'errors':>6}  RSS per replica MB (start -> end)")
    for r in rows:
        run = r["run"]
        rec = run.rec
        opens = f"{pct([t for _, t in rec.opens])} ({len(rec.opens)})"
        edits = f"{pct(rec.edits)} ({len(rec.edits)})"
        delays = f"{pct(run.delays)} ({len(run.delays)})"
        rss = ", ".join(f"{a / 2**20:.0f}->{b / 2**20:.0f}" for a, b in zip(r["rss0"], r["rss"]))
        label = f"{r['replicas']}" + (" +restart" if r["restart"] else "")
        print(f"{label:>8}{r['n']:>9}  {opens:<22}{edits:<22}{delays:<28}{pct(run.presenter_edits):<16}"
              f"{len(rec.errors):>6}  {rss}")
    print("\nthe question (every follower answers once; 'paused' refusals are answered again):")
    for r in rows:
        run = r["run"]
        line = (f"  {r['replicas']} replica(s){' with Redis restarted mid-question' if r['restart'] else ''}: "
                f"{run.followers} followed, {run.explorers} explored; {run.answered} answers taken, "
                f"{run.refused_paused} refused while Redis was away (answered again)")
        if r["restart"]:
            line += (f"; projector counted {run.count_before_restart} before the restart, "
                     f"{run.count_after_restart} 5 s after it, {run.count_final} at the end")
        else:
            line += f"; projector counted {run.count_final}"
        lost = run.answered - (run.count_final or 0)
        line += f" -> {'nothing lost' if lost <= 0 else f'{lost} taken answers NOT counted'}"
        print(line)
        for e in sorted(set(run.rec.errors))[:5]:
            print(f"    error x{run.rec.errors.count(e)}: {e}")


def store_calls(tmp: Path, repeats: int = 2000) -> str:
    """What one follower's poll asks the store (is_presenter, presentation, version, still_following,
    question_version, question), timed in this process: the in-memory store vs Redis on a unix socket."""
    from cnnviz.core.classroom import MemoryClassroom
    from cnnviz.core.classroom_redis import RedisClassroom
    from tests.services import RedisServer

    server = RedisServer(tmp / "redis-calls").start()
    try:
        cells = []
        for name, store in (("memory", MemoryClassroom()), ("redis", RedisClassroom.from_url(server.url))):
            token = store.new_pass()
            store.publish(token, "convolution", {"stride": "2"})
            t0 = time.perf_counter()
            for i in range(repeats):
                store.is_presenter(None), store.presentation(), store.version()
                store.still_following(f"s{i % 100}"), store.question_version(), store.question()
            cells.append(f"{name} {1e6 * (time.perf_counter() - t0) / repeats:.0f} us")
        return "one follower poll's store calls: " + ", ".join(cells)
    finally:
        server.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=150)
    ap.add_argument("--replicas", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=40.0, help="following and exploring, before the question")
    ap.add_argument("--every", type=float, default=3.0, help="seconds between the presenter's edits")
    ap.add_argument("--explorers", type=float, default=1 / 3, help="share of students exploring on their own")
    ap.add_argument("--skip-single", action="store_true", help="skip the one-replica baseline")
    ap.add_argument("--skip-plain", action="store_true", help="skip the run without a Redis restart")
    ap.add_argument("--skip-restart", action="store_true", help="skip the run with Redis restarted mid-question")
    args = ap.parse_args()
    os.environ.setdefault("CNNVIZ_DATA_DIR", str(ROOT.parent / "shared" / "data"))
    print(f"bench_replicas: {args.students} students on {args.replicas} replicas behind nginx (Redis), "
          f"then with Redis restarted mid-question, then the baseline: {args.students // args.replicas} on one "
          f"replica behind the same nginx; {args.seconds:.0f} s per run\n{TARGETS}\nstart: {load()}", flush=True)
    plan = [] if args.skip_plain else [(args.replicas, args.students, False)]
    if not args.skip_restart:
        plan.append((args.replicas, args.students, True))
    if not args.skip_single:
        plan.append((1, args.students // args.replicas, False))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        print(store_calls(Path(tmp)), flush=True)
        for i, (replicas, n, restart) in enumerate(plan):
            run_tmp = Path(tmp) / f"run-{i}"
            run_tmp.mkdir()
            rows.append(measure(replicas, n, args, run_tmp, restart))
            report(rows[-1:])
            print(f"  done: {replicas} replica(s) x{n}{' +restart' if restart else ''}; {load()}", flush=True)
    print("\nall runs:")
    report(rows)
    print(f"\nend: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
