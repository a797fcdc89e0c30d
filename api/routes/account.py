"""/api/auth/password/, /api/auth/export/, /api/auth/account/: a person's own data
(extensions; GDPR Art. 17 and 20, App Store guideline 5.1.1(v)).

Each confirms with the password where it changes something, and each is rate limited:
a password check counts against the same per-account-and-address limit as logins, and
exports are limited per user. The export streams page by page, so its memory does not
grow with the history.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Literal

from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from api.auth.current_user import current_user
from api.context import AppContext, client_ip, get_context
from api.errors import ForbiddenError
from api.http import read_json, read_query
from api.openapi import Operation, documented, query_params
from api.routes.analyses import analysis_out
from api.routes.auth import issue_pair, token_response
from api.routes.exercises import history_item
from api.schemas import (
    AccountDeleteIn,
    ExportOut,
    LoginOut,
    PasswordChangeIn,
    ProfileOut,
    SessionExport,
    UserBrief,
)
from api.services import get_services
from db import accounts, repo
from db.models import ExerciseSession, User

CSV_FIELDS = list(SessionExport.model_fields)


class ExportQuery(BaseModel):
    """GET /api/auth/export/'s query."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["json", "csv"] = "json"


async def _confirm_password(request: Request, context: AppContext, user: User, given: str) -> None:
    """The password is right, or 403 (counted like a login attempt from this address)."""
    key = f"{user.email.lower()}|{client_ip(request)}"
    await context.login_by_account_source.reserve(key)
    if not await run_in_threadpool(context.passwords.verify, given, user.password_hash):
        raise ForbiddenError("the password is not right")
    await context.login_by_account_source.reset(key)


@documented(
    Operation(
        "Change the password (extension): every refresh token is revoked",
        {200: LoginOut, 400: None, 403: None, 413: None, 415: None, 422: None, 429: None},
        body=PasswordChangeIn,
    )
)
async def change_password(request: Request) -> Response:
    """New password; other devices are signed out at their next refresh. A new pair for
    this device."""
    context = get_context(request)
    user = await current_user(request)
    settings = context.settings
    body = await read_json(
        request, PasswordChangeIn, settings.max_json_body_bytes, settings.max_json_depth
    )
    await _confirm_password(request, context, user, body.old_password)
    password_hash = await run_in_threadpool(context.passwords.hash, body.new_password)
    assert user.id is not None
    await context.db(accounts.set_password, user.id, password_hash)
    access, refresh = await issue_pair(context, user.id)
    out = LoginOut(
        user=UserBrief(id=user.id, username=user.username, email=user.email),
        refresh=refresh,
        access=access,
    )
    return token_response(out.model_dump(mode="json"))


def _session_export(row: ExerciseSession) -> SessionExport:
    # The history's fields, as the history shows them, plus what only the export holds.
    return SessionExport(
        **history_item(row).model_dump(), session_key=row.session_key, details=row.details
    )


async def _sessions(context: AppContext, user_id: int) -> AsyncIterator[SessionExport]:
    after = 0
    while True:
        rows = await context.db(accounts.sessions_page, user_id, after)
        for row in rows:
            yield _session_export(row)
        if len(rows) < accounts.EXPORT_PAGE:
            return
        after = rows[-1].id or 0


async def _json_export(context: AppContext, user: User) -> AsyncIterator[str]:
    profile = ProfileOut(
        id=user.id or 0,
        username=user.username,
        email=user.email,
        height=user.height,
        weight=user.weight,
        fitness_goal=user.fitness_goal,
        created_at=repo.as_utc(user.created_at),
    )
    yield '{"user": ' + profile.model_dump_json() + ', "sessions": ['
    first = True
    async for session in _sessions(context, user.id or 0):
        yield ("" if first else ", ") + session.model_dump_json()
        first = False
    yield '], "analyses": ['
    after, first = 0, True
    while True:
        rows = await context.db(accounts.analyses_page, user.id or 0, after)
        for row in rows:
            yield ("" if first else ", ") + analysis_out(row).model_dump_json()
            first = False
        if len(rows) < accounts.EXPORT_PAGE:
            break
        after = rows[-1].id or 0
    yield "]}"


async def _csv_export(context: AppContext, user_id: int) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS)
    writer.writeheader()
    async for session in _sessions(context, user_id):
        row = session.model_dump(mode="json")
        row["details"] = json.dumps(row["details"], separators=(",", ":"))
        writer.writerow(row)
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@documented(
    Operation(
        "Everything held about the person (extension); ?format=csv: sessions as CSV",
        {200: ExportOut, 422: None, 429: None},
        parameters=query_params(ExportQuery),
        csv=True,
    )
)
async def export_data(request: Request) -> Response:
    """One JSON document with the profile, every session (with per-rep details) and every
    analysis; or the sessions as CSV."""
    context = get_context(request)
    user = await current_user(request)
    query = read_query(request, ExportQuery)
    await context.exports_by_user.reserve(str(user.id))
    headers = {"Cache-Control": "no-store"}
    if query.format == "csv":
        headers["Content-Disposition"] = 'attachment; filename="posecoach-sessions.csv"'
        return StreamingResponse(
            _csv_export(context, user.id or 0), media_type="text/csv", headers=headers
        )
    headers["Content-Disposition"] = 'attachment; filename="posecoach-export.json"'
    return StreamingResponse(
        _json_export(context, user), media_type="application/json", headers=headers
    )


@documented(
    Operation(
        "Delete the account and everything of it (extension)",
        {204: None, 400: None, 403: None, 413: None, 415: None, 422: None, 429: None},
        body=AccountDeleteIn,
    )
)
async def delete_account(request: Request) -> Response:
    """Erase the user: sessions, analyses, stored videos, tokens, pending saves. Their
    tokens stop working at once (every request looks the user up)."""
    context = get_context(request)
    user = await current_user(request)
    settings = context.settings
    body = await read_json(
        request, AccountDeleteIn, settings.max_json_body_bytes, settings.max_json_depth
    )
    await _confirm_password(request, context, user, body.password)
    assert user.id is not None
    services = get_services(request)
    await services.sessions.drop_user(user.id)
    await context.db(accounts.delete_user, user.id)
    await services.saver.forget_user(user.id)
    return Response(status_code=204)
