"""A metrics backend on ``ray.serve.metrics`` (exported on Ray's metrics port, ``ray_`` prefix).

Shaped like ``api.metrics.MetricsBackend`` (structurally: inference never imports api).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ray.serve import metrics as serve_metrics


def _keys(labels: Sequence[str]) -> Any:
    return tuple(labels) or None


class _RayMetric:
    def __init__(self, metric: Any) -> None:
        self._metric = metric

    def inc(self, value: float = 1.0, labels: dict[str, str] | None = None) -> None:
        self._metric.inc(value, tags=labels or None)

    def observe(self, value: float, labels: dict[str, str] | None = None) -> None:
        self._metric.observe(value, tags=labels or None)

    def set(self, value: float, labels: dict[str, str] | None = None) -> None:
        self._metric.set(value, tags=labels or None)


class RayServeMetricsBackend:
    """Counter/Histogram/Gauge from ``ray.serve.metrics``; made inside a replica."""

    def counter(self, name: str, doc: str, labels: Sequence[str] = ()) -> _RayMetric:
        return _RayMetric(serve_metrics.Counter(name, doc, tag_keys=_keys(labels)))

    def histogram(
        self, name: str, doc: str, buckets: Sequence[float], labels: Sequence[str] = ()
    ) -> _RayMetric:
        metric = serve_metrics.Histogram(
            name, doc, boundaries=[float(b) for b in buckets], tag_keys=_keys(labels)
        )
        return _RayMetric(metric)

    def gauge(self, name: str, doc: str, labels: Sequence[str] = ()) -> _RayMetric:
        return _RayMetric(serve_metrics.Gauge(name, doc, tag_keys=_keys(labels)))

    def exposition(self) -> bytes | None:
        return None  # Prometheus scrapes Ray's metrics port
