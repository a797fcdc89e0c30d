"""Settings validation: secrets, hosts, database selection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from api.settings import Settings


def make(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


@pytest.mark.parametrize("secret", [None, "short", "changeme"])
def test_refuses_missing_or_weak_secret_outside_debug(secret: str | None) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        make(secret_key=secret, debug=False)


def test_debug_generates_a_secret() -> None:
    first, second = make(debug=True), make(debug=True)
    assert len(first.secret) >= 32 and first.secret != second.secret


def test_hosts_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_HOSTS", "api.example.com, *.example.org")
    monkeypatch.setenv("DEBUG", "true")
    assert make().allowed_hosts == ["api.example.com", "*.example.org"]


def test_sqlite_by_default_postgres_with_db_vars(tmp_path: Path) -> None:
    sqlite = make(debug=True, data_dir=tmp_path)
    assert sqlite.sqlalchemy_url().render_as_string() == (
        f"sqlite:///{tmp_path / 'posecoach.sqlite3'}"
    )
    pg = make(debug=True, db_name="fit", db_user="u", db_password="p w", db_host="db", db_port=5433)
    url = pg.sqlalchemy_url()
    assert (url.drivername, url.username, url.password, url.host, url.port, url.database) == (
        "postgresql+psycopg2",
        "u",
        "p w",
        "db",
        5433,
        "fit",
    )
