"""bench/dev_clips.py: clips come out of a local copy of their repository, checked."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import numpy as np

from bench.dev_clips import contact_sheet, extract
from tests import videos


def _repository(mirrors: Path, data: bytes) -> str:
    """A bare copy of owner/clips holding ``data`` at v/clip.mp4; returns the commit."""
    work = mirrors.parent / "work"
    work.mkdir()
    (work / "v").mkdir()
    (work / "v" / "clip.mp4").write_bytes(data)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", str(work)], check=True)
    subprocess.run([*git, "-C", str(work), "add", "."], check=True)
    subprocess.run([*git, "-C", str(work), "commit", "-qm", "clip"], check=True)
    head = subprocess.run(
        ["git", "-C", str(work), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    clone = ["git", "clone", "-q", "--mirror", str(work), str(mirrors / "owner+clips")]
    subprocess.run(clone, check=True)
    return head


def test_extract_copies_checks_and_writes_the_cache_manifest(tmp_path: Path) -> None:
    data = videos.write(tmp_path / "c.mp4", videos.every(25, 5)).read_bytes()
    mirrors = tmp_path / "mirrors"
    mirrors.mkdir()
    commit = _repository(mirrors, data)
    source = {"repo": "owner/clips", "path": "v/clip.mp4", "commit": commit}
    good = {
        "file": "squat_a.mp4",
        "exercise": "squat",
        "reps": 1,
        "sha256": hashlib.sha256(data).hexdigest(),
        "source": source,
    }
    wrong = {**good, "file": "squat_b.mp4", "sha256": "0" * 64}
    missing = {**good, "file": "squat_c.mp4", "source": {**source, "repo": "x/y"}}
    manifest = tmp_path / "dev_clips.json"
    manifest.write_text(json.dumps({"videos": [good, wrong, missing]}))
    cache = tmp_path / "cache"
    assert extract(manifest, mirrors, cache) == 2  # a wrong sha256, a missing repository
    assert (cache / "squat_a.mp4").read_bytes() == data
    listed = json.loads((cache / "manifest.json").read_text())["videos"]
    assert [v["file"] for v in listed] == ["squat_a.mp4"]


def test_contact_sheet_tiles_frames_by_time(tmp_path: Path) -> None:
    video = videos.write(tmp_path / "c.mp4", videos.every(10, 20))  # 2 s
    sheet = contact_sheet(video, every_s=0.5)
    assert sheet.shape == (240, 8 * 240, 3)  # 0.0, 0.5, 1.0, 1.5: one row of 8 tiles
    assert np.count_nonzero(sheet[:, 4 * 240 :]) == 0  # the four spare tiles are blank
