"""JWT access and refresh tokens (RFC 8725): HS256 pinned, explicitly typed, short-lived."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import jwt

from api.errors import AuthenticationError

ALGORITHM = "HS256"
TokenType = Literal["access", "refresh"]
#: Header ``typ`` per token type, so one kind can never be accepted as the other.
_HEADER_TYP: dict[str, str] = {"access": "at+jwt", "refresh": "rt+jwt"}
_REQUIRED_CLAIMS = ["exp", "iat", "jti", "sub", "typ", "iss", "aud"]


@dataclass(frozen=True)
class IssuedToken:
    """An encoded token and the claims the server tracks."""

    token: str
    jti: str
    expires_at: datetime
    family_id: str | None = None


@dataclass(frozen=True)
class TokenClaims:
    """The verified claims of a token."""

    user_id: int
    jti: str
    token_type: TokenType
    expires_at: datetime
    family_id: str | None


class TokenService:
    """Issues and verifies tokens with one secret and issuer."""

    def __init__(self, secret: str, *, issuer: str, access_ttl_s: int, refresh_ttl_s: int) -> None:
        self._secret = secret
        self._issuer = issuer
        self._ttl = {
            "access": timedelta(seconds=access_ttl_s),
            "refresh": timedelta(seconds=refresh_ttl_s),
        }

    def issue(
        self,
        user_id: int,
        token_type: TokenType,
        *,
        family_id: str | None = None,
        now: datetime | None = None,
    ) -> IssuedToken:
        """Sign a new token of ``token_type`` for ``user_id``."""
        issued = now or datetime.now(UTC)
        expires = issued + self._ttl[token_type]
        jti = uuid.uuid4().hex
        claims: dict[str, object] = {
            "sub": str(user_id),
            "typ": token_type,
            "jti": jti,
            "iat": int(issued.timestamp()),
            "exp": int(expires.timestamp()),
            "iss": self._issuer,
            "aud": self._issuer,
        }
        if family_id is not None:
            claims["fam"] = family_id
        token = jwt.encode(
            claims, self._secret, algorithm=ALGORITHM, headers={"typ": _HEADER_TYP[token_type]}
        )
        return IssuedToken(token=token, jti=jti, expires_at=expires, family_id=family_id)

    def verify(self, token: str, expected: TokenType) -> TokenClaims:
        """Verify signature, algorithm, type and expiry; raise AuthenticationError otherwise."""
        try:
            header = jwt.get_unverified_header(token)
            if header.get("typ") != _HEADER_TYP[expected]:
                raise AuthenticationError(f"not an {expected} token")
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self._issuer,
                issuer=self._issuer,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("token expired") from exc
        except jwt.InvalidTokenError as exc:
            raise AuthenticationError("invalid token") from exc
        if claims.get("typ") != expected:
            raise AuthenticationError(f"not an {expected} token")
        try:
            user_id = int(claims["sub"])
        except (TypeError, ValueError) as exc:
            raise AuthenticationError("invalid token subject") from exc
        family = claims.get("fam")
        if expected == "refresh" and not isinstance(family, str):
            raise AuthenticationError("invalid refresh token")
        return TokenClaims(
            user_id=user_id,
            jti=str(claims["jti"]),
            token_type=expected,
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            family_id=family if isinstance(family, str) else None,
        )
