"""BlazePose landmark model output decoding (crop space) and heatmap refinement.

Mirrors MediaPipe's TensorsToLandmarksCalculator (sigmoid visibility/presence) and
RefineLandmarksFromHeatmapCalculator (kernel 7, min confidence 0.5).
"""

from __future__ import annotations

import numpy as np

#: Landmark model input side (pixels).
LANDMARK_SIZE = 256
#: 33 body landmarks + 2 auxiliary (tracking) + 4 unused in the model's output.
NUM_MODEL_LANDMARKS = 39
#: Auxiliary landmarks: 33 = ROI centre, 34 = ROI scale/rotation point.
AUX_CENTER = 33
AUX_SCALE = 34
HEATMAP_KERNEL = 7
HEATMAP_MIN_CONFIDENCE = 0.5


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Elementwise logistic function in float32 (inputs clipped so exp cannot overflow)."""
    clipped = np.clip(x.astype(np.float32), -80.0, 80.0)
    return np.asarray(1.0 / (1.0 + np.exp(-clipped)), dtype=np.float32)


def decode_landmarks(raw: np.ndarray, size: int = LANDMARK_SIZE) -> np.ndarray:
    """Raw (B, 195) tensor -> (B, 39, 5) crop-normalised x, y, z, visibility, presence."""
    lm = raw.reshape(raw.shape[0], NUM_MODEL_LANDMARKS, 5).astype(np.float32)
    out = np.empty_like(lm)
    out[..., :3] = lm[..., :3] / float(size)
    out[..., 3] = sigmoid(lm[..., 3])
    out[..., 4] = sigmoid(lm[..., 4])
    return out


def refine_with_heatmap(
    landmarks: np.ndarray,
    heatmap: np.ndarray,
    kernel: int = HEATMAP_KERNEL,
    min_confidence: float = HEATMAP_MIN_CONFIDENCE,
) -> np.ndarray:
    """Replace x, y by the confidence-weighted mean of a ``kernel`` window in the heatmap.

    ``landmarks``: (B, L, >=2) crop-normalised; ``heatmap``: (B, H, W, L) logits.
    Only landmarks whose window peak confidence reaches ``min_confidence`` move.
    """
    batch, hm_h, hm_w, count = heatmap.shape
    out = landmarks.copy()
    offset = (kernel - 1) // 2
    steps = np.arange(-offset, offset + 1)
    col = (landmarks[:, :count, 0] * hm_w).astype(np.int64)  # truncation as in MediaPipe
    row = (landmarks[:, :count, 1] * hm_h).astype(np.int64)
    inside = (col >= 0) & (col < hm_w) & (row >= 0) & (row < hm_h)
    cols = col[..., None] + steps  # (B, L, K)
    rows = row[..., None] + steps
    col_ok = (cols >= 0) & (cols < hm_w)
    row_ok = (rows >= 0) & (rows < hm_h)
    b_idx = np.arange(batch)[:, None, None, None]
    l_idx = np.arange(count)[None, :, None, None]
    window = heatmap[
        b_idx,
        np.clip(rows, 0, hm_h - 1)[..., :, None],
        np.clip(cols, 0, hm_w - 1)[..., None, :],
        l_idx,
    ]  # (B, L, K, K)
    conf = sigmoid(window) * (row_ok[..., :, None] & col_ok[..., None, :])
    total = conf.sum(axis=(2, 3))
    peak = conf.max(axis=(2, 3))
    wx = (conf * cols[..., None, :]).sum(axis=(2, 3))
    wy = (conf * rows[..., :, None]).sum(axis=(2, 3))
    move = inside & (peak >= min_confidence) & (total > 0.0)
    safe = np.where(total > 0.0, total, 1.0)
    out[:, :count, 0] = np.where(move, wx / hm_w / safe, landmarks[:, :count, 0])
    out[:, :count, 1] = np.where(move, wy / hm_h / safe, landmarks[:, :count, 1])
    return out
