"""The coach page in real Chromium against a real `posecoach serve`."""

from __future__ import annotations

import re
import time
import uuid

import httpx2 as httpx
import pytest
from playwright.sync_api import WebSocketRoute, expect
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin

from tests.conftest import VIDEOS_DIR
from tests.e2e.browser import BLACK, PHONE, camera_brightness, figures, open_page, skeleton_pixels
from tests.e2e.conftest import SQUAT_CLIP, needs_squat_clip
from tests.e2e.server import LiveServer, manifest_entry

pytestmark = [pytest.mark.ray, pytest.mark.e2e]


def _new_name() -> str:
    return f"p{uuid.uuid4().hex[:10]}"


@pytest.mark.video
@needs_squat_clip
def test_a_squat_session_keyboard_only_counts_the_manifests_reps(
    e2e_server: LiveServer, camera_clip, chromium_path: str, artifacts
) -> None:
    expected = manifest_entry(VIDEOS_DIR, SQUAT_CLIP.name)["reps"]
    camera = f"--use-file-for-fake-video-capture={camera_clip}"
    with open_page(chromium_path, e2e_server.url, [camera]) as (page, problems):
        page.goto(f"{e2e_server.url}/")
        # Keyboard only: the page focuses the first field, Tab walks the forms.
        expect(page.locator("#login-form [name=email]")).to_be_focused()
        for _ in range(3):  # password, Log in, then the registration's username
            page.keyboard.press("Tab")
        expect(page.locator("#register-form [name=username]")).to_be_focused()
        name = _new_name()
        for text in (name, f"{name}@example.com", "correct horse battery"):
            page.keyboard.type(text)
            page.keyboard.press("Tab")
        page.keyboard.press("Enter")  # submits from the height field
        expect(page.locator("#who")).to_have_text(f"Signed in as {name}")
        expect(page.locator("#exercise")).to_be_focused()
        expect(page.locator("#exercise")).to_have_value("squat")
        expect(page.locator("#fps")).to_have_value("15")
        expect(page.locator("#speak")).not_to_be_checked()  # spoken cues only on request
        for _ in range(3):  # frames per second, speak cues, Start
            page.keyboard.press("Tab")
        expect(page.locator("#start")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("#connection")).to_have_text("Live.", timeout=60_000)

        expect(page.locator("#counter")).to_have_text("1", timeout=60_000)
        shot = artifacts / "coach-live-session.png"
        page.screenshot(path=str(shot))
        print(f"live session screenshot: {shot}")
        assert skeleton_pixels(page) > 200, "no skeleton drawn over the live video"

        # The clip ends in black frames: stop once they show (the fake camera loops).
        deadline = time.monotonic() + 120
        while camera_brightness(page) > BLACK:
            assert time.monotonic() < deadline, "the clip never reached its black tail"
            time.sleep(0.25)
        expect(page.locator("#stop")).to_be_focused()
        page.keyboard.press("Enter")

        expect(page.locator("#summary")).to_be_visible(timeout=60_000)
        summary = figures(page, "#summary-list")
        assert summary["Exercise"] == "Squat"
        assert summary["Reps"] == str(expected), summary
        assert summary["Saved"] == "yes"
        assert re.fullmatch(r"\d+ s", summary["Duration"]), summary
        expect(page.locator("#summary-detail .reps-table tbody tr")).to_have_count(
            int(str(expected))
        )

        rows = page.locator("#history tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first.locator("td").nth(1)).to_have_text("Squat")
        expect(rows.first.locator("td").nth(2)).to_have_text(str(expected))
        expect(page.locator("#stats > div").first.locator("dd")).to_have_text("1")
        assert not problems.errors, problems.errors


def test_the_page_shows_the_servers_words_when_its_token_is_refused(
    e2e_server: LiveServer, chromium_path: str
) -> None:
    with open_page(chromium_path, e2e_server.url, viewport=PHONE) as (page, problems):
        page.goto(f"{e2e_server.url}/")
        form = page.locator("#register-form")
        name = _new_name()
        form.locator("[name=username]").fill(name)
        form.locator("[name=email]").fill(f"{name}@example.com")
        form.locator("[name=password]").fill("correct horse battery")
        # Signed in, the page loads history and stats, renewing its access token first
        # (it expires within the renewal margin): one renewal for both calls.
        with page.expect_response("**/api/auth/token/refresh/") as renewed:
            form.locator("button[type=submit]").click()
        expect(page.locator("#history-empty")).to_be_visible()
        # A phone-sized screen needs no sideways scrolling.
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]

        # Someone else spends the page's refresh token (a stolen copy): the page's copy is
        # now a spent one, and presenting it makes the server revoke the whole family.
        assert renewed.value.status == 200
        refresh = renewed.value.json()["refresh"]
        spent = httpx.post(f"{e2e_server.url}/api/auth/token/refresh/", json={"refresh": refresh})
        assert spent.status_code == 200, spent.text
        page.locator("#start").click()  # the page must renew its short-lived access token

        expect(page.locator("#login-form")).to_be_visible()
        again = httpx.post(f"{e2e_server.url}/api/auth/token/refresh/", json={"refresh": refresh})
        assert again.status_code == 401
        words = again.json()["error"]
        expect(page.locator("#notice")).to_contain_text(words)
        assert not problems.errors, problems.errors


def test_a_lost_connection_reconnects_and_says_so(
    e2e_server: LiveServer, chromium_path: str
) -> None:
    # The network between page and server is the one thing replaced: Playwright relays
    # the page's socket to the real server, and cuts the first relay mid-session.
    relays: list[tuple[WebSocketRoute, WebSocketRoute]] = []

    def relay(route: WebSocketRoute) -> None:
        relays.append((route, route.connect_to_server()))

    with open_page(chromium_path, e2e_server.url) as (page, problems):
        page.route_web_socket(re.compile(r"/ws/exercise/"), relay)
        page.goto(f"{e2e_server.url}/")
        form = page.locator("#register-form")
        name = _new_name()
        form.locator("[name=username]").fill(name)
        form.locator("[name=email]").fill(f"{name}@example.com")
        form.locator("[name=password]").fill("correct horse battery")
        form.locator("button[type=submit]").click()
        page.locator("#start").click()  # Chromium's own fake camera: nobody in the picture
        expect(page.locator("#connection")).to_have_text("Live.", timeout=60_000)
        expect(page.locator("#frames")).to_contain_text("answered", timeout=30_000)

        page_side, server_side = relays[0]
        server_side.close(code=1001, reason="network dropped")  # the server saves that set
        page_side.close(code=1001, reason="network dropped")
        expect(page.locator("#notice")).to_contain_text("Connection lost; reconnecting")
        expect(page.locator("#connection")).to_have_text(
            "Reconnected: live again (a new set started).", timeout=30_000
        )
        assert len(relays) == 2
        expect(page.locator("#frames")).to_contain_text("answered", timeout=30_000)
        page.locator("#stop").click()
        expect(page.locator("#summary")).to_be_visible(timeout=60_000)
        assert figures(page, "#summary-list")["Reps"] == "0"
        assert not problems.errors, problems.errors


def test_the_socket_still_refuses_foreign_origins(e2e_server: LiveServer) -> None:
    name = _new_name()
    body = {
        "username": name,
        "email": f"{name}@example.com",
        "password": "correct horse battery",
        "height": 170.0,
        "weight": 70.0,
        "fitness_goal": "endurance",
    }
    token = httpx.post(f"{e2e_server.url}/api/auth/register/", json=body).json()["access"]
    url = e2e_server.url.replace("http://", "ws://") + f"/ws/exercise/squat/?token={token}"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, origin=Origin("http://elsewhere.example"))
    assert refused.value.response.status_code == 403
    with connect(url, origin=Origin(e2e_server.url)) as ws:
        ws.send('{"type": "start_exercise"}')
        assert '"exercise_started"' in str(ws.recv(timeout=30))
