"""What crosses the boundary between a stream and a pose backend, in and out of Ray.

One module for the Serve path and the in-process engine alike: a frame goes out as a
:data:`FrameItem` (JPEG bytes and the stream's crop ROI) and comes back, per item, as a
:class:`~inference.types.FrameResult` or a :class:`FrameError` (returned, not raised, so
one bad frame never fails the others of its batch). :func:`unwrap` turns the answer into
a result or the matching typed error from :mod:`inference.pose_client`.
"""

from __future__ import annotations

from dataclasses import dataclass

from inference.pose_client import InvalidFrameError, PoseBackendError
from inference.types import FrameResult, Roi

#: One frame of a batched call: its JPEG bytes and the ROI to crop it with (None: detect).
FrameItem = tuple[bytes, Roi | None]


@dataclass
class FrameError:
    """A per-item failure returned (not raised) by a batched call."""

    message: str
    invalid_input: bool = True


#: One item's answer.
FrameAnswer = FrameResult | FrameError


def unwrap(item: FrameAnswer) -> FrameResult:
    """The result, or the matching typed error raised."""
    if isinstance(item, FrameError):
        if item.invalid_input:
            raise InvalidFrameError(item.message)
        raise PoseBackendError(item.message)
    return item
