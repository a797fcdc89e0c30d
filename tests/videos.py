"""Real video files for intake tests, written with PyAV: any codec the wheel encodes, any
frame times, a display rotation, and headers that do not match the frames.

Each frame is a flat grey that changes frame by frame, with a red 8x8 mark in the
upright picture's top-left corner, so a test can tell which way up a frame came out.
"""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from av.video.stream import VideoStream

#: Ticks per second of the encoders' time base: every test time is a whole tick.
TICKS = 90_000
#: Encoder options that keep the encoders quiet and the files small and quick.
_OPTIONS = {
    "libx264": {"preset": "ultrafast"},
    "libx265": {"preset": "ultrafast", "x265-params": "log-level=error"},
    "libvpx": {"deadline": "realtime", "cpu-used": "8"},
    "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8"},
    "libsvtav1": {"preset": "12"},
}


def encoder(name: str) -> str:
    """``name``, or the test is skipped when this FFmpeg cannot encode with it."""
    try:
        av.codec.Codec(name, "w")
    except (av.FFmpegError, ValueError):  # ValueError: an unknown codec name
        pytest.skip(f"this FFmpeg has no {name} encoder")
    return name


def picture(index: int, width: int, height: int) -> np.ndarray:
    """The upright BGR picture of frame ``index``: grey level by index, a red top-left mark."""
    image = np.full((height, width, 3), (40 + index * 7) % 200, np.uint8)
    image[:8, :8] = (0, 0, 255)
    return image


def write(
    path: Path,
    times: list[float],
    *,
    codec: str = "libx264",
    container: str | None = None,
    size: tuple[int, int] = (64, 48),
    rotation: int = 0,
    hidden_before: int = 0,
    movflags: str | None = None,
) -> Path:
    """Write frames at ``times`` (seconds) to ``path`` and return it.

    ``container`` names the muxer (e.g. "webm" for a .mp4 name); ``size`` is the upright
    picture's (width, height). ``rotation`` (counter-clockwise degrees, a multiple of 90)
    is stored in the display matrix, the frames stored turned the other way, as a phone
    does. ``hidden_before``: that many frames come first with negative times, so the MP4
    muxer writes an edit list that hides them: the sample table (the header's frame
    count) lists frames a player never shows. ``movflags`` "faststart" puts the MP4's
    index before its media data.
    """
    width, height = size
    stored = (height, width) if rotation % 180 else (width, height)
    shift = round(times[hidden_before] * TICKS) if hidden_before else 0
    options = {"movflags": movflags} if movflags else {}
    with av.open(str(path), "w", format=container, options=options) as out:
        stream = out.add_stream(codec, rate=30, options=_OPTIONS.get(codec, {}))
        assert isinstance(stream, VideoStream)
        stream.width, stream.height = stored
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, TICKS)
        if rotation:
            stream.set_display_rotation(rotation)
        for index, t in enumerate(times):
            image = np.rot90(picture(index, width, height), -(rotation // 90))
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
            frame.pts, frame.time_base = round(t * TICKS), Fraction(1, TICKS)
            _mux(out, stream.encode(frame), shift)
        _mux(out, stream.encode(None), shift)
    return path


def _mux(out: av.container.OutputContainer, packets: list[av.Packet], shift: int) -> None:
    for packet in packets:
        if shift and packet.pts is not None and packet.dts is not None:
            packet.pts, packet.dts = packet.pts - shift, packet.dts - shift
        out.mux(packet)


def every(fps: float, count: int) -> list[float]:
    """``count`` frame times at a constant ``fps``, in whole ticks."""
    return [round(i * TICKS / fps) / TICKS for i in range(count)]


def garble_mdat(path: Path) -> None:
    """Overwrite the media data of an MP4 with noise: the container still opens and lists
    its frames, but not one of them decodes."""
    data = bytearray(path.read_bytes())
    at = data.find(b"mdat")
    (size,) = struct.unpack_from(">I", data, at - 4)
    noise = np.random.default_rng(0).integers(0, 256, size - 8, dtype=np.uint8).tobytes()
    data[at + 4 : at - 4 + size] = noise
    path.write_bytes(bytes(data))
