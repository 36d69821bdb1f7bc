"""`parley flows validate` and `parley flows publish` as a user runs them: a real subprocess.

Validation without --org needs no database. The --org and publish tests work on an
organisation made in process (the `org` fixture, on each test backend) and check what the
command did through the HTTP API of that same database.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.bootstrap import Parley
from parley.domain.flows import EXAMPLE_FLOW
from parley.services.demo import DEMO_FLOW
from tests.orgs import Tenant, make_org

PARLEY = str(Path(sys.executable).with_name("parley"))
FLOWS = "/api/v2/flows"
RECIPIENTS = "/api/v2/routing/message/recipients"


def run(database_url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PARLEY_DATABASE_URL": database_url, "PARLEY_DATA_DIR": str(data_dir),
           "PARLEY_ARGON2_TIME_COST": "1", "PARLEY_ARGON2_MEMORY_KIB": "1024"}
    return subprocess.run([PARLEY, *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


async def arun(database_url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`run` off the event loop, so the in-process server keeps serving meanwhile."""
    return await asyncio.to_thread(run, database_url, data_dir, *args)


@pytest.fixture
def no_db(tmp_path: Path) -> str:
    """A database URL for commands that must not need one (the file is never created)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}"


def write(tmp_path: Path, text: str, name: str = "flow.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def flow_yaml(name: str, *, queue: str = "Support", greeting: str = "Hello") -> str:
    return (f"name: {name}\n"                          # 1
            "type: inboundshortmessage\n"              # 2
            f"fallbackQueue: {queue}\n"                # 3
            "start: greet\n"                           # 4
            "actions:\n"                               # 5
            "  greet:\n"                               # 6
            f'    sendResponse: {{text: "{greeting}"}}\n'  # 7
            "    next: toQueue\n"                      # 8
            "  toQueue:\n"                             # 9
            f"    transferToAcd: {{queue: {queue}}}\n")  # 10


BROKEN = """\
name: Broken
type: inboundshortmessage
fallbackQueue: Support
schedules:
  hours: {timezone: America/Chicago, open: {mon-fri: "17:00-09:00"}}
start: greet
actions:
  greet:
    sendRespons: {text: "Hi"}
    next: toSupport
  ask:
    decision: {if: "message.text ==", then: toSupport, else: nowhere}
  toSupport:
    transferToAcd: {queue: Support}
"""


def no_traceback(out: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in out.stderr and "Traceback" not in out.stdout, out.stderr


# -- validate ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "summary"), [
    (DEMO_FLOW, "valid flow 'Demo inbound' (5 actions, queues: Support)"),
    (EXAMPLE_FLOW, "valid flow 'Support intake' (7 actions, queues: Support)"),
], ids=["demo", "example"])
def test_validate_a_good_file(no_db: str, tmp_path: Path, text: str, summary: str) -> None:
    path = write(tmp_path, text)
    out = run(no_db, tmp_path, "flows", "validate", str(path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"{path}: {summary}"
    assert out.stderr == ""
    assert not Path(no_db.split("///", 1)[1]).exists()


def test_validate_prints_warnings_but_succeeds(no_db: str, tmp_path: Path) -> None:
    path = write(tmp_path, flow_yaml("Warned") + "  orphan:\n    disconnect: {}\n")
    out = run(no_db, tmp_path, "flows", "validate", str(path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"{path}: valid flow 'Warned' (3 actions, queues: Support)"
    assert out.stderr.splitlines() == [
        f"{path}:11:3: warning: actions.orphan: action 'orphan' is never reached from start "
        "'greet'"]


def test_validate_a_bad_file_lists_every_problem_as_file_line_column(no_db: str,
                                                                      tmp_path: Path) -> None:
    path = write(tmp_path, BROKEN)
    out = run(no_db, tmp_path, "flows", "validate", str(path))
    assert out.returncode == 1
    no_traceback(out)
    assert out.stdout == ""
    lines = out.stderr.splitlines()
    assert lines[-1] == f"{path}: 4 error(s)"
    problems = lines[:-1]
    assert all(re.match(rf"{re.escape(str(path))}:\d+:\d+: (error|warning): ", p)
               for p in problems), problems
    where = [p.split(": ", 3)[:3] for p in problems]
    assert where == [
        [f"{path}:5:54", "error", "schedules.hours.open.mon-fri"],
        [f"{path}:9:5", "error", "actions.greet.sendRespons"],
        [f"{path}:12:20", "error", "actions.ask.decision.if"],
        [f"{path}:12:62", "error", "actions.ask.decision.else"],
    ]
    assert "'17:00-09:00' ends before it starts" in problems[0]
    assert "unknown action type 'sendRespons'; did you mean 'sendResponse'?" in problems[1]
    assert "not a valid expression" in problems[2]
    assert "there is no action 'nowhere'" in problems[3]


def test_validate_reports_a_yaml_syntax_error_at_its_place(no_db: str, tmp_path: Path) -> None:
    path = write(tmp_path, 'name: X\nactions:\n  greet: {sendResponse: {text: "Hi"}\n')
    out = run(no_db, tmp_path, "flows", "validate", str(path))
    assert out.returncode == 1
    no_traceback(out)
    assert out.stderr.splitlines()[0].startswith(f"{path}:4:1: error: flow: invalid YAML")


def test_an_unreadable_file_is_exit_2_with_a_clear_message(no_db: str, tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    not_text = tmp_path / "binary.yaml"
    not_text.write_bytes(b"name: \xff\xfe\x00\n")
    for path in (missing, tmp_path, not_text):
        for command in (("flows", "validate", str(path)),
                        ("flows", "publish", str(path), "--org", "any-org")):
            out = run(no_db, tmp_path, *command)
            assert out.returncode == 2, (command, out.stdout, out.stderr)
            assert f"cannot read {path}" in out.stderr
            no_traceback(out)


async def test_validate_with_org_checks_its_queue_names(database_url: str, tmp_path: Path,
                                                        org: Tenant) -> None:
    good = write(tmp_path, flow_yaml("Good"), "good.yaml")
    out = await arun(database_url, tmp_path, "flows", "validate", str(good), "--org", org.id)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"{good}: valid flow 'Good' (2 actions, queues: Support)"

    billing = write(tmp_path, flow_yaml("Billing", queue="Billing"), "billing.yaml")
    out = await arun(database_url, tmp_path, "flows", "validate", str(billing),
                     "--org", org.id)
    assert out.returncode == 1
    no_traceback(out)
    assert out.stderr.splitlines() == [
        f"{billing}:3:16: error: fallbackQueue: there is no queue named 'Billing'",
        f"{billing}:10:28: error: actions.toQueue.transferToAcd.queue: there is no queue "
        "named 'Billing'",
        f"{billing}: 2 error(s)",
    ]
    # Without --org queue names are not checked.
    out = await arun(database_url, tmp_path, "flows", "validate", str(billing))
    assert out.returncode == 0, out.stderr


async def test_validate_with_an_unknown_org_is_a_clear_error(database_url: str,
                                                             tmp_path: Path) -> None:
    path = write(tmp_path, flow_yaml("Good"))
    out = await arun(database_url, tmp_path, "flows", "validate", str(path),
                     "--org", "no-such-org")
    assert out.returncode == 1
    no_traceback(out)
    assert "organisation no-such-org does not exist" in out.stderr
    assert "there is no queue" not in out.stderr


# -- publish ----------------------------------------------------------------------------------


async def api(http: httpx.AsyncClient, org: Tenant, path: str) -> Any:
    resp = await http.get(path, headers=org.admin_headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_publish_creates_then_updates_and_routes(database_url: str, tmp_path: Path,
                                                       org: Tenant,
                                                       http: httpx.AsyncClient) -> None:
    path = write(tmp_path, flow_yaml("CLI intake", greeting="First"))
    out = await arun(database_url, tmp_path, "flows", "publish", str(path), "--org", org.id,
                     "--json")
    assert out.returncode == 0, out.stderr
    first = json.loads(out.stdout)
    assert first == {"flowId": first["flowId"], "name": "CLI intake", "publishedVersion": 1,
                     "routed": []}
    flow = await api(http, org, f"{FLOWS}/{first['flowId']}")
    assert (flow["name"], flow["publishedVersion"]["id"], flow["active"]) == (
        "CLI intake", "1", True)
    assert "flow" not in await api(http, org, f"{RECIPIENTS}/{org.number_id}")

    changed = flow_yaml("CLI intake", greeting="Second")
    write(tmp_path, changed)
    out = await arun(database_url, tmp_path, "flows", "publish", str(path), "--org", org.id,
                     "--route", org.number, "--json")
    assert out.returncode == 0, out.stderr
    second = json.loads(out.stdout)
    assert second == {"flowId": first["flowId"], "name": "CLI intake", "publishedVersion": 2,
                      "routed": [org.number]}

    flow = await api(http, org, f"{FLOWS}/{first['flowId']}")
    assert (flow["publishedVersion"]["id"], flow["savedVersion"]["id"]) == ("2", "2")
    versions = await api(http, org, f"{FLOWS}/{first['flowId']}/versions")
    assert [v["id"] for v in versions["entities"]] == ["2", "1"]
    conf = await http.get(f"{FLOWS}/{first['flowId']}/versions/2/configuration",
                          headers=org.admin_headers)
    assert conf.text == changed
    recipient = await api(http, org, f"{RECIPIENTS}/{org.number_id}")
    assert recipient["flow"]["id"] == first["flowId"]
    assert recipient["flow"]["name"] == "CLI intake"
    assert (await api(http, org, FLOWS))["total"] == 1


async def test_publish_prints_a_readable_summary(database_url: str, tmp_path: Path,
                                                 org: Tenant) -> None:
    path = write(tmp_path, flow_yaml("Plain"))
    out = await arun(database_url, tmp_path, "flows", "publish", str(path), "--org", org.id,
                     "--route", org.number)
    assert out.returncode == 0, out.stderr
    shown = dict(line.strip().split(": ", 1) for line in out.stdout.splitlines())
    assert shown["name"] == "Plain"
    assert shown["publishedVersion"] == "1"
    assert org.number in shown["routed"]


async def test_publish_updates_a_flow_made_through_the_api(database_url: str, tmp_path: Path,
                                                           org: Tenant,
                                                           http: httpx.AsyncClient) -> None:
    made = await http.post(FLOWS, json={"name": "shared"}, headers=org.admin_headers)
    assert made.status_code == 200, made.text
    path = write(tmp_path, flow_yaml("Shared"))
    out = await arun(database_url, tmp_path, "flows", "publish", str(path), "--org", org.id,
                     "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["flowId"] == made.json()["id"]
    flow = await api(http, org, f"{FLOWS}/{made.json()['id']}")
    assert (flow["name"], flow["publishedVersion"]["id"]) == ("Shared", "1")


async def test_publish_refuses_an_invalid_flow_and_creates_nothing(
        database_url: str, tmp_path: Path, org: Tenant, http: httpx.AsyncClient) -> None:
    broken = write(tmp_path, BROKEN, "broken.yaml")
    out = await arun(database_url, tmp_path, "flows", "publish", str(broken), "--org", org.id)
    assert out.returncode == 1
    no_traceback(out)
    assert "line 9, column 5" in out.stderr and "unknown action type" in out.stderr

    unknown_queue = write(tmp_path, flow_yaml("Billing", queue="Billing"), "billing.yaml")
    out = await arun(database_url, tmp_path, "flows", "publish", str(unknown_queue),
                     "--org", org.id)
    assert out.returncode == 1
    no_traceback(out)
    assert "line 3, column 16" in out.stderr
    assert "there is no queue named 'Billing'" in out.stderr
    assert (await api(http, org, FLOWS))["total"] == 0


async def test_publish_to_an_unknown_org_is_a_clear_error(database_url: str,
                                                          tmp_path: Path) -> None:
    path = write(tmp_path, flow_yaml("Nowhere"))
    out = await arun(database_url, tmp_path, "flows", "publish", str(path),
                     "--org", "no-such-org")
    assert out.returncode == 1
    no_traceback(out)
    assert "organisation no-such-org does not exist" in out.stderr


@pytest.fixture
async def other_org(parley: Parley, http: httpx.AsyncClient) -> Tenant:
    return await make_org(parley, http)


async def test_publish_will_not_route_another_organisations_number(
        database_url: str, tmp_path: Path, org: Tenant, other_org: Tenant,
        http: httpx.AsyncClient) -> None:
    path = write(tmp_path, flow_yaml("Mine"))
    out = await arun(database_url, tmp_path, "flows", "publish", str(path),
                     "--org", org.id, "--route", other_org.number)
    assert out.returncode == 1
    no_traceback(out)
    assert f"{other_org.number} is not an SMS number of organisation {org.id}" in out.stderr
    out = await arun(database_url, tmp_path, "flows", "publish", str(path),
                     "--org", org.id, "--route", "+12025550100x")
    assert out.returncode == 1
    no_traceback(out)
    assert "--route '+12025550100x' is not in E.164 form" in out.stderr
    assert "flow" not in await api(http, other_org, f"{RECIPIENTS}/{other_org.number_id}")
    # Nothing changed: the numbers are checked before the flow is created.
    assert (await api(http, org, FLOWS))["total"] == 0


def test_an_unreachable_database_says_what_to_do(tmp_path: Path) -> None:
    path = write(tmp_path, flow_yaml("Good"))
    nowhere = "postgresql+asyncpg://postgres@127.0.0.1:1/none"
    for command in (("flows", "validate", str(path), "--org", "any-org"),
                    ("flows", "publish", str(path), "--org", "any-org")):
        out = run(nowhere, tmp_path, *command)
        assert out.returncode == 1, (command, out.stderr)
        no_traceback(out)
        assert "cannot reach the database" in out.stderr
        assert "PARLEY_DATABASE_URL" in out.stderr
