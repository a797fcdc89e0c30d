"""Image decoding: valid JPEG/PNG decode to RGB; everything else is refused."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inference.pose.images import InvalidImageError, decode_image


def _encode(ext: str, height: int = 48, width: int = 64) -> bytes:
    bgr = np.zeros((height, width, 3), np.uint8)
    bgr[..., 2] = 255  # red in BGR
    ok, buf = cv2.imencode(ext, bgr)
    assert ok
    return buf.tobytes()


@pytest.mark.parametrize("ext", [".jpg", ".png"])
def test_decodes_to_rgb(ext: str) -> None:
    image = decode_image(_encode(ext))
    assert image.shape == (48, 64, 3) and image.dtype == np.uint8
    assert image[..., 0].mean() > 240 and image[..., 2].mean() < 15  # red lands in channel 0


@pytest.mark.parametrize(
    "data",
    [b"", b"hello world", b"\xff\xd8\xff" + b"\x00" * 50, _encode(".jpg")[:200], b"\x89PNG\r\n"],
    ids=["empty", "text", "jpeg-garbage", "truncated-jpeg", "png-stub"],
)
def test_garbage_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidImageError):
        decode_image(data)


def test_limits() -> None:
    jpeg = _encode(".jpg", height=20, width=600)
    with pytest.raises(InvalidImageError, match="pixels per side"):
        decode_image(jpeg, max_dimension=500)
    with pytest.raises(InvalidImageError, match="limit"):
        decode_image(jpeg, max_bytes=len(jpeg) - 1)
    assert decode_image(jpeg, max_dimension=600).shape == (20, 600, 3)


def test_wrong_types_are_refused() -> None:
    with pytest.raises(InvalidImageError):
        decode_image("not bytes")  # type: ignore[arg-type]
    assert issubclass(InvalidImageError, ValueError)
