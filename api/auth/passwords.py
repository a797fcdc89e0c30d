"""argon2id password hashing through passlib, with a constant-work path for unknown users."""

from __future__ import annotations

import warnings

# passlib 1.7.4 (unmaintained, the customer's pick) imports the stdlib `crypt` module and
# reads argon2.__version__, both deprecated. Silence exactly those two where they happen,
# so `-W error` runs stay usable.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'crypt' is deprecated", DeprecationWarning)
    from passlib.context import CryptContext


class PasswordHasher:
    """Hash and verify passwords with argon2id only (never bcrypt: passlib 1.7.4 breaks on it)."""

    def __init__(self, *, memory_kib: int, time_cost: int) -> None:
        self._context = CryptContext(
            schemes=["argon2"],
            deprecated="auto",
            argon2__type="ID",
            argon2__memory_cost=memory_kib,
            argon2__time_cost=time_cost,
            argon2__parallelism=1,
        )
        with warnings.catch_warnings():  # passlib loads its argon2 backend on first use
            warnings.filterwarnings("ignore", "Accessing argon2.__version__", DeprecationWarning)
            # Verified against when the e-mail is unknown: both paths cost one argon2 run.
            self._dummy_hash = self._context.hash("posecoach-dummy-password")

    def hash(self, password: str) -> str:
        """A fresh argon2id hash of ``password``."""
        return self._context.hash(password)

    def verify(self, password: str, password_hash: str | None) -> bool:
        """True when ``password`` matches; with no hash, does the same work and says False."""
        if password_hash is None:
            self._context.verify(password, self._dummy_hash)
            return False
        return bool(self._context.verify(password, password_hash))
