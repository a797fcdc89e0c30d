"""An upload from the coach page, in real Chromium against the real app and pose engine
(in process): the bytes' progress, then the analysis' progress, then the result with the
manifest's count; a refused file shows the server's own words."""

from __future__ import annotations

import re

import httpx2 as httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy.engine import Engine

from tests.conftest import VIDEOS_DIR, bearer
from tests.e2e.browser import PHONE, figures, open_page
from tests.e2e.conftest import SQUAT_CLIP, needs_squat_clip
from tests.e2e.inproc import PASSWORD, PageServer, new_name, register_on_page
from tests.e2e.server import LiveServer, manifest_entry

pytestmark = [pytest.mark.e2e, pytest.mark.video]

NOT_A_VIDEO = b"these bytes are no video at all\n" * 64


@pytest.fixture(scope="module")
def server(e2e_server: LiveServer, migrated_engine: Engine) -> PageServer:
    """The package's real `posecoach serve`, on the tests' database."""
    return PageServer(e2e_server.url, migrated_engine)


@needs_squat_clip
def test_an_upload_from_the_page_is_analysed_to_the_manifests_count(
    server: PageServer, chromium_path: str
) -> None:
    expected = int(str(manifest_entry(VIDEOS_DIR, SQUAT_CLIP.name)["reps"]))
    with open_page(chromium_path, server.url, viewport=PHONE) as (page, problems):
        page.goto(f"{server.url}/")
        name = new_name()
        register_on_page(page, name)

        # A file the server refuses: the page shows the server's own words.
        page.locator("#upload-file").set_input_files(
            {"name": "notes.mp4", "mimeType": "video/mp4", "buffer": NOT_A_VIDEO}
        )
        page.locator("#upload-exercise").select_option("squat")
        page.locator("#upload-start").click()
        expect(page.locator("#upload-state")).to_contain_text("Not analysed: ", timeout=60_000)
        login = httpx.post(
            f"{server.url}/api/auth/login/",
            json={"email": f"{name}@example.com", "password": PASSWORD},
            timeout=30,
        )
        refused = httpx.post(
            f"{server.url}/api/exercises/squat/upload/",
            files={"video": ("notes.mp4", NOT_A_VIDEO, "video/mp4")},
            headers=bearer(login.json()["access"]),
            timeout=60,
        )
        assert refused.status_code >= 400
        expect(page.locator("#upload-state")).to_have_text(
            f"Not analysed: {refused.json()['error']}"
        )

        # The clip itself (straight from the shared folder; never copied into the repo).
        page.locator("#upload-file").set_input_files(str(SQUAT_CLIP))
        page.locator("#upload-start").click()
        expect(page.locator("#upload-start")).to_be_disabled()
        expect(page.locator("#upload-state")).to_have_text(
            f"Done: {expected} reps counted.", timeout=300_000
        )
        sent = page.locator("#upload-sent")
        assert sent.evaluate("(bar) => bar.value === bar.max && bar.max > 0")
        expect(page.locator("#upload-sent-text")).to_have_text(re.compile(r"^Sent 100 % "))
        analysed = page.locator("#upload-analysed")
        assert analysed.evaluate("(bar) => bar.value === bar.max && bar.max > 1")
        expect(page.locator("#upload-frames")).to_have_text(
            re.compile(r"^(\d+) of \1 frames analysed$")
        )
        result = figures(page, "#upload-result")
        assert result["Reps"] == str(expected) and result["Exercise"] == "Squat"

        # The upload is a session like any other: in history and in detail.
        rows = page.locator("#history tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first.locator("td").nth(2)).to_have_text(str(expected))
        page.locator("#upload-detail").click()
        expect(page.locator("#detail-title")).to_be_focused()
        expect(page.locator("#detail-body .reps-table tbody tr")).to_have_count(expected)
        assert not problems.errors, problems.errors
