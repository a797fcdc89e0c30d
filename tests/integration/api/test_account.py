"""A person's own data: password change, export, account deletion (issue 22's API).

On the suite's database (SQLite, and PostgreSQL in the second pass): the password change
signs other devices out at their next refresh; the export holds every session with its
per-rep details and every analysis; deletion leaves no row of the user in any table, no
file and no pending save, and their tokens answer 401 at once.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from api.app import OUTBOX_FILE, create_app
from api.services import app_services
from db.outbox import Outbox
from db.records import SessionRecord
from tests.conftest import bearer, make_settings, register_user, seed_session, write_video
from tests.integration.ws.conftest import FakePoseClient, b64, jpeg_bytes

PASSWORD = "correct horse battery"
DETAILS = {"rep_details": [{"index": 1, "tempo": {"down_s": 1.2, "up_s": 0.9}, "faults": []}]}


@pytest.fixture
def app(tmp_path: Path, database_url: str, engine: Engine) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, database_url, exports_per_hour=3)
    with TestClient(create_app(settings, engine=engine, pose_client=FakePoseClient())) as c:
        yield c


def _login(app: TestClient, email: str, password: str) -> Any:
    return app.post("/api/auth/login/", json={"email": email, "password": password})


def test_password_change_signs_other_devices_out_at_their_next_refresh(
    app: TestClient,
) -> None:
    user = register_user(app)
    email, phone = user["user"]["email"], _login(app, user["user"]["email"], PASSWORD).json()
    wrong = app.post(
        "/api/auth/password/",
        json={"old_password": "not it at all", "new_password": "a brand new secret"},
        headers=bearer(user["access"]),
    )
    assert wrong.status_code == 403 and set(wrong.json()) == {"error"}
    changed = app.post(
        "/api/auth/password/",
        json={"old_password": PASSWORD, "new_password": "a brand new secret"},
        headers=bearer(user["access"]),
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["cache-control"] == "no-store"
    for old in (user["refresh"], phone["refresh"]):  # every device's refresh token
        refused = app.post("/api/auth/token/refresh/", json={"refresh": old})
        assert refused.status_code == 401
    renewed = app.post("/api/auth/token/refresh/", json={"refresh": changed.json()["refresh"]})
    assert renewed.status_code == 200  # this device goes on with its new pair
    assert _login(app, email, PASSWORD).status_code == 401
    assert _login(app, email, "a brand new secret").status_code == 200


def _user_id(app: TestClient, token: str) -> int:
    tokens = app_services(app.app).context.tokens  # type: ignore[arg-type]
    user_id: int = tokens.verify(token, "access").user_id
    return user_id


def test_export_holds_every_session_with_its_details_and_every_analysis(
    app: TestClient, engine: Engine, tmp_path: Path
) -> None:
    user = register_user(app)
    token, user_id = user["access"], _user_id(app, user["access"])
    now = datetime.now(UTC)
    for days in (2, 1):
        seed_session(engine, user_id, now - timedelta(days=days), details=DETAILS)
    video = write_video(tmp_path / "v.mp4", 1.0).read_bytes()
    upload = app.post(
        "/api/exercises/squat/upload/",
        files={"video": ("v.mp4", video, "video/mp4")},
        headers=bearer(token),
    )
    assert upload.status_code == 201
    other = register_user(app)["access"]
    seed_session(engine, _user_id(app, other), now)  # someone else's: not exported

    export = app.get("/api/auth/export/", headers=bearer(token))
    assert export.status_code == 200 and export.headers["cache-control"] == "no-store"
    body = export.json()
    assert body["user"]["email"] == user["user"]["email"]
    assert "password" not in export.text  # no hash, no field of that name
    assert [s["details"] for s in body["sessions"]] == [DETAILS, DETAILS]
    assert [a["id"] for a in body["analyses"]] == [upload.json()["analysis_id"]]
    # Every field the history and analyses endpoints show round-trips through the export.
    history = app.get("/api/exercises/history/", headers=bearer(token)).json()
    exported = {s["id"]: s for s in body["sessions"]}
    for item in history:
        assert {k: exported[item["id"]][k] for k in item} == item
    listed = app.get("/api/exercises/analyses/", headers=bearer(token)).json()
    assert [{k: a[k] for k in listed[0]} for a in body["analyses"]] == listed

    as_csv = app.get("/api/auth/export/?format=csv", headers=bearer(token))
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(rows) == 2 and rows[0]["reps"] == "10" and "rep_details" in rows[0]["details"]
    assert app.get("/api/auth/export/", headers=bearer(token)).status_code == 200
    limited = app.get("/api/auth/export/", headers=bearer(token))  # the 4th this hour
    assert limited.status_code == 429 and limited.headers["retry-after"]


def _rows_of(engine: Engine, user_id: int) -> dict[str, int]:
    queries = {
        "users": "SELECT COUNT(*) FROM users WHERE id = :u",
        "exercise_sessions": "SELECT COUNT(*) FROM exercise_sessions WHERE user_id = :u",
        "refresh_tokens": "SELECT COUNT(*) FROM refresh_tokens WHERE user_id = :u",
        "upload_analyses": "SELECT COUNT(*) FROM upload_analyses WHERE user_id = :u",
        "upload_chunks": "SELECT COUNT(*) FROM upload_chunks WHERE analysis_id IN "
        "(SELECT id FROM upload_analyses WHERE user_id = :u)",
    }
    with engine.connect() as db:
        return {
            name: db.execute(text(q), {"u": user_id}).scalar_one() for name, q in queries.items()
        }


def test_deletion_erases_everything_and_the_tokens_stop_working_at_once(
    app: TestClient, engine: Engine, tmp_path: Path
) -> None:
    user = register_user(app)
    token, refresh, user_id = user["access"], user["refresh"], _user_id(app, user["access"])
    seed_session(engine, user_id, datetime.now(UTC), details=DETAILS)
    video = write_video(tmp_path / "v.mp4", 1.0).read_bytes()
    files = {"video": ("v.mp4", video, "video/mp4")}
    assert app.post("/api/exercises/squat/upload/", files=files, headers=bearer(token)).is_success
    settings = app_services(app.app).context.settings  # type: ignore[arg-type]
    outbox = Outbox(settings.data_dir / OUTBOX_FILE)
    outbox.put(user_id, SessionRecord("pending-1", "squat", datetime.now(UTC), 5, 1, 1, 90.0, 1.0))
    live = app.websocket_connect(f"/ws/exercise/squat/?token={token}").__enter__()
    live.send_json({"type": "start_exercise"})
    assert live.receive_json()["type"] == "exercise_started"
    live.send_json({"frame": b64(jpeg_bytes())})
    assert live.receive_json()["type"] == "frame_processed"
    assert _rows_of(engine, user_id)["upload_chunks"] >= 1

    wrong = app.request(
        "DELETE", "/api/auth/account/", json={"password": "nope nope"}, headers=bearer(token)
    )
    assert wrong.status_code == 403
    gone = app.request(
        "DELETE", "/api/auth/account/", json={"password": PASSWORD}, headers=bearer(token)
    )
    assert gone.status_code == 204, gone.text
    closed = live.receive()  # the live session is closed, not saved
    assert closed["type"] == "websocket.close" and closed["code"] == 4401
    live.__exit__(None, None, None)

    assert _rows_of(engine, user_id) == dict.fromkeys(
        ("users", "exercise_sessions", "refresh_tokens", "upload_analyses", "upload_chunks"), 0
    )
    assert outbox.count() == 0 and outbox.dead_letters() == 0
    left = [p for p in settings.data_dir.rglob("*") if p.is_file() and "outbox" not in p.name]
    assert left == []
    for path in ("/api/auth/stats/", "/api/exercises/history/", "/api/auth/export/"):
        assert app.get(path, headers=bearer(token)).status_code == 401
    assert app.post("/api/auth/token/refresh/", json={"refresh": refresh}).status_code == 401
    assert _login(app, user["user"]["email"], PASSWORD).status_code == 401
