"""Video files, the one module that opens them: probe, timed frames at a rate, resize, JPEG.

Every reader of a video file goes through here: the upload endpoint (validation before
anything is stored), the analysis path (``posecoach analyze`` and upload jobs,
:mod:`inference.analysis`), the ``posecoach client`` streamer, the benches and the tests.
Nothing is taken from headers on trust: :func:`probe` decodes the whole file in order
(:mod:`inference.video_decode`, PyAV) and counts what decodes, and each frame carries its
own container timestamp, so variable frame rates, edit lists and Matroska files read as
a player shows them. Two samplings, both by time (:mod:`inference.video_sampling`):
:func:`read_frames` keeps at most ``rate`` frames per second, evenly (analysis);
:func:`camera_frames` keeps the frames a camera at a given rate would capture (the
streamer). Frames are upright BGR arrays with their time in the video.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from inference.video_decode import (
    VideoDecoder,
    VideoProbeError,
    VideoTooLargeError,
    upright_bgr,
    upright_size,
)
from inference.video_sampling import CameraSampler, EvenSampler, count_kept

__all__ = [
    "DEFAULT_MAX_RATE",
    "VideoInfo",
    "VideoProbeError",
    "VideoTooLargeError",
    "camera_frames",
    "encode_jpeg",
    "fit_within",
    "jpeg_frames",
    "probe",
    "read_frames",
]

#: Default analysis rate ceiling: a camera-paced live session sends about this many.
DEFAULT_MAX_RATE = 30.0
#: Average frame rates above this are not a video (a file of near-equal timestamps).
MAX_FPS = 1000.0


@dataclass(frozen=True)
class VideoInfo:
    """What decoding the whole file found: its frames, their times, its upright size."""

    #: Frames that decode with a time after the one before (what the readers yield).
    frames: int
    #: From the first frame's time to the end of the last frame.
    duration_s: float
    width: int
    height: int
    #: Each frame's time in seconds from the first (for counting what a rate keeps).
    times: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False, compare=False)

    @property
    def fps(self) -> float:
        """Average frame rate: frames over duration (a phone's rate varies)."""
        return self.frames / self.duration_s

    def sampled_frames(self, rate: float | None) -> int:
        """How many frames :func:`read_frames` yields at ``rate`` (None: the default)."""
        return count_kept(EvenSampler(_ceiling(rate)), self.times)

    def camera_frame_count(self, rate: float) -> int:
        """How many frames :func:`camera_frames` yields at ``rate`` frames/s."""
        return count_kept(CameraSampler(rate), self.times)


def _ceiling(rate: float | None) -> float:
    return DEFAULT_MAX_RATE if rate is None else rate


def probe(
    path: str | Path,
    *,
    strict: bool = True,
    max_side: int | None = None,
    max_duration_s: float | None = None,
    max_frames: int | None = None,
) -> VideoInfo:
    """Decode ``path`` in order and tell what it holds; raise VideoProbeError if it is not
    a video that decodes, saying why in words.

    Frames the decoder refuses are skipped; ``strict`` (uploads, ``posecoach analyze``)
    also refuses a file cut short (it ends inside a frame or before the data its index
    lists) and one where most frames are damaged; ``strict=False`` (a camera-like client
    streams whatever decodes) takes what decodes. Bounds on the work, each refused with
    VideoTooLargeError: ``max_side`` from the stream header before a pixel is decoded
    (and on every frame), ``max_duration_s`` and ``max_frames`` as soon as decoding
    passes them. A path that does not exist raises FileNotFoundError naming it.
    """
    times: list[float] = []
    size = (0, 0)
    with VideoDecoder(path, max_side=max_side) as video:
        for t, frame in video.frames():
            if not times:
                size = upright_size(frame)
            if max_duration_s is not None and t >= max_duration_s:
                raise VideoTooLargeError(f"video is longer than the {max_duration_s:g} s allowed")
            if max_frames is not None and len(times) >= max_frames:
                raise VideoTooLargeError(f"video has more than the {max_frames} frames allowed")
            times.append(float(t))
        report = video.report
    if not times:
        raise VideoProbeError("no frame of the video decodes")
    if strict and report.cut_short:
        raise VideoProbeError(
            f"the video is truncated: the file ends inside its frame data "
            f"after {len(times)} frames ({float(report.end):.1f} s)"
        )
    if strict and report.damaged > len(times):
        raise VideoProbeError(
            f"most of the video does not decode: {report.damaged} frames are damaged, "
            f"{len(times)} decode"
        )
    duration_s = float(report.end)
    if len(times) > MAX_FPS * duration_s:
        raise VideoProbeError(
            f"the video's frame times are not a video's: {len(times)} frames in {duration_s:.3f} s"
        )
    return VideoInfo(len(times), duration_s, size[0], size[1], np.array(times))


def read_frames(
    path: str | Path, rate: float | None = None, *, step: int | None = None
) -> Iterator[tuple[float, np.ndarray]]:
    """``(t, BGR frame)`` of the frames that decode, ``t`` the frame's own time in the
    video (from its container timestamp), so the analyzer sees the video's real pace.

    Kept: at most ``rate`` frames per second, evenly by time (None: the video's own rate
    up to 30 fps); or, with ``step``, every ``step``-th frame that decodes (tools that
    want every frame). A file cut short yields what decodes.
    """
    if step is not None:
        if step < 1:
            raise ValueError("step must be at least 1")
        index = itertools.count()
        return _decoded(path, lambda _t: next(index) % step == 0)
    return _decoded(path, EvenSampler(_ceiling(rate)).keep)


def camera_frames(path: str | Path, rate: float) -> Iterator[tuple[float, np.ndarray]]:
    """``(t, BGR frame)`` for the frames a camera running at ``rate`` frames/s would capture.

    ``t`` is the frame's own time in the video, so a client that sends each frame at
    ``start + t`` plays the file in real time. At a rate at or above the file's every
    frame is used; below it the kept frames are whole source frames, 1/rate apart on
    average (25 fps at 15 keeps 3 frames in 5).
    """
    return _decoded(path, CameraSampler(rate).keep)


def _decoded(path: str | Path, keep: Callable[[float], bool]) -> Iterator[tuple[float, np.ndarray]]:
    """The frames whose time ``keep`` accepts; the others are decoded, never converted."""
    with VideoDecoder(path) as video:
        for t, frame in video.frames():
            seconds = float(t)
            if keep(seconds):
                yield seconds, upright_bgr(frame)


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
