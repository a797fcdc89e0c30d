"""Uploading a video as a client does and waiting on its analysis job (integration tests)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient

from tests.conftest import bearer

Job = dict[str, Any]


def upload(client: TestClient, token: str, data: bytes, exercise: str) -> int:
    """Upload ``data`` for ``exercise``; the new analysis job's id (the upload must pass)."""
    response = client.post(
        f"/api/exercises/{exercise}/upload/",
        files={"video": ("set.mp4", data, "video/mp4")},
        headers=bearer(token),
    )
    assert response.status_code == 201, response.text
    job_id: int = response.json()["analysis_id"]
    return job_id


def ended(job: Job) -> bool:
    """The job is done or failed."""
    return job["status"] in ("done", "failed")


def wait_for(
    client: TestClient,
    token: str,
    job_id: int,
    until: Callable[[Job], bool] = ended,
    timeout_s: float = 180,
) -> Job:
    """The job as soon as ``until`` holds for it, or as it is after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        job: Job = client.get(f"/api/exercises/analyses/{job_id}/", headers=bearer(token)).json()
        if until(job) or time.monotonic() > deadline:
            return job
        time.sleep(0.1)
