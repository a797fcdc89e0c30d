"""Live over the WebSocket (real Ray Serve) equals `posecoach analyze`, on every counted clip.

Each clip is streamed as a camera would: JPEG frames with their capture time ``t``, paced
at the clip's frame rate (:func:`tests.clips.paced`; the server does not let a client's
clock run ahead of its own). A frame also waits for the previous one's answer: on a box
that keeps up this changes nothing, on a slower one the stream falls behind real time
(allowed: capture times may lag the server's clock) instead of losing frames to the
latest-frame-wins scheduler, so every frame is analysed.

`posecoach analyze` runs on the clip itself with ``--rate`` just above its fastest frame
interval, so it keeps every frame as the stream does (at the clip's nominal fps it would
drop frames from a clip whose rate varies): it encodes each decoded frame as JPEG at
quality 90, as :func:`tests.clips.clip_jpegs` does for the stream, so both paths send the
pose engine the same bytes and a difference can only be the pipeline's: tracking,
timestamps, batching. Both must give the manifest's
count and the same per-rep start and end times, within one frame, once the session
clock's offset is taken out (it puts the first frame on the server's arrival time; the
``events`` extension's ``t`` shows it).

Slow by nature: each clip takes at least its own length to stream (about 4.5 min of video
in all), plus the offline run.

``POSECOACH_PARITY_MANIFEST`` points the test at another manifest, such as the dev set's
(``bench/dev_clips.py extract`` writes it): then live must equal ``analyze`` on every
counted clip, whatever the count; the count itself is ``bench/eval_reps.py``'s to score.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from api.cli import main as posecoach
from inference.videofile import probe
from tests.clips import clip_jpegs, paced
from tests.conftest import VIDEOS_DIR, register_over_http

SHARED_MANIFEST = VIDEOS_DIR / "manifest.json"
MANIFEST = Path(os.environ.get("POSECOACH_PARITY_MANIFEST") or SHARED_MANIFEST)
#: On the shared clips both paths must also give the manifest's count.
COUNTS_CHECKED = MANIFEST == SHARED_MANIFEST


def _counted_clips() -> list[dict[str, Any]]:
    """Real clips with a rep count (the animated sanity clips and holds are left out)."""
    if not MANIFEST.exists():
        return []
    videos = json.loads(MANIFEST.read_text())["videos"]
    return [v for v in videos if v.get("reps") and "use" not in v]


pytestmark = [
    pytest.mark.once,  # counting parity: the same on either database
    pytest.mark.ray,
    pytest.mark.video,
    # Each clip is streamed in real time and each frame waits for its answer: on a loaded
    # machine the first clip (with Serve's start) ran past 600 s.
    pytest.mark.timeout(1800),
    pytest.mark.skipif(not MANIFEST.exists(), reason=f"clips not found: {MANIFEST}"),
]


def _frames_sent(clip: Path) -> tuple[list[tuple[float, bytes]], float]:
    """The clip as (t, JPEG) frames, and its fps."""
    return list(clip_jpegs(str(clip))), probe(clip).fps


def _every_frame_rate(frames: list[tuple[float, bytes]], fps: float) -> float:
    """An analysis rate that keeps every frame: just above the clip's fastest frame rate."""
    gaps = [b - a for (a, _), (b, _) in itertools.pairwise(frames) if b > a]
    return 1.01 * max([fps, *(1.0 / g for g in gaps)])


def _offline(
    clip: Path, exercise: str, rate: float, capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    capsys.readouterr()
    argv = ["analyze", str(clip), "--exercise", exercise, "--json", "--rate", str(rate)]
    assert posecoach(argv) == 0
    summary: dict[str, Any] = json.loads(capsys.readouterr().out)
    return summary


def _stream(base: str, exercise: str, frames: list[tuple[float, bytes]]) -> dict[str, Any]:
    """Send the frames in real time; ``exercise_completed``, with the replies under
    ``replies``."""
    token = register_over_http(base)
    replies: list[dict[str, Any]] = []
    done: dict[str, Any] = {}
    answered = threading.Condition()
    with connect(f"ws://{base}/ws/exercise/{exercise}/?token={token}", max_size=None) as ws:
        ws.send(json.dumps({"type": "start_exercise", "extensions": ["events", "stats"]}))
        assert json.loads(ws.recv(timeout=30))["type"] == "exercise_started"
        receiver = threading.Thread(target=_receive, args=(ws, replies, done, answered))
        receiver.start()
        for i, (t, jpeg) in enumerate(paced(frames)):
            with answered:  # never more than one frame ahead of the answers
                assert answered.wait_for(lambda: len(replies) >= i, timeout=60)  # noqa: B023 (used now)
            ws.send(json.dumps({"frame": base64.b64encode(jpeg).decode(), "frame_id": i, "t": t}))
        ws.send(json.dumps({"type": "stop_exercise"}))
        receiver.join(120)
    assert done, "no exercise_completed"
    return done | {"replies": replies}


def _receive(
    ws: ClientConnection,
    replies: list[dict[str, Any]],
    done: dict[str, Any],
    answered: threading.Condition,
) -> None:
    while True:
        message = json.loads(ws.recv(timeout=60))
        if message["type"] == "exercise_completed":
            done.update(message)
            return
        with answered:
            replies.append(message)
            answered.notify()


def _rep_offsets(replies: list[dict[str, Any]], sent: list[float]) -> list[float]:
    """Session time minus capture time at each rep event (the session clock's offset);
    ``sent`` is each frame's capture time by frame id (a clip's frame rate may vary, so
    ``frame_id / fps`` is not it)."""
    return [
        e["t"] - sent[r["frame_id"]]
        for r in replies
        for e in r.get("events", [])
        if e["kind"] == "rep_completed"
    ]


@pytest.mark.parametrize("clip", _counted_clips(), ids=lambda v: v["file"])
def test_live_session_equals_posecoach_analyze(
    serve_url: str, clip: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    frames, fps = _frames_sent(MANIFEST.parent / clip["file"])
    offline = _offline(
        MANIFEST.parent / clip["file"], clip["exercise"], _every_frame_rate(frames, fps), capsys
    )
    live = _stream(serve_url, clip["exercise"], frames)
    counters = live["frames"]
    errors = [r for r in live["replies"] if r["type"] == "error"]
    assert not errors and counters["failed"] == 0, errors[:3]
    assert counters["processed"] == len(frames), counters
    assert live["reps"] == offline["reps"], (live["reps"], offline["reps"])
    if COUNTS_CHECKED:
        assert live["reps"] == clip["reps"], (live["reps"], clip["reps"])
    assert live["replies"][-1]["metrics"]["counter"] == live["reps"]
    if live["reps"] == 0:  # nothing counted on either path: no rep times to compare
        assert offline["rep_details"] == live["summary"]["rep_details"] == []
        return
    reps_live, reps_offline = live["summary"]["rep_details"], offline["rep_details"]
    assert len(reps_live) == len(reps_offline) == live["reps"]
    offsets = _rep_offsets(live["replies"], [t for t, _ in frames])
    # A rep's event comes once its timing is final; the last rep of a clip may settle only
    # when the session stops (then it is in the summary, not in a frame's events). The
    # clock's offset is the session's, so such a rep takes the last one seen. Where no rep
    # settled before the stop (one slow rep), the first rep's start gives the offset, and
    # each rep's end and later reps' starts are still compared.
    assert len(offsets) <= live["reps"], offsets
    if not offsets:
        offsets = [reps_live[0]["start_s"] - reps_offline[0]["start_s"]]
    offsets += [offsets[-1]] * (live["reps"] - len(offsets))
    one_frame = 1.0 / fps
    for a, b, offset in zip(reps_live, reps_offline, offsets, strict=True):
        assert (a["side"], a["set_index"]) == (b["side"], b["set_index"])
        assert a["start_s"] - offset == pytest.approx(b["start_s"], abs=one_frame), (a, b)
        assert a["end_s"] - offset == pytest.approx(b["end_s"], abs=one_frame), (a, b)
    if offline["reps_left"] is not None:
        sides = (live["summary"]["reps_left"], live["summary"]["reps_right"])
        assert sides == (offline["reps_left"], offline["reps_right"])
