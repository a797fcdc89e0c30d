"""Autoscaling the pose deployment on how busy its engines are.

Serve's default policy scales on ongoing requests per replica. Once the ingress batches,
that stops measuring load: a request is a call carrying whatever frames were ready, and an
ingress keeps at most ``calls_in_flight`` calls out, so the count saturates at that number
whatever the frame rate (seen on the local cluster: under a 12-stream load Serve scaled the
deployment from 2 replicas back to 1). What a replica can still take is the share of time
its engine is idle, so each replica reports the share of the last seconds its engine spent
running batches (:class:`BusyMeter`, measured on the batches it really ran), and
:class:`EngineBusyPolicy` asks for as many replicas as that work needs at a target
utilisation::

    desired = ceil(sum of the replicas' busy shares / target_busy)

A saturated replica reports ~1.0, so a deployment under overload grows by 1 / target_busy
per step; one that serves a single camera stream reports a small share and shrinks to
its minimum. Serve applies min/max replicas and the up/down-scale delays around the policy.

Plain Python (no Ray import): the meter is fed by the pose replica, the policy is called by
Serve's controller with its ``AutoscalingContext``; both are tested without Ray.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

#: The custom autoscaling metric each pose replica reports (PoseDeployment).
ENGINE_BUSY = "engine_busy"


class BusyMeter:
    """The share of the last ``window_s`` seconds spent running engine batches."""

    def __init__(self, window_s: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.window_s = window_s
        self._clock = clock
        self._started = clock()
        self._batches: deque[tuple[float, float]] = deque()  # (ended at, seconds)

    def record(self, seconds: float) -> None:
        """A batch that just ended took ``seconds``."""
        self._batches.append((self._clock(), seconds))

    def fraction(self) -> float:
        """Busy share of the window (0..1), over less if the meter is younger."""
        now = self._clock()
        start = now - self.window_s
        while self._batches and self._batches[0][0] <= start:
            self._batches.popleft()
        # A batch straddling the window start counts only its part inside the window.
        busy = sum(min(seconds, ended - start) for ended, seconds in self._batches)
        span = min(self.window_s, now - self._started)
        return 0.0 if span <= 0 else min(1.0, busy / span)


class _Context(Protocol):
    """What the policy reads of Serve's ``AutoscalingContext``."""

    current_num_replicas: int

    @property
    def aggregated_metrics(self) -> dict[str, dict[Any, float]] | None: ...


class EngineBusyPolicy:
    """Serve autoscaling policy (``policy_function`` in ray_config.yaml): replicas for the
    engines' busy time at ``target_busy`` utilisation."""

    def __init__(self, target_busy: float = 0.6) -> None:
        if not 0 < target_busy <= 1:
            raise ValueError("target_busy must be in (0, 1]")
        self.target_busy = target_busy

    def __call__(self, ctx: _Context) -> tuple[int, dict[str, Any]]:
        busy = (ctx.aggregated_metrics or {}).get(ENGINE_BUSY)
        if not busy:  # no report yet (replicas starting): keep what there is
            return ctx.current_num_replicas, {}
        total = sum(busy.values())
        return max(1, math.ceil(total / self.target_busy - 1e-9)), {"engine_busy": total}
