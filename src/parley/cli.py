"""The `parley` command: create the database, seed the demo, serve."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Annotated, Any
from urllib.parse import urlencode

import typer

from parley.bootstrap import bootstrap, migrate_database
from parley.config import Settings
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
                                      parley.queues, parley.sim, settings.data_dir).ensure()
            result.update(seeded.summary, demoCreated=seeded.created)
        finally:
            await parley.db.dispose()
    return result


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
    script, browser = d["clients"]["script"], d["clients"]["browser"]
    typer.echo(f"  script client    id {script['clientId']}  secret {script['clientSecret']}")
    typer.echo(f"  browser client   id {browser['clientId']} (implicit grant / PKCE, any "
               "http://127.0.0.1 or http://localhost redirect)")
    typer.echo("")
    typer.echo(f"Sign in:  {login_url(base, browser['clientId'], base + '/')}")
    typer.echo(f"API docs: {base}/docs")


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
