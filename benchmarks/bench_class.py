"""A class on one server: N simulated students speaking Streamlit's own websocket protocol.

Why: a classroom is the first user (issue 13). Browsers are too heavy to simulate 100
students on this machine, so each student is one websocket session on ``/_stcore/stream``
that sends the BackMsgs a browser sends and waits for the server's ``script_finished``:

1. at a random moment in the first 4 s it loads Home (``rerun_script`` with no page, as
   the root URL does), then opens Pixels, Convolution and Pooling as a sidebar click
   does (``page_script_hash`` from the server's ``navigation`` message, plus the page's
   ``page_name``), each after the previous one finished and a 0.2-1 s pause;
2. then every 0-4 s it changes a ``number_input`` or numeric slider that the last run of
   its page sent (a new valid value inside min/max, int or double as the element says),
   like the browser: ``widget_states`` holds every on-screen widget's last known value
   (number inputs, sliders, checkboxes, text) with the changed one replaced, and
   ``fragment_id`` is the widget's ``delta.fragment_id``; one action in 8 opens another page.
   cnnviz's paint report (a component the browser triggers once the new result is
   painted) is triggered the same way right after the run that sent it ("paint reports").

Times are send -> ``script_finished`` (page opens per page, edits). Errors: an exception
element, a compile error, a 30 s timeout or a closed socket (the student then reconnects).
Server side: RSS after warm-up and its peak, and server CPU seconds during the class /
(page opens + edits). Apps run one after the other, each on a fresh server warmed by one
session opening every page: cnnviz, ``--compare PATH`` (another checkout), and a minimal
four-page app (title, number input, 512x512 correlation as a small PNG, 20 lines of text).
Not simulated: the browser's downloads of media (images) and its cached-message hashes.
Asserts nothing.

    CNNVIZ_DATA_DIR=/work/shared/data python -m benchmarks.bench_class [--students 30,100]
        [--seconds 40] [--compare PATH] [--only cnnviz|minimal] [--train] [--profile OUT.svg|.json|.txt]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import streamlit  # noqa: E402,F401  (initialises streamlit before its protobuf modules)
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ClientState_pb2 import ClientState  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402

from benchmarks.bench_controls import start_checkout  # noqa: E402
from benchmarks.browser import start_minimal_app  # noqa: E402
from tests.e2e.conftest import free_port, start_app, stop_app, wait_healthy  # noqa: E402

PAGES = ("", "pixels", "convolution", "pooling")
TIMEOUT = 30.0
PAINT_REPORT = "cnnviz_paint_report"
EARLY = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_EARLY_FOR_RERUN")
COMPILE_ERROR = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_WITH_COMPILE_ERROR")

MINIMAL_CLASS_APP = '''
import numpy as np, scipy.ndimage as ndi, streamlit as st
from cnnviz.core.data import load_ascent
from cnnviz.ui.resources import png_of

@st.cache_resource
def image():
    return load_ascent().astype(np.float64)

def page(name):
    def run():
        st.title(name.title())
        centre = st.number_input("Kernel centre", -8, 8, 0, key=f"{name}_centre")
        kernel = np.array([[-1, -2, -1], [0, centre, 0], [1, 2, 1]], dtype=float)
        out = np.clip(ndi.correlate(image(), kernel, mode="nearest"), 0, 255).astype(np.uint8)
        st.image(png_of(out), width=160, output_format="PNG")
        for i in range(20):
            st.write(f"Line {i + 1} of the {name} page: some text to send, as a real page has.")
    return run

st.navigation([st.Page(page(n), title=n, url_path=n, default=n == "home")
               for n in ("home", "pixels", "convolution", "pooling")]).run()
'''


@dataclass
class Record:
    opens: list[tuple[str, float]] = field(default_factory=list)
    edits: list[float] = field(default_factory=list)
    paints: list[float] = field(default_factory=list)
    trainings: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def state_of(el) -> WidgetState | None:
    """The value a browser would hold for this widget element (None: not tracked, e.g. buttons)."""
    kind = el.WhichOneof("type")
    p = getattr(el, kind)
    s = WidgetState(id=getattr(p, "id", ""))
    if kind == "number_input":
        v = p.value if p.set_value and p.HasField("value") else (p.default if p.HasField("default") else None)
        if v is None:
            return None
        setattr(s, "int_value" if p.data_type == p.INT else "double_value", int(v) if p.data_type == p.INT else v)
    elif kind == "slider":
        vals = list(p.value if p.set_value else p.default)
        (s.string_array_value if p.options else s.double_array_value).data.extend(
            [p.options[int(i)] for i in vals] if p.options else vals)
    elif kind == "checkbox":
        s.bool_value = p.value if p.set_value else p.default
    elif kind in ("text_input", "text_area") and (p.HasField("value") or p.HasField("default")):
        s.string_value = p.value if p.set_value and p.HasField("value") else p.default
    else:
        return None
    return s


def editable(el) -> bool:
    kind = el.WhichOneof("type")
    p = getattr(el, kind)
    if kind == "slider":
        return not p.options and p.data_type in (p.INT, p.FLOAT) and not p.disabled and not p.form_id
    return kind == "number_input" and not p.disabled and not p.form_id


def new_value(el, old: WidgetState, rng: random.Random) -> WidgetState:
    """A different valid value for a number input or numeric slider, uniform over its steps."""
    p, s = getattr(el, el.WhichOneof("type")), WidgetState(id=old.id)
    step = p.step or (1 if p.data_type == p.INT else 0.01)
    if el.HasField("slider"):
        lo, hi, olds = p.min, p.max, list(old.double_array_value.data)
    else:
        cur = getattr(old, old.WhichOneof("value"))
        lo, hi, olds = (p.min if p.has_min else cur - 20 * step), (p.max if p.has_max else cur + 20 * step), [cur]
    for _ in range(5):
        vals = sorted(round(lo + rng.randint(0, round((hi - lo) / step)) * step, 10) for _ in olds)
        if vals != olds:
            break
    if el.HasField("slider"):
        s.double_array_value.data.extend(vals)
    elif p.data_type == p.INT:
        s.int_value = int(vals[0])
    else:
        s.double_value = vals[0]
    return s


class Session:
    """One browser tab: the server's pages, the widgets on screen and their last known values."""

    def __init__(self, url: str, record: Record):
        self.url, self.rec = url.replace("http://", "ws://") + "/_stcore/stream", record
        self.pages: dict[str, str] = {}       # url_pathname -> page_script_hash
        self.page_hash, self.query = "", ""
        self.widgets: dict[str, tuple[object, str]] = {}  # id -> (element, fragment id)
        self.values: dict[str, WidgetState] = {}
        self.ids: dict[str, str] = {}          # user key -> element id, every widget seen
        self.paint = None
        self.timers: dict[str, float] = {}     # fragment id -> seconds between its timed reruns (auto_rerun)
        self.texts: list[str] = []             # the text elements (markdown, alerts, captions) of the last run
        self.buttons: dict[str, tuple[object, str]] = {}  # label -> (button element, fragment id)

    async def __aenter__(self):
        import websockets
        self.ws = await websockets.connect(self.url, subprotocols=["streamlit"], max_size=2**27)
        return self

    async def __aexit__(self, *exc):
        await self.ws.close()

    @property
    def page(self) -> str:
        return next((name for name, h in self.pages.items() if h == self.page_hash), "")

    def states(self, replace: WidgetState | None = None) -> list[WidgetState]:
        out = [self.values[i] for i in self.widgets if i in self.values]
        return [replace if replace and s.id == replace.id else s for s in out]

    async def run(self, cs: ClientState, timeout: float = TIMEOUT) -> float:
        """Send one rerun_script; return seconds to its script_finished (raise on error/timeout)."""
        msg = BackMsg()
        msg.rerun_script.CopyFrom(cs)
        t0 = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        if not cs.fragment_id:
            self.widgets.clear()
            self.timers.clear()
        seen, error, self.paint, self.texts = set(), None, None, []
        while True:
            left = t0 + timeout - time.perf_counter()
            fwd = ForwardMsg.FromString(await asyncio.wait_for(self.ws.recv(), timeout=max(left, 0.01)))
            kind = fwd.WhichOneof("type")
            if kind == "navigation":
                self.pages = {p.url_pathname: p.page_script_hash for p in fwd.navigation.app_pages}
                self.page_hash = fwd.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query = fwd.page_info_changed.query_string
            elif kind == "auto_rerun":
                self.timers[fwd.auto_rerun.fragment_id] = fwd.auto_rerun.interval
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                error = self._element(fwd.delta.new_element, fwd.delta.fragment_id, seen) or error
            elif kind == "script_finished" and fwd.script_finished != EARLY:
                if fwd.script_finished == COMPILE_ERROR:
                    error = "compile error"
                if error:
                    raise RuntimeError(error)
                return time.perf_counter() - t0

    def _element(self, el, fragment: str, seen: set) -> str | None:
        kind = el.WhichOneof("type")
        if kind == "exception":
            return f"exception: {el.exception.type}: {el.exception.message[:120]}"
        if fragment not in seen:  # this fragment is being redrawn: forget its old widgets
            seen.add(fragment)
            for wid in [w for w, (_, f) in self.widgets.items() if f == fragment]:
                del self.widgets[wid]
        if wid := getattr(getattr(el, kind), "id", "") if kind else "":
            self.ids[wid.rsplit("-", 1)[-1]] = wid
        if kind in ("markdown", "alert"):
            self.texts.append(getattr(el, kind).body)
        elif kind == "button":
            self.buttons[el.button.label] = (el, fragment)
        if kind == "bidi_component" and el.bidi_component.component_name.endswith(PAINT_REPORT):
            token = json.loads(el.bidi_component.json or "{}").get("token")
            self.paint = (el.bidi_component.id, fragment, token)
        state = state_of(el) if kind else None
        if state is not None and state.id:
            self.widgets[state.id] = (el, fragment)
            p = getattr(el, kind)
            if state.id not in self.values or getattr(p, "set_value", False):
                self.values[state.id] = state
        return None

    async def paint_report(self) -> None:
        """Trigger the paint report the last run sent, as the browser does once it has painted."""
        for _ in range(3):  # a report's own rerun sends no new report; never loop for ever
            if not self.paint:
                return
            cid, fragment, token = self.paint
            trigger = WidgetState(id=f"$$STREAMLIT_INTERNAL_KEY_{cid}__events",
                                  json_trigger_value=json.dumps([{"event": "painted", "value": token}]))
            cs = ClientState(query_string=self.query, page_script_hash=self.page_hash, fragment_id=fragment)
            cs.widget_states.widgets.extend([*self.states(), trigger])
            self.rec.paints.append(await self.run(cs))

    async def open(self, name: str, record: bool = True) -> None:
        """Load ``name`` as a browser does: a first visit by its URL, later ones by a sidebar click."""
        self.values.clear()  # a new page mounts its widgets afresh, with the values the server sends
        took = await self.run(ClientState(page_name=name, page_script_hash=self.pages.get(name, "")))
        if record:
            self.rec.opens.append((name or "home", took))
        await self.paint_report()

    async def edit(self, rng: random.Random) -> bool:
        """Change one number on the current page; False when the page has none."""
        choices = [(w, el, f) for w, (el, f) in self.widgets.items() if editable(el) and w in self.values]
        if not choices:
            return False
        wid, el, fragment = rng.choice(choices)
        changed = new_value(el, self.values[wid], rng)
        cs = ClientState(query_string=self.query, page_script_hash=self.page_hash, fragment_id=fragment)
        cs.widget_states.widgets.extend(self.states(changed))
        self.values[wid] = changed
        self.rec.edits.append(await self.run(cs))
        await self.paint_report()
        return True


async def student(url: str, seed: int, stop_at: float, rec: Record) -> None:
    rng = random.Random(seed)
    await asyncio.sleep(rng.uniform(0, 4))
    first = True
    while time.monotonic() < stop_at:
        try:
            async with Session(url, rec) as s:
                for name in (PAGES if first else [rng.choice(PAGES)]):
                    await s.open(name)
                    await asyncio.sleep(rng.uniform(0.2, 1.0))
                first = False
                while True:
                    await asyncio.sleep(rng.uniform(0, 4))
                    if time.monotonic() >= stop_at:
                        return
                    if rng.random() < 1 / 8 or not await s.edit(rng):
                        await s.open(rng.choice([p for p in PAGES if p != s.page]))
        except Exception as exc:  # noqa: BLE001 - every failure is counted, then the student reconnects
            rec.errors.append(f"{type(exc).__name__}: {exc}"[:160])
            await asyncio.sleep(1)


async def trainer(url: str, stop_at: float, rec: Record) -> None:
    """One student on the Train page who trains the course CNN (1 epoch, 500 images) again and again."""
    try:
        async with Session(url, Record()) as s:
            await s.open("", record=False)
            await s.open("train", record=False)
            while time.monotonic() < stop_at:
                epochs, size = WidgetState(id=s.ids["train_epochs"]), WidgetState(id=s.ids["train_size"])
                epochs.double_array_value.data.append(1)
                size.string_array_value.data.append("500")
                s.values.update({epochs.id: epochs, size.id: size})
                cs = ClientState(query_string=s.query, page_script_hash=s.page_hash)
                cs.widget_states.widgets.extend(s.states())
                cs.widget_states.widgets.add(id=s.ids["train_start"], trigger_value=True)
                rec.trainings.append(await s.run(cs, timeout=600))
    except Exception as exc:  # noqa: BLE001
        rec.errors.append(f"trainer: {type(exc).__name__}: {exc}"[:160])


class Meter:
    """The server process's CPU seconds and resident memory (sampled every 0.2 s: the peak)."""

    def __init__(self, pid: int):
        self.proc, self._stop = psutil.Process(pid), threading.Event()
        self.peak = self.rss()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, self.rss())

    def rss(self) -> int:
        return sum(p.memory_info().rss for p in (self.proc, *self.proc.children(recursive=True)))

    def cpu(self) -> float:
        return sum(sum(p.cpu_times()[:2]) for p in (self.proc, *self.proc.children(recursive=True)))

    def stop(self) -> None:
        self._stop.set()


def start_server(app: str, tmp: Path, compare: Path | None) -> tuple[subprocess.Popen, str]:
    """A fresh server for ``app`` ("cnnviz", "compared" or "minimal"); returns it and its URL."""
    if app == "minimal":
        proc, port = start_minimal_app(MINIMAL_CLASS_APP, tmp)
    else:
        port = free_port()
        log = tmp / f"{app}-{port}.log"
        proc = start_checkout(compare, port, log) if app == "compared" else start_app(port, log)
    wait_healthy(port, proc, timeout=120)
    return proc, f"http://127.0.0.1:{port}"


async def warm(url: str, pages: tuple[str, ...]) -> None:
    """One session opening every page once (caches, imports), outside the measurements."""
    async with Session(url, Record()) as s:
        for name in pages:
            await s.open(name, record=False)


async def class_run(url: str, n: int, seconds: float, train: bool, meter: Meter) -> tuple[Record, float]:
    rec = Record()
    stop_at = time.monotonic() + seconds
    coach = asyncio.create_task(trainer(url, stop_at, rec)) if train else None
    cpu0 = meter.cpu()
    await asyncio.gather(*(student(url, seed, stop_at, rec) for seed in range(n)))
    cpu = meter.cpu() - cpu0
    if coach:
        await coach
    return rec, cpu


def measure(app: str, n: int, args, tmp: Path, profile: str | None) -> dict:
    proc, url = start_server(app, tmp, args.compare)
    try:
        pages = PAGES + (("train",) if args.train and app != "minimal" else ())
        asyncio.run(warm(url, pages))
        meter = Meter(proc.pid)
        spy = None
        if profile:
            fmt = (["--format", "speedscope"] if profile.endswith(".json")
                   else ["--format", "raw"] if profile.endswith(".txt") else [])
            spy = subprocess.Popen(["py-spy", "record", "--pid", str(proc.pid), "--rate", "100", "--nonblocking",
                                    "--duration", str(int(args.seconds)), "-o", profile, *fmt],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rss0, client0 = meter.rss(), time.process_time()
        rec, cpu = asyncio.run(class_run(url, n, args.seconds, args.train and app != "minimal", meter))
        meter.stop()
        if spy and spy.wait(timeout=args.seconds + 60):
            print(f"  py-spy failed (exit {spy.returncode}); no profile written")
        return {"app": app, "n": n, "rec": rec, "cpu": cpu, "rss0": rss0, "peak": meter.peak,
                "client": time.process_time() - client0}
    finally:
        stop_app(proc)


def pct(xs: list[float]) -> str:
    if not xs:
        return "-"
    xs = sorted(xs)
    return f"{statistics.median(xs):.2f}/{xs[min(len(xs) - 1, int(0.95 * len(xs)))]:.2f}"


def report(rows: list[dict]) -> None:
    print(f"\n{'app':<10}{'class':>6}  {'page open p50/p95 s (n)':<25}{'edit p50/p95 s (n)':<22}{'errors':>6}"
          f"  {'RSS start/peak MB':<18}{'server CPU ms/action':>20}")
    for r in rows:
        rec = r["rec"]
        actions = len(rec.opens) + len(rec.edits)
        opens = f"{pct([t for _, t in rec.opens])} ({len(rec.opens)})"
        edits = f"{pct(rec.edits)} ({len(rec.edits)})"
        per = f"{1000 * r['cpu'] / actions:.0f}" if actions else "-"
        print(f"{r['app']:<10}{r['n']:>6}  {opens:<25}{edits:<22}{len(rec.errors):>6}"
              f"  {r['rss0'] / 2**20:>6.0f} / {r['peak'] / 2**20:<8.0f}{per:>20}")
    print("\nper page, page open p50/p95 s (n); paint reports (cnnviz's follow-up runs); trainings; client CPU")
    for r in rows:
        rec = r["rec"]
        cells = [f"{p}: {pct([t for q, t in rec.opens if q == p])} ({sum(q == p for q, _ in rec.opens)})"
                 for p in ("home", *PAGES[1:])]
        extra = f"; trainings {len(rec.trainings)}, {pct(rec.trainings)} s" if rec.trainings else ""
        print(f"  {r['app']} x{r['n']}: " + " | ".join(cells) + f"; paint reports {pct(rec.paints)} s "
              f"({len(rec.paints)}){extra}; server CPU {r['cpu']:.1f} s, client CPU {r['client']:.1f} s")
        for e in sorted(set(rec.errors))[:5]:
            print(f"    error x{rec.errors.count(e)}: {e}")


def load() -> str:
    return f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15 min), {os.cpu_count()} cores"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", default="30,100", help="class sizes, comma-separated")
    ap.add_argument("--seconds", type=float, default=40.0, help="length of each class run")
    ap.add_argument("--compare", type=Path, help="another checkout of cnnviz, measured after this one")
    ap.add_argument("--only", choices=("cnnviz", "minimal"))
    ap.add_argument("--train", action="store_true", help="one more session trains the CNN (cnnviz rows only)")
    ap.add_argument("--profile", help="py-spy output (.svg flame graph, .json speedscope, .txt collapsed stacks) of the cnnviz run")
    args = ap.parse_args()
    sizes = [int(s) for s in args.students.split(",")]
    apps = [a for a in ("cnnviz", "compared", "minimal") if (a != "compared" or args.compare)
            and (not args.only or a == args.only or (a == "compared" and args.only == "cnnviz"))]
    os.environ.setdefault("CNNVIZ_DATA_DIR", str(ROOT.parent / "shared" / "data"))
    print(f"bench_class: {', '.join(apps)}, one after the other, each on a fresh server; "
          f"{args.seconds:.0f} s per run; train={args.train}\nstart: {load()}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            for app in apps:
                profile = args.profile if app == "cnnviz" else None
                if profile and len(sizes) > 1:
                    stem, dot, ext = args.profile.rpartition(".")
                    profile = f"{stem}-{n}.{ext}" if dot else f"{args.profile}-{n}"
                run_tmp = Path(tmp) / f"{app}-{n}"
                run_tmp.mkdir()
                rows.append(measure(app, n, args, run_tmp, profile))
                print(f"  done: {app} x{n}; {load()}", flush=True)
    report(rows)
    print(f"\nend: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
