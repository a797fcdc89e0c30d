"""The account on the coach page, in real Chromium against the real app (in process):
a password change signs another browser out at its next refresh; the data downloads
(JSON and CSV) hold every session; deletion needs the password and an explicit
confirmation, then the account is gone and the page is back at sign-in."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.conftest import seed_session
from tests.e2e.browser import PHONE, open_page
from tests.e2e.inproc import (
    PASSWORD,
    PageServer,
    login_on_page,
    login_status,
    new_name,
    no_sideways_scroll,
    register_on_page,
    register_over_api,
)
from tests.e2e.server import LiveServer

pytestmark = [pytest.mark.e2e]

NEW_PASSWORD = "a brand new secret"
DETAILS = {"rep_details": [{"index": 1, "start_s": 1.0, "end_s": 3.0, "faults": []}]}


@pytest.fixture(scope="module")
def server(e2e_server: LiveServer, migrated_engine: Engine) -> PageServer:
    """The package's real `posecoach serve`, on the tests' database."""
    return PageServer(e2e_server.url, migrated_engine)


def test_a_password_change_signs_the_other_browser_out_at_its_next_refresh(
    server: PageServer, chromium_path: str
) -> None:
    with open_page(chromium_path, server.url) as (laptop, problems):
        laptop.goto(f"{server.url}/")
        name = new_name()
        register_on_page(laptop, name)
        # The same person on a second device: a browser context of its own.
        browser = laptop.context.browser
        assert browser is not None
        other_context = browser.new_context(viewport=PHONE)  # type: ignore[arg-type]
        phone = other_context.new_page()
        phone.goto(f"{server.url}/")
        login_on_page(phone, name)
        expect(phone.locator("#history-empty")).to_be_visible()

        form = laptop.locator("#password-form")
        form.locator("[name=old_password]").fill("not the password")
        form.locator("[name=new_password]").fill(NEW_PASSWORD)
        form.locator("[name=new_password_again]").fill(NEW_PASSWORD)
        form.locator("button[type=submit]").click()
        expect(laptop.locator("#account-status")).to_have_text(
            "The password was not changed: the password is not right"
        )
        form.locator("[name=old_password]").fill(PASSWORD)
        form.locator("[name=new_password]").fill(NEW_PASSWORD)
        form.locator("[name=new_password_again]").fill(NEW_PASSWORD)
        form.locator("button[type=submit]").click()
        expect(laptop.locator("#account-status")).to_contain_text("Password changed.")

        # The phone's next call renews its short-lived access token: refused, signed out.
        phone.locator("#reload").click()
        expect(phone.locator("#login-form")).to_be_visible()
        expect(phone.locator("#notice")).to_contain_text("Signed out:")
        expect(phone.locator("#coach")).to_be_hidden()
        # This browser goes on with the pair the change answered (it renews it too).
        laptop.locator("#reload").click()
        expect(laptop.locator("#history-empty")).to_be_visible()
        expect(laptop.locator("#progress-summary")).to_contain_text("0 sessions")
        expect(laptop.locator("#who")).to_have_text(f"Signed in as {name}")
        assert login_status(server.url, name) == 401
        assert login_status(server.url, name, NEW_PASSWORD) == 200
        other_context.close()
        assert not problems.errors, problems.errors


def _download(page: Page, button: str, folder: Path) -> Path:
    with page.expect_download() as download:
        page.locator(button).click()
    target = folder / download.value.suggested_filename
    download.value.save_as(target)
    return target


def _rows_of(engine: Engine, user_id: int) -> int:
    with engine.connect() as db:
        users = db.execute(text("SELECT COUNT(*) FROM users WHERE id = :u"), {"u": user_id})
        sessions = db.execute(
            text("SELECT COUNT(*) FROM exercise_sessions WHERE user_id = :u"), {"u": user_id}
        )
        return int(users.scalar_one()) + int(sessions.scalar_one())


def test_deleting_the_account_after_downloading_everything(
    server: PageServer, chromium_path: str, tmp_path: Path
) -> None:
    name = new_name()
    user = register_over_api(server.url, name)["user"]
    assert isinstance(user, dict)
    user_id = int(user["id"])
    now = datetime.now(UTC)
    seeded = [
        seed_session(server.engine, user_id, now - timedelta(days=d), details=DETAILS, reps=d + 4)
        for d in (3, 1, 0)
    ]
    with open_page(chromium_path, server.url, viewport=PHONE) as (page, problems):
        page.goto(f"{server.url}/")
        login_on_page(page, name)
        expect(page.locator("#history tbody tr")).to_have_count(3)

        exported = json.loads(_download(page, "#export-json", tmp_path).read_text())
        assert sorted(s["id"] for s in exported["sessions"]) == sorted(seeded)
        assert all(s["details"] == DETAILS for s in exported["sessions"])
        assert exported["user"]["username"] == name
        rows = list(
            csv.DictReader(io.StringIO(_download(page, "#export-csv", tmp_path).read_text()))
        )
        assert sorted(int(r["id"]) for r in rows) == sorted(seeded)
        expect(page.locator("#account-status")).to_contain_text("posecoach-sessions.csv")

        form = page.locator("#delete-form")
        form.locator("[name=password]").fill(PASSWORD)
        form.locator("button[type=submit]").click()  # not confirmed: nothing is sent
        expect(page.locator("#delete-confirm")).to_be_focused()
        assert login_status(server.url, name) == 200
        form.locator("[name=password]").fill("not the password")
        form.locator("#delete-confirm").check()
        form.locator("button[type=submit]").click()
        expect(page.locator("#account-status")).to_have_text(
            "The account was not deleted: the password is not right"
        )
        assert _rows_of(server.engine, user_id) == 4  # the user and three sessions

        # Keyboard only: the password, the confirmation, then the button.
        form.locator("[name=password]").fill(PASSWORD)
        form.locator("[name=password]").focus()
        page.keyboard.press("Tab")
        expect(page.locator("#delete-confirm")).to_be_focused()
        if not page.locator("#delete-confirm").is_checked():
            page.keyboard.press("Space")
        page.keyboard.press("Tab")
        expect(page.locator("#delete-account")).to_be_focused()
        page.keyboard.press("Enter")

        expect(page.locator("#login-form")).to_be_visible()
        expect(page.locator("#coach")).to_be_hidden()
        expect(page.locator("#notice")).to_have_text(
            "Your account and everything of it is deleted."
        )
        assert no_sideways_scroll(page)
        assert _rows_of(server.engine, user_id) == 0
        assert login_status(server.url, name) == 401
        assert not problems.errors, problems.errors
