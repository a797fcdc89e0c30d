"""``posecoach client VIDEO --exercise TYPE``: stream a video file to a server like a camera.

The way to try a server from a shell: it logs in (or registers, or takes ``--token``),
plays the file over the exercise WebSocket in real time (the video's own clock, capture
timestamps included), shows a live progress line and prints the session's summary.
Exit status 0 only when the server reported no error at all.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import signal
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from api.exercise_types import EXERCISE_TYPES
from api.streamer.http import (
    Credentials,
    ServerError,
    access_token,
    base_url,
    check_token,
    fresh_credentials,
    socket_url,
)
from api.streamer.stream import StreamFailed, StreamState, run_session
from inference.videofile import camera_frames, jpeg_frames, probe

#: Longer sides above this are scaled down before encoding, as a phone's stream would be.
MAX_SIDE = 1280
JPEG_QUALITY = 85


def camera_jpegs(path: Path, rate: float) -> Iterator[tuple[float, bytes]]:
    """``(t, JPEG)`` of the frames a camera at ``rate`` frames/s would send of the video."""
    return jpeg_frames(camera_frames(path, rate), JPEG_QUALITY, MAX_SIDE)


def build_parser() -> argparse.ArgumentParser:
    """Arguments of ``posecoach client``."""
    p = argparse.ArgumentParser(
        prog="posecoach client",
        description="Stream a video file to a posecoach server as a camera would.",
    )
    p.add_argument("video", type=Path)
    p.add_argument("--exercise", required=True, choices=EXERCISE_TYPES)
    p.add_argument("--url", default="http://127.0.0.1:8000", help="server (default %(default)s)")
    p.add_argument("--fps", type=float, default=15.0, help="frames per second sent (default 15)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    auth = p.add_argument_group("account (one of --token, --email, --register)")
    auth.add_argument("--token", help="an access token to use as it is")
    auth.add_argument("--email", help="log in with this e-mail")
    auth.add_argument("--password", help="its password (asked for when missing)")
    auth.add_argument(
        "--register",
        action="store_true",
        help="create the account first (a throw-away one when --email is not given)",
    )
    auth.add_argument("--username", help="username for --register (default: from the e-mail)")
    return p


def _token(args: argparse.Namespace, base: str) -> str:
    if args.token:
        return str(args.token)
    if args.email:
        password = args.password or getpass.getpass(f"password for {args.email}: ")
        credentials = Credentials(args.email, password, args.register, args.username)
    elif args.register:
        credentials = fresh_credentials()
    else:
        raise SystemExit("posecoach client: give --token, --email (to log in) or --register")
    token = access_token(base, credentials)
    if not args.email:
        # Printed so the session can be found again (the coach page's history).
        print(
            f"registered throw-away account {credentials.email} (password {credentials.password})",
            file=sys.stderr,
        )
    return token


class ProgressLine:
    """The live line: frames sent/answered, counter, stage, cue, latency p50 (stderr)."""

    def __init__(self, total: int) -> None:
        # disable=None: tqdm draws only when stderr is a terminal (no \r lines in logs).
        self.bar = tqdm(total=total or None, unit="frame", dynamic_ncols=True, disable=None)

    def __call__(self, state: StreamState) -> None:
        p50 = state.latency_p50_ms()
        latency = f"{p50:.0f} ms" if p50 is not None else "-"
        self.bar.set_postfix_str(
            f"answered {state.answered}, reps {state.counter}, {state.stage or '-'}, "
            f"p50 {latency}, {state.cue or 'no cue'}",
            refresh=False,
        )
        self.bar.update(state.sent - self.bar.n)

    def notice(self, text: str) -> None:
        """A line above the progress line (e.g. the server restarting)."""
        self.bar.write(f"posecoach client: {text}", file=sys.stderr)

    def close(self) -> None:
        """Finish the line (it stays, with the final counts; the summary follows)."""
        self.bar.close()


def summary_record(completed: dict[str, Any], state: StreamState) -> dict[str, Any]:
    """The session's summary with the client's own counts and latencies."""
    latencies = sorted(state.latencies_ms)
    return {
        "exercise_type": completed.get("exercise_type"),
        "reps": completed.get("reps"),
        "good_reps": completed.get("good_reps"),
        "form_accuracy": completed.get("form_accuracy"),
        "duration": completed.get("duration"),
        "calories": completed.get("calories"),
        "saved": completed.get("saved"),
        "id": completed.get("id"),
        "frames_sent": state.sent,
        "frames_answered": state.answered,
        "latency_ms": {
            "p50": state.latency_p50_ms(),
            "p99": latencies[int(0.99 * (len(latencies) - 1))] if latencies else None,
        },
        "server_frames": completed.get("frames"),
        "errors": state.errors,
        "summary": completed.get("summary"),
        # Sessions the server ended by restarting, each saved; the figures above are the
        # last session's.
        "restarted_sessions": [
            {"id": s.get("id"), "reps": s.get("reps"), "saved": s.get("saved")}
            for s in state.restarted
        ],
    }


def _print_summary(record: dict[str, Any]) -> None:
    p50 = record["latency_ms"]["p50"]
    print(
        f"{record['exercise_type']}: {record['reps']} reps, {record['good_reps']} good, "
        f"form {record['form_accuracy']}%, {record['duration']} s, {record['calories']} kcal"
    )
    print(
        f"frames: {record['frames_sent']} sent, {record['frames_answered']} answered, "
        f"latency p50 {'-' if p50 is None else f'{p50:.0f} ms'}; "
        f"saved: {'yes, id ' + str(record['id']) if record['saved'] else 'no'}"
    )
    for rep in (record.get("summary") or {}).get("rep_details", []):
        print(f"  rep {rep.get('index')}: {', '.join(rep.get('faults') or []) or 'good'}")


async def _run(url: str, frames: Iterator[tuple[float, bytes]], progress: ProgressLine) -> Any:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, stop.set)  # Ctrl-C: stop, keep the summary
    try:
        return await run_session(url, frames, progress, stop, notice=progress.notice)
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, log in, stream, print; returns the exit status (1 on any server error)."""
    args = build_parser().parse_args(argv)
    if args.fps <= 0:
        raise SystemExit("posecoach client: --fps must be positive")
    try:
        base = base_url(args.url)
        info = probe(args.video, strict=False)  # stream what decodes, as a camera would
        token = _token(args, base)
        check_token(base, token)
    except (ValueError, FileNotFoundError, ServerError) as exc:
        print(f"posecoach client: {exc}", file=sys.stderr)
        return 1
    progress = ProgressLine(info.camera_frame_count(args.fps))
    try:
        frames = camera_jpegs(args.video, args.fps)
        completed, state = asyncio.run(
            _run(socket_url(base, args.exercise, token), frames, progress)
        )
    except StreamFailed as exc:
        progress.close()
        print(f"posecoach client: {exc}", file=sys.stderr)
        return 1
    progress.close()
    record = summary_record(completed, state)
    if args.json:
        print(json.dumps(record))
    else:
        _print_summary(record)
    for error in state.errors:
        print(f"server error: {error}", file=sys.stderr)
    return 1 if state.errors else 0
