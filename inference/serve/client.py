"""PoseClient over a Serve ``DeploymentHandle`` to the pose deployment."""

from __future__ import annotations

import logging

from ray.exceptions import RayError
from ray.serve.handle import DeploymentHandle

from inference.client import ModelInfo, PoseBackendError, PoseStream
from inference.local_client import FrameError, unwrap
from inference.tracking import StreamTracker
from inference.types import FrameResult, Roi

logger = logging.getLogger(__name__)


class ServePoseClient:
    """Sends JPEG bytes + ROI to the pose deployment; the stream state stays here."""

    def __init__(self, handle: DeploymentHandle) -> None:
        self.handle = handle

    def open_stream(self) -> PoseStream:
        """A new tracked stream (ROI + smoother in this ingress replica)."""
        return StreamTracker(self.estimate)

    async def estimate(self, jpeg: bytes, roi: Roi | None) -> FrameResult:
        """One frame through the batched deployment."""
        try:
            item: FrameResult | FrameError = await self.handle.estimate.remote((jpeg, roi))
        except (RayError, RuntimeError) as exc:  # replica died, actor gone, ...
            raise PoseBackendError(f"pose deployment failed: {type(exc).__name__}") from exc
        return unwrap(item)

    async def describe_models(self) -> list[ModelInfo]:
        """Ask a pose replica to run and time a real inference."""
        try:
            info: ModelInfo = await self.handle.describe.remote()
        except (RayError, RuntimeError) as exc:
            return [ModelInfo("pose", "?", "?", False, None, f"{type(exc).__name__}: {exc}")]
        return [info]
