"""Anchors, detection decoding, ROI math and landmark decoding: pure numpy, no models."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from inference.pose import detection, landmarks, roi
from inference.pose.anchors import generate_anchors
from inference.types import Roi


def test_anchor_grid_matches_the_detector_output() -> None:
    anchors = generate_anchors()
    assert anchors.shape == (2254, 4)
    # Stride 8: 28x28 cells, two anchors per cell, first cell centre at half a cell.
    assert anchors[0].tolist() == pytest.approx([0.5 / 28, 0.5 / 28, 1.0, 1.0])
    assert anchors[1].tolist() == pytest.approx(anchors[0].tolist())
    assert anchors[28 * 28 * 2].tolist()[:2] == pytest.approx([0.5 / 14, 0.5 / 14])
    # Three stride-32 layers share one 7x7 map: six anchors per cell at the end.
    assert anchors[-6:, :2] == pytest.approx(np.full((6, 2), 6.5 / 7))


def test_decode_boxes_centres_zero_offsets_on_anchors() -> None:
    anchors = generate_anchors()[:3]
    raw = np.zeros((3, 12), np.float32)
    raw[:, 2:4] = 22.4  # width/height = 0.1 with fixed-size anchors
    raw[:, 4] = 11.2  # keypoint 0 x offset = +0.05
    out = detection.decode_boxes(raw, anchors)
    assert out[:, 0] == pytest.approx(anchors[:, 0] - 0.05)
    assert out[:, 3] == pytest.approx(anchors[:, 1] + 0.05)
    assert out[:, 4] == pytest.approx(anchors[:, 0] + 0.05)
    assert out[:, 5] == pytest.approx(anchors[:, 1])


def test_weighted_nms_merges_overlaps_and_keeps_separate_boxes() -> None:
    rows = np.zeros((3, 12), np.float32)
    rows[0, :4] = [0.0, 0.0, 1.0, 1.0]
    rows[1, :4] = [0.1, 0.0, 1.1, 1.0]  # IoU ~0.82 with the first
    rows[2, :4] = [2.0, 2.0, 3.0, 3.0]
    scores = np.array([0.9, 0.6, 0.7], np.float32)
    out = detection.weighted_nms(rows, scores)
    assert [s for s, _ in out] == pytest.approx([0.9, 0.7])
    assert out[0][1][0] == pytest.approx(0.06 / 1.5)  # 0.9*0 + 0.6*0.1 over 1.5
    assert detection.weighted_nms(rows, np.full(3, 0.2, np.float32)) == []


def test_scores_saturate_without_overflow() -> None:
    logits = np.array([-1e4, 0.0, 1e4], np.float32)
    assert detection.scores_from_logits(logits).tolist() == pytest.approx([0.0, 0.5, 1.0])


def test_letterbox_removal_inverts_padding() -> None:
    box, pad = roi.letterbox_roi(1280, 720)
    assert (box.width * 1280, box.height * 720) == pytest.approx((1280, 1280))
    padded = np.full(12, 0.5 * (1 - 2 * pad[1]) + pad[1], np.float32)  # y=0.5 in the image
    assert detection.remove_letterbox(padded, pad)[1] == pytest.approx(0.5)
    assert roi.letterbox_roi(480, 640)[1][0] == pytest.approx(0.125)


def test_alignment_roi_upright_and_rotated() -> None:
    # Scale point straight above the centre: no rotation, side 2*distance then *1.25.
    up = roi.roi_from_points(np.array([0.5, 0.5]), np.array([0.5, 0.25]), 400, 400)
    assert up.rotation == pytest.approx(0.0)
    assert up.width == pytest.approx(0.625) and up.height == pytest.approx(0.625)  # 250 px
    # Scale point to the right: the body lies along +x, rotation +90 degrees.
    right = roi.alignment_roi(np.array([0.5, 0.5]), np.array([0.75, 0.5]), 400, 400)
    assert right.rotation == pytest.approx(math.pi / 2)


def test_expand_roi_squares_on_the_long_side_in_pixels() -> None:
    out = roi.expand_roi(Roi(0.5, 0.5, 0.5, 0.2), 1000, 500, scale=2.0)
    assert out.width * 1000 == pytest.approx(out.height * 500)
    assert out.width * 1000 == pytest.approx(1000.0)


def test_normalize_radians_wraps() -> None:
    assert roi.normalize_radians(3 * math.pi / 2) == pytest.approx(-math.pi / 2)
    assert roi.normalize_radians(0.25) == pytest.approx(0.25)


@pytest.mark.parametrize("rotation", [0.0, 0.7, -2.0])
def test_crop_and_projection_are_consistent(rotation: float) -> None:
    region = Roi(0.4, 0.6, 0.5, 0.5 * 640 / 480, rotation)
    matrix = roi.crop_matrix(region, 640, 480, 256, 256)
    crop_points = np.array([[0.25, 0.75, 0.0], [0.5, 0.5, 0.1], [0.9, 0.1, 0.0]])
    projected = roi.project_landmarks(crop_points, region)
    pixels = crop_points[:, :2] * 256
    mapped = (matrix[:, :2] @ pixels.T).T + matrix[:, 2]
    assert projected[:, 0] * 640 == pytest.approx(mapped[:, 0], abs=1e-6)
    assert projected[:, 1] * 480 == pytest.approx(mapped[:, 1], abs=1e-6)
    assert projected[1, 2] == pytest.approx(0.1 * region.width)


def test_crop_samples_the_roi() -> None:
    image = np.zeros((100, 200, 3), np.uint8)
    image[40:60, 140:160] = 255  # white square centred at (150, 50)
    region = Roi(150 / 200, 50 / 100, 20 / 200, 20 / 100, 0.0)
    patch = roi.crop(image, region, 32, 32, cv2.BORDER_CONSTANT)
    assert patch.shape == (32, 32, 3)
    assert patch[4:28, 4:28].min() == 255


def test_world_rotation_and_landmark_decode() -> None:
    world = roi.rotate_world(np.array([[1.0, 0.0, 0.3]]), math.pi / 2)
    assert world[0].tolist() == pytest.approx([0.0, 1.0, 0.3], abs=1e-7)
    raw = np.zeros((1, 195), np.float32)
    raw[0, :5] = [128.0, 64.0, 25.6, 0.0, 100.0]
    out = landmarks.decode_landmarks(raw)
    assert out.shape == (1, 39, 5)
    assert out[0, 0].tolist() == pytest.approx([0.5, 0.25, 0.1, 0.5, 1.0])


def test_heatmap_refinement_moves_confident_landmarks_only() -> None:
    heat = np.full((1, 64, 64, 39), -20.0, np.float32)
    heat[0, 20, 19, 0] = 20.0  # a sharp confident peak for landmark 0
    pts = np.zeros((1, 39, 5), np.float32)
    pts[0, :, :2] = 21.0 / 64  # within 3 cells of the peak
    out = landmarks.refine_with_heatmap(pts, heat)
    assert out[0, 0, :2].tolist() == pytest.approx([19 / 64, 20 / 64], abs=1e-4)
    assert out[0, 1, :2].tolist() == pytest.approx([21 / 64, 21 / 64])  # no confident peak
