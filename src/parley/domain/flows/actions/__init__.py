"""The action types of inbound message flows, one module each, keyed by their YAML name."""

from __future__ import annotations

from parley.domain.flows.actions import (
    ask_question,
    call_data,
    decision,
    disconnect,
    send_response,
    set_participant_data,
    switch,
    transfer_to_acd,
)
from parley.domain.flows.actions.base import ActionType

ACTION_TYPES: dict[str, ActionType] = {module.ACTION.key: module.ACTION for module in (
    send_response, decision, switch, set_participant_data, call_data, ask_question,
    transfer_to_acd, disconnect,
)}
