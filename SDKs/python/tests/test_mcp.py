"""CharterTokenVerifier: the `mcp` package's TokenVerifier for Charter tokens, directly and inside an MCP server's
streamable-HTTP app; CharterMCPAuth in front of it, refusing tool by tool with the MCP spec's challenges (stateless
JSON mode, through Starlette's TestClient: no network)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken, TokenVerifier
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from starlette.testclient import TestClient

from charter_sdk import Capability, Client, ProtectedResource, SigningKey, Token, Verifier
from charter_sdk.mcp import CharterMCPAuth, CharterTokenVerifier, UcansHeaderMiddleware, protected_resource
from conftest import MAIL, ManualClock, Tenant

URL = "http://127.0.0.1:8931"
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
               "MCP-Protocol-Version": "2025-06-18"}


def root_token_for(tenant: Tenant, audience: str, capabilities: Any = MAIL) -> Token:
    """A token Charter mints straight for the MCP server's DID (`/v1/authorize` with that audience)."""
    answer = tenant.server.ok("POST", "/v1/authorize", {"audience": audience, "capabilities": capabilities},
                              key=tenant.key)
    return Token.parse(answer["token"])


def verify(verifier: CharterTokenVerifier, token: str) -> AccessToken | None:
    return asyncio.run(verifier.verify_token(token))


def test_a_charter_token_for_the_server_becomes_an_access_token(tenant: Tenant, service: SigningKey) -> None:
    clock = ManualClock()
    verifier = Verifier(tenant.server.url, [service.did], [tenant.org], clock=clock.now)
    checker: TokenVerifier = CharterTokenVerifier(verifier)
    token = root_token_for(tenant, service.did)
    assert verify(CharterTokenVerifier(verifier), token.text) is None, "not synced: refused"
    verifier.sync()
    access = asyncio.run(checker.verify_token(token.text))
    assert access is not None
    assert (access.token, access.client_id, access.scopes, access.expires_at, access.subject) == (
        token.text, tenant.key_id, ["email/send"], token.expiration, None)
    assert access.claims == {"cid": str(token.cid), "cap": MAIL, "org": tenant.org, "env": "live",
                             "app": tenant.app, "envelope": tenant.envelope, "key": tenant.key_id}
    # Refused: garbage, another audience (the agent's own token), a capability not granted, revoked, stale.
    assert verify(CharterTokenVerifier(verifier), "x.y.z") is None
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
        assert verify(CharterTokenVerifier(verifier), agent.token(MAIL).text) is None
    reading = CharterTokenVerifier(verifier, requiring=Capability("mailto:*", "email/read"))
    assert verify(reading, token.text) is None
    sending = CharterTokenVerifier(verifier, requiring=Capability("mailto:ops@example.com", "email/send"),
                                   resource=URL + "/mcp")
    assert verify(sending, token.text).resource == URL + "/mcp"  # type: ignore[union-attr]
    tenant.revoke_token(str(token.cid))
    verifier.sync()
    assert verify(sending, token.text) is None
    fresh = root_token_for(tenant, service.did)
    assert verify(sending, fresh.text) is not None
    clock.advance(61)
    assert verify(sending, fresh.text) is None


def mcp_app(verifier: Verifier, **settings: Any) -> Any:
    server = MCPServer("mail", token_verifier=CharterTokenVerifier(verifier), auth=AuthSettings(
        issuer_url=verifier.server, resource_server_url=URL + "/mcp", validate_token_resource=False, **settings))

    @server.tool()
    def whoami() -> str:
        """Who the verified Charter token says is calling."""
        access = get_access_token()
        assert access is not None
        return json.dumps({"client_id": access.client_id, "scopes": access.scopes, "subject": access.subject})

    return UcansHeaderMiddleware(server.streamable_http_app(stateless_http=True, json_response=True))


def call_whoami(http: TestClient, headers: dict[str, str]) -> Any:
    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}}
    return http.post("/mcp", json=request, headers=MCP_HEADERS | headers)


def test_an_mcp_server_takes_charter_tokens(tenant: Tenant, service: SigningKey) -> None:
    verifier = Verifier(tenant.server.url, [service.did], [tenant.org])
    verifier.sync()
    token = root_token_for(tenant, service.did)
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
        # The agent delegates its own token to the MCP server, and sends its proof in `ucans`.
        root = agent.token(MAIL)
        child = agent.delegate(service.did, capabilities={"mailto:ops@example.com": {"email/send": [{}]}}, ttl=60,
                               proof=root)
    with TestClient(mcp_app(verifier, required_scopes=["email/send"]), base_url=URL) as http:
        answer = call_whoami(http, {"Authorization": f"Bearer {token.text}"})
        assert answer.status_code == 200, answer.text
        assert json.loads(answer.json()["result"]["content"][0]["text"]) == {
            "client_id": tenant.key_id, "scopes": ["email/send"], "subject": None}
        delegated = call_whoami(http, {"Authorization": f"Bearer {child.text}", "ucans": root.text})
        assert json.loads(delegated.json()["result"]["content"][0]["text"]) == {
            "client_id": tenant.key_id, "scopes": ["email/send"], "subject": agent.did}
        for headers in ({}, {"Authorization": "Bearer x.y.z"}, {"Authorization": f"Bearer {child.text}"},
                        {"Authorization": f"Bearer {root.text}"}):
            refused = call_whoami(http, headers)
            assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer "), headers
    with TestClient(mcp_app(verifier, required_scopes=["email/read"]), base_url=URL) as http:
        assert call_whoami(http, {"Authorization": f"Bearer {token.text}"}).status_code == 403


METADATA = URL + "/.well-known/oauth-protected-resource/mcp"
NEEDS_READ = f'Bearer error="insufficient_scope", scope="email/read", resource_metadata="{METADATA}"'
INVALID = f'Bearer error="invalid_token", resource_metadata="{METADATA}"'
GUARDED_TOOLS: dict[str, Capability | None] = {
    "whoami": None, "send_email": Capability("mailto:*", "email/send"), "read_inbox": Capability("mailto:*", "email/read")}


def guarded_app(verifier: Verifier, *, checker: CharterTokenVerifier | None = None, max_body_size: int = 1 << 20,
                **settings: Any) -> Any:
    """An MCP server behind CharterMCPAuth: whoami needs any token, send_email email/send, read_inbox email/read;
    `unlisted` is a tool CharterMCPAuth was not told of."""
    server = MCPServer("mail", token_verifier=checker or CharterTokenVerifier(verifier),
                       auth=AuthSettings.model_validate({"issuer_url": verifier.server, "resource_server_url":
                                                         URL + "/mcp", "validate_token_resource": False} | settings))

    @server.tool()
    def whoami() -> str:
        access = get_access_token()
        assert access is not None
        return json.dumps({"client_id": access.client_id, "scopes": access.scopes})

    @server.tool()
    def send_email(to: str) -> str:
        return f"sent to {to}"

    @server.tool()
    def read_inbox() -> str:
        return "empty"

    @server.tool()
    def unlisted() -> str:
        return "reached"

    assert server.settings.auth is not None
    return CharterMCPAuth(server.streamable_http_app(stateless_http=True, json_response=True), verifier,
                          protected_resource(server.settings.auth), tools=GUARDED_TOOLS, max_body_size=max_body_size)


def call(http: TestClient, tool: str, token: str | None = None, arguments: Any = None, **headers: str) -> Any:
    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": arguments or {}}}
    bearer = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return http.post("/mcp", json=request, headers=MCP_HEADERS | bearer | headers)


def challenged(answer: Any, status: int, code: str, challenge: str | None) -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code
    assert answer.headers.get("www-authenticate") == challenge


def test_charter_mcp_auth_refuses_as_the_mcp_authorization_spec_says(tenant: Tenant, service: SigningKey) -> None:
    clock = ManualClock()
    verifier = Verifier(tenant.server.url, [service.did], [tenant.org], clock=clock.now, max_feed_age=3600)
    token = root_token_for(tenant, service.did).text
    with TestClient(guarded_app(verifier), base_url=URL) as http:
        # The mcp package serves the metadata that names Charter, open to all.
        metadata = http.get("/.well-known/oauth-protected-resource/mcp")
        assert metadata.status_code == 200 and metadata.json() == {
            "resource": URL + "/mcp", "authorization_servers": [tenant.server.url],
            "bearer_methods_supported": ["header"]}
        challenged(call(http, "whoami", token), 503, "not_synced", None)  # fail closed, and not the token's fault
        verifier.sync()
        # No token: the bare challenge that sends an MCP client to the metadata, on every method.
        for answer in (call(http, "whoami"), http.get("/mcp", headers={"Accept": "text/event-stream"}),
                       http.delete("/mcp")):
            challenged(answer, 401, "malformed", f'Bearer resource_metadata="{METADATA}"')
        challenged(call(http, "whoami", "x.y.z"), 401, "malformed", INVALID)
        with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
            challenged(call(http, "whoami", agent.token(MAIL).text), 401, "wrong_audience", INVALID)
        answer = call(http, "whoami", token)
        assert answer.status_code == 200, answer.text
        assert json.loads(answer.json()["result"]["content"][0]["text"]) == {
            "client_id": tenant.key_id, "scopes": ["email/send"]}
        assert call(http, "send_email", token, {"to": "ada@example.com"}).json()["result"]["content"][0][
            "text"] == "sent to ada@example.com"
        listed = http.post("/mcp", json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
                           headers=MCP_HEADERS | {"Authorization": f"Bearer {token}"})
        assert {tool["name"] for tool in listed.json()["result"]["tools"]} == set(GUARDED_TOOLS) | {"unlisted"}
        # A tool the token does not cover: 403 with the scope to ask Charter for (the step-up).
        refused = call(http, "read_inbox", token)
        challenged(refused, 403, "not_covered", NEEDS_READ)
        assert refused.json()["error"]["message"] == "the token does not grant email/read on mailto:*"
        challenged(call(http, "unlisted", token), 403, "not_covered", None)  # fail closed: no scope would do
        batch = [{"jsonrpc": "2.0", "id": index, "method": "tools/call", "params": {"name": name, "arguments": {}}}
                 for index, name in enumerate(("whoami", "read_inbox"))]
        challenged(http.post("/mcp", json=batch, headers=MCP_HEADERS | {"Authorization": f"Bearer {token}"}), 403,
                   "not_covered", NEEDS_READ)
        # What cannot be read as the MCP server would read it is not let through.
        bearer = MCP_HEADERS | {"Authorization": f"Bearer {token}"}
        twice = b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","name":"read_inbox"}}'
        for body in (b"{", twice, b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":7}}',
                     '{"method":"tools/call"}'.encode("utf-16")):
            answer = http.post("/mcp", content=body, headers=bearer)
            assert (answer.status_code, answer.json()["error"]["code"]) == (400, -32700), body
        # Revoked, then expired (by the verifier's clock): the token itself is refused.
        tenant.revoke_token(str(Token.parse(token).cid))
        verifier.sync()
        challenged(call(http, "whoami", token), 401, "revoked", INVALID)
        fresh = root_token_for(tenant, service.did)
        assert call(http, "whoami", fresh.text).status_code == 200
        assert fresh.expiration is not None
        clock.advance(fresh.expiration - clock.now() + verifier.leeway + 1)
        verifier.sync()
        challenged(call(http, "whoami", fresh.text), 401, "expired", INVALID)
    # The token is checked before the body is read: a refused one costs no read or parse of a large body.
    with TestClient(guarded_app(verifier, max_body_size=64), base_url=URL) as http:
        challenged(call(http, "send_email", token, {"to": "x" * 100}), 401, "expired", INVALID)
    # A good token's oversized body is refused as such.
    live = Verifier(tenant.server.url, [service.did], [tenant.org])
    live.sync()
    with TestClient(guarded_app(live, max_body_size=64), base_url=URL) as http:
        good = root_token_for(tenant, service.did).text
        assert call(http, "send_email", good, {"to": "x" * 100}).status_code == 413


def test_a_delegated_token_and_its_proofs_pass_charter_mcp_auth(tenant: Tenant, service: SigningKey) -> None:
    verifier = Verifier(tenant.server.url, [service.did], [tenant.org])
    verifier.sync()
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
        root = agent.token(MAIL)
        child = agent.delegate(service.did, capabilities={"mailto:ops@example.com": {"email/send": [{}]}}, ttl=60,
                               proof=root)
    with TestClient(guarded_app(verifier), base_url=URL) as http:
        answer = call(http, "whoami", child.text, ucans=root.text)
        assert answer.status_code == 200, answer.text
        challenged(call(http, "whoami", child.text), 401, "invalid_chain", INVALID)
        # The child grants email/send on one address, not on mailto:* as send_email needs.
        challenged(call(http, "send_email", child.text, {"to": "ops@example.com"}, ucans=root.text), 403,
                   "not_covered", f'Bearer error="insufficient_scope", scope="email/send", resource_metadata="{METADATA}"')


def test_the_mcp_packages_own_refusals_get_the_same_challenges(tenant: Tenant, service: SigningKey) -> None:
    verifier = Verifier(tenant.server.url, [service.did], [tenant.org])
    verifier.sync()
    token = root_token_for(tenant, service.did).text
    # mcp's required_scopes: a 403 whose challenge names the scope only in its description.
    with TestClient(guarded_app(verifier, required_scopes=["email/read"]), base_url=URL) as http:
        assert http.get("/.well-known/oauth-protected-resource/mcp").json()["scopes_supported"] == ["email/read"]
        answer = call(http, "whoami", token)
        assert (answer.status_code, answer.headers["www-authenticate"]) == (403, NEEDS_READ)
    # mcp's validate_token_resource, with a token the verifier says is for another resource: mcp's 401.
    elsewhere = CharterTokenVerifier(verifier, resource="http://elsewhere.example.com/mcp")
    with TestClient(guarded_app(verifier, checker=elsewhere, validate_token_resource=True), base_url=URL) as http:
        answer = call(http, "whoami", token)
        assert (answer.status_code, answer.headers["www-authenticate"]) == (401, INVALID)


def test_charter_mcp_auth_is_configured_with_scope_tokens(tenant: Tenant) -> None:
    verifier = Verifier(tenant.server.url, [SigningKey.generate().did], [tenant.org])
    resource = ProtectedResource(URL + "/mcp", [tenant.server.url])
    with pytest.raises(ValueError):
        CharterMCPAuth(guarded_app(verifier), verifier, resource, tools={"x": Capability("mailto:*", "email send")})
    with pytest.raises(ValueError):
        protected_resource(AuthSettings.model_validate({"issuer_url": tenant.server.url, "resource_server_url": None}))
    assert protected_resource(AuthSettings.model_validate({
        "issuer_url": tenant.server.url, "resource_server_url": URL + "/mcp", "validate_token_resource": False,
        "required_scopes": ["email/send"]})).document() == {
        "resource": URL + "/mcp", "authorization_servers": [tenant.server.url], "bearer_methods_supported": ["header"],
        "scopes_supported": ["email/send"]}
