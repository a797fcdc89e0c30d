"""A database outage, for real: a PostgreSQL server of the test's own is stopped and started.

While it is down REST answers 503 with Retry-After, /readyz says not ready, and a live
session that ends is kept in the outbox (the client still gets its summary); once it is
back everything recovers without a restart and the session is in history exactly once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from api.app import create_app
from api.services import app_services
from db.engine import make_engine
from inference.local_pose import LocalPoseClient
from tests.clips import CLIP, CLIP_REPS, clip_jpegs, paced
from tests.conftest import bearer, make_settings, register_user
from tests.integration.ws.conftest import b64
from tests.pgcluster import PostgresCluster, migrated_cluster, postgres_bin_dir

BIN_DIR = postgres_bin_dir()
pytestmark = [
    pytest.mark.once,  # a PostgreSQL server of its own
    pytest.mark.skipif(BIN_DIR is None, reason="PostgreSQL server binaries not installed"),
]


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    """A running private PostgreSQL server, migrated to head."""
    with migrated_cluster() as server:
        yield server


@pytest.fixture
def outage_engine(cluster: PostgresCluster) -> Iterator[Engine]:
    """The app's engine on the private server."""
    engine = make_engine(cluster.url)
    yield engine
    engine.dispose()


def _app_client(
    tmp_path: Path, cluster: PostgresCluster, engine: Engine, pose: LocalPoseClient | None = None
) -> TestClient:
    settings = make_settings(
        tmp_path,
        cluster.url,
        outbox_retry_first_s=0.1,
        outbox_retry_max_s=0.5,
        db_save_timeout_s=3.0,
        db_retry_after_s=7,
    )
    return TestClient(create_app(settings, engine=engine, pose_client=pose))


def _wait_for(check: Any, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_rest_answers_503_while_the_database_is_down_and_recovers(
    tmp_path: Path, cluster: PostgresCluster, outage_engine: Engine
) -> None:
    with _app_client(tmp_path, cluster, outage_engine) as client:
        user = register_user(client)
        headers = bearer(user["access"])
        assert client.get("/api/auth/stats/", headers=headers).status_code == 200
        cluster.stop()
        for method, path, body in (
            ("GET", "/api/auth/stats/", None),
            ("GET", "/api/exercises/history/", None),
            ("POST", "/api/auth/login/", {"email": user["user"]["email"], "password": "x" * 9}),
            ("GET", "/readyz", None),
        ):
            response = client.request(method, path, headers=headers, json=body)
            assert response.status_code == 503, (path, response.text)
            assert set(response.json()) == {"error"}
            assert response.headers["retry-after"].isdigit()
        assert client.get("/api/auth/stats/", headers=headers).headers["retry-after"] == "7"
        assert client.get("/healthz").status_code == 200  # alive, just not ready
        cluster.start()
        # No restart: the pool's pre-ping replaces the dead connections.
        assert client.get("/readyz").status_code == 200
        assert client.get("/api/auth/stats/", headers=headers).status_code == 200


@pytest.fixture(scope="module")
def local_pose() -> LocalPoseClient:
    """One real engine for the module."""
    return LocalPoseClient()


@pytest.mark.video
@pytest.mark.skipif(not CLIP.exists(), reason=f"shared clip {CLIP} not present")
def test_session_stopped_during_an_outage_is_stored_once_after_it(
    tmp_path: Path, cluster: PostgresCluster, outage_engine: Engine, local_pose: LocalPoseClient
) -> None:
    with _app_client(tmp_path, cluster, outage_engine, local_pose) as client:
        token = register_user(client)["access"]
        with client.websocket_connect(f"/ws/exercise/shoulder_press/?token={token}") as ws:
            ws.send_json({"type": "start_exercise"})
            assert ws.receive_json()["type"] == "exercise_started"
            for i, (t, jpeg) in enumerate(paced(clip_jpegs(str(CLIP), step=2))):
                ws.send_json({"frame": b64(jpeg), "frame_id": i, "t": t})
                assert ws.receive_json()["type"] == "frame_processed"
            cluster.stop()
            ws.send_json({"type": "stop_exercise"})
            done = ws.receive_json()
        assert done["type"] == "exercise_completed"
        assert (done["saved"], done["pending"], done["id"]) == (False, True, None)
        assert done["reps"] == CLIP_REPS
        history = client.get("/api/exercises/history/", headers=bearer(token))
        assert history.status_code == 503
        assert (tmp_path / "data" / "outbox.sqlite3").is_file()

        cluster.start()

        def stored() -> list[Any]:
            response = client.get("/api/exercises/history/", headers=bearer(token))
            return response.json() if response.status_code == 200 else []

        items = _wait_for(stored)
        assert [item["reps"] for item in items] == [CLIP_REPS]
        saver = app_services(client.app).saver  # type: ignore[arg-type]
        assert client.portal is not None
        assert client.portal.call(saver.drain) is True  # the outbox is empty again
        time.sleep(1.0)  # further retry passes must not store it a second time
        assert len(stored()) == 1
        stats = client.get("/api/auth/stats/", headers=bearer(token)).json()
        assert stats["total_exercises"] == 1
