"""The ASGI middleware and the FastAPI dependencies answer as Charter's RequireCapability and RequireInvocation do,
against a Verifier synced from a real `charter serve`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import Depends, FastAPI, Request
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocket

from charter_sdk import Client, SigningKey, VerifiedInvocation, VerifiedToken, Verifier
from charter_sdk.asgi import CharterMiddleware, request_headers
from charter_sdk.fastapi import EXCEPTION_HANDLERS, CharterRefusal, handle_refusals, require_capability, \
    require_invocation
from conftest import MAIL, ManualClock, Tenant

SEND = ("mailto:ops@example.com", "email/send")


def body(code: str, message: str, field: str | None = None) -> bytes:
    """Charter's refusal body, byte for byte: compact, keys sorted (as the Swift JSONSerializer writes it)."""
    error = {"code": code, "message": message} | ({"field": field} if field is not None else {})
    return json.dumps({"error": error}, sort_keys=True, separators=(",", ":")).encode()


CHALLENGED = object()


def refused(response: Any, status: int, code: str, field: str | None = None, challenge: Any = CHALLENGED) \
        -> dict[str, Any]:
    """Checks a refusal; its challenge, unless given, is what a 401 carries (`error="invalid_token"` when the
    request had an Authorization header) and none otherwise."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/json"
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    assert error.get("field") == field, error
    assert response.content == body(code, error["message"], field)
    if challenge is CHALLENGED:
        presented = "authorization" in response.request.headers
        challenge = ('Bearer error="invalid_token"' if presented else "Bearer") if status == 401 else None
    assert response.headers.get("www-authenticate") == challenge
    return error


def service_app(verifier: Verifier) -> FastAPI:
    app = FastAPI()
    handle_refusals(app)

    @app.get("/mail")
    async def mail(request: Request, verified: VerifiedToken = Depends(require_capability(verifier, *SEND))) \
            -> dict[str, Any]:
        assert request.state.charter is verified
        return {"org": verified.org, "app": verified.app, "key": verified.key, "envelope": verified.envelope,
                "issuer": verified.token.issuer}

    @app.get("/read")
    async def read(verified: VerifiedToken = Depends(require_capability(verifier, "mailto:*", "email/read"))) \
            -> dict[str, Any]:
        return {"key": verified.key}

    @app.post("/send")
    async def send(call: VerifiedInvocation = Depends(require_invocation(verifier, "/email/send"))) -> dict[str, Any]:
        return {"agent": call.agent, "to": call.arguments["to"], "key": call.key}

    return app


def test_a_capability_dependency_answers_as_require_capability(tenant: Tenant) -> None:
    clock = ManualClock()
    sub_agent = SigningKey.generate()
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
        token = agent.token(MAIL)
        child = agent.delegate(sub_agent.did, capabilities={"mailto:ops@example.com": {"email/send": [{}]}},
                               ttl=60, proof=token)
    verifier = Verifier(tenant.server.url, [agent.did, sub_agent.did], [tenant.org], clock=clock.now)
    bearer = {"Authorization": f"Bearer {token.text}"}
    with TestClient(service_app(verifier)) as http:
        refused(http.get("/mail", headers=bearer), 503, "not_synced")
        verifier.sync()
        assert refused(http.get("/mail"), 401, "malformed")["message"] == "no Authorization header"
        assert refused(http.get("/mail", headers={"Authorization": f"Basic {token.text}"}), 401, "malformed")[
            "message"] == "the Authorization header is not a Bearer token"
        refused(http.get("/mail", headers={"Authorization": "Bearer x.y.z"}), 401, "malformed", "header")
        answer = http.get("/mail", headers=bearer)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"org": tenant.org, "app": tenant.app, "key": tenant.key_id,
                                 "envelope": tenant.envelope, "issuer": token.issuer}
        assert refused(http.get("/read", headers=bearer), 403, "not_covered",
                       challenge='Bearer error="insufficient_scope", scope="email/read"')["message"] == \
            "the token does not grant email/read on mailto:*"
        # A delegated token with its proof in `ucans`; the headers may repeat, and names are case-insensitive.
        delegated = http.get("/mail", headers=[("authorization", f"bearer  {child.text}"), ("UCANS", " ,"),
                                               ("ucans", f" {token.text} ")])
        assert delegated.status_code == 200 and delegated.json()["key"] == tenant.key_id, delegated.text
        refused(http.get("/mail", headers={"Authorization": f"Bearer {child.text}"}), 401, "invalid_chain", "prf[0]")
        tenant.revoke_token(str(token.cid))
        verifier.sync()
        assert refused(http.get("/mail", headers=bearer), 401, "revoked")["message"] == f"token {token.cid} is revoked"
        clock.advance(61)
        refused(http.get("/mail", headers=bearer), 503, "feed_stale")


def test_an_invocation_dependency_answers_as_require_invocation(tenant: Tenant, service: SigningKey) -> None:
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
        call = agent.invoke("/email/send", {"to": "ada@example.com"}, audience=service.did)
        outside = agent.invoke("/email/send", {"to": "eve@evil.com"}, audience=service.did)
        calendar = agent.invoke("/calendar/read", {"calendar": "work"}, audience=service.did)
        elsewhere = agent.invoke("/email/send", {"to": "ada@example.com"}, audience=SigningKey.generate().did)
        more = [agent.invoke("/email/send", {"to": "bob@example.com"}, audience=service.did) for _ in range(2)]
    verifier = Verifier(tenant.server.url, [service.did], [tenant.org], clock=ManualClock().now,
                        replay_capacity=2)
    with TestClient(service_app(verifier)) as http:
        # As Swift's RequireInvocation, the base64 is decoded first: undecodable is malformed even before a sync.
        refused(http.post("/send", headers={"Authorization": "Bearer %%%"}), 401, "malformed", "invocation")
        refused(http.post("/send", headers={"Authorization": call.authorization, "ucans": "!"}), 401, "malformed",
                "proofs[0]")
        refused(http.post("/send", headers=call.headers), 503, "not_synced")
        verifier.sync()
        answer = http.post("/send", headers=call.headers)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"agent": agent.did, "to": "ada@example.com", "key": tenant.key_id}
        assert refused(http.post("/send", headers=call.headers), 401, "replayed")["message"] == \
            f"invocation {call.invocation.cid} was presented before"
        assert refused(http.post("/send", headers=outside.headers), 403, "policy_violation", "prf[0].pol")[
            "message"] == 'prf[0].pol: ["like", ".to", "*@example.com"] did not hold'
        refused(http.post("/send", headers=calendar.headers), 403, "not_covered", "cmd")
        refused(http.post("/send", headers=elsewhere.headers), 401, "wrong_audience", "aud")
        refused(http.post("/send", headers={"Authorization": call.authorization}), 401, "invalid_chain", "prf[0]")
        assert http.post("/send", headers=more[0].headers).status_code == 200
        refused(http.post("/send", headers=more[1].headers), 503, "overloaded")  # two live ones remembered


def test_without_the_handler_a_refusal_keeps_its_status_and_challenge(tenant: Tenant) -> None:
    verifier = Verifier(tenant.server.url, [SigningKey.generate().did], [tenant.org])
    verifier.sync()
    app = FastAPI()

    @app.get("/mail")
    async def mail(verified: VerifiedToken = Depends(require_capability(verifier, *SEND))) -> str:
        return verified.org or ""

    with TestClient(app) as http:
        answer = http.get("/mail")
        assert (answer.status_code, answer.headers["www-authenticate"]) == (401, "Bearer")
        assert answer.json() == {"detail": "no Authorization header"}
    with TestClient(FastAPI(exception_handlers=dict(EXCEPTION_HANDLERS))) as http:
        assert http.app.exception_handlers[CharterRefusal] is EXCEPTION_HANDLERS[CharterRefusal]  # type: ignore


def starlette_app() -> Starlette:
    async def mail(request: StarletteRequest) -> JSONResponse:
        verified = request.state.charter
        assert request.scope["charter"] is verified
        return JSONResponse({"key": verified.key, "path": request.url.path})

    async def public(request: StarletteRequest) -> PlainTextResponse:
        return PlainTextResponse("open", headers={"x-charter": str("charter" in request.scope)})

    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({"key": websocket.scope["charter"].key})
        await websocket.close()

    return Starlette(routes=[Route("/api", mail), Route("/api/mail", mail), Route("/apix", public),
                             Route("/health", public), WebSocketRoute("/api/socket", socket)])


def test_the_middleware_protects_a_prefix(tenant: Tenant) -> None:
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
        token = agent.token(MAIL)
    verifier = Verifier(tenant.server.url, [agent.did], [tenant.org])
    verifier.sync()
    protected = CharterMiddleware(starlette_app(), verifier, prefix="/api/", resource=SEND[0], ability=SEND[1])
    assert repr(protected) == "CharterMiddleware(prefix='/api', requiring='email/send on mailto:ops@example.com')"
    bearer = {"Authorization": f"Bearer {token.text}"}
    with TestClient(protected) as http:
        for path in ("/api", "/api/mail"):
            refused(http.get(path), 401, "malformed")
            assert http.get(path, headers=bearer).json() == {"key": tenant.key_id, "path": path}
        for path in ("/apix", "/health"):
            answer = http.get(path)
            assert (answer.status_code, answer.text, answer.headers["x-charter"]) == (200, "open", "False")
        refused(http.post("/api/anything"), 401, "malformed")  # refused before routing, whatever the method
        with http.websocket_connect("/api/socket", headers=bearer) as socket:
            assert socket.receive_json() == {"key": tenant.key_id}
        with pytest.raises(WebSocketDenialResponse) as denied:
            with http.websocket_connect("/api/socket"):
                pass
        refused(denied.value, 401, "malformed", challenge="Bearer")
    # Mounted under a root path, the path the application routes on is what is protected.
    mounted = Starlette(routes=[Mount("/v2", app=protected)])
    with TestClient(mounted) as http:
        refused(http.get("/v2/api/mail"), 401, "malformed")
        assert http.get("/v2/api/mail", headers=bearer).status_code == 200
        assert http.get("/v2/health").status_code == 200


def test_the_middleware_takes_invocations_of_one_command(tenant: Tenant, service: SigningKey) -> None:
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
        call = agent.invoke("/email/send", {"to": "ada@example.com"}, audience=service.did)
        calendar = agent.invoke("/calendar/read", {"calendar": "work"}, audience=service.did)
    verifier = Verifier(tenant.server.url, [service.did], [tenant.org])
    verifier.sync()

    async def send(request: StarletteRequest) -> JSONResponse:
        return JSONResponse(request.state.charter.arguments)

    app = Starlette(routes=[Route("/send", send, methods=["POST"])])
    app.add_middleware(CharterMiddleware, verifier=verifier, prefix="/send", command="/email/send")
    with TestClient(app) as http:
        assert http.post("/send", headers=call.headers).json() == {"to": "ada@example.com"}
        refused(http.post("/send", headers=call.headers), 401, "replayed")
        refused(http.post("/send", headers=calendar.headers), 403, "not_covered", "cmd")


def test_the_middleware_is_configured_with_one_requirement() -> None:
    verifier = Verifier(None, [SigningKey.generate().did], ["org_x"])
    app = starlette_app()
    for bad in ({}, {"resource": "mailto:*"}, {"command": "/a", "resource": "mailto:*", "ability": "x/y"},
                {"command": "/Email"}, {"command": "/a", "prefix": "api"}):
        with pytest.raises(ValueError):
            CharterMiddleware(app, verifier, **bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        require_invocation(verifier, "email/send")
    assert request_headers([(b"Authorization", b"Bearer a"), (b"authorization", b"Bearer b"), (b"ucans", b"x"),
                            (b"Ucans", b"y, z")]) == {"authorization": "Bearer a", "ucans": "x,y, z"}


def test_the_package_and_its_middleware_need_no_framework() -> None:
    """Without Starlette, FastAPI or mcp installed, the core package and the ASGI middleware still import; the
    framework modules say which extra to install."""
    import subprocess
    import sys
    script = """
import sys
for name in ("starlette", "fastapi", "mcp", "pydantic"):
    sys.modules[name] = None  # as if not installed
import charter_sdk, charter_sdk.asgi
assert charter_sdk.CharterMiddleware is charter_sdk.asgi.CharterMiddleware
for module, extra in (("charter_sdk.fastapi", "[fastapi]"), ("charter_sdk.mcp", "[mcp]")):
    try:
        __import__(module)
    except ImportError as error:
        assert extra in str(error), error
    else:
        raise AssertionError(module + " imported without its framework")
print("ok")
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "ok", run.stderr
