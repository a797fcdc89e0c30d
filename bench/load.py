"""Soak: N camera streams for S seconds against a running server, minute by minute.

    python bench/load.py --soak 300 --streams 50 [--url 127.0.0.1:8000] [--fps 15]
        [--warmup 30] [--server-pid PID] [--streams-per-user 3] [--clip PATH] [--json]

The streams are serve_latency.py's (binary JPEG frames paced at ``--fps``, latency
send -> ``frame_processed`` by echoed frame id); the raw engine is measured first in
the same run. Reported: per-minute p50/p99 and frames/s sent and answered, sockets lost,
the server's error messages, and the resident memory of the server's whole process tree
(the ``posecoach serve`` process and every Ray process under it) after ``--warmup``
seconds and at the end. The server is found by its command line (``posecoach serve
... --port PORT``) unless ``--server-pid`` names it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from serve_latency import (
    DEFAULT_CLIP,
    STREAMS_PER_USER,
    Tally,
    load_frames,
    one_stream,
    raw_engine,
    stream_tokens,
)


@dataclass(frozen=True)
class Memory:
    """Resident memory of a process tree at one moment."""

    at_s: float
    processes: int
    rss_mb: float
    #: Proportional set size: shared pages split between the processes sharing them.
    pss_mb: float


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command may hold spaces and parentheses: fields follow the last ")".
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    tree, found, todo = _children(), [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(tree.get(current, []))
    return found


def _kb(path: Path, key: str) -> int:
    for line in path.read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    return 0


def tree_memory(pid: int, at_s: float) -> Memory:
    """RSS and PSS summed over the process tree of ``pid``."""
    rss = pss = count = 0
    for member in process_tree(pid):
        try:
            rss += _kb(Path(f"/proc/{member}/status"), "VmRSS:")
            pss += _kb(Path(f"/proc/{member}/smaps_rollup"), "Pss:")
            count += 1
        except OSError:
            continue  # exited meanwhile
    return Memory(round(at_s, 1), count, round(rss / 1024, 1), round(pss / 1024, 1))


def find_server(port: int) -> int | None:
    """The pid of ``posecoach serve ... --port PORT`` (the console script, or
    ``python -m inference.serve.cli serve``)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        command = b" ".join(argv[:3])
        by_script = b"posecoach" in command or b"inference.serve.cli" in command
        if by_script and b"serve" in argv and str(port).encode() in argv:
            return int(entry.name)
    return None


def per_minute(tally: Tally, seconds: float) -> list[dict[str, Any]]:
    """p50/p99 and frames/s sent and answered for each minute (the last may be shorter;
    it also takes the answers that arrive while the streams drain after the end)."""
    rows = []
    sent = np.array(tally.sent)
    answers = np.array(tally.answers) if tally.answers else np.zeros((0, 2))
    for begin in np.arange(0.0, seconds, 60.0):
        end = min(begin + 60.0, seconds)
        last = end >= seconds
        picked = (answers[:, 0] >= begin) & ((answers[:, 0] < end) | last)
        latencies = answers[picked, 1] * 1000
        span = end - begin
        rows.append(
            {
                "minute": int(begin // 60) + 1,
                "p50_ms": float(np.percentile(latencies, 50)) if latencies.size else None,
                "p99_ms": float(np.percentile(latencies, 99)) if latencies.size else None,
                "sent_fps": float(((sent >= begin) & (sent < end)).sum() / span),
                "answered_fps": float(latencies.size / span),
            }
        )
    return rows


async def soak(
    base: str,
    frames: list[bytes],
    streams: int,
    fps: float,
    seconds: float,
    warmup_s: float,
    server_pid: int | None,
    per_user: int = STREAMS_PER_USER,
) -> dict[str, Any]:
    """Run the streams; sample the server's memory after the warm-up and at the end."""
    tokens = stream_tokens(base, streams, per_user)
    tally = Tally()
    memory: list[Memory] = []

    async def sample_memory() -> None:
        if server_pid is None:
            return
        await asyncio.sleep(warmup_s)
        memory.append(await asyncio.to_thread(tree_memory, server_pid, tally.now()))

    sampler = asyncio.create_task(sample_memory())
    await asyncio.gather(
        *(one_stream(base, token, frames, fps, seconds, tally) for token in tokens)
    )
    await sampler
    if server_pid is not None:
        memory.append(await asyncio.to_thread(tree_memory, server_pid, tally.now()))
    latencies = tally.latencies_ms()
    result: dict[str, Any] = {
        "streams": streams,
        "seconds": seconds,
        "fps_per_stream": fps,
        "minutes": per_minute(tally, seconds),
        "p50_ms": float(np.percentile(latencies, 50)) if latencies.size else None,
        "p99_ms": float(np.percentile(latencies, 99)) if latencies.size else None,
        "sent": len(tally.sent),
        "answered": len(tally.answers),
        "sent_fps": len(tally.sent) / seconds,
        "answered_fps": len(tally.answers) / seconds,
        "socket_errors": tally.socket_errors,
        "server_errors": tally.server_errors,
        "server_p50_ms": {k: float(np.median(v)) for k, v in sorted(tally.parts.items())},
        "memory": [m.__dict__ for m in memory],
    }
    if len(memory) == 2:
        result["rss_growth_pct"] = 100.0 * (memory[1].rss_mb / memory[0].rss_mb - 1.0)
    return result


def _print(result: dict[str, Any]) -> None:
    raw, run = result["raw_engine"], result["soak"]
    print(f"raw engine: {raw['fps']:.1f} frames/s (p50 {raw['p50_ms']:.1f} ms/frame)")
    print(f"{run['streams']} streams x {run['fps_per_stream']:g} fps x {run['seconds']:g} s")
    for row in run["minutes"]:
        p50, p99 = row["p50_ms"], row["p99_ms"]
        latency = "no answers" if p50 is None else f"p50 {p50:.0f} ms, p99 {p99:.0f} ms"
        print(
            f"  minute {row['minute']}: {latency}, sent {row['sent_fps']:.1f}/s, "
            f"answered {row['answered_fps']:.1f}/s"
        )
    print(
        f"total: answered {run['answered']} of {run['sent']} ({run['answered_fps']:.1f}/s, "
        f"{run['answered_fps'] / raw['fps']:.2f}x raw), p99 {run['p99_ms']:.0f} ms, "
        f"sockets lost {len(run['socket_errors'])}, server errors {run['server_errors']}"
    )
    for m in run["memory"]:
        print(f"  server memory at {m['at_s']:.0f} s: RSS {m['rss_mb']:.0f} MB ({m['processes']})")
    if "rss_growth_pct" in run:
        print(f"  RSS growth after warm-up: {run['rss_growth_pct']:+.1f} %")


def main() -> int:
    """Parse, measure, print."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--soak", type=float, required=True, metavar="SECONDS")
    p.add_argument("--streams", type=int, required=True)
    p.add_argument("--url", default="127.0.0.1:8000")
    p.add_argument("--fps", type=float, default=15.0)
    p.add_argument("--warmup", type=float, default=30.0, help="seconds before the first RSS")
    p.add_argument("--server-pid", type=int, default=None)
    p.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    p.add_argument(
        "--streams-per-user",
        type=int,
        default=STREAMS_PER_USER,
        help="streams sharing one user (the server's WS_MAX_SESSIONS_PER_USER, default 3)",
    )
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    port = int(args.url.rsplit(":", 1)[1]) if ":" in args.url else 8000
    server_pid = args.server_pid or find_server(port)
    if server_pid is None:
        print(f"load: no server process found for port {port}; no memory figures", file=sys.stderr)
    frames = load_frames(args.clip)
    result: dict[str, Any] = {"clip": args.clip.name, "server_pid": server_pid}
    result["raw_engine"] = raw_engine(frames[:150], args.fps)
    result["soak"] = asyncio.run(
        soak(
            args.url,
            frames,
            args.streams,
            args.fps,
            args.soak,
            args.warmup,
            server_pid,
            args.streams_per_user,
        )
    )
    if args.json:
        print(json.dumps(result))
    else:
        _print(result)
    return 0 if not result["soak"]["socket_errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
