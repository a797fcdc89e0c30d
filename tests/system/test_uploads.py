"""Uploads through the real Serve application: the ingress's worker analyses a labelled
clip through the pose deployment (the same batching client as live sessions), and a job
whose ingress replica is killed mid-way finishes once after Serve restarts it."""

from __future__ import annotations

import time
from typing import Any

import httpx2 as httpx
import pytest

from inference.analyze_cli import analyze_video
from tests.clips import CLIP, CLIP_REPS
from tests.conftest import register_over_http

pytestmark = [
    pytest.mark.ray,
    pytest.mark.video,
    pytest.mark.skipif(not CLIP.exists(), reason=f"shared clip {CLIP} not present"),
]
EXERCISE = "shoulder_press"


def _upload(base: str, token: str) -> int:
    r = httpx.post(
        f"http://{base}/api/exercises/{EXERCISE}/upload/",
        files={"video": ("set.mp4", CLIP.read_bytes(), "video/mp4")},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    job_id: int = r.json()["analysis_id"]
    return job_id


def _get(base: str, path: str, token: str) -> Any:
    """GET, retried while the server is briefly away (a replica restarting)."""
    deadline = time.monotonic() + 120
    while True:
        try:
            r = httpx.get(
                f"http://{base}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30
            )
            if r.status_code == 200:
                return r.json()
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"GET {path} kept failing"
        time.sleep(0.5)


def _wait(base: str, token: str, job_id: int, until: Any, timeout_s: float = 300) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        job = _get(base, f"/api/exercises/analyses/{job_id}/", token)
        if until(job) or time.monotonic() > deadline:
            return job
        time.sleep(0.3)


def _finished(job: Any) -> bool:
    return job["status"] in ("done", "failed")


def test_upload_through_serve_counts_like_analyze_and_is_saved_once(serve_url: str) -> None:
    token = register_over_http(serve_url)
    job = _wait(serve_url, token, _upload(serve_url, token), _finished)
    assert job["status"] == "done", job
    offline = analyze_video(CLIP, EXERCISE)
    assert job["summary"]["reps"] == offline.reps == CLIP_REPS
    assert len(job["summary"]["rep_details"]) == len(offline.rep_details)
    history = _get(serve_url, "/api/exercises/history/", token)
    assert [(h["id"], h["source"], h["reps"]) for h in history] == [
        (job["session_id"], "upload", CLIP_REPS)
    ]
    assert _get(serve_url, "/api/auth/stats/", token)["total_exercises"] == 1


def _ingress_actors() -> list[Any]:
    import ray

    return [
        ray.get_actor(a["name"], namespace=a["namespace"])
        for a in ray.util.list_named_actors(all_namespaces=True)
        if "Ingress" in a["name"]
    ]


def test_job_whose_ingress_replica_is_killed_finishes_once(serve_url: str) -> None:
    import ray

    token = register_over_http(serve_url)
    job_id = _upload(serve_url, token)
    running = _wait(serve_url, token, job_id, lambda j: j["progress"]["frames_done"] >= 30)
    assert running["status"] == "running", running
    actors = _ingress_actors()
    assert actors
    for actor in actors:
        ray.kill(actor, no_restart=False)
    job = _wait(serve_url, token, job_id, _finished)
    assert job["status"] == "done" and job["attempts"] >= 2, job
    assert job["summary"]["reps"] == CLIP_REPS
    history = _get(serve_url, "/api/exercises/history/", token)
    assert [h["id"] for h in history] == [job["session_id"]]
