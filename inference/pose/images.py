"""Decoding client images (JPEG/PNG bytes) to RGB arrays, defensively.

The checks before any pixel is decoded (magic bytes, byte and pixel limits read from the
header) are :func:`inference.image_check.checked_image`, shared with the WebSocket
protocol; this module adds cv2's decode.
"""

from __future__ import annotations

import cv2
import numpy as np

from inference.image_check import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_DIMENSION,
    InvalidImageError,
    checked_image,
)

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_DIMENSION", "InvalidImageError", "decode_image"]


def decode_image(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_dimension: int = DEFAULT_MAX_DIMENSION,
) -> np.ndarray:
    """Decode JPEG (or PNG) bytes to an RGB uint8 array (H, W, 3).

    Raises :class:`InvalidImageError` for empty, oversized (bytes or pixels), unknown
    or undecodable input.
    """
    data = checked_image(data, max_bytes=max_bytes, max_dimension=max_dimension)
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None or bgr.ndim != 3 or bgr.shape[2] != 3:
        raise InvalidImageError("image could not be decoded")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
