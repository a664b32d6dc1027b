"""Charter as an OAuth 2.0 authorization server, checked with clients from PyPI and none of Charter's code: authlib's
OAuth 2 client gets tokens from `POST /oauth2/token` by both client authentication methods, PyJWT verifies them with
the published JWKS, and every RFC 6749 §5.2 error is answered as the RFC says, without the secret."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from authlib.integrations.base_client import OAuthError

from charter_sdk import SigningKey, Token
from conftest import Server, Tenant, make_tenant

MCP_URL = "https://mail.example.com/mcp"
BOTH = {"mailto:*": {"email/send": [{}], "email/read": [{}]}}
FORM = {"content-type": "application/x-www-form-urlencoded"}


class Service:
    """A service registered on a tenant's envelope: its URL, its key, and the tenant whose agents call it."""

    def __init__(self, server: Server, audiences: int = 1) -> None:
        self.key = SigningKey.generate()
        extra = {f"https://other{index}.example.com/": SigningKey.generate().did for index in range(audiences - 1)}
        self.tenant = make_tenant(server, capabilities=BOTH, audiences={MCP_URL: self.key.did} | extra)
        self.server = server

    @property
    def basic(self) -> tuple[str, str]:
        return self.tenant.key_id, self.tenant.key

    def token_request(self, form: Any = None, auth: Any = None, **options: Any) -> httpx.Response:
        return self.server.http.post("/oauth2/token", data=form, auth=auth, **options)


@pytest.fixture
def registered(server: Server) -> Service:
    return Service(server)


def metadata(server: Server) -> dict[str, Any]:
    answer = server.http.get("/.well-known/oauth-authorization-server")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    document: dict[str, Any] = answer.json()
    return document


def test_charter_publishes_rfc_8414_metadata(server: Server) -> None:
    document = metadata(server)
    assert document["issuer"] == server.url
    assert document["token_endpoint"] == server.url + "/oauth2/token"
    assert document["jwks_uri"] == server.url + "/.well-known/jwks.json"
    assert document["grant_types_supported"] == ["client_credentials"]
    assert document["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]
    assert document["response_types_supported"] == []


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_authlib_gets_a_token_with_either_client_authentication(registered: Service, method: str) -> None:
    tenant = registered.tenant
    sent: list[Any] = []
    endpoint = metadata(registered.server)["token_endpoint"]
    with OAuth2Client(tenant.key_id, tenant.key, token_endpoint_auth_method=method, scope="email/send",
                      event_hooks={"request": [sent.append]}) as oauth:
        token = oauth.fetch_token(endpoint, grant_type="client_credentials", resource=MCP_URL)
    # authlib authenticated as asked: the secret in the Basic header, or in the form and nowhere else.
    form = parse_qs(sent[-1].content.decode())
    if method == "client_secret_basic":
        expected = base64.b64encode(f"{tenant.key_id}:{tenant.key}".encode()).decode()
        assert sent[-1].headers["authorization"] == f"Basic {expected}"
        assert "client_secret" not in form
    else:
        assert "authorization" not in sent[-1].headers
        assert (form["client_id"], form["client_secret"]) == ([tenant.key_id], [tenant.key])
    assert (form["grant_type"], form["scope"], form["resource"]) == (["client_credentials"], ["email/send"],
                                                                       [MCP_URL])
    assert (token["token_type"], token["scope"]) == ("Bearer", "email/send")
    assert 590 <= token["expires_in"] <= 600  # the envelope's lifetime
    issued = Token.parse(token["access_token"])
    assert issued.audience == registered.key.did  # the URL's registered DID
    assert issued.capability_map == {"mailto:*": {"email/send": [{}]}}  # narrowed to the scope asked
    assert (issued.fact("key"), issued.fact("app"), issued.fact("envelope")) == (
        tenant.key_id, tenant.app, tenant.envelope)
    assert issued.expiration is not None and issued.expiration - int(token["expires_at"]) in (-1, 0, 1)


def test_the_answer_is_not_cached_and_without_scope_carries_the_whole_envelope(registered: Service) -> None:
    answer = registered.token_request({"grant_type": "client_credentials"}, registered.basic)
    assert answer.status_code == 200, answer.text
    assert (answer.headers["cache-control"], answer.headers["pragma"]) == ("no-store", "no-cache")
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["scope"].split() == ["email/read", "email/send"]
    token = Token.parse(body["access_token"])
    assert token.audience == registered.key.did  # the envelope's only audience
    assert token.capability_map == BOTH
    # A did:key as the resource is the audience itself; several abilities, any case, are each granted.
    other = SigningKey.generate().did
    answer = registered.token_request({"grant_type": "client_credentials", "scope": "email/send EMAIL/READ",
                                       "resource": other}, registered.basic)
    assert answer.status_code == 200, answer.text
    assert Token.parse(answer.json()["access_token"]).audience == other
    assert sorted(answer.json()["scope"].split()) == ["email/read", "email/send"]


def test_pyjwt_verifies_the_access_token_with_the_jwks(registered: Service) -> None:
    with OAuth2Client(registered.tenant.key_id, registered.tenant.key) as oauth:
        access_token = oauth.fetch_token(registered.server.url + "/oauth2/token", grant_type="client_credentials",
                                         resource=MCP_URL)["access_token"]
    jwks = registered.server.http.get(metadata(registered.server)["jwks_uri"]).json()
    keys = jwt.PyJWKSet.from_dict(jwks)
    header = jwt.get_unverified_header(access_token)
    assert header["alg"] == "EdDSA" and "kid" not in header  # a UCAN 0.10 header names no key
    issuer = jwt.decode(access_token, options={"verify_signature": False})["iss"]
    key = next(key for key in keys.keys if key.key_id == issuer)
    listed = next(entry for entry in jwks["keys"] if entry["kid"] == issuer)
    assert (listed["kty"], listed["crv"], listed["alg"], listed["use"], listed["did"]) == (
        "OKP", "Ed25519", "EdDSA", "sig", issuer)
    assert (listed["org"], listed["environment"]) == (registered.tenant.org, "live")
    claims = jwt.decode(access_token, key=key, algorithms=["EdDSA"], audience=registered.key.did)
    assert (claims["iss"], claims["aud"], claims["ucv"]) == (issuer, registered.key.did, "0.10.0")
    assert claims["fct"]["key"] == registered.tenant.key_id
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(access_token, key=key, algorithms=["EdDSA"], audience=SigningKey.generate().did)
    head, payload, signature = access_token.split(".")
    forged = jwt.api_jws.base64url_decode(payload).replace(b"email/read", b"email/xxxx")
    tampered = ".".join((head, jwt.api_jws.base64url_encode(forged).decode(), signature))
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tampered, key=key, algorithms=["EdDSA"], audience=registered.key.did)
    other_key = next((key for key in keys.keys if key.key_id != issuer), None)
    if other_key is not None:  # another organization's or environment's issuer does not verify it
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(access_token, key=other_key, algorithms=["EdDSA"], audience=registered.key.did)


def eventually(probe: Callable[[], list[Any]], timeout: float = 20) -> list[Any]:
    """What `probe` finds once it finds anything, for what the server writes in the background (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def refused(answer: httpx.Response, status: int, error: str, secret: str) -> str:
    assert answer.status_code == status, (answer.status_code, answer.text)
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert set(body) == {"error", "error_description"} and body["error"] == error, body
    assert secret not in answer.text
    if status == 401:
        assert answer.headers["www-authenticate"] == 'Basic realm="charter"'
    else:
        assert "www-authenticate" not in answer.headers
    description: str = body["error_description"]
    return description


def test_every_rfc_6749_error(registered: Service, server: Server) -> None:
    tenant, did = registered.tenant, registered.key.did
    key, key_id = tenant.key, tenant.key_id
    grant = {"grant_type": "client_credentials"}
    post = registered.token_request

    def raw(body: str, auth: Any = registered.basic, **headers: str) -> httpx.Response:
        return server.http.post("/oauth2/token", content=body, auth=auth, headers=FORM | headers)

    # invalid_request: the form itself.
    refused(post(json=grant, auth=registered.basic), 400, "invalid_request", key)
    refused(raw(""), 400, "invalid_request", key)
    refused(post({"scope": "email/send"}, registered.basic), 400, "invalid_request", key)
    refused(raw("grant_type=client_credentials&grant_type=client_credentials"), 400, "invalid_request", key)
    refused(post(grant | {"client_id": key_id, "client_secret": key}, registered.basic), 400, "invalid_request",
            key)
    # invalid_client (401, with a Basic challenge): no, bad or foreign credentials.
    refused(post(grant), 401, "invalid_client", key)
    refused(post(grant | {"client_id": key_id}), 401, "invalid_client", key)
    refused(post(grant, ("key_aaaaaaaaaaaaaaaaaaaa", key)), 401, "invalid_client", key)
    refused(post(grant, (key_id, key[:-1] + ("A" if key[-1] != "A" else "B"))), 401, "invalid_client", key)
    refused(post(grant | {"client_id": key_id, "client_secret": key + "x"}), 401, "invalid_client", key)
    refused(post(grant, headers={"Authorization": "Basic !!!"}), 401, "invalid_client", key)
    refused(post(grant, headers={"Authorization": f"Bearer {key}"}), 401, "invalid_client", key)
    fenced = server.ok("POST", "/v1/keys", {"app_id": tenant.app, "label": "fenced", "role": "agent",
                                            "ip_allowlist": ["10.0.0.0/8"]})
    refused(post(grant, (fenced["api_key"]["id"], fenced["key"])), 401, "invalid_client", fenced["key"])
    # unauthorized_client: a key that may not mint, by role or by its allowed endpoints.
    auditor = server.ok("POST", "/v1/keys", {"app_id": tenant.app, "label": "auditor", "role": "auditor"})
    refused(post(grant, (auditor["api_key"]["id"], auditor["key"])), 400, "unauthorized_client", auditor["key"])
    elsewhere = server.ok("POST", "/v1/keys", {"app_id": tenant.app, "label": "elsewhere", "role": "agent",
                                               "allowed_endpoints": ["/v1/authorize"]})
    refused(post(grant, (elsewhere["api_key"]["id"], elsewhere["key"])), 400, "unauthorized_client",
            elsewhere["key"])
    # unsupported_grant_type.
    for other in ("password", "authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:jwt-bearer"):
        refused(post({"grant_type": other}, registered.basic), 400, "unsupported_grant_type", key)
    # invalid_scope: an ability the envelope does not grant, or no ability at all.
    for scope in ("email/delete", "email/*", "ucan/*", "send", "email/send  email/read"):
        refused(post(grant | {"scope": scope}, registered.basic), 400, "invalid_scope", key)
    # invalid_target (RFC 8707): unknown or malformed resources, two of them.
    for resource in ("https://unknown.example.com/mcp", MCP_URL + "#x", "mcp", "did:key:zzz"):
        refused(post(grant | {"resource": resource}, registered.basic), 400, "invalid_target", key)
    refused(raw(f"grant_type=client_credentials&resource={did}&resource={did}"), 400, "invalid_target", key)
    # temporarily_unavailable: over the key's rate limit, with Retry-After.
    limited = server.ok("POST", "/v1/keys", {"app_id": tenant.app, "label": "limited", "role": "agent",
                                             "rate_limit_per_minute": 1})
    assert post(grant, (limited["api_key"]["id"], limited["key"])).status_code == 200
    answer = post(grant, (limited["api_key"]["id"], limited["key"]))
    refused(answer, 429, "temporarily_unavailable", limited["key"])
    assert 0 < int(answer.headers["retry-after"]) <= 60
    # The secrets never reached the server's log either.
    log = "".join(server.lines)
    for secret in (key, fenced["key"], auditor["key"], elsewhere["key"], limited["key"]):
        assert secret not in log


def test_without_a_resource_an_envelope_of_several_services_asks_which(server: Server) -> None:
    several = Service(server, audiences=2)
    refused(several.token_request({"grant_type": "client_credentials"}, several.basic), 400, "invalid_target",
            several.tenant.key)
    answer = several.token_request({"grant_type": "client_credentials", "resource": MCP_URL}, several.basic)
    assert Token.parse(answer.json()["access_token"]).audience == several.key.did


def test_authlib_sees_a_revoked_key_refused_as_invalid_client(registered: Service) -> None:
    tenant = registered.tenant
    registered.server.ok("POST", f"/v1/keys/{tenant.key_id}/revoke")
    with OAuth2Client(tenant.key_id, tenant.key, token_endpoint_auth_method="client_secret_post") as oauth:
        with pytest.raises(OAuthError) as refusal:
            oauth.fetch_token(registered.server.url + "/oauth2/token", grant_type="client_credentials",
                              resource=MCP_URL)
    assert refusal.value.error == "invalid_client"
    assert tenant.key not in str(refusal.value.description)
    # Audited under the key, as every refusal of a known key is (written in batches: wait for the record).
    denied = eventually(lambda: [record for record in registered.server.ok(
        "GET", "/v1/audit?action=request.denied&limit=500")["records"] if record["key_id"] == tenant.key_id])
    assert [(record["outcome"], record["reason"], record["details"]["path"]) for record in denied] == [
        ("denied", "api_key_revoked", "/oauth2/token")]
    assert tenant.key not in str(denied)


def test_the_audit_names_the_key_and_the_grant(registered: Service) -> None:
    tenant = registered.tenant
    answer = registered.token_request({"grant_type": "client_credentials", "scope": "email/send",
                                       "resource": MCP_URL}, registered.basic)
    assert answer.status_code == 200, answer.text
    token = Token.parse(answer.json()["access_token"])
    status, page = registered.server.call("GET", "/v1/audit", params={"action": "token.mint", "limit": 500})
    assert status == 200, page
    mine = [record for record in page["records"] if record["key_id"] == tenant.key_id]
    minted = [record for record in mine if record["outcome"] == "success"]
    assert len(minted) == 1, mine
    details = minted[0]["details"]
    assert (details["grant_type"], details["scope"], details["resource"], details["audience"]) == (
        "client_credentials", "email/send", MCP_URL, registered.key.did)
    assert (details["envelope_id"], minted[0]["target"]) == (tenant.envelope, str(token.cid))
    assert tenant.key not in str(page)
