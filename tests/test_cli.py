"""The `parley` command as a user runs it: a real subprocess on a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PARLEY = str(Path(sys.executable).with_name("parley"))


def run(database_url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PARLEY_DATABASE_URL": database_url, "PARLEY_DATA_DIR": str(data_dir),
           "PARLEY_ARGON2_TIME_COST": "1", "PARLEY_ARGON2_MEMORY_KIB": "1024"}
    return subprocess.run([PARLEY, *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture
def fresh_db(tmp_path: Path) -> str:
    """Each CLI test gets its own SQLite file: `init --demo` creates the demo only once."""
    return f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"


def demo(database_url: str, data_dir: Path) -> dict[str, Any]:
    out = run(database_url, data_dir, "init", "--demo", "--json")
    assert out.returncode == 0, out.stderr
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def test_init_demo_prints_the_promised_shape_and_is_idempotent(fresh_db: str,
                                                               tmp_path: Path) -> None:
    first = demo(fresh_db, tmp_path)
    assert first["demoCreated"] is True
    assert set(first["users"]["admin"]) >= {"id", "email", "password"}
    assert len(first["users"]["agents"]) == 2
    assert first["queue"]["name"] == "Support"
    assert first["smsNumber"]["phoneNumber"].startswith("+1")
    assert first["clients"]["script"]["clientSecret"]
    assert first["clients"]["browser"]["redirectUris"]

    second = demo(fresh_db, tmp_path)
    assert second["demoCreated"] is False
    for key in ("users", "queue", "smsNumber", "clients", "organization"):
        assert second[key] == first[key], key  # same ids and still-valid credentials


def test_demo_credentials_are_reset_when_the_saved_file_is_gone(fresh_db: str,
                                                                tmp_path: Path) -> None:
    first = demo(fresh_db, tmp_path)
    (tmp_path / "demo-credentials.json").unlink()
    second = demo(fresh_db, tmp_path)
    assert second["users"]["admin"]["id"] == first["users"]["admin"]["id"]
    assert second["users"]["admin"]["password"] != first["users"]["admin"]["password"]
    third = demo(fresh_db, tmp_path)
    assert third["users"]["admin"]["password"] == second["users"]["admin"]["password"]


def test_init_migrates_both_backends(database_url: str, tmp_path: Path) -> None:
    out = run(database_url, tmp_path, "init", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["database"]["schema"]


def test_orgs_users_and_clients_commands(fresh_db: str, tmp_path: Path) -> None:
    made = run(fresh_db, tmp_path, "orgs", "create", "Acme", "--admin-email", "boss@acme.test",
               "--json")
    assert made.returncode == 0, made.stderr
    org = json.loads(made.stdout)
    assert org["adminPassword"] and org["clientSecret"]

    user = run(fresh_db, tmp_path, "users", "add", "--org", org["organizationId"], "--email",
               "sam@acme.test", "--name", "Sam", "--role", "supervisor", "--json")
    assert user.returncode == 0, user.stderr
    assert json.loads(user.stdout)["role"] == "supervisor"

    client = run(fresh_db, tmp_path, "clients", "add", "--org", org["organizationId"],
                 "--name", "Web", "--grant", "implicit", "--grant", "authorization_code",
                 "--redirect-uri", "https://app.acme.test/cb", "--json")
    assert client.returncode == 0, client.stderr
    body = json.loads(client.stdout)
    assert body["clientSecret"] is None  # a public browser client proves itself with PKCE
    assert body["redirectUris"] == ["https://app.acme.test/cb"]


@pytest.mark.parametrize(("args", "message"), [
    (("users", "add", "--org", "no-such-org", "--email", "a@b.test", "--name", "A"),
     "organisation no-such-org does not exist"),
    (("orgs", "create", "Acme", "--admin-email", "not-an-email"),
     "email 'not-an-email' is not a valid email address"),
    (("clients", "add", "--org", "x", "--name", "Web", "--grant", "implicit",
      "--redirect-uri", "http://evil.example/cb"), "must use https"),
], ids=["unknown-org", "bad-email", "plain-http-redirect"])
def test_bad_input_is_a_clear_error_not_a_traceback(fresh_db: str, tmp_path: Path,
                                                    args: tuple[str, ...], message: str) -> None:
    out = run(fresh_db, tmp_path, *args)
    assert out.returncode == 1
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_unreachable_database_says_what_to_do(tmp_path: Path) -> None:
    out = run("postgresql+asyncpg://postgres@127.0.0.1:1/none", tmp_path, "init")
    assert out.returncode == 1
    assert "PARLEY_DATABASE_URL" in out.stderr


def test_carriers_add_set_list_remove(fresh_db: str, tmp_path: Path) -> None:
    org = demo(fresh_db, tmp_path)["organization"]["id"]
    out = run(fresh_db, tmp_path, "carriers", "add", "smpp", "--org", org, "--name", "Agg",
              "--set", "host=smsc.example.com", "--set", "port=2776",
              "--set", "systemId=acme", "--set", 'numberRates={"local": 2}',
              "--secret", "password=pw", "--number", "+13125550177:tollfree", "--json")
    assert out.returncode == 0, out.stderr
    added = json.loads(out.stdout)
    assert (added["settings"]["host"], added["settings"]["port"]) == ("smsc.example.com", 2776)
    assert added["settings"]["numberRates"]["local"] == 2.0
    assert added["secretsSet"] == ["password"] and "pw" not in out.stdout
    assert added["numbers"] == ["+13125550177"]

    out = run(fresh_db, tmp_path, "carriers", "set", added["id"], "--org", org,
              "--set", "window=64", "--disable", "--json")
    assert out.returncode == 0, out.stderr
    changed = json.loads(out.stdout)
    assert (changed["settings"]["window"], changed["enabled"]) == (64, False)
    assert changed["settings"]["host"] == "smsc.example.com"

    listed = json.loads(run(fresh_db, tmp_path, "carriers", "list", "--org", org,
                            "--json").stdout)
    assert list(listed) == ["Agg"]

    out = run(fresh_db, tmp_path, "carriers", "remove", added["id"], "--org", org)
    assert out.returncode == 0, out.stderr
    assert json.loads(run(fresh_db, tmp_path, "carriers", "list", "--org", org,
                          "--json").stdout) == {}


@pytest.mark.parametrize(("args", "says"), [
    pytest.param(["--set", "port=99999"], ["settings.port", "settings.host",
                                            "secrets.password"], id="every-problem"),
    pytest.param(["--set", "nonsense"], ["is not KEY=VALUE"], id="not-a-pair"),
])
def test_carriers_add_refuses_bad_settings(fresh_db: str, tmp_path: Path, args: list[str],
                                           says: list[str]) -> None:
    org = demo(fresh_db, tmp_path)["organization"]["id"]
    out = run(fresh_db, tmp_path, "carriers", "add", "smpp", "--org", org, "--name", "Bad",
              *args)
    assert out.returncode != 0
    for phrase in says:
        assert phrase in out.stderr, out.stderr
