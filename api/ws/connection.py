"""One accepted exercise WebSocket: the receive loop, limits, frames, and the session's end.

After accept every bad message is answered with ``{"type": "error", "error": ...}`` and
the session goes on; a frame that fails anywhere (pose backend, analyzer) is answered with
an error for that frame, logged with the session key and counted. A session ends on
``stop_exercise``, idle timeout, its maximum length, a vanished client or server shutdown,
and is saved once through the outbox (:mod:`api.saving`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from api.metrics import AppMetrics
from api.saving import SaveResult
from api.services import get_services
from api.session_core import SessionCore
from api.ws import protocol
from api.ws.registry import SessionRegistry
from api.ws.scheduler import BackendCredits, FrameScheduler, QueuedFrame
from api.ws.session import ExerciseSession, completed_message
from inference.pose_client import InvalidFrameError, PoseBackendError, PoseClient

logger = logging.getLogger(__name__)

#: Close code when the idle timeout ends a session (a private-use code, like 4401).
IDLE_CLOSE_CODE = 4408
#: Close code when the server goes away (RFC 6455 "service restart"): reconnect.
RESTART_CLOSE_CODE = 1012


class Connection:
    """One accepted socket: the receive loop, sends, and at most one started session."""

    def __init__(
        self, websocket: WebSocket, exercise: str, user_id: int, body_weight_kg: float | None
    ) -> None:
        self.ws = websocket
        services = get_services(websocket)
        self.context = services.context
        self.settings = self.context.settings
        self.metrics: AppMetrics = services.metrics
        self.registry: SessionRegistry = services.sessions
        self.credits: BackendCredits = services.credits
        pose_client = self.context.pose_client
        assert pose_client is not None
        self.pose: PoseClient = pose_client
        self.exercise = exercise
        self.user_id = user_id
        self.body_weight_kg = body_weight_kg
        self.session: ExerciseSession | None = None
        self.scheduler: FrameScheduler | None = None
        self.send_lock = asyncio.Lock()
        self.seq = 0
        # Token bucket for the frame rate limit.
        self.tokens = self.settings.ws_max_frames_per_s
        self.tokens_at = time.monotonic()
        self.rate_error_at = -1e9
        #: Set when the server began closing this socket for a restart.
        self.restarting = False

    async def send(self, message: dict[str, Any]) -> None:
        """Send JSON; a vanished client is not an error here (the receive loop sees it)."""
        if self.ws.application_state != WebSocketState.CONNECTED:
            return
        async with self.send_lock:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                await self.ws.send_json(message)

    async def send_error(self, message: str, kind: str, **extra: Any) -> None:
        """The contract's error message; counted by kind."""
        self.metrics.ws_errors.inc(labels={"kind": kind})
        await self.send({**protocol.error(message), **extra})

    def _wait_s(self) -> tuple[float, bool]:
        """How long the next receive may wait, and whether the session's end is what ends it."""
        idle = self.settings.ws_idle_timeout_s
        if self.session is None:
            return idle, False
        left = self.settings.ws_max_session_s - self.session.clock.elapsed(time.monotonic())
        return (left, True) if left < idle else (idle, False)

    async def run(self) -> None:
        """Receive until the client leaves, the idle timeout fires or the server stops."""
        self.registry.connected(self)
        try:
            await self._receive_loop()
        finally:
            self.registry.disconnected(self)
            await self.abandon()

    async def _receive_loop(self) -> None:
        while True:
            wait_s, session_ends = self._wait_s()
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for wraps the
                # awaitable in a task of its own, a loop hop on every message.
                async with asyncio.timeout(max(wait_s, 0.0)):
                    message = await self.ws.receive()
            except TimeoutError:
                if session_ends:
                    await self.end_at_max_length()
                    continue
                await self.send_error("idle timeout: no message received", "idle")
                await self.finish(send_summary=True)
                await self._close(IDLE_CLOSE_CODE, "idle timeout")
                return
            if message["type"] == "websocket.disconnect":
                return
            if not self.restarting:  # the session is ending: later messages are moot
                await self.handle(message)

    async def close_for_restart(self) -> None:
        """The server goes away: end the session with its summary (saved, or kept for
        the database), then close with 1012 so the client reconnects elsewhere."""
        self.restarting = True
        await self.finish(send_summary=True)
        await self._close(RESTART_CLOSE_CODE, "service restart: reconnect")

    async def _close(self, code: int, reason: str) -> None:
        """Close the socket unless it is closed already (the server may have closed it
        for a restart while the idle timeout fired); the client's answering close then
        ends the receive loop."""
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            await self.ws.close(code=code, reason=reason)

    async def close_dropped(self) -> None:
        """The account was deleted: drop the session unsaved, close with 4401."""
        self.restarting = True
        session, scheduler = self.session, self.scheduler
        self.session = self.scheduler = None
        if scheduler is not None:
            await scheduler.cancel()
        if session is not None:
            self.registry.discard(session)
        await self._close(4401, "this account was deleted")

    async def end_at_max_length(self) -> None:
        """The started exercise reached WS_MAX_SESSION_S: save it; the socket stays open."""
        limit_min = self.settings.ws_max_session_s / 60
        await self.send_error(
            f"the session reached its maximum length ({limit_min:g} min) and was ended; "
            "send start_exercise to begin a new one",
            "max_length",
        )
        await self.finish(send_summary=True)

    async def handle(self, message: MutableMapping[str, Any]) -> None:
        """One received message."""
        data: bytes | str | None = message.get("bytes")
        if data is None:
            data = message.get("text")
        if data is None:
            return
        if len(data) > self.settings.ws_max_message_bytes:
            if self.session is not None:
                self.session.counters.received += 1
            await self.send_error(
                f"message is {len(data)} bytes; the limit is {self.settings.ws_max_message_bytes}",
                "too_large",
            )
            return
        try:
            parsed = (
                protocol.parse_binary(data)
                if isinstance(data, bytes)
                else protocol.parse_text(data)
            )
        except protocol.ProtocolError as exc:
            await self.send_error(str(exc), "bad_message")
            return
        if isinstance(parsed, protocol.StartExercise):
            await self.start(parsed.extensions)
        elif isinstance(parsed, protocol.StopExercise):
            await self.stop()
        else:
            await self.frame(parsed)

    async def start(self, extensions: frozenset[str]) -> None:
        """``start_exercise``: a new session with its own analyzer and pose stream."""
        if self.session is not None:
            await self.send_error("exercise already started", "bad_state")
            return
        core = SessionCore.open(
            key=uuid.uuid4().hex,
            exercise=self.exercise,
            source="live",
            started_at=datetime.now(UTC),
            stream=self.pose.open_stream(),
            body_weight_kg=self.body_weight_kg,
            set_gap_s=self.settings.set_gap_s,
        )
        session = ExerciseSession(user_id=self.user_id, core=core, extensions=extensions)
        self.session = session
        self.scheduler = FrameScheduler(
            lambda item: self.process(session, item),
            self.settings.ws_frames_in_flight,
            lambda item: self.dropped(session, "stale"),
            self.credits,
        )
        self.registry.add(session)
        await self.send(
            {
                "type": "exercise_started",
                "exercise_type": self.exercise,
                "session_id": session.key,
                "extensions": sorted(extensions),
                "limits": {
                    "max_message_bytes": self.settings.ws_max_message_bytes,
                    "max_frames_per_s": self.settings.ws_max_frames_per_s,
                    "frames_in_flight": self.settings.ws_frames_in_flight,
                    "idle_timeout_s": self.settings.ws_idle_timeout_s,
                    "max_session_s": self.settings.ws_max_session_s,
                },
            }
        )

    def dropped(self, session: ExerciseSession, reason: str) -> None:
        """Count a frame that will not be analysed."""
        if reason == "stale":
            session.counters.dropped_stale += 1
        else:
            session.counters.dropped_rate += 1
        self.metrics.frames_dropped.inc(labels={"reason": reason})

    def _take_token(self, now: float) -> bool:
        rate = self.settings.ws_max_frames_per_s
        self.tokens = min(rate, self.tokens + (now - self.tokens_at) * rate)
        self.tokens_at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    async def frame(self, frame: protocol.Frame) -> None:
        """A frame: rate limit, stamp it on the session's clock, schedule it (latest wins)."""
        self.metrics.frames_received.inc()
        session, scheduler = self.session, self.scheduler
        if session is None or scheduler is None:
            await self.send_error("send start_exercise before frames", "bad_state")
            return
        now = time.monotonic()
        self.seq += 1
        session.counters.received += 1
        frame_id = (
            frame.frame_id if frame.frame_id is not None else (self.seq if frame.binary else None)
        )
        if not self._take_token(now):
            self.dropped(session, "rate_limited")
            if now - self.rate_error_at >= 1.0:
                self.rate_error_at = now
                await self.send_error(
                    f"rate limit: at most {self.settings.ws_max_frames_per_s:g} frames/s; "
                    "frames over it are dropped",
                    "rate_limited",
                )
            return
        t = session.clock.stamp(frame.t, now)
        scheduler.submit(QueuedFrame(frame, self.seq, now, t, frame_id))

    async def process(self, session: ExerciseSession, item: QueuedFrame) -> None:
        """Pose -> analyzer -> ``frame_processed`` for one frame (runs as a task).

        Whatever fails is answered with an error for this frame, logged with the session
        key and counted; the session goes on.
        """
        frame_id = item.frame_id
        extra = {"frame_id": frame_id} if frame_id is not None else {}
        self.metrics.queue_wait.observe(item.dispatched - item.received)
        start = time.monotonic()
        try:
            jpeg = item.frame.image()  # base64 is decoded here, for frames that get this far
        except protocol.ProtocolError as exc:
            session.counters.failed += 1
            await self.send_error(str(exc), "bad_message", **extra)
            return
        try:
            async with asyncio.timeout(self.settings.ws_frame_timeout_s):
                try:
                    result = await session.core.pose(jpeg, item.t)
                finally:
                    item.release_backend()  # the credit is free before the analyzer runs
        except InvalidFrameError as exc:
            session.counters.failed += 1
            await self.send_error(f"invalid frame: {exc}", "invalid_frame", **extra)
            return
        except (PoseBackendError, TimeoutError) as exc:
            session.counters.failed += 1
            logger.warning("pose backend failed for session %s: %r", session.key, exc)
            await self.send_error("pose backend unavailable for this frame", "backend", **extra)
            return
        try:
            # No await between the pose and the analyzer: frames reach it in order.
            update = session.core.update(result.pose, item.t)
            done = time.monotonic()
            timings = result.timings
            latency = {
                "queue": (item.dispatched - item.received) * 1000.0,
                "pose": (done - start) * 1000.0,
                "engine": timings.total_ms,
                "decode": timings.decode_ms,
                "replica": timings.replica_ms,
            }
            if timings.call_frames:  # frames that shared this frame's call
                latency["call_frames"] = float(timings.call_frames)
            message = session.frame_message(update, result, frame_id, latency)
        except Exception:
            session.counters.failed += 1
            logger.exception("processing a frame of session %s failed", session.key)
            await self.send_error("this frame could not be analysed", "processing", **extra)
            return
        session.counters.processed += 1
        self.metrics.inference_latency.observe(done - start)
        self.metrics.frames_processed.inc()
        self.metrics.frame_latency.observe(done - item.received)
        await self.send(message)

    async def finish(self, *, send_summary: bool) -> None:
        """End the started session: drain its frames, save it, send the summary."""
        session, scheduler = self.session, self.scheduler
        if session is None or scheduler is None:
            return
        if not await scheduler.drain(self.settings.ws_frame_timeout_s):
            await scheduler.cancel()
        self.session = self.scheduler = None
        try:
            result = await self.registry.save(session)
        except Exception:  # the saver keeps what it could; the client still gets its summary
            logger.exception("saving session %s failed", session.key)
            result = SaveResult(None, pending=False)
        if send_summary:
            await self.send(completed_message(session, result))

    async def stop(self) -> None:
        """``stop_exercise``."""
        if self.session is None:
            await self.send_error("no exercise started", "bad_state")
            return
        await self.finish(send_summary=True)

    async def abandon(self) -> None:
        """The client vanished or the server stops: save what was analysed, once.

        The ending runs as its own task, so cancelling this connection's task (server
        shutdown) cannot interrupt the write half-way.
        """
        session, scheduler = self.session, self.scheduler
        if session is None or scheduler is None:
            return
        self.session = self.scheduler = None
        await asyncio.shield(self.registry.spawn_ending(self._end_abandoned(session, scheduler)))

    async def _end_abandoned(self, session: ExerciseSession, scheduler: FrameScheduler) -> None:
        await scheduler.cancel()
        try:
            await self.registry.save(session)
        except Exception:
            logger.exception("could not save abandoned session %s", session.key)
