"""The ACD service on the real store: offers, capacity, declines, timeouts, wrap-up, restart.

Every test here runs on a dedicated Parley whose clock moves only when the test says so, on a
database of its own (a fresh SQLite file, or a fresh PostgreSQL database): alerting timeouts
are reached by advancing the clock and ticking the ACD, never by sleeping, and no second ACD
ever sees the organisations of the shared session server. Conversations arrive through the
real inbound entry point; a number with no route goes to queue 'Support', the queue that uses
it as its Outbound SMS Number.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.bootstrap import Parley
from parley.domain.acd import RoutingStatus
from parley.domain.conversations import Purpose, State, Wrapup
from parley.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from parley.services.queues import QueueSettings
from tests.databases import fresh_database
from tests.orgs import new_customer, random_customer
from tests.services.desk import TIMEOUT_MS, Desk, client_of, desk_on, running
from tests.services.probes import ManualClock

# -- fixtures --------------------------------------------------------------------------------


@dataclass
class Node:
    parley: Parley
    clock: ManualClock
    http: httpx.AsyncClient


@pytest.fixture(scope="module")
async def node(database_url: str, tmp_path_factory: pytest.TempPathFactory
               ) -> AsyncIterator[Node]:
    """A Parley with a manual clock on a database of its own, shared by this module."""
    data_dir = tmp_path_factory.mktemp("acd-node")
    clock = ManualClock()
    async with fresh_database(database_url, data_dir) as url, \
            running(url, data_dir, clock) as app, client_of(app) as http:
        yield Node(app, clock, http)


@pytest.fixture
async def desk(node: Node) -> Desk:
    """A fresh organisation: two agents (off queue) in 'Support', texts to its number go there."""
    d = await desk_on(node.parley, node.clock, node.http)
    await d.capacity(0, 1)
    await d.capacity(1, 1)
    return d


async def both_on_queue(d: Desk, first: int = 1) -> None:
    """Both agents on queue, `first` a second before the other (so it is longest idle)."""
    await d.on_queue(first)
    d.clock.advance(1_000)
    await d.on_queue(1 - first)


# -- selection and capacity --------------------------------------------------------------------


@pytest.mark.parametrize("first", [0, 1])
async def test_longest_idle_first_and_a_third_text_waits(desk: Desk, first: int) -> None:
    d = desk
    await both_on_queue(d, first=first)
    assert [await d.status(0), await d.status(1)] == [RoutingStatus.IDLE] * 2

    a = await d.text_in("first")
    b = await d.text_in("second")
    c = await d.text_in("third")

    assert await d.offered_to(a) == [f"agent{first}"]
    assert await d.offered_to(b) == [f"agent{1 - first}"]
    assert await d.offered_to(c) == []
    assert await d.waiting_in(c) == d.org.queue_id
    assert [await d.status(0), await d.status(1)] == [RoutingStatus.INTERACTING] * 2

    rec_a, rec_c = await d.record(a), await d.record(c)
    assert rec_a is not None and rec_c is not None
    assert (rec_a.state, rec_a.agent_id, rec_a.queue_id) == (
        "alerting", d.agent_id(first), d.org.queue_id)
    assert rec_a.deadline_ms == d.clock.now_ms() + TIMEOUT_MS
    assert (rec_c.state, rec_c.agent_id) == ("waiting", None)
    offer = await d.party(a, first, State.ALERTING)
    assert offer.alerting_timeout_ms == TIMEOUT_MS
    assert offer.queue_id == d.org.queue_id


async def test_disconnecting_frees_capacity_for_the_waiting_one(desk: Desk) -> None:
    d = desk
    await both_on_queue(d, first=0)
    a, b, c = await d.text_in("a"), await d.text_in("b"), await d.text_in("c")
    await d.accept(a, 0)
    assert await d.connected_to(a) == ["agent0"]
    assert await d.waiting_in(a) is None  # the acd participant left when the agent connected
    assert (await d.held(a)).state == "connected"
    assert await d.offered_to(c) == []

    await d.leave(a, 0)

    assert await d.offered_to(c) == ["agent0"]
    assert await d.record(a) is None
    ended = await d.conversation(a)
    assert ended.state is State.DISCONNECTED
    assert await d.offered_to(b) == ["agent1"]  # untouched


async def test_capacity_two_gives_one_agent_two_offers(desk: Desk) -> None:
    d = desk
    await d.capacity(0, 2)
    await d.on_queue(0)
    a, b, c = await d.text_in("a"), await d.text_in("b"), await d.text_in("c")
    assert await d.offered_to(a) == ["agent0"]
    assert await d.offered_to(b) == ["agent0"]
    assert await d.offered_to(c) == []
    view = d.parley.acd.engine(d.org.id).agent(d.agent_id(0))
    assert view.capacity == 2 and sorted(view.alerting) == sorted([a, b])

    # Raising the capacity takes the waiting one at once.
    await d.capacity(0, 3)
    assert await d.offered_to(c) == ["agent0"]


async def test_off_queue_withdraws_offers_to_the_other_agent(desk: Desk) -> None:
    d = desk
    await both_on_queue(d, first=0)
    a = await d.text_in()
    assert await d.offered_to(a) == ["agent0"]
    await d.off_queue(0)
    assert await d.offered_to(a) == ["agent1"]
    assert await d.status(0) is RoutingStatus.OFF_QUEUE
    withdrawn = await d.conversation(a)
    [old] = [p for p in withdrawn.agents() if p.user_id == d.agent_id(0)]
    assert old.state is State.DISCONNECTED and old.disconnect_type == "system"


# -- declines and timeouts ------------------------------------------------------------------------


async def test_decline_offers_it_to_the_other_agent(desk: Desk) -> None:
    d = desk
    await both_on_queue(d, first=0)
    a = await d.text_in()
    assert await d.offered_to(a) == ["agent0"]

    await d.decline(a, 0)

    assert await d.offered_to(a) == ["agent1"]
    c = await d.conversation(a)
    [declined] = [p for p in c.agents() if p.user_id == d.agent_id(0)]
    assert declined.state is State.DISCONNECTED and declined.disconnect_type == "client"
    assert await d.status(0) is RoutingStatus.IDLE  # a decline is not NOT_RESPONDING
    rec = await d.record(a)
    assert rec is not None and rec.agent_id == d.agent_id(1)
    assert rec.declined_by == [d.agent_id(0)]


async def test_decline_with_no_one_else_waits_and_comes_back(desk: Desk) -> None:
    d = desk
    await d.on_queue(0)
    a = await d.text_in()
    await d.decline(a, 0)
    # Nobody else is available: it comes back to the one who declined (the only agent).
    assert await d.offered_to(a) == ["agent0"]
    c = await d.conversation(a)
    assert sorted(p.state.value for p in c.agents()) == ["alerting", "disconnected"]


async def test_timeout_makes_the_agent_not_responding_and_offers_the_other(desk: Desk) -> None:
    d = desk
    await both_on_queue(d, first=0)
    a = await d.text_in()
    assert await d.offered_to(a) == ["agent0"]

    d.clock.advance(TIMEOUT_MS - 1)
    await d.parley.acd.tick()
    assert await d.offered_to(a) == ["agent0"]  # not yet

    await d.time_out()

    assert await d.status(0) is RoutingStatus.NOT_RESPONDING
    assert await d.stored_not_responding(0)
    assert await d.offered_to(a) == ["agent1"]
    c = await d.conversation(a)
    [expired] = [p for p in c.agents() if p.user_id == d.agent_id(0)]
    assert expired.state is State.DISCONNECTED and expired.disconnect_type == "timeout"

    # A NOT_RESPONDING agent gets nothing new.
    b = await d.text_in()
    assert await d.offered_to(b) == []

    # PUT routingstatus IDLE clears it, and the waiting conversation is offered at once.
    view = await d.parley.agents.set_routing_status(d.agents[0], d.agent_id(0), "IDLE")
    assert not await d.stored_not_responding(0)
    assert await d.offered_to(b) == ["agent0"]
    assert view.status is RoutingStatus.INTERACTING
    assert await d.status(1) is RoutingStatus.INTERACTING


async def test_timeout_with_nobody_else_leaves_it_waiting(desk: Desk) -> None:
    d = desk
    await d.on_queue(0)
    a = await d.text_in()
    await d.time_out()
    assert await d.status(0) is RoutingStatus.NOT_RESPONDING
    assert await d.offered_to(a) == []
    assert await d.waiting_in(a) == d.org.queue_id
    assert (await d.held(a)).state == "waiting"

    await d.on_queue(1)
    assert await d.offered_to(a) == ["agent1"]


async def test_offer_and_status_reach_the_agents_channel(desk: Desk) -> None:
    d = desk
    hub = d.parley.notifications
    me = d.agent_id(0)
    channel = hub.create_channel(d.agents[0])
    await hub.subscribe(channel, [f"v2.users.{me}.conversations.messages",
                                  f"v2.users.{me}.routingstatus"],
                        replace=True, ignore_errors=False)
    await d.on_queue(0)
    a = await d.text_in()
    await d.time_out()

    seen: list[dict[str, Any]] = []
    while not channel.inbox.empty():
        seen.append(channel.inbox.get_nowait())
    offers = [e for e in seen if e["topicName"].endswith("conversations.messages")
              and any(p.get("user", {}).get("id") == me and p["state"] == "alerting"
                      for p in e["eventBody"]["participants"])]
    assert offers and offers[0]["eventBody"]["id"] == a
    assert offers[0]["version"] == "2" and "CorrelationId" in offers[0]["metadata"]
    statuses = [e["eventBody"]["routingStatus"]["status"] for e in seen
                if e["topicName"].lower().endswith("routingstatus")]
    assert statuses[-1] == "NOT_RESPONDING", statuses
    assert "INTERACTING" in statuses


# -- transfer and wrap-up --------------------------------------------------------------------------


async def test_transfer_to_another_queue_offers_it_there(desk: Desk) -> None:
    d = desk
    other = await d.parley.queues.create(d.admin, QueueSettings(name="Escalations"))
    await d.parley.queues.change_members(d.admin, d.org.queue_id, [d.agent_id(1)],
                                         remove=True)
    await d.parley.queues.change_members(d.admin, other.id, [d.agent_id(1)], remove=False)
    await both_on_queue(d, first=0)
    a = await d.text_in()
    p = await d.accept(a, 0)

    await d.parley.conversations.transfer(d.agents[0], a, p.id, queue_id=other.id)

    assert await d.offered_to(a) == ["agent1"]
    assert await d.waiting_in(a) == other.id
    assert await d.connected_to(a) == []
    assert await d.status(0) is RoutingStatus.IDLE
    rec = await d.record(a)
    assert rec is not None and (rec.queue_id, rec.state) == (other.id, "alerting")
    c = await d.conversation(a)
    [left] = [q for q in c.agents() if q.user_id == d.agent_id(0)]
    assert left.disconnect_type == "transfer"
    await d.accept(a, 1)
    assert await d.connected_to(a) == ["agent1"]


async def test_a_supervisor_transfers_a_waiting_conversation(desk: Desk) -> None:
    d = desk
    other = await d.parley.queues.create(d.admin, QueueSettings(name="Overflow"))
    await d.parley.queues.change_members(d.admin, other.id, [d.agent_id(1)], remove=False)
    a = await d.text_in()  # nobody on queue: it waits in Support
    c = await d.conversation(a)
    [acd] = [p for p in c.participants if p.purpose is Purpose.ACD and p.is_active]

    await d.parley.conversations.transfer(d.admin, a, acd.id, queue_id=other.id)

    assert await d.waiting_in(a) == other.id
    assert d.parley.acd.engine(d.org.id).waiting(other.id) == [a]
    assert d.parley.acd.engine(d.org.id).waiting(d.org.queue_id) == []
    await d.on_queue(1)
    assert await d.offered_to(a) == ["agent1"]


async def test_removing_the_alerted_agent_from_the_queue_withdraws_the_offer(
        desk: Desk) -> None:
    d = desk
    await both_on_queue(d, first=0)
    a = await d.text_in()
    assert await d.offered_to(a) == ["agent0"]

    await d.parley.queues.change_members(d.admin, d.org.queue_id, [d.agent_id(0)],
                                         remove=True)

    assert await d.offered_to(a) == ["agent1"]
    assert await d.status(0) is RoutingStatus.IDLE
    b = await d.text_in()
    assert await d.offered_to(b) == []  # agent0 is no member any more; agent1 is busy


async def test_transferring_an_agents_own_outbound_conversation_hands_it_over(
        desk: Desk) -> None:
    """A conversation the agent started ("+") never passed through the ACD: transferring it
    queues it and the agent lets go of it."""
    d = desk
    other = await d.parley.queues.create(d.admin, QueueSettings(name="Back office"))
    await d.parley.queues.change_members(d.admin, other.id, [d.agent_id(1)], remove=False)
    await d.on_queue(1)
    conv = await d.parley.conversations.start_outbound(
        d.agents[0], queue_id=d.org.queue_id, to_address=random_customer(),
        messenger_type="sms")
    [mine] = [p for p in conv.agents() if p.user_id == d.agent_id(0)]

    await d.parley.conversations.transfer(d.agents[0], conv.id, mine.id, queue_id=other.id)

    assert await d.offered_to(conv.id) == ["agent1"]
    c = await d.conversation(conv.id)
    [left] = [q for q in c.agents() if q.user_id == d.agent_id(0)]
    assert (left.is_active, left.disconnect_type) == (False, "transfer")
    assert await d.connected_to(conv.id) == []


async def test_transfer_to_unknown_queue_is_not_found(desk: Desk) -> None:
    d = desk
    await d.on_queue(0)
    a = await d.text_in()
    p = await d.accept(a, 0)
    with pytest.raises(NotFound, match="not found"):
        await d.parley.conversations.transfer(d.agents[0], a, p.id,
                                              queue_id=str(uuid.uuid4()))
    assert await d.connected_to(a) == ["agent0"]


async def mandatory_wrapup(d: Desk, prompt: str = "MANDATORY") -> str:
    """Make 'Support' prompt for a mandatory wrap-up and offer one code; the code's id."""
    await d.parley.queues.replace(d.admin, d.org.queue_id, QueueSettings(
        name="Support", sms_number_id=d.org.number_id, wrapup_prompt=prompt,
        wrapup_timeout_ms=None if prompt == "MANDATORY" else 60_000))
    code = await d.parley.wrapup.create(d.admin, name="Resolved", description=None)
    await d.parley.wrapup.add_to_queue(d.admin, d.org.queue_id, [code.id])
    return code.id


@pytest.mark.parametrize("prompt", ["MANDATORY", "MANDATORY_TIMEOUT",
                                    "MANDATORY_FORCED_TIMEOUT"])
async def test_mandatory_wrapup_holds_capacity_until_the_code(desk: Desk, prompt: str) -> None:
    d = desk
    code = await mandatory_wrapup(d, prompt)
    await d.on_queue(0)
    a = await d.text_in("a")
    b = await d.text_in("b")
    p = await d.accept(a, 0)
    assert await d.offered_to(b) == []

    await d.leave(a, 0)  # no code

    c = await d.conversation(a)
    left = c.participant(p.id)
    assert left.state is State.DISCONNECTED and left.wrapup_required
    assert await d.status(0) is RoutingStatus.INTERACTING  # after-call work holds capacity
    assert await d.offered_to(b) == []

    await d.parley.conversations.update_participant(d.agents[0], a, p.id, state=None,
                                                    wrapup=Wrapup(code=code))

    c = await d.conversation(a)
    done = c.participant(p.id)
    assert not done.wrapup_required
    assert done.wrapup is not None and (done.wrapup.code, done.wrapup.name) == (
        code, "Resolved")
    assert await d.offered_to(b) == ["agent0"]
    assert await d.record(a) is None


async def test_a_text_during_after_call_work_is_routed_after_the_wrapup(desk: Desk) -> None:
    d = desk
    code = await mandatory_wrapup(d)
    await d.on_queue(0)
    customer = new_customer()
    a = await d.text_in("I need help", customer)
    p = await d.accept(a, 0)
    await d.leave(a, 0)  # after-call work

    again = await d.text_in("thanks! one more thing", customer)
    assert again == a  # reopened: nobody has it yet, the agent is wrapping up
    assert await d.offered_to(a) == []

    await d.parley.conversations.update_participant(d.agents[0], a, p.id, state=None,
                                                    wrapup=Wrapup(code=code))

    assert await d.waiting_in(a) == d.org.queue_id  # not stranded: queued again...
    assert await d.offered_to(a) == ["agent0"]  # ...and offered to the free agent
    c = await d.conversation(a)
    assert c.participant(p.id).wrapup is not None


async def test_leaving_with_the_code_frees_capacity_at_once(desk: Desk) -> None:
    d = desk
    code = await mandatory_wrapup(d)
    await d.on_queue(0)
    a, b = await d.text_in("a"), await d.text_in("b")
    await d.accept(a, 0)
    await d.leave(a, 0, code=code)
    assert await d.offered_to(b) == ["agent0"]
    c = await d.conversation(a)
    [p] = [q for q in c.agents() if q.wrapup is not None]
    assert not p.wrapup_required and p.wrapup is not None and p.wrapup.name == "Resolved"


async def test_a_code_the_queue_does_not_offer_is_rejected(desk: Desk) -> None:
    d = desk
    await mandatory_wrapup(d)
    stranger = await d.parley.wrapup.create(d.admin, name="Other", description=None)
    await d.on_queue(0)
    a = await d.text_in()
    await d.accept(a, 0)
    with pytest.raises(InvalidInput, match="not offered by queue"):
        await d.leave(a, 0, code=stranger.id)
    with pytest.raises(InvalidInput, match="not found"):
        await d.leave(a, 0, code=str(uuid.uuid4()))
    assert await d.connected_to(a) == ["agent0"]  # nothing changed


async def test_optional_wrapup_frees_capacity_without_a_code(desk: Desk) -> None:
    d = desk
    await d.on_queue(0)
    a, b = await d.text_in("a"), await d.text_in("b")
    await d.accept(a, 0)
    await d.leave(a, 0)
    assert await d.offered_to(b) == ["agent0"]
    c = await d.conversation(a)
    assert not any(p.wrapup_required for p in c.agents())


async def test_someone_elses_offer_and_leaving_twice_are_refused(desk: Desk) -> None:
    d = desk
    await d.on_queue(0)
    a = await d.text_in()
    p = await d.party(a, 0, State.ALERTING)
    with pytest.raises(Forbidden):
        await d.parley.conversations.update_participant(d.agents[1], a, p.id,
                                                        state="connected", wrapup=None)
    assert await d.offered_to(a) == ["agent0"]
    await d.accept(a, 0)
    await d.leave(a, 0)
    with pytest.raises(Conflict, match="already disconnected"):
        await d.parley.conversations.update_participant(d.agents[0], a, p.id,
                                                        state="disconnected", wrapup=None)


# -- restart -------------------------------------------------------------------------------------


async def test_restart_rebuilds_waiting_and_alerting_conversations(
        database_url: str, tmp_path: Path) -> None:
    clock = ManualClock()
    async with fresh_database(database_url, tmp_path) as url:
        async with running(url, tmp_path, clock) as first, client_of(first) as http:
            d = await desk_on(first, clock, http)
            await d.capacity(0, 1)
            await d.capacity(1, 1)
            await both_on_queue(d, first=0)
            a, b, c = await d.text_in("a"), await d.text_in("b"), await d.text_in("c")
            assert [await d.offered_to(x) for x in (a, b, c)] == [["agent0"], ["agent1"], []]
            deadline = (await d.held(a)).deadline_ms

        clock.advance(1_000)
        async with running(url, tmp_path, clock) as second:
            d.parley = second
            engine = second.acd.engine(d.org.id)
            assert sorted(engine.interaction_ids()) == sorted([a, b, c])
            xa, xc = engine.interaction(a), engine.interaction(c)
            assert (xa.state.value, xa.agent_id, xa.deadline_ms) == (
                "alerting", d.agent_id(0), deadline)
            assert (xc.state.value, xc.agent_id) == ("waiting", None)
            assert engine.waiting(d.org.queue_id) == [c]
            assert [await d.status(0), await d.status(1)] == [RoutingStatus.INTERACTING] * 2

            # An offer made before the restart can be accepted after it...
            await d.accept(b, 1)
            assert await d.connected_to(b) == ["agent1"]
            # ...and one can time out after it.
            d.clock.advance(TIMEOUT_MS)
            await second.acd.tick()
            assert await d.status(0) is RoutingStatus.NOT_RESPONDING
            assert await d.offered_to(a) == []  # agent1 is busy with b: a waits, first in line

            await d.leave(b, 1)
            assert await d.offered_to(a) == ["agent1"]  # the older one
            assert await d.offered_to(c) == []
            await d.on_queue(0)
            assert await d.offered_to(c) == ["agent0"]


async def test_restart_keeps_not_responding_and_connected(
        database_url: str, tmp_path: Path) -> None:
    clock = ManualClock()
    async with fresh_database(database_url, tmp_path) as url:
        async with running(url, tmp_path, clock) as first, client_of(first) as http:
            d = await desk_on(first, clock, http)
            await both_on_queue(d, first=0)
            a = await d.text_in("a")
            await d.time_out()  # agent0 NOT_RESPONDING, a offered to agent1
            await d.accept(a, 1)
            b = await d.text_in("b")  # nobody is free: waits

        async with running(url, tmp_path, clock) as second:
            d.parley = second
            assert await d.status(0) is RoutingStatus.NOT_RESPONDING
            assert await d.status(1) is RoutingStatus.INTERACTING
            assert await d.connected_to(a) == ["agent1"]
            assert await d.offered_to(b) == []
            await d.leave(a, 1)
            assert await d.offered_to(b) == ["agent1"]


@pytest.mark.parametrize("prompt", ["MANDATORY_TIMEOUT", "MANDATORY_FORCED_TIMEOUT"])
async def test_timed_after_call_work_ends_by_itself(desk: Desk, prompt: str) -> None:
    d = desk
    await mandatory_wrapup(d, prompt)  # acwSettings.timeoutMs 60 s
    await d.on_queue(0)
    a = await d.text_in("a")
    b = await d.text_in("b")
    p = await d.accept(a, 0)
    await d.leave(a, 0)  # no code: after-call work, capacity held

    d.clock.advance(59_000)
    assert await d.parley.after_call_work.end_due() == 0
    assert await d.status(0) is RoutingStatus.INTERACTING
    assert await d.offered_to(b) == []

    d.clock.advance(1_001)
    assert await d.parley.after_call_work.end_due() == 1

    done = (await d.conversation(a)).participant(p.id)
    assert not done.wrapup_required
    assert done.wrapup is not None and done.wrapup.code == "ININ-WRAP-UP-TIMEOUT"
    assert await d.offered_to(b) == ["agent0"]


async def test_plain_mandatory_after_call_work_never_times_out(desk: Desk) -> None:
    d = desk
    await mandatory_wrapup(d, "MANDATORY")
    await d.on_queue(0)
    a = await d.text_in("a")
    await d.accept(a, 0)
    await d.leave(a, 0)
    d.clock.advance(3_600_000)
    assert await d.parley.after_call_work.end_due() == 0
    assert await d.status(0) is RoutingStatus.INTERACTING
