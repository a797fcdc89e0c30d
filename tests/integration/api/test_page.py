"""The coach page and its static files: served by the app, locked to our own origin."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from api.app import http_routes
from api.exercise_types import EXERCISE_TYPES
from api.openapi import build_openapi
from api.routes.page import WEB_DIR
from inference.analyzers import EXERCISE_TYPES as ANALYZED
from inference.analyzers import create_analyzer

#: The charting library the page vendors (api/web/vendor/uplot-<version>/).
UPLOT_VERSION = "1.6.32"


def test_the_page_is_served_with_a_policy_that_allows_only_our_origin(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no inline scripts, no eval, no CDN
    assert policy["connect-src"] == "'self'"  # REST and the WebSocket to this host only
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_page_offers_exactly_the_exercises_the_server_accepts(client: TestClient) -> None:
    html = client.get("/").text
    assert re.findall(r'<option value="([a-z_]+)">', html)[-len(EXERCISE_TYPES) :] == list(
        EXERCISE_TYPES
    )
    assert "<!-- exercise options -->" not in html


def test_everything_the_page_loads_is_served_by_us(client: TestClient) -> None:
    html = client.get("/").text
    assert not re.findall(r"<script(?![^>]*\bsrc=)", html)  # no inline scripts
    assert " style=" not in html and not re.findall(r" on[a-z]+=", html)
    local = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert sorted(local) == [
        "/static/app.js",
        "/static/style.css",
        f"/static/vendor/uplot-{UPLOT_VERSION}/uPlot.iife.min.js",
        f"/static/vendor/uplot-{UPLOT_VERSION}/uPlot.min.css",
    ]
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', html)
    for path in local:
        assert client.get(path).status_code == 200
    for script in WEB_DIR.glob("*.js"):
        source = script.read_text()
        # Modules import each other by relative path: nothing from elsewhere.
        for target in re.findall(r'from "([^"]+)"', source):
            assert target.startswith("./"), (script.name, target)
            assert client.get(f"/static/{target[2:]}").status_code == 200
        assert "innerHTML" not in source  # server text is shown as text only
    assert client.get("/static/app.js").headers["content-type"] in (
        "text/javascript; charset=utf-8",
        "application/javascript",
    )


def test_a_missing_static_file_is_the_json_404(client: TestClient) -> None:
    response = client.get("/static/nothing-here.js")
    assert response.status_code == 404
    assert response.json() == {"error": "not found"}


def test_the_page_is_not_in_the_openapi_document() -> None:
    paths = build_openapi(http_routes())["paths"]
    assert "/" not in paths and not any(p.startswith("/static") for p in paths)


def test_the_vendored_chart_library_keeps_its_licence_and_version(client: TestClient) -> None:
    folder = WEB_DIR / "vendor" / f"uplot-{UPLOT_VERSION}"
    assert "MIT License" in (folder / "LICENSE").read_text()
    script = (folder / "uPlot.iife.min.js").read_text()
    assert script.startswith(f"/*! https://github.com/leeoniya/uPlot (v{UPLOT_VERSION}) */")
    assert f"uplot` {UPLOT_VERSION}" in (folder / "README.md").read_text()
    for name in ("LICENSE", "uPlot.iife.min.js", "uPlot.min.css"):
        assert client.get(f"/static/vendor/uplot-{UPLOT_VERSION}/{name}").status_code == 200
    # Served by us under the same policy: nothing about the page's CSP changed for it.
    assert "script-src 'self';" in client.get("/").headers["content-security-policy"]


def test_the_page_knows_which_exercises_lift_first() -> None:
    """detail.js orders a rep's phases (and picks its pause) by the analyzers' flag."""
    source = (WEB_DIR / "detail.js").read_text()
    listed = re.search(r"LIFTS_FIRST = new Set\(\[([^\]]*)\]\)", source)
    assert listed is not None
    in_page = set(re.findall(r'"([a-z_]+)"', listed.group(1)))
    lifting = {e for e in ANALYZED if getattr(create_analyzer(e), "lifts_toward_work", False)}
    assert in_page == lifting
