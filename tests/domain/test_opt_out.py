"""Which texts are opt-out keywords, and what an opt-out is recorded against."""

from __future__ import annotations

from typing import Any

import pytest

from parley.domain.errors import InvalidInput
from parley.domain.opt_out import ANY_NUMBER, Command, OptOutPolicy, Scope

CASES = [
    ("STOP", Command.STOP), ("stop", Command.STOP), ("  StopAll \n", Command.STOP),
    ("UNSUBSCRIBE", Command.STOP), ("cancel", Command.STOP), ("END", Command.STOP),
    ("quit", Command.STOP), ("START", Command.START), ("unstop", Command.START),
    ("help", Command.HELP), ("stop please", None), ("STOP!", None), ("", None),
    ("Hi, can you help?", None), ("starting", None),
]


@pytest.mark.parametrize(("text", "command"), CASES, ids=[repr(t) for t, _ in CASES])
def test_only_a_whole_keyword_is_a_command(text: str, command: Command | None) -> None:
    assert OptOutPolicy().command(text) is command


def test_scope_decides_what_is_recorded() -> None:
    assert OptOutPolicy().number_key("+13125550100") == "+13125550100"
    assert OptOutPolicy(scope=Scope.ORGANIZATION).number_key("+13125550100") == ANY_NUMBER


def test_custom_keywords_replace_the_defaults() -> None:
    policy = OptOutPolicy(stop_words=("ARRET",))
    assert policy.command("arret") is Command.STOP
    assert policy.command("stop") is None


@pytest.mark.parametrize(("kwargs", "says"), [
    ({"stop_words": ("STOP", "")}, "one word"),
    ({"help_words": ("STOP",)}, "cannot mean both"),
    ({"stop_reply": " "}, "1 to 320"),
    ({"help_reply": "x" * 321}, "1 to 320"),
])
def test_bad_policies(kwargs: dict[str, Any], says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        OptOutPolicy(**kwargs)
