"""A unilateral session in detail on the coach page (real Chromium, the real app in
process): left and right lanes, the tempo in the order a curl runs (up first), sets with
their rest, the fatigue flag and each fault in words; and every control of the signed-in
page has a name a screen reader can say, on a phone-sized screen without sideways scroll."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy.engine import Engine

from inference.analyzers import RepDetail, SessionSummary, SetSummary, fault_messages
from tests.conftest import seed_session
from tests.e2e.browser import PHONE, figures, open_page
from tests.e2e.inproc import (
    PageServer,
    canvas_ink,
    login_on_page,
    new_name,
    no_sideways_scroll,
    register_over_api,
)
from tests.e2e.server import LiveServer

pytestmark = [pytest.mark.e2e]

FATIGUE_CUE = "Your reps are slowing down: finish with good form, then rest"


@pytest.fixture(scope="module")
def server(e2e_server: LiveServer, migrated_engine: Engine) -> PageServer:
    """The package's real `posecoach serve`, on the tests' database."""
    return PageServer(e2e_server.url, migrated_engine)


def _curl_summary() -> SessionSummary:
    """Two sets of alternating curls: six reps slowing down (fatigue), 30 s rest, two more;
    the fourth rep swings the elbow."""
    reps = []
    t = 1.0
    for i in range(1, 9):
        set_index = 1 if i <= 6 else 2
        if i == 7:
            t += 30.0
        up = 0.8 + (0.1 * i if set_index == 1 else 0)
        reps.append(
            RepDetail(
                index=i,
                start_s=t,
                end_s=t + up + 0.3 + 1.0,
                duration_s=up + 1.3,
                eccentric_s=1.0,
                bottom_pause_s=0.5 if i > 1 else None,
                concentric_s=up,
                top_pause_s=0.3,
                range_deg=120.0 + i,
                range_share=1.0,
                score=70.0 if i == 4 else 100.0,
                faults=("elbow_swing",) if i == 4 else (),
                side="left" if i % 2 else "right",
                set_index=set_index,
            )
        )
        t = reps[-1].end_s + 0.5
    first, second = reps[:6], reps[6:]
    sets = (
        SetSummary(1, 6, first[0].start_s, first[-1].end_s, 12.0, 30.0, 3, 3, 0.4, True),
        SetSummary(2, 2, second[0].start_s, second[-1].end_s, 4.0, None, 1, 1, None, False),
    )
    sets = (replace(sets[0], cue=FATIGUE_CUE), sets[1])
    return SessionSummary(
        exercise="bicep_curl",
        reps=8,
        good_reps=7,
        form_accuracy=96.3,
        duration_s=t,
        active_s=t,
        calories=2.0,
        met=3.5,
        body_weight_kg=70.0,
        rep_details=tuple(reps),
        fault_counts={"elbow_swing": 1},
        reps_left=4,
        reps_right=4,
        sets=sets,
    )


def test_a_unilateral_session_in_detail_and_every_control_named(
    server: PageServer, chromium_path: str, artifacts: Path
) -> None:
    name = new_name()
    user = register_over_api(server.url, name)["user"]
    assert isinstance(user, dict)
    summary = _curl_summary()
    seed_session(
        server.engine, int(user["id"]), datetime.now(UTC), exercise_type="bicep_curl",
        reps=8, good_reps=7, form_accuracy=96.3, details=summary.to_dict(),
    )  # fmt: skip
    with open_page(chromium_path, server.url, viewport=PHONE) as (page, problems):
        page.goto(f"{server.url}/")
        login_on_page(page, name)
        # Every control has an accessible name (a label, its text or aria-label).
        unnamed = page.evaluate(
            """() => [...document.querySelectorAll("input, select, button, progress")]
                .filter((c) => !(c.labels && c.labels.length) && !c.getAttribute("aria-label")
                               && !c.textContent.trim())
                .map((c) => c.id || c.name || c.outerHTML)"""
        )
        assert unnamed == []

        page.locator("#history tbody tr").first.get_by_role("button").click()
        expect(page.locator("#detail-title")).to_be_focused()
        shown = figures(page, "#detail-body > dl")
        assert (shown["Reps"], shown["Left"], shown["Right"], shown["Sets"]) == ("8", "4", "4", "2")
        assert shown["Fatigue"] == "set 1 (+40 % slower)"
        rows = page.locator("#detail-body .reps-table tbody tr")
        expect(rows).to_have_count(8)
        expect(rows.nth(0).locator("td")).to_have_text(
            ["1", "1", "left", "1.0 s", "up 0.9 s, pause 0.3 s, down 1.0 s", "121°", "Good"]
        )
        expect(rows.nth(3).locator("td").nth(2)).to_have_text("right")
        expect(rows.nth(3).locator("td").nth(6)).to_have_text(
            fault_messages("bicep_curl")["elbow_swing"]
        )
        expect(rows.nth(6).locator("td").nth(1)).to_have_text("2")
        sets = page.locator("#detail-body table", has_text="Sets and rest").locator("tbody tr")
        expect(sets.nth(0).locator("td")).to_have_text(["1", "6", "30.0 s", FATIGUE_CUE])
        expect(sets.nth(1).locator("td")).to_have_text(["2", "2", "–", "no"])
        assert canvas_ink(page, "#detail-body canvas.timeline") > 500
        assert no_sideways_scroll(page)
        shot = artifacts / "page-session-detail-unilateral-phone.png"
        page.locator("#detail").screenshot(path=str(shot))
        print(f"unilateral session detail (phone): {shot}")
        assert not problems.errors, problems.errors
