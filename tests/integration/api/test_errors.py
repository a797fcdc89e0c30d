"""Every error is {"error": ...}: routing, bodies, hosts, CORS, unexpected failures."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from api.app import create_app
from tests.conftest import make_settings


def test_unknown_path_is_json_404(client: TestClient) -> None:
    response = client.get("/no/such/thing")
    assert (response.status_code, response.json()) == (404, {"error": "not found"})


def test_wrong_method_is_json_405(client: TestClient) -> None:
    response = client.get("/api/auth/login/")
    assert (response.status_code, response.json()) == (405, {"error": "method not allowed"})


@pytest.mark.parametrize(
    ("content", "status"),
    [(b"{not json", 400), (b"[1, 2]", 400), (b'"text"', 400), (b"\xff\xfe", 400)],
)
def test_malformed_json_bodies(client: TestClient, content: bytes, status: int) -> None:
    response = client.post(
        "/api/auth/login/", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == status
    assert set(response.json()) == {"error"}


@pytest.mark.parametrize("path", ["/api/auth/register/", "/api/auth/login/"])
def test_deeply_nested_json_is_400_not_500(client: TestClient, path: str) -> None:
    # Under the body limit, far past Python's recursion limit, and just past the cap.
    for body in (b"[" * 30_000 + b"]" * 30_000, b'{"a":' * 33 + b"1" + b"}" * 33):
        response = client.post(path, content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400, response.text
        assert response.json() == {"error": "JSON body nested deeper than 32 levels"}


def test_every_response_says_nosniff(client: TestClient) -> None:
    for response in (
        client.get("/healthz"),
        client.get("/openapi.json"),
        client.get("/no/such/thing"),
        client.post("/api/auth/login/", content=b"{", headers={"content-type": "application/json"}),
        client.get("/healthz", headers={f"x-h{i}": "1" for i in range(200)}),
    ):
        assert response.headers["x-content-type-options"] == "nosniff", response.url


def test_wrong_media_type_is_415(client: TestClient) -> None:
    response = client.post(
        "/api/auth/login/",
        content=b"email=a",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415


def test_oversized_body_is_413(client: TestClient) -> None:
    big = b'{"email": "' + b"a" * 70_000 + b'"}'
    response = client.post(
        "/api/auth/login/", content=big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "error" in response.json()


def test_unknown_fields_are_422(client: TestClient) -> None:
    response = client.post(
        "/api/auth/login/", json={"email": "a@b.co", "password": "x", "admin": True}
    )
    assert response.status_code == 422
    assert "admin" in response.json()["fields"]


def test_foreign_host_is_rejected(client: TestClient) -> None:
    response = client.get("/healthz", headers={"host": "evil.example.com"})
    assert (response.status_code, response.json()) == (400, {"error": "invalid host header"})


def test_unexpected_error_is_logged_500_with_request_id(
    tmp_path: Path, database_url: str, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(_: Request) -> Response:
        raise RuntimeError("kaboom")

    app = create_app(
        make_settings(tmp_path, database_url),
        engine=engine,
        extra_routes=[Route("/boom", boom, include_in_schema=False)],
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        response = test_client.get("/boom", headers={"X-Request-ID": "req-123"})
    assert response.status_code == 500
    assert response.json() == {"error": "internal server error (request id req-123)"}
    assert "kaboom" not in response.text
    assert any("req-123" in record.getMessage() for record in caplog.records)


def test_cors_preflight_allows_only_configured_origins(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    settings = make_settings(tmp_path, database_url, cors_origins=["https://app.example.com"])
    with TestClient(create_app(settings, engine=engine)) as test_client:

        def preflight(origin: str) -> dict[str, str]:
            return dict(
                test_client.options(
                    "/api/auth/login/",
                    headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
                ).headers
            )

        assert preflight("https://app.example.com")["access-control-allow-origin"] == (
            "https://app.example.com"
        )
        assert "access-control-allow-origin" not in preflight("https://evil.example.com")


def test_request_id_is_echoed(client: TestClient) -> None:
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-1"}).headers["x-request-id"] == "abc-1"
    )
    assert len(client.get("/healthz").headers["x-request-id"]) == 32


def test_the_app_counts_the_headers_a_client_sent_where_no_parser_did(
    client: TestClient,
) -> None:
    """Served by another server than ours (the test client here, Serve's proxy in a
    cluster), the app's own check refuses a crowded request, counting only what the
    client sent: the test client adds five headers of its own."""
    ok = client.get("/healthz", headers={f"x-h{i}": "1" for i in range(95)})
    assert ok.status_code == 200
    crowded = client.get("/healthz", headers={f"x-h{i}": "1" for i in range(96)})
    assert crowded.status_code == 431
    assert crowded.json() == {"error": "more than 100 request headers"}
