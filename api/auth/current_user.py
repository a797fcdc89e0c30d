"""Resolving the bearer token of a request or WebSocket to a user id."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from api.context import get_context
from api.errors import AuthenticationError
from db import repo
from db.models import User


def bearer_token(connection: HTTPConnection, *, allow_query: bool = False) -> str:
    """The token from ``Authorization: Bearer``, or from ``?token=`` where allowed (WebSocket)."""
    header = connection.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("expected Authorization: Bearer <token>")
        return token.strip()
    if allow_query and connection.query_params.get("token"):
        return connection.query_params["token"]
    raise AuthenticationError("authentication required")


def authenticate(connection: HTTPConnection, *, allow_query: bool = False) -> int:
    """The user id of a valid access token; AuthenticationError otherwise."""
    token = bearer_token(connection, allow_query=allow_query)
    return get_context(connection).tokens.verify(token, "access").user_id


async def current_user(connection: HTTPConnection) -> User:
    """The user of a valid access token, looked up: a deleted account's tokens stop
    working at once (401), however long they would still be valid."""
    user_id = authenticate(connection)
    user = await get_context(connection).db(repo.get_user, user_id)
    if user is None:
        raise AuthenticationError("this account no longer exists")
    return user
