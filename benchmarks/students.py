"""Simulated students: light scripted Streamlit sessions over the app's websocket.

Each student is one websocket session (no browser) that asks the server to
rerun a page with a query string every ``interval`` seconds, the way a browser
does on a page visit, and waits for the run to finish. Thirty of them load the
server like a class exploring kernels, at a fraction of the cost of thirty browsers.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time

import streamlit  # noqa: F401  (initialises streamlit before its protobuf modules)
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg


async def _student(url: str, page: str, queries: list[str], interval: float, stop: threading.Event,
                   durations: list[float], seed: int) -> None:
    import websockets

    rng = random.Random(seed)
    ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
    async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=2**26) as ws:
        await asyncio.sleep(rng.uniform(0, interval))
        while not stop.is_set():
            msg = BackMsg()
            msg.rerun_script.query_string = rng.choice(queries)
            msg.rerun_script.page_name = page
            t0 = time.perf_counter()
            await ws.send(msg.SerializeToString())
            while True:
                raw = await asyncio.wait_for(ws.recv(), timeout=120)
                fwd = ForwardMsg()
                fwd.ParseFromString(raw)
                if fwd.WhichOneof("type") == "script_finished":
                    break
            durations.append(time.perf_counter() - t0)
            await asyncio.sleep(interval * rng.uniform(0.5, 1.5))


class Students:
    """Run ``n`` simulated students in a background thread until ``stop()``."""

    def __init__(self, url: str, n: int, *, page: str, queries: list[str], interval: float = 2.0):
        self.durations: list[float] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._args = (url, page, queries, interval)
        self._n = n
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def main():
            url, page, queries, interval = self._args
            tasks = [_student(url, page, queries, interval, self._stop, self.durations, seed)
                     for seed in range(self._n)]
            for result in await asyncio.gather(*tasks, return_exceptions=True):
                if isinstance(result, BaseException):
                    self.errors.append(repr(result))

        asyncio.run(main())

    def start(self) -> "Students":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=150)
