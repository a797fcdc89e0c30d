"""A second look at frames the detector misses: a contrast-equalised, downscaled copy.

Backlit and dim people (a silhouette against a bright window, a dark corner of a gym) are
where BlazePose's detector misses a person in plain view. Equalising local contrast (CLAHE
on the lightness channel, the usual remedy for backlit images) lets it find them. The
engine retries only frames in which the detector found nobody, so every frame it already
handles is estimated exactly as MediaPipe's graph does, and a tracked person is followed on
the original frames from the ROI the retry yields. The copy is downscaled first, so the
retry costs about the same at any resolution.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Longest side of the equalised copy, in pixels.
RETRY_SIDE = 640
#: OpenCV's CLAHE clip limit and tile grid (its defaults are 40 and 8x8; 40 barely limits).
CLIP_LIMIT = 3.0
TILE_GRID = (8, 8)


def equalised(image: np.ndarray, max_side: int = RETRY_SIDE) -> np.ndarray:
    """``image`` (RGB uint8, H x W x 3) shrunk to at most ``max_side`` on its longest side,
    with the local contrast of its lightness equalised; colours keep their hue."""
    height, width = image.shape[:2]
    scale = max_side / max(height, width)
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
    clahe = cv2.createCLAHE(clipLimit=CLIP_LIMIT, tileGridSize=TILE_GRID)
    lab[..., 0] = clahe.apply(np.ascontiguousarray(lab[..., 0]))
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
