"""One real local Ray Serve (ray_config.yaml) for the whole test session, bound to 127.0.0.1."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.conftest import REPO_ROOT, TEST_SECRET


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def serve_url(
    migrated_engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Base URL of the running Serve app (http://127.0.0.1:PORT); shut down at the end."""
    from inference.serve import runner  # Ray is imported only by system tests

    port = _free_port()
    data_dir: Path = tmp_path_factory.mktemp("serve-data")
    env = {
        "SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": database_url,
        "DATA_DIR": str(data_dir),
        "ARGON2_MEMORY_KIB": "64",
        "ARGON2_TIME_COST": "1",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "WS_MAX_FRAMES_PER_S": "1000",
        "LOGIN_ATTEMPTS_PER_IP": "1000",
        # Short leases: an upload whose ingress replica is killed resumes within seconds.
        "UPLOAD_LEASE_S": "4",
        "UPLOAD_POLL_S": "0.5",
    }
    saved = {k: os.environ.get(k) for k in ("RAY_AUTH_MODE", "RAY_USAGE_STATS_ENABLED")}
    os.environ["RAY_AUTH_MODE"] = "disabled"  # a private, loopback-only test cluster
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    config = runner.load_config(
        REPO_ROOT / "ray_config.yaml",
        host="127.0.0.1",
        port=port,
        proxy_port=_free_port(),
        max_batch_size=8,
        batch_wait_timeout_s=0.01,
    )
    try:
        runner.start_local(config, env_vars=env, timeout_s=180)
        yield f"127.0.0.1:{port}"
    finally:
        runner.stop_local()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
