"""The coach page at ``/`` and its static files under ``/static/`` (api/web, no build step)."""

from __future__ import annotations

import functools
import html
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from api.exercise_types import EXERCISE_TYPES

WEB_DIR = Path(__file__).resolve().parents[1] / "web"

#: Only our own origin: scripts, styles and the WebSocket ('self' covers ws:// and wss://
#: to the same host and port in CSP Level 3). No inline code, no framing, no plugins.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
    "Cache-Control": "no-cache",
}


def _label(exercise: str) -> str:
    return exercise.replace("_", " ").capitalize()


@functools.cache
def page_html() -> str:
    """index.html with the exercise choices the server accepts (read once)."""
    options = "".join(
        f'<option value="{html.escape(e)}">{html.escape(_label(e))}</option>'
        for e in EXERCISE_TYPES
    )
    text = (WEB_DIR / "index.html").read_text(encoding="utf-8")
    return text.replace("<!-- exercise options -->", options)


async def index(_: Request) -> HTMLResponse:
    """The coach page."""
    return HTMLResponse(page_html(), headers=PAGE_HEADERS)


def static_files() -> StaticFiles:
    """The page's scripts and styles."""
    return StaticFiles(directory=WEB_DIR)
