"""The demo organisation `parley init --demo` creates: enough to see the whole loop at once.

Created once. Its passwords and client secret are random; they are kept in
`<data dir>/demo-credentials.json` (mode 0600) so a later `init --demo` can print them again.
If that file is gone or no longer matches, the demo credentials are reset and printed anew.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parley.domain.access import Principal, Role
from parley.domain.directory import GrantType
from parley.domain.ids import new_id
from parley.domain.numbers import PhoneNumberType, SmsNumber
from parley.services.agents import AgentService
from parley.services.credentials import hash_secret, new_password, new_token, verify_secret
from parley.services.directory import DirectoryService
from parley.services.flows import FlowService
from parley.services.ports import Carrier, Clock, UnitOfWorkFactory
from parley.services.queues import QueueService, QueueSettings

DEMO_ORG = "Parley Demo"
ADMIN_EMAIL = "admin@demo.parley.test"
AGENTS = (("Ada Agent", "ada@demo.parley.test"), ("Bob Agent", "bob@demo.parley.test"))
DEMO_REDIRECTS = ("http://127.0.0.1:8080/", "http://localhost:8080/")
DEMO_CAPACITY = 4

DEMO_FLOW = """\
name: Demo inbound
description: Greets the customer, says whether we are open, and hands over to Support
type: inboundshortmessage
fallbackQueue: Support
schedules:
  businessHours:
    timezone: America/Chicago
    open: {mon-fri: "08:00-20:00", sat: "10:00-14:00"}
start: greet
actions:
  greet:
    sendResponse: {text: "Hi, thanks for texting Parley Demo!"}
    next: hours
  hours:
    decision: {if: "isOpen('businessHours')", then: open, else: closed}
  open:
    sendResponse: {text: "An agent will be with you in a moment."}
    next: toSupport
  closed:
    sendResponse:
      text: >-
        We are closed now (Mon-Fri 8-20, Sat 10-14 Chicago time);
        an agent will reply when we open.
    next: toSupport
  toSupport:
    transferToAcd: {queue: Support}
"""


@dataclass
class DemoResult:
    created: bool
    summary: dict[str, Any]


class DemoSeeder:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, directory: DirectoryService,
                 queues: QueueService, agents: AgentService, flows: FlowService,
                 carrier: Carrier, data_dir: Path) -> None:
        self._uow = uow
        self._clock = clock
        self._directory = directory
        self._queues = queues
        self._agents = agents
        self._flows = flows
        self._carrier = carrier
        self._file = data_dir / "demo-credentials.json"

    async def ensure(self) -> DemoResult:
        async with self._uow(read_only=True) as uow:
            org = await uow.orgs.demo()
        if org is None:
            return DemoResult(True, await self._create())
        return DemoResult(False, await self._existing(org.id))

    async def _create(self) -> dict[str, Any]:
        org = await self._directory.create_organization(DEMO_ORG, is_demo=True)
        secrets: dict[str, str] = {}
        admin_pw = new_password()
        admin = await self._directory.add_user(org.id, name="Demo Admin", email=ADMIN_EMAIL,
                                               role=Role.ADMIN, password=admin_pw)
        secrets[admin.id] = admin_pw
        agents = []
        for name, email in AGENTS:
            pw = new_password()
            agent = await self._directory.add_user(org.id, name=name, email=email,
                                                   role=Role.AGENT, password=pw)
            secrets[agent.id] = pw
            agents.append(agent)
        number = await self._register_number(org.id, admin.id)
        as_admin = Principal(org_id=org.id, role=Role.ADMIN, client_id="demo-seed",
                             user_id=admin.id, token_id="", expires_at_ms=0)
        queue = await self._queues.create(as_admin, QueueSettings(
            name="Support", description="Demo queue: both demo agents are members",
            sms_number_id=number.id))
        await self._queues.change_members(as_admin, queue.id, [a.id for a in agents],
                                          remove=False)
        await self._agents.set_org_utilization(as_admin, DEMO_CAPACITY)
        flow = await self._flows.create(as_admin, name="Demo inbound", description=None,
                                        kind=None)
        await self._flows.save_version(as_admin, flow.id, DEMO_FLOW)
        await self._flows.publish(as_admin, flow.id)
        await self._flows.set_route(as_admin, number.id, flow.id)
        script = await self._directory.add_client(
            org.id, name="Demo scripts", grant_types=[GrantType.CLIENT_CREDENTIALS],
            role=Role.ADMIN)
        await self._directory.add_client(
            org.id, name="Demo browser apps",
            grant_types=[GrantType.IMPLICIT, GrantType.AUTHORIZATION_CODE], role=Role.AGENT,
            redirect_uris=DEMO_REDIRECTS, allow_loopback_redirects=True)
        assert script.secret is not None
        secrets[script.client.id] = script.secret
        self._save(secrets)
        return await self._existing(org.id)

    async def _register_number(self, org_id: str, admin_id: str) -> SmsNumber:
        offered = await self._carrier.available_numbers(
            country_code="US", number_type=PhoneNumberType.LOCAL, area_code=None, pattern=None,
            limit=100)
        now = self._clock.now_ms()
        async with self._uow() as uow:
            for a in offered:
                if await uow.numbers.by_phone(a.phone_number) is None:
                    number = SmsNumber(
                        id=new_id(), org_id=org_id, phone_number=a.phone_number,
                        phone_number_type=a.phone_number_type, country_code="US",
                        carrier=self._carrier.name, name="Demo number", created_ms=now,
                        modified_ms=now, created_by=admin_id, modified_by=admin_id)
                    await uow.numbers.add(number)
                    await uow.commit()
                    return number
        raise RuntimeError("the simulator has no free US number left for the demo")

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self._file.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _save(self, secrets: dict[str, str]) -> None:
        self._file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._file.with_suffix(".tmp")
        tmp.write_text(json.dumps(secrets, indent=2))
        os.chmod(tmp, 0o600)
        tmp.replace(self._file)

    async def _existing(self, org_id: str) -> dict[str, Any]:
        """Describe the demo org, resetting any credential the saved file cannot vouch for."""
        saved = self._load()
        changed = False
        async with self._uow() as uow:
            users, _ = await uow.users.page(org_id, page=1, size=100)
            clients = await uow.clients.in_org(org_id)
            queue = await uow.queues.by_name(org_id, "Support")
            number = None
            if queue is not None and queue.sms_number_id is not None:
                number = await uow.numbers.get(org_id, queue.sms_number_id)
            for u in users:
                if not verify_secret(u.password_hash, saved.get(u.id, "")):
                    saved[u.id] = new_password()
                    await uow.users.set_password(u.id, hash_secret(saved[u.id]))
                    changed = True
            for c in clients:
                if c.secret_hash is not None and not verify_secret(c.secret_hash,
                                                                   saved.get(c.id, "")):
                    saved[c.id] = new_token()
                    await uow.clients.set_secret(c.id, hash_secret(saved[c.id]))
                    changed = True
            await uow.commit()
        if changed:
            self._save(saved)
        admin = next(u for u in users if u.role is Role.ADMIN)
        agents = sorted((u for u in users if u.role is Role.AGENT), key=lambda u: u.email)
        script = next(c for c in clients if GrantType.CLIENT_CREDENTIALS in c.grant_types)
        browser = next(c for c in clients if GrantType.IMPLICIT in c.grant_types)
        route = None if number is None else await self._route(org_id, number.id)
        return {
            "organization": {"id": org_id, "name": DEMO_ORG},
            "flow": route,
            "users": {
                "admin": {"id": admin.id, "email": admin.email, "password": saved[admin.id]},
                "agents": [{"id": a.id, "name": a.name, "email": a.email,
                            "password": saved[a.id]} for a in agents],
            },
            "queue": None if queue is None else {"id": queue.id, "name": queue.name},
            "smsNumber": None if number is None else {"id": number.id,
                                                      "phoneNumber": number.phone_number},
            "clients": {
                "script": {"clientId": script.id, "clientSecret": saved[script.id]},
                "browser": {"clientId": browser.id, "redirectUris": browser.redirect_uris,
                            "loopbackRedirects": browser.allow_loopback_redirects},
            },
        }

    async def _route(self, org_id: str, number_id: str) -> dict[str, Any] | None:
        async with self._uow(read_only=True) as uow:
            flow_id, _, _ = await uow.flows.route_of(number_id)
            flow = None if flow_id is None else await uow.flows.get(org_id, flow_id)
        if flow is None:
            return None
        return {"id": flow.id, "name": flow.name, "publishedVersion": flow.published_version}
