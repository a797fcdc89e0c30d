"""The OpenAPI 3.1 document, generated from the route table and the pydantic schemas."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from api import schemas
from api.exercise_types import EXERCISE_TYPES

_REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Operation:
    """One documented operation: what it takes and what it answers."""

    summary: str
    responses: dict[int, type[BaseModel] | tuple[type[BaseModel], str] | None]
    body: type[BaseModel] | None = None
    auth: bool = True
    list_response: bool = False
    parameters: list[dict[str, Any]] = field(default_factory=list)
    multipart_video: bool = False


_ERRORS = {
    400: "bad input",
    401: "no, invalid or expired token",
    404: "not found",
    409: "conflict",
    413: "too large",
    415: "wrong media type",
    422: "invalid values",
    429: "rate limited",
    503: "unavailable",
}

_EXERCISE_PARAM = {
    "name": "exercise_type",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "enum": list(EXERCISE_TYPES)},
}
_HISTORY_PARAMS = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
    {
        "name": "offset",
        "in": "query",
        "schema": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
    },
    {
        "name": "exercise_type",
        "in": "query",
        "schema": {"type": "string", "pattern": "^[a-z_]{1,32}$"},
    },
]

OPERATIONS: dict[tuple[str, str], Operation] = {
    ("/api/auth/register/", "post"): Operation(
        "Create an account",
        {
            201: schemas.RegisterOut,
            400: None,
            409: None,
            413: None,
            415: None,
            422: None,
            429: None,
        },
        body=schemas.RegisterIn,
        auth=False,
    ),
    ("/api/auth/login/", "post"): Operation(
        "Log in by e-mail",
        {200: schemas.LoginOut, 400: None, 401: None, 413: None, 415: None, 422: None, 429: None},
        body=schemas.LoginIn,
        auth=False,
    ),
    ("/api/auth/token/refresh/", "post"): Operation(
        "Rotate a refresh token",
        {200: schemas.RefreshOut, 400: None, 401: None, 413: None, 415: None, 422: None},
        body=schemas.RefreshIn,
        auth=False,
    ),
    ("/api/auth/stats/", "get"): Operation(
        "Totals and streaks", {200: schemas.StatsOut, 401: None}
    ),
    ("/api/exercises/history/", "get"): Operation(
        "Sessions, newest first",
        {200: schemas.HistoryItem, 401: None, 422: None},
        list_response=True,
        parameters=_HISTORY_PARAMS,
    ),
    ("/api/exercises/test-models/", "get"): Operation(
        "Run each pose model once", {200: schemas.ModelsOut, 401: None}
    ),
    ("/api/exercises/{exercise_type}/upload/", "post"): Operation(
        "Upload a workout video",
        {201: schemas.UploadOut, 400: None, 401: None, 404: None, 413: None, 415: None},
        parameters=[_EXERCISE_PARAM],
        multipart_video=True,
    ),
    ("/healthz", "get"): Operation("Liveness", {200: schemas.HealthOut}, auth=False),
    ("/readyz", "get"): Operation("Readiness", {200: schemas.HealthOut, 503: None}, auth=False),
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _REF.format(model=model.__name__)}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _operation(op: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, model in op.responses.items():
        if model is None:
            responses[str(status)] = {
                "description": _ERRORS[status],
                "content": _json(_ref(schemas.ErrorOut)),
            }
            continue
        assert isinstance(model, type)
        schema = {"type": "array", "items": _ref(model)} if op.list_response else _ref(model)
        responses[str(status)] = {"description": "success", "content": _json(schema)}
    if op.auth:
        responses.setdefault(
            "401", {"description": _ERRORS[401], "content": _json(_ref(schemas.ErrorOut))}
        )
    spec: dict[str, Any] = {"summary": op.summary, "responses": responses}
    if op.parameters:
        spec["parameters"] = op.parameters
    if op.body is not None:
        spec["requestBody"] = {"required": True, "content": _json(_ref(op.body))}
    if op.multipart_video:
        spec["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["video"],
                        "properties": {"video": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    spec["security"] = [{"bearer": []}] if op.auth else []
    return spec


def _components() -> dict[str, Any]:
    models: set[type[BaseModel]] = {schemas.ErrorOut}
    for op in OPERATIONS.values():
        models.update(m for m in op.responses.values() if isinstance(m, type))
        if op.body is not None:
            models.add(op.body)
    found: dict[str, Any] = {}
    for model in sorted(models, key=lambda m: m.__name__):
        schema = model.model_json_schema(ref_template=_REF, mode="serialization")
        found.update(schema.pop("$defs", {}))
        found[model.__name__] = schema
    for model in (schemas.RegisterIn, schemas.LoginIn, schemas.RefreshIn):
        found[model.__name__] = model.model_json_schema(ref_template=_REF, mode="validation")
    return found


def build_openapi() -> dict[str, Any]:
    """The whole document."""
    paths: dict[str, dict[str, Any]] = {}
    for (path, method), op in OPERATIONS.items():
        paths.setdefault(path, {})[method] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "posecoach", "version": "0.1.0"},
        "paths": paths,
        "components": {
            "schemas": _components(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
