"""Parsing client messages and building server messages (the contract in API.md).

Client messages: ``{"type": "start_exercise"}`` (extension: ``"extensions": [...]``),
``{"type": "stop_exercise"}``, frames as ``{"frame": "<base64 JPEG>"}`` (extensions:
``"frame_id"`` echoed back, ``"t"`` capture time in seconds) or binary messages holding
the JPEG bytes. Everything malformed raises :class:`ProtocolError` with a message that is
safe to send back; the session goes on.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from inference.image_check import (
    InvalidImageError,
    base64_payload,
    decode_base64,
    looks_like_base64_image,
    looks_like_image,
)

#: Opt-in additions to ``frame_processed`` (a client that asks for none sees the contract).
EXTENSIONS = frozenset({"landmarks", "events", "latency", "stats"})


class ProtocolError(ValueError):
    """A message the server cannot use; answered with ``{"type": "error"}``."""


@dataclass(frozen=True)
class StartExercise:
    """``start_exercise`` with the extensions the client opted into."""

    extensions: frozenset[str]


@dataclass(frozen=True)
class StopExercise:
    """``stop_exercise``."""


@dataclass(frozen=True)
class Frame:
    """One frame: the image, the id to echo (or None) and the client's capture time.

    ``data`` is the JPEG/PNG bytes of a binary message, or the base64 text of a JSON one,
    decoded only when the frame is analysed (:meth:`image`): under overload most frames
    are replaced by newer ones before that, and decoding the base64 of a dropped frame is
    ingress CPU spent for nothing (bench/README.md, load.py).
    """

    data: bytes | str
    frame_id: str | int | None
    t: float | None
    binary: bool

    def image(self) -> bytes:
        """The image bytes; ProtocolError when the base64 text does not decode to one."""
        if isinstance(self.data, bytes):
            return self.data
        return _decode_base64(self.data)


ClientMessage = StartExercise | StopExercise | Frame


def parse_binary(data: bytes) -> Frame:
    """A binary message: the JPEG bytes themselves."""
    if not looks_like_image(data):
        raise ProtocolError("binary frame is not a JPEG or PNG image")
    return Frame(data=data, frame_id=None, t=None, binary=True)


def _frame_id(value: object) -> str | int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ProtocolError("frame_id must be a string or an integer")
    if isinstance(value, str) and len(value) > 64:
        raise ProtocolError("frame_id is longer than 64 characters")
    return value


def _timestamp(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProtocolError("t must be a number of seconds")
    return float(value)


def _base64_image_text(value: object) -> str:
    """The base64 part of a frame's text, checked cheaply (no decoding)."""
    if not isinstance(value, str) or not value:
        raise ProtocolError("frame must be a non-empty base64 string")
    try:
        text = base64_payload(value)
    except InvalidImageError as exc:
        raise ProtocolError("frame data URL is not base64") from exc
    if not looks_like_base64_image(text):
        raise ProtocolError("frame is not a JPEG or PNG image in base64")
    return text


def _decode_base64(text: str) -> bytes:
    try:
        data = decode_base64(text)
    except InvalidImageError as exc:
        raise ProtocolError("frame is not valid base64") from exc
    if not looks_like_image(data):
        raise ProtocolError("frame is not a JPEG or PNG image")
    return data


def parse_text(text: str) -> ClientMessage:
    """A text message: a JSON object with ``type`` or ``frame``."""
    try:
        message: Any = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ProtocolError("message is not valid JSON") from exc
    if not isinstance(message, dict):
        raise ProtocolError("message must be a JSON object")
    kind = message.get("type")
    if "frame" in message and kind in (None, "frame"):
        return Frame(
            data=_base64_image_text(message["frame"]),
            frame_id=_frame_id(message.get("frame_id")),
            t=_timestamp(message.get("t")),
            binary=False,
        )
    if kind == "start_exercise":
        requested = message.get("extensions") or []
        if not isinstance(requested, list) or not all(isinstance(e, str) for e in requested):
            raise ProtocolError("extensions must be a list of strings")
        unknown = sorted(set(requested) - EXTENSIONS)
        if unknown:
            raise ProtocolError(
                f"unknown extensions {unknown}; known: {', '.join(sorted(EXTENSIONS))}"
            )
        return StartExercise(extensions=frozenset(requested))
    if kind == "stop_exercise":
        return StopExercise()
    if kind is None:
        raise ProtocolError('message needs a "type" or a "frame"')
    raise ProtocolError(f"unknown message type {str(kind)[:40]!r}")


def error(message: str) -> dict[str, Any]:
    """The contract's error message."""
    return {"type": "error", "error": message}
