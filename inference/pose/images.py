"""Decoding client images (JPEG/PNG bytes, base64 text) to RGB arrays, defensively.

Sizes are checked from the file header before any pixel is decoded, so a small file that
claims a huge image (a decompression bomb) is refused cheaply.
"""

from __future__ import annotations

import base64
import binascii
import struct

import cv2
import numpy as np

DEFAULT_MAX_BYTES = 8 * 1024 * 1024
DEFAULT_MAX_DIMENSION = 4096

_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Start-of-frame markers carry the image size (all SOFn except DHT/JPG/DAC).
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


class InvalidImageError(ValueError):
    """The input is not a decodable image, or exceeds the configured limits."""


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the first SOF segment of a JPEG."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise InvalidImageError("corrupt JPEG header")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length field
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in _SOF_MARKERS:
            if pos + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        if marker == 0xDA or length < 2:  # scan data reached without a frame header
            break
        pos += 2 + length
    raise InvalidImageError("JPEG has no frame header")


def _png_size(data: bytes) -> tuple[int, int]:
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise InvalidImageError("corrupt PNG header")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def decode_image(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_dimension: int = DEFAULT_MAX_DIMENSION,
) -> np.ndarray:
    """Decode JPEG (or PNG) bytes to an RGB uint8 array (H, W, 3).

    Raises :class:`InvalidImageError` for empty, oversized (bytes or pixels), unknown
    or undecodable input.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidImageError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if not data:
        raise InvalidImageError("empty image")
    if len(data) > max_bytes:
        raise InvalidImageError(f"image is {len(data)} bytes; the limit is {max_bytes}")
    if data.startswith(_JPEG_MAGIC):
        width, height = _jpeg_size(data)
    elif data.startswith(_PNG_MAGIC):
        width, height = _png_size(data)
    else:
        raise InvalidImageError("not a JPEG or PNG image")
    if width <= 0 or height <= 0:
        raise InvalidImageError("image has no pixels")
    if max(width, height) > max_dimension:
        raise InvalidImageError(
            f"image is {width}x{height}; the limit is {max_dimension} pixels per side"
        )
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None or bgr.ndim != 3 or bgr.shape[2] != 3:
        raise InvalidImageError("image could not be decoded")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def decode_base64_image(
    text: str | bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_dimension: int = DEFAULT_MAX_DIMENSION,
) -> np.ndarray:
    """Decode base64 (optionally a ``data:image/...;base64,`` URL) to an RGB array.

    ``max_bytes`` limits the decoded image size; the text is checked against it first.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError as exc:
            raise InvalidImageError("base64 text must be ASCII") from exc
    if not isinstance(text, str):
        raise InvalidImageError(f"expected base64 text, got {type(text).__name__}")
    if text.startswith("data:"):
        header, sep, text = text.partition(",")
        if not sep or ";base64" not in header:
            raise InvalidImageError("data URL is not base64")
    # 4 characters carry 3 bytes; refuse before allocating the decoded copy.
    if len(text) > (max_bytes + 2) // 3 * 4 + 4:
        raise InvalidImageError(f"image is larger than {max_bytes} bytes")
    try:
        data = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidImageError("invalid base64") from exc
    return decode_image(data, max_bytes=max_bytes, max_dimension=max_dimension)
