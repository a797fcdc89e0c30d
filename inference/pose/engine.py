"""The stateless, batched BlazePose engine: detector -> ROI -> crop -> landmarks -> next ROI."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

import cv2
import numpy as np

from inference.pose import contrast, detection, landmarks, roi
from inference.pose.anchors import generate_anchors
from inference.pose.config import PoseEngineConfig
from inference.pose.runtime import OnnxModel
from inference.types import NUM_LANDMARKS, FrameResult, FrameTimings, Pose, PoseRequest, Roi

_DET = detection.DETECTOR_SIZE
_LM = landmarks.LANDMARK_SIZE


def _check_image(image: np.ndarray) -> None:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB uint8 (H, W, 3) image, got {image.dtype} {image.shape}")


def _outputs_by_shape(model: OnnxModel, shapes: Sequence[tuple[int, ...]]) -> list[str]:
    """Output names of ``model`` whose per-item shapes are ``shapes``, in that order."""
    have = [tuple(s[1:]) for s in model.output_shapes]
    return [model.output_names[have.index(shape)] for shape in shapes]


class PoseEngine:
    """BlazePose on onnxruntime. Holds the models only: no per-stream state.

    Each :meth:`estimate` item is an image plus the ROI its stream got from the previous
    frame (or None). Items without an ROI go through the detector (one batch); then all
    crops go through the landmark model as one batch. Any engine instance can serve any
    frame of any stream. Thread-safe for concurrent ``estimate`` calls (onnxruntime
    sessions are).
    """

    def __init__(self, config: PoseEngineConfig | None = None) -> None:
        self.config = config or PoseEngineConfig()
        cfg = self.config
        # Input normalisation: detector [-1, 1] (mean 127.5, std 127.5), landmarks [0, 1].
        self.detector = OnnxModel(cfg.detector_path, cfg, size=_DET, scale=1.0 / 127.5, offset=-1.0)
        self.landmarker = OnnxModel(cfg.landmark_path, cfg, size=_LM, scale=1.0 / 255.0, offset=0.0)
        self.anchors = generate_anchors()
        # Pick outputs by shape, not position: converters do not promise an order. Only
        # these are fetched (and on a GPU only these cross the bus), in this order.
        self.landmark_outputs = _outputs_by_shape(
            self.landmarker,
            [
                (landmarks.NUM_MODEL_LANDMARKS * 5,),
                (1,),
                (64, 64, landmarks.NUM_MODEL_LANDMARKS),
                (landmarks.NUM_MODEL_LANDMARKS * 3,),
            ],
        )
        self.detector_outputs = _outputs_by_shape(
            self.detector, [(len(self.anchors), 12), (len(self.anchors), 1)]
        )

    @property
    def name(self) -> str:
        """Short engine name for logs and /test-models."""
        cfg = self.config
        return f"blazepose-{cfg.variant}-{cfg.precision}-onnx-{cfg.device}"

    @property
    def providers(self) -> dict[str, list[str]]:
        """Execution providers each model's session really runs on (priority order)."""
        return {"detector": self.detector.providers, "landmarks": self.landmarker.providers}

    def estimate(self, requests: Sequence[PoseRequest]) -> list[FrameResult]:
        """Pose for every request, in order. Splits into chunks of ``config.max_batch``."""
        results: list[FrameResult] = []
        step = self.config.max_batch
        for start in range(0, len(requests), step):
            results.extend(self._estimate_chunk(requests[start : start + step]))
        return results

    def detect(self, images: Sequence[np.ndarray]) -> list[Roi | None]:
        """Detector stage alone: the landmark ROI for the best person per image, or None."""
        if not images:
            return []
        batch = np.empty((len(images), _DET, _DET, 3), np.uint8)
        pads = []
        for i, image in enumerate(images):
            h, w = image.shape[:2]
            box, pad = roi.letterbox_roi(w, h)
            pads.append(pad)
            batch[i] = roi.crop(image, box, _DET, _DET, cv2.BORDER_CONSTANT)
        boxes, scores = self.detector.run(batch, self.detector_outputs)
        rois: list[Roi | None] = []
        for i, image in enumerate(images):
            h, w = image.shape[:2]
            found = detection.decode_detections(
                boxes[i], scores[i], self.anchors, pads[i], self.config.min_detection_score
            )
            if not found:
                rois.append(None)
                continue
            kp = found[0].keypoints
            rois.append(roi.roi_from_points(kp[0], kp[1], w, h))
        return rois

    def _estimate_chunk(self, requests: Sequence[PoseRequest]) -> list[FrameResult]:
        """One pass; then frames the detector found nobody in, again on an equalised copy."""
        for req in requests:
            _check_image(req.image)
        results = self._estimate_pass(requests)
        if not self.config.equalised_retry:
            return results
        missed = [i for i, r in enumerate(results) if r.pose is None and requests[i].roi is None]
        if not missed:
            return results
        retried = self._estimate_pass(
            [PoseRequest(image=contrast.equalised(requests[i].image)) for i in missed]
        )
        for i, again in zip(missed, retried, strict=True):
            timings = FrameTimings(
                detector_ms=results[i].timings.detector_ms + again.timings.detector_ms,
                landmarks_ms=results[i].timings.landmarks_ms + again.timings.landmarks_ms,
                total_ms=results[i].timings.total_ms + again.timings.total_ms,
            )
            pose = again.pose
            if pose is not None:  # landmarks are normalised: the original's size goes on
                h, w = requests[i].image.shape[:2]
                pose = dataclasses.replace(pose, image_width=w, image_height=h)
            results[i] = FrameResult(pose=pose, next_roi=again.next_roi, timings=timings)
        return results

    def _estimate_pass(self, requests: Sequence[PoseRequest]) -> list[FrameResult]:
        t0 = time.perf_counter()
        rois: list[Roi | None] = [req.roi for req in requests]
        need = [i for i, r in enumerate(rois) if r is None]
        if need:
            for i, found in zip(need, self.detect([requests[i].image for i in need]), strict=True):
                rois[i] = found
        t1 = time.perf_counter()
        todo = [i for i, r in enumerate(rois) if r is not None]
        poses: dict[int, tuple[Pose, Roi]] = {}
        if todo:
            batch = np.empty((len(todo), _LM, _LM, 3), np.uint8)
            crop_rois = [r for r in rois if r is not None]
            for j, (i, crop_roi) in enumerate(zip(todo, crop_rois, strict=True)):
                batch[j] = roi.crop(requests[i].image, crop_roi, _LM, _LM, cv2.BORDER_REPLICATE)
            outputs = self.landmarker.run(batch, self.landmark_outputs)
            for j, (i, crop_roi) in enumerate(zip(todo, crop_rois, strict=True)):
                decoded = self._decode_one(outputs, j, crop_roi, requests[i].image)
                if decoded is not None:
                    poses[i] = decoded
        t2 = time.perf_counter()
        n = max(1, len(requests))
        detector_ms = (t1 - t0) * 1000.0 / max(1, len(need)) if need else 0.0
        landmarks_ms = (t2 - t1) * 1000.0 / max(1, len(todo)) if todo else 0.0
        total_ms = (t2 - t0) * 1000.0 / n
        out = []
        for i in range(len(requests)):
            pose, next_roi = poses.get(i, (None, None))
            timings = FrameTimings(
                detector_ms=detector_ms, landmarks_ms=landmarks_ms, total_ms=total_ms
            )
            out.append(FrameResult(pose=pose, next_roi=next_roi, timings=timings))
        return out

    def _decode_one(
        self, outputs: list[np.ndarray], j: int, crop_roi: Roi, image: np.ndarray
    ) -> tuple[Pose, Roi] | None:
        raw, flag, heatmap, world_raw = outputs
        presence = float(flag[j].reshape(-1)[0])
        if presence < self.config.min_presence:
            return None
        h, w = image.shape[:2]
        lm = landmarks.decode_landmarks(raw[j : j + 1])
        lm = landmarks.refine_with_heatmap(lm, heatmap[j : j + 1])[0]
        projected = roi.project_landmarks(lm[:, :3], crop_roi)
        world = world_raw[j].reshape(landmarks.NUM_MODEL_LANDMARKS, 3)
        world = roi.rotate_world(world[:NUM_LANDMARKS].astype(np.float32), crop_roi.rotation)
        body = np.empty((NUM_LANDMARKS, 4), np.float32)
        body[:, :3] = projected[:NUM_LANDMARKS]
        body[:, 3] = lm[:NUM_LANDMARKS, 3]
        next_roi = roi.roi_from_points(
            projected[landmarks.AUX_CENTER, :2], projected[landmarks.AUX_SCALE, :2], w, h
        )
        pose = Pose(landmarks=body, world=world, presence=presence, image_width=w, image_height=h)
        return pose, next_roi
