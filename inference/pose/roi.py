"""ROI geometry: detections and landmarks to rotated ROIs, crops, and back-projection.

All ROIs are :class:`inference.types.Roi` in normalised image coordinates (MediaPipe's
NormalizedRect). Rotations follow MediaPipe: radians, positive = clockwise on screen
(image y points down).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from inference.types import Roi

#: ROI expansion applied after alignment (RectTransformationCalculator in MediaPipe's graphs).
ROI_SCALE = 1.25
#: Angle the keypoint-0 -> keypoint-1 vector is rotated to (upright body).
TARGET_ANGLE = math.pi / 2.0


def normalize_radians(angle: float) -> float:
    """Wrap an angle to [-pi, pi)."""
    return angle - 2.0 * math.pi * math.floor((angle + math.pi) / (2.0 * math.pi))


def alignment_roi(
    center: np.ndarray, scale_point: np.ndarray, image_width: int, image_height: int
) -> Roi:
    """ROI centred on ``center`` with side 2*|center-scale_point|, rotated upright.

    ``center``/``scale_point`` are normalised (x, y). This is MediaPipe's
    AlignmentPointsRectsCalculator (used for both detections and auxiliary landmarks).
    """
    x0, y0 = float(center[0]) * image_width, float(center[1]) * image_height
    x1, y1 = float(scale_point[0]) * image_width, float(scale_point[1]) * image_height
    size = 2.0 * math.hypot(x1 - x0, y1 - y0)
    rotation = normalize_radians(TARGET_ANGLE - math.atan2(-(y1 - y0), x1 - x0))
    return Roi(
        x_center=x0 / image_width,
        y_center=y0 / image_height,
        width=size / image_width,
        height=size / image_height,
        rotation=rotation,
    )


def expand_roi(roi: Roi, image_width: int, image_height: int, scale: float = ROI_SCALE) -> Roi:
    """Make the ROI square on its long side (in pixels), then scale it (no shift)."""
    long_side = max(roi.width * image_width, roi.height * image_height)
    return Roi(
        x_center=roi.x_center,
        y_center=roi.y_center,
        width=long_side / image_width * scale,
        height=long_side / image_height * scale,
        rotation=roi.rotation,
    )


def roi_from_points(
    center: np.ndarray, scale_point: np.ndarray, image_width: int, image_height: int
) -> Roi:
    """Alignment ROI followed by the standard 1.25 square expansion."""
    return expand_roi(
        alignment_roi(center, scale_point, image_width, image_height), image_width, image_height
    )


def crop_matrix(
    roi: Roi, image_width: int, image_height: int, out_width: int, out_height: int
) -> np.ndarray:
    """2x3 affine matrix mapping output (crop) pixel coordinates to source pixels.

    Crop corner (0, 0) is the ROI's top-left corner and (out_width, out_height) its
    bottom-right, exactly as MediaPipe's ImageToTensor maps cv::boxPoints to the tensor.
    Use with ``cv2.WARP_INVERSE_MAP``.
    """
    w_px = roi.width * image_width
    h_px = roi.height * image_height
    cos, sin = math.cos(roi.rotation), math.sin(roi.rotation)
    sx, sy = w_px / out_width, h_px / out_height
    cx, cy = roi.x_center * image_width, roi.y_center * image_height
    return np.array(
        [
            [cos * sx, -sin * sy, cx - cos * w_px / 2.0 + sin * h_px / 2.0],
            [sin * sx, cos * sy, cy - sin * w_px / 2.0 - cos * h_px / 2.0],
        ],
        dtype=np.float64,
    )


def crop(
    image: np.ndarray,
    roi: Roi,
    out_width: int,
    out_height: int,
    border: int = cv2.BORDER_REPLICATE,
) -> np.ndarray:
    """Rotated, scaled crop of ``image`` (H, W, C uint8) to (out_height, out_width, C) uint8.

    The default border replicates edge pixels, as MediaPipe's landmark crop does (measured:
    zero padding moves landmarks ~0.005 of the image; replicate matches to ~3e-4). The
    detector's letterbox uses ``cv2.BORDER_CONSTANT`` (zeros).
    """
    height, width = image.shape[:2]
    matrix = crop_matrix(roi, width, height, out_width, out_height)
    return cv2.warpAffine(
        image,
        matrix,
        (out_width, out_height),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=border,
        borderValue=(0, 0, 0),
    )


def letterbox_roi(image_width: int, image_height: int) -> tuple[Roi, tuple[float, float]]:
    """Whole-image square ROI for the detector and its (x, y) padding fraction per side."""
    if image_width >= image_height:
        pad_y = (1.0 - image_height / image_width) / 2.0
        roi = Roi(0.5, 0.5, 1.0, image_width / image_height)
        return roi, (0.0, pad_y)
    pad_x = (1.0 - image_width / image_height) / 2.0
    return Roi(0.5, 0.5, image_height / image_width, 1.0), (pad_x, 0.0)


def project_landmarks(points: np.ndarray, roi: Roi) -> np.ndarray:
    """Map crop-normalised (..., 3) x, y, z to image-normalised coordinates.

    z is scaled by the ROI width like x (MediaPipe's LandmarkProjectionCalculator).
    """
    cos, sin = math.cos(roi.rotation), math.sin(roi.rotation)
    x = points[..., 0] - 0.5
    y = points[..., 1] - 0.5
    out = np.empty_like(points)
    out[..., 0] = (cos * x - sin * y) * roi.width + roi.x_center
    out[..., 1] = (sin * x + cos * y) * roi.height + roi.y_center
    out[..., 2] = points[..., 2] * roi.width
    return out


def rotate_world(points: np.ndarray, rotation: float) -> np.ndarray:
    """Rotate world landmarks (..., 3) about z by the ROI rotation (undo the crop's tilt)."""
    cos, sin = math.cos(rotation), math.sin(rotation)
    out = points.copy()
    out[..., 0] = cos * points[..., 0] - sin * points[..., 1]
    out[..., 1] = sin * points[..., 0] + cos * points[..., 1]
    return out
