"""Carrier webhooks: where an HTTP provider posts texts from customers and status callbacks.

No bearer token: providers cannot send one. The request's signature is its authentication,
and the connection's adapter checks it. This route knows no provider: it hands the request,
unparsed, to the running connection it names if that connection takes webhooks (a
`WebhookCarrier`), which owns what follows `webhooks/` (Twilio's: `twilio/messages`,
`twilio/status`), the encoding, the signature and the answer.
"""

from __future__ import annotations

from fastapi import Request, Response

from parley.api.routing_class import genesys_router
from parley.api.security import App
from parley.domain.errors import NotFound
from parley.services.ports import WEBHOOK_ROOT, WebhookCarrier, WebhookRequest

router = genesys_router(tags=["Carrier webhooks"])


@router.post(WEBHOOK_ROOT.format(connection_id="{connectionId}") + "{hook:path}",
             response_class=Response,
             summary="A carrier's webhook: texts from customers and status callbacks",
             description="Signed by the provider (Twilio-compatible connections: "
                         "`twilio/messages` and `twilio/status`, signed with "
                         "X-Twilio-Signature, answered with an empty TwiML document); no "
                         "bearer token.")
async def post_carrier_webhook(connectionId: str, hook: str, request: Request,
                               parley: App) -> Response:
    carrier = parley.carriers.get(connectionId)
    if not isinstance(carrier, WebhookCarrier):
        raise NotFound(f"no running connection {connectionId} on this server takes webhooks")
    # The path and query exactly as sent: the provider signed them, not a decoded form.
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    called = raw_path.decode("latin-1")
    query = request.scope.get("query_string", b"").decode("latin-1")
    if query:
        called += "?" + query
    remote = request.headers.get("x-forwarded-for") or (
        request.client.host if request.client else None)
    reply = await carrier.webhook(WebhookRequest(
        hook=hook, url=called, headers=request.headers, body=await request.body(),
        remote=remote))
    return Response(reply.body, status_code=reply.status, media_type=reply.media_type)
