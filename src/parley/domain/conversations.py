"""Message conversations: participants, their communications, and who may send on them.

An outbound SMS conversation started on behalf of a queue has two participants: the
customer (the phone number texted) and the agent (the calling user, credited to the queue,
whose communication id is what the send path names). An agentless send has the customer and
an `api` participant for the OAuth client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from parley.domain.access import Permission, Principal
from parley.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from parley.domain.ids import new_id
from parley.domain.messages import Message, outbound_message
from parley.domain.sms_text import TextInfo


class State(StrEnum):
    ALERTING = "alerting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


class Purpose(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    API = "api"
    WORKFLOW = "workflow"  # an inbound message flow is handling it
    ACD = "acd"  # waiting in a queue


@dataclass(slots=True)
class Wrapup:
    code: str | None = None
    name: str | None = None
    notes: str | None = None
    tags: list[str] = field(default_factory=list)
    duration_seconds: int | None = None
    end_ms: int | None = None


@dataclass(slots=True)
class Participant:
    id: str
    conversation_id: str
    purpose: Purpose
    state: State
    communication_id: str
    direction: str
    start_ms: int
    address: str
    from_address: str
    to_address: str
    user_id: str | None = None
    queue_id: str | None = None
    client_id: str | None = None
    name: str | None = None
    connected_ms: int | None = None
    end_ms: int | None = None
    disconnect_type: str | None = None
    wrapup: Wrapup | None = None
    wrapup_required: bool = False
    alerting_timeout_ms: int | None = None
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def is_active(self) -> bool:
        return self.state is not State.DISCONNECTED


@dataclass(slots=True)
class Conversation:
    id: str
    org_id: str
    start_ms: int
    customer_address: str
    org_address: str
    originating_direction: str
    participants: list[Participant] = field(default_factory=list)
    state: State = State.CONNECTED
    end_ms: int | None = None

    @property
    def is_active(self) -> bool:
        return self.state is not State.DISCONNECTED

    def participant(self, participant_id: str) -> Participant:
        for p in self.participants:
            if p.id == participant_id:
                return p
        raise NotFound(f"participant {participant_id} is not on conversation {self.id}")

    def agents(self) -> list[Participant]:
        return [p for p in self.participants if p.purpose is Purpose.AGENT]

    def active_agent(self, user_id: str) -> Participant | None:
        for p in self.agents():
            if p.user_id == user_id and p.is_active:
                return p
        return None

    def involves_user(self, user_id: str) -> bool:
        return any(p.user_id == user_id for p in self.participants)

    def check_visible(self, principal: Principal) -> None:
        """Agents see only the conversations they take part in; supervisors see them all."""
        if principal.can(Permission.VIEW_ALL_CONVERSATIONS):
            return
        if principal.user_id is None or not self.involves_user(principal.user_id):
            raise Forbidden(f"you are not a participant of conversation {self.id}")

    # -- outbound: an agent or an api client on an existing conversation -------------------

    def join_agent(self, user_id: str, queue_id: str, name: str | None,
                   now_ms: int) -> Participant:
        """An agent starts an outbound message on the conversation already open with this
        customer (`useExistingConversation`): they join it, connected, for their queue - unless
        another agent has it."""
        if any(p.is_active for p in self.agents()):
            raise Conflict(f"conversation {self.id} with {self.customer_address} is being "
                           "handled by another agent")
        return self._party(Purpose.AGENT, now_ms, direction="outbound", user_id=user_id,
                           queue_id=queue_id, name=name)

    def api_participant(self, client_id: str) -> Participant | None:
        """The `api` participant an OAuth client sends agentless texts through, if it has one."""
        for p in self.participants:
            if p.purpose is Purpose.API and p.client_id == client_id:
                return p
        return None

    def add_api_participant(self, client_id: str, now_ms: int) -> Participant:
        """An OAuth client's first agentless text on an existing conversation: its `api`
        participant, disconnected from the start (nobody waits for a reply on it)."""
        p = self._party(Purpose.API, now_ms, state=State.DISCONNECTED, direction="outbound",
                        client_id=client_id)
        p.end_ms = now_ms
        return p

    def disconnect(self, participant_id: str, now_ms: int, *, wrapup: Wrapup | None = None,
                   disconnect_type: str = "client") -> Participant:
        """Disconnect one participant; when no agent or api party is left, end it for all."""
        p = self.participant(participant_id)
        if not p.is_active:
            raise Conflict(f"participant {participant_id} is already disconnected")
        if p.purpose is Purpose.CUSTOMER:
            raise InvalidInput("the customer participant cannot be disconnected through the "
                               "API; disconnect the agent participant or the conversation")
        _end(p, now_ms, disconnect_type)
        if wrapup is not None:
            wrapup.end_ms = wrapup.end_ms or now_ms
            p.wrapup = wrapup
        if not any(q.is_active for q in self.participants if q.purpose is not Purpose.CUSTOMER):
            self.end(now_ms, disconnect_type="peer")
        return p

    def end(self, now_ms: int, disconnect_type: str = "client") -> None:
        for p in self.participants:
            if p.is_active:
                _end(p, now_ms, disconnect_type)
        self.state = State.DISCONNECTED
        self.end_ms = now_ms

    # -- inbound: flow, queue, offers ------------------------------------------------------

    def _party(self, purpose: Purpose, now_ms: int, *, state: State = State.CONNECTED,
               direction: str | None = None, **extra: object) -> Participant:
        p = Participant(
            id=new_id(), conversation_id=self.id, purpose=purpose, state=state,
            communication_id=new_id(), direction=direction or self.originating_direction,
            start_ms=now_ms,
            connected_ms=now_ms if state is State.CONNECTED else None,
            address=self.org_address, from_address=self.org_address,
            to_address=self.customer_address, **extra)  # type: ignore[arg-type]
        self.participants.append(p)
        return p

    def _active(self, purpose: Purpose) -> list[Participant]:
        return [p for p in self.participants if p.purpose is purpose and p.is_active]

    def customer(self) -> Participant:
        for p in reversed(self.participants):
            if p.purpose is Purpose.CUSTOMER:
                return p
        raise NotFound(f"conversation {self.id} has no customer participant")

    def reopen(self, now_ms: int) -> None:
        """A customer texts again within the threading window: the conversation lives again."""
        if self.is_active:
            return
        self.state = State.CONNECTED
        self.end_ms = None
        customer = self.customer()
        customer.state, customer.end_ms, customer.disconnect_type = State.CONNECTED, None, None

    def enter_flow(self, flow_name: str, now_ms: int) -> Participant:
        for p in self._active(Purpose.WORKFLOW):
            _end(p, now_ms, "transfer")
        return self._party(Purpose.WORKFLOW, now_ms, name=flow_name)

    def leave_flow(self, now_ms: int) -> None:
        for p in self._active(Purpose.WORKFLOW):
            _end(p, now_ms, "transfer")

    def enter_queue(self, queue_id: str, queue_name: str | None, now_ms: int) -> Participant:
        """Waiting in a queue is an `acd` participant; a flow handing over is a transfer."""
        self.leave_flow(now_ms)
        for p in self._active(Purpose.ACD):
            _end(p, now_ms, "transfer")
        return self._party(Purpose.ACD, now_ms, queue_id=queue_id, name=queue_name)

    def offer(self, user_id: str, queue_id: str, now_ms: int, *, timeout_ms: int,
              agent_name: str | None) -> Participant:
        """The ACD alerts an agent: an agent participant in state `alerting`."""
        return self._party(Purpose.AGENT, now_ms, state=State.ALERTING, user_id=user_id,
                           queue_id=queue_id, name=agent_name, alerting_timeout_ms=timeout_ms)

    def alerting_agent(self, user_id: str) -> Participant | None:
        for p in self._active(Purpose.AGENT):
            if p.user_id == user_id and p.state is State.ALERTING:
                return p
        return None

    def end_offer(self, user_id: str, now_ms: int, disconnect_type: str) -> Participant | None:
        """An offer that was not accepted: declined (`client`), timed out (`timeout`) or
        withdrawn (`system`)."""
        p = self.alerting_agent(user_id)
        if p is not None:
            _end(p, now_ms, disconnect_type)
        return p

    def connect_agent(self, user_id: str, now_ms: int) -> Participant:
        p = self.alerting_agent(user_id)
        if p is None:
            raise Conflict(f"conversation {self.id} is not alerting for user {user_id}")
        p.state, p.connected_ms = State.CONNECTED, now_ms
        for acd in self._active(Purpose.ACD):
            _end(acd, now_ms, "transfer")
        return p

    def leave_agents(self, now_ms: int, disconnect_type: str = "transfer") -> None:
        """A transfer takes the conversation away from whoever had it."""
        for p in self._active(Purpose.AGENT):
            _end(p, now_ms, disconnect_type)


def _end(p: Participant, now_ms: int, disconnect_type: str) -> None:
    p.state = State.DISCONNECTED
    p.end_ms = now_ms
    p.disconnect_type = disconnect_type


def start_inbound(*, org_id: str, org_address: str, customer_address: str,
                  now_ms: int) -> Conversation:
    """A customer texted one of our numbers: the conversation starts with them alone."""
    conv = Conversation(id=new_id(), org_id=org_id, start_ms=now_ms,
                        customer_address=customer_address, org_address=org_address,
                        originating_direction="inbound")
    conv.participants.append(Participant(
        id=new_id(), conversation_id=conv.id, purpose=Purpose.CUSTOMER, state=State.CONNECTED,
        communication_id=new_id(), direction="inbound", start_ms=now_ms, connected_ms=now_ms,
        address=customer_address, from_address=customer_address, to_address=org_address,
        name=customer_address))
    return conv


def start_outbound(*, org_id: str, org_address: str, customer_address: str, now_ms: int,
                   agent_user_id: str | None = None, agent_name: str | None = None,
                   queue_id: str | None = None, client_id: str | None = None) -> Conversation:
    """A new outbound conversation: the customer plus the agent (or the api client)."""
    conv = Conversation(id=new_id(), org_id=org_id, start_ms=now_ms,
                        customer_address=customer_address, org_address=org_address,
                        originating_direction="outbound")

    def party(purpose: Purpose, address: str, **extra: object) -> Participant:
        return Participant(
            id=new_id(), conversation_id=conv.id, purpose=purpose, state=State.CONNECTED,
            communication_id=new_id(), direction="outbound", start_ms=now_ms,
            connected_ms=now_ms, address=address, from_address=org_address,
            to_address=customer_address, **extra)  # type: ignore[arg-type]

    conv.participants.append(party(Purpose.CUSTOMER, customer_address, name=customer_address))
    if agent_user_id is not None:
        conv.participants.append(party(Purpose.AGENT, org_address, user_id=agent_user_id,
                                       queue_id=queue_id, name=agent_name))
    else:
        conv.participants.append(party(Purpose.API, org_address, client_id=client_id))
    return conv


@dataclass(frozen=True, slots=True)
class Communication:
    """The slice of a conversation the send path needs: who owns it, where it goes.

    Loaded on its own (not the whole conversation) because sending is the hot path.
    """

    org_id: str
    conversation_id: str
    conversation_active: bool
    participant_id: str
    communication_id: str
    purpose: Purpose
    participant_state: State
    user_id: str | None
    from_address: str
    to_address: str

    def compose(self, *, sender_user_id: str, text: str, info: TextInfo, now_ms: int,
                carrier: str) -> Message:
        if self.user_id != sender_user_id:
            raise Forbidden(f"communication {self.communication_id} belongs to another "
                            "participant; you can only send on your own communication")
        if not self.conversation_active:
            raise Conflict(f"conversation {self.conversation_id} is disconnected; start a new "
                           "one with POST /api/v2/conversations/messages")
        if self.participant_state is not State.CONNECTED:
            raise Conflict(f"communication {self.communication_id} is "
                           f"{self.participant_state.value}, not connected")
        return outbound_message(
            id=new_id(), org_id=self.org_id, conversation_id=self.conversation_id,
            participant_id=self.participant_id, from_address=self.from_address,
            to_address=self.to_address, text=text, info=info, now_ms=now_ms, carrier=carrier,
            user_id=sender_user_id)
