"""Secrets: slow hashes for what people choose, fast digests for what we generate.

Passwords and client secrets are hashed with Argon2id (argon2-cffi's RFC 9106 low-memory
profile). Access tokens, refresh tokens and authorization codes are 256-bit random values, so
a SHA-256 digest is enough to store them safely and lets every API request look its token up
by key.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def configure(*, time_cost: int, memory_kib: int) -> None:
    """Tune the Argon2 cost (settings); lower only where speed matters more, as in tests."""
    global _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(secret_hash: str | None, secret: str) -> bool:
    if not secret_hash:
        return False
    try:
        return _hasher.verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """URL-safe and free of `%` and `+`, which the JS SDK's fragment parser mangles."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_password() -> str:
    return secrets.token_urlsafe(12)
