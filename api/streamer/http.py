"""The REST calls a client needs (register, login, a token check), over the standard library.

Three small JSON requests do not justify a runtime HTTP dependency: ``urllib.request`` does them,
and every error the server answers is its ``{"error": ...}`` text in a :class:`ServerError`.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit


class ServerError(Exception):
    """The server refused a request; ``str()`` is its own message."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def base_url(url: str) -> str:
    """``http://host:port`` from ``host:port``, ``http(s)://...`` or ``ws(s)://...``."""
    if "://" not in url:
        url = f"http://{url}"
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    if scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not a server URL: {url!r}")
    return urlunsplit((scheme, parts.netloc, "", "", ""))


def socket_url(base: str, exercise: str, token: str) -> str:
    """The exercise WebSocket URL for ``base`` (token in the query, as API.md allows)."""
    parts = urlsplit(base)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, f"/ws/exercise/{exercise}/", f"token={token}", ""))


def request_json(
    base: str,
    path: str,
    body: dict[str, Any] | None = None,
    token: str | None = None,
    timeout_s: float = 30.0,
) -> Any:
    """GET (or POST ``body`` as JSON); the decoded answer, or :class:`ServerError`."""
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(  # noqa: S310 (base_url allows http(s) only)
        f"{base}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers=headers,
        method="GET" if body is None else "POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            return json.load(response)
    except urllib.error.HTTPError as exc:
        raise ServerError(_error_text(exc), exc.code) from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ServerError(f"cannot reach {base}: {reason}") from exc


def _error_text(exc: urllib.error.HTTPError) -> str:
    raw = exc.read()
    try:
        message = json.loads(raw).get("error")
    except (ValueError, AttributeError):
        message = None
    return f"{exc.code}: {message or raw[:200].decode(errors='replace') or exc.reason}"


@dataclass(frozen=True)
class Credentials:
    """Who to log in as; ``register`` creates the account first."""

    email: str
    password: str
    register: bool = False
    username: str | None = None


def fresh_credentials() -> Credentials:
    """A new throw-away account (for trying a server from a shell)."""
    name = f"client{secrets.token_hex(4)}"
    return Credentials(f"{name}@example.com", secrets.token_urlsafe(12), True, name)


def access_token(base: str, credentials: Credentials) -> str:
    """Register (when asked) or log in; the access token."""
    if credentials.register:
        body = {
            "username": credentials.username or credentials.email.split("@")[0],
            "email": credentials.email,
            "password": credentials.password,
            "height": 170.0,
            "weight": 70.0,
            "fitness_goal": "endurance",
        }
        answer = request_json(base, "/api/auth/register/", body)
    else:
        body = {"email": credentials.email, "password": credentials.password}
        answer = request_json(base, "/api/auth/login/", body)
    token: str = answer["access"]
    return token


def check_token(base: str, token: str) -> None:
    """:class:`ServerError` with the server's reason when it refuses ``token``.

    A WebSocket refused before accept arrives as a bare HTTP 403, without the reason;
    the same token on a REST call gets the server's words.
    """
    request_json(base, "/api/auth/stats/", token=token)
