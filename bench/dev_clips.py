"""The dev set: third-party clips named in ``bench/dev_clips.json``, kept outside the repo.

    python bench/dev_clips.py extract [--mirrors DIR] [--cache DIR]
    python bench/dev_clips.py sheet VIDEO OUT.png [--every 0.5] [--start S] [--end S]

``extract`` copies each clip out of a local copy of its repository, at the manifest's
commit, into the cache (default ``~/.cache/posecoach/dev_clips``), checks its sha256 and
writes ``manifest.json`` there, with ``file`` naming the cached copy, so
``bench/eval_reps.py CACHE/manifest.json`` scores it. A repository's copy is looked for as
``DIR/<owner>+<name>`` (a bare mirror, or a clone with a ``.git``, searched for its git
directory); ``git clone --mirror https://github.com/<owner>/<name> DIR/<owner>+<name>``
makes one. The videos are never committed.

``sheet`` draws a contact sheet (frames every ``--every`` seconds, each stamped with its
time in the video) for counting by eye.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inference.videofile import read_frames

MANIFEST = Path(__file__).with_name("dev_clips.json")
DEFAULT_CACHE = Path.home() / ".cache" / "posecoach" / "dev_clips"
DEFAULT_MIRRORS = Path("/work/.mirror")


def git_dir(mirrors: Path, repo: str) -> Path | None:
    """The git directory of ``repo``'s local copy under ``mirrors``, if there is one."""
    root = mirrors / repo.replace("/", "+")
    if not root.exists():
        return None
    for candidate in [root, *sorted(root.rglob("HEAD"))]:
        folder = candidate if candidate.is_dir() else candidate.parent
        if (folder / "objects").is_dir() and (folder / "HEAD").is_file():
            return folder
    return None


def extract(manifest: Path, mirrors: Path, cache: Path) -> int:
    """Copy every clip into ``cache`` and check it; returns how many are missing or wrong."""
    data = json.loads(manifest.read_text())
    cache.mkdir(parents=True, exist_ok=True)
    failures, clips = 0, []
    for clip in data["videos"]:
        source = clip["source"]
        target = cache / clip["file"]
        if not _matches(target, clip["sha256"]):
            found = git_dir(mirrors, source["repo"])
            if found is None:
                print(f"missing {source['repo']}: clone it into {mirrors}", file=sys.stderr)
                failures += 1
                continue
            blob = subprocess.run(
                ["git", f"--git-dir={found}", "show", f"{source['commit']}:{source['path']}"],
                capture_output=True,
                check=False,
            )
            if blob.returncode != 0:
                print(f"{clip['file']}: {blob.stderr.decode().strip()}", file=sys.stderr)
                failures += 1
                continue
            if hashlib.sha256(blob.stdout).hexdigest() != clip["sha256"]:
                print(f"{clip['file']}: sha256 differs from the manifest's", file=sys.stderr)
                failures += 1
                continue
            target.write_bytes(blob.stdout)
        clips.append(clip)
    (cache / "manifest.json").write_text(json.dumps({**data, "videos": clips}, indent=1))
    print(f"{len(clips)} clips in {cache}, {failures} missing or wrong")
    return failures


def _matches(path: Path, sha256: str) -> bool:
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == sha256


def contact_sheet(
    video: Path, every_s: float, start_s: float = 0.0, end_s: float | None = None
) -> np.ndarray:
    """Frames every ``every_s`` seconds in a grid, each stamped with its time."""
    tiles: list[np.ndarray] = []
    next_t = start_s
    for t, frame in read_frames(video, step=1):
        if end_s is not None and t > end_s:
            break
        if t < next_t:
            continue
        next_t = t + every_s
        scale = 240 / max(frame.shape[:2])
        tile = cv2.resize(frame, (round(frame.shape[1] * scale), round(frame.shape[0] * scale)))
        tile = cv2.copyMakeBorder(
            tile, 0, 240 - tile.shape[0], 0, 240 - tile.shape[1], cv2.BORDER_CONSTANT
        )
        cv2.putText(tile, f"{t:.2f}", (4, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 255, 255), 2)
        tiles.append(tile)
    if not tiles:
        raise SystemExit(f"{video}: no frames decoded in that span")
    columns = 8
    tiles += [np.zeros_like(tiles[0])] * (-len(tiles) % columns)
    rows = [np.hstack(tiles[i : i + columns]) for i in range(0, len(tiles), columns)]
    return np.vstack(rows)


def main(argv: list[str] | None = None) -> int:
    """Run a subcommand."""
    parser = argparse.ArgumentParser(prog="python bench/dev_clips.py")
    commands = parser.add_subparsers(dest="command", required=True)
    ex = commands.add_parser("extract")
    ex.add_argument("--manifest", type=Path, default=MANIFEST)
    ex.add_argument("--mirrors", type=Path, default=DEFAULT_MIRRORS)
    ex.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    sh = commands.add_parser("sheet")
    sh.add_argument("video", type=Path)
    sh.add_argument("out", type=Path)
    sh.add_argument("--every", type=float, default=0.5)
    sh.add_argument("--start", type=float, default=0.0)
    sh.add_argument("--end", type=float)
    args = parser.parse_args(argv)
    if args.command == "extract":
        return 1 if extract(args.manifest, args.mirrors, args.cache) else 0
    cv2.imwrite(str(args.out), contact_sheet(args.video, args.every, args.start, args.end))
    return 0


if __name__ == "__main__":
    sys.exit(main())
