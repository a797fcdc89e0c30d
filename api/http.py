"""Reading request bodies safely: media type, size limit, JSON shape, validation.

The one capped-body reader (:func:`capped_stream`) serves JSON bodies and uploads alike.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from api.errors import (
    BadRequestError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
    ValidationFailedError,
)

ModelT = TypeVar("ModelT", bound=BaseModel)


def declared_length(request: Request) -> int | None:
    """The request's Content-Length (None without one); BadRequestError when it is not
    a non-negative number."""
    declared = request.headers.get("content-length")
    if declared is None:
        return None
    if not declared.isdigit():
        raise BadRequestError("invalid Content-Length")
    return int(declared)


def check_content_length(request: Request, limit: int, what: str = "body") -> None:
    """Refuse a declared Content-Length over ``limit`` before reading anything.

    PayloadTooLargeError names ``what`` ("body larger than ..."); BadRequestError when
    the header is not a number.
    """
    declared_size = declared_length(request)
    if declared_size is not None and declared_size > limit:
        raise PayloadTooLargeError(f"{what} larger than {limit} bytes")


async def capped_stream(
    request: Request, limit: int, what: str = "body"
) -> AsyncGenerator[bytes, None]:
    """The body's chunks as they arrive, refused once more than ``limit`` bytes came.

    Counted as it streams, so it holds with or without Content-Length, chunked or not.
    Callers check the declared length first (:func:`check_content_length`).
    """
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"{what} larger than {limit} bytes")
        yield chunk


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than ``limit`` bytes without reading it all into memory."""
    check_content_length(request, limit)
    return b"".join([chunk async for chunk in capped_stream(request, limit)])


def validation_fields(error: ValidationError) -> dict[str, str]:
    """Pydantic errors as {"field": "problem"}."""
    fields: dict[str, str] = {}
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]) or "body"
        fields.setdefault(name, item["msg"])
    return fields


def json_depth(data: object) -> int:
    """How deeply arrays and objects nest in parsed JSON (a scalar is 0), without recursion."""
    deepest, level = 0, [(data, 1)]
    while level:
        value, depth = level.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, depth)
            level.extend((child, depth + 1) for child in value)
    return deepest


async def read_json(
    request: Request, model: type[ModelT], limit: int, max_depth: int = 32
) -> ModelT:
    """Parse and validate a JSON object body of at most ``limit`` bytes and ``max_depth``
    levels of nesting into ``model``."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaTypeError("expected Content-Type: application/json")
    raw = await read_body(request, limit)
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequestError("malformed JSON body") from exc
    except RecursionError as exc:  # the parser's own guard, far past max_depth
        raise BadRequestError(f"JSON body nested deeper than {max_depth} levels") from exc
    if json_depth(data) > max_depth:
        raise BadRequestError(f"JSON body nested deeper than {max_depth} levels")
    if not isinstance(data, dict):
        raise BadRequestError("JSON body must be an object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = validation_fields(exc)
        raise ValidationFailedError(
            "invalid fields: " + ", ".join(sorted(fields)), fields=fields
        ) from exc


def read_query(request: Request, model: type[ModelT]) -> ModelT:
    """Validate the query string into ``model`` (422 naming the bad parameters)."""
    try:
        return model.model_validate(dict(request.query_params))
    except ValidationError as exc:
        fields = validation_fields(exc)
        raise ValidationFailedError(
            "invalid query: " + ", ".join(sorted(fields)), fields=fields
        ) from exc
