"""Queue settings are range-checked, with the Genesys field named in the error; a queue's
wrap-up prompt decides how long after-call work may last."""

from __future__ import annotations

from typing import Any

import pytest

from parley.domain.errors import InvalidInput
from parley.domain.queues import DEFAULT_ACW_TIMEOUT_MS, Queue, WrapupPrompt


def queue(**overrides: Any) -> Queue:
    values: dict[str, Any] = {"id": "q-1", "org_id": "org-1", "name": "Support"}
    values.update(overrides)
    return Queue(**values)


@pytest.mark.parametrize("overrides", [
    pytest.param({}, id="defaults"),
    pytest.param({"alerting_timeout_seconds": 7}, id="alerting-min"),
    pytest.param({"alerting_timeout_seconds": 86_400}, id="alerting-max"),
    pytest.param({"service_level_percentage": 0.0}, id="service-level-0"),
    pytest.param({"service_level_percentage": 1.0}, id="service-level-1"),
    pytest.param({"wrapup_timeout_ms": 1_000}, id="wrapup-timeout-min"),
    pytest.param({"wrapup_timeout_ms": 3_600_000}, id="wrapup-timeout-max"),
    pytest.param({"name": "x" * 200}, id="name-200"),
])
def test_valid_queue(overrides: dict[str, Any]) -> None:
    queue(**overrides).validate()


@pytest.mark.parametrize(("overrides", "field"), [
    pytest.param({"name": ""}, "name", id="name-empty"),
    pytest.param({"name": "   "}, "name", id="name-blank"),
    pytest.param({"name": "x" * 201}, "name", id="name-201"),
    pytest.param({"alerting_timeout_seconds": 6}, "mediaSettings.message.alertingTimeoutSeconds",
                 id="alerting-below"),
    pytest.param({"alerting_timeout_seconds": 86_401},
                 "mediaSettings.message.alertingTimeoutSeconds", id="alerting-above"),
    pytest.param({"service_level_percentage": 1.01},
                 "mediaSettings.message.serviceLevel.percentage", id="service-level-above"),
    pytest.param({"service_level_percentage": -0.1},
                 "mediaSettings.message.serviceLevel.percentage", id="service-level-below"),
    pytest.param({"wrapup_timeout_ms": 999}, "acwSettings.timeoutMs", id="wrapup-below"),
    pytest.param({"wrapup_timeout_ms": 3_600_001}, "acwSettings.timeoutMs", id="wrapup-above"),
])
def test_invalid_queue(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        queue(**overrides).validate()
    assert caught.value.field == field
    assert caught.value.message.startswith("queue name" if field == "name" else field)


@pytest.mark.parametrize(("prompt", "timeout_ms", "expected"), [
    (WrapupPrompt.MANDATORY_TIMEOUT, 5_000, 5_000),
    (WrapupPrompt.MANDATORY_FORCED_TIMEOUT, None, DEFAULT_ACW_TIMEOUT_MS),
    (WrapupPrompt.MANDATORY, 5_000, None),
    (WrapupPrompt.OPTIONAL, 5_000, None),
    (WrapupPrompt.AGENT_REQUESTED, None, None),
])
def test_only_timed_prompts_end_after_call_work_by_themselves(
        prompt: WrapupPrompt, timeout_ms: int | None, expected: int | None) -> None:
    assert queue(wrapup_prompt=prompt, wrapup_timeout_ms=timeout_ms).acw_timeout_ms() == expected
