"""Errors the domain and the use cases raise, and the tree of every exception in Parley.

Each `DomainError` kind maps to one HTTP status and Genesys error code at the API edge
(`api/errors.py`); the domain only says *what* went wrong, in a sentence a user can act on.
The other exceptions are caught where it is known what to do about them; only
`OAuthError` reaches a client, in OAuth's own error body. Parley's exception hierarchy, each
class with the module (below `parley.`) that defines it:

* Exception
  x DomainError (domain.errors) - a request that cannot be carried out as asked: 4xx
    + InvalidInput (domain.errors) - 400
      - InvalidFields (domain.errors)
      - FlowValidationError (domain.flows.source)
    + NotFound (domain.errors) - 404
    + Forbidden (domain.errors) - 403
    + Conflict (domain.errors) - 409
    + Unauthenticated (domain.errors) - 401
  x ExpressionSyntaxError (domain.flows.expressions)
  x EvaluationError (domain.flows.expressions)
  x FlowFailure (domain.flows.actions.base)
  x OAuthError (services.auth)
  x CarrierError (services.ports.carriers)
  x AlreadyStored (services.ports.message_store)
  x LinkDown (carriers.smpp_session)
  x aiosmpplib.SmppError
    + BindRejected (carriers.smpp_session)

The `DomainError` kinds are defined below, each with when it is raised. The nine raised
elsewhere:

`FlowValidationError` - `parse_flow` (domain.flows.definition) found errors in a flow's
YAML (a flow is created, changed or published, or `parley flows validate` runs): it lists
every problem with its path and line, and the warnings; the API answers 400 with one detail
per problem, the command line prints them.

`ExpressionSyntaxError` - an expression or a `{{ }}` template of a flow is not in the flow
language (bad syntax, a name or construct the language refuses, too long or too deep).
Found when the flow is parsed, never while it runs: `parse_flow` turns it into a problem of
the `FlowValidationError`.

`EvaluationError` - an expression that parsed failed on one run's values (text and a list
added, a value that is not a number, a text grown past its limit, an unknown schedule).
The action that evaluated it turns it into a `FlowFailure`.

`FlowFailure` - a flow run cannot go on (an expression failed, a decision gave no boolean,
a data action with no failure path failed or got a bad URL). The interpreter catches it,
emits a `FlowError` event and transfers the conversation to the flow's fallback queue, so
a customer is never stranded by a broken flow.

`OAuthError` - the token endpoint (`POST /oauth/token`) refused a request under RFC 6749:
an unknown client, a wrong secret, a grant the client may not use, a bad code, redirect URI
or PKCE verifier, a stale refresh token. It is rendered as `{"error", "error_description"}`
with its status (400, or 401 with `WWW-Authenticate`), the body OAuth clients expect, not a
Genesys error body.

`CarrierError` - a carrier refused or failed a submit, or cannot list or serve a number.
The sender records the outcome: a `permanent` one fails the text with the carrier's reason
(and `code`), any other is retried with backoff until the outbox validity runs out. The
number use cases turn it into `InvalidInput` (400) naming the connection.

`AlreadyStored` - a write clashed with a row another request or node stored first: the
message store raises it when an inbound text's carrier key is already taken (a carrier's
retry that arrived elsewhere meanwhile). The inbound service catches it and answers with the
copy stored first, so the carrier's retry is not a second message.

`LinkDown` - an SMPP bind dropped (or was stopped) while a submit waited for its response.
The SMPP carrier resends the text on a bind that is up until the submit's deadline passes;
then it raises a `CarrierError`, which the sender retries later.

`BindRejected` - the SMSC answered our bind with an error status. It is an
`aiosmpplib.SmppError` so the library's reconnect loop tries again after its backoff; the
link reports FAILED with the status by name (`bind rejected: ESME_RINVPASWD (0x0000000E)`).

Outside the API, the SMPP carrier answers a mobile-originated text refused with `NotFound`
with ESME_RINVDSTADR, and with any other `DomainError` with ESME_RX_P_APPN.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class DomainError(Exception):
    """Base: a request that cannot be carried out as asked (never raised itself: one of the
    kinds below says how; an unknown kind would still be a 400)."""

    def __init__(self, message: str, *, field: str | None = None, **params: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.params = params


class InvalidInput(DomainError):
    """The request is malformed or breaks a rule (400): a field missing or of the wrong
    shape, a phone number that is not E.164, a text too long or empty, a setting out of
    range. `field` names the field when there is one; an inbound text a carrier brings that
    Parley will not take (a bad address, too long) is one too."""


class InvalidFields(InvalidInput):
    """Several fields are wrong at once: `problems` names each (field, what is wrong), so a
    form can mark every one instead of making the user fix them one request at a time.
    Raised by `Problems.raise_any` (a carrier connection's settings are checked this way);
    400 with one detail per field."""

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
    """The thing named does not exist in the caller's organisation (404): an id that is
    unknown or belongs to another organisation (the two are not told apart, so nothing
    leaks across organisations), or a text to a number no carrier connection here serves."""


class Forbidden(DomainError):
    """The caller is known but may not do this (403): their role lacks the permission, an
    agent acts on a conversation that is not theirs, or a carrier webhook is not signed by
    the provider."""


class Conflict(DomainError):
    """The request clashes with the current state (409): a name already taken, a stale
    version, a thing still in use (a connection that serves numbers, a flow numbers are
    routed to), or a move the state forbids (a text to a disconnected conversation, an
    offer accepted by a user it is not alerting)."""


class Unauthenticated(DomainError):
    """No valid credentials (401): no bearer token, one unknown, revoked or expired, or a
    wrong email or password at login."""


class TooManyRequests(DomainError):
    """Refused for now; the caller may try again after `retry_after_s` seconds (429)."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
