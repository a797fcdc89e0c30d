"""Video upload: what is refused (each a clear error, nothing left behind) and what is queued.

A queued video is stored in the database (upload_chunks), never in DATA_DIR; the
temporary file it was checked in is gone once the request is answered. These apps have
no pose client, so no worker runs: a queued upload stays queued.
"""

from __future__ import annotations

import io
import math
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from db import upload_chunks
from tests import videos
from tests.conftest import bearer, make_settings, register_user, write_video

UPLOAD = "/api/exercises/squat/upload/"
pytestmark = pytest.mark.usefixtures("private_tempdir")  # files_left() looks there


@pytest.fixture(scope="module")
def small_mp4(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real 2 s MP4 (25 fps, 64x48)."""
    return write_video(tmp_path_factory.mktemp("video") / "clip.mp4", 2.0).read_bytes()


class Uploads:
    """An app with its settings, and what it left on disk and in the database."""

    def __init__(self, client: TestClient, settings: Settings, engine: Engine) -> None:
        self.client, self.settings, self.engine = client, settings, engine
        self.token = register_user(client)["access"]

    def post(self, files: Any, token: str | None = None, path: str = UPLOAD) -> Any:
        headers = bearer(token or self.token)
        return self.client.post(path, files=files, headers=headers)

    def files_left(self) -> list[Path]:
        """Files of uploads in DATA_DIR or in the (test's private) temporary folder."""
        roots = [self.settings.data_dir / "uploads", Path(tempfile.gettempdir())]
        return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]

    def rows(self) -> int:
        with self.engine.connect() as c:
            return int(c.execute(text("SELECT count(*) FROM upload_analyses")).scalar_one())

    def videos(self) -> int:
        """Analyses with a stored video."""
        query = "SELECT count(DISTINCT analysis_id) FROM upload_chunks"
        with self.engine.connect() as c:
            return int(c.execute(text(query)).scalar_one())

    def chunks(self, analysis_id: int) -> int:
        query = text("SELECT count(*) FROM upload_chunks WHERE analysis_id = :id")
        with self.engine.connect() as c:
            return int(c.execute(query, {"id": analysis_id}).scalar_one())

    def stored(self, analysis_id: int) -> bytes:
        """The stored video, read back as the worker reads it."""
        out = io.BytesIO()
        with Session(self.engine) as db:
            upload_chunks.copy_to(db, analysis_id, out)
        return out.getvalue()

    def assert_refused(self, response: Any, status: int, words: str) -> None:
        assert response.status_code == status, response.text
        body = response.json()
        assert set(body) == {"error"} and words in body["error"], body
        assert self.files_left() == [] and self.rows() == 0 and self.videos() == 0


def _uploads(
    tmp_path: Path, database_url: str, engine: Engine, **overrides: Any
) -> Iterator[Uploads]:
    settings = make_settings(tmp_path, database_url, **overrides)
    with TestClient(create_app(settings, engine=engine)) as client:
        yield Uploads(client, settings, engine)


@pytest.fixture
def uploads(tmp_path: Path, database_url: str, engine: Engine) -> Iterator[Uploads]:
    yield from _uploads(tmp_path, database_url, engine)


@pytest.fixture
def tight(tmp_path: Path, database_url: str, engine: Engine, small_mp4: bytes) -> Iterator[Uploads]:
    """Caps just under the small video: size, duration, quota."""
    yield from _uploads(
        tmp_path,
        database_url,
        engine,
        max_upload_bytes=len(small_mp4) - 1,
        upload_max_duration_s=1.5,
    )


def test_upload_is_stored_in_the_database_and_queued(
    uploads: Uploads, small_mp4: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(upload_chunks, "CHUNK_BYTES", 1000)  # several chunks, kept in order
    response = uploads.post({"video": ("set.mp4", small_mp4, "video/mp4")})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["message"] == "Video uploaded successfully" and body["status"] == "queued"
    job_id = body["analysis_id"]
    assert uploads.chunks(job_id) == math.ceil(len(small_mp4) / 1000) > 1
    assert uploads.stored(job_id) == small_mp4
    assert uploads.files_left() == []  # neither in DATA_DIR nor a temporary file
    assert body["file_path"].startswith("uploads/") and body["file_path"].endswith(".mp4")
    assert "set" not in body["file_path"]  # a generated name, never the client's
    job = uploads.client.get(
        f"/api/exercises/analyses/{body['analysis_id']}/", headers=bearer(uploads.token)
    ).json()
    assert job["status"] == "queued" and job["exercise_type"] == "squat"
    assert job["progress"] == {"frames_done": 0, "frames_total": 50}
    assert job["video_duration_s"] == pytest.approx(2.0) and job["video_fps"] == 25.0


@pytest.mark.parametrize(
    ("files", "status", "words"),
    [
        ({"other": ("x.mp4", b"\x00" * 64, "video/mp4")}, 400, "'video'"),
        ({"video": ("x.mp4", b"", "video/mp4")}, 400, "empty"),
        ({"video": ("x.mp4", b"just some notes\n" * 20, "video/mp4")}, 415, "MP4"),
        ({"video": ("x.avi", b"RIFF....AVI " * 8, "video/x-msvideo")}, 415, "video/mp4"),
    ],
    ids=["wrong-field", "zero-bytes", "text-renamed-mp4", "wrong-type"],
)
def test_bad_files_are_refused(
    uploads: Uploads, files: dict[str, tuple[str, bytes, str]], status: int, words: str
) -> None:
    uploads.assert_refused(uploads.post(files), status, words)


@pytest.mark.parametrize("size", [(4208, 32), (16000, 16), (16, 16000)])
def test_frames_larger_than_live_ones_are_refused_before_decoding(
    uploads: Uploads, tmp_path: Path, size: tuple[int, int]
) -> None:
    # Small on disk, one side over the 4096 px that live frames may have: refused from
    # the stream's header, before a frame of (up to) 16000 px is decoded.
    wide = videos.write(tmp_path / "wide.mp4", videos.every(30, 3), size=size).read_bytes()
    response = uploads.post({"video": ("wide.mp4", wide, "video/mp4")})
    width, height = size
    uploads.assert_refused(response, 413, f"{width}x{height}; at most 4096 pixels per side")


def test_truncated_mp4_is_refused(uploads: Uploads, small_mp4: bytes) -> None:
    half = small_mp4[: len(small_mp4) // 2]
    uploads.assert_refused(uploads.post({"video": ("x.mp4", half, "video/mp4")}), 415, "decode")


def test_unknown_exercise_no_token_and_no_multipart(uploads: Uploads, small_mp4: bytes) -> None:
    files = {"video": ("x.mp4", small_mp4, "video/mp4")}
    response = uploads.post(files, path="/api/exercises/yoga/upload/")
    uploads.assert_refused(response, 404, "squat")
    response = uploads.client.post(UPLOAD, files=files)
    uploads.assert_refused(response, 401, "")
    response = uploads.client.post(UPLOAD, content=small_mp4, headers=bearer(uploads.token))
    uploads.assert_refused(response, 415, "multipart")


def _multipart(video: bytes) -> tuple[bytes, str]:
    boundary = "posecoach-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="video"; filename="a.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    return head + video + f"\r\n--{boundary}--\r\n".encode(), boundary


def test_over_the_size_cap_with_and_without_content_length(
    tight: Uploads, small_mp4: bytes
) -> None:
    files = {"video": ("a.mp4", small_mp4, "video/mp4")}
    tight.assert_refused(tight.post(files), 413, "larger than")
    body, boundary = _multipart(small_mp4 * 40)  # past the cap plus multipart room
    headers = {**bearer(tight.token), "Content-Type": f"multipart/form-data; boundary={boundary}"}

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer encoding
        for i in range(0, len(body), 4096):
            yield body[i : i + 4096]

    response = tight.client.post(UPLOAD, content=chunks(), headers=headers)
    tight.assert_refused(response, 413, "larger than")
    headers["Content-Length"] = str(len(body))  # declared: refused before the body is read
    tight.assert_refused(tight.client.post(UPLOAD, content=body, headers=headers), 413, "larger")


def test_over_the_duration_cap(
    tmp_path: Path, database_url: str, engine: Engine, small_mp4: bytes
) -> None:
    for up in _uploads(tmp_path, database_url, engine, upload_max_duration_s=1.5):
        response = up.post({"video": ("a.mp4", small_mp4, "video/mp4")})
        # Decoding stopped at the cap: how much longer the video is was never read.
        up.assert_refused(response, 413, "longer than the 1.5 s allowed")


def test_over_the_frames_cap(
    tmp_path: Path, database_url: str, engine: Engine, small_mp4: bytes
) -> None:
    for up in _uploads(tmp_path, database_url, engine, upload_max_frames=49):
        response = up.post({"video": ("a.mp4", small_mp4, "video/mp4")})  # 50 frames
        up.assert_refused(response, 413, "50 frames to analyse; at most 49")


def test_quota_of_queued_jobs(
    tmp_path: Path, database_url: str, engine: Engine, small_mp4: bytes
) -> None:
    caps = {"upload_max_queued": 2}
    for up in _uploads(tmp_path, database_url, engine, **caps):
        files = {"video": ("a.mp4", small_mp4, "video/mp4")}
        assert [up.post(files).status_code for _ in range(2)] == [201, 201]
        refused = up.post(files)
        assert refused.status_code == 429 and "at most 2" in refused.json()["error"]
        assert refused.headers["Retry-After"]
        assert up.videos() == 2 and up.rows() == 2 and up.files_left() == []
        other = register_user(up.client)["access"]  # quotas are per user
        assert up.post(files, token=other).status_code == 201


def test_byte_quota_refuses_after_the_body_and_leaves_nothing(
    tmp_path: Path, database_url: str, engine: Engine, small_mp4: bytes
) -> None:
    caps = {"upload_quota_bytes": len(small_mp4) + 10}
    for up in _uploads(tmp_path, database_url, engine, **caps):
        files = {"video": ("a.mp4", small_mp4, "video/mp4")}
        assert up.post(files).status_code == 201
        refused = up.post(files)
        assert refused.status_code == 413 and "quota" in refused.json()["error"]
        assert up.videos() == 1 and up.rows() == 1 and up.files_left() == []


def test_analyses_are_the_owners_only_listed_newest_first_and_deleted(
    uploads: Uploads, small_mp4: bytes
) -> None:
    files = {"video": ("a.mp4", small_mp4, "video/mp4")}
    ids = [uploads.post(files).json()["analysis_id"] for _ in range(3)]
    mine = bearer(uploads.token)
    listed = uploads.client.get("/api/exercises/analyses/?limit=2", headers=mine).json()
    assert [a["id"] for a in listed] == [ids[2], ids[1]]
    rest = uploads.client.get("/api/exercises/analyses/?limit=2&offset=2", headers=mine).json()
    assert [a["id"] for a in rest] == [ids[0]]
    other = bearer(register_user(uploads.client)["access"])
    path = f"/api/exercises/analyses/{ids[0]}/"
    for method in ("GET", "DELETE"):
        response = uploads.client.request(method, path, headers=other)
        assert response.status_code == 404 and set(response.json()) == {"error"}
    assert uploads.client.get("/api/exercises/analyses/", headers=other).json() == []
    assert uploads.client.get("/api/exercises/analyses/x/", headers=mine).status_code == 404
    assert uploads.chunks(ids[0]) == 1
    assert uploads.client.delete(path, headers=mine).status_code == 204
    assert uploads.client.get(path, headers=mine).status_code == 404
    assert uploads.chunks(ids[0]) == 0  # the video went with the row
    assert uploads.videos() == 2 and uploads.rows() == 2
