"""Helpers of the page's browser tests, which run against the package's real
`posecoach serve` (tests/e2e/conftest.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx2 as httpx
from playwright.sync_api import Page, expect
from sqlalchemy.engine import Engine

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class PageServer:
    """The server at ``url``, and the engine of its database (to look at what it stored)."""

    url: str
    engine: Engine


def new_name() -> str:
    """A fresh username."""
    return f"g{uuid.uuid4().hex[:10]}"


def register_on_page(page: Page, name: str) -> None:
    """Create an account with the page's form; the page signs in."""
    form = page.locator("#register-form")
    form.locator("[name=username]").fill(name)
    form.locator("[name=email]").fill(f"{name}@example.com")
    form.locator("[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page.locator("#who")).to_have_text(f"Signed in as {name}")


def login_on_page(page: Page, name: str, password: str = PASSWORD) -> None:
    """Log in with the page's form."""
    form = page.locator("#login-form")
    form.locator("[name=email]").fill(f"{name}@example.com")
    form.locator("[name=password]").fill(password)
    form.locator("button[type=submit]").click()
    expect(page.locator("#who")).to_have_text(f"Signed in as {name}")


def register_over_api(base: str, name: str) -> dict[str, object]:
    """Register ``name`` with the API itself; the 201 body."""
    body = {
        "username": name,
        "email": f"{name}@example.com",
        "password": PASSWORD,
        "height": 170.0,
        "weight": 70.0,
        "fitness_goal": "endurance",
    }
    response = httpx.post(f"{base}/api/auth/register/", json=body, timeout=30)
    assert response.status_code == 201, response.text
    answer: dict[str, object] = response.json()
    return answer


def login_status(base: str, name: str, password: str = PASSWORD) -> int:
    """The status of a login over the API."""
    response = httpx.post(
        f"{base}/api/auth/login/",
        json={"email": f"{name}@example.com", "password": password},
        timeout=30,
    )
    return response.status_code


def canvas_ink(page: Page, selector: str) -> int:
    """How many pixels of the first canvas under ``selector`` are drawn on."""
    value = page.evaluate(
        """(selector) => {
            const canvas = document.querySelector(selector);
            if (!canvas || !canvas.width || !canvas.height) return 0;
            const data = canvas.getContext("2d")
                .getImageData(0, 0, canvas.width, canvas.height).data;
            let drawn = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i] > 0) drawn += 1;
            return drawn;
        }""",
        selector,
    )
    return int(value)


def bar_pixels(page: Page, selector: str) -> int:
    """Pixels of the first canvas under ``selector`` in the charts' blue (the bars, not the
    axes or grid)."""
    value = page.evaluate(
        """(selector) => {
            const canvas = document.querySelector(selector);
            if (!canvas || !canvas.width || !canvas.height) return 0;
            const data = canvas.getContext("2d")
                .getImageData(0, 0, canvas.width, canvas.height).data;
            let blue = 0;
            for (let i = 0; i < data.length; i += 4) {
                const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
                if (a > 100 && b > 150 && b - r > 100 && b - g > 40) blue += 1;
            }
            return blue;
        }""",
        selector,
    )
    return int(value)


def no_sideways_scroll(page: Page) -> bool:
    """The page is no wider than its viewport."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    viewport = page.viewport_size
    assert viewport is not None
    return int(width) <= viewport["width"]
