"""Metric definitions behind a small backend interface.

The API never imports Ray: inside Ray Serve the ingress injects a backend built on
``ray.serve.metrics`` (exported on Ray's metrics port, names prefixed ``ray_``); run alone
(plain uvicorn, tests) the app uses :class:`PrometheusBackend` (prometheus_client, a
private registry served at ``/metrics``) or :class:`NullBackend`. Names are listed in the
README, "Metrics".
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.services import get_services

LATENCY_BUCKETS_S = (0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)
#: Upload jobs take seconds to many minutes.
JOB_BUCKETS_S = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 3600.0)


class CounterLike(Protocol):
    """A monotonically increasing counter."""

    def inc(self, value: float = 1.0, labels: dict[str, str] | None = None) -> None:
        """Add ``value``."""
        ...


class HistogramLike(Protocol):
    """A histogram of observations."""

    def observe(self, value: float, labels: dict[str, str] | None = None) -> None:
        """Record one observation."""
        ...


class GaugeLike(Protocol):
    """A value that goes up and down."""

    def set(self, value: float, labels: dict[str, str] | None = None) -> None:
        """Set the value."""
        ...


class MetricsBackend(Protocol):
    """Makes metric objects; one backend per process (or per Serve replica)."""

    def counter(self, name: str, doc: str, labels: Sequence[str] = ()) -> CounterLike:
        """A counter called ``name`` (without ``_total``)."""
        ...

    def histogram(
        self, name: str, doc: str, buckets: Sequence[float], labels: Sequence[str] = ()
    ) -> HistogramLike:
        """A histogram with the given bucket boundaries."""
        ...

    def gauge(self, name: str, doc: str, labels: Sequence[str] = ()) -> GaugeLike:
        """A gauge."""
        ...

    def exposition(self) -> bytes | None:
        """The Prometheus text for a ``/metrics`` route, or None when exported elsewhere."""
        ...


class _Null:
    def inc(self, value: float = 1.0, labels: dict[str, str] | None = None) -> None:
        pass

    def observe(self, value: float, labels: dict[str, str] | None = None) -> None:
        pass

    def set(self, value: float, labels: dict[str, str] | None = None) -> None:
        pass


class NullBackend:
    """Records nothing (tests that do not look at metrics)."""

    def counter(self, name: str, doc: str, labels: Sequence[str] = ()) -> CounterLike:
        return _Null()

    def histogram(
        self, name: str, doc: str, buckets: Sequence[float], labels: Sequence[str] = ()
    ) -> HistogramLike:
        return _Null()

    def gauge(self, name: str, doc: str, labels: Sequence[str] = ()) -> GaugeLike:
        return _Null()

    def exposition(self) -> bytes | None:
        return None


class _PromMetric:
    def __init__(self, metric: object, labels: Sequence[str]) -> None:
        self._metric = metric
        self._labels = tuple(labels)

    def _target(self, labels: dict[str, str] | None) -> object:
        if not self._labels:
            return self._metric
        values = labels or {}
        return self._metric.labels(*(values.get(k, "") for k in self._labels))  # type: ignore[attr-defined]

    def inc(self, value: float = 1.0, labels: dict[str, str] | None = None) -> None:
        self._target(labels).inc(value)  # type: ignore[attr-defined]

    def observe(self, value: float, labels: dict[str, str] | None = None) -> None:
        self._target(labels).observe(value)  # type: ignore[attr-defined]

    def set(self, value: float, labels: dict[str, str] | None = None) -> None:
        self._target(labels).set(value)  # type: ignore[attr-defined]


class PrometheusBackend:
    """prometheus_client metrics in a private registry (several apps per process are fine)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry

        self.registry = CollectorRegistry()

    def counter(self, name: str, doc: str, labels: Sequence[str] = ()) -> CounterLike:
        from prometheus_client import Counter

        return _PromMetric(Counter(name, doc, list(labels), registry=self.registry), labels)

    def histogram(
        self, name: str, doc: str, buckets: Sequence[float], labels: Sequence[str] = ()
    ) -> HistogramLike:
        from prometheus_client import Histogram

        metric = Histogram(name, doc, list(labels), registry=self.registry, buckets=list(buckets))
        return _PromMetric(metric, labels)

    def gauge(self, name: str, doc: str, labels: Sequence[str] = ()) -> GaugeLike:
        from prometheus_client import Gauge

        return _PromMetric(Gauge(name, doc, list(labels), registry=self.registry), labels)

    def exposition(self) -> bytes | None:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


class AppMetrics:
    """Every metric the API records, made once per app from a backend."""

    def __init__(self, backend: MetricsBackend | None = None) -> None:
        self.backend: MetricsBackend = backend or NullBackend()
        b = self.backend
        self.frame_latency = b.histogram(
            "posecoach_frame_latency_seconds",
            "Frame received on the WebSocket to frame_processed sent",
            LATENCY_BUCKETS_S,
        )
        self.inference_latency = b.histogram(
            "posecoach_inference_latency_seconds",
            "Pose backend call for one frame, as the session saw it",
            LATENCY_BUCKETS_S,
        )
        self.queue_wait = b.histogram(
            "posecoach_queue_wait_seconds",
            "Time a frame waited in its session's queue before going to the pose backend",
            LATENCY_BUCKETS_S,
        )
        self.active_sessions = b.gauge(
            "posecoach_active_sessions", "Open exercise WebSocket sessions"
        )
        self.frames_received = b.counter(
            "posecoach_frames_received", "Frames received on exercise WebSockets"
        )
        self.frames_processed = b.counter(
            "posecoach_frames_processed", "Frames answered with frame_processed"
        )
        self.frames_dropped = b.counter(
            "posecoach_frames_dropped",
            "Frames not analysed: replaced by a newer one (stale) or over the rate limit",
            ("reason",),
        )
        self.ws_errors = b.counter(
            "posecoach_ws_errors", "Error messages and error closes on WebSockets", ("kind",)
        )
        self.http_latency = b.histogram(
            "posecoach_http_request_duration_seconds",
            "HTTP request latency by route template, method and status",
            LATENCY_BUCKETS_S,
            ("route", "method", "status"),
        )
        self.session_saves = b.counter(
            "posecoach_session_saves",
            "Finished sessions saved: stored in the database, pending in the outbox, refused",
            ("result",),
        )
        self.outbox_pending = b.gauge(
            "posecoach_outbox_pending", "Finished sessions in the local outbox, not yet stored"
        )
        self.upload_jobs = b.gauge(
            "posecoach_upload_jobs", "Upload analyses by state (database-wide)", ("state",)
        )
        self.upload_job_duration = b.histogram(
            "posecoach_upload_job_seconds",
            "Wall time of one upload analysis attempt, by how it ended",
            JOB_BUCKETS_S,
            ("result",),
        )
        self.upload_frames = b.counter(
            "posecoach_upload_frames", "Frames of uploaded videos analysed"
        )
        self._sessions = 0

    def session_opened(self) -> None:
        """One more open session."""
        self._sessions += 1
        self.active_sessions.set(self._sessions)

    def session_closed(self) -> None:
        """One fewer open session."""
        self._sessions = max(0, self._sessions - 1)
        self.active_sessions.set(self._sessions)


class HttpMetricsMiddleware:
    """Records ``posecoach_http_request_duration_seconds`` by route template and status."""

    def __init__(self, app: ASGIApp, metrics: AppMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            self.metrics.http_latency.observe(
                time.perf_counter() - start,
                {"route": path, "method": scope.get("method", ""), "status": str(status)},
            )


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus text exposition (only when the backend exports in-process)."""
    metrics = get_services(request).metrics
    body = metrics.backend.exposition()
    if body is None:
        return Response(status_code=404)
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
