"""The OpenAPI document describes every route, and the app honours it (schemathesis)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from starlette.routing import Route
from starlette.testclient import TestClient

from api.app import http_routes
from api.openapi import build_openapi
from tests.conftest import RegisterFn, bearer


def test_every_route_is_documented_and_nothing_else() -> None:
    served = {
        (route.path, method.lower())
        for route in http_routes()
        if isinstance(route, Route) and route.include_in_schema
        for method in (route.methods or set()) - {"HEAD"}
    }
    documented = {
        (path, method)
        for path, ops in build_openapi(http_routes())["paths"].items()
        for method in ops
    }
    assert served == documented


def test_an_undocumented_route_fails_the_build() -> None:
    async def undocumented(request: Any) -> None:
        raise AssertionError("never called")

    with pytest.raises(LookupError, match="/new/"):
        build_openapi([*http_routes(), Route("/new/", undocumented)])


def test_503_is_documented_wherever_the_database_is_used() -> None:
    paths = build_openapi(http_routes())["paths"]
    needs_db = {
        f"{method.upper()} {path}"
        for path, ops in paths.items()
        for method, op in ops.items()
        if "503" in op["responses"]
    }
    assert {
        "POST /api/auth/register/",
        "POST /api/auth/login/",
        "POST /api/auth/token/refresh/",
        "GET /api/auth/stats/",
        "GET /api/exercises/history/",
        "GET /readyz",
    } <= needs_db
    assert "GET /healthz" not in needs_db


def operations(api_schema: Any) -> dict[str, Any]:
    """The schema's operations by label ("POST /api/auth/login/")."""
    found = (result.ok() for result in api_schema.get_all_operations())
    return {operation.label: operation for operation in found}


OPERATION_LABELS = sorted(operations(schemathesis.openapi.from_dict(build_openapi(http_routes()))))


@pytest.mark.parametrize("label", OPERATION_LABELS)
def test_api_conforms_to_its_schema(label: str, client: TestClient, register: RegisterFn) -> None:
    # schemathesis' own pytest plugin does not load under pytest 9.2, so each operation's
    # hypothesis strategy is driven here directly. Calls are authorised, so generated data
    # reaches the handlers instead of stopping at 401. No 5xx may happen, and every
    # response must match its documented status codes and schema.
    api_schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    operation = operations(api_schema)[label]
    headers = bearer(register()["access"])
    # An upload's bytes must be a real MP4/QuickTime file, which no schema can express:
    # random "binary" parts are rightly refused with 415, so that one check is skipped there.
    excluded = [positive_data_acceptance] if label.endswith("/upload/") else []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=30,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    check()
