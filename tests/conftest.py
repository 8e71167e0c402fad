"""Shared fixtures: the reference data folder, and the rule for tests that need it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cnnviz.core.data import DATA_DIR_ENV, data_dir as _data_dir  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip with ``reason`` when ``condition`` is false; in CI (CI=true) fail instead."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this must not be skipped)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder named by CNNVIZ_DATA_DIR (skips when unset, fails in CI)."""
    folder = _data_dir()
    require(folder is not None, f"{DATA_DIR_ENV} is not set: it names the reference data folder")
    require(folder.is_dir(), f"{DATA_DIR_ENV}={folder} is not a folder")
    return folder


@pytest.fixture
def no_data_dir(monkeypatch):
    """Run a test as on a user's machine: CNNVIZ_DATA_DIR unset."""
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)


APP_PATH = str(ROOT / "app.py")


def open_in_apptest(page: str, *, timeout: float = 30):
    """An AppTest of the whole app (app.py's navigation) switched to ``page``, e.g. "pages/pixels.py"."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(APP_PATH, default_timeout=timeout)
    app.run()
    app.switch_page(page)
    app.run()
    return app


def button(app, label: str):
    """The AppTest button with this label."""
    return next(b for b in app.button if b.label == label)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A private, empty redis-server for the whole run (Debian's; fails in CI when it is missing)."""
    from tests.services import RedisServer, redis_server_path

    require(redis_server_path() is not None, "redis-server is not installed (apt-get install redis-server; "
                                             "scripts/test.sh does it)")
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(params=["memory", "redis"])
def make_store(request):
    """Makes classroom stores of one backend: the in-process one, or Redis (a fresh key prefix per test), so
    the same behavioural tests run against both."""
    if request.param == "memory":
        from cnnviz.core.classroom import MemoryClassroom

        yield MemoryClassroom
        return
    import secrets

    from cnnviz.core.classroom_redis import RedisClassroom

    server = request.getfixturevalue("redis_server")
    yield lambda: RedisClassroom.from_url(server.url, prefix=f"test-{secrets.token_hex(6)}:")
