"""GET /api/exercises/test-models/: run a real inference on every served pose model."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from api.auth.current_user import current_user
from api.context import get_context
from api.openapi import Operation, documented
from api.schemas import ModelsOut, ModelStatus


@documented(Operation("Run each pose model once", {200: ModelsOut, 401: None}, uses_db=False))
async def test_models(request: Request) -> JSONResponse:
    """The state of each pose model: a real inference on a person, timed per stage."""
    context = get_context(request)
    await current_user(request)
    # A server started without a pose backend serves no models: an empty list is the truth.
    infos = await context.pose_client.describe_models() if context.pose_client else []
    out = ModelsOut(
        models=[
            ModelStatus(
                name=info.name,
                variant=info.variant,
                device=info.device,
                loaded=info.loaded,
                inference_ms=info.inference_ms,
                error=info.error,
                providers=list(info.providers),
                stages_ms=info.stages_ms,
            )
            for info in infos
        ]
    )
    return JSONResponse(out.model_dump(mode="json"))
