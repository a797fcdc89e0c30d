"""Video files, the one module that opens them: probe, timed frames at a rate, resize, JPEG.

Every reader of a video file goes through here, with OpenCV's FFmpeg backend: the upload
endpoint (validation before anything is stored), the analysis path (``posecoach analyze``
and upload jobs, :mod:`inference.analysis`), the ``posecoach client`` streamer, the benches
and the tests. Two samplings: :func:`read_frames` keeps every n-th frame (evenly spaced,
for analysis); :func:`camera_frames` keeps the frames a camera at a given rate would
capture (the streamer). Frames are BGR arrays with their time in the video.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

#: Default analysis rate ceiling: a camera-paced live session sends about this many.
DEFAULT_MAX_RATE = 30.0


class VideoProbeError(ValueError):
    """The file is not a video that decodes (empty, truncated, not a container); safe to show."""


class VideoTooLargeError(VideoProbeError):
    """The video's frames are larger than allowed (read from the stream header, before any
    frame is decoded); safe to show."""


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

    def camera_frame_count(self, rate: float) -> int:
        """How many frames :func:`camera_frames` yields at ``rate`` frames/s."""
        step = max(1.0, self.fps / rate)
        return int(self.frames / step + 0.999) if self.frames else 0


def sampling_step(fps: float, rate: float | None) -> int:
    """Keep every n-th frame so that at most ``rate`` frames per second remain.

    ``rate`` None means the video's own rate up to :data:`DEFAULT_MAX_RATE`. Whole steps
    keep the kept frames evenly spaced in the video's own time.
    """
    ceiling = DEFAULT_MAX_RATE if rate is None else rate
    if ceiling <= 0:
        raise ValueError("rate must be positive")
    return max(1, math.ceil(fps / ceiling - 1e-9))


def probe(path: str | Path, *, strict: bool = True, max_side: int | None = None) -> VideoInfo:
    """Open ``path`` and decode its first and last frames; raise VideoProbeError if it fails.

    Decoding the last frame as well catches files cut short whose index still promises
    the missing frames; ``strict=False`` skips that check (a camera-like client streams
    whatever decodes, and the count is then the header's). ``max_side``: frames whose
    longer side the stream header gives as larger are refused (VideoTooLargeError) before
    a pixel is decoded. A path that does not exist raises FileNotFoundError naming it.
    """
    if not Path(path).exists():
        raise FileNotFoundError(f"cannot open video {path}")
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise VideoProbeError("not a video that can be decoded")
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        if not math.isfinite(fps) or fps <= 0 or fps > 1000 or frames <= 0:
            raise VideoProbeError("the video has no frames or no frame rate")
        declared = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        if max_side is not None and max(declared) > max_side:
            raise VideoTooLargeError(
                f"the video is {declared[0]}x{declared[1]}; at most {max_side} pixels per side"
            )
        ok, first = cap.read()
        if not ok or first is None:
            raise VideoProbeError("the video's first frame does not decode")
        if strict and frames > 1:
            cap.set(cv2.CAP_PROP_POS_FRAMES, frames - 1)
            ok, last = cap.read()
            if not ok or last is None:
                raise VideoProbeError("the video is truncated: its last frame does not decode")
        height, width = first.shape[:2]
        return VideoInfo(frames=frames, fps=fps, width=width, height=height)
    finally:
        cap.release()


def read_frames(
    path: str | Path, rate: float | None = None, *, step: int | None = None
) -> Iterator[tuple[float, np.ndarray]]:
    """``(t, BGR frame)`` of every n-th frame: n is ``step`` when given, else
    :func:`sampling_step` of ``rate`` (None: the video's own rate up to 30 fps).

    ``t`` is the frame's own time in the video (index / fps), so the analyzer sees the
    video's real pace whatever the rate of analysis.
    """
    if step is not None and step < 1:
        raise ValueError("step must be at least 1")

    def every_nth(fps: float) -> Callable[[int], bool]:
        n = step if step is not None else sampling_step(fps, rate)
        return lambda index: index % n == 0

    return _decoded(path, every_nth)


def camera_frames(path: str | Path, rate: float) -> Iterator[tuple[float, np.ndarray]]:
    """``(t, BGR frame)`` for the frames a camera running at ``rate`` frames/s would capture.

    ``t`` is the frame's own time in the video (index / container fps), so a client that
    sends each frame at ``start + t`` plays the file in real time. At a rate at or above
    the file's every frame is used; below it the kept frames are whole source frames,
    1/rate apart on average (25 fps at 15 keeps 3 frames in 5).
    """
    if rate <= 0:
        raise ValueError("rate must be positive")

    def as_a_camera(fps: float) -> Callable[[int], bool]:
        next_t = 0.0

        def keep(index: int) -> bool:
            nonlocal next_t
            # Half a source frame of slack: 25 fps sampled at 15 keeps 3 frames in 5.
            if index / fps + 0.5 / fps < next_t:
                return False
            next_t += 1.0 / rate
            return True

        return keep

    return _decoded(path, as_a_camera)


def _decoded(
    path: str | Path, sampler: Callable[[float], Callable[[int], bool]]
) -> Iterator[tuple[float, np.ndarray]]:
    """The frames whose index ``sampler(fps)`` keeps; skipped frames are demuxed only."""
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise VideoProbeError("not a video that can be decoded")
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0) or 30.0
    keep = sampler(fps)
    index = 0
    try:
        while True:
            if not keep(index):
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


def fit_within(frame_bgr: np.ndarray, max_side: int) -> np.ndarray:
    """The frame scaled down (aspect kept) so its longer side is at most ``max_side``."""
    height, width = frame_bgr.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1.0:
        return frame_bgr
    return cv2.resize(frame_bgr, (round(width * scale), round(height * scale)))


def encode_jpeg(frame_bgr: np.ndarray, quality: int = 90) -> bytes:
    """The frame as JPEG bytes, as a camera client would send it."""
    ok, buffer = cv2.imencode(".jpg", frame_bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buffer.tobytes()


def jpeg_frames(
    frames: Iterable[tuple[float, np.ndarray]], quality: int = 90, max_side: int | None = None
) -> Iterator[tuple[float, bytes]]:
    """``(t, JPEG)`` of timed BGR frames, each scaled to ``max_side`` first when given."""
    for t, frame in frames:
        yield t, encode_jpeg(frame if max_side is None else fit_within(frame, max_side), quality)
