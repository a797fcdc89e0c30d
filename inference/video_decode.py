"""Decoding a video file in order with PyAV (FFmpeg in a wheel): each frame with the time
its container gives it, and upright.

Why decode rather than believe headers: phone and editor files often carry headers that
do not match their frames. A sample table can list frames that an edit list hides, a
variable frame rate has only an average in the header (so a seek by index lands nowhere),
and Matroska/WebM from a browser's MediaRecorder has no frame count at all. What decodes,
in order, with its own timestamp, is the truth; :mod:`inference.videofile` builds its
probe and its frame readers on :class:`VideoDecoder`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

#: A frame's duration when neither the frame nor its neighbours tell it (one-frame files).
FALLBACK_FRAME_S = Fraction(1, 30)


class VideoProbeError(ValueError):
    """The file is not a video that decodes (empty, truncated, not a container); safe to show."""


class VideoTooLargeError(VideoProbeError):
    """The video is larger than allowed: its frames (from the stream header, before any
    frame is decoded), its length or its number of frames; safe to show."""


@dataclass
class DecodeReport:
    """What decoding a file found so far; :meth:`VideoDecoder.frames` fills it in."""

    #: Frames given out: decoded, each with a time after the one before.
    frames: int = 0
    #: Decoded frames whose time did not move forward (a player shows them for no time).
    dropped: int = 0
    #: Packets the decoder refused; they are skipped.
    damaged: int = 0
    #: The file ends inside a packet, or before the data its index lists: it was cut.
    cut_short: bool = False
    #: Where the last frame given out ends (its time plus its duration), in seconds.
    end: Fraction = Fraction(0)


def upright_bgr(frame: VideoFrame) -> np.ndarray:
    """The frame as a BGR array, turned as its display matrix says (phones record their
    sensor's way up and store the turn in the container; FFmpeg reports it
    counter-clockwise, as numpy's rot90 turns). Turns are whole quarter turns."""
    image = frame.to_ndarray(format="bgr24")
    turns = quarter_turns(frame)
    # Contiguous again: OpenCV refuses rot90's strided views.
    return np.ascontiguousarray(np.rot90(image, turns)) if turns else image


def quarter_turns(frame: VideoFrame) -> int:
    """Counter-clockwise quarter turns that make the frame upright (0 to 3)."""
    return round(frame.rotation / 90) % 4


def upright_size(frame: VideoFrame) -> tuple[int, int]:
    """``(width, height)`` of the frame once upright."""
    if quarter_turns(frame) % 2:
        return frame.height, frame.width
    return frame.width, frame.height


class _Clock:
    """Frame times in seconds from the container's timestamps, relative to the first frame.

    A frame without a timestamp comes one interval (the last one seen) after the one
    before. Exact fractions: a 25 fps file of 50 frames lasts exactly 2 s, not 1.9999.
    """

    def __init__(self, stream: VideoStream) -> None:
        self._time_base = stream.time_base
        rate = stream.guessed_rate
        self._fallback = 1 / Fraction(rate) if rate and 0 < rate <= 1000 else FALLBACK_FRAME_S
        self._origin: Fraction | None = None
        self._last: Fraction | None = None
        self._interval: Fraction | None = None
        self.end = Fraction(0)

    def time_of(self, frame: VideoFrame) -> Fraction | None:
        """The frame's time, or None when it does not come after the previous frame's."""
        time_base = frame.time_base or self._time_base
        stamp = frame.pts if frame.pts is not None else frame.dts
        step = self._interval or self._fallback
        if stamp is None or time_base is None:
            t = Fraction(0) if self._last is None else self._last + step
        else:
            at = stamp * Fraction(time_base)
            if self._origin is None:
                # The first stamped frame: earlier unstamped ones keep their place.
                self._origin = at if self._last is None else at - self._last - step
            t = at - self._origin
        if self._last is not None and t <= self._last:
            return None
        if self._last is not None:
            self._interval = t - self._last
        self._last = t
        own = frame.duration * Fraction(time_base) if frame.duration and time_base else None
        self.end = t + (own or self._interval or self._fallback)
        return t


class VideoDecoder:
    """A video file's first video stream, decoded in order by :meth:`frames`.

    Opening reads headers only: the container, the stream's codec and its frame size,
    which ``max_side`` bounds before a pixel is decoded (VideoTooLargeError). A path
    that does not exist raises FileNotFoundError naming it; anything else that does not
    open as a video raises VideoProbeError saying why.
    """

    def __init__(self, path: str | Path, *, max_side: int | None = None) -> None:
        if not Path(path).exists():
            raise FileNotFoundError(f"cannot open video {path}")
        self._max_side = max_side
        self.report = DecodeReport()
        try:
            self._container = av.open(str(path), metadata_errors="replace")
        except av.FFmpegError as exc:
            raise VideoProbeError("not a video that can be decoded") from exc
        try:
            self._stream = self._video_stream()
        except BaseException:
            self._container.close()
            raise

    def _video_stream(self) -> VideoStream:
        if not isinstance(self._container, av.container.InputContainer):
            raise VideoProbeError("not a video that can be decoded")
        streams = self._container.streams.video
        if not streams:
            raise VideoProbeError("the file has no video stream")
        stream = streams[0]
        if stream.codec_context is None:
            raise VideoProbeError("the video's codec cannot be decoded here")
        self._check_size(stream.codec_context.width, stream.codec_context.height)
        # Frame and slice threads: decoding is most of the cost of reading a video.
        stream.thread_type = "AUTO"
        return stream

    def _check_size(self, width: int, height: int) -> None:
        if self._max_side is not None and max(width, height) > self._max_side:
            raise VideoTooLargeError(
                f"the video is {width}x{height}; at most {self._max_side} pixels per side"
            )

    def __enter__(self) -> VideoDecoder:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the file and the decoder."""
        self._container.close()

    def frames(self) -> Iterator[tuple[Fraction, VideoFrame]]:
        """``(t, frame)`` of every frame that decodes, in order, ``t`` in seconds from the
        first frame; :attr:`report` counts what was given, dropped and skipped."""
        clock = _Clock(self._stream)
        for frame in self._decoded():
            t = clock.time_of(frame)
            if t is None:
                self.report.dropped += 1
                continue
            # A stream may change its frame size after the header: checked on each frame.
            self._check_size(frame.width, frame.height)
            self.report.frames += 1
            self.report.end = clock.end
            yield t, frame

    def _decoded(self) -> Iterator[VideoFrame]:
        packets = self._container.demux(self._stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return  # the demuxer's last (empty) packets flushed the decoder
            except av.FFmpegError:
                # The demuxer found less data than the file's index lists ("partial file").
                self.report.cut_short = True
                yield from self._drain()
                return
            if packet.size:
                # A short read marks the packet corrupt: the file ends inside it when it
                # is the last one.
                self.report.cut_short = packet.is_corrupt
            try:
                frames = packet.decode()
            except av.FFmpegError:
                self.report.damaged += 1
                continue
            yield from frames

    def _drain(self) -> Iterator[VideoFrame]:
        """The frames still inside the decoder (reordering delay) after the data ended."""
        try:
            yield from self._stream.codec_context.decode(None)
        except av.FFmpegError:
            self.report.damaged += 1
