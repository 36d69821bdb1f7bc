"""The official JavaScript SDK (`purecloud-platform-client-v2`), unmodified, in Node.

The scripts in tests/sdk/js run the seed article's sample as the article writes it (see
js/article.js) and print one JSON line; these tests check what they report against the server:
the conversation over HTTP and the simulated phone.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.orgs import new_customer
from tests.sdk.conftest import (
    JS_DIR,
    SdkServer,
    get_json,
    implicit_login,
    sdk_env,
    wait_for_phone,
)

pytestmark = pytest.mark.sdk

SDK_PACKAGE = "purecloud-platform-client-v2"
SDK_VERSION = "262.0.0"
NODE_TIMEOUT_S = 60


@pytest.fixture(scope="session")
def node() -> str:
    exe = shutil.which("node")
    if exe is None:
        pytest.fail("node is not on PATH: the JavaScript SDK tests need Node.js 18 or later",
                    pytrace=False)
    manifest = JS_DIR / "node_modules" / SDK_PACKAGE / "package.json"
    if not manifest.exists():
        pytest.fail(f"{manifest.parent} is missing: run `make test` (it runs `npm install` in "
                    "tests/sdk/js)", pytrace=False)
    version = json.loads(manifest.read_text())["version"]
    if version != SDK_VERSION:
        pytest.fail(f"{SDK_PACKAGE} {version} is installed, the tests pin {SDK_VERSION}: "
                    "run `make test` (or `npm install` in tests/sdk/js)", pytrace=False)
    return exe


def run_node(node: str, script: str, server: SdkServer, args: dict[str, str],
             env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    argv = [node, script]
    for name, value in args.items():
        argv += [f"--{name}", value]
    proc = subprocess.run(argv, cwd=JS_DIR, env=sdk_env(**(env or {})), capture_output=True,
                          text=True, timeout=NODE_TIMEOUT_S, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, ValueError):
        pytest.fail(f"node {script} exited {proc.returncode} without a JSON line:\n"
                    f"stdout: {proc.stdout}\nstderr: {proc.stderr}\n"
                    f"--- server log tail ---\n{server.log_tail()}", pytrace=False)
    if proc.returncode == 3:  # the harness itself broke, not the sample
        pytest.fail(f"node {script}: {result}\nstderr: {proc.stderr}", pytrace=False)
    return proc.returncode, result


def assert_sample_delivered(server: SdkServer, token: str, result: dict[str, Any],
                            agent: dict[str, str], customer: str, text: str) -> None:
    assert result["ok"], result
    assert [c["method"] for c in result["calls"]] == [
        "loginImplicitGrant", "postConversationsMessages", "getConversation",
        "postConversationsMessageCommunicationMessages"]
    assert all(c["ok"] for c in result["calls"]), result["calls"]
    assert result["alert"] == f"message successfully sent to: {customer}"
    assert result["toAddress"] == customer
    assert result["fromAddress"] == server.number
    assert result["text"] == text

    conversation = get_json(server, token, f"/api/v2/conversations/{result['conversationId']}")
    agent_party = next(p for p in conversation["participants"] if p["purpose"] == "agent")
    assert agent_party["userId"] == agent["id"]
    assert agent_party["queueId"] == server.queue_id
    assert agent_party["messages"][0]["id"] == result["communicationId"]

    phone = wait_for_phone(server, token, customer)
    assert [(m["fromAddress"], m["toAddress"], m["text"], m["status"]) for m in phone] == [
        (server.number, customer, text, "delivery-success")], server.log_tail()


def test_seed_sample_with_preset_token(node: str, sdk_server: SdkServer) -> None:
    agent = sdk_server.agent(0)
    token = implicit_login(sdk_server.base_url, sdk_server.browser_client_id, agent["email"],
                           agent["password"], sdk_server.redirect_uri())
    customer = new_customer()
    text = "Hello from the JavaScript SDK (seed sample)"
    code, result = run_node(node, "seed.js", sdk_server, {
        "base-url": sdk_server.base_url, "token": token, "queue-id": sdk_server.queue_id,
        "phone": customer, "text": text})
    assert code == 0, result
    assert result["login"]["accessToken"] == token
    assert_sample_delivered(sdk_server, token, result, agent, customer, text)


def test_seed_sample_with_implicit_grant_in_node(node: str, sdk_server: SdkServer) -> None:
    agent = sdk_server.agent(1)
    customer = new_customer()
    text = "Hello from the JavaScript SDK (implicit grant)"
    redirect_uri = sdk_server.redirect_uri("/app/")
    code, result = run_node(node, "implicit.js", sdk_server, {
        "base-url": sdk_server.base_url, "client-id": sdk_server.browser_client_id,
        "redirect-uri": redirect_uri, "queue-id": sdk_server.queue_id, "phone": customer,
        "text": text, "state": "js-state-1"},
        env={"PARLEY_USERNAME": agent["email"], "PARLEY_PASSWORD": agent["password"]})
    assert code == 0, result

    # The SDK sent the browser to this server's login page with the implicit-grant query.
    authorize = urlsplit(result["authorizeUrl"])
    assert f"{authorize.scheme}://{authorize.netloc}" == sdk_server.base_url
    assert authorize.path == "/oauth/authorize"
    assert parse_qs(authorize.query) == {
        "client_id": [sdk_server.browser_client_id], "redirect_uri": [redirect_uri],
        "response_type": ["token"], "state": ["js-state-1"]}
    assert result["navigations"] == [result["authorizeUrl"]]

    # The login came back to the app with the token in the fragment; the SDK took it from
    # there, cleared the hash, and resolved with it.
    assert result["redirectedTo"] == redirect_uri
    fragment = parse_qs(result["fragment"].lstrip("#"))
    token = fragment["access_token"][0]
    assert fragment["token_type"] == ["bearer"] and fragment["state"] == ["js-state-1"]
    assert result["login"]["accessToken"] == token
    assert result["login"]["state"] == "js-state-1"
    assert result["login"]["tokenExpiryTime"] > 0
    assert result["hashAfterLogin"] == ""
    assert_sample_delivered(sdk_server, token, result, agent, customer, text)


def test_invalid_to_address_rejects_with_error_body(node: str, sdk_server: SdkServer) -> None:
    agent = sdk_server.agent(0)
    token = implicit_login(sdk_server.base_url, sdk_server.browser_client_id, agent["email"],
                           agent["password"], sdk_server.redirect_uri())
    code, result = run_node(node, "seed.js", sdk_server, {
        "base-url": sdk_server.base_url, "token": token, "queue-id": sdk_server.queue_id,
        "phone": "+1 555 NOT A PHONE", "text": "never sent"})
    assert code == 1, result
    assert result["ok"] is False and result["failedCall"] == "postConversationsMessages"
    error = result["error"]  # the SDK rejects with the parsed Genesys ErrorBody itself
    assert error["status"] == 400
    assert "toAddress" in error["message"]
    assert error["code"] and error["contextId"]
    assert result.get("conversationId") is None
