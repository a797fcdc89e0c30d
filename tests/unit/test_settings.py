"""Settings validation: secrets, hosts, database selection."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from api.settings import Settings, secret_key_problem
from tests.conftest import REPO_ROOT


def make(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


@pytest.mark.parametrize(
    "secret",
    [
        None,
        "",
        "short",
        "changeme",
        "x" * 64,  # long but one character: no entropy
        "abababababababababababababababababababab",
        "replace with: python -c 'import secrets; print(secrets.token_urlsafe(48))'",
        "please-change-this-key-before-deploying-1234567890",
        "your-production-signing-key-goes-here-0123456789",
    ],
)
def test_refuses_missing_placeholder_or_weak_secret_outside_debug(secret: str | None) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        make(secret_key=secret, debug=False)


@pytest.mark.parametrize(
    "secret",
    [
        secrets.token_urlsafe(32),
        secrets.token_hex(32),
        "Zq3vN8xLp2RtY7uW1cK5mB9dF4gH6jA0sE",  # 34 mixed characters
    ],
)
def test_accepts_generated_secrets(secret: str) -> None:
    assert secret_key_problem(secret) is None
    assert make(secret_key=secret).secret == secret


def test_example_k8s_secret_is_refused_until_filled_in() -> None:
    # The example Secret ships an empty key: applying it unfilled must not start a server.
    example = yaml.safe_load((REPO_ROOT / "k8s" / "secret.example.yaml").read_text())
    key = example["stringData"]["SECRET_KEY"]
    assert secret_key_problem(key) is not None
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        make(secret_key=key, debug=False)


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
