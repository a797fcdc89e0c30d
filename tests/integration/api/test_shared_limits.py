"""Limits that hold across replicas: two apps (two ingress replicas) share one real Redis.

Each app runs on its own event loop (its own TestClient), as replicas run in processes
of their own; only the database and Redis are shared.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.conftest import make_settings, refused_with, register_user
from tests.integration.ws.conftest import FakePoseClient, b64, jpeg_bytes

ACCOUNT_LIMIT = 5


def _settings(tmp_path: Path, database_url: str, redis_url: str, name: str) -> Settings:
    return make_settings(
        tmp_path / name,
        database_url,
        redis_url=redis_url,
        login_attempts_per_account=ACCOUNT_LIMIT,
        ws_max_frames_per_s=1000.0,
    )


@pytest.fixture
def replicas(
    tmp_path: Path, database_url: str, engine: Engine, redis_url: str
) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps on one database and one Redis, each with its own loop and DATA_DIR."""
    apps = [
        create_app(
            _settings(tmp_path, database_url, redis_url, name),
            engine=engine,
            pose_client=FakePoseClient(),
        )
        for name in ("a", "b")
    ]
    with TestClient(apps[0]) as a, TestClient(apps[1]) as b:
        yield a, b


def _wrong_logins(client: TestClient, email: str, n: int) -> Counter[int]:
    """``n`` wrong-password logins at once on ``client``'s app; status -> count."""

    async def burst() -> Counter[int]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            responses = await asyncio.gather(
                *(
                    http.post("/api/auth/login/", json={"email": email, "password": f"no {i}"})
                    for i in range(n)
                )
            )
        return Counter(r.status_code for r in responses)

    assert client.portal is not None
    return client.portal.call(burst)


def test_30_concurrent_wrong_logins_over_two_replicas_evaluate_at_most_5(
    replicas: tuple[TestClient, TestClient],
) -> None:
    a, b = replicas
    email = register_user(a)["user"]["email"]
    with ThreadPoolExecutor(2) as pool:
        bursts = [pool.submit(_wrong_logins, client, email, 15) for client in (a, b)]
        statuses = bursts[0].result() + bursts[1].result()
    # In process each replica would evaluate 5: 10 in all.
    assert statuses[401] <= ACCOUNT_LIMIT
    assert statuses[401] + statuses[429] == 30
    # The right password is refused too, on either replica, until the window passes.
    for client in (a, b):
        refused = client.post(
            "/api/auth/login/", json={"email": email, "password": "correct horse battery"}
        )
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert set(refused.json()) == {"error"}


def test_a_users_fourth_socket_is_refused_on_whichever_replica(
    replicas: tuple[TestClient, TestClient],
) -> None:
    a, b = replicas
    token = register_user(a)["access"]
    url = f"/ws/exercise/squat/?token={token}"
    with a.websocket_connect(url), b.websocket_connect(url), a.websocket_connect(url):
        for client in (a, b):
            assert refused_with(client, url) == 4429
    # All three closed: their places are free on both replicas.
    with b.websocket_connect(url) as ws, b.websocket_connect(url), a.websocket_connect(url):
        ws.send_json({"type": "start_exercise"})
        assert ws.receive_json()["type"] == "exercise_started"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def own_redis() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A Redis server of this test's own (so the test can stop it), on loopback."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is needed for the outage test")
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0", process
    finally:
        process.kill()
        process.wait()


def test_a_redis_outage_refuses_logins_and_new_sockets_while_live_sessions_go_on(
    tmp_path: Path,
    database_url: str,
    engine: Engine,
    own_redis: tuple[str, subprocess.Popen[bytes]],
) -> None:
    url, server = own_redis
    settings = _settings(tmp_path, database_url, url, "a")
    with TestClient(create_app(settings, engine=engine, pose_client=FakePoseClient())) as app:
        user = register_user(app)
        token, email = user["access"], user["user"]["email"]
        ws_url = f"/ws/exercise/squat/?token={token}"
        with app.websocket_connect(ws_url) as live:
            live.send_json({"type": "start_exercise"})
            assert live.receive_json()["type"] == "exercise_started"
            server.kill()
            server.wait()
            started = time.monotonic()
            login = app.post(
                "/api/auth/login/", json={"email": email, "password": "correct horse battery"}
            )
            assert login.status_code == 503
            assert time.monotonic() - started < 5  # refused promptly, not hung
            assert set(login.json()) == {"error"}
            assert int(login.headers["retry-after"]) >= 1
            assert refused_with(app, ws_url) == 1013
            # The session opened before the outage is answered and saved as usual.
            live.send_json({"frame": b64(jpeg_bytes())})
            assert live.receive_json()["type"] == "frame_processed"
            live.send_json({"type": "stop_exercise"})
            ended = live.receive_json()
            assert ended["type"] == "exercise_completed", ended
        history = app.get("/api/exercises/history/", headers={"Authorization": f"Bearer {token}"})
        assert history.status_code == 200
        assert len(history.json()) == 1
