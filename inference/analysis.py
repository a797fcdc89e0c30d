"""The one analysis path for recorded video: offline (`posecoach analyze`) and uploads.

A video is read as timed frames (:func:`inference.videofile.read_frames`), each frame is
sent as a JPEG through a :class:`~inference.pose_client.PoseStream` (the stream owns the
tracking ROI and the smoother, as a live session's does) and its pose goes to the
exercise analyzer with the video's own timestamp. Where the poses come from is the
caller's choice: the in-process engine for the CLI, the Ray Serve pose deployment (the
ingress's batching client, shared with live sessions) for uploads. Both get the same
frames, the same JPEG bytes, the same tracking and the same analyzer, so the same file
gives the same summary.

Frames of one video go one at a time: each frame is cropped with the ROI its
predecessor's pose gave, which is what makes the result independent of timing (a job's
summary does not depend on how busy the backend was). Batching happens across streams:
a job's frame rides in the same backend call as other jobs' and live sessions' frames.
Reading and encoding the next frame overlaps the current frame's pose call.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import numpy as np

from inference.analyzers import AnalyzerUpdate, ExerciseAnalyzer, SessionSummary
from inference.pose_client import InvalidFrameError, PoseStream
from inference.types import FrameResult, Pose
from inference.videofile import encode_jpeg

#: (t, BGR frame, JPEG bytes) of the next frame, or None at the end of the video.
_Encoded = tuple[float, np.ndarray, bytes] | None


@dataclass
class TrackedAnalysis:
    """The per-frame core every session runs: a pose stream feeding an exercise analyzer.

    Live sessions and upload jobs use it through :class:`api.session_core.SessionCore`,
    ``posecoach analyze`` directly; all three take each frame's pose through :meth:`pose`
    and fold it in with :meth:`update`.
    """

    analyzer: ExerciseAnalyzer
    stream: PoseStream

    async def pose(self, jpeg: bytes, t: float) -> FrameResult:
        """The frame's smoothed pose through the stream (it may raise
        :class:`~inference.pose_client.InvalidFrameError` or ``PoseBackendError``)."""
        return await self.stream.estimate(jpeg, t)

    def update(self, pose: Pose | None, t: float) -> AnalyzerUpdate:
        """Fold the frame taken at ``t`` into the analysis (frames in time order)."""
        return self.analyzer.update(pose, t)

    def summary(self) -> SessionSummary:
        """The analyzer's summary of everything so far."""
        return self.analyzer.summary()


@dataclass(frozen=True)
class AnalysedFrame:
    """One frame after tracking and analysis."""

    index: int
    t: float
    frame_bgr: np.ndarray
    #: The smoothed pose result; None when the frame did not decode on the pose side.
    result: FrameResult | None
    update: AnalyzerUpdate


def _next_encoded(frames: Iterator[tuple[float, np.ndarray]]) -> _Encoded:
    item = next(frames, None)
    if item is None:
        return None
    t, frame = item
    return t, frame, encode_jpeg(frame)


async def analyse_frames(
    frames: Iterator[tuple[float, np.ndarray]],
    analysis: TrackedAnalysis,
    *,
    start: int = 0,
) -> AsyncIterator[AnalysedFrame]:
    """Track and analyse ``frames`` (``(t, BGR)``, in time order), yielding each frame.

    Decoding and JPEG encoding run on a worker thread, one frame ahead. A frame that the
    pose side cannot decode counts as a frame without a person; a backend failure
    (:class:`~inference.pose_client.PoseBackendError`) propagates: the caller decides whether
    to retry or give up. ``start`` numbers the first frame (progress after a resume).
    """
    upcoming = asyncio.ensure_future(asyncio.to_thread(_next_encoded, frames))
    index = start
    try:
        while (item := await upcoming) is not None:
            upcoming = asyncio.ensure_future(asyncio.to_thread(_next_encoded, frames))
            t, frame, jpeg = item
            result: FrameResult | None
            try:
                result = await analysis.pose(jpeg, t)
            except InvalidFrameError:
                result = None
            update = analysis.update(None if result is None else result.pose, t)
            yield AnalysedFrame(index, t, frame, result, update)
            index += 1
    finally:
        if not upcoming.done():
            upcoming.cancel()
