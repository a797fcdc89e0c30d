"""One coaching session over the WebSocket: frames out at capture pace, answers in.

Frames go as the contract's JSON text messages with the ``frame_id`` and ``t``
extensions: ``t`` is the frame's capture time, and each frame leaves at session start
+ ``t``, so ``t`` never runs ahead of the server's clock. Answers are matched to frames
by the echoed ``frame_id`` for the latency figures.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
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
#: The server's close code when it goes away (scale-down, upgrade): reconnect.
RESTART_CLOSE_CODE = 1012
#: Connection attempts after a restart before giving up, and how long a summary may wait
#: for the close that follows it.
RECONNECT_ATTEMPTS = 8
CLOSE_WAIT_S = 2.0


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
    #: Summaries of the sessions the server ended by restarting (each one saved).
    restarted: list[dict[str, Any]] = field(default_factory=list)
    #: This connection asked for its summary (``stop_exercise`` sent).
    stop_sent: bool = False

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
Notice = Callable[[str], None]


@dataclass
class _Segment:
    """How one connection ended: its summary (if any) and whether the server restarted."""

    completed: dict[str, Any] | None
    restarted: bool


class _Rebased:
    """The frames with ``t`` counted from the first frame of the current connection: a
    new session's clock starts at zero, and ``t`` must not run ahead of it."""

    def __init__(self, frames: Frames) -> None:
        self._frames = frames
        self._held: tuple[float, bytes] | None = None
        self._offset: float | None = None

    @property
    def offset(self) -> float:
        """The capture time of the current connection's first frame."""
        return self._offset or 0.0

    def new_segment(self) -> None:
        """The next frame starts a new session's clock."""
        self._offset = None

    def hold(self, item: tuple[float, bytes]) -> None:
        """A frame that was not sent (the socket closed): it goes first on the next one."""
        self._held = item

    def __iter__(self) -> Iterator[tuple[float, bytes]]:
        return self

    def __next__(self) -> tuple[float, bytes]:
        item, self._held = (self._held, None) if self._held else (next(self._frames), None)
        if self._offset is None:
            self._offset = item[0]
        return item


async def run_session(
    url: str,
    frames: Frames,
    on_update: Listener,
    stop: asyncio.Event | None = None,
    notice: Notice = lambda _: None,
) -> tuple[dict[str, Any], StreamState]:
    """Stream ``frames`` to the socket at ``url``; the last ``exercise_completed`` message.

    ``stop`` set early (Ctrl-C) ends the stream and still asks for the summary. When the
    server restarts (close 1012: it saved the session and sent its summary) the client
    says so through ``notice``, reconnects and goes on with the remaining frames in a new
    session; the summaries of the sessions before are in ``state.restarted``.
    """
    state = StreamState()
    source = _Rebased(frames)
    stop = stop or asyncio.Event()
    attempts = 0
    while True:
        try:
            segment = await _connection(url, source, state, on_update, stop)
        except StreamFailed:
            if not state.restarted or attempts >= RECONNECT_ATTEMPTS:
                raise
            attempts += 1  # the replacement may not be up yet
            await asyncio.sleep(min(2.0**attempts / 4, 5.0))
            continue
        if not segment.restarted:
            assert segment.completed is not None
            return segment.completed, state
        attempts = 0
        state.restarted.append(segment.completed or {})
        saved = "saved" if segment.completed else "ended without a summary"
        notice(f"the server is restarting (1012): session {saved}; reconnecting")
        source.new_segment()


async def _connection(
    url: str, frames: _Rebased, state: StreamState, on_update: Listener, stop: asyncio.Event
) -> _Segment:
    try:
        # No permessage-deflate: JPEG does not compress, and zlib on every frame costs the
        # client CPU for nothing (bench/README.md).
        async with connect(url, max_size=None, compression=None, open_timeout=30) as ws:
            await ws.send(json.dumps({"type": "start_exercise", "extensions": list(EXTENSIONS)}))
            try:
                started = json.loads(await asyncio.wait_for(ws.recv(), 30))
            except ConnectionClosed as exc:  # refused: the close says why
                reason = ws.close_reason or "no reason given"
                raise StreamFailed(
                    f"the server refused the session ({ws.close_code}: {reason})"
                ) from exc
            if started.get("type") != "exercise_started":
                raise StreamFailed(f"session not started: {started.get('error', started)}")
            state.stop_sent = False
            reader = asyncio.create_task(_read(ws, state, on_update))
            await _send(ws, frames, state, on_update, reader, stop)
            if not reader.done():
                state.stop_sent = True
                with contextlib.suppress(ConnectionClosed):
                    await ws.send(json.dumps({"type": "stop_exercise"}))
            return await asyncio.wait_for(reader, SUMMARY_TIMEOUT_S)
    except InvalidStatus as exc:
        # Refused at the handshake (token, exercise type or origin): no reason comes with it.
        raise StreamFailed(
            f"the server refused the WebSocket (HTTP {exc.response.status_code}): token, "
            "exercise type or origin"
        ) from exc
    except (OSError, TimeoutError, WebSocketException) as exc:
        raise StreamFailed(f"connection failed: {exc}") from exc


async def _send(
    ws: ClientConnection,
    frames: _Rebased,
    state: StreamState,
    on_update: Listener,
    reader: asyncio.Task[_Segment],
    stop: asyncio.Event,
) -> None:
    """Each frame at its capture time after the session started; stops early if asked."""
    clock0 = time.monotonic()
    frame_id = state.sent
    while not stop.is_set() and not reader.done():
        # Decoding and encoding run on a thread: the loop keeps reading answers.
        item = await asyncio.to_thread(next, frames, None)
        if item is None:
            return
        t = item[0] - frames.offset
        delay = clock0 + t - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        state.sent_at[frame_id] = time.perf_counter()
        text = json.dumps(
            {"frame": base64.b64encode(item[1]).decode(), "frame_id": frame_id, "t": t}
        )
        try:
            await ws.send(text)
        except ConnectionClosed:
            frames.hold(item)  # not sent: the next session starts with it
            return  # the reader reports why
        state.sent += 1
        frame_id += 1
        on_update(state)


async def _read(ws: ClientConnection, state: StreamState, on_update: Listener) -> _Segment:
    """Every answer until ``exercise_completed`` (returned), or a restart (1012)."""
    completed: dict[str, Any] | None = None
    try:
        async for raw in ws:
            message = json.loads(raw)
            if message.get("type") == "exercise_completed":
                completed = dict(message)
                # Unasked (no stop sent yet), a summary means the server ends the session:
                # wait briefly for the close that says why.
                if state.stop_sent or not await _closing(ws):
                    return _Segment(completed, restarted=False)
                break
            state.on_message(message)
            on_update(state)
    except ConnectionClosed:
        pass
    if ws.close_code == RESTART_CLOSE_CODE:
        return _Segment(completed, restarted=True)
    if completed is not None:
        return _Segment(completed, restarted=False)
    reason = ws.close_reason or "no reason given"
    raise StreamFailed(f"the server closed the session ({ws.close_code}: {reason})")


async def _closing(ws: ClientConnection) -> bool:
    """True when the server closes the socket within a moment (after a summary)."""
    try:
        async with asyncio.timeout(CLOSE_WAIT_S):
            await ws.wait_closed()
    except TimeoutError:
        return False
    return True
