"""A service as an OAuth protected resource: RFC 9728 metadata served by the ASGI middleware and by FastAPI, and the
RFC 6750 challenges on every refusal, with a Verifier synced from a real `charter serve`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import Depends, FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from charter_sdk import Client, ProtectedResource, SigningKey, VerifiedInvocation, VerifiedToken, Verifier
from charter_sdk.asgi import CharterMiddleware
from charter_sdk.fastapi import handle_refusals, require_capability, require_invocation, serve_protected_resource
from charter_sdk.resource import bearer, check_scope, quoted
from conftest import MAIL, Tenant

CHARTER = "http://127.0.0.1:8080"
API = ProtectedResource("http://testserver/api", [CHARTER], scopes_supported=["email/send", "email/read"])
METADATA = "http://testserver/.well-known/oauth-protected-resource/api"


def test_the_metadata_lives_under_the_resource_path() -> None:
    mcp = ProtectedResource("https://mail.example.com/mcp", ["https://charter.example.com"])
    assert (mcp.metadata_path, mcp.metadata_url) == (
        "/.well-known/oauth-protected-resource/mcp", "https://mail.example.com/.well-known/oauth-protected-resource/mcp")
    assert mcp.document() == {"resource": "https://mail.example.com/mcp",
                              "authorization_servers": ["https://charter.example.com"],
                              "bearer_methods_supported": ["header"]}
    for bare in ("https://mail.example.com", "https://mail.example.com/"):
        assert ProtectedResource(bare, [CHARTER]).metadata_url == \
            "https://mail.example.com/.well-known/oauth-protected-resource"
    assert ProtectedResource("http://127.0.0.1:8000/a/b/", [CHARTER]).metadata_path == \
        "/.well-known/oauth-protected-resource/a/b/"
    assert json.loads(API.body()) == API.document() | {"scopes_supported": ["email/send", "email/read"]}
    assert "scopes_supported" not in ProtectedResource(mcp.resource, [CHARTER], scopes_supported=[]).document()
    for resource, servers, scopes in (("/mcp", [CHARTER], None), ("mailto:ops@example.com", [CHARTER], None),
                                      ("https://h/mcp#x", [CHARTER], None), ("https:///mcp", [CHARTER], None),
                                      ("https://h/mcp?x=1", [CHARTER], None),
                                      ('https://h/"mcp', [CHARTER], None), ("https://h/mcp", [], None),
                                      ("https://h/mcp", CHARTER, None), ("https://h/mcp", ["charter"], None),
                                      ("https://h/mcp", [CHARTER], ["email send"])):
        with pytest.raises(ValueError):
            ProtectedResource(resource, servers, scopes_supported=scopes)


def test_a_challenge_quotes_its_values_in_a_fixed_order() -> None:
    assert bearer() == "Bearer"
    assert bearer(resource_metadata="https://h/m", scope="email/send", error="insufficient_scope") == \
        'Bearer error="insufficient_scope", scope="email/send", resource_metadata="https://h/m"'
    assert quoted('a "b" \\c') == '"a \\"b\\" \\\\c"'
    assert check_scope("email/send") == "email/send"
    for bad in ("", "email send", 'email"send', "email\\send", "émail/send"):
        with pytest.raises(ValueError):
            check_scope(bad)


def expect(response: Any, status: int, code: str, challenge: str | None) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.headers.get("www-authenticate") == challenge


def metadata_served(http: TestClient, resource: ProtectedResource) -> None:
    answer = http.get(resource.metadata_path)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert answer.json() == resource.document()
    assert answer.headers["access-control-allow-origin"] == "*"
    head = http.head(resource.metadata_path)
    assert head.status_code == 200 and head.content == b""
    assert http.post(resource.metadata_path).status_code == 405


def starlette_app() -> Starlette:
    async def mail(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.state.charter.key)

    return Starlette(routes=[Route("/api/mail", mail)])


def test_the_middleware_serves_its_metadata_and_names_it_in_each_challenge(tenant: Tenant) -> None:
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
        token = agent.token(MAIL)
    bearer_token = {"Authorization": f"Bearer {token.text}"}
    verifier = Verifier(tenant.server.url, [agent.did], [tenant.org])
    sending = CharterMiddleware(starlette_app(), verifier, prefix="/", resource="mailto:*", ability="email/send",
                                protected_resource=API)
    reading = CharterMiddleware(starlette_app(), verifier, prefix="/", resource="mailto:*", ability="email/read",
                                protected_resource=API)
    with TestClient(sending) as http:
        metadata_served(http, API)  # under the protected prefix, yet open to all
        expect(http.get("/api/mail", headers=bearer_token), 503, "not_synced", None)
        verifier.sync()
        expect(http.get("/api/mail"), 401, "malformed", f'Bearer resource_metadata="{METADATA}"')
        expect(http.get("/api/mail", headers={"Authorization": "Basic a2V5OnNlY3JldA=="}), 401, "malformed",
               f'Bearer error="invalid_token", resource_metadata="{METADATA}"')
        expect(http.get("/api/mail", headers={"Authorization": "Bearer x.y.z"}), 401, "malformed",
               f'Bearer error="invalid_token", resource_metadata="{METADATA}"')
        answer = http.get("/api/mail", headers=bearer_token)
        assert (answer.status_code, answer.text) == (200, tenant.key_id)
        tenant.revoke_token(str(token.cid))
        verifier.sync()
        expect(http.get("/api/mail", headers=bearer_token), 401, "revoked",
               f'Bearer error="invalid_token", resource_metadata="{METADATA}"')
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
        fresh = agent.token(MAIL)
    verifier = Verifier(tenant.server.url, [agent.did], [tenant.org])
    verifier.sync()
    reading.verifier = verifier
    with TestClient(reading) as http:
        expect(http.get("/api/mail", headers={"Authorization": f"Bearer {fresh.text}"}), 403, "not_covered",
               f'Bearer error="insufficient_scope", scope="email/read", resource_metadata="{METADATA}"')
    # Without a protected resource, the same challenges name no metadata, and no path is answered for it.
    with TestClient(CharterMiddleware(starlette_app(), verifier, prefix="/", resource="mailto:*",
                                      ability="email/read")) as http:
        expect(http.get(API.metadata_path), 401, "malformed", "Bearer")
        expect(http.get("/api/mail", headers={"Authorization": f"Bearer {fresh.text}"}), 403, "not_covered",
               'Bearer error="insufficient_scope", scope="email/read"')


def test_fastapi_dependencies_name_the_metadata_and_an_invocation_403_has_no_challenge(tenant: Tenant,
                                                                                        service: SigningKey) -> None:
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
        token = agent.token(MAIL)
        outside = agent.invoke("/email/send", {"to": "eve@evil.com"}, audience=service.did)
        calendar = agent.invoke("/calendar/read", {"calendar": "work"}, audience=service.did)
    verifier = Verifier(tenant.server.url, [agent.did, service.did], [tenant.org])
    verifier.sync()
    app = FastAPI()
    handle_refusals(app)
    serve_protected_resource(app, API)

    @app.get("/api/read")
    async def read(verified: VerifiedToken = Depends(
            require_capability(verifier, "mailto:*", "email/read", protected_resource=API))) -> str:
        return verified.key or ""

    @app.post("/api/send")
    async def send(call: VerifiedInvocation = Depends(
            require_invocation(verifier, "/email/send", protected_resource=API))) -> str:
        return call.agent

    with TestClient(app) as http:
        metadata_served(http, API)
        assert "/.well-known/oauth-protected-resource/api" not in http.get("/openapi.json").text
        expect(http.get("/api/read"), 401, "malformed", f'Bearer resource_metadata="{METADATA}"')
        expect(http.get("/api/read", headers={"Authorization": "Bearer x.y.z"}), 401, "malformed",
               f'Bearer error="invalid_token", resource_metadata="{METADATA}"')
        expect(http.get("/api/read", headers={"Authorization": f"Bearer {token.text}"}), 403, "not_covered",
               f'Bearer error="insufficient_scope", scope="email/read", resource_metadata="{METADATA}"')
        expect(http.post("/api/send"), 401, "malformed", f'Bearer resource_metadata="{METADATA}"')
        expect(http.post("/api/send", headers=outside.headers), 403, "policy_violation", None)
        expect(http.post("/api/send", headers=calendar.headers), 403, "not_covered", None)
