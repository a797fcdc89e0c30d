"""Authentication: password hashing, JWTs, throttling, the current user."""
