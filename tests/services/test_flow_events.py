"""The table of flow event handlers: every event a run can hand back has its handler, and only
runs that neither wait nor call out are carried out in memory.

What each handler does to a conversation is tested through the inbound entry point on the
real store (test_inbound.py), on both write sets.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_args

import pytest

from parley.domain.flows import Event, FlowContext, parse_flow, start
from parley.services.flow_events import HANDLERS, HELD_EVENTS, can_hold

HEAD = "name: F\ntype: inboundshortmessage\nfallbackQueue: Support\nstart: first\nactions:\n"


def test_every_flow_event_type_has_a_handler() -> None:
    assert set(HANDLERS) == set(get_args(Event))
    assert set(HANDLERS) > HELD_EVENTS


@pytest.mark.parametrize(("actions", "held"), [
    pytest.param("  first:\n    sendResponse: {text: hi}\n    next: q\n"
                 "  q:\n    transferToAcd: {queue: Support}\n", True, id="reply-and-transfer"),
    pytest.param("  first:\n    setParticipantData: {topic: x}\n    next: bye\n"
                 "  bye:\n    disconnect: {}\n", True, id="data-and-disconnect"),
    pytest.param("  first:\n    askQuestion: {text: '1 or 2?', saveAs: a, timeoutSeconds: 60,"
                 " timeout: q}\n    next: q\n  q:\n    transferToAcd: {queue: Support}\n",
                 False, id="question"),
    pytest.param("  first:\n    callData: {url: 'http://127.0.0.1:9/x', saveAs: r}\n"
                 "    next: q\n  q:\n    transferToAcd: {queue: Support}\n", False,
                 id="data-action"),
])
def test_only_a_run_that_ends_at_once_is_held(actions: str, held: bool) -> None:
    step = start(parse_flow(HEAD + actions), FlowContext(
        message_text="hello", customer_address="+13125550199",
        now=datetime(2024, 5, 1, 12, tzinfo=UTC)))
    assert can_hold(step) is held
