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


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive free TCP ports on 127.0.0.1."""
    import socket

    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            first = s.getsockname()[1]
        if first + count >= 65535:
            continue
        try:
            holders = []
            for port in range(first, first + count):
                sock = socket.socket()
                holders.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in holders:
                sock.close()
    raise RuntimeError(f"no {count} consecutive free ports found")


ROUTE_COOKIE = "cnnviz_route"
"""The cookie nginx routes a browser by (deploy/nginx.conf.template)."""

REPLICA_HEADER = "X-Cnnviz-Replica"
"""The header nginx adds to say which replica answered."""


class ClassroomDeployment:
    """``scripts/serve_classroom.sh --replicas N`` as a test or benchmark runs it: on 127.0.0.1, free ports, a
    temporary folder; :meth:`routes` finds a cookie value that reaches each replica."""

    def __init__(self, folder: Path, replicas: int, key: str, root: Path, extra_env: dict | None = None) -> None:
        self.folder, self.replicas, self.key, self.root = Path(folder), replicas, key, Path(root)
        self.port = free_ports(1)
        self.first_port = free_ports(replicas)
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """nginx, where students connect."""
        return f"http://127.0.0.1:{self.port}"

    def replica_url(self, i: int) -> str:
        """Replica ``i`` directly (behind nginx's back)."""
        return f"http://127.0.0.1:{self.first_port + i}"

    def start(self, timeout: float = 180.0) -> ClassroomDeployment:
        import os
        import urllib.request

        env = {**os.environ, "CNNVIZ_PRESENTER_KEY": self.key, **self.extra_env}
        env.pop("CNNVIZ_REDIS_URL", None)
        run_dir = self.folder / "run"
        self.log = self.folder / "serve_classroom.log"
        cmd = ["bash", str(self.root / "scripts" / "serve_classroom.sh"), "--replicas", str(self.replicas),
               "--port", str(self.port), "--first-port", str(self.first_port), "--listen", "127.0.0.1",
               "--run-dir", str(run_dir)]
        with open(self.log, "w") as log:  # the child keeps its own copy of the file
            self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self.run_dir = run_dir
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve_classroom.sh exited: {self.log.read_text()[-3000:]}")
            if "Ctrl+C stops everything" in self.log.read_text():
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            time.sleep(0.3)
        raise RuntimeError(f"serve_classroom.sh did not start within {timeout} s: {self.log.read_text()[-3000:]}")

    def replica_of(self, route: str | None, path: str = "/_stcore/health") -> tuple[int, str]:
        """Which replica nginx sends a request with this route cookie to (None: no cookie), and the route it set."""
        import urllib.request

        request = urllib.request.Request(self.url + path)
        if route is not None:
            request.add_header("Cookie", f"{ROUTE_COOKIE}={route}")
        with urllib.request.urlopen(request, timeout=5) as r:
            address = r.headers[REPLICA_HEADER]
            cookie = next(c for c in r.headers.get_all("Set-Cookie") if c.startswith(ROUTE_COOKIE + "="))
        port = int(address.rsplit(":", 1)[1])
        return port - self.first_port, cookie.split(";")[0].split("=", 1)[1]

    def routes(self) -> list[str]:
        """One route cookie value per replica (replica i is reached with routes()[i])."""
        found: dict[int, str] = {}
        for n in range(500):
            replica, _ = self.replica_of(f"route-{n}")
            found.setdefault(replica, f"route-{n}")
            if len(found) == self.replicas:
                return [found[i] for i in range(self.replicas)]
        raise RuntimeError(f"only replicas {sorted(found)} were reached")

    def stop(self) -> None:
        """Ctrl+C, as an operator stops it; then make sure nothing it started is left."""
        import os
        import signal

        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGINT)
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        except ProcessLookupError:
            pass
        self.proc = None
