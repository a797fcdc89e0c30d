"""Upload analysis throughput against a running posecoach server, beside the raw engine.

    python bench/upload.py [--url 127.0.0.1:8000] [--clip PATH] [--exercise pushup]
        [--jobs 4] [--live 4] [--fps 15] [--json]

In one run, on the same machine:

1. the raw engine (PoseEngine with tracking, this process, frames back to back) on the
   clip's frames: what one process computes flat out;
2. one upload of the clip (default a 29 s, 30 fps push-up clip), polled to ``done``:
   analysis frames/s = frames analysed / (finished - started), the server's own times;
3. ``--live`` camera-paced live streams alone (their latency without jobs), then the
   same streams while ``--jobs`` uploads of the clip are analysed at once: the jobs'
   frames/s together and the live p50/p99 beside the run without jobs.

Start the server first (`posecoach serve`), with WS_MAX_SESSIONS_PER_USER at least
``--live`` or the default of 3 streams per user is used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.serve_latency import Tally, load_frames, one_stream, raw_engine, register

DEFAULT_CLIP = (
    Path(__file__).resolve().parents[2] / "shared/data/videos/pushup_front_darkroom_15reps.mp4"
)


def upload(base: str, token: str, clip: Path, exercise: str) -> int:
    """Upload ``clip``; the analysis id."""
    r = httpx.post(
        f"http://{base}/api/exercises/{exercise}/upload/",
        files={"video": (clip.name, clip.read_bytes(), "video/mp4")},
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
    )
    r.raise_for_status()
    job_id: int = r.json()["analysis_id"]
    return job_id


async def wait_done(base: str, token: str, job_id: int, timeout_s: float = 1800) -> dict[str, Any]:
    """Poll the analysis until it is done or failed."""
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:
        while time.monotonic() < deadline:
            r = await client.get(f"http://{base}/api/exercises/analyses/{job_id}/", timeout=30)
            job: dict[str, Any] = r.json()
            if job.get("status") in ("done", "failed"):
                return job
            await asyncio.sleep(0.5)
    raise TimeoutError(f"analysis {job_id} not finished in {timeout_s} s")


def _span(job: dict[str, Any]) -> tuple[float, float]:
    start = datetime.fromisoformat(job["started_at"]).timestamp()
    return start, datetime.fromisoformat(job["finished_at"]).timestamp()


def job_figures(jobs: list[dict[str, Any]]) -> dict[str, Any]:
    """Frames/s of jobs that ran together: all their frames over first start to last end."""
    spans = [_span(j) for j in jobs]
    frames = sum(j["progress"]["frames_done"] for j in jobs)
    wall = max(end for _, end in spans) - min(start for start, _ in spans)
    return {
        "jobs": len(jobs),
        "statuses": sorted({j["status"] for j in jobs}),
        "reps": [j["summary"]["reps"] if j["summary"] else None for j in jobs],
        "frames": frames,
        "wall_s": round(wall, 2),
        "frames_per_s": round(frames / wall, 2),
        "attempts": [j["attempts"] for j in jobs],
    }


def live_figures(tally: Tally, seconds: float) -> dict[str, Any]:
    """Latency and rates of live streams."""
    arr = tally.latencies_ms()
    return {
        "p50_ms": float(np.percentile(arr, 50)) if len(arr) else None,
        "p99_ms": float(np.percentile(arr, 99)) if len(arr) else None,
        "sent_fps": len(tally.sent) / seconds,
        "answered_fps": len(tally.answers) / seconds,
        "socket_errors": tally.socket_errors,
    }


async def live_alone(
    base: str, tokens: list[str], frames: list[bytes], fps: float, s: float
) -> Any:
    tally = Tally()
    await asyncio.gather(*(one_stream(base, t, frames, fps, s, tally) for t in tokens))
    return live_figures(tally, s)


async def live_with_jobs(
    base: str, tokens: list[str], frames: list[bytes], args: argparse.Namespace
) -> dict[str, Any]:
    """Live streams for as long as the jobs run (at least ``--live-seconds``)."""
    owner = register(base)
    ids = [upload(base, owner, args.clip, args.exercise) for _ in range(args.jobs)]
    started = time.monotonic()
    done = asyncio.gather(*(wait_done(base, owner, i) for i in ids))
    tally = Tally()
    seconds = args.live_seconds
    live = [one_stream(base, t, frames, args.fps, seconds, tally) for t in tokens]
    jobs, _ = await asyncio.gather(done, asyncio.gather(*live))
    return {
        "jobs": job_figures(list(jobs)),
        "live": live_figures(tally, seconds),
        "jobs_wall_from_upload_s": round(time.monotonic() - started, 1),
    }


def main() -> int:
    """Parse, measure, print."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default="127.0.0.1:8000")
    p.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    p.add_argument("--exercise", default="pushup")
    p.add_argument("--jobs", type=int, default=4)
    p.add_argument("--live", type=int, default=4)
    p.add_argument("--fps", type=float, default=15.0, help="frames/s of each live stream")
    p.add_argument("--live-seconds", type=float, default=60.0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    frames = load_frames(args.clip, limit=150)
    result: dict[str, Any] = {"clip": args.clip.name, "raw_engine": raw_engine(frames, args.fps)}
    token = register(args.url)
    single = asyncio.run(
        wait_done(args.url, token, upload(args.url, token, args.clip, args.exercise))
    )
    result["one_job"] = job_figures([single])
    tokens = [register(args.url) for _ in range(args.live)]
    result["live_alone"] = asyncio.run(
        live_alone(args.url, tokens, frames, args.fps, args.live_seconds)
    )
    result["with_jobs"] = asyncio.run(live_with_jobs(args.url, tokens, frames, args))
    if args.json:
        print(json.dumps(result))
        return 0
    raw, one, both = result["raw_engine"], result["one_job"], result["with_jobs"]
    print(f"raw engine: {raw['fps']:.1f} frames/s ({raw['p50_ms']:.1f} ms/frame)")
    print(f"one upload: {one['frames_per_s']:.1f} frames/s over {one['wall_s']:.0f} s")
    alone = result["live_alone"]
    print(f"{args.live} live alone: p50 {alone['p50_ms']:.0f} ms, p99 {alone['p99_ms']:.0f} ms")
    print(
        f"{args.jobs} uploads + {args.live} live: uploads {both['jobs']['frames_per_s']:.1f} "
        f"frames/s; live p50 {both['live']['p50_ms']:.0f} ms, p99 {both['live']['p99_ms']:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
