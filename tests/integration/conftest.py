"""Integration fixtures: a real uvicorn serving the app (fake pose client, the public
port's limits) on a free port."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy.engine import Engine

from api.app import create_app
from api.http_server import uvicorn_limits
from tests.conftest import make_settings
from tests.e2e.server import free_port_pair
from tests.integration.ws.conftest import FakePoseClient

ServeFn = Callable[..., str]


@pytest.fixture
def serve_app(tmp_path: Path, database_url: str, engine: Engine) -> Iterator[ServeFn]:
    """``serve_app(**settings)``: the app on a real socket; its base URL. Stopped after."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(**overrides: Any) -> str:
        settings = make_settings(tmp_path, database_url, **overrides)
        app = create_app(settings, engine=engine, pose_client=FakePoseClient())
        port = free_port_pair()
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            ws_per_message_deflate=False,
            **uvicorn_limits(settings),  # the public port's parser, as served
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(20)
