"""inference.videofile's probe: strict for uploads, lenient for a camera-like client."""

from __future__ import annotations

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
