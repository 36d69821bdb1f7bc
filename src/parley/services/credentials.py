"""Secrets: slow hashes for what people choose, fast digests for what we generate.

Passwords and client secrets are hashed with Argon2id (argon2-cffi's RFC 9106 low-memory
profile). Access tokens, refresh tokens and authorization codes are 256-bit random values, so
a SHA-256 digest is enough to store them safely and lets every API request look its token up
by key.

Checking a password costs tens of milliseconds of CPU by design; on the event loop, a few wrong
logins a second starved every other request (send throughput fell from 2,782 to 95 req/s).
`SecretVerifier` checks them on a small thread pool instead (argon2-cffi releases the GIL),
which also bounds the CPU that checks can take.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from concurrent.futures import ThreadPoolExecutor

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


class SecretVerifier:
    """Verifies passwords and client secrets off the event loop, on at most `workers` threads.

    An account that does not exist is checked against a dummy hash of the same cost, so the
    time to answer does not tell whether an email is registered.
    """

    def __init__(self, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        self._dummy: str | None = None
        self.in_flight = 0
        """checks submitted and not finished (waiting for a thread or running)"""
        self.dummy_checks = 0
        """checks made against the dummy hash: for an unknown account or one with no secret"""

    async def verify(self, secret_hash: str | None, secret: str) -> bool:
        loop = asyncio.get_running_loop()
        self.in_flight += 1
        try:
            if secret_hash:
                return await loop.run_in_executor(self._pool, verify_secret, secret_hash, secret)
            self.dummy_checks += 1
            if self._dummy is None:
                self._dummy = await loop.run_in_executor(self._pool, hash_secret, new_token())
            await loop.run_in_executor(self._pool, verify_secret, self._dummy, secret)
            return False
        finally:
            self.in_flight -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def new_token() -> str:
    """URL-safe and free of `%` and `+`, which the JS SDK's fragment parser mangles."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_password() -> str:
    return secrets.token_urlsafe(12)
