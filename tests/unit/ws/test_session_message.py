"""frame_processed: the contract's metrics, and the events extension's sides, tempo and sets."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from api.session_core import SessionCore
from api.ws.session import ExerciseSession
from inference.tracking import StreamTracker
from inference.types import FrameResult
from tests.unit.analyzers.test_sides_and_starts import arm_depths, curl_frames

CONTRACT = {"counter", "form_accuracy", "stage", "form_feedback"}


def _messages(extensions: frozenset[str]) -> list[dict[str, Any]]:
    core = SessionCore.open(
        key="k",
        exercise="bicep_curl",
        source="live",
        started_at=datetime.now(UTC),
        stream=StreamTracker(),
        body_weight_kg=None,
        set_gap_s=20.0,
    )
    session = ExerciseSession(user_id=1, core=core, extensions=extensions)
    out = []
    for i, (t, pose) in enumerate(curl_frames(arm_depths([("left", 0.0), ("right", 0.0)]))):
        update = core.update(pose, t)
        result = FrameResult(pose=pose, next_roi=None)
        out.append(session.frame_message(update, result, i, {}))
    return out


def test_without_extensions_the_metrics_are_exactly_the_contract() -> None:
    messages = _messages(frozenset())
    assert all(set(m["metrics"]) == CONTRACT and "events" not in m for m in messages)
    assert messages[-1]["metrics"]["counter"] == 2


def test_events_extension_adds_sides_set_and_rep_details() -> None:
    messages = _messages(frozenset({"events"}))
    last = messages[-1]["metrics"]
    assert set(last) >= CONTRACT
    assert (last["reps_left"], last["reps_right"], last["set"]) == (1, 1, 1)
    reps = [e for m in messages for e in m["events"] if e["kind"] == "rep_completed"]
    assert [e["rep"] for e in reps] == [1, 2] and [e["side"] for e in reps] == ["left", "right"]
    first = reps[0]
    assert first["faults"] == [] and first["set_index"] == 1 and first["good"] is True
    assert first["concentric_s"] > 0 and first["eccentric_s"] > 0 and first["range_deg"] > 90
    assert first["bottom_pause_s"] is None and reps[1]["bottom_pause_s"] >= 0
