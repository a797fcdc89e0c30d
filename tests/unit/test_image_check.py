"""inference.image_check: the one check of a client's image, before any pixel is decoded."""

from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest

from inference.image_check import (
    InvalidImageError,
    base64_payload,
    checked_image,
    decode_base64,
    looks_like_base64_image,
    looks_like_image,
)


def _jpeg(width: int = 64, height: int = 48) -> bytes:
    ok, buffer = cv2.imencode(".jpg", np.zeros((height, width, 3), np.uint8))
    assert ok
    return buffer.tobytes()


def test_a_jpeg_within_the_limits_passes_unchanged() -> None:
    jpeg = _jpeg()
    assert looks_like_image(jpeg)
    assert checked_image(jpeg) == jpeg


def test_the_size_comes_from_the_header_before_any_decode() -> None:
    with pytest.raises(InvalidImageError, match="64x48; the limit is 32 pixels per side"):
        checked_image(_jpeg(), max_dimension=32)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty image"),
        (b"GIF89a" + bytes(20), "not a JPEG or PNG image"),
        (b"\xff\xd8\xff\xe0" + bytes(4), "corrupt JPEG header|no frame header"),
        (b"\x89PNG\r\n\x1a\n" + bytes(8), "corrupt PNG header"),
    ],
)
def test_what_is_not_an_image_is_refused_in_words(data: bytes, message: str) -> None:
    with pytest.raises(InvalidImageError, match=message):
        checked_image(data)


def test_a_data_url_yields_its_base64_and_a_non_base64_one_is_refused() -> None:
    text = base64.b64encode(_jpeg()).decode()
    assert base64_payload(f"data:image/jpeg;base64,{text}") == text
    assert base64_payload(text) == text
    with pytest.raises(InvalidImageError, match="data URL is not base64"):
        base64_payload("data:image/jpeg,abc")


def test_line_wrapped_base64_decodes_and_garbage_does_not() -> None:
    jpeg = _jpeg()
    wrapped = base64.encodebytes(jpeg).decode()  # MIME style: a newline every 76 characters
    assert "\n" in wrapped.strip()
    assert decode_base64(wrapped) == jpeg
    assert looks_like_base64_image(wrapped)
    with pytest.raises(InvalidImageError, match="invalid base64"):
        decode_base64("not base64 at all!")
