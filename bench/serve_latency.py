"""End-to-end WebSocket latency against a running posecoach server, next to the raw engine.

    python bench/serve_latency.py [--url 127.0.0.1:8000 [--url ...]] [--clip PATH]
        [--streams 1 8 2x] [--fps 15] [--seconds 20] [--json]

With several ``--url`` (a cluster's ingress replicas, `scripts/local-cluster start`'s
`ingress URL` lines) the streams are spread over them in turn.

Each stream replays the clip as binary JPEG frames paced at ``--fps`` (a camera does not
wait for answers); latency is send -> frame_processed with the echoed frame id. Reported
per stream count: p50/p99 latency, frames/s sent and answered, and the server's own split
(latency extension). The raw engine (PoseEngine with tracking, one process, frames one
after another) is measured on the same frames first, in the same run; ``2x`` streams send
twice its frames/s (what the issue's "8 streams" meant on a box half as fast). Start the
server first (`posecoach serve`).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.streamer.http import access_token, base_url, fresh_credentials
from inference.videofile import jpeg_frames, read_frames

DEFAULT_CLIP = (
    Path(__file__).resolve().parents[2] / "shared/data/videos/shoulderpress_side_gym_2reps.mp4"
)


def load_frames(path: Path, limit: int = 300) -> list[bytes]:
    """JPEG bytes (quality 85) of the clip's first ``limit`` frames."""
    frames = jpeg_frames(read_frames(path, step=1), quality=85)
    return [jpeg for _, jpeg in itertools.islice(frames, limit)]


def raw_engine(frames: list[bytes], paced_fps: float, paced_frames: int = 60) -> dict[str, float]:
    """PoseEngine + tracking in this process (decode included): per-frame latency.

    Measured twice: frames back to back (``p50_ms``, ``fps``: what one process computes
    flat out), and paced at the streams' ``paced_fps`` (``paced_p50_ms``: what a frame
    costs when it arrives from a camera). They differ: on the 2-core VMs here a frame that
    follows a 66 ms pause costs 15-30 % more, with sleep or busy-wait alike (the model's
    weights are no longer in cache), and the server's pose replica sees paced frames.
    """
    from inference.pose import PoseEngine, decode_image
    from inference.tracking import StreamTracker

    engine, tracker = PoseEngine(), StreamTracker()
    tracker.track(engine, decode_image(frames[0]), 0.0)
    times = []
    start = time.perf_counter()
    for i, jpeg in enumerate(frames):
        t0 = time.perf_counter()
        tracker.track(engine, decode_image(jpeg), (i + 1) / 30)
        times.append(time.perf_counter() - t0)
    total = time.perf_counter() - start
    paced = []
    start = time.perf_counter()
    for i, jpeg in enumerate(frames[:paced_frames]):
        time.sleep(max(0.0, start + i / paced_fps - time.perf_counter()))
        t0 = time.perf_counter()
        # Timestamps go on from the first pass: the tracker ignores going back in time.
        tracker.track(engine, decode_image(jpeg), (len(frames) + 1) / 30 + i / paced_fps)
        paced.append(time.perf_counter() - t0)
    return {
        "p50_ms": float(np.median(times) * 1000),
        "fps": len(frames) / total,
        "paced_p50_ms": float(np.median(paced) * 1000),
    }


#: The server's default WS_MAX_SESSIONS_PER_USER: sockets one user may hold at once.
STREAMS_PER_USER = 3


def register(base: str) -> str:
    """A fresh throw-away user's access token (the client's own helper)."""
    return access_token(base_url(base), fresh_credentials())


def stream_tokens(base: str, streams: int, per_user: int = STREAMS_PER_USER) -> list[str]:
    """One access token per stream, ``per_user`` streams to a user (the server's cap).

    Registration is throttled per address (LOGIN_ATTEMPTS_PER_IP, 20 per 5 minutes by
    default): for many streams raise WS_MAX_SESSIONS_PER_USER on the server and pass the
    same number here, or raise LOGIN_ATTEMPTS_PER_IP.
    """
    users = [register(base) for _ in range(-(-streams // per_user))]
    return [users[i // per_user] for i in range(streams)]


@dataclass
class Tally:
    """What the streams of one run saw; times are seconds since ``start`` (perf_counter)."""

    start: float = field(default_factory=time.perf_counter)
    sent: list[float] = field(default_factory=list)
    #: (answer time, send -> frame_processed latency in seconds) per answered frame.
    answers: list[tuple[float, float]] = field(default_factory=list)
    #: The server's own split of each answered frame (latency extension), ms, in the
    #: order of ``answers``.
    splits: list[dict[str, float]] = field(default_factory=list)
    #: Sockets lost or refused (one line each); the stream ends there.
    socket_errors: list[str] = field(default_factory=list)
    #: ``{"type": "error"}`` messages from the server (rate limit, backend, ...).
    server_errors: int = 0

    def now(self) -> float:
        """Seconds since the run started."""
        return time.perf_counter() - self.start

    @property
    def parts(self) -> dict[str, list[float]]:
        """Each part of the server's split over all answered frames (key -> values, ms)."""
        parts: dict[str, list[float]] = {}
        for split in self.splits:
            for key, value in split.items():
                parts.setdefault(key, []).append(value)
        return parts

    def latencies_ms(self) -> np.ndarray:
        """Every answered frame's latency, ms."""
        return np.array([latency for _, latency in self.answers]) * 1000

    def sent_after(self, warmup_s: float) -> Tally:
        """The frames sent ``warmup_s`` or more after the start, with their answers: the
        first seconds (every stream connecting at once, new streams running the person
        detector, idle replicas) are a burst a steady load does not see."""
        keep = [i for i, (at, latency) in enumerate(self.answers) if at - latency >= warmup_s]
        view = Tally(self.start, [t for t in self.sent if t >= warmup_s])
        view.answers = [self.answers[i] for i in keep]
        view.splits = [self.splits[i] for i in keep]
        view.socket_errors, view.server_errors = self.socket_errors, self.server_errors
        return view


async def one_stream(
    base: str, token: str, frames: list[bytes], fps: float, seconds: float, tally: Tally
) -> None:
    """Replay frames paced at ``fps`` for ``seconds``; record sends and answers in ``tally``.

    A socket that fails is recorded as a socket error and ends this stream only.
    """
    try:
        await _stream(base, token, frames, fps, seconds, tally)
    except (OSError, TimeoutError, WebSocketException) as exc:
        tally.socket_errors.append(f"{tally.now():.1f} s: {exc!r}")


async def _stream(
    base: str, token: str, frames: list[bytes], fps: float, seconds: float, tally: Tally
) -> None:
    sent_at: dict[int, float] = {}
    # No permessage-deflate: JPEG does not compress, and zlib on every 40 KB frame cost
    # this client 30-80 % of a core (measured), CPU taken from the server on this 2-core box.
    async with connect(
        f"ws://{base}/ws/exercise/shoulder_press/?token={token}", max_size=None, compression=None
    ) as ws:
        # The latency extension: the server's own split of each frame's time.
        await ws.send(json.dumps({"type": "start_exercise", "extensions": ["latency"]}))
        json.loads(await ws.recv())

        async def reader() -> None:
            async for raw in ws:
                msg = json.loads(raw)
                if msg["type"] == "frame_processed":
                    now = tally.now()
                    tally.answers.append((now, now - sent_at.pop(msg["frame_id"])))
                    tally.splits.append(msg.get("latency_ms", {}))
                elif msg["type"] == "error":
                    tally.server_errors += 1
                elif msg["type"] == "exercise_completed":
                    return
            raise ConnectionError(f"socket closed before the summary ({ws.close_code})")

        task = asyncio.create_task(reader())
        start = time.perf_counter()
        n = 0
        while time.perf_counter() - start < seconds and not task.done():
            n += 1
            sent_at[n] = tally.now()
            await ws.send(frames[n % len(frames)])  # binary: the server numbers frames 1, 2, ...
            tally.sent.append(sent_at[n])
            await asyncio.sleep(max(0.0, start + n / fps - time.perf_counter()))
        if not task.done():
            await ws.send(json.dumps({"type": "stop_exercise"}))
        await asyncio.wait_for(task, 30)


async def run_streams(
    bases: list[str],
    frames: list[bytes],
    streams: int,
    fps: float,
    seconds: float,
    per_user: int = STREAMS_PER_USER,
    warmup_s: float = 0.0,
) -> dict[str, Any]:
    """``streams`` concurrent sessions for ``warmup_s + seconds``; the figures of the
    frames sent after the warm-up (and the p99 of all of them beside)."""
    tokens = stream_tokens(bases[0], streams, per_user)  # one database behind them all
    whole = Tally()
    await asyncio.gather(
        *(
            one_stream(bases[i % len(bases)], token, frames, fps, warmup_s + seconds, whole)
            for i, token in enumerate(tokens)
        )
    )
    tally = whole.sent_after(warmup_s)
    arr, parts = tally.latencies_ms(), tally.parts
    return {
        "streams": streams,
        "warmup_s": warmup_s,
        "p50_ms": float(np.percentile(arr, 50)),
        "p99_ms": float(np.percentile(arr, 99)),
        "p99_with_warmup_ms": float(np.percentile(whole.latencies_ms(), 99)),
        "sent_fps": len(tally.sent) / seconds,
        "answered_fps": len(tally.answers) / seconds,
        "socket_errors": tally.socket_errors,
        # Server-side medians (ms): scheduler queue, pose call round trip, in-replica batch
        # wall time, JPEG decode and model time per frame.
        "server_p50_ms": {k: float(np.median(v)) for k, v in sorted(parts.items())},
        "handle_calls_per_frame": calls_per_frame(parts.get("call_frames", [])),
        "tail": tail_split(tally),
    }


def tail_split(tally: Tally) -> dict[str, Any]:
    """Where the slowest 1 % of answered frames spent their time: the server's split
    (medians over those frames, ms), what the client saw beyond the server's own time
    (``outside``: sockets and both event loops), and when in the run they were answered."""
    arr = tally.latencies_ms()
    if not len(arr):
        return {}
    cut = np.percentile(arr, 99)
    slow = [i for i, latency in enumerate(arr) if latency >= cut]
    keys = sorted({k for i in slow for k in tally.splits[i]})
    split = {k: float(np.median([tally.splits[i].get(k, 0.0) for i in slow])) for k in keys}
    inside = [tally.splits[i].get("queue", 0.0) + tally.splits[i].get("pose", 0.0) for i in slow]
    split["outside"] = float(np.median([arr[i] - inside[n] for n, i in enumerate(slow)]))
    return {
        "p99_frames_ms": split,
        "answered_at_s": [round(tally.answers[i][0], 1) for i in slow[:20]],
    }


def calls_per_frame(call_frames: list[float]) -> float | None:
    """Ingress -> pose deployment calls per answered frame: each answered frame reports
    how many frames shared its call (latency extension), so it accounts for 1/n call."""
    if not call_frames:
        return None
    return float(np.mean([1.0 / n for n in call_frames]))


def main() -> int:
    """Parse, measure, print."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", action="append", help="host:port; repeat for several replicas")
    p.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    p.add_argument(
        "--streams",
        nargs="+",
        default=["1", "8", "2x"],
        help="stream counts; '2x' = enough streams to send twice the raw engine's frames/s",
    )
    p.add_argument("--fps", type=float, default=15.0)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument(
        "--warmup",
        type=float,
        default=2.0,
        help="seconds streamed before the measured ones (reported apart: p99_with_warmup_ms)",
    )
    p.add_argument(
        "--streams-per-user",
        type=int,
        default=STREAMS_PER_USER,
        help="streams sharing one user (the server's WS_MAX_SESSIONS_PER_USER, default 3)",
    )
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    urls = [u.removeprefix("http://").rstrip("/") for u in (args.url or ["127.0.0.1:8000"])]
    frames = load_frames(args.clip)
    result: dict[str, Any] = {"clip": args.clip.name, "fps_per_stream": args.fps}
    # The raw engine first: the '2x' stream count is derived from its frames/s.
    result["raw_engine"] = raw_engine(frames[:150], args.fps)
    counts = [
        math.ceil(2 * result["raw_engine"]["fps"] / args.fps) if n == "2x" else int(n)
        for n in args.streams
    ]
    result["runs"] = [
        asyncio.run(
            run_streams(urls, frames, n, args.fps, args.seconds, args.streams_per_user, args.warmup)
        )
        for n in counts
    ]
    if args.json:
        print(json.dumps(result))
    else:
        raw = result["raw_engine"]
        print(
            f"raw engine: p50 {raw['p50_ms']:.1f} ms/frame, {raw['fps']:.1f} frames/s; "
            f"paced at {args.fps:g} fps: p50 {raw['paced_p50_ms']:.1f} ms/frame"
        )
        for r in result["runs"]:
            calls = r["handle_calls_per_frame"]
            print(
                f"{r['streams']} streams: p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms "
                f"({r['p99_with_warmup_ms']:.0f} with the warm-up), "
                f"sent {r['sent_fps']:.1f}/s, answered {r['answered_fps']:.1f}/s, "
                f"handle calls per frame {'-' if calls is None else f'{calls:.2f}'}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
