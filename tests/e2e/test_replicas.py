"""Two replicas, Redis and nginx, started by the README's command (scripts/serve_classroom.sh): a presenter on
one replica and followers on the other, answers from both counted; an upload and its media file through nginx
reach the replica that holds them, by the route cookie (without it, a request can land on the other one)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmarks.bench_class import Record
from benchmarks.bench_follow import poll, present
from benchmarks.bench_questions import (
    answer_buttons,
    ask,
    click,
    fragment_of,
    projector_count,
)
from benchmarks.bench_replicas import RoutedSession, sees_question
from tests.conftest import ROOT, require
from tests.e2e.conftest import assert_no_exception, run_async, wait_idle
from tests.services import ROUTE_COOKIE, ClassroomDeployment, redis_server_path

KEY = "replicas-test-key"
LEFT = "The instructor is presenting"
"""The panel of a student who does not follow (it offers to rejoin)."""


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """``serve_classroom.sh --replicas 2`` on 127.0.0.1 (its own Redis and nginx), stopped with Ctrl+C after."""
    require(redis_server_path() is not None, "redis-server is not installed (scripts/test.sh installs it)")
    require(shutil.which("nginx") is not None or Path("/usr/sbin/nginx").exists(),
            "nginx is not installed (scripts/test.sh installs it)")
    folder = tmp_path_factory.mktemp("replicas")
    deployed = ClassroomDeployment(folder, 2, KEY, ROOT)
    try:
        deployed.start()
    except RuntimeError as exc:
        deployed.stop()
        pytest.fail(str(exc))
    yield deployed
    deployed.stop()
    leftovers = subprocess.run(["pgrep", "-f", str(deployed.run_dir)], check=False, capture_output=True, text=True).stdout
    assert not leftovers.strip(), f"Ctrl+C left processes running: {leftovers}"


def test_several_replicas_are_refused_without_a_presenter_key(tmp_path):
    env = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": str(tmp_path)}
    done = subprocess.run(["bash", str(ROOT / "scripts" / "serve_classroom.sh"), "--replicas", "2"], check=False, env=env,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "set CNNVIZ_PRESENTER_KEY" in done.stderr


def test_the_route_cookie_pins_a_browser_to_one_replica(deployment):
    routes = deployment.routes()
    assert len(set(routes)) == 2
    for replica, route in enumerate(routes):
        for _ in range(5):
            assert deployment.replica_of(route) == (replica, route)  # the same replica, the cookie set again
    first_visit = [deployment.replica_of(None) for _ in range(30)]  # no cookie: nginx makes a route
    assert {replica for replica, _ in first_visit} == {0, 1}, "first visits are spread over both replicas"
    for replica, route in first_visit[:6]:
        assert deployment.replica_of(route)[0] == replica  # ...and the cookie it set keeps them there


def fetch(url: str, route: str | None) -> tuple[int, str | None]:
    request = urllib.request.Request(url)
    if route is not None:
        request.add_header("Cookie", f"{ROUTE_COOKIE}={route}")
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.headers.get("X-Cnnviz-Replica")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("X-Cnnviz-Replica")


def test_an_upload_and_its_media_reach_the_replica_that_holds_them(deployment, browser, tmp_path):
    routes = deployment.routes()
    picture = tmp_path / "stripes.png"
    values = np.zeros((37, 53), dtype=np.uint8)
    values[:, ::4] = 255
    Image.fromarray(values).save(picture)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        context.add_cookies([{"name": ROUTE_COOKIE, "value": routes[1], "url": deployment.url}])
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(deployment.url + "/pixels")
        wait_idle(page, timeout=90)
        box = page.locator(".st-key-pixels_picture input")
        box.click()
        box.fill("Upload an image")
        page.get_by_role("option", name="Upload an image…", exact=True).click()
        wait_idle(page)
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(picture))  # PUT through nginx
        wait_idle(page, timeout=90)
        assert_no_exception(page)
        assert page.get_by_text("37 × 53").count() > 0, "the uploaded picture's size is shown"
        sources = [page.get_by_test_id("stImage").locator("img").nth(i).get_attribute("src")
                   for i in range(page.get_by_test_id("stImage").locator("img").count())]
        media = [s for s in sources if s and "/media/" in s]
        assert media, sources
    finally:
        context.close()
    path = "/media/" + media[0].split("/media/", 1)[1]
    assert fetch(deployment.url + path, routes[1])[0] == 200  # through nginx with the browser's cookie
    assert fetch(deployment.replica_url(1) + path, None)[0] == 200  # it lives on replica 1...
    assert fetch(deployment.replica_url(0) + path, None)[0] == 404  # ...and nowhere else
    status, replica = fetch(deployment.url + path, routes[0])  # another route: the other replica, which lacks it
    assert status == 404 and replica.endswith(str(deployment.first_port))


async def follow_and_answer(url: str, routes: list[str]) -> dict:
    rec = Record()
    out: dict = {}
    async with (RoutedSession(url, rec, routes[0]) as teacher, RoutedSession(url, rec, routes[1]) as far,
                RoutedSession(url, rec, routes[1]) as far2, RoutedSession(url, rec, routes[0]) as near):
        await teacher.open("pooling", record=False)
        await present(teacher, KEY)
        for student in (far, far2, near):
            await student.open("", record=False)
        left = [False] * 3
        for _ in range(15):  # the followers' timed fragment finds the presentation and switches page
            await asyncio.sleep(1.0)
            for i, student in enumerate((far, far2, near)):
                await poll(student)
                left[i] |= any(LEFT in t for t in student.texts)  # the panel offers to rejoin: not following
            if all(s.page == "pooling" for s in (far, far2, near)):
                break
        out["pages"] = [s.page for s in (far, far2, near)]
        out["left"] = left
        # The presenter changes a number: the followers on the other replica take it.
        import random

        await teacher.edit(random.Random(1))
        out["teacher_query"] = teacher.query
        for _ in range(10):
            await asyncio.sleep(1.0)
            for student in (far, far2):
                await poll(student)
            if all(s.query == teacher.query for s in (far, far2)):
                break
        out["far_queries"] = [far.query, far2.query]
        # An edited pooling window may be flat (not askable): ask about the Convolution page's kernel instead.
        await teacher.open("convolution", record=False)
        await ask(teacher)
        for student in (far, far2, near):
            assert await sees_question(student, 20), student.texts
        for i, student in enumerate((far, far2, near)):
            buttons = answer_buttons(student)
            await click(student, buttons[i % len(buttons)], fragment_of(student, buttons[0]))
        out["count"] = await projector_count(teacher)
        await click(teacher, "classroom_stop", fragment_of(teacher, "classroom_stop"))  # the class is over
    out["errors"] = rec.errors
    return out


def test_followers_on_another_replica_follow_and_every_answer_is_counted(deployment):
    out = run_async(follow_and_answer(deployment.url, deployment.routes()))
    assert not out["errors"], out["errors"]
    assert out["pages"] == ["pooling"] * 3 and not any(out["left"]), out
    assert out["teacher_query"] and out["far_queries"] == [out["teacher_query"]] * 2, out
    assert out["count"] == 3  # two answers through replica 1, one through replica 0


def test_a_redis_that_stops_is_started_again_and_the_class_goes_on(deployment):
    import psutil

    script = psutil.Process(deployment.proc.pid)
    (redis_proc,) = [c for c in script.children(recursive=True) if c.name().startswith("redis-server")]
    redis_proc.kill()
    redis_proc.wait(10)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        again = [c for c in script.children(recursive=True) if c.name().startswith("redis-server")]
        if again:
            break
        time.sleep(0.2)
    assert again and again[0].pid != redis_proc.pid, "serve_classroom.sh did not start Redis again"
    assert deployment.proc.poll() is None, "the deployment stopped with its Redis"
    for route in deployment.routes():
        assert fetch(deployment.url + "/_stcore/health", route)[0] == 200
