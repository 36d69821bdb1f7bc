"""The inbound entry point on the real store: stored first and once, threaded, then a flow
or a queue - and no text lost when the flow fails.

Most tests use the session Parley and a fresh organisation; the ones about time (the
threading window, a question nobody answers) run a Parley of their own with a clock they move
(see test_acd_service.py for the helpers).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from pathlib import Path
from typing import Any

import pytest

from parley.bootstrap import Parley
from parley.carriers.sim import HandsetMessage
from parley.domain.access import Principal
from parley.domain.conversations import Conversation, Purpose, State
from parley.domain.errors import InvalidInput, NotFound
from parley.domain.messages import Message
from parley.services.inbound import Received
from parley.services.ports import InboundSms
from parley.services.queues import QueueSettings
from parley.store.uow import SqlUnitOfWork
from tests.databases import fresh_database
from tests.orgs import Tenant, new_customer
from tests.services.desk import (
    Desk,
    client_of,
    desk_on,
    running,
)
from tests.services.probes import ManualClock, second_node

POLLS = 500
POLL_S = 0.02

GREETING_FLOW = """\
name: Greeter
type: inboundshortmessage
fallbackQueue: Support
start: greet
actions:
  greet:
    sendResponse: {text: "Hi {{ message.sender }}, thanks for texting us!"}
    next: toSupport
  toSupport:
    transferToAcd: {queue: Support}
"""

INTAKE_FLOW = """\
name: Intake
type: inboundshortmessage
fallbackQueue: Support
start: greet
actions:
  greet:
    sendResponse: {text: "Hi! This is {{ flow.name }}."}
    next: ask
  ask:
    askQuestion:
      text: "Reply 1 for billing, 2 for anything else"
      saveAs: choice
      timeoutSeconds: 300
      timeout: late
    next: route
  route:
    switch: {on: "choice", cases: {"1": billing}, default: toSupport}
  billing:
    setParticipantData: {topic: billing, answer: "{{ choice }}"}
    next: toBilling
  late:
    setParticipantData: {topic: unanswered}
    next: toSupport
  toBilling:
    transferToAcd: {queue: Billing, priority: 5}
  toSupport:
    transferToAcd: {queue: Support}
"""

FAILING_DATA_FLOW = """\
name: Lookup
type: inboundshortmessage
fallbackQueue: Fallback
start: greet
actions:
  greet:
    sendResponse: {text: "One moment while we look you up."}
    next: lookup
  lookup:
    callData:
      url: "http://localhost:9/customers?phone={{ message.sender }}"
      timeoutSeconds: 5
      saveAs: customer
    next: toSupport
  toSupport:
    transferToAcd: {queue: Support}
"""

GUARDED_DATA_FLOW = """\
name: Lookup with a way out
type: inboundshortmessage
fallbackQueue: Support
start: lookup
actions:
  lookup:
    callData:
      url: "http://localhost:9/customers?phone={{ message.sender }}"
      saveAs: customer
      failure: sorry
    next: toSupport
  sorry:
    sendResponse: {text: "We could not look you up{{ customer.name }}."}
    next: toSupport
  toSupport:
    transferToAcd: {queue: Support}
"""

DELETED_QUEUE_FLOW = """\
name: To a queue that goes away
type: inboundshortmessage
fallbackQueue: Overflow
start: toGone
actions:
  toGone:
    transferToAcd: {queue: Doomed}
"""


# -- helpers ---------------------------------------------------------------------------------


def sms(org: Tenant, customer: str, text: str, carrier_id: str | None = None, *,
        to: str | None = None, now_ms: int = 0) -> InboundSms:
    return InboundSms(carrier="sim", carrier_message_id=carrier_id or uuid.uuid4().hex,
                      from_address=customer, to_address=to or org.number, text=text,
                      received_ms=now_ms)


async def receive(parley: Parley, org: Tenant, customer: str, text: str,
                  carrier_id: str | None = None) -> Received:
    return await parley.inbound.receive(sms(org, customer, text, carrier_id,
                                            now_ms=parley.clock.now_ms()))


async def conversation(parley: Parley, org: Tenant, conversation_id: str) -> Conversation:
    async with parley.uow(read_only=True) as uow:
        c = await uow.conversations.get(org.id, conversation_id)
    assert c is not None, f"conversation {conversation_id} is not stored"
    return c


async def messages(parley: Parley, conversation_id: str) -> list[Message]:
    async with parley.uow(read_only=True) as uow:
        return await uow.messages.in_conversation(conversation_id)


def inbound_texts(found: list[Message]) -> list[str]:
    return [m.text for m in found if m.direction == "inbound"]


def queue_of(c: Conversation) -> str | None:
    """The queue the conversation waits (or alerts) in: its active acd participant's."""
    active = [p.queue_id for p in c.participants if p.purpose is Purpose.ACD and p.is_active]
    assert len(active) <= 1
    return active[0] if active else None


async def publish(parley: Parley, org: Tenant, yaml: str) -> str:
    """Create, save, publish a flow and route the organisation's number to it; its id."""
    admin = org.principal()
    flow = await parley.flows.create(admin, name=f"flow-{secrets.token_hex(3)}",
                                     description=None, kind="inboundshortmessage")
    await parley.flows.save_version(admin, flow.id, yaml)
    await parley.flows.publish(admin, flow.id)
    await parley.flows.set_route(admin, org.number_id, flow.id)
    return flow.id


async def add_queue(parley: Parley, org: Tenant, name: str) -> str:
    queue = await parley.queues.create(org.principal(), QueueSettings(name=name))
    return queue.id


async def phone(parley: Parley, org: Tenant, customer: str, received: int
                ) -> list[HandsetMessage]:
    """What `customer`'s phone received, once `received` texts reached it (bounded wait)."""
    assert parley.sim is not None
    found: list[HandsetMessage] = []
    for _ in range(POLLS):
        found = [m for m in parley.sim.messages_for(org.id, customer)
                 if m.direction == "received"]
        if len(found) >= received and all(m.status == "delivery-success" for m in found):
            break
        await asyncio.sleep(POLL_S)
    return found


async def agent(parley: Parley, org: Tenant, i: int = 0) -> Principal:
    return await parley.auth.authenticate(org.agents[i].token)


# -- stored first, once ------------------------------------------------------------------------


async def test_the_same_carrier_message_id_is_stored_once(parley: Parley, org: Tenant) -> None:
    customer = new_customer()
    carrier_id = f"retry-{uuid.uuid4().hex}"
    first = await receive(parley, org, customer, "Hello?", carrier_id)
    again = await receive(parley, org, customer, "Hello?", carrier_id)

    assert not first.duplicate and again.duplicate
    assert (again.message_id, again.conversation_id) == (first.message_id,
                                                         first.conversation_id)
    stored = await messages(parley, first.conversation_id)
    assert [(m.id, m.text) for m in stored] == [(first.message_id, "Hello?")]
    assert stored[0].from_address == customer and stored[0].to_address == org.number
    c = await conversation(parley, org, first.conversation_id)
    assert sum(p.purpose is Purpose.ACD for p in c.participants) == 1  # routed once


@pytest.mark.parametrize("flow", [None, GREETING_FLOW], ids=["no-flow", "in-memory-flow"])
async def test_a_retry_another_node_stored_while_this_one_routed_is_stored_once(
        parley: Parley, org: Tenant, database_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, flow: str | None) -> None:
    """A new conversation is written only with what its routing decided: if the carrier's
    retry reached another node meanwhile and that node stored it, this node answers with
    that copy - one conversation, one text, one greeting, no offer left behind."""
    if flow is not None:
        await publish(parley, org, flow)
    customer = new_customer()
    carrier_id = f"twice-{uuid.uuid4().hex}"
    looked, go_on = asyncio.Event(), asyncio.Event()
    async with second_node(database_url, tmp_path,
                           ManualClock(parley.clock.now_ms())) as node:
        lookup = node.message_store.inbound_context

        async def held_after_lookup(*args: Any) -> Any:
            found = await lookup(*args)
            looked.set()
            await go_on.wait()
            return found

        monkeypatch.setattr(node.message_store, "inbound_context", held_after_lookup)
        late = asyncio.create_task(receive(node, org, customer, "Hello?", carrier_id))
        await asyncio.wait_for(looked.wait(), 10)  # it saw nothing stored yet
        first = await receive(parley, org, customer, "Hello?", carrier_id)
        monkeypatch.setattr(node.message_store, "inbound_context", lookup)
        go_on.set()
        again = await asyncio.wait_for(late, 10)

        assert not first.duplicate and again.duplicate
        assert (again.message_id, again.conversation_id) == (first.message_id,
                                                             first.conversation_id)
        assert not node.acd.is_routing(org.id, again.conversation_id)
    [c] = [c for c in await _active(parley, org) if c.customer_address == customer]
    assert c.id == first.conversation_id and queue_of(c) == org.queue_id
    found = await messages(parley, c.id)
    assert inbound_texts(found) == ["Hello?"]
    assert sum(m.direction == "outbound" for m in found) == (0 if flow is None else 1)


async def test_a_routing_that_fails_before_its_write_still_stores_the_text(
        parley: Parley, org: Tenant, database_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The new conversation is held in memory while its flow runs; if something breaks
    there, the text is stored anyway and waits in the number's queue."""
    await publish(parley, org, GREETING_FLOW)
    customer = new_customer()
    async with second_node(database_url, tmp_path,
                           ManualClock(parley.clock.now_ms())) as node:
        async def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("the ACD broke")

        monkeypatch.setattr(node.acd, "route", broken)
        got = await receive(node, org, customer, "Is anyone there?")
        assert not got.duplicate
        assert node.acd.is_routing(org.id, got.conversation_id)
        c = await conversation(node, org, got.conversation_id)
        assert queue_of(c) == org.queue_id
        found = await messages(node, c.id)
        assert [(m.id, m.direction, m.text) for m in found] == [
            (got.message_id, "inbound", "Is anyone there?")]  # the unsent greeting is gone
        async with node.uow(read_only=True) as uow:
            assert [m.id for m in await uow.messages.for_phone(org.id, customer, 10)] == [
                got.message_id]


async def test_a_connection_that_does_not_serve_the_number_is_refused(
        parley: Parley, org: Tenant) -> None:
    """One organisation's carrier link must not inject texts into another's numbers."""
    customer = new_customer()
    carrier_id = uuid.uuid4().hex
    with pytest.raises(NotFound, match="not served by carrier connection smpp-x"):
        await parley.inbound.receive(InboundSms(
            carrier="smpp-x", carrier_message_id=carrier_id, from_address=customer,
            to_address=org.number, text="two", received_ms=parley.clock.now_ms()))
    async with parley.uow(read_only=True) as uow:
        assert await uow.messages.by_inbound_key(f"smpp-x:{carrier_id}") is None


async def test_a_text_to_an_unknown_number_is_not_found(parley: Parley, org: Tenant) -> None:
    nobodys = new_customer()
    while await parley.numbers.owner(nobodys) is not None:
        nobodys = new_customer()
    carrier_id = uuid.uuid4().hex
    with pytest.raises(NotFound, match="not a registered SMS number"):
        await parley.inbound.receive(sms(org, new_customer(), "Anyone?", carrier_id,
                                         to=nobodys))
    async with parley.uow(read_only=True) as uow:
        assert await uow.messages.by_inbound_key(f"sim:{carrier_id}") is None


@pytest.mark.parametrize(("sender", "text", "fragment"), [
    pytest.param("not a phone", "hi", "from", id="bad-sender"),
    pytest.param(None, "x" * 10_001, "at most 10000 are accepted", id="too-long"),
])
async def test_bad_inbound_is_refused(parley: Parley, org: Tenant, sender: str | None,
                                      text: str, fragment: str) -> None:
    """Bad input is InvalidInput (a 400 at the API, ESME_RX_P_APPN to an SMSC), not stored."""
    carrier_id = uuid.uuid4().hex
    with pytest.raises(InvalidInput, match=fragment):
        await parley.inbound.receive(sms(org, sender or new_customer(), text, carrier_id))
    async with parley.uow(read_only=True) as uow:
        assert await uow.messages.by_inbound_key(f"sim:{carrier_id}") is None


# -- threading -----------------------------------------------------------------------------------


async def test_a_second_text_joins_the_open_conversation(parley: Parley, org: Tenant) -> None:
    customer = new_customer()
    first = await receive(parley, org, customer, "first")
    second = await receive(parley, org, customer, "second")
    assert second.conversation_id == first.conversation_id
    assert inbound_texts(await messages(parley, first.conversation_id)) == ["first", "second"]
    c = await conversation(parley, org, first.conversation_id)
    assert queue_of(c) == org.queue_id  # still waiting, queued once
    assert sum(p.purpose is Purpose.ACD for p in c.participants) == 1

    # Another customer texting the same number is another conversation.
    other = await receive(parley, org, new_customer(), "third")
    assert other.conversation_id != first.conversation_id


async def test_a_text_after_the_end_within_the_window_reopens_it(
        parley: Parley, org: Tenant) -> None:
    ada = await agent(parley, org)
    await parley.agents.set_routing_status(ada, org.agents[0].id, "IDLE")
    customer = new_customer()
    first = await receive(parley, org, customer, "Help please")
    c = await conversation(parley, org, first.conversation_id)
    [offer] = [p for p in c.agents() if p.state is State.ALERTING]
    await parley.conversations.update_participant(ada, c.id, offer.id, state="connected",
                                                  wrapup=None)
    await parley.conversations.update_participant(ada, c.id, offer.id,
                                                  state="disconnected", wrapup=None)
    assert (await conversation(parley, org, c.id)).state is State.DISCONNECTED

    again = await receive(parley, org, customer, "One more thing")

    assert again.conversation_id == c.id
    reopened = await conversation(parley, org, c.id)
    assert reopened.state is State.CONNECTED and reopened.end_ms is None
    assert reopened.customer().state is State.CONNECTED
    # It is routed again: the agent (free again) gets a new offer on it.
    assert [p.user_id for p in reopened.agents() if p.state is State.ALERTING] == [
        org.agents[0].id]
    assert inbound_texts(await messages(parley, c.id)) == ["Help please", "One more thing"]


@pytest.mark.parametrize(("window_hours", "gap_ms", "same"), [
    pytest.param(0, 1_000, False, id="window-0-new"),
    pytest.param(1, 3_600_000, True, id="window-1h-at-the-edge-reopens"),
    pytest.param(1, 3_600_001, False, id="window-1h-past-it-new"),
])
async def test_the_threading_window(database_url: str, tmp_path: Path, window_hours: int,
                                    gap_ms: int, same: bool) -> None:
    clock = ManualClock()
    async with fresh_database(database_url, tmp_path) as url, \
            running(url, tmp_path, clock, threading_window_hours=window_hours) as app, \
            client_of(app) as http:
        d: Desk = await desk_on(app, clock, http)
        await d.on_queue(0)
        customer = new_customer()
        first = await d.text_in("before", customer)
        await d.accept(first, 0)
        await d.leave(first, 0)
        ended = await d.conversation(first)
        assert ended.state is State.DISCONNECTED

        clock.advance(gap_ms)
        later = await d.text_in("after", customer)

        assert (later == first) is same
        assert (await d.conversation(later)).state is State.CONNECTED
        if not same:
            assert (await d.conversation(first)).state is State.DISCONNECTED
            assert inbound_texts(await messages(app, later)) == ["after"]
        else:
            assert inbound_texts(await messages(app, later)) == ["before", "after"]


async def test_a_reply_to_an_outbound_conversation_reaches_its_agent(
        parley: Parley, org: Tenant) -> None:
    await publish(parley, org, GREETING_FLOW)  # must not run for a reply
    ada = await agent(parley, org)
    customer = new_customer()
    started = await parley.conversations.start_outbound(
        ada, queue_id=org.queue_id, to_address=customer, messenger_type="sms")
    hub = parley.notifications
    channel = hub.create_channel(ada)
    topic = f"v2.users.{org.agents[0].id}.conversations.messages"
    await hub.subscribe(channel, [topic], replace=True, ignore_errors=False)

    reply = await receive(parley, org, customer, "Yes, Tuesday works")

    assert reply.conversation_id == started.id
    c = await conversation(parley, org, started.id)
    assert sorted(p.purpose.value for p in c.participants) == ["agent", "customer"]
    assert c.agents()[0].state is State.CONNECTED
    assert inbound_texts(await messages(parley, started.id)) == ["Yes, Tuesday works"]
    events: list[dict[str, Any]] = []
    while not channel.inbox.empty():
        events.append(channel.inbox.get_nowait())
    mine = [e for e in events if e["eventBody"]["id"] == started.id]
    assert mine and mine[-1]["topicName"] == topic
    customer_party = next(p for p in mine[-1]["eventBody"]["participants"]
                          if p["purpose"] == "customer")
    assert {m["message"]["id"] for m in customer_party["messages"]} == {reply.message_id}
    assert [m.direction for m in await messages(parley, started.id)] == ["inbound"]  # no flow


# -- flows ---------------------------------------------------------------------------------------


async def test_a_flow_auto_reply_reaches_the_phone(parley: Parley, org: Tenant) -> None:
    assert parley.sim is not None
    await publish(parley, org, GREETING_FLOW)
    customer = new_customer()
    await parley.sim.inject(org.id, customer, org.number, "Hi there")

    got = await phone(parley, org, customer, 1)
    assert [(m.from_address, m.text, m.status) for m in got] == [
        (org.number, f"Hi {customer}, thanks for texting us!", "delivery-success")]
    [c] = [c for c in await _active(parley, org) if c.customer_address == customer]
    flow_party = [p for p in c.participants if p.purpose is Purpose.WORKFLOW]
    assert len(flow_party) == 1 and flow_party[0].name == "Greeter"
    assert flow_party[0].state is State.DISCONNECTED  # it handed over
    assert queue_of(c) == org.queue_id
    found = await messages(parley, c.id)
    assert [(m.direction, m.text) for m in found] == [
        ("inbound", "Hi there"), ("outbound", f"Hi {customer}, thanks for texting us!")]


async def test_a_new_conversation_whose_flow_runs_in_memory_is_written_once(
        parley: Parley, org: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hot path (docs/architecture.md, "Receiving a text", step 5): the conversation, the
    text, the flow's reply and the ACD's decision go to the store in one group-committed
    write, and the text writes nothing else on its way."""
    await publish(parley, org, GREETING_FLOW)
    customer = new_customer()
    receiving = asyncio.current_task()
    writes: list[str] = []
    group_commit = parley.committer.commit
    uow_commit = SqlUnitOfWork.commit

    async def counted_group_commit(batch: Any) -> None:
        if asyncio.current_task() is receiving:
            writes.append("group commit")
        await group_commit(batch)

    async def counted_uow_commit(self: SqlUnitOfWork) -> None:
        if asyncio.current_task() is receiving:
            writes.append("unit of work")
        await uow_commit(self)

    monkeypatch.setattr(parley.committer, "commit", counted_group_commit)
    monkeypatch.setattr(SqlUnitOfWork, "commit", counted_uow_commit)
    got = await receive(parley, org, customer, "Hello")
    monkeypatch.undo()

    assert writes == ["group commit"]
    c = await conversation(parley, org, got.conversation_id)
    assert queue_of(c) == org.queue_id
    assert [(m.direction, m.text) for m in await messages(parley, c.id)] == [
        ("inbound", "Hello"), ("outbound", f"Hi {customer}, thanks for texting us!")]


async def _active(parley: Parley, org: Tenant) -> list[Conversation]:
    async with parley.uow(read_only=True) as uow:
        return await uow.conversations.active_in_org(org.id)


@pytest.mark.parametrize(("answer", "queue", "attributes"), [
    pytest.param(" 1 ", "Billing", {"topic": "billing", "answer": "1"}, id="billing"),
    pytest.param("2", "Support", {}, id="default"),
])
async def test_ask_answer_switch_set_data_transfer(parley: Parley, org: Tenant, answer: str,
                                                   queue: str,
                                                   attributes: dict[str, str]) -> None:
    billing = await add_queue(parley, org, "Billing")
    await publish(parley, org, INTAKE_FLOW)
    customer = new_customer()

    first = await receive(parley, org, customer, "hello")
    got = await phone(parley, org, customer, 2)
    assert [m.text for m in got] == ["Hi! This is Intake.",
                                     "Reply 1 for billing, 2 for anything else"]
    c = await conversation(parley, org, first.conversation_id)
    assert queue_of(c) is None  # the flow has it, waiting for the answer
    async with parley.uow(read_only=True) as uow:
        run = await uow.flows.run(c.id)
    assert run is not None and run[2]["status"] == "waitingForInput"

    second = await receive(parley, org, customer, answer)

    assert second.conversation_id == c.id
    c = await conversation(parley, org, c.id)
    assert queue_of(c) == (billing if queue == "Billing" else org.queue_id)
    assert c.customer().attributes == attributes
    assert inbound_texts(await messages(parley, c.id)) == ["hello", answer]
    async with parley.uow(read_only=True) as uow:
        assert await uow.flows.run(c.id) is None  # the run ended with the transfer
    if queue == "Billing":
        engine = parley.acd.engine(org.id)
        assert engine.interaction(c.id).priority == 5
    view = await parley.conversations.view(org.principal(), c.id)
    assert view.conversation.customer().attributes == attributes


async def test_an_unanswered_question_times_out_to_its_timeout_path(
        database_url: str, tmp_path: Path) -> None:
    clock = ManualClock()
    async with fresh_database(database_url, tmp_path) as url, \
            running(url, tmp_path, clock, outbox_poll_interval_s=0.05) as app, \
            client_of(app) as http:
        d = await desk_on(app, clock, http)
        await app.queues.create(d.admin, QueueSettings(name="Billing"))
        await publish(app, d.org, INTAKE_FLOW)
        cid = await d.text_in("hello")
        assert await app.inbound.resume_due() == 0

        clock.advance(300_000)
        for _ in range(POLLS):  # its own timer may have resumed it already
            if await d.waiting_in(cid) is not None or await app.inbound.resume_due():
                break
            await asyncio.sleep(POLL_S)

        c = await d.conversation(cid)
        assert c.customer().attributes == {"topic": "unanswered"}
        assert queue_of(c) == d.org.queue_id


async def test_a_question_asked_before_a_restart_is_answered_after_it(
        database_url: str, tmp_path: Path) -> None:
    clock = ManualClock()
    async with fresh_database(database_url, tmp_path) as url:
        async with running(url, tmp_path, clock) as first, client_of(first) as http:
            d = await desk_on(first, clock, http)
            billing = await first.queues.create(d.admin, QueueSettings(name="Billing"))
            await publish(first, d.org, INTAKE_FLOW)
            customer = new_customer()
            cid = await d.text_in("hello", customer)
            assert await d.waiting_in(cid) is None  # the flow waits for the answer

        async with running(url, tmp_path, clock) as second:
            d.parley = second
            again = await d.text_in("1", customer)
            assert again == cid
            c = await d.conversation(cid)
            assert c.customer().attributes == {"topic": "billing", "answer": "1"}
            assert queue_of(c) == billing.id
            assert inbound_texts(await messages(second, cid)) == ["hello", "1"]


async def test_a_failed_data_action_without_a_failure_path_goes_to_the_fallback_queue(
        parley: Parley, org: Tenant) -> None:
    fallback = await add_queue(parley, org, "Fallback")
    await publish(parley, org, FAILING_DATA_FLOW)
    customer = new_customer()

    got = await receive(parley, org, customer, "Where is my order?")

    c = await conversation(parley, org, got.conversation_id)
    assert queue_of(c) == fallback
    assert inbound_texts(await messages(parley, c.id)) == ["Where is my order?"]
    replies = await phone(parley, org, customer, 1)
    assert [m.text for m in replies] == ["One moment while we look you up."]
    assert parley.acd.is_routing(org.id, c.id)


async def test_a_data_action_to_an_internal_address_takes_the_failure_path(
        parley: Parley, org: Tenant, caplog: pytest.LogCaptureFixture) -> None:
    """`localhost` passes validation (a name) and is refused when it resolves to loopback;
    the log names the rule and not the customer's number in the query."""
    await publish(parley, org, GUARDED_DATA_FLOW)
    customer = new_customer()

    with caplog.at_level(logging.INFO):
        got = await receive(parley, org, customer, "Where is my order?")

    replies = await phone(parley, org, customer, 1)
    assert [m.text for m in replies] == ["We could not look you up."]
    assert queue_of(await conversation(parley, org, got.conversation_id)) == org.queue_id
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 1 and refused[0].startswith("data action to http://localhost:9 "
                                                       "refused: ")
    assert refused[0].endswith("is a loopback address")
    assert not [r for r in caplog.records if customer.lstrip("+") in r.getMessage()]


async def test_a_transfer_to_a_deleted_queue_goes_to_the_flows_fallback_queue(
        parley: Parley, org: Tenant) -> None:
    doomed = await add_queue(parley, org, "Doomed")
    overflow = await add_queue(parley, org, "Overflow")
    await publish(parley, org, DELETED_QUEUE_FLOW)
    await parley.queues.delete(org.principal(), doomed)

    got = await receive(parley, org, new_customer(), "Hello?")

    c = await conversation(parley, org, got.conversation_id)
    assert queue_of(c) == overflow
    assert inbound_texts(await messages(parley, c.id)) == ["Hello?"]

    await parley.queues.delete(org.principal(), overflow)  # and when that is gone too
    got = await receive(parley, org, new_customer(), "Anyone?")
    c = await conversation(parley, org, got.conversation_id)
    assert queue_of(c) == org.queue_id
    assert inbound_texts(await messages(parley, c.id)) == ["Anyone?"]


async def test_a_number_with_no_route_goes_to_its_queue(parley: Parley, org: Tenant) -> None:
    got = await receive(parley, org, new_customer(), "No flow here")
    c = await conversation(parley, org, got.conversation_id)
    assert queue_of(c) == org.queue_id
    assert not any(p.purpose is Purpose.WORKFLOW for p in c.participants)


async def test_a_text_while_an_agent_has_it_reaches_the_agent_not_the_flow(
        parley: Parley, org: Tenant) -> None:
    await publish(parley, org, GREETING_FLOW)
    ada = await agent(parley, org)
    await parley.agents.set_routing_status(ada, org.agents[0].id, "IDLE")
    customer = new_customer()
    first = await receive(parley, org, customer, "Hi")
    c = await conversation(parley, org, first.conversation_id)
    [offer] = [p for p in c.agents() if p.state is State.ALERTING]
    await parley.conversations.update_participant(ada, c.id, offer.id, state="connected",
                                                  wrapup=None)
    await phone(parley, org, customer, 1)

    again = await receive(parley, org, customer, "Are you there?")

    assert again.conversation_id == c.id
    c = await conversation(parley, org, c.id)
    assert [p.state for p in c.agents()] == [State.CONNECTED]
    assert sum(p.purpose is Purpose.WORKFLOW for p in c.participants) == 1  # no second run
    view = await parley.conversations.view(ada, c.id)
    agent_party = view.conversation.agents()[0]
    assert "Are you there?" in [m.text for m in view.messages_of(agent_party)]
    outbound = [m.text for m in await messages(parley, c.id) if m.direction == "outbound"]
    assert len(outbound) == 1  # greeted once only
