"""A replica shutting down (scale-down, upgrade) loses nothing: its open sessions end with
their summary and close 1012, and during a database outage its outbox is handed on to the
shared outbox (Redis), from which another replica stores every session once.

"Replicas" here are two apps on one database and one Redis, each with its own DATA_DIR
(a pod's emptyDir); a replica's shutdown is its app's lifespan shutdown, which is what
Ray Serve runs when it stops an ingress replica.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from api.app import create_app
from api.services import app_services
from api.shared_outbox import PENDING_KEY
from db.engine import make_engine
from db.outbox import Outbox
from tests.conftest import bearer, make_settings, register_user
from tests.integration.ws.conftest import FakePoseClient, b64, jpeg_bytes, refused_code
from tests.pgcluster import PostgresCluster, migrated_cluster, postgres_bin_dir

BIN_DIR = postgres_bin_dir()


def _replica(
    tmp_path: Path, name: str, database_url: str, engine: Engine, **overrides: Any
) -> TestClient:
    settings = make_settings(
        tmp_path / name,
        database_url,
        ws_max_frames_per_s=1000.0,
        outbox_retry_first_s=0.1,
        outbox_retry_max_s=0.5,
        db_save_timeout_s=2.0,
        **overrides,
    )
    return TestClient(create_app(settings, engine=engine, pose_client=FakePoseClient()))


def _start_with_frames(client: TestClient, token: str, frames: int = 3) -> Any:
    ws = client.websocket_connect(f"/ws/exercise/squat/?token={token}").__enter__()
    ws.send_json({"type": "start_exercise"})
    assert ws.receive_json()["type"] == "exercise_started"
    for _ in range(frames):
        ws.send_json({"frame": b64(jpeg_bytes())})
        assert ws.receive_json()["type"] == "frame_processed"
    return ws


@contextlib.contextmanager
def _shutting_down(client: TestClient, sockets: list[Any]) -> Iterator[None]:
    """A replica's shutdown in the order its lifespan runs it: first the open sockets end
    (summary, 1012) while the block reads them as a client does; then, on leaving, the
    rest of the lifespan's shutdown (final save pass, outbox hand-off).

    The sockets' part runs on a thread through the client's portal and ends before the
    lifespan's exit begins, so no socket outlives the portal the test reads it through;
    sockets the block left open (a failed assertion) are closed first, so a failure
    cannot leave the client's thread running.
    """
    assert client.portal is not None
    closing = app_services(client.app).sessions.close_for_restart  # type: ignore[arg-type]
    thread = threading.Thread(target=client.portal.call, args=(closing, 10.0))
    thread.start()
    try:
        yield
    finally:
        thread.join(30)
        for ws in sockets:
            with contextlib.suppress(Exception):  # closed already, as a passing test does
                ws.__exit__(None, None, None)
        client.__exit__(None, None, None)
    assert not thread.is_alive(), "sockets still open after shutdown"


def _closed_with(ws: Any) -> tuple[dict[str, Any], int]:
    """The summary sent before the close, and the close code."""
    summary = ws.receive_json()
    with pytest.raises(WebSocketDisconnect) as exc:
        ws.receive_json()
    ws.__exit__(None, None, None)  # the test session's own task ends too
    return summary, exc.value.code


def test_shutdown_ends_open_sessions_saved_and_closes_1012(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    client = _replica(tmp_path, "a", database_url, engine).__enter__()
    token = register_user(client)["access"]
    ws = _start_with_frames(client, token)
    idle = client.websocket_connect(f"/ws/exercise/squat/?token={token}").__enter__()
    with _shutting_down(client, [ws, idle]):
        summary, code = _closed_with(ws)
        assert summary["type"] == "exercise_completed"
        assert (summary["saved"], summary["pending"]) == (True, False)
        assert summary["frames"]["processed"] == 3
        assert code == 1012
        with pytest.raises(WebSocketDisconnect) as exc:  # a socket with no session: 1012
            idle.receive_json()
        idle.__exit__(None, None, None)
        assert exc.value.code == 1012
    with TestClient(create_app(make_settings(tmp_path / "b", database_url), engine=engine)) as b:
        history = b.get("/api/exercises/history/", headers=bearer(token)).json()
    assert [item["id"] for item in history] == [summary["id"]]


def test_new_sockets_are_refused_with_1012_once_shutdown_began(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    with _replica(tmp_path, "a", database_url, engine) as client:
        token = register_user(client)["access"]
        assert client.portal is not None
        client.portal.call(app_services(client.app).sessions.close_for_restart, 5.0)  # type: ignore[arg-type]
        assert refused_code(client, f"/ws/exercise/squat/?token={token}") == 1012


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    """A private PostgreSQL server the test can stop, migrated to head."""
    if BIN_DIR is None:
        pytest.fail("PostgreSQL server binaries are needed for the outage drill")
    with migrated_cluster() as server:
        yield server


@pytest.mark.once  # a PostgreSQL server of its own
def test_scale_down_during_a_database_outage_hands_the_outbox_to_another_replica(
    tmp_path: Path, cluster: PostgresCluster, redis_url: str
) -> None:
    engine = make_engine(cluster.url)
    try:
        a = _replica(tmp_path, "a", cluster.url, engine, redis_url=redis_url).__enter__()
        tokens = [register_user(a)["access"] for _ in range(3)]
        sockets = [_start_with_frames(a, token) for token in tokens]
        cluster.stop()
        with _shutting_down(a, sockets):
            for ws in sockets:
                summary, code = _closed_with(ws)
                assert (summary["saved"], summary["pending"], code) == (False, True, 1012)
        # Nothing stayed on the replica's disk; the pod's emptyDir goes with it.
        assert Outbox(tmp_path / "a" / "data" / "outbox.sqlite3").count() == 0
        shared = redis.Redis.from_url(redis_url)
        assert shared.hlen(PENDING_KEY) == 3  # all three wait in the shared outbox
        shared.close()
        shutil.rmtree(tmp_path / "a")
        cluster.start()
        with _replica(tmp_path, "b", cluster.url, engine, redis_url=redis_url) as b:
            deadline = time.monotonic() + 30
            counts: list[int] = []
            while time.monotonic() < deadline:
                counts = [
                    len(b.get("/api/exercises/history/", headers=bearer(t)).json()) for t in tokens
                ]
                if counts == [1, 1, 1]:
                    break
                time.sleep(0.3)
            assert counts == [1, 1, 1]
            saver = app_services(b.app).saver  # type: ignore[arg-type]
            assert b.portal is not None
            assert b.portal.call(saver.drain) is True  # local and shared outboxes empty
    finally:
        engine.dispose()
