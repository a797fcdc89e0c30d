"""/api/auth/: register, login, token refresh, stats."""

from __future__ import annotations

import contextlib
import uuid

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from api.auth.current_user import current_user
from api.context import AppContext, client_ip, get_context
from api.errors import AuthenticationError, ConflictError
from api.http import read_json
from api.openapi import Operation, documented
from api.schemas import (
    LoginIn,
    LoginOut,
    RefreshIn,
    RefreshOut,
    RegisterIn,
    RegisterOut,
    StatsOut,
    UserBrief,
    UserOut,
)
from api.shared_state import SharedStateUnavailableError
from db import repo


async def issue_pair(
    context: AppContext, user_id: int, family_id: str | None = None
) -> tuple[str, str]:
    """A new access token and a new refresh token in ``family_id`` (stored; a new family
    when None)."""
    family_id = family_id or uuid.uuid4().hex
    access = context.tokens.issue(user_id, "access")
    refresh = context.tokens.issue(user_id, "refresh", family_id=family_id)
    await context.db(
        repo.add_refresh_token,
        jti=refresh.jti,
        family_id=family_id,
        user_id=user_id,
        expires_at=refresh.expires_at,
    )
    return access.token, refresh.token


def token_response(body: dict[str, object], status_code: int = 200) -> JSONResponse:
    """A response carrying tokens: never stored by a cache (RFC 6749 section 5.1)."""
    return JSONResponse(
        body, status_code=status_code, headers={"Cache-Control": "no-store", "Pragma": "no-cache"}
    )


@documented(
    Operation(
        "Create an account",
        {201: RegisterOut, 400: None, 409: None, 413: None, 415: None, 422: None, 429: None},
        body=RegisterIn,
        auth=False,
    )
)
async def register(request: Request) -> JSONResponse:
    """Create an account and log it in."""
    context = get_context(request)
    await context.register_by_ip.reserve(client_ip(request))
    body = await read_json(
        request, RegisterIn, context.settings.max_json_body_bytes, context.settings.max_json_depth
    )
    password_hash = await run_in_threadpool(context.passwords.hash, body.password)
    try:
        user = await context.db(
            repo.create_user,
            username=body.username,
            email=body.email,
            password_hash=password_hash,
            height=body.height,
            weight=body.weight,
            fitness_goal=body.fitness_goal,
        )
    except repo.DuplicateUserError as exc:
        raise ConflictError(str(exc), fields={exc.field: "already registered"}) from exc
    assert user.id is not None
    access, refresh = await issue_pair(context, user.id, uuid.uuid4().hex)
    user_out = UserOut(
        id=user.id,
        username=user.username,
        email=user.email,
        height=user.height,
        weight=user.weight,
        fitness_goal=body.fitness_goal,
        daily_streak=0,
    )
    out = RegisterOut(user=user_out, refresh=refresh, access=access)
    return token_response(out.model_dump(mode="json"), status_code=201)


@documented(
    Operation(
        "Log in by e-mail",
        {200: LoginOut, 400: None, 401: None, 413: None, 415: None, 422: None, 429: None},
        body=LoginIn,
        auth=False,
    )
)
async def login(request: Request) -> JSONResponse:
    """Exchange e-mail and password for a token pair; throttled per account and client
    address, per account, and per address."""
    context = get_context(request)
    body = await read_json(
        request, LoginIn, context.settings.max_json_body_bytes, context.settings.max_json_depth
    )
    # Keyed by the e-mail given, known or not: limiting only real accounts would tell
    # an attacker which ones exist (429 for them, 401 for the rest). Per account *and*
    # client address, so a stranger's wrong guesses lock out only the stranger (OWASP);
    # a much higher cap per account over all addresses bounds distributed guessing.
    email, ip_key = body.email.lower(), client_ip(request)
    pair_key = f"{email}|{ip_key}"
    # Reserved before the password is checked, with no await in between: N concurrent
    # guesses count N (checking first and counting after the argon2 await let all in).
    await context.login_by_ip.reserve(ip_key)
    await context.login_by_account_source.reserve(pair_key)
    await context.login_by_account.reserve(email)
    user = await context.db(repo.get_user_by_email, body.email)
    # Unknown e-mails still pay for one argon2 verification: timing reveals nothing.
    valid = await run_in_threadpool(
        context.passwords.verify, body.password, user.password_hash if user else None
    )
    if not valid or user is None or user.id is None:
        raise AuthenticationError("invalid email or password")
    # A successful login costs the address and the account nothing and clears this
    # address's failures on the account.
    # (Best effort: a shared store that fails now must not turn a valid login into 503.)
    with contextlib.suppress(SharedStateUnavailableError):
        await context.login_by_ip.release(ip_key)
        await context.login_by_account_source.reset(pair_key)
        await context.login_by_account.release(email)
    access, refresh = await issue_pair(context, user.id, uuid.uuid4().hex)
    out = LoginOut(
        user=UserBrief(id=user.id, username=user.username, email=user.email),
        refresh=refresh,
        access=access,
    )
    return token_response(out.model_dump(mode="json"))


def _rotate(db: Session, jti: str, family_id: str) -> bool:
    """Spend the token; on reuse of a spent or revoked one, revoke its family."""
    if repo.spend_refresh_token(db, jti) is not None:
        return True
    if repo.get_refresh_token(db, jti) is not None:
        repo.revoke_family(db, family_id)
    return False


@documented(
    Operation(
        "Rotate a refresh token",
        {200: RefreshOut, 400: None, 401: None, 413: None, 415: None, 422: None},
        body=RefreshIn,
        auth=False,
    )
)
async def refresh_token(request: Request) -> JSONResponse:
    """Rotate a refresh token: a new pair; reuse of a spent token revokes the family."""
    context = get_context(request)
    body = await read_json(
        request, RefreshIn, context.settings.max_json_body_bytes, context.settings.max_json_depth
    )
    claims = context.tokens.verify(body.refresh, "refresh")
    assert claims.family_id is not None
    if not await context.db(_rotate, claims.jti, claims.family_id):
        raise AuthenticationError("refresh token is no longer valid; log in again")
    if await context.db(repo.get_user, claims.user_id) is None:
        raise AuthenticationError("unknown user")
    access, refresh = await issue_pair(context, claims.user_id, claims.family_id)
    return token_response(RefreshOut(access=access, refresh=refresh).model_dump(mode="json"))


@documented(Operation("Totals and streaks", {200: StatsOut, 401: None}))
async def stats(request: Request) -> JSONResponse:
    """Totals and streaks of the current user."""
    context = get_context(request)
    user = await current_user(request)
    user_id = user.id or 0
    totals = await context.db(repo.user_stats, user_id)
    out = StatsOut(
        total_exercises=totals.total_exercises,
        total_minutes=round(totals.total_seconds / 60),
        total_seconds=round(totals.total_seconds, 1),
        highest_streak=totals.highest_streak,
        daily_streak=totals.daily_streak,
        calories_burned=totals.calories_burned,
        created_at=repo.as_utc(user.created_at),
    )
    return JSONResponse(out.model_dump(mode="json"))
