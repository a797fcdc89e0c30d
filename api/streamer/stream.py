"""One coaching session over the WebSocket: frames out at capture pace, answers in.

Frames go as the contract's JSON text messages with the ``frame_id`` and ``t``
extensions: ``t`` is the frame's capture time, and each frame leaves at session start
+ ``t``, so ``t`` never runs ahead of the server's clock. Answers are matched to frames
by the echoed ``frame_id`` for the latency figures.
"""

from __future__ import annotations

import asyncio
import base64
import json
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

#: The extensions asked for: the server's frame counters ride along on every answer.
EXTENSIONS = ("stats",)
#: How long to wait for the summary after ``stop_exercise`` (the server drains first).
SUMMARY_TIMEOUT_S = 60.0


class StreamFailed(Exception):
    """The session could not start or ended without a summary; ``str()`` says why."""


@dataclass
class StreamState:
    """What the session has seen so far (read by the progress line)."""

    sent: int = 0
    answered: int = 0
    counter: int = 0
    stage: str | None = None
    cue: str = ""
    form_accuracy: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sent_at: dict[int, float] = field(default_factory=dict, repr=False)

    def latency_p50_ms(self) -> float | None:
        """Median send -> ``frame_processed`` time of the answered frames."""
        return statistics.median(self.latencies_ms) if self.latencies_ms else None

    def on_message(self, message: dict[str, Any]) -> None:
        """Fold one server message (other than the summary) into the state."""
        kind = message.get("type")
        if kind == "frame_processed":
            self.answered += 1
            metrics = message.get("metrics", {})
            self.counter = int(metrics.get("counter", self.counter))
            self.stage = metrics.get("stage")
            self.cue = str(metrics.get("form_feedback") or "")
            self.form_accuracy = float(metrics.get("form_accuracy", 0.0))
            sent = self.sent_at.pop(message.get("frame_id", -1), None)
            if sent is not None:
                self.latencies_ms.append((time.perf_counter() - sent) * 1000.0)
        elif kind == "error":
            frame = message.get("frame_id")
            where = f" (frame {frame})" if frame is not None else ""
            self.errors.append(f"{message.get('error', 'unknown error')}{where}")


Frames = Iterator[tuple[float, bytes]]
Listener = Callable[[StreamState], None]


async def run_session(
    url: str, frames: Frames, on_update: Listener, stop: asyncio.Event | None = None
) -> tuple[dict[str, Any], StreamState]:
    """Stream ``frames`` to the socket at ``url``; the ``exercise_completed`` message.

    ``stop`` set early (Ctrl-C) ends the stream and still asks for the summary.
    """
    state = StreamState()
    try:
        # No permessage-deflate: JPEG does not compress, and zlib on every frame costs the
        # client CPU for nothing (bench/README.md).
        async with connect(url, max_size=None, compression=None, open_timeout=30) as ws:
            await ws.send(json.dumps({"type": "start_exercise", "extensions": list(EXTENSIONS)}))
            started = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if started.get("type") != "exercise_started":
                raise StreamFailed(f"session not started: {started.get('error', started)}")
            reader = asyncio.create_task(_read(ws, state, on_update))
            await _send(ws, frames, state, on_update, reader, stop or asyncio.Event())
            if not reader.done():
                await ws.send(json.dumps({"type": "stop_exercise"}))
            summary = await asyncio.wait_for(reader, SUMMARY_TIMEOUT_S)
    except InvalidStatus as exc:
        # A socket refused before accept arrives as a bare HTTP status (no reason).
        raise StreamFailed(
            f"the server refused the WebSocket (HTTP {exc.response.status_code}): token, "
            "exercise type, origin or pose backend"
        ) from exc
    except (OSError, TimeoutError, WebSocketException) as exc:
        raise StreamFailed(f"connection failed: {exc}") from exc
    return summary, state


async def _send(
    ws: ClientConnection,
    frames: Frames,
    state: StreamState,
    on_update: Listener,
    reader: asyncio.Task[dict[str, Any]],
    stop: asyncio.Event,
) -> None:
    """Each frame at its capture time after the session started; stops early if asked."""
    clock0 = time.monotonic()
    frame_id = 0
    while not stop.is_set() and not reader.done():
        # Decoding and encoding run on a thread: the loop keeps reading answers.
        item = await asyncio.to_thread(next, frames, None)
        if item is None:
            return
        t, jpeg = item
        delay = clock0 + t - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        state.sent_at[frame_id] = time.perf_counter()
        text = json.dumps({"frame": base64.b64encode(jpeg).decode(), "frame_id": frame_id, "t": t})
        try:
            await ws.send(text)
        except ConnectionClosed:
            return  # the reader reports why
        state.sent += 1
        frame_id += 1
        on_update(state)


async def _read(ws: ClientConnection, state: StreamState, on_update: Listener) -> dict[str, Any]:
    """Every answer until ``exercise_completed``, which is returned."""
    try:
        async for raw in ws:
            message = json.loads(raw)
            if message.get("type") == "exercise_completed":
                return dict(message)
            state.on_message(message)
            on_update(state)
    except ConnectionClosed:
        pass
    reason = ws.close_reason or "no reason given"
    raise StreamFailed(f"the server closed the session ({ws.close_code}: {reason})")
