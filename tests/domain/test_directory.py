"""OAuth clients: which redirect URIs and browser origins they accept."""

from __future__ import annotations

import pytest

from parley.domain.access import Role
from parley.domain.directory import GrantType, OAuthClient
from parley.domain.errors import InvalidInput

REGISTERED = "https://app.example/oauth/callback"


def client(*, loopback: bool, redirect_uris: tuple[str, ...] = (REGISTERED,)) -> OAuthClient:
    return OAuthClient(id="client-1", org_id="org-1", name="Desk",
                       grant_types=frozenset({GrantType.IMPLICIT}), role=Role.AGENT,
                       redirect_uris=list(redirect_uris), allow_loopback_redirects=loopback)


ACCEPTED_WITH_LOOPBACK = [
    pytest.param(REGISTERED, id="registered-exact"),
    pytest.param("http://127.0.0.1:53123/callback", id="ipv4-loopback-any-port-path"),
    pytest.param("http://127.0.0.1/", id="ipv4-loopback-no-port"),
    pytest.param("http://localhost:8080/", id="localhost-any-port"),
    pytest.param("http://localhost:3000/deep/path?x=1", id="localhost-path-and-query"),
    pytest.param("http://[::1]:9000/cb", id="ipv6-loopback"),
]

REFUSED_ALWAYS = [
    pytest.param("https://evil.example/oauth/callback", id="other-host"),
    pytest.param(REGISTERED + "/", id="registered-plus-trailing-slash"),
    pytest.param(REGISTERED + "?next=https://evil.example", id="registered-plus-query"),
    pytest.param("http://app.example/oauth/callback", id="registered-but-http"),
    pytest.param("http://127.0.0.1.evil.example/cb", id="loopback-prefix-of-other-host"),
    pytest.param("http://localhost.evil.example/cb", id="localhost-prefix-of-other-host"),
    pytest.param("http://127.0.0.1@evil.example/cb", id="loopback-as-userinfo"),
    pytest.param("http://evil.example\\@127.0.0.1/cb", id="backslash-host-confusion"),
    pytest.param("http://evil.example#@127.0.0.1/cb", id="fragment-host-confusion"),
    pytest.param("https://127.0.0.1:8443/cb", id="loopback-https-not-http"),
    pytest.param("javascript://127.0.0.1/%0aalert(1)", id="javascript-scheme"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("uri", ACCEPTED_WITH_LOOPBACK)
def test_redirect_accepted_with_loopback_rule(uri: str) -> None:
    assert client(loopback=True).check_redirect_uri(uri) == uri


@pytest.mark.parametrize("uri", [
    pytest.param("http://127.0.0.1:53123/callback", id="ipv4-loopback"),
    pytest.param("http://localhost:8080/", id="localhost"),
    pytest.param("http://[::1]:9000/cb", id="ipv6-loopback"),
])
def test_loopback_refused_without_the_loopback_rule(uri: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        client(loopback=False).check_redirect_uri(uri)
    assert caught.value.field == "redirect_uri"
    assert caught.value.message == (
        f"redirect_uri '{uri}' is not registered for OAuth client 'Desk'")


def test_registered_loopback_uri_accepted_without_the_loopback_rule() -> None:
    uri = "http://127.0.0.1:9/cb"
    c = client(loopback=False, redirect_uris=(uri,))
    assert c.check_redirect_uri(uri) == uri
    with pytest.raises(InvalidInput):
        c.check_redirect_uri("http://127.0.0.1:10/cb")


@pytest.mark.parametrize("loopback", [pytest.param(True, id="loopback-rule"),
                                      pytest.param(False, id="no-loopback-rule")])
@pytest.mark.parametrize("uri", REFUSED_ALWAYS)
def test_redirect_refused(uri: str, loopback: bool) -> None:
    with pytest.raises(InvalidInput) as caught:
        client(loopback=loopback).check_redirect_uri(uri)
    assert caught.value.field == "redirect_uri"


@pytest.mark.parametrize(("loopback", "origin", "allowed"), [
    pytest.param(False, "https://app.example", True, id="registered-origin"),
    pytest.param(False, "https://app.example:443", False, id="registered-origin-explicit-port"),
    pytest.param(False, "http://app.example", False, id="registered-host-other-scheme"),
    pytest.param(False, "https://app.example.evil.example", False, id="registered-as-prefix"),
    pytest.param(False, "https://evil.example", False, id="other-origin"),
    pytest.param(False, "http://127.0.0.1:5173", False, id="loopback-without-rule"),
    pytest.param(True, "http://127.0.0.1:5173", True, id="loopback-with-rule"),
    pytest.param(True, "http://localhost:3000", True, id="localhost-with-rule"),
    pytest.param(True, "http://localhost.evil.example", False, id="localhost-prefix-with-rule"),
    pytest.param(True, "https://evil.example", False, id="other-origin-with-rule"),
    pytest.param(True, "null", False, id="opaque-origin"),
])
def test_allows_origin(loopback: bool, origin: str, allowed: bool) -> None:
    assert client(loopback=loopback).allows_origin(origin) is allowed


@pytest.mark.parametrize(("grant", "name"), [
    pytest.param(GrantType.CLIENT_CREDENTIALS, "CLIENT-CREDENTIALS", id="client-credentials"),
    pytest.param(GrantType.AUTHORIZATION_CODE, "CODE", id="authorization-code"),
    pytest.param(GrantType.IMPLICIT, "TOKEN", id="implicit"),
])
def test_grant_type_genesys_names(grant: GrantType, name: str) -> None:
    assert grant.genesys_name == name
