"""An echo pose deployment for bench/serve_overhead.py: the serving stack without an engine.

What Ray's own Serve benchmarks do with an echo deployment, for this application: the
real :class:`~inference.serve.ingress.Ingress` (Starlette, WebSocket sessions, analyzers,
call batching, direct port) in front of :class:`EchoPoseDeployment`, which has the
methods of :class:`~inference.serve.pose.PoseDeployment` but answers every frame with the
same plausible standing pose (33 landmarks) and next ROI: no JPEG decode, no engine. What
such a server spends per frame is the serving overhead.

Bench only: ``import_path: bench.echo_pose:build`` (:func:`echo_config_data` makes the
Serve config from ray_config.yaml's); the Ray workers must be able to import ``bench``
(the repository root on their ``PYTHONPATH``, which :func:`echo_config_data` sets).
"""

from __future__ import annotations

import copy
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from ray import serve
from ray.serve import Application

from inference.pose_client import ModelInfo
from inference.serve.app import build_with
from inference.serve.autoscale import ENGINE_BUSY
from inference.types import NUM_LANDMARKS, FrameResult, FrameTimings, Pose, Roi
from inference.wire import FrameAnswer, FrameItem

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The application builder of the echo run (ray_config.yaml's ``import_path`` replaced).
ECHO_IMPORT_PATH = "bench.echo_pose:build"
#: ray_config.yaml's name of the pose deployment, renamed to the echo's in the echo run.
POSE_DEPLOYMENT = "PoseDeployment"
ECHO_DEPLOYMENT = "EchoPoseDeployment"

#: A person standing upright, facing the camera, arms hanging: (x, y) of the 33 BlazePose
#: landmarks, normalised to a 540x960 portrait frame (the person's left is image right).
_STANDING_XY = (
    (0.500, 0.200),  # nose
    (0.510, 0.190),  # left eye inner
    (0.520, 0.190),  # left eye
    (0.530, 0.190),  # left eye outer
    (0.490, 0.190),  # right eye inner
    (0.480, 0.190),  # right eye
    (0.470, 0.190),  # right eye outer
    (0.550, 0.200),  # left ear
    (0.450, 0.200),  # right ear
    (0.510, 0.220),  # mouth left
    (0.490, 0.220),  # mouth right
    (0.580, 0.300),  # left shoulder
    (0.420, 0.300),  # right shoulder
    (0.600, 0.420),  # left elbow
    (0.400, 0.420),  # right elbow
    (0.610, 0.530),  # left wrist
    (0.390, 0.530),  # right wrist
    (0.615, 0.560),  # left pinky
    (0.385, 0.560),  # right pinky
    (0.610, 0.565),  # left index
    (0.390, 0.565),  # right index
    (0.600, 0.550),  # left thumb
    (0.400, 0.550),  # right thumb
    (0.550, 0.550),  # left hip
    (0.450, 0.550),  # right hip
    (0.555, 0.720),  # left knee
    (0.445, 0.720),  # right knee
    (0.555, 0.880),  # left ankle
    (0.445, 0.880),  # right ankle
    (0.550, 0.900),  # left heel
    (0.450, 0.900),  # right heel
    (0.570, 0.910),  # left foot index
    (0.430, 0.910),  # right foot index
)
_WIDTH, _HEIGHT = 540, 960
#: Metres per pixel of that frame: the person (ankles to nose, 0.68 of 960 px) is ~1.6 m.
_M_PER_PX = 0.0024


def standing_pose() -> Pose:
    """The fixed pose every echo answer carries (float32 arrays, as the engine's)."""
    xy = np.array(_STANDING_XY, dtype=np.float32)
    assert xy.shape == (NUM_LANDMARKS, 2)
    landmarks = np.zeros((NUM_LANDMARKS, 4), np.float32)
    landmarks[:, :2] = xy
    landmarks[:, 3] = 0.99  # visibility
    hips = (xy[23] + xy[24]) / 2
    world = np.zeros((NUM_LANDMARKS, 3), np.float32)
    world[:, 0] = (xy[:, 0] - hips[0]) * _WIDTH * _M_PER_PX
    world[:, 1] = (xy[:, 1] - hips[1]) * _HEIGHT * _M_PER_PX
    return Pose(landmarks, world, 0.99, _WIDTH, _HEIGHT)


#: The ROI the engine would hand the next frame: the body with a margin, square in pixels.
STANDING_ROI = Roi(x_center=0.5, y_center=0.55, width=1.6, height=0.9, rotation=0.0)


@serve.deployment(
    max_ongoing_requests=64,
    ray_actor_options={"num_cpus": 0.5},
    health_check_period_s=10,
    health_check_timeout_s=30,
    graceful_shutdown_timeout_s=10,
)
class EchoPoseDeployment:
    """PoseDeployment's methods without an engine: every frame gets the standing pose.

    The pose options of ray_config.yaml (``args.pose``) are accepted and ignored. Each
    item gets its own FrameResult with its own arrays (copies of the fixed pose), so a
    call's answer is as large on the wire as the engine's: one shared object would be
    pickled once per call and understate the serialization cost.
    """

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.pose = standing_pose()
        self.next_roi = STANDING_ROI
        self._batches: Counter[int] = Counter()

    def _answer(self, waited_ms: float) -> FrameResult:
        pose = Pose(
            self.pose.landmarks.copy(),
            self.pose.world.copy(),
            self.pose.presence,
            self.pose.image_width,
            self.pose.image_height,
        )
        return FrameResult(pose, self.next_roi, FrameTimings(replica_ms=waited_ms))

    def record_autoscaling_stats(self) -> dict[str, float]:
        """No engine, never busy (the echo run has a fixed replica count anyway)."""
        return {ENGINE_BUSY: 0.0}

    async def estimate_batch(self, items: list[FrameItem]) -> list[FrameAnswer]:
        """One answer per item, the JPEG left unread."""
        t0 = time.perf_counter()
        self._batches[len(items)] += 1
        waited_ms = (time.perf_counter() - t0) * 1000.0
        return [self._answer(waited_ms) for _ in items]

    async def describe(self) -> ModelInfo:
        """What /test-models shows: an engine-less echo."""
        return ModelInfo("echo", "echo", "none", True, 0.0, providers=("echo: no engine",))

    def batch_stats(self) -> dict[int, int]:
        """Batch size -> calls of that many frames answered by this replica."""
        return dict(self._batches)

    async def check_health(self) -> None:
        """Always healthy: there is no engine to wedge."""


def build(args: dict[str, Any]) -> Application:
    """inference.serve.app.build with the echo in place of PoseDeployment."""
    return build_with(EchoPoseDeployment, args)


def echo_config_data(data: dict[str, Any], replicas: int = 1) -> dict[str, Any]:
    """The echo run's Serve config from ray_config.yaml's (``runner.config_data``).

    Each application builds with :func:`build`; the PoseDeployment entry is renamed to
    the echo's, with a fixed ``replicas`` count in place of its autoscaling (the engine-busy
    policy has nothing to scale on); the repository root goes first on the application's
    ``PYTHONPATH`` so Ray's workers import ``bench.echo_pose``. Everything else (Ingress
    options, ingress_batching, direct port, proxy) stays as configured.
    """
    data = copy.deepcopy(data)
    for app in data["applications"]:
        app["import_path"] = ECHO_IMPORT_PATH
        env_vars = app.setdefault("runtime_env", {}).setdefault("env_vars", {})
        paths = [str(REPO_ROOT), env_vars.get("PYTHONPATH") or os.environ.get("PYTHONPATH")]
        env_vars["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        for deployment in app.get("deployments") or []:
            if deployment.get("name") == POSE_DEPLOYMENT:
                deployment["name"] = ECHO_DEPLOYMENT
                deployment.pop("autoscaling_config", None)
                deployment["num_replicas"] = replicas
    return data
