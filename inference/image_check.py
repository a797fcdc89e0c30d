"""Client images checked before any pixel is decoded: magic bytes, header size, base64.

One pure module (struct, base64; no cv2, no numpy) for every check of a client's image:
the WebSocket protocol (:mod:`api.ws.protocol`) refuses what is not a JPEG or PNG before
spending a pose call on it, and the pose engine's decoder (:mod:`inference.pose.images`)
checks the header's size before cv2 decodes a pixel, so a small file that claims a huge
image (a decompression bomb) is refused cheaply.
"""

from __future__ import annotations

import base64
import binascii
import struct

DEFAULT_MAX_BYTES = 8 * 1024 * 1024
DEFAULT_MAX_DIMENSION = 4096

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: What base64 text of a JPEG or PNG starts with (their magic bytes, encoded).
BASE64_IMAGE_PREFIXES = ("/9j/", "iVBORw0KGgo")
# Start-of-frame markers carry the image size (all SOFn except DHT/JPG/DAC).
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


class InvalidImageError(ValueError):
    """The input is not a decodable image, or exceeds the configured limits."""


def looks_like_image(data: bytes) -> bool:
    """A cheap check before spending a pose call: JPEG or PNG magic bytes."""
    return data.startswith((JPEG_MAGIC, PNG_MAGIC))


def looks_like_base64_image(text: str) -> bool:
    """The same check on base64 text, without decoding it."""
    return text.lstrip().startswith(BASE64_IMAGE_PREFIXES)


def base64_payload(text: str) -> str:
    """The base64 part of ``text``: itself, or what follows a ``data:...;base64,`` header.

    InvalidImageError when a data URL is not base64.
    """
    if not text.startswith("data:"):
        return text
    header, sep, _ = text[:100].partition(",")
    if not sep or ";base64" not in header:
        raise InvalidImageError("data URL is not base64")
    return text[len(header) + 1 :]


def decode_base64(text: str) -> bytes:
    """The bytes of base64 ``text``; line-wrapped (MIME style) text is accepted too.

    InvalidImageError when it is not valid base64.
    """
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        try:  # line-wrapped base64: strip the whitespace, only then
            return base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidImageError("invalid base64") from exc


def checked_image(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_dimension: int = DEFAULT_MAX_DIMENSION,
) -> bytes:
    """``data`` as bytes once it is a JPEG or PNG within the limits, read from its header.

    Raises :class:`InvalidImageError` for empty, oversized (bytes or pixels), unknown or
    corrupt-header input. Nothing is decoded: a pixel stream may still be broken.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidImageError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if not data:
        raise InvalidImageError("empty image")
    if len(data) > max_bytes:
        raise InvalidImageError(f"image is {len(data)} bytes; the limit is {max_bytes}")
    if data.startswith(JPEG_MAGIC):
        width, height = _jpeg_size(data)
    elif data.startswith(PNG_MAGIC):
        width, height = _png_size(data)
    else:
        raise InvalidImageError("not a JPEG or PNG image")
    if width <= 0 or height <= 0:
        raise InvalidImageError("image has no pixels")
    if max(width, height) > max_dimension:
        raise InvalidImageError(
            f"image is {width}x{height}; the limit is {max_dimension} pixels per side"
        )
    return data


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
