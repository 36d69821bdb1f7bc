"""Carrier webhooks: where an HTTP provider posts texts from customers and status callbacks.

No bearer token: providers cannot send one. The request's signature is its authentication,
and the connection's adapter checks it (carriers/twilio.py).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import Request, Response

from parley.api.routing_class import genesys_router
from parley.api.security import App
from parley.carriers.twilio import WEBHOOKS, TwilioCarrier
from parley.domain.errors import InvalidInput, NotFound

router = genesys_router(tags=["Carrier webhooks"])

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@router.post(WEBHOOKS.format(connection_id="{connectionId}", kind="{kind}"),
             response_class=Response,
             summary="A Twilio-compatible provider's webhook (kind: messages | status)",
             description="Signed with X-Twilio-Signature by the provider; no bearer token. "
                         "Answers an empty TwiML document.")
async def post_twilio_webhook(connectionId: str, kind: str, request: Request,
                              parley: App) -> Response:
    carrier = parley.carriers.get(connectionId)
    if not isinstance(carrier, TwilioCarrier):
        raise NotFound(f"no running Twilio connection {connectionId} on this server")
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("application/x-www-form-urlencoded"):
        raise InvalidInput("a webhook body must be application/x-www-form-urlencoded "
                           f"(got {content_type or 'none'})")
    try:
        params = dict(parse_qsl((await request.body()).decode("utf-8"),
                                keep_blank_values=True))
    except UnicodeDecodeError:
        raise InvalidInput("the webhook body is not UTF-8") from None
    # The path and query exactly as sent: the provider signed them, not a decoded form.
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    called = raw_path.decode("latin-1")
    query = request.scope.get("query_string", b"").decode("latin-1")
    if query:
        called += "?" + query
    remote = request.headers.get("x-forwarded-for") or (
        request.client.host if request.client else None)
    await carrier.webhook(kind, called, params, request.headers.get("x-twilio-signature"),
                          remote=remote)
    return Response(EMPTY_TWIML, media_type="text/xml")
