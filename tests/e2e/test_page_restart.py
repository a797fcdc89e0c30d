"""The coach page in real Chromium across a server restart: the app it streams to goes
away the way Serve stops an ingress replica (the session ends saved, close 1012), a
replacement comes up on the same address, and the page says so and goes on live."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy.engine import Engine

from api.app import create_app
from api.services import app_services
from tests.conftest import bearer, make_settings
from tests.e2e.browser import open_page
from tests.e2e.server import free_port_pair
from tests.integration.ws.conftest import FakePoseClient
from tests.replica import Replica

pytestmark = [pytest.mark.e2e]


def test_the_page_says_the_server_restarted_and_goes_on_live(
    tmp_path: Path, database_url: str, engine: Engine, chromium_path: str
) -> None:
    port = free_port_pair()
    base = f"http://127.0.0.1:{port}"

    def replica(name: str) -> Replica:
        settings = make_settings(tmp_path / name, database_url, ws_max_frames_per_s=1000.0)
        return Replica(create_app(settings, engine=engine, pose_client=FakePoseClient()), port)

    first = replica("a")
    second: Replica | None = None
    try:
        with open_page(chromium_path, base) as (page, problems):
            page.goto(f"{base}/")
            form = page.locator("#register-form")
            name = f"r{uuid.uuid4().hex[:10]}"
            form.locator("[name=username]").fill(name)
            form.locator("[name=email]").fill(f"{name}@example.com")
            form.locator("[name=password]").fill("correct horse battery")
            form.locator("button[type=submit]").click()
            expect(page.locator("#who")).to_have_text(f"Signed in as {name}")
            page.locator("#start").click()  # Chromium's fake camera
            expect(page.locator("#connection")).to_have_text("Live.", timeout=30_000)
            expect(page.locator("#frames")).to_contain_text("answered", timeout=30_000)

            going = threading.Thread(target=first.go_away)
            going.start()
            expect(page.locator("#notice")).to_contain_text(
                "The server is restarting; your session so far is saved (0 reps)"
            )
            going.join(30)
            second = replica("b")
            expect(page.locator("#connection")).to_have_text(
                "Reconnected: live again (a new set started).", timeout=30_000
            )
            # The new session analyses a frame (a session with none is not kept).
            sessions = app_services(second.app).sessions
            deadline = time.monotonic() + 30
            while not any(s.counters.processed for s in sessions.live()):
                assert time.monotonic() < deadline, "no frame analysed after the restart"
                time.sleep(0.05)
            page.locator("#stop").click()
            expect(page.locator("#summary")).to_be_visible(timeout=30_000)
            assert not problems.errors, problems.errors
        login = httpx.post(
            f"{base}/api/auth/login/",
            json={"email": f"{name}@example.com", "password": "correct horse battery"},
        )
        token = login.json()["access"]
        history = httpx.get(f"{base}/api/exercises/history/", headers=bearer(token)).json()
        assert len(history) == 2  # the session before the restart and the one after
    finally:
        if second is not None:
            second.server.should_exit = True
            second.thread.join(30)
        if first.thread.is_alive():
            first.go_away()
