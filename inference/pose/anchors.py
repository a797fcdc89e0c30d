"""SSD anchors for the BlazePose detector (MediaPipe's SsdAnchorsCalculator, pose options)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AnchorOptions:
    """Anchor grid parameters; the defaults are those of MediaPipe's pose detection graph."""

    input_size: int = 224
    num_layers: int = 5
    strides: tuple[int, ...] = (8, 16, 32, 32, 32)
    min_scale: float = 0.1484375
    max_scale: float = 0.75
    anchor_offset: float = 0.5
    aspect_ratios: tuple[float, ...] = (1.0,)
    interpolated_scale_aspect_ratio: float = 1.0
    fixed_anchor_size: bool = True


def _scale(min_scale: float, max_scale: float, index: int, count: int) -> float:
    if count == 1:
        return (min_scale + max_scale) * 0.5
    return min_scale + (max_scale - min_scale) * index / (count - 1.0)


def generate_anchors(options: AnchorOptions | None = None) -> np.ndarray:
    """Return the anchors as a float32 array (N, 4) of x_center, y_center, width, height.

    With the default options N is 2254, in the order the detector emits its boxes.
    """
    opt = options or AnchorOptions()
    anchors: list[tuple[float, float, float, float]] = []
    layer = 0
    while layer < opt.num_layers:
        heights: list[float] = []
        widths: list[float] = []
        last = layer
        # Layers sharing a stride share one feature map; their anchors are interleaved per cell.
        while last < opt.num_layers and opt.strides[last] == opt.strides[layer]:
            scale = _scale(opt.min_scale, opt.max_scale, last, opt.num_layers)
            for ratio in opt.aspect_ratios:
                heights.append(scale / math.sqrt(ratio))
                widths.append(scale * math.sqrt(ratio))
            if opt.interpolated_scale_aspect_ratio > 0.0:
                nxt = (
                    1.0
                    if last == opt.num_layers - 1
                    else _scale(opt.min_scale, opt.max_scale, last + 1, opt.num_layers)
                )
                interp = math.sqrt(scale * nxt)
                ratio = opt.interpolated_scale_aspect_ratio
                heights.append(interp / math.sqrt(ratio))
                widths.append(interp * math.sqrt(ratio))
            last += 1
        stride = opt.strides[layer]
        size = math.ceil(opt.input_size / stride)
        for y in range(size):
            for x in range(size):
                for w, h in zip(widths, heights, strict=True):
                    cx = (x + opt.anchor_offset) / size
                    cy = (y + opt.anchor_offset) / size
                    if opt.fixed_anchor_size:
                        anchors.append((cx, cy, 1.0, 1.0))
                    else:
                        anchors.append((cx, cy, w, h))
        layer = last
    return np.asarray(anchors, dtype=np.float32)
