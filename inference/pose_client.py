"""The PoseClient protocol: how the API asks for poses without knowing where models run.

Concrete clients live beside their runtime (a Ray Serve handle client in
``inference.serve.pose_handle``, an in-process client in ``inference.local_pose``) so that
importing this module stays cheap: the API never imports a model runtime through it.

A *stream* (one WebSocket session, one video) needs state between frames: the tracking
ROI from the previous frame and a smoother. :meth:`PoseClient.open_stream` returns a
:class:`PoseStream` that holds that state on the caller's side, so pose replicas stay
stateless and any replica can serve any frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from inference.types import FrameResult, Roi


class InvalidFrameError(ValueError):
    """The frame is not a decodable image (or exceeds the image limits); safe to show."""


class PoseBackendError(RuntimeError):
    """The pose backend failed for this frame (replica died, timeout); the stream goes on."""


@dataclass(frozen=True)
class ModelInfo:
    """The state of one served pose model, measured by running a real inference."""

    name: str
    variant: str
    device: str
    loaded: bool
    inference_ms: float | None
    error: str | None = None
    #: onnxruntime execution providers the model sessions really run on, per model
    #: ("detector: CUDAExecutionProvider"); onnxruntime falls back to the CPU silently,
    #: so this is read back from the sessions, not from the configuration.
    providers: tuple[str, ...] = ()
    #: Milliseconds per stage of the probe inference: decode, detector, landmarks.
    stages_ms: dict[str, float] = field(default_factory=dict)


class PoseStream(Protocol):
    """One stream's tracking state (ROI + smoothing) in front of a stateless backend."""

    async def estimate(self, jpeg: bytes, timestamp_s: float) -> FrameResult:
        """Smoothed pose of this frame (taken at ``timestamp_s`` seconds, increasing).

        Raises :class:`InvalidFrameError` or :class:`PoseBackendError`; after an error or
        a frame without a person the ROI is cleared so the next frame runs the detector.
        """
        ...

    def reset(self) -> None:
        """Forget the tracked person and the smoothing history."""
        ...


class PoseClient(Protocol):
    """Estimate poses from JPEG bytes; any replica can serve any frame."""

    async def estimate(self, jpeg: bytes, roi: Roi | None) -> FrameResult:
        """Decode ``jpeg`` and return the pose and the ROI for the stream's next frame."""
        ...

    async def describe_models(self) -> list[ModelInfo]:
        """Run a real inference on each served model and report its state."""
        ...

    def open_stream(self) -> PoseStream:
        """A new stream with its own ROI and smoother."""
        ...
