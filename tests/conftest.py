"""Fixtures shared by every test level: settings, a migrated database, an app, a client.

The database is SQLite in a temporary folder unless POSECOACH_TEST_DATABASE_URL names
another (CI runs the whole suite a second time on PostgreSQL that way).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import redis
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from api.app import create_app
from api.settings import Settings
from api.streamer.http import access_token, base_url, fresh_credentials
from db import migrate, repo
from db.engine import make_engine
from inference.serve import loopback

# Before any test imports ray (Ray reads it once, at import): an embedded Ray that a test
# starts stays on loopback, as `posecoach serve`'s does.
loopback.prepare_environment(os.environ)

REPO_ROOT = Path(__file__).resolve().parents[1]
VIDEOS_DIR = REPO_ROOT.parent / "shared" / "data" / "videos"
#: A fixed, generated-looking key (placeholders and low-entropy keys are refused).
TEST_SECRET = "mtYtefD6EFi5L8SV_teQZp5LR3HbalhtsvttJSJ9MAlA1wNW"
TABLES = ("upload_chunks", "upload_analyses", "refresh_tokens", "exercise_sessions", "users")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The test database: PostgreSQL when configured, else a fresh SQLite file."""
    configured = os.environ.get("POSECOACH_TEST_DATABASE_URL")
    if configured:
        return configured
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    """One engine per run, migrated from scratch to head."""
    engine = make_engine(database_url)
    if migrate.current_revision(engine) is not None:
        migrate.downgrade(engine, "base")  # prove the downgrade path on every run
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    """The migrated engine with every table emptied before the test."""
    with migrated_engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        else:
            for table in TABLES:
                connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (fixed names)
    return migrated_engine


@pytest.fixture
def redis_url() -> str:
    """A real Redis for the shared-limit tests (POSECOACH_TEST_REDIS_URL, default database
    15 of the local server), emptied before the test."""
    url = os.environ.get("POSECOACH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        pytest.fail(f"these tests need Redis at {url} (POSECOACH_TEST_REDIS_URL): {exc!r}")
    finally:
        client.close()
    return url


@pytest.fixture
def private_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The process's temporary folder (``tempfile``), one of this test's own: what uploads
    and upload jobs leave there (they should not) is seen."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def make_settings(tmp_path: Path, database_url: str, **overrides: Any) -> Settings:
    """Settings for tests: a strong fixed secret, cheap argon2, a private data folder."""
    values: dict[str, Any] = {
        "secret_key": TEST_SECRET,
        "debug": False,
        "database_url": database_url,
        "data_dir": tmp_path / "data",
        "argon2_memory_kib": 64,
        "argon2_time_cost": 1,
        "allowed_hosts": ["testserver", "localhost", "127.0.0.1"],
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Default test settings."""
    return make_settings(tmp_path, database_url)


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """A TestClient over an app on the emptied, migrated database (lifespan run)."""
    with TestClient(create_app(settings, engine=engine)) as test_client:
        yield test_client


RegisterFn = Callable[..., dict[str, Any]]


def register_user(client: TestClient, **overrides: Any) -> dict[str, Any]:
    """Register a user through the API (a fresh name unless given); returns the 201 body."""
    name = overrides.pop("username", f"user{uuid.uuid4().hex[:8]}")
    body = {
        "username": name,
        "email": f"{name}@example.com",
        "password": "correct horse battery",
        "height": 175.0,
        "weight": 70.0,
        "fitness_goal": "endurance",
        **overrides,
    }
    response = client.post("/api/auth/register/", json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def register_over_http(base: str) -> str:
    """A fresh user's access token from a running server at ``base`` (``host:port``):
    the same helper `posecoach client --register` uses."""
    return access_token(base_url(base), fresh_credentials())


@pytest.fixture
def register(client: TestClient) -> RegisterFn:
    """Register a user through the API; returns the 201 body."""
    return lambda **overrides: register_user(client, **overrides)


def refused_with(client: TestClient, url: str) -> int:
    """The close code a WebSocket to ``url`` is refused with, whether before accept or
    right after it (the refusals a client should act on: 4429, 1013, 1012)."""
    with pytest.raises(WebSocketDisconnect) as exc, client.websocket_connect(url) as ws:
        ws.receive_json()
    return exc.value.code


def bearer(token: str) -> dict[str, str]:
    """An Authorization header."""
    return {"Authorization": f"Bearer {token}"}


def seed_session(engine: Engine, user_id: int, started_at: datetime, **fields: Any) -> int:
    """Store a session through db.repo.save_session, the same function the WebSocket uses."""
    record = repo.SessionRecord(
        session_key=uuid.uuid4().hex,
        exercise_type=fields.pop("exercise_type", "squat"),
        started_at=started_at.astimezone(UTC),
        duration_s=fields.pop("duration_s", 60),
        reps=fields.pop("reps", 10),
        good_reps=fields.pop("good_reps", 8),
        form_accuracy=fields.pop("form_accuracy", 80.0),
        calories=fields.pop("calories", 5.0),
        details=fields.pop("details", {}),
    )
    assert not fields, f"unknown fields {fields}"
    with Session(engine) as db:
        row = repo.save_session(db, user_id, record)
        assert row.id is not None
        return row.id


def write_video(
    path: Path, seconds: float, fps: float = 25.0, size: tuple[int, int] = (64, 48)
) -> Path:
    """A small MP4 of moving grey frames (nobody in it) for client tests."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
    try:
        for i in range(round(seconds * fps)):
            writer.write(np.full((size[1], size[0], 3), (i * 7) % 255, np.uint8))
    finally:
        writer.release()
    return path
