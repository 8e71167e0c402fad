"""Real services for tests and benchmarks: a private redis-server (Debian's), started and stopped here.

Never a fake: the classroom store's behavioural tests run against the real server, on a unix
socket in a temporary folder, without persistence (``--save '' --appendonly no``), so a
restart empties it exactly as a production Redis without persistence would.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis


def redis_server_path() -> str | None:
    """Debian's redis-server, or None when it is not installed (scripts/test.sh installs it)."""
    return shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/sbin/redis-server") if Path(p).exists()), None)


class RedisServer:
    """One private redis-server on a unix socket (or a TCP port on 127.0.0.1), with stop and restart."""

    def __init__(self, folder: Path, port: int = 0) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port
        self.socket = self.folder / "redis.sock"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The URL cnnviz takes in CNNVIZ_REDIS_URL."""
        return f"redis://127.0.0.1:{self.port}/0" if self.port else f"unix://{self.socket}"

    def start(self, timeout: float = 10.0) -> RedisServer:
        """Start it and wait until it answers PING."""
        cmd = [redis_server_path() or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
               "--unixsocket", str(self.socket), "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
               "--dir", str(self.folder), "--logfile", str(self.folder / "redis.log")]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        client = redis.Redis.from_url(self.url, socket_timeout=0.5, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited: {(self.folder / 'redis.log').read_text()[-2000:]}")
            try:
                if client.ping():
                    return self
            except (redis.exceptions.ConnectionError, OSError):
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer PING within {timeout} s")

    def stop(self) -> None:
        """Kill it (as a crash would: nothing is saved)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def restart(self) -> None:
        """Kill it and start an empty one at the same address."""
        self.stop()
        self.start()
