"""inference.videofile's probe: strict for uploads, lenient for a camera-like client."""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from inference.videofile import VideoProbeError, camera_frames, probe


def _avi(path: Path, frames: int = 50) -> Path:
    # MJPG in AVI: the header promises its frame count and a cut file still demuxes.
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 25.0, (64, 48))
    for i in range(frames):
        writer.write(np.full((48, 64, 3), (i * 5) % 255, np.uint8))
    writer.release()
    return path


def test_a_file_cut_short_fails_the_strict_probe_but_still_streams(tmp_path: Path) -> None:
    whole = _avi(tmp_path / "whole.avi")
    cut = tmp_path / "cut.avi"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    assert probe(whole).frames == 50
    with pytest.raises(VideoProbeError, match="truncated"):
        probe(cut)
    lenient = probe(cut, strict=False)  # what decodes, never the header's promise of 50
    streamed = list(camera_frames(cut, 25.0))
    assert 0 < len(streamed) == lenient.frames < 50  # what decodes, and nothing more


@pytest.mark.parametrize("claimed", [2, 4_000_000_000], ids=["too-few", "absurd"])
def test_a_header_frame_count_is_not_believed(tmp_path: Path, claimed: int) -> None:
    # The AVI main header's total, the stream's length and the OpenDML total all claim
    # ``claimed`` frames; OpenCV believes them, the probe counts what decodes.
    video = _avi(tmp_path / "lying.avi", frames=20)
    data = bytearray(video.read_bytes())
    for chunk, offset in ((b"avih", 16), (b"strh", 32), (b"dmlh", 0)):
        at = data.find(chunk)
        assert at >= 0, chunk
        struct.pack_into("<I", data, at + 8 + offset, claimed)
    video.write_bytes(bytes(data))
    assert cv2.VideoCapture(str(video)).get(cv2.CAP_PROP_FRAME_COUNT) == claimed
    info = probe(video)
    assert (info.frames, info.duration_s) == (20, pytest.approx(0.8))
    times = [t for t, _ in camera_frames(video, 25.0)]
    assert times == pytest.approx([i / 25 for i in range(20)])
