"""Migrations run on both databases, match the models, and gate serving."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel
from starlette.testclient import TestClient

import db.models  # noqa: F401  (registers the tables)
from api.app import create_app
from db import migrate
from db.engine import make_engine
from db.migrate import DatabaseNotMigratedError
from tests.conftest import make_settings


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok"}


def test_server_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    app = create_app(make_settings(tmp_path, url))
    with pytest.raises(DatabaseNotMigratedError, match="posecoach migrate"), TestClient(app):
        pass


def test_readyz_reports_an_old_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'late.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with TestClient(create_app(make_settings(tmp_path, url), engine=engine)) as test_client:
        migrate.downgrade(engine, "base")
        response = test_client.get("/readyz")
    assert response.status_code == 503
    assert "posecoach migrate" in response.json()["error"]
    engine.dispose()
