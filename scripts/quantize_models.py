"""Static int8 quantization of the landmark models, calibrated on real frames.

Run by ``scripts/build_models.sh`` in the model-build venv (pinned onnxruntime, so the
output is reproducible) after the fp32 files are built; needs the shared clips.

Calibration data recipe (nothing of it is stored in the repository):
- clips: every entry of ``../shared/data/videos/manifest.json``, in file-name order;
- frames: every ``--stride``-th frame of each clip (first frame included);
- landmark inputs: the 256x256 crops the fp32 engine makes on that frame: from the
  detector's ROI, and from the ROI the landmarks give for the next frame (a tracked
  crop), when a person is found;
- method: min/max per tensor and sample, moving average over the samples (constant
  0.01), activations uint8 (asymmetric), weights
  int8 per output channel (symmetric, 7 bits: ``reduce_range``), QDQ format;
- left in fp32: each output's head (the nodes from the last convolution to the output),
  and the heatmap decoder (the nodes that feed only the heatmap, see heatmap_branch).
  Measured with every node quantized: raw landmark outputs span +-600 crop pixels, so
  uint8 steps were ~5 pixels, the pose flag collapsed on some crops (0.04 for 0.999) and
  presence agreed with MediaPipe on 79 % of frames. 7-bit weights: onnxruntime's advice
  for x86 without VNNI, whose u8 x s8 multiply-add (vpmaddubsw) saturates in int16.
The detector is not quantized (see inference/pose/config.py, detector_file).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

from inference.pose import PoseEngine, PoseEngineConfig
from inference.pose import roi as geometry
from inference.pose.config import landmark_file
from inference.pose.landmarks import LANDMARK_SIZE
from inference.types import PoseRequest
from inference.videofile import read_frames


def sampled_frames(manifest: Path, stride: int) -> Iterator[np.ndarray]:
    """RGB frames: every ``stride``-th of each clip in the manifest, in name order."""
    spec = json.loads(manifest.read_text())
    for entry in sorted(spec["videos"], key=lambda v: v["file"]):
        for _, frame in read_frames(manifest.parent / entry["file"], step=stride):
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def collect(engine: PoseEngine, frames: Iterator[np.ndarray]) -> list[np.ndarray]:
    """Landmark crops as uint8 arrays, per the recipe above."""
    crops = []
    for frame in frames:
        found = engine.detect([frame])[0]
        if found is None:
            continue
        crops.append(geometry.crop(frame, found, LANDMARK_SIZE, LANDMARK_SIZE))
        tracked = engine.estimate([PoseRequest(frame, found)])[0].next_roi
        if tracked is not None:
            crops.append(geometry.crop(frame, tracked, LANDMARK_SIZE, LANDMARK_SIZE))
    return crops


class Samples(CalibrationDataReader):
    """Feeds uint8 samples one by one, normalised as the model expects."""

    def __init__(self, samples: list[np.ndarray], scale: float, offset: float) -> None:
        self._samples = samples
        self._scale, self._offset = scale, offset
        self._next = 0

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self._next >= len(self._samples):
            return None
        x = self._samples[self._next][None].astype(np.float32) * self._scale + self._offset
        self._next += 1
        return {"input_1": x.astype(np.float32)}


#: Ops that only move or squash values: a head is walked back through them to its conv.
_PASS_THROUGH = {"Reshape", "Identity", "Transpose", "Flatten", "Squeeze", "Sigmoid"}


def output_heads(path: Path) -> list[str]:
    """Names of the nodes from each graph output back to (and with) its last compute op."""
    graph = onnx.load(str(path)).graph
    producer = {out: node for node in graph.node for out in node.output}
    heads: set[str] = set()
    pending = [o.name for o in graph.output]
    while pending:
        node = producer.get(pending.pop())
        if node is None or node.name in heads:
            continue
        heads.add(node.name)
        if node.op_type in _PASS_THROUGH:
            pending.extend(i for i in node.input if i in producer)
    return sorted(heads)


def heatmap_branch(path: Path) -> list[str]:
    """Nodes that feed only the heatmap output (shape [batch, 64, 64, 39]).

    The landmarks are refined from the heatmap (landmarks.refine_with_heatmap), so its
    error reaches the result directly: measured with this branch in int8, median distance
    to MediaPipe 0.0137 (the bound is 0.01).
    """
    graph = onnx.load(str(path)).graph
    producer = {out: node for node in graph.node for out in node.output}

    def ancestors(tensor: str) -> set[str]:
        seen: set[str] = set()
        pending = [tensor]
        while pending:
            node = producer.get(pending.pop())
            if node is not None and node.name not in seen:
                seen.add(node.name)
                pending.extend(node.input)
        return seen

    outputs = {
        o.name: [d.dim_value for d in o.type.tensor_type.shape.dim[1:]] for o in graph.output
    }
    heatmap = [name for name, dims in outputs.items() if dims == [64, 64, 39]]
    others = set().union(*(ancestors(name) for name in outputs if name not in heatmap))
    return sorted(set().union(*(ancestors(name) for name in heatmap)) - others)


def quantize(src: Path, dst: Path, samples: Samples, work: Path) -> None:
    """Shape-infer and pre-optimise ``src``, then quantize it to ``dst`` (QDQ int8)."""
    prepared = work / f"{src.stem}.pre.onnx"
    quant_pre_process(str(src), str(prepared), skip_symbolic_shape=True)
    quantize_static(
        str(prepared),
        str(dst),
        samples,
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        reduce_range=True,
        nodes_to_exclude=output_heads(prepared) + heatmap_branch(prepared),
        calibrate_method=CalibrationMethod.MinMax,
        # Per-sample min/max, averaged: a global min/max over ~700 crops is set by the few
        # most extreme ones (measured: landmark error 0.095 vs 0.032 from 30 crops).
        extra_options={"CalibMovingAverage": True, "CalibMovingAverageConstant": 0.01},
    )
    print(f"  {dst.name}: {dst.stat().st_size / 1e6:.2f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, required=True, help="ml_models/ (fp32 in, int8 out)")
    parser.add_argument("--manifest", type=Path, required=True, help="shared clips manifest.json")
    parser.add_argument("--work", type=Path, required=True, help="scratch folder")
    parser.add_argument("--variants", default="lite,full", help="landmark variants to quantize")
    parser.add_argument("--stride", type=int, default=30, help="use every N-th frame")
    args = parser.parse_args()

    engine = PoseEngine(PoseEngineConfig(variant="full", model_dir=args.models))
    crops = collect(engine, sampled_frames(args.manifest, args.stride))
    print(f"calibration: {len(crops)} landmark crops")
    args.work.mkdir(parents=True, exist_ok=True)
    for variant in args.variants.split(","):
        quantize(
            args.models / landmark_file(variant),
            args.models / landmark_file(variant, "int8"),
            Samples(crops, 1.0 / 255.0, 0.0),
            args.work,
        )


if __name__ == "__main__":
    main()
