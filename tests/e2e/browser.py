"""Chromium through Playwright: a page on the live server, with what went wrong in it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from playwright.sync_api import ConsoleMessage, Page, sync_playwright

#: Chromium as the machine notes run it headless as root, plus the fake camera.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1100, "height": 900}

#: Mean brightness (0-255) of the camera picture under which it counts as black.
BLACK = 12


@dataclass
class PageProblems:
    """Script errors and Content-Security-Policy violations seen by the page."""

    errors: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        """Keep Content-Security-Policy violations reported on the console."""
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            self.errors.append(f"CSP: {text}")


@contextlib.contextmanager
def open_page(
    chromium_path: str,
    base_url: str,
    extra_args: Sequence[str] = (),
    viewport: dict[str, int] = DESKTOP,
) -> Iterator[tuple[Page, PageProblems]]:
    """A fresh browser with the camera allowed for ``base_url``; closed at the end."""
    problems = PageProblems()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
            context.grant_permissions(["camera"], origin=base_url)
            page = context.new_page()
            page.on("console", problems.console)
            page.on("pageerror", lambda error: problems.errors.append(f"script: {error}"))
            page.set_default_timeout(30_000)
            yield page, problems
        finally:
            browser.close()


def camera_brightness(page: Page) -> float:
    """Mean brightness of the live camera picture (the <video>), 0-255."""
    value = page.evaluate(
        """() => {
            const video = document.getElementById("video");
            if (!video.videoWidth) return 255;
            const canvas = document.createElement("canvas");
            canvas.width = 32;
            canvas.height = 32;
            const ctx = canvas.getContext("2d");
            ctx.drawImage(video, 0, 0, 32, 32);
            const data = ctx.getImageData(0, 0, 32, 32).data;
            let sum = 0;
            for (let i = 0; i < data.length; i += 4) sum += data[i] + data[i + 1] + data[i + 2];
            return sum / (data.length / 4) / 3;
        }"""
    )
    return float(value)


def skeleton_pixels(page: Page) -> int:
    """How many pixels of the overlay canvas are drawn on."""
    value = page.evaluate(
        """() => {
            const canvas = document.getElementById("overlay");
            if (!canvas.width || !canvas.height) return 0;
            const ctx = canvas.getContext("2d");
            const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
            let drawn = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i] > 0) drawn += 1;
            return drawn;
        }"""
    )
    return int(value)


def figures(page: Page, selector: str) -> dict[str, str]:
    """A <dl> of figures as {label: value}."""
    pairs = page.locator(f"{selector} > div")
    return {
        pairs.nth(i).locator("dt").inner_text(): pairs.nth(i).locator("dd").inner_text()
        for i in range(pairs.count())
    }
