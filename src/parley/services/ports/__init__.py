"""The small interfaces the use cases need from the outside world, one module per idea.

Adapters in `store/`, `carriers/`, `bus/` and `integrations/` implement them;
`bootstrap.py` wires them in. The service layer owns them, so the imports of an adapter
point at a port here and never at a use case:

- `carriers`: the `Carrier` port and the records that cross it (texts out and in,
  delivery receipts, link status, multipart parts);
- `repositories`: one protocol per aggregate; `unit_of_work`: the transaction that holds
  them, and its factory;
- `message_store`: the hot path's group-committed writes and the records they take;
- `clock`, `event_bus`, `routing` (the ACD as other use cases see it), `data_actions`
  (a flow's HTTP requests).

Everything is re-exported here, so `from parley.services.ports import X` works for any X.
"""

from parley.services.ports.carriers import (
    WEBHOOK_ROOT,
    BindStatus,
    Carrier,
    CarrierError,
    DeliveryReport,
    DeliverySink,
    InboundParts,
    InboundSink,
    InboundSms,
    LinkStatus,
    OutboundSms,
    WebhookCarrier,
    WebhookReply,
    WebhookRequest,
)
from parley.services.ports.clock import Clock, SystemClock
from parley.services.ports.data_actions import DataActions
from parley.services.ports.event_bus import EventBus
from parley.services.ports.message_store import (
    AlreadyStored,
    InboundContext,
    MessageStore,
    OutboxEntry,
    SubmitOutcome,
    ThreadHead,
)
from parley.services.ports.repositories import (
    AcdRecord,
    AcdRepo,
    AgentRepo,
    CarrierConnectionRepo,
    ClientRepo,
    ConversationRepo,
    FlowRepo,
    MessageRepo,
    NumberRepo,
    OptOutRepo,
    OrganizationRepo,
    QueueRepo,
    SkillRepo,
    TokenRepo,
    UserRepo,
    WrapupCodeRepo,
)
from parley.services.ports.routing import Router, RoutingListener
from parley.services.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "WEBHOOK_ROOT",
    "AcdRecord",
    "AcdRepo",
    "AgentRepo",
    "AlreadyStored",
    "BindStatus",
    "Carrier",
    "CarrierConnectionRepo",
    "CarrierError",
    "ClientRepo",
    "Clock",
    "ConversationRepo",
    "DataActions",
    "DeliveryReport",
    "DeliverySink",
    "EventBus",
    "FlowRepo",
    "InboundContext",
    "InboundParts",
    "InboundSink",
    "InboundSms",
    "LinkStatus",
    "MessageRepo",
    "MessageStore",
    "NumberRepo",
    "OptOutRepo",
    "OrganizationRepo",
    "OutboundSms",
    "OutboxEntry",
    "QueueRepo",
    "Router",
    "RoutingListener",
    "SkillRepo",
    "SubmitOutcome",
    "SystemClock",
    "ThreadHead",
    "TokenRepo",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "UserRepo",
    "WebhookCarrier",
    "WebhookReply",
    "WebhookRequest",
    "WrapupCodeRepo",
]
