"""The Serve application end to end: real Ray, real BlazePose, real WebSockets."""

from __future__ import annotations

import base64
import json
import threading
import time
from typing import Any

import cv2
import httpx2 as httpx
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.clips import CLIP, clip_jpegs, paced
from tests.conftest import VIDEOS_DIR, register_over_http

pytestmark = pytest.mark.ray

APP = "posecoach"


def _get(base: str, path: str, token: str) -> Any:
    r = httpx.get(f"http://{base}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def _frames(step: int = 1) -> list[tuple[float, bytes]]:
    return list(clip_jpegs(str(CLIP), step))


needs_clip = pytest.mark.skipif(not CLIP.exists(), reason=f"shared clip {CLIP} not present")


def test_test_models_and_auth_refusal(serve_url: str) -> None:
    token = register_over_http(serve_url)
    (model,) = _get(serve_url, "/api/exercises/test-models/", token)["models"]
    assert model["loaded"] is True and model["inference_ms"] > 0
    with pytest.raises(Exception) as exc, connect(f"ws://{serve_url}/ws/exercise/squat/"):
        pass
    assert "403" in str(exc.value) or "4401" in str(exc.value)


@pytest.mark.video
@needs_clip
def test_replayed_clip_counts_and_is_saved(serve_url: str) -> None:
    token = register_over_http(serve_url)
    with connect(f"ws://{serve_url}/ws/exercise/shoulder_press/?token={token}") as ws:
        ws.send(json.dumps({"type": "start_exercise"}))
        assert json.loads(ws.recv())["type"] == "exercise_started"
        for i, (t, jpeg) in enumerate(paced(_frames())):
            ws.send(json.dumps({"frame": base64.b64encode(jpeg).decode(), "frame_id": i, "t": t}))
            reply = json.loads(ws.recv(timeout=30))
            assert reply["type"] == "frame_processed" and reply["frame_id"] == i, reply
        ws.send(json.dumps({"type": "stop_exercise"}))
        done = json.loads(ws.recv(timeout=30))
    assert done["type"] == "exercise_completed" and done["reps"] == 2 and done["saved"]
    assert [h["reps"] for h in _get(serve_url, "/api/exercises/history/", token)] == [2]
    assert _get(serve_url, "/api/auth/stats/", token)["total_exercises"] == 1


def _pose_handle() -> Any:
    from ray import serve

    return serve.get_deployment_handle("PoseDeployment", app_name=APP)


@pytest.mark.video
@needs_clip
def test_concurrent_sessions_are_batched(serve_url: str) -> None:
    frames = _frames(step=3)[:40]
    # One user per session: a user may hold WS_MAX_SESSIONS_PER_USER (3) sockets at once.
    tokens = [register_over_http(serve_url) for _ in range(4)]
    before = _pose_handle().batch_stats.remote().result()
    errors: list[BaseException] = []

    def session(token: str) -> None:
        try:
            with connect(f"ws://{serve_url}/ws/exercise/shoulder_press/?token={token}") as ws:
                ws.send(json.dumps({"type": "start_exercise"}))
                json.loads(ws.recv())
                for _t, jpeg in frames:  # binary frames, paced like a camera (no waiting)
                    ws.send(jpeg)
                    time.sleep(0.02)
                ws.send(json.dumps({"type": "stop_exercise"}))
                while json.loads(ws.recv(timeout=60))["type"] != "exercise_completed":
                    pass
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(token,)) for token in tokens]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert not errors, errors
    after = _pose_handle().batch_stats.remote().result()
    grown = {size: after.get(size, 0) - before.get(size, 0) for size in after}
    assert max(size for size, n in grown.items() if n > 0) > 1, grown

    families = (
        "ray_posecoach_frame_latency_seconds_bucket",
        "ray_posecoach_inference_latency_seconds_bucket",
        "ray_posecoach_queue_wait_seconds_bucket",
        "ray_posecoach_engine_batch_seconds_bucket",
        "ray_posecoach_frames_received_total",
        "ray_posecoach_frames_processed_total",
        "ray_posecoach_http_request_duration_seconds_bucket",
    )

    def exported(text: str) -> bool:
        batches = _sample(text, "ray_posecoach_batch_size_count")
        of_one = _sample(text, "ray_posecoach_batch_size_bucket", le="1.0")
        return batches - of_one > 0 and all(_sample(text, f) > 0 for f in families)

    # The same fact through the exported metric, with the documented families beside it.
    _wait_for_metrics(exported)


def _scrape_metrics() -> str:
    """Ray's Prometheus endpoint on this node (where a Prometheus would scrape)."""
    import ray

    node = ray._private.worker.global_worker.node
    assert node is not None
    port = node.metrics_export_port
    return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text


def _sample(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
    return total


def _wait_for_metrics(predicate: Any, timeout_s: float = 60.0) -> str:
    """Ray exports replica metrics every few seconds: poll until ``predicate(text)``."""
    deadline = time.monotonic() + timeout_s
    text = _scrape_metrics()
    while not predicate(text):
        if time.monotonic() > deadline:
            names = sorted(
                {line.split("{")[0] for line in text.splitlines() if "posecoach" in line}
            )
            raise AssertionError(f"metrics not (all) on Ray's endpoint; posecoach ones: {names}")
        time.sleep(1.0)
        text = _scrape_metrics()
    return text


def _heavy(jpeg: bytes) -> bytes:
    """The frame at 4x size: its decode and inference take long enough to be killed in."""
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    big = cv2.resize(image, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    return bytes(cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 98])[1].tobytes())


def _wait_until_inside(actors: list[Any], timeout_s: float = 5.0) -> None:
    """Return once a pose replica holds a request (the frame just sent), or at timeout.

    Polls the replicas' own ongoing-request count (what Serve's router asks them): a fixed
    sleep guessed wrong on a slower box, killing before the big frame had arrived, and
    Serve then quietly sent it to the replacement replica.
    """
    import ray

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        counts = ray.get([a.get_num_ongoing_requests.remote() for a in actors], timeout=5)
        if any(counts):
            return
        time.sleep(0.001)


def _pose_actors() -> list[Any]:
    import ray

    return [
        ray.get_actor(a["name"], namespace=a["namespace"])
        for a in ray.util.list_named_actors(all_namespaces=True)
        if "PoseDeployment" in a["name"]
    ]


@pytest.mark.video
@needs_clip
def test_pose_replica_killed_mid_session(serve_url: str) -> None:
    import ray

    frames = _frames(step=2)
    token = register_over_http(serve_url)
    replies: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    processed_after: list[dict[str, Any]] = []
    kills = 0
    with connect(
        f"ws://{serve_url}/ws/exercise/shoulder_press/?token={token}", max_size=None
    ) as ws:
        ws.send(json.dumps({"type": "start_exercise", "extensions": ["stats"]}))
        json.loads(ws.recv())
        deadline = time.monotonic() + 150
        i = 0
        while time.monotonic() < deadline and len(processed_after) < 5:
            _t, jpeg = frames[i % len(frames)]
            # Every 15th frame (up to 3 times, until a frame in flight got its error): a
            # heavy frame, and the pose replicas are killed while it is inside one.
            kill_now = i % 15 == 10 and not errors and kills < 3
            actors = _pose_actors() if kill_now else []
            payload = _heavy(jpeg) if kill_now else jpeg
            ws.send(json.dumps({"frame": base64.b64encode(payload).decode(), "frame_id": i}))
            if kill_now:
                _wait_until_inside(actors)
                for actor in actors:
                    ray.kill(actor)
                kills += 1
            try:
                reply = json.loads(ws.recv(timeout=30))
            except (TimeoutError, ConnectionClosed):
                break
            replies.append(reply)
            if reply["type"] == "error":
                errors.append(reply)
            elif errors and reply["type"] == "frame_processed":
                processed_after.append(reply)
            i += 1
        ws.send(json.dumps({"type": "stop_exercise"}))
        done = json.loads(ws.recv(timeout=30))
        while done["type"] != "exercise_completed":
            done = json.loads(ws.recv(timeout=30))
    assert kills >= 1
    assert errors, f"no frame in flight got an error in {kills} kills"
    assert len(processed_after) >= 5, "session did not recover"
    assert done["saved"] is True
    assert done["frames"]["failed"] >= 1
    history = _get(serve_url, "/api/exercises/history/", token)
    assert len(history) == 1
    assert VIDEOS_DIR.exists()
