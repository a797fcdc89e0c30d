"""Progress and a session in detail on the coach page, in real Chromium against the real
app and pose engine (in process): two sessions streamed from a shared clip through the
fake camera show in the progress charts (their text alternative, and pixels drawn), and
each session's detail has the manifest's reps, each with its tempo. Screenshots of both
views on a desktop and a phone-sized screen are kept in tests/e2e/artifacts."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.engine import Engine

from tests.conftest import VIDEOS_DIR
from tests.e2e.browser import BLACK, DESKTOP, PHONE, camera_brightness, figures, open_page
from tests.e2e.conftest import SQUAT_CLIP, needs_squat_clip
from tests.e2e.inproc import (
    PageServer,
    bar_pixels,
    canvas_ink,
    new_name,
    no_sideways_scroll,
    register_on_page,
)
from tests.e2e.server import LiveServer, manifest_entry

pytestmark = [pytest.mark.e2e, pytest.mark.video]

#: "down 1.2 s, pause 0.4 s, up 0.9 s" (a pause may be too short to see: "–").
TEMPO = re.compile(r"down \d+\.\d s, pause (\d+\.\d s|–), up \d+\.\d s")


@pytest.fixture(scope="module")
def server(e2e_server: LiveServer, migrated_engine: Engine) -> PageServer:
    """The package's real `posecoach serve`, on the tests' database."""
    return PageServer(e2e_server.url, migrated_engine)


def _stream_one_session(page: Page, expected: int) -> None:
    """Start, let the clip play once (reps counted, then its black tail), stop."""
    page.locator("#start").click()
    expect(page.locator("#connection")).to_have_text("Live.", timeout=60_000)
    expect(page.locator("#counter")).to_have_text("1", timeout=120_000)
    deadline = time.monotonic() + 120
    while camera_brightness(page) > BLACK:  # the fake camera loops: stop at the tail
        assert time.monotonic() < deadline, "the clip never reached its black tail"
        time.sleep(0.25)
    page.locator("#stop").click()
    expect(page.locator("#summary")).to_be_visible(timeout=60_000)
    assert figures(page, "#summary-list")["Reps"] == str(expected)
    assert figures(page, "#summary-list")["Saved"] == "yes"
    # The live summary shows each rep with its tempo and its form in words.
    reps = page.locator("#summary-detail .reps-table tbody tr")
    expect(reps).to_have_count(expected)
    for i in range(expected):
        expect(reps.nth(i).locator("td").nth(4)).to_have_text(TEMPO)


def _screens(page: Page, selector: str, artifacts: Path, name: str) -> None:
    """Screenshots of ``selector`` on a desktop and a phone-sized screen."""
    for size, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page.set_viewport_size(size)  # type: ignore[arg-type]
        page.locator(selector).scroll_into_view_if_needed()
        shot = artifacts / f"page-{name}-{label}.png"
        page.locator(selector).screenshot(path=str(shot))
        print(f"{name} ({label}): {shot}")
        assert no_sideways_scroll(page), f"{name} scrolls sideways on a {label}"
    page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]


@needs_squat_clip
def test_two_streamed_sessions_show_in_progress_and_in_detail(
    server: PageServer, camera_clip: Path, chromium_path: str, artifacts: Path
) -> None:
    expected = int(str(manifest_entry(VIDEOS_DIR, SQUAT_CLIP.name)["reps"]))
    camera = f"--use-file-for-fake-video-capture={camera_clip}"
    with open_page(chromium_path, server.url, [camera]) as (page, problems):
        page.goto(f"{server.url}/")
        register_on_page(page, new_name())
        page.locator("#fps").fill("10")
        for _ in range(2):
            _stream_one_session(page, expected)
        expect(page.locator("#history tbody tr")).to_have_count(2)

        # Progress: today has both sessions, in the charts' words and on their canvases.
        today = datetime.now(UTC).date()
        day = page.evaluate(
            """(iso) => new Date(`${iso}T00:00:00Z`).toLocaleDateString(undefined,
                {timeZone: "UTC", weekday: "short", month: "short", day: "numeric"})""",
            today.isoformat(),
        )
        rows = page.locator("#chart-reps table tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first.locator("td")).to_have_text([day, str(2 * expected), "2"])
        expect(page.locator("#chart-reps .chart-text")).to_have_text(
            f"{2 * expected} reps in the last 30 days."
        )
        expect(page.locator("#progress-summary")).to_contain_text("2 sessions on 1 day")
        expect(page.locator("#chart-minutes table tbody tr")).to_have_count(1)
        expect(page.locator("#chart-form table tbody tr td").nth(2)).to_have_text("2")
        expect(page.locator("#chart-streak .chart-text")).to_contain_text("Current streak 1 day")
        exercise = page.locator("#chart-exercises tbody tr td")
        expect(exercise).to_have_text(
            ["Squat", "2", str(2 * expected), re.compile(r"\d+\.\d"), re.compile(r"\d+ %")]
        )
        for chart in ("#chart-reps", "#chart-minutes"):
            assert bar_pixels(page, f"{chart} canvas") > 50, f"no bar drawn in {chart}"
        for chart in ("#chart-form", "#chart-exercises"):
            assert canvas_ink(page, f"{chart} canvas") > 500, f"nothing drawn in {chart}"
        _screens(page, "#progress", artifacts, "progress")

        # The newest session in detail, opened from history with the keyboard.
        show = page.locator("#history tbody tr").first.get_by_role("button")
        show.focus()
        page.keyboard.press("Enter")
        expect(page.locator("#detail-title")).to_be_focused()
        expect(page.locator("#detail-title")).to_contain_text("Squat")
        detail = page.locator("#detail-body")
        assert figures(page, "#detail-body > dl")["Reps"] == str(expected)
        reps = detail.locator(".reps-table tbody tr")
        expect(reps).to_have_count(expected)
        for i in range(expected):
            cells = reps.nth(i).locator("td")
            expect(cells.nth(0)).to_have_text(str(i + 1))
            expect(cells.nth(4)).to_have_text(TEMPO)
            expect(cells.nth(5)).to_have_text(re.compile(r"\d+°"))
            expect(cells.nth(6)).not_to_be_empty()  # "Good" or the fault in words
        expect(detail.locator("table", has_text="Sets and rest")).to_be_visible()
        assert canvas_ink(page, "#detail-body canvas.timeline") > 500, "no time line drawn"
        _screens(page, "#detail", artifacts, "session-detail")
        page.locator("#detail-close").focus()
        page.keyboard.press("Enter")
        expect(show).to_be_focused()  # back where the person was
        assert not problems.errors, problems.errors
