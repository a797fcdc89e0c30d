"""What one live session costs the shared state: Redis commands and database writes.

``python bench/shared_state_ops.py [--sessions 20] [--frames 30 300] [--redis-url URL]``
runs the real app in process (Starlette's TestClient; a bench-only pose client answers
every frame with "nobody found", so no engine runs) with REDIS_URL set and a SQLite
database, and for each frame count runs ``--sessions`` sessions the way a client does:
log in, open the exercise socket, start, send the frames, stop, close. It reports per
session the Redis commands the server sent (``INFO commandstats`` before and after; the
server should be otherwise idle) and the SQL statements that wrote (INSERT, UPDATE,
DELETE, counted by an engine event), apart from the registration that precedes them.

The two frame counts show what a frame costs: nothing, if the counts per session match.
The figures feed the sizing in k8s/README.md.
"""

from __future__ import annotations

import argparse
import base64
import json
import tempfile
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import redis
from sqlalchemy import event
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import load_settings
from db.engine import make_engine
from db.migrate import upgrade
from inference.pose_client import ModelInfo, PoseStream
from inference.types import FrameResult, FrameTimings, Roi

WRITES = ("INSERT", "UPDATE", "DELETE")


class _NobodyStream:
    async def estimate(self, jpeg: bytes, timestamp_s: float) -> FrameResult:
        return FrameResult(pose=None, next_roi=None, timings=FrameTimings(total_ms=0.1))

    def reset(self) -> None:
        pass


class NobodyPoseClient:
    """Bench-only: every frame answered "nobody found", no engine."""

    async def estimate(self, jpeg: bytes, roi: Roi | None) -> FrameResult:
        return FrameResult(pose=None, next_roi=None)

    async def describe_models(self) -> list[ModelInfo]:
        return [ModelInfo("nobody", "none", "cpu", True, 0.0)]

    def open_stream(self) -> PoseStream:
        return _NobodyStream()


def _commandstats(client: redis.Redis) -> Counter[str]:
    stats: dict[str, Any] = client.info("commandstats")
    return Counter({name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()})


def _frame() -> str:
    ok, buf = cv2.imencode(".jpg", np.full((48, 64, 3), 128, np.uint8))
    assert ok
    return base64.b64encode(buf.tobytes()).decode()


def run(sessions: int, frames: int, redis_url: str, folder: Path) -> dict[str, Any]:
    """Per-session Redis commands and database writes for ``sessions`` sessions."""
    settings = load_settings(
        secret_key=uuid.uuid4().hex + uuid.uuid4().hex,
        database_url=f"sqlite:///{folder / f'bench-{frames}.sqlite3'}",
        data_dir=folder / f"data-{frames}",
        redis_url=redis_url,
        argon2_memory_kib=64,
        argon2_time_cost=1,
        ws_max_frames_per_s=1000.0,
        login_attempts_per_ip=100_000,
        allowed_hosts=["testserver"],
    )
    engine = make_engine(settings.sqlalchemy_url())
    upgrade(engine)
    writes: Counter[str] = Counter()

    @event.listens_for(engine, "after_cursor_execute")
    def count(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in WRITES:
            writes[verb] += 1

    shared = redis.Redis.from_url(redis_url)
    frame = _frame()
    with TestClient(create_app(settings, engine=engine, pose_client=NobodyPoseClient())) as app:
        users = []
        for _ in range(sessions):
            name = f"b{uuid.uuid4().hex[:10]}"
            body = {
                "username": name,
                "email": f"{name}@example.com",
                "password": "correct horse battery",
                "height": 175.0,
                "weight": 70.0,
                "fitness_goal": "endurance",
            }
            assert app.post("/api/auth/register/", json=body).status_code == 201
            users.append({"email": body["email"], "password": body["password"]})
        writes.clear()
        before = _commandstats(shared)
        for body in users:
            login = app.post("/api/auth/login/", json=body)
            token = login.json()["access"]
            with app.websocket_connect(f"/ws/exercise/squat/?token={token}") as ws:
                ws.send_json({"type": "start_exercise"})
                ws.receive_json()
                for _ in range(frames):
                    ws.send_json({"frame": frame})
                    ws.receive_json()
                ws.send_json({"type": "stop_exercise"})
                assert ws.receive_json()["type"] == "exercise_completed"
        after = _commandstats(shared)
    shared.close()
    engine.dispose()
    redis_calls = {k: (after[k] - before[k]) / sessions for k in after if after[k] > before[k]}
    redis_calls.pop("info", None)
    return {
        "frames_per_session": frames,
        "sessions": sessions,
        "redis_commands_per_session": dict(sorted(redis_calls.items())),
        "db_writes_per_session": {k: v / sessions for k, v in sorted(writes.items())},
    }


def main() -> None:
    """Run each frame count and print one JSON line per count."""
    parser = argparse.ArgumentParser(prog="python bench/shared_state_ops.py")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--frames", type=int, nargs="+", default=[30, 300])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for frames in args.frames:
            print(json.dumps(run(args.sessions, frames, args.redis_url, Path(folder))))


if __name__ == "__main__":
    main()
