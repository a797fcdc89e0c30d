"""BlazePose detector output decoding: SSD box decode, sigmoid scores, weighted NMS.

Mirrors MediaPipe's TensorsToDetectionsCalculator + NonMaxSuppressionCalculator (WEIGHTED)
+ DetectionLetterboxRemovalCalculator with the pose detection graph's options.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Detector input side (pixels) and the scale its raw box offsets are expressed in.
DETECTOR_SIZE = 224
NUM_KEYPOINTS = 4
SCORE_CLIP = 100.0
MIN_SCORE = 0.5
NMS_IOU = 0.3


@dataclass(frozen=True)
class Detection:
    """One person detection in normalised image coordinates.

    ``box`` is (xmin, ymin, xmax, ymax); ``keypoints`` (4, 2): keypoint 0 is the hip
    centre, keypoint 1 a point above the head that fixes scale and rotation.
    """

    score: float
    box: np.ndarray
    keypoints: np.ndarray


def decode_boxes(raw: np.ndarray, anchors: np.ndarray, scale: float = DETECTOR_SIZE) -> np.ndarray:
    """Decode raw regressors (N, 12) against anchors (N, 4) into (N, 12) normalised values.

    Output columns: xmin, ymin, xmax, ymax, then 4 keypoints as x, y.
    """
    ax, ay, aw, ah = anchors[:, 0], anchors[:, 1], anchors[:, 2], anchors[:, 3]
    out = np.empty_like(raw, dtype=np.float32)
    xc = raw[:, 0] / scale * aw + ax
    yc = raw[:, 1] / scale * ah + ay
    w = raw[:, 2] / scale * aw
    h = raw[:, 3] / scale * ah
    out[:, 0] = xc - w / 2.0
    out[:, 1] = yc - h / 2.0
    out[:, 2] = xc + w / 2.0
    out[:, 3] = yc + h / 2.0
    kp = raw[:, 4 : 4 + 2 * NUM_KEYPOINTS].reshape(-1, NUM_KEYPOINTS, 2)
    out[:, 4:].reshape(-1, NUM_KEYPOINTS, 2)[...] = (
        kp / scale * np.stack([aw, ah], axis=1)[:, None, :] + np.stack([ax, ay], axis=1)[:, None, :]
    )
    return out


def scores_from_logits(logits: np.ndarray, clip: float = SCORE_CLIP) -> np.ndarray:
    """Sigmoid of clipped logits, shape (N,)."""
    # float64: exp(100) overflows float32 and would raise under -W error.
    x = np.clip(logits.reshape(-1).astype(np.float64), -clip, clip)
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float32)


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    ix0 = np.maximum(box[0], boxes[:, 0])
    iy0 = np.maximum(box[1], boxes[:, 1])
    ix1 = np.minimum(box[2], boxes[:, 2])
    iy1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(ix1 - ix0, 0.0, None) * np.clip(iy1 - iy0, 0.0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where(union > 0.0, inter / np.maximum(union, 1e-12), 0.0)


def weighted_nms(
    decoded: np.ndarray,
    scores: np.ndarray,
    min_score: float = MIN_SCORE,
    iou_threshold: float = NMS_IOU,
    max_detections: int = -1,
) -> list[tuple[float, np.ndarray]]:
    """Weighted non-maximum suppression; returns (score, averaged 12 values), best first.

    Each cluster (boxes with IoU > threshold to the best remaining one) is replaced by
    the score-weighted mean of its boxes and keypoints, keeping the best score.
    """
    keep = np.nonzero(scores >= min_score)[0]
    order = keep[np.argsort(-scores[keep], kind="stable")]
    rows = decoded[order]
    sc = scores[order]
    out: list[tuple[float, np.ndarray]] = []
    while rows.shape[0] > 0:
        overlap = _iou(rows[0, :4], rows[:, :4]) > iou_threshold
        overlap[0] = True
        members, weights = rows[overlap], sc[overlap]
        merged = (members * weights[:, None]).sum(axis=0) / weights.sum()
        out.append((float(sc[0]), merged.astype(np.float32)))
        rows, sc = rows[~overlap], sc[~overlap]
        if 0 < max_detections <= len(out):
            break
    return out


def remove_letterbox(values: np.ndarray, pad: tuple[float, float]) -> np.ndarray:
    """Map (..., 12) decoded values from the padded square to the original image."""
    pad_x, pad_y = pad
    out = values.copy()
    out[..., 0::2] = (values[..., 0::2] - pad_x) / (1.0 - 2.0 * pad_x)
    out[..., 1::2] = (values[..., 1::2] - pad_y) / (1.0 - 2.0 * pad_y)
    return out


def decode_detections(
    raw_boxes: np.ndarray,
    raw_scores: np.ndarray,
    anchors: np.ndarray,
    pad: tuple[float, float],
    min_score: float = MIN_SCORE,
    max_detections: int = 1,
) -> list[Detection]:
    """Full decode for one image: (2254, 12) boxes + (2254,) logits -> detections."""
    decoded = decode_boxes(raw_boxes.reshape(-1, 12), anchors)
    scores = scores_from_logits(raw_scores)
    result = []
    for score, values in weighted_nms(decoded, scores, min_score, max_detections=max_detections):
        unpadded = remove_letterbox(values, pad)
        result.append(Detection(score, unpadded[:4], unpadded[4:].reshape(NUM_KEYPOINTS, 2)))
    return result
