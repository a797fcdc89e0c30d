"""The PoseClient protocol: how the API asks for poses without knowing where models run.

Concrete clients live beside their runtime (a Ray Serve handle client in inference.serve,
an in-process client in inference.pose) so that importing this module stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from inference.types import FrameResult, Roi


@dataclass(frozen=True)
class ModelInfo:
    """The state of one served pose model, measured by running a real inference."""

    name: str
    variant: str
    device: str
    loaded: bool
    inference_ms: float | None
    error: str | None = None


class PoseClient(Protocol):
    """Estimate poses from JPEG bytes; any replica can serve any frame."""

    async def estimate(self, jpeg: bytes, roi: Roi | None) -> FrameResult:
        """Decode ``jpeg`` and return the pose and the ROI for the stream's next frame."""
        ...

    async def describe_models(self) -> list[ModelInfo]:
        """Run a real inference on each served model and report its state."""
        ...
