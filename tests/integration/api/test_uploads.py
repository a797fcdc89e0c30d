"""Video upload: media type, content sniffing, size limit, storage."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from api.app import create_app
from tests.conftest import RegisterFn, bearer, make_settings


@pytest.fixture(scope="module")
def small_mp4(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    fourcc = cv2.VideoWriter_fourcc(*"mp4v")  # type: ignore[attr-defined]
    writer = cv2.VideoWriter(str(path), fourcc, 15, (64, 48))
    for i in range(10):
        writer.write(np.full((48, 64, 3), i * 20, np.uint8))
    writer.release()
    return path.read_bytes()


def test_upload_stores_the_video(
    client: TestClient, register: RegisterFn, small_mp4: bytes
) -> None:
    user = register()
    response = client.post(
        "/api/exercises/squat/upload/",
        files={"video": ("set.mp4", small_mp4, "video/mp4")},
        headers=bearer(user["access"]),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["message"] == "Video uploaded successfully"
    stored = client.app.state.context.settings.data_dir / body["file_path"]  # type: ignore[attr-defined]
    assert stored.read_bytes() == small_mp4
    assert body["file_path"].startswith(f"uploads/{user['user']['id']}/")


@pytest.mark.parametrize(
    ("files", "status"),
    [
        ({"video": ("x.mp4", b"\x00" * 64, "video/mp4")}, 415),  # not ISO media
        ({"video": ("x.avi", b"RIFF....AVI ", "video/x-msvideo")}, 415),
        ({"other": ("x.mp4", b"\x00" * 64, "video/mp4")}, 400),
    ],
)
def test_upload_rejects_bad_files(
    client: TestClient,
    register: RegisterFn,
    files: dict[str, tuple[str, bytes, str]],
    status: int,
) -> None:
    response = client.post(
        "/api/exercises/squat/upload/", files=files, headers=bearer(register()["access"])
    )
    assert response.status_code == status
    assert set(response.json()) == {"error"}


def test_upload_unknown_exercise_is_404(
    client: TestClient, register: RegisterFn, small_mp4: bytes
) -> None:
    response = client.post(
        "/api/exercises/yoga/upload/",
        files={"video": ("set.mp4", small_mp4, "video/mp4")},
        headers=bearer(register()["access"]),
    )
    assert response.status_code == 404
    assert "squat" in response.json()["error"]


def test_upload_over_the_limit_is_413_and_leaves_nothing(
    tmp_path: Path, database_url: str, engine: Engine, small_mp4: bytes
) -> None:
    settings = make_settings(tmp_path, database_url, max_upload_bytes=len(small_mp4) // 2)
    with TestClient(create_app(settings, engine=engine)) as test_client:
        token = test_client.post(
            "/api/auth/register/",
            json={
                "username": "big",
                "email": "big@example.com",
                "password": "long password",
                "height": 180,
                "weight": 90,
                "fitness_goal": "muscle_gain",
            },
        ).json()["access"]
        response = test_client.post(
            "/api/exercises/squat/upload/",
            files={"video": ("set.mp4", small_mp4, "video/mp4")},
            headers=bearer(token),
        )
    assert response.status_code == 413
    uploads = settings.data_dir / "uploads"
    assert not uploads.exists() or not any(uploads.rglob("*.mp4"))
