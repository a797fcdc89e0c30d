"""The OpenAPI 3.1 document, generated from the route table and the pydantic schemas.

Each endpoint carries its :class:`Operation` (:func:`documented`); :func:`build_openapi`
walks the routes, so there is no second table of paths to keep in step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel
from starlette.routing import BaseRoute, Route

from api import schemas
from api.uploads.store import ALLOWED_VIDEO_TYPES

_REF = "#/components/schemas/{model}"
#: What the upload's ``video`` part may be (api/uploads/store.py checks it).
_VIDEO_PART = (
    f"The video, declared as one of {', '.join(ALLOWED_VIDEO_TYPES)}. Its content decides "
    "what it is, whatever its name and declared type: ISO media (MP4, QuickTime) or "
    "Matroska (WebM, MKV), and it must decode (H.264, HEVC, VP8, VP9, AV1)."
)


@dataclass(frozen=True)
class Operation:
    """One documented operation: what it takes and what it answers."""

    summary: str
    responses: dict[int, type[BaseModel] | tuple[type[BaseModel], str] | None]
    body: type[BaseModel] | None = None
    auth: bool = True
    list_response: bool = False
    parameters: Sequence[dict[str, Any]] = ()
    multipart_video: bool = False
    #: Needs the database: 503 (with Retry-After) while it is unreachable.
    uses_db: bool = True
    #: The success response may also be CSV text (``?format=csv``).
    csv: bool = False


_ERRORS = {
    400: "bad input",
    401: "no, invalid or expired token",
    403: "not allowed (a wrong password where one confirms)",
    404: "not found",
    409: "conflict",
    413: "too large",
    415: "wrong media type",
    422: "invalid values",
    429: "rate limited",
    503: "unavailable",
}


def path_param(name: str, enum: Sequence[str]) -> dict[str, Any]:
    """A required path parameter taking one of ``enum``."""
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": list(enum)},
    }


def id_param(name: str) -> dict[str, Any]:
    """A required positive integer path parameter (a resource id)."""
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }


def query_params(model: type[BaseModel]) -> list[dict[str, Any]]:
    """Optional query parameters from the pydantic model that parses them."""
    params = []
    for name, prop in model.model_json_schema()["properties"].items():
        # `x: str | None = None` is "absent or a string" in a query string: drop the null.
        variants = [v for v in prop.get("anyOf", [prop]) if v.get("type") != "null"]
        merged = {**prop, **variants[0]}
        schema = {k: v for k, v in merged.items() if k not in ("title", "anyOf") and v is not None}
        params.append({"name": name, "in": "query", "schema": schema})
    return params


EndpointT = TypeVar("EndpointT", bound=Callable[..., Any])


def documented(op: Operation) -> Callable[[EndpointT], EndpointT]:
    """Attach ``op`` to an endpoint: the document is generated from the routing table, so a
    route and its documentation cannot drift apart (an undocumented route fails the build)."""

    def attach(endpoint: EndpointT) -> EndpointT:
        endpoint.__openapi__ = op  # type: ignore[attr-defined]
        return endpoint

    return attach


def operation_of(route: Route) -> Operation:
    """The operation attached to ``route``'s endpoint by :func:`documented`."""
    op = getattr(route.endpoint, "__openapi__", None)
    if not isinstance(op, Operation):
        raise LookupError(f"route {route.path} has no @documented operation")
    return op


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _REF.format(model=model.__name__)}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _operation(op: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, model in op.responses.items():
        if status == 204:
            responses["204"] = {"description": "no content"}
            continue
        if model is None:
            responses[str(status)] = {
                "description": _ERRORS[status],
                "content": _json(_ref(schemas.ErrorOut)),
            }
            continue
        assert isinstance(model, type)
        schema = {"type": "array", "items": _ref(model)} if op.list_response else _ref(model)
        content = _json(schema)
        if op.csv:
            content["text/csv"] = {"schema": {"type": "string"}}
        responses[str(status)] = {"description": "success", "content": content}
    extra = ([401] if op.auth else []) + ([503] if op.uses_db else [])
    for status in extra:
        responses.setdefault(
            str(status), {"description": _ERRORS[status], "content": _json(_ref(schemas.ErrorOut))}
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
                        "properties": {
                            "video": {
                                "type": "string",
                                "format": "binary",
                                "description": _VIDEO_PART,
                            }
                        },
                    }
                }
            },
        }
    spec["security"] = [{"bearer": []}] if op.auth else []
    return spec


def _components(operations: list[Operation]) -> dict[str, Any]:
    models: set[type[BaseModel]] = {schemas.ErrorOut}
    for op in operations:
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


def build_openapi(routes: Sequence[BaseRoute]) -> dict[str, Any]:
    """The whole document, from the routes that are part of the schema."""
    paths: dict[str, dict[str, Any]] = {}
    operations: list[Operation] = []
    for route in routes:
        if not isinstance(route, Route) or not route.include_in_schema:
            continue
        op = operation_of(route)
        operations.append(op)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            paths.setdefault(route.path, {})[method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "posecoach", "version": "0.1.0"},
        "paths": paths,
        "components": {
            "schemas": _components(operations),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
