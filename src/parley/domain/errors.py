"""Errors the domain and the use cases raise.

Each kind maps to one HTTP status and Genesys error code at the API edge; the domain only says
*what* went wrong, in a sentence a user can act on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class DomainError(Exception):
    """Base: a request that cannot be carried out as asked."""

    def __init__(self, message: str, *, field: str | None = None, **params: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.params = params


class InvalidInput(DomainError):
    """The request is malformed or breaks a rule (400)."""


class InvalidFields(InvalidInput):
    """Several fields are wrong at once: `problems` names each (field, what is wrong), so a
    form can mark every one instead of making the user fix them one request at a time."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        field, first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{field}: {first}{more}", field=field)
        self.problems = problems


class Problems:
    """Collects what several independent checks find, to report them all at once."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []

    def check(self, check: Callable[..., T], *args: object, **kwargs: object) -> T | None:
        try:
            return check(*args, **kwargs)
        except InvalidFields as e:
            self.found.extend(e.problems)
        except InvalidInput as e:
            self.found.append((e.field or "", e.message))
        return None

    def raise_any(self) -> None:
        if self.found:
            raise InvalidFields(self.found)


class NotFound(DomainError):
    """The thing named does not exist in the caller's organisation (404)."""


class Forbidden(DomainError):
    """The caller is known but may not do this (403)."""


class Conflict(DomainError):
    """The request clashes with the current state (409)."""


class Unauthenticated(DomainError):
    """No valid credentials (401)."""


class TooManyRequests(DomainError):
    """Refused for now; the caller may try again after `retry_after_s` seconds (429)."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
