"""The hosts a data action may call: public addresses, and what the deployment allows.

Flow validation refuses a host written as a loopback, link-local, private or other non-public
address in every spelling a resolver reads; the HTTP adapter's check after resolving is in
tests/integrations/test_http_data.py.
"""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from parley.domain.flows import DataHostRules, FlowValidationError, parse_flow
from parley.domain.flows.data_hosts import literal_address

STRICT = DataHostRules()


def flow(url: str) -> str:
    return f"""\
name: Lookup
type: inboundshortmessage
fallbackQueue: Support
start: lookup
actions:
  lookup:
    callData: {{url: "{url}", failure: done}}
    next: done
  done:
    transferToAcd: {{queue: Support}}
"""


def refusal(url: str, rules: DataHostRules = STRICT) -> str | None:
    try:
        parse_flow(flow(url), data_hosts=rules)
    except FlowValidationError as e:
        [problem] = e.problems
        assert problem.path == "actions.lookup.callData.url"
        assert problem.line == 7
        return problem.message
    return None


@pytest.mark.parametrize(("url", "kind"), [
    ("http://127.0.0.1/admin", "127.0.0.1 is a loopback address"),
    ("http://127.0.0.1:8080/?x={{ message.sender }}", "127.0.0.1 is a loopback address"),
    ("http://[::1]:8080/", "::1 is a loopback address"),
    ("http://0.0.0.0/", "0.0.0.0 is the unspecified address"),
    ("http://[::]/", ":: is the unspecified address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ("http://[fe80::1]/", "fe80::1 is a link-local address"),
    ("https://10.1.2.3/", "10.1.2.3 is a private address"),
    ("https://192.168.0.10/", "192.168.0.10 is a private address"),
    ("https://172.16.5.4/", "172.16.5.4 is a private address"),
    ("https://[fd00::5]/", "fd00::5 is a private address"),
    ("http://224.0.0.1/", "224.0.0.1 is a multicast address"),
    ("http://100.64.0.1/", "100.64.0.1 is not a public address"),
    # integer, hex, octal and short spellings: what inet_aton and so getaddrinfo accept
    ("http://2130706433/", "'2130706433' means 127.0.0.1, a loopback address"),
    ("http://0x7f.1/", "'0x7f.1' means 127.0.0.1, a loopback address"),
    ("http://0x7f000001/", "'0x7f000001' means 127.0.0.1, a loopback address"),
    ("http://0177.0.0.1/", "'0177.0.0.1' means 127.0.0.1, a loopback address"),
    ("http://127.1/", "'127.1' means 127.0.0.1, a loopback address"),
    ("http://0/", "'0' means 0.0.0.0, the unspecified address"),
    ("http://169.254.43518/", "'169.254.43518' means 169.254.169.254, a link-local address"),
    ("http://127.0.0.1./", "'127.0.0.1.' means 127.0.0.1, a loopback address"),
    # IPv6 carrying IPv4
    ("http://[::ffff:127.0.0.1]/", "'::ffff:127.0.0.1' means 127.0.0.1, a loopback address"),
    ("http://[::ffff:a00:1]/", "'::ffff:a00:1' means 10.0.0.1, a private address"),
    ("http://[2002:7f00:1::]/", "'2002:7f00:1::' means 127.0.0.1, a loopback address"),
    # user info does not hide the host
    ("http://crm.example.com@127.0.0.1/", "127.0.0.1 is a loopback address"),
])
def test_a_non_public_address_is_refused_naming_the_rule(url: str, kind: str) -> None:
    message = refusal(url)
    assert message is not None, f"{url} was accepted"
    assert message.startswith(kind + ";")
    assert "PARLEY_DATA_ACTION_ALLOW" in message


@pytest.mark.parametrize("url", [
    "https://crm.example.com/customers?phone={{ message.sender }}",
    "https://crm.example.com",
    "http://8.8.8.8/lookup",
    "https://[2001:4860:4860::8888]/",
    "https://localhost.example.com/",  # a name: checked when it is resolved
    "https://user:pw@crm.example.com:8443/x",
])
def test_public_addresses_and_names_are_accepted(url: str) -> None:
    assert refusal(url) is None


@pytest.mark.parametrize("url", [
    "https://{{ participant.host }}/x",
    "https://crm.{{ participant.zone }}/x",
    "https://crm.example.com{{ participant.rest }}",
    "https://crm.example.com:{{ participant.port }}/",
])
def test_the_host_must_be_written_out(url: str) -> None:
    assert refusal(url) == ("the host must be written out (https://host/...), not come from "
                            "an expression")


def test_the_allow_list_admits_names_networks_and_addresses() -> None:
    rules = DataHostRules.parse(" crm.internal, *.corp.example,10.1.0.0/16 ,127.0.0.1,[::1]")
    assert refusal("http://127.0.0.1:9/", rules) is None
    assert refusal("http://2130706433:9/", rules) is None  # the same address, spelled so
    assert refusal("http://[::ffff:127.0.0.1]/", rules) is None
    assert refusal("http://[::1]/", rules) is None
    assert refusal("http://10.1.200.3/", rules) is None
    assert refusal("http://10.2.0.1/", rules) == (
        "10.2.0.1 is a private address; a data action may only call public addresses, unless "
        "the deployment allows the host in PARLEY_DATA_ACTION_ALLOW")
    assert refusal("http://127.0.0.2/", rules) is not None
    assert rules.allows_name("CRM.internal") and rules.allows_name("a.b.corp.example")
    assert not rules.allows_name("corp.example") and not rules.allows_name("crm.internal.evil")


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "crm internal", "*.", "http://x/", "1.2.3"])
def test_an_unreadable_allow_list_entry_is_named(entry: str) -> None:
    with pytest.raises(ValueError, match=entry.replace(".", r"\.").replace("*", r"\*")):
        DataHostRules.parse(f"crm.internal, {entry}")


def test_without_rules_stored_versions_still_load() -> None:
    """A version stored before these rules (or under another allow-list) still parses; the
    adapter refuses its calls when it connects."""
    assert parse_flow(flow("http://127.0.0.1/")).start == "lookup"


@pytest.mark.parametrize(("host", "address"), [
    ("127.0.0.1", "127.0.0.1"), ("2130706433", "127.0.0.1"), ("0x7F.0.0.1", "127.0.0.1"),
    ("0x7f.1", "127.0.0.1"), ("017700000001", "127.0.0.1"), ("10.1", "10.0.0.1"),
    ("192.168.257", "192.168.1.1"), ("[::1]", "::1"), ("0x", "0.0.0.0"),
])
def test_literal_addresses_are_read_as_inet_aton_reads_them(host: str, address: str) -> None:
    assert literal_address(host) == ip_address(address)


@pytest.mark.parametrize("host", ["crm.example.com", "1.2.3.4.5", "256.1.1.1", "08.1",
                                  "4294967296", "1.2.3.0x100", "0x7g.1", ""])
def test_names_are_not_addresses(host: str) -> None:
    assert literal_address(host) is None


def test_every_resolved_address_is_judged_like_a_written_one() -> None:
    assert STRICT.refusal(ip_address("8.8.8.8")) is None
    assert STRICT.refusal(ip_address("::ffff:808:808")) is None  # mapped public: public
    assert STRICT.refusal(ip_address("::ffff:a9fe:a9fe")) == (
        "::ffff:a9fe:a9fe carries 169.254.169.254, a link-local address")
    assert STRICT.refusal(ip_address("2001:db8::1")) is not None  # documentation range
