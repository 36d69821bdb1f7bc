"""A fresh organisation per test, built through the real services and the real OAuth flows."""

from __future__ import annotations

import itertools
import random
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import httpx

from parley.bootstrap import Parley
from parley.domain.access import Principal, Role
from parley.domain.directory import GrantType, User
from parley.domain.errors import Conflict
from parley.domain.numbers import SmsNumber
from parley.services.queues import QueueSettings
from tests.leaks import secret

# NANP area codes whose 555-01XX numbers are valid; each test org takes a random free one.
AREA_CODES = ("201", "202", "203", "205", "206", "207", "208", "209", "210", "212", "213",
              "214", "215", "216", "217", "218", "219", "224", "225", "228", "229", "231",
              "234", "239", "240", "248", "251", "252", "253", "254", "256", "260", "262",
              "267", "269", "270", "276", "281", "301", "302", "303", "304", "305", "307")


@dataclass
class Person:
    user: User
    password: str
    token: str = ""

    @property
    def id(self) -> str:
        return self.user.id

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Tenant:
    id: str
    admin: Person
    agents: list[Person]
    queue_id: str
    number_id: str
    number: str
    script_client_id: str
    script_client_secret: str
    browser_client_id: str
    admin_token: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def admin_headers(self) -> dict[str, str]:
        """A client-credentials token with the admin role (no user)."""
        return {"Authorization": f"Bearer {self.admin_token}"}

    def principal(self) -> Principal:
        return Principal(org_id=self.id, role=Role.ADMIN, client_id=self.script_client_id,
                         user_id=self.admin.id, token_id="test", expires_at_ms=2**62)


def random_customer() -> str:
    return f"+1{random.choice(AREA_CODES)}55501{random.randrange(100):02d}"


_customers = itertools.product(random.sample(AREA_CODES, len(AREA_CODES)), range(100))


def new_customer() -> str:
    """A valid +1 number no other call in this process got, so a test's conversation, or the
    simulator's record of a phone, holds only what that test sent."""
    area, line = next(_customers)
    return f"+1{area}55501{line:02d}"


async def register_free_number(parley: Parley, principal: Principal) -> SmsNumber:
    """Register a local US number nobody holds yet. Tests of one database share the number
    space, so a random pick can be taken: pick again."""
    while True:
        try:
            return await parley.numbers.provision(
                principal, phone_number=random_customer(), phone_number_type="local",
                country_code="US")
        except Conflict:
            continue


async def login(http: httpx.AsyncClient, client_id: str, email: str, password: str,
                redirect_uri: str = "http://127.0.0.1:9/cb") -> str:
    """The implicit grant, as a browser does it: submit the login form, read the fragment."""
    resp = await http.post("/oauth/authorize", data={
        "client_id": client_id, "redirect_uri": redirect_uri, "response_type": "token",
        "state": "s1", "username": email, "password": password})
    assert resp.status_code == 302, resp.text
    fragment = parse_qs(urlsplit(resp.headers["location"]).fragment)
    assert fragment["state"] == ["s1"]
    return fragment["access_token"][0]


async def client_token(http: httpx.AsyncClient, client_id: str, secret: str) -> str:
    resp = await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(client_id, secret))
    assert resp.status_code == 200, resp.text
    return str(resp.json()["access_token"])


async def make_org(parley: Parley, http: httpx.AsyncClient, *, agents: int = 2) -> Tenant:
    d = parley.directory
    org = await d.create_organization(f"Test org {secrets.token_hex(3)}")
    tag = secrets.token_hex(4)

    async def person(role: Role, name: str) -> Person:
        pw = secrets.token_urlsafe(12)
        secret(pw, f"password of {name} of {org.id}")
        user = await d.add_user(org.id, name=name, email=f"{name.lower()}-{tag}@test.parley",
                                role=role, password=pw)
        return Person(user, pw)

    admin = await person(Role.ADMIN, "Admin")
    people = [await person(Role.AGENT, f"Agent{i + 1}") for i in range(agents)]
    as_admin = Principal(org_id=org.id, role=Role.ADMIN, client_id="setup", user_id=admin.id,
                         token_id="setup", expires_at_ms=2**62)
    number = await register_free_number(parley, as_admin)
    queue = await parley.queues.create(as_admin, QueueSettings(name="Support",
                                                               sms_number_id=number.id))
    if people:
        await parley.queues.change_members(as_admin, queue.id, [p.id for p in people],
                                           remove=False)
    script = await d.add_client(org.id, name="scripts", grant_types=[GrantType.CLIENT_CREDENTIALS],
                                role=Role.ADMIN)
    browser = await d.add_client(org.id, name="browser",
                                 grant_types=[GrantType.IMPLICIT, GrantType.AUTHORIZATION_CODE],
                                 role=Role.AGENT, allow_loopback_redirects=True)
    assert script.secret is not None
    secret(script.secret, f"client secret of {script.client.id}")
    result = Tenant(id=org.id, admin=admin, agents=people, queue_id=queue.id,
                     number_id=number.id, number=number.phone_number,
                     script_client_id=script.client.id, script_client_secret=script.secret,
                     browser_client_id=browser.client.id)
    result.admin_token = await client_token(http, script.client.id, script.secret)
    secret(result.admin_token, f"access token of {script.client.id}")
    for p in [admin, *people]:
        p.token = await login(http, browser.client.id, p.user.email, p.password)
        secret(p.token, f"access token of {p.user.email}")
    return result
