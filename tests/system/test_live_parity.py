"""Live over the WebSocket (real Ray Serve) equals `posecoach analyze`, on every counted clip.

Each clip is streamed as a camera would: JPEG frames with their capture time ``t``, paced
at the clip's frame rate (the server does not let a client's clock run ahead of its
own). `posecoach analyze` runs on a lossless copy of exactly the frames sent (each
JPEG decoded, written as FFV1), so both paths see the same pixels and any difference is
the pipeline's own: tracking, timestamps, batching, dropped frames. Both must give the
manifest's count and the same per-rep start and end times, within one frame.

Slow by nature: each clip takes its own length to stream (about 4.5 min of video).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import pytest
from websockets.sync.client import ClientConnection, connect

from api.cli import main as posecoach
from tests.conftest import VIDEOS_DIR
from tests.system.test_serve import _register

MANIFEST = VIDEOS_DIR / "manifest.json"
JPEG_QUALITY = 90


def _counted_clips() -> list[dict[str, Any]]:
    """Real clips with a rep count (the animated sanity clips and holds are left out)."""
    if not MANIFEST.exists():
        return []
    videos = json.loads(MANIFEST.read_text())["videos"]
    return [v for v in videos if v.get("reps") and "use" not in v]


pytestmark = [
    pytest.mark.ray,
    pytest.mark.video,
    pytest.mark.skipif(not MANIFEST.exists(), reason=f"shared clips not found at {VIDEOS_DIR}"),
]


def _frames_sent(clip: Path, copy: Path) -> tuple[list[bytes], float]:
    """The clip as JPEG frames, and the same frames decoded into a lossless FFV1 copy."""
    cap = cv2.VideoCapture(str(clip))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    jpegs: list[bytes] = []
    writer: cv2.VideoWriter | None = None
    try:
        while (read := cap.read())[0]:
            ok, buf = cv2.imencode(".jpg", read[1], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            assert ok
            jpegs.append(buf.tobytes())
            decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
            if writer is None:
                h, w = decoded.shape[:2]
                writer = cv2.VideoWriter(str(copy), cv2.VideoWriter.fourcc(*"FFV1"), fps, (w, h))
                assert writer.isOpened(), "OpenCV cannot write FFV1 here"
            writer.write(decoded)
    finally:
        cap.release()
        if writer is not None:
            writer.release()
    return jpegs, fps


def _offline(copy: Path, exercise: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert posecoach(["analyze", str(copy), "--exercise", exercise, "--json"]) == 0
    summary: dict[str, Any] = json.loads(capsys.readouterr().out)
    return summary


def _stream(base: str, exercise: str, jpegs: list[bytes], fps: float) -> dict[str, Any]:
    """Send the frames paced at ``fps``; the ``exercise_completed`` message, with the
    ``frame_processed`` replies under ``replies``."""
    token = _register(base)
    replies: list[dict[str, Any]] = []
    with connect(f"ws://{base}/ws/exercise/{exercise}/?token={token}", max_size=None) as ws:
        ws.send(json.dumps({"type": "start_exercise", "extensions": ["events", "stats"]}))
        assert json.loads(ws.recv(timeout=30))["type"] == "exercise_started"
        done: dict[str, Any] = {}
        receiver = threading.Thread(target=_receive, args=(ws, replies, done))
        receiver.start()
        start = time.monotonic() + 0.05  # after the server's session clock started
        for i, jpeg in enumerate(jpegs):
            time.sleep(max(0.0, start + i / fps - time.monotonic()))
            frame = {"frame": base64.b64encode(jpeg).decode(), "frame_id": i, "t": i / fps}
            ws.send(json.dumps(frame))
        ws.send(json.dumps({"type": "stop_exercise"}))
        receiver.join(120)
    assert done, "no exercise_completed"
    return done | {"replies": replies}


def _receive(ws: ClientConnection, replies: list[dict[str, Any]], done: dict[str, Any]) -> None:
    while True:
        message = json.loads(ws.recv(timeout=60))
        if message["type"] == "exercise_completed":
            done.update(message)
            return
        replies.append(message)


@pytest.mark.parametrize("clip", _counted_clips(), ids=lambda v: v["file"])
def test_live_session_equals_posecoach_analyze(
    serve_url: str, clip: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "sent.avi"
    jpegs, fps = _frames_sent(VIDEOS_DIR / clip["file"], copy)
    offline = _offline(copy, clip["exercise"], capsys)
    live = _stream(serve_url, clip["exercise"], jpegs, fps)
    frames = live["frames"]
    errors = [r for r in live["replies"] if r["type"] == "error"]
    assert not errors and frames["failed"] == 0, errors[:3]
    assert frames["processed"] == len(jpegs), frames  # every frame analysed, none dropped
    assert live["reps"] == offline["reps"] == clip["reps"], (live["reps"], offline["reps"])
    assert live["replies"][-1]["metrics"]["counter"] == live["reps"]
    reps_live, reps_offline = live["summary"]["rep_details"], offline["rep_details"]
    events = [e for r in live["replies"] for e in r.get("events", [])]
    assert len([e for e in events if e["kind"] == "rep_completed"]) == live["reps"]
    frame = 1.0 / fps
    for a, b in zip(reps_live, reps_offline, strict=True):
        assert (a["side"], a["set_index"]) == (b["side"], b["set_index"])
        assert a["start_s"] == pytest.approx(b["start_s"], abs=frame), (a, b)
        assert a["end_s"] == pytest.approx(b["end_s"], abs=frame), (a, b)
    if offline.get("reps_left") is not None:
        assert (live["summary"]["reps_left"], live["summary"]["reps_right"]) == (
            offline["reps_left"],
            offline["reps_right"],
        )
