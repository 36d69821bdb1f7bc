"""The `parley` command: create the database, seed the demo, serve."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn
from urllib.parse import urlencode

import typer

from parley.bootstrap import Parley, bootstrap, migrate_database
from parley.config import Settings
from parley.domain.access import Principal, Role
from parley.domain.directory import GrantType
from parley.domain.errors import DomainError, InvalidFields, NotFound
from parley.domain.flows import FlowValidationError, Problem, Severity, parse_flow
from parley.domain.phone import parse_e164
from parley.services.credentials import new_password
from parley.services.demo import DemoSeeder

app = typer.Typer(help="Parley: a self-hosted SMS contact-centre server.", no_args_is_help=True,
                  add_completion=False)


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as e:  # pydantic's message names the variable
        typer.secho(f"invalid configuration: {e}", fg="red", err=True)
        raise typer.Exit(2) from e


async def _init(settings: Settings, demo: bool) -> dict[str, Any]:
    before, after = await migrate_database(settings)
    result: dict[str, Any] = {"database": {"schemaBefore": before, "schema": after}}
    if demo:
        parley = bootstrap(settings)
        try:
            if parley.sim is None:
                raise typer.BadParameter("the demo needs the simulator carrier "
                                         "(unset PARLEY_SIM_ENABLED=false)")
            seeded = await DemoSeeder(parley.uow, parley.clock, parley.directory,
                                      parley.queues, parley.agents, parley.flows, parley.sim,
                                      settings.data_dir).ensure()
            result.update(seeded.summary, demoCreated=seeded.created)
        finally:
            await parley.db.dispose()
    return result


def _unreachable(settings: Settings, e: OSError) -> NoReturn:
    typer.secho(f"cannot reach the database ({settings.database_url}): {e}. Check "
                "PARLEY_DATABASE_URL and that the server is running.", fg="red", err=True)
    raise typer.Exit(1) from e


def login_url(base: str, client_id: str, redirect_uri: str) -> str:
    return f"{base}/oauth/authorize?" + urlencode(
        {"client_id": client_id, "redirect_uri": redirect_uri, "response_type": "token"})


@app.command()
def init(demo: Annotated[bool, typer.Option(help="also create the demo organisation")] = False,
         as_json: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False,
         base_url: Annotated[str, typer.Option(help="where the server will listen")] =
         "http://127.0.0.1:8080") -> None:
    """Create or upgrade the database (safe to run again); optionally seed the demo."""
    settings = _settings()
    try:
        result = asyncio.run(_init(settings, demo))
    except OSError as e:
        typer.secho(f"cannot reach the database ({settings.database_url}): {e}. Check "
                    "PARLEY_DATABASE_URL and that the server is running.", fg="red", err=True)
        raise typer.Exit(1) from e
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    db = result["database"]
    typer.echo(f"Database ready: {settings.database_url} (schema {db['schema']}"
               + (", upgraded" if db["schemaBefore"] != db["schema"] else "") + ")")
    if demo:
        _print_demo(result, base_url)


def _print_demo(d: dict[str, Any], base: str) -> None:
    typer.echo("")
    typer.secho(f"Demo organisation '{d['organization']['name']}'"
                + (" created" if d["demoCreated"] else " (already there)"), bold=True)
    admin = d["users"]["admin"]
    typer.echo(f"  admin   {admin['email']:<28} password {admin['password']}")
    for a in d["users"]["agents"]:
        typer.echo(f"  agent   {a['email']:<28} password {a['password']}")
    typer.echo(f"  queue   {d['queue']['name']} ({d['queue']['id']}), "
               f"Outbound SMS Number {d['smsNumber']['phoneNumber']}")
    if d.get("flow"):
        typer.echo(f"  flow    '{d['flow']['name']}' answers texts to "
                   f"{d['smsNumber']['phoneNumber']} and hands them to {d['queue']['name']}")
    script, browser = d["clients"]["script"], d["clients"]["browser"]
    typer.echo(f"  script client    id {script['clientId']}  secret {script['clientSecret']}")
    typer.echo(f"  browser client   id {browser['clientId']} (implicit grant / PKCE, any "
               "http://127.0.0.1 or http://localhost redirect)")
    typer.echo("")
    typer.echo(f"Open:     {base}/app/  (agent desktop, handset simulator, supervisor view, "
               "admin console)")
    typer.echo(f"Sign in:  {login_url(base, browser['clientId'], base + '/')}")
    typer.echo(f"API docs: {base}/docs")


orgs = typer.Typer(help="Organisations: one deployment can host several.",
                   no_args_is_help=True)
users = typer.Typer(help="Users of an organisation.", no_args_is_help=True)
clients = typer.Typer(help="OAuth clients of an organisation.", no_args_is_help=True)
app.add_typer(orgs, name="orgs")
app.add_typer(users, name="users")
app.add_typer(clients, name="clients")
flows = typer.Typer(help="Inbound message flows (what Archy does for Genesys users).",
                    no_args_is_help=True)
app.add_typer(flows, name="flows")
carriers = typer.Typer(help="Carrier connections: SMPP links, HTTP providers, simulators. A "
                            "running server applies changes within 10 s; its live state is "
                            "under GET /api/v2/parley/carriers.", no_args_is_help=True)
app.add_typer(carriers, name="carriers")


def _run(settings: Settings, work: Callable[[Parley], Awaitable[dict[str, Any]]],
         as_json: bool) -> None:
    """Run one admin task against the database and print its result."""

    async def go() -> dict[str, Any]:
        await migrate_database(settings)
        parley = bootstrap(settings)
        try:
            return await work(parley)
        finally:
            await parley.db.dispose()

    try:
        result = asyncio.run(go())
    except FlowValidationError as e:
        for problem in e.problems:
            typer.secho(f"error: {problem}", fg="red", err=True)
        raise typer.Exit(1) from e
    except InvalidFields as e:
        for field, what in e.problems:
            typer.secho(f"error: {field}: {what}", fg="red", err=True)
        raise typer.Exit(1) from e
    except DomainError as e:
        typer.secho(f"error: {e.message}", fg="red", err=True)
        raise typer.Exit(1) from e
    except OSError as e:
        _unreachable(settings, e)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            typer.echo(f"{key:>14}: {value}")


JsonFlag = Annotated[bool, typer.Option("--json", help="print one JSON document")]
RoleOption = Annotated[Role, typer.Option(help="admin, supervisor or agent")]


@orgs.command("create")
def orgs_create(name: str,
                admin_email: Annotated[str, typer.Option(help="the first admin's email")],
                admin_name: str = "Administrator",
                admin_password: Annotated[str | None, typer.Option(
                    help="generated and printed if omitted")] = None,
                as_json: JsonFlag = False) -> None:
    """Create an organisation with its first admin and a client for scripts."""
    password = admin_password or new_password()

    async def work(p: Parley) -> dict[str, Any]:
        org, admin, script = await p.directory.found_organization(
            name, admin_name=admin_name, admin_email=admin_email, admin_password=password)
        return {"organizationId": org.id, "name": org.name, "adminId": admin.id,
                "adminEmail": admin.email, "adminPassword": password,
                "clientId": script.client.id, "clientSecret": script.secret}

    _run(_settings(), work, as_json)


@users.command("add")
def users_add(org: Annotated[str, typer.Option(help="organisation id")],
              email: Annotated[str, typer.Option()], name: Annotated[str, typer.Option()],
              role: RoleOption = Role.AGENT,
              password: Annotated[str | None, typer.Option(
                  help="generated and printed if omitted")] = None,
              as_json: JsonFlag = False) -> None:
    """Add a user (agent, supervisor or admin) to an organisation."""
    secret = password or new_password()

    async def work(p: Parley) -> dict[str, Any]:
        user = await p.directory.add_user(org, name=name, email=email, role=role,
                                          password=secret)
        return {"id": user.id, "email": user.email, "role": user.role.value,
                "password": secret}

    _run(_settings(), work, as_json)


@clients.command("add")
def clients_add(org: Annotated[str, typer.Option(help="organisation id")],
                name: Annotated[str, typer.Option()],
                grant: Annotated[list[GrantType], typer.Option(
                    help="client_credentials, implicit or authorization_code (repeatable)")],
                role: RoleOption = Role.AGENT,
                redirect_uri: Annotated[list[str] | None, typer.Option(
                    help="allowed redirect URI (repeatable)")] = None,
                loopback: Annotated[bool, typer.Option(
                    help="accept any http://127.0.0.1 or http://localhost redirect")] = False,
                as_json: JsonFlag = False) -> None:
    """Add an OAuth client; a client-credentials secret is shown once, here."""

    async def work(p: Parley) -> dict[str, Any]:
        made = await p.directory.add_client(org, name=name, grant_types=grant, role=role,
                                            redirect_uris=redirect_uri or [],
                                            allow_loopback_redirects=loopback)
        return {"clientId": made.client.id, "clientSecret": made.secret,
                "grants": sorted(g.value for g in made.client.grant_types),
                "redirectUris": made.client.redirect_uris}

    _run(_settings(), work, as_json)


def _read_flow(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        typer.secho(f"cannot read {path}: {e}", fg="red", err=True)
        raise typer.Exit(2) from e


def _report(path: Path, problems: list[Problem]) -> None:
    for p in problems:
        where = f"{path}:{p.line}:{p.column}" if p.line is not None else str(path)
        colour = "red" if p.severity is Severity.ERROR else "yellow"
        typer.secho(f"{where}: {p.severity.value}: {p.path or 'flow'}: {p.message}",
                    fg=colour, err=True)


@flows.command("validate")
def flows_validate(file: Annotated[Path, typer.Argument(help="the flow, as YAML")],
                   org: Annotated[str | None, typer.Option(
                       help="also check queue names against this organisation")] = None
                   ) -> None:
    """Check a flow file; every problem is printed as FILE:LINE:COLUMN."""
    text = _read_flow(file)
    known: set[str] | None = None
    settings = _settings()
    if org is not None:

        async def names() -> set[str] | None:
            parley = bootstrap(settings)
            try:
                async with parley.uow(read_only=True) as uow:
                    if await uow.orgs.get(org) is None:
                        return None
                    queues, _ = await uow.queues.page(org, page=1, size=100_000)
                return {q.name for q in queues}
            finally:
                await parley.db.dispose()

        try:
            known = asyncio.run(names())
        except OSError as e:
            _unreachable(settings, e)
        if known is None:
            typer.secho(f"error: organisation {org} does not exist", fg="red", err=True)
            raise typer.Exit(1)
    try:
        definition = parse_flow(text, known_queues=known, data_hosts=settings.data_hosts)
    except FlowValidationError as e:
        _report(file, [*e.problems, *e.warnings])
        typer.secho(f"{file}: {len(e.problems)} error(s)", fg="red", err=True)
        raise typer.Exit(1) from e
    _report(file, list(definition.warnings))
    typer.echo(f"{file}: valid flow '{definition.name}' ({len(definition.actions)} actions, "
               f"queues: {', '.join(sorted(definition.queues))})")


@flows.command("publish")
def flows_publish(file: Annotated[Path, typer.Argument(help="the flow, as YAML")],
                  org: Annotated[str, typer.Option(help="organisation id")],
                  route: Annotated[list[str] | None, typer.Option(
                      help="also route this number's texts to the flow (repeatable)")] = None,
                  as_json: JsonFlag = False) -> None:
    """Create or update the flow named in the file, save it as a new version, publish it."""
    text = _read_flow(file)

    async def work(p: Parley) -> dict[str, Any]:
        async with p.uow(read_only=True) as uow:
            if await uow.orgs.get(org) is None:
                raise NotFound(f"organisation {org} does not exist")
            admin, _ = await uow.users.page(org, page=1, size=1000)
            admins = [u for u in admin if u.role is Role.ADMIN]
        acting = Principal(org_id=org, role=Role.ADMIN, client_id="parley-cli",
                           user_id=admins[0].id if admins else None, token_id="",
                           expires_at_ms=0)
        # Check the flow (queues included) and the numbers before changing anything.
        name = (await p.flows.validate(acting, text)).name
        targets = []
        for raw in route or []:
            number = parse_e164(raw, "--route")
            async with p.uow(read_only=True) as uow:
                found = await uow.numbers.by_phone(number)
            if found is None or found.org_id != org:
                raise NotFound(f"{number} is not an SMS number of organisation {org}")
            targets.append((number, found.id))
        async with p.uow(read_only=True) as uow:
            existing = await uow.flows.by_name(org, name)
        flow = existing or await p.flows.create(acting, name=name, description=None,
                                                kind=None)
        await p.flows.save_version(acting, flow.id, text)
        version = await p.flows.publish(acting, flow.id)
        routed = []
        for number, number_id in targets:
            await p.flows.set_route(acting, number_id, flow.id)
            routed.append(number)
        return {"flowId": flow.id, "name": name, "publishedVersion": version.version,
                "routed": routed}

    _run(_settings(), work, as_json)


def _pairs(raw: list[str] | None, option: str) -> dict[str, Any]:
    """KEY=VALUE options; a value that reads as JSON (5, true, {"local": 1}) is taken as such."""
    out: dict[str, Any] = {}
    for item in raw or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"'{item}' is not KEY=VALUE", param_hint=option)
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _inventory(raw: list[str] | None) -> list[dict[str, str]] | None:
    if raw is None:
        return None
    out = []
    for item in raw:
        number, _, kind = item.partition(":")
        out.append({"phoneNumber": number, "phoneNumberType": kind or "local"})
    return out


def _connection_summary(view: Any) -> dict[str, Any]:
    c = view.connection
    return {"id": c.id, "name": c.name, "kind": c.kind.value, "enabled": c.enabled,
            "settings": c.settings, "secretsSet": sorted(c.secrets),
            "numbers": [n.phone_number for n in c.inventory],
            "registeredNumbers": view.numbers}


async def _org_admin(p: Parley, org: str) -> Principal:
    async with p.uow(read_only=True) as uow:
        if await uow.orgs.get(org) is None:
            raise NotFound(f"organisation {org} does not exist")
    return Principal(org_id=org, role=Role.ADMIN, client_id="parley-cli", user_id=None,
                     token_id="", expires_at_ms=0)


OrgOption = Annotated[str, typer.Option(help="organisation id")]
SetOption = Annotated[list[str] | None, typer.Option(
    "--set", help="a setting, KEY=VALUE (repeatable), e.g. --set host=smsc.example.com")]
SecretOption = Annotated[list[str] | None, typer.Option(
    "--secret", help="a secret, KEY=VALUE (repeatable): password for smpp, authToken for "
                     "http; stored, never shown")]
NumberOption = Annotated[list[str] | None, typer.Option(
    "--number", help="a number the connection serves, +E164[:type] (repeatable), e.g. "
                     "+13125550100:local")]


@carriers.command("add")
def carriers_add(kind: Annotated[str, typer.Argument(help="smpp, http or sim")],
                 org: OrgOption, name: Annotated[str, typer.Option()],
                 setting: SetOption = None, secret: SecretOption = None,
                 number: NumberOption = None,
                 disabled: Annotated[bool, typer.Option(help="add it switched off")] = False,
                 as_json: JsonFlag = False) -> None:
    """Add a carrier connection. Every setting is checked; all problems are listed."""

    async def work(p: Parley) -> dict[str, Any]:
        view = await p.carrier_admin.create(
            await _org_admin(p, org), name=name, kind=kind,
            settings=_pairs(setting, "--set"), secrets=_pairs(secret, "--secret"),
            numbers=_inventory(number), enabled=not disabled)
        return _connection_summary(view)

    _run(_settings(), work, as_json)


@carriers.command("set")
def carriers_set(connection_id: Annotated[str, typer.Argument(help="the connection's id")],
                 org: OrgOption, name: Annotated[str | None, typer.Option()] = None,
                 setting: SetOption = None, secret: SecretOption = None,
                 number: NumberOption = None,
                 enable: Annotated[bool | None, typer.Option(
                     "--enable/--disable", help="switch it on or off")] = None,
                 as_json: JsonFlag = False) -> None:
    """Change a connection: the settings given are merged into the current ones."""

    async def work(p: Parley) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = name
        if setting:
            changes["settings"] = _pairs(setting, "--set")
        if secret:
            changes["secrets"] = _pairs(secret, "--secret")
        if number is not None:
            changes["numbers"] = _inventory(number)
        if enable is not None:
            changes["enabled"] = enable
        view = await p.carrier_admin.change(await _org_admin(p, org), connection_id,
                                            changes=changes)
        return _connection_summary(view)

    _run(_settings(), work, as_json)


@carriers.command("list")
def carriers_list(org: OrgOption, as_json: JsonFlag = False) -> None:
    """The organisation's connections (configuration; the live state is the server's)."""

    async def work(p: Parley) -> dict[str, Any]:
        views = await p.carrier_admin.list(await _org_admin(p, org))
        return {v.connection.name: _connection_summary(v) for v in views if not v.builtin}

    _run(_settings(), work, as_json)


@carriers.command("remove")
def carriers_remove(connection_id: Annotated[str, typer.Argument(help="the connection's id")],
                    org: OrgOption) -> None:
    """Remove a connection that no registered number uses any more."""

    async def work(p: Parley) -> dict[str, Any]:
        await p.carrier_admin.delete(await _org_admin(p, org), connection_id)
        return {"removed": connection_id}

    _run(_settings(), work, False)


@app.command()
def serve(host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="port to listen on")] = 8080) -> None:
    """Serve the API, the OAuth endpoints and the web pages."""
    import uvicorn

    from parley.api.app import create_app

    settings = _settings()
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    before, after = asyncio.run(migrate_database(settings))
    if before != after:
        typer.echo(f"database schema upgraded to {after}")
    typer.echo(f"Parley on http://{host}:{port}  (API docs: http://{host}:{port}/docs, "
               f"database: {settings.database_url})")
    uvicorn.run(create_app(bootstrap(settings)), host=host, port=port, loop="uvloop",
                http="httptools", log_level=settings.log_level.lower(), access_log=False)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
