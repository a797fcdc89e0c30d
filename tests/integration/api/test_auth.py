"""Register, login, refresh and token handling through the HTTP API."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from starlette.testclient import TestClient

from api.auth.passwords import PasswordHasher
from api.services import app_services
from tests.conftest import TEST_SECRET, RegisterFn, bearer


def test_register_returns_user_and_tokens(client: TestClient) -> None:
    response = client.post(
        "/api/auth/register/",
        json={
            "username": "ana",
            "email": "Ana@Example.com",
            "password": "s3cret-password",
            "height": 165.5,
            "weight": 58.2,
            "fitness_goal": "flexibility",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"user", "refresh", "access"}
    assert body["user"] == {
        "id": body["user"]["id"],
        "username": "ana",
        "email": "ana@example.com",
        "height": 165.5,
        "weight": 58.2,
        "fitness_goal": "flexibility",
        "daily_streak": 0,
    }


@pytest.mark.parametrize("field", ["email", "username"])
def test_duplicate_email_or_username_conflicts(
    client: TestClient, register: RegisterFn, field: str
) -> None:
    first = register(username="dupe")
    body = {
        "username": "other",
        "email": "other@example.com",
        "password": "long enough pw",
        "height": 170,
        "weight": 70,
        "fitness_goal": "endurance",
    }
    body[field] = first["user"][field].upper() if field == "email" else "dupe"
    response = client.post("/api/auth/register/", json=body)
    assert response.status_code == 409
    assert response.json()["fields"] == {field: "already registered"}


def test_invalid_fitness_goal_is_422_with_fields(client: TestClient) -> None:
    response = client.post(
        "/api/auth/register/",
        json={
            "username": "zed",
            "email": "zed@example.com",
            "password": "long enough pw",
            "height": 170,
            "weight": 70,
            "fitness_goal": "get_huge",
        },
    )
    assert response.status_code == 422
    assert set(response.json()) == {"error", "fields"}
    assert "fitness_goal" in response.json()["fields"]


def test_login_by_email(client: TestClient, register: RegisterFn) -> None:
    user = register(username="lena")
    response = client.post(
        "/api/auth/login/", json={"email": "LENA@example.com", "password": "correct horse battery"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["user"] == {
        "id": user["user"]["id"],
        "username": "lena",
        "email": "lena@example.com",
    }
    assert client.get("/api/auth/stats/", headers=bearer(body["access"])).status_code == 200


def test_token_responses_are_never_cached(client: TestClient) -> None:
    registered = client.post(
        "/api/auth/register/",
        json={
            "username": "nocache",
            "email": "nocache@example.com",
            "password": "correct horse battery",
            "height": 170,
            "weight": 60,
            "fitness_goal": "endurance",
        },
    )
    login = client.post(
        "/api/auth/login/",
        json={"email": "nocache@example.com", "password": "correct horse battery"},
    )
    refreshed = client.post("/api/auth/token/refresh/", json={"refresh": login.json()["refresh"]})
    for response in (registered, login, refreshed):
        assert response.is_success, response.text
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["pragma"] == "no-cache"


def test_wrong_password_and_unknown_email_take_the_same_path(
    client: TestClient, register: RegisterFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(username="tim")
    calls: list[bool] = []
    original = PasswordHasher.verify

    def spy(self: PasswordHasher, password: str, password_hash: str | None) -> bool:
        result = original(self, password, password_hash)
        calls.append(password_hash is None)
        return result

    monkeypatch.setattr(PasswordHasher, "verify", spy)
    wrong = client.post("/api/auth/login/", json={"email": "tim@example.com", "password": "nope"})
    unknown = client.post(
        "/api/auth/login/", json={"email": "ghost@example.com", "password": "nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"error": "invalid email or password"}
    # one argon2 verification each: against the real hash, then against the dummy hash
    assert calls == [False, True]


def test_login_is_throttled_per_account(client: TestClient, register: RegisterFn) -> None:
    register(username="max")
    limit = app_services(client.app).context.settings.login_attempts_per_account  # type: ignore[arg-type]
    for _ in range(limit):
        bad = client.post("/api/auth/login/", json={"email": "max@example.com", "password": "x"})
        assert bad.status_code == 401
    blocked = client.post(
        "/api/auth/login/", json={"email": "max@example.com", "password": "correct horse battery"}
    )
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) >= 1
    assert "error" in blocked.json()


def test_refresh_rotates_and_reuse_revokes_the_family(
    client: TestClient, register: RegisterFn
) -> None:
    first = register()["refresh"]
    rotated = client.post("/api/auth/token/refresh/", json={"refresh": first})
    assert rotated.status_code == 200
    second = rotated.json()["refresh"]
    assert set(rotated.json()) == {"access", "refresh"} and second != first
    assert client.get("/api/auth/stats/", headers=bearer(rotated.json()["access"])).is_success

    reuse = client.post("/api/auth/token/refresh/", json={"refresh": first})
    assert reuse.status_code == 401
    # the thief's reuse revoked the whole family, including the legitimate newest token
    after = client.post("/api/auth/token/refresh/", json={"refresh": second})
    assert after.status_code == 401


def test_refresh_token_is_not_an_access_token(client: TestClient, register: RegisterFn) -> None:
    tokens = register()
    assert client.get("/api/auth/stats/", headers=bearer(tokens["refresh"])).status_code == 401
    as_refresh = client.post("/api/auth/token/refresh/", json={"refresh": tokens["access"]})
    assert as_refresh.status_code == 401


def _claims(user_id: int, **overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": str(user_id),
        "typ": "access",
        "jti": "j",
        "iat": now,
        "exp": now + 600,
        "iss": "posecoach",
        "aud": "posecoach",
    }
    claims.update(overrides)
    return claims


def test_forged_signature_is_rejected(client: TestClient, register: RegisterFn) -> None:
    user_id = register()["user"]["id"]
    forged = jwt.encode(
        _claims(user_id), "another-secret-" + "y" * 40, algorithm="HS256", headers={"typ": "at+jwt"}
    )
    response = client.get("/api/auth/stats/", headers=bearer(forged))
    assert response.status_code == 401
    assert response.json() == {"error": "invalid token"}


def test_alg_none_is_rejected(client: TestClient, register: RegisterFn) -> None:
    user_id = register()["user"]["id"]
    unsigned = jwt.encode(_claims(user_id), "", algorithm="none", headers={"typ": "at+jwt"})
    assert client.get("/api/auth/stats/", headers=bearer(unsigned)).status_code == 401


def test_expired_token_is_rejected(client: TestClient, register: RegisterFn) -> None:
    user_id = register()["user"]["id"]
    past = datetime.now(UTC) - timedelta(hours=1)
    expired = jwt.encode(
        _claims(user_id, iat=int(past.timestamp()), exp=int(past.timestamp()) + 60),
        TEST_SECRET,
        algorithm="HS256",
        headers={"typ": "at+jwt"},
    )
    response = client.get("/api/auth/stats/", headers=bearer(expired))
    assert response.status_code == 401
    assert response.json() == {"error": "token expired"}


def test_correctly_signed_token_works(client: TestClient, register: RegisterFn) -> None:
    # the control for the rejections above: the same construction with the real secret passes
    user_id = register()["user"]["id"]
    token = jwt.encode(_claims(user_id), TEST_SECRET, algorithm="HS256", headers={"typ": "at+jwt"})
    assert client.get("/api/auth/stats/", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer", "Basic abc", "Bearer not.a.jwt"])
def test_missing_or_malformed_authorization(client: TestClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/exercises/history/", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert set(response.json()) == {"error"}
