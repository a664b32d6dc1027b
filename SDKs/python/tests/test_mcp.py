"""CharterTokenVerifier: the `mcp` package's TokenVerifier for Charter tokens, directly and inside an MCP server's
streamable-HTTP app (stateless JSON mode, through Starlette's TestClient: no network)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken, TokenVerifier
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from starlette.testclient import TestClient

from charter_sdk import Capability, Client, SigningKey, Token, Verifier
from charter_sdk.mcp import CharterTokenVerifier, UcansHeaderMiddleware
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
