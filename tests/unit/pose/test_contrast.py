"""inference.pose.contrast: the equalised copy the engine retries missed frames on."""

from __future__ import annotations

import cv2
import numpy as np

from inference.pose.contrast import RETRY_SIDE, equalised


def _lightness(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)


def test_a_large_frame_is_shrunk_to_the_retry_side_keeping_its_aspect() -> None:
    out = equalised(np.full((1080, 1920, 3), 100, np.uint8))
    assert out.shape == (360, RETRY_SIDE, 3) and out.dtype == np.uint8
    portrait = equalised(np.full((1280, 720, 3), 100, np.uint8))
    assert portrait.shape == (RETRY_SIDE, 360, 3)


def test_a_small_frame_keeps_its_size() -> None:
    assert equalised(np.full((240, 320, 3), 100, np.uint8)).shape == (240, 320, 3)


def test_a_dim_low_contrast_frame_gains_contrast_and_keeps_its_hue() -> None:
    rng = np.random.default_rng(0)
    # A dark scene: a slightly brighter reddish figure on a dim background.
    image = np.full((240, 320, 3), (20, 22, 24), np.uint8)
    image[60:200, 140:180] = (34, 24, 22)
    image = np.clip(image + rng.integers(0, 3, image.shape), 0, 255).astype(np.uint8)
    out = equalised(image)
    figure, background = (slice(60, 200), slice(140, 180)), (slice(0, 40), slice(0, 320))
    before = _lightness(image)[figure].mean() - _lightness(image)[background].mean()
    after = _lightness(out)[figure].mean() - _lightness(out)[background].mean()
    assert after > 2.0 * before > 0.0
    r, g, b = out[figure].reshape(-1, 3).mean(axis=0)
    assert r > g and r > b  # still the reddish figure
