"""A video file as a camera would deliver it: JPEG frames with their capture times."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2

#: Longer sides above this are scaled down before encoding, as a phone's stream would be.
MAX_SIDE = 1280
JPEG_QUALITY = 85


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video."""

    fps: float
    frames: int

    @property
    def duration_s(self) -> float:
        """Length in seconds (0 when the container does not say)."""
        return self.frames / self.fps if self.fps > 0 else 0.0

    def frames_at(self, rate: float) -> int:
        """How many frames :func:`camera_frames` yields at ``rate`` frames/s."""
        step = max(1.0, self.fps / rate)
        return int(self.frames / step + 0.999) if self.frames else 0


def probe(path: Path) -> VideoInfo:
    """Frame rate and frame count; FileNotFoundError when it cannot be opened."""
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise FileNotFoundError(f"cannot open video {path}")
        return VideoInfo(cap.get(cv2.CAP_PROP_FPS) or 30.0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT)))
    finally:
        cap.release()


def camera_frames(path: Path, rate: float) -> Iterator[tuple[float, bytes]]:
    """``(t, JPEG)`` for the frames a camera running at ``rate`` frames/s would capture.

    ``t`` is the frame's own time in the video (index / container fps), so a client that
    sends each frame at ``start + t`` plays the file in real time. At a rate at or above
    the file's every frame is used.
    """
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise FileNotFoundError(f"cannot open video {path}")
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    next_t = 0.0
    index = 0
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                return
            t = index / fps
            index += 1
            # Half a source frame of slack: 25 fps sampled at 15 keeps 3 frames in 5.
            if t + 0.5 / fps < next_t:
                continue
            next_t += 1.0 / rate
            yield t, _jpeg(frame)
    finally:
        cap.release()


def _jpeg(frame: cv2.typing.MatLike) -> bytes:
    height, width = frame.shape[:2]
    scale = MAX_SIDE / max(height, width)
    if scale < 1.0:
        frame = cv2.resize(frame, (round(width * scale), round(height * scale)))
    ok, buffer = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("could not encode a frame as JPEG")
    return buffer.tobytes()
