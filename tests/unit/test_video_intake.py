"""Video intake by decoding: real files written with PyAV (tests/videos.py), the kinds
phones, editors and browsers make, read as a player shows them whatever their headers say.
"""

from __future__ import annotations

import random
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from inference.video_decode import VideoDecoder
from inference.videofile import (
    VideoProbeError,
    VideoTooLargeError,
    camera_frames,
    probe,
    read_frames,
)
from tests import videos


def _phone_times() -> list[float]:
    """Two seconds of a phone's variable rate (20 to 50 ms apart), a 1.5 s pause in the
    timestamps (a paused recording), then a second at 30 fps."""
    rng = random.Random(7)
    times = [0.0]
    for _ in range(59):
        times.append(times[-1] + rng.choice((0.02, 0.033, 0.05)))
    times += [times[-1] + 1.5 + i / 30 for i in range(30)]
    return [round(t * videos.TICKS) / videos.TICKS for t in times]


def _grey(frame: np.ndarray) -> float:
    """The frame's grey level away from its red mark (tests/videos.py's picture)."""
    return float(frame[-8:, -8:].mean())


def test_a_variable_frame_rate_is_read_with_each_frames_own_time(tmp_path: Path) -> None:
    times = _phone_times()
    video = videos.write(tmp_path / "phone.mp4", times, codec=videos.encoder("libx264"))
    info = probe(video)
    assert info.frames == len(times) == 90
    assert times[-1] < info.duration_s <= times[-1] + 0.05  # to the last frame's end
    assert info.fps == pytest.approx(info.frames / info.duration_s)
    read = [t for t, _ in read_frames(video, step=1)]
    assert read == pytest.approx(times, abs=1e-6)  # the container's times, gap included


def test_sampling_at_a_rate_goes_by_time_not_by_index(tmp_path: Path) -> None:
    times = _phone_times()
    video = videos.write(tmp_path / "phone.mp4", times, codec=videos.encoder("libx264"))
    info = probe(video)
    kept = [t for t, _ in read_frames(video, rate=15)]
    assert len(kept) == info.sampled_frames(15)
    assert set(np.round(kept, 6)) <= set(np.round(times, 6))  # whole frames, own times
    gaps = np.diff(kept)
    # At most 15 per second, evenly: a kept frame is never sooner than 1/15 s less half
    # the source's 50 ms spacing, and no burst follows the pause.
    assert gaps.min() >= 1 / 15 - 0.025 - 1e-6
    assert len(kept) <= 15 * info.duration_s + 1
    after_pause = [g for t, g in zip(kept[1:], gaps, strict=True) if t > times[59] + 1.0]
    assert min(after_pause) >= 1 / 15 - 1 / 60
    camera = [t for t, _ in camera_frames(video, 10.0)]
    assert len(camera) == info.camera_frame_count(10.0)
    before, after = [t for t in camera if t <= times[59]], [t for t in camera if t > times[59]]
    assert np.diff(before).mean() == pytest.approx(0.1, abs=0.01)  # a camera's slots
    assert np.diff(after) == pytest.approx(0.1)  # every third frame: no catching up


def test_frames_an_edit_list_hides_are_not_counted(tmp_path: Path) -> None:
    # The sample table (OpenCV's frame count) lists 30 frames; the edit list shows the
    # last 25. Trusting the count, the old probe refused it as truncated.
    written = videos.every(25, 30)
    video = videos.write(tmp_path / "edited.mp4", written, hidden_before=5)
    assert cv2.VideoCapture(str(video)).get(cv2.CAP_PROP_FRAME_COUNT) == 30
    info = probe(video)
    assert info.frames == 25 and info.duration_s == pytest.approx(1.0, abs=0.05)
    frames = list(read_frames(video, step=1))
    assert [t for t, _ in frames] == pytest.approx(videos.every(25, 25), abs=1e-6)
    first = videos.picture(5, 64, 48)  # the sixth frame written is the first shown
    assert _grey(frames[0][1]) == pytest.approx(float(first[-1, -1, 0]), abs=4)


@pytest.mark.parametrize("codec", ["libvpx", "libvpx-vp9"], ids=["vp8", "vp9"])
def test_a_webm_named_mp4_is_read_by_its_content(tmp_path: Path, codec: str) -> None:
    # A browser's MediaRecorder: WebM in a .mp4 name, millisecond times, no frame count.
    codec = videos.encoder(codec)
    video = videos.write(
        tmp_path / "recording.mp4", videos.every(30, 24), codec=codec, container="webm"
    )
    assert video.read_bytes()[:4] == b"\x1a\x45\xdf\xa3"
    info = probe(video)
    assert info.frames == 24 and info.duration_s == pytest.approx(0.8, abs=0.01)
    times = [t for t, _ in read_frames(video)]  # 33/34 ms apart: every frame at 30 fps
    assert len(times) == info.sampled_frames(None) == 24
    assert times == pytest.approx(videos.every(30, 24), abs=0.001)


@pytest.mark.parametrize(
    ("codec", "container", "name"),
    [
        ("libx264", None, "h264.mp4"),
        ("libx265", None, "hevc.mp4"),
        ("libvpx", "webm", "vp8.webm"),
        ("libvpx-vp9", "webm", "vp9.webm"),
        ("libsvtav1", "matroska", "av1.mkv"),
    ],
    ids=["h264", "hevc", "vp8", "vp9", "av1"],
)
def test_each_codec_the_wheel_encodes_decodes(
    tmp_path: Path, codec: str, container: str | None, name: str
) -> None:
    video = videos.write(
        tmp_path / name, videos.every(30, 15), codec=videos.encoder(codec), container=container
    )
    info = probe(video)
    assert (info.frames, info.width, info.height) == (15, 64, 48)
    frames = list(read_frames(video, step=1))
    assert len(frames) == 15 and frames[0][1].shape == (48, 64, 3)
    assert _grey(frames[-1][1]) == pytest.approx(videos.picture(14, 64, 48)[-1, -1, 0], abs=4)


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_a_phone_video_comes_out_upright(tmp_path: Path, rotation: int) -> None:
    # Stored sideways with a display matrix, as a phone held upright records.
    video = videos.write(tmp_path / "phone.mp4", videos.every(25, 5), rotation=rotation)
    info = probe(video)
    assert (info.width, info.height) == (64, 48)  # the upright picture's size
    _, frame = next(read_frames(video))
    assert frame.shape == (48, 64, 3) and frame.flags.c_contiguous
    assert frame[:8, :8].mean(axis=(0, 1)) == pytest.approx((0, 0, 255), abs=12)  # mark
    assert frame[-8:, -8:, 2].mean() < 150  # and nowhere else
    # OpenCV turns it the same way (its own reading of the display matrix).
    ok, theirs = cv2.VideoCapture(str(video)).read()
    assert ok and theirs.shape == frame.shape
    assert np.abs(theirs.astype(int) - frame.astype(int)).mean() < 2


def test_a_file_cut_inside_its_media_data_is_refused_strictly(tmp_path: Path) -> None:
    # Index first (faststart), media data cut: the index promises frames that are gone.
    whole = videos.write(tmp_path / "whole.mp4", videos.every(25, 50), movflags="faststart")
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 3 // 4])
    with pytest.raises(VideoProbeError, match="truncated: the file ends inside its frame data"):
        probe(cut)
    lenient = probe(cut, strict=False)
    assert 0 < lenient.frames < 50
    assert len(list(read_frames(cut, step=1))) == lenient.frames


def test_what_does_not_decode_is_refused_in_words(tmp_path: Path) -> None:
    video = videos.write(tmp_path / "noise.mp4", videos.every(25, 10))
    videos.garble_mdat(video)  # the container opens and lists ten frames of noise
    for strict in (True, False):
        with pytest.raises(VideoProbeError, match="no frame of the video decodes"):
            probe(video, strict=strict)
    text = tmp_path / "notes.mp4"
    text.write_text("just some notes\n" * 20)
    with pytest.raises(VideoProbeError, match="not a video that can be decoded"):
        probe(text)
    sound = tmp_path / "sound.mp4"
    with av.open(str(sound), "w") as out:
        stream = out.add_stream("aac", rate=44100)
        samples = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
        )
        samples.sample_rate = 44100
        for packet in [*stream.encode(samples), *stream.encode(None)]:
            out.mux(packet)
    with pytest.raises(VideoProbeError, match="no video stream"):
        probe(sound)


def test_decoding_stops_at_the_caps(tmp_path: Path) -> None:
    video = videos.write(tmp_path / "two.mp4", videos.every(25, 50))
    with pytest.raises(VideoTooLargeError, match=r"longer than the 1\.5 s allowed"):
        probe(video, max_duration_s=1.5)
    with pytest.raises(VideoTooLargeError, match="more than the 20 frames allowed"):
        probe(video, max_frames=20)
    assert probe(video, max_duration_s=2.0, max_frames=50).frames == 50


@pytest.mark.parametrize("size", [(16000, 16), (16, 16000)])
def test_an_oversized_frame_is_refused_on_opening_before_any_frame_is_decoded(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    video = videos.write(tmp_path / "huge.mp4", videos.every(30, 3), size=size)
    with pytest.raises(VideoTooLargeError, match="at most 4096 pixels per side"):
        VideoDecoder(video, max_side=4096)  # opening reads headers; frames() is never called
