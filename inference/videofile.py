"""Video files: probe what a container really holds, and read it as timed frames.

Both the upload endpoint (validation before anything is stored) and the analysis path
(:mod:`inference.analysis`) read videos through here, with OpenCV's FFmpeg backend.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

#: Default analysis rate ceiling: a camera-paced live session sends about this many.
DEFAULT_MAX_RATE = 30.0


class VideoProbeError(ValueError):
    """The file is not a video that decodes (empty, truncated, not a container); safe to show."""


@dataclass(frozen=True)
class VideoInfo:
    """What the container says and the decoder confirmed."""

    frames: int
    fps: float
    width: int
    height: int

    @property
    def duration_s(self) -> float:
        """Length of the video in seconds."""
        return self.frames / self.fps

    def sampled_frames(self, rate: float | None) -> int:
        """How many frames :func:`read_frames` yields at ``rate`` (None: the default)."""
        step = sampling_step(self.fps, rate)
        return math.ceil(self.frames / step)


def sampling_step(fps: float, rate: float | None) -> int:
    """Keep every n-th frame so that at most ``rate`` frames per second remain.

    ``rate`` None means the video's own rate up to :data:`DEFAULT_MAX_RATE`. Whole steps
    keep the kept frames evenly spaced in the video's own time.
    """
    ceiling = DEFAULT_MAX_RATE if rate is None else rate
    if ceiling <= 0:
        raise ValueError("rate must be positive")
    return max(1, math.ceil(fps / ceiling - 1e-9))


def probe(path: str | Path) -> VideoInfo:
    """Open ``path`` and decode its first and last frames; raise VideoProbeError if it fails.

    Decoding the last frame as well catches files cut short whose index still promises
    the missing frames.
    """
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise VideoProbeError("not a video that can be decoded")
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        if not math.isfinite(fps) or fps <= 0 or fps > 1000 or frames <= 0:
            raise VideoProbeError("the video has no frames or no frame rate")
        ok, first = cap.read()
        if not ok or first is None:
            raise VideoProbeError("the video's first frame does not decode")
        if frames > 1:
            cap.set(cv2.CAP_PROP_POS_FRAMES, frames - 1)
            ok, last = cap.read()
            if not ok or last is None:
                raise VideoProbeError("the video is truncated: its last frame does not decode")
        height, width = first.shape[:2]
        return VideoInfo(frames=frames, fps=fps, width=width, height=height)
    finally:
        cap.release()


def read_frames(path: str | Path, rate: float | None = None) -> Iterator[tuple[float, np.ndarray]]:
    """``(t, BGR frame)`` of the video sampled at ``rate`` (see :func:`sampling_step`).

    ``t`` is the frame's own time in the video (index / fps), so the analyzer sees the
    video's real pace whatever the rate of analysis.
    """
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise VideoProbeError("not a video that can be decoded")
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0) or 30.0
    step = sampling_step(fps, rate)
    index = 0
    try:
        while True:
            if index % step:
                if not cap.grab():  # skipped frames are demuxed, not converted
                    return
            else:
                ok, frame = cap.read()
                if not ok:
                    return
                yield index / fps, frame
            index += 1
    finally:
        cap.release()


def encode_jpeg(frame_bgr: np.ndarray, quality: int = 90) -> bytes:
    """The frame as JPEG bytes, as a camera client would send it."""
    ok, buffer = cv2.imencode(".jpg", frame_bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buffer.tobytes()
