"""Charter tokens for MCP servers built with the official `mcp` package: a `TokenVerifier` that checks the bearer
token offline with a `Verifier`, and `CharterMCPAuth`, which refuses as the MCP authorization spec says, tool by tool.

    from charter_sdk import Capability, Verifier
    from charter_sdk.mcp import CharterMCPAuth, CharterTokenVerifier, protected_resource
    from mcp.server.auth.settings import AuthSettings
    from mcp.server.mcpserver import MCPServer          # mcp 2 (`FastMCP` in mcp 1)

    verifier = Verifier(charter_url, audiences=[server_key.did], organizations=["org_…"])
    verifier.start()
    server = MCPServer("mail", token_verifier=CharterTokenVerifier(verifier),
                       auth=AuthSettings(issuer_url=charter_url, resource_server_url=mcp_url,
                                         validate_token_resource=False))
    app = CharterMCPAuth(server.streamable_http_app(), verifier, protected_resource(server.settings.auth),
                         tools={"send_email": Capability("mailto:*", "email/send"), "whoami": None})

The `mcp` package serves the RFC 9728 metadata (`/.well-known/oauth-protected-resource/mcp`, naming Charter) and
makes each tool's `get_access_token()` work; `CharterMCPAuth` in front of it verifies every request to the MCP
endpoint once and answers, with Charter's JSON error body:
- 401 `WWW-Authenticate: Bearer resource_metadata="…"` without a token, `Bearer error="invalid_token",
  resource_metadata="…"` when the token fails (garbage, expired, revoked, for another audience);
- 403 `Bearer error="insufficient_scope", scope="email/send", resource_metadata="…"` for a `tools/call` of a tool
  whose capability the token does not grant (the spec's step-up: the client asks Charter for that scope); 403
  without a challenge for a tool not in `tools` (a tool mapped to None needs only a valid token);
- 503 while the verifier has no fresh revocation data (mcp's `TokenVerifier` could only say 401).

The bearer is a UCAN 0.10 token addressed to the MCP server's DID (one of the verifier's `audiences`): a token
Charter minted for that audience (`POST /oauth2/token` with `resource` = the MCP server's URL, registered on the
envelope), or one the agent delegated to it from its own token (`Client.delegate`), whose proofs travel in the
`ucans` header. The `AccessToken` returned has `client_id` the root's Charter key id, `scopes` the abilities the
token grants (`email/send`), `expires_at` its `exp`, `subject` the DID that delegated it to the server (None for a
root token), and `claims` Charter's facts. Needs the `mcp` extra: `pip install 'charter-sdk[mcp]'`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

try:
    from mcp.server.auth.provider import AccessToken
    from mcp.server.auth.settings import AuthSettings
except ImportError as missing:  # the core package needs no MCP SDK; this module does
    raise ImportError("charter_sdk.mcp needs the MCP SDK: pip install 'charter-sdk[mcp]'", name=missing.name) \
        from missing

from ._jsonrpc import BodyTooLarge, Unreadable, read_body, replay, tool_calls
from .asgi import ASGIApp, Message, Receive, Scope, Send, refusal, remember, request_headers, route_path
from .errors import VerificationError
from .resource import ProtectedResource, bearer, challenge, check_scope
from .ucan import Capability
from .verifier import VerifiedToken, Verifier, credentials

log = logging.getLogger("charter.mcp")

_proofs: ContextVar[tuple[str, ...]] = ContextVar("charter_ucans", default=())
# The token CharterMCPAuth verified for this request, so that CharterTokenVerifier does not verify it again. A list
# emptied when the request ends: a task the request started (an MCP session's) inherits the variable, but must not
# inherit a verification that a later revocation would have undone.
_verified: ContextVar[list[tuple[str, VerifiedToken]] | None] = ContextVar("charter_verified", default=None)

MAX_BODY_SIZE = 4 * 1024 * 1024
"""The default bound on a request body CharterMCPAuth reads (the `mcp` package's own default)."""


def _parse_proofs(header: str) -> tuple[str, ...]:
    return tuple(part.strip(" \t") for part in header.split(",") if part.strip(" \t"))


class UcansHeaderMiddleware:
    """Makes a request's `ucans` headers (comma-separated 0.10 proofs) the proofs `CharterTokenVerifier` verifies
    its bearer token with, for the duration of the request. Wrap the MCP server's ASGI app with it:
    `UcansHeaderMiddleware(server.streamable_http_app())`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        reset = _proofs.set(_parse_proofs(request_headers(scope.get("headers") or ()).get("ucans", "")))
        try:
            await self.app(scope, receive, send)
        finally:
            _proofs.reset(reset)


class CharterTokenVerifier:
    """The `mcp` package's `TokenVerifier` (`mcp.server.auth.provider`) for Charter's UCAN 0.10 tokens.

    `verify_token` returns an `AccessToken` when the token verifies (and, with `requiring`, grants that
    capability), else None: the MCP server then answers 401 (`required_scopes` in its `AuthSettings` turns a
    missing ability into 403). The reason for a refusal is logged (its code, never the token) at INFO on the
    `charter.mcp` logger; `resource`, when given, is the `AccessToken.resource` (the MCP server's URL), for
    `AuthSettings(validate_token_resource=True)`.
    """

    def __init__(self, verifier: Verifier, *, requiring: Capability | None = None,
                 resource: str | None = None) -> None:
        self.verifier = verifier
        self.requiring = requiring
        self.resource = resource

    def __repr__(self) -> str:
        return f"CharterTokenVerifier({self.verifier!r}, requiring={self.requiring!r})"

    async def verify_token(self, token: str) -> AccessToken | None:
        text = token.strip(" \t")
        held = _verified.get()
        if held and held[0][0] == text and self.requiring is None:
            return self.access_token(held[0][1])  # CharterMCPAuth verified it a moment ago, for this request
        try:
            verified = self.verifier.verify(text, _proofs.get(), self.requiring)
        except VerificationError as error:
            log.info("refused an MCP bearer token: %s (%s)", error.code, error.message)
            return None
        return self.access_token(verified)

    def access_token(self, verified: VerifiedToken) -> AccessToken:
        """What the MCP server is told of a verified token (its tools read it with `get_access_token()`)."""
        token = verified.token
        claims: dict[str, Any] = {
            "cid": str(token.cid), "cap": token.capability_map,
            **{name: value for name, value in (("org", verified.org), ("env", verified.env), ("app", verified.app),
                                               ("envelope", verified.envelope), ("key", verified.key))
               if value is not None},
        }
        return AccessToken(
            token=token.text, client_id=verified.key or token.issuer,
            scopes=sorted({capability.ability for capability in token.capabilities}),
            expires_at=token.expiration, resource=self.resource,
            subject=token.issuer if token.proofs else None, claims=claims,
        )


def protected_resource(settings: AuthSettings) -> ProtectedResource:
    """The `ProtectedResource` an MCP server's `AuthSettings` describe (the `mcp` package serves its document):
    `resource_server_url`, the `issuer_url` as the authorization server, `required_scopes` as the scopes."""
    if settings.resource_server_url is None:
        raise ValueError("AuthSettings needs resource_server_url: the MCP server's URL, such as http://host/mcp")
    return ProtectedResource(str(settings.resource_server_url), [str(settings.issuer_url)],
                             scopes_supported=settings.required_scopes)


_PARAM = re.compile(r'([A-Za-z_]+)="((?:[^"\\]|\\.)*)"')
_REQUIRED_SCOPE = re.compile(r"Required scope: (\S+)\Z")


class CharterMCPAuth:
    """Charter in front of an MCP server's streamable-HTTP ASGI app, as the MCP authorization spec wants it.

    Every HTTP request to the MCP endpoint (the path of `protected_resource.resource`, and below it) must carry a
    0.10 token that verifies; once it does, a POST's body is read (at most `max_body_size` bytes, then replayed to
    the app) and
    each JSON-RPC `tools/call` in it must name a tool in `tools` whose `Capability` the token grants (None: any
    valid token will do). Refusals carry Charter's JSON error body and the challenges `charter_sdk.resource`
    writes, naming `protected_resource`'s metadata; a body that is not JSON (or names a key twice) is a JSON-RPC
    parse error (400), an oversized one 413. Other paths (the metadata the `mcp` package serves, say) go straight
    to the app. A 401 or 403 challenge the app itself answers with (the `mcp` package's `required_scopes`, its
    `validate_token_resource`) is rewritten to the same form. The verified token is in `scope["charter"]` and
    `scope["state"]["charter"]`, and `CharterTokenVerifier` takes it without verifying it twice.
    """

    def __init__(self, app: ASGIApp, verifier: Verifier, protected_resource: ProtectedResource, *,
                 tools: Mapping[str, Capability | None], max_body_size: int = MAX_BODY_SIZE) -> None:
        for capability in tools.values():
            if capability is not None:
                check_scope(capability.ability)
        if max_body_size < 1:
            raise ValueError("max_body_size is a number of bytes")
        self.app = app
        self.verifier = verifier
        self.protected_resource = protected_resource
        self.tools = dict(tools)
        self.max_body_size = max_body_size
        self.path = urlsplit(protected_resource.resource).path.rstrip("/") or "/"

    def __repr__(self) -> str:
        return f"CharterMCPAuth(path={self.path!r}, tools={sorted(self.tools)!r})"

    def covers(self, path: str) -> bool:
        return self.path == "/" or path == self.path or path.startswith(self.path + "/")

    def covers_request(self, scope: Scope) -> bool:
        """Whether a request is one for the MCP endpoint (its metadata document never is)."""
        paths = (scope.get("path", ""), route_path(scope))
        return scope["type"] in ("http", "websocket") and self.protected_resource.metadata_path not in paths and \
            any(self.covers(path) for path in paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.covers_request(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":  # streamable HTTP has none: nothing to let through unchecked
            await send({"type": "websocket.close", "code": 1008, "reason": "not an MCP endpoint"})
            return
        headers = request_headers(scope.get("headers") or ())
        if "authorization" not in headers:
            await self._refuse(send, VerificationError("malformed", "no Authorization header"), presented=False)
            return
        # The token first: a request without a valid one costs no body read or JSON parse.
        try:
            token, proofs, verified = self._verify(headers, [])
        except _Refused as refused:
            await self._refuse(send, refused.error, scope=refused.scope)
            return
        required: list[Capability | None] = []
        if scope.get("method") == "POST":
            try:
                read = await read_body(receive, self.max_body_size)
            except BodyTooLarge:
                await _answer(send, 413, b"text/plain; charset=utf-8", b"Request body too large")
                return
            if read is None:
                return  # the client went away
            body, messages = read
            receive = replay(messages, receive)
            try:
                names = tool_calls(body)
            except Unreadable:
                await _answer(send, 400, b"application/json",
                              b'{"error":{"code":-32700,"message":"Parse error"},"id":null,"jsonrpc":"2.0"}')
                return
            for name in names:
                if name not in self.tools:
                    await self._refuse(send, VerificationError(
                        "not_covered", f"the tool {name!r} is not one this server lets a Charter token call"))
                    return
                required.append(self.tools[name])
        capabilities = [capability for capability in required if capability is not None]
        if capabilities:
            try:
                token, proofs, verified = self._verify(headers, capabilities)
            except _Refused as refused:
                await self._refuse(send, refused.error, scope=refused.scope)
                return
        remember(scope, verified)
        holder = [(token, verified)]
        held = _verified.set(holder)
        given = _proofs.set(tuple(proofs))
        try:
            await self.app(scope, receive, self._rewriting(send))
        finally:
            holder.clear()
            _proofs.reset(given)
            _verified.reset(held)

    def _verify(self, headers: dict[str, str], capabilities: list[Capability]) \
            -> tuple[str, list[str], VerifiedToken]:
        """The bearer, its proofs, and the token verified to grant every capability (coverage is checked last, so
        a refusal for the first is about the token itself)."""
        try:
            token, proofs = credentials(headers)
        except VerificationError as error:
            raise _Refused(error, None) from None
        verified: VerifiedToken | None = None
        wanted: list[Capability | None] = list(capabilities) or [None]
        for capability in wanted:
            try:
                verified = self.verifier.verify(token, proofs, requiring=capability)
            except VerificationError as error:
                raise _Refused(error, capability.ability if capability is not None else None) from None
        assert verified is not None
        return token, proofs, verified

    async def _refuse(self, send: Send, error: VerificationError, *, presented: bool = True,
                      scope: str | None = None) -> None:
        www_authenticate = challenge(error, presented=presented, scope=scope,
                                     protected_resource=self.protected_resource)
        status, headers, body = refusal(error, www_authenticate)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _rewriting(self, send: Send) -> Send:
        metadata = self.protected_resource.metadata_url

        async def rewritten(message: Message) -> None:
            if message["type"] == "http.response.start" and message.get("status") in (401, 403):
                headers = list(message.get("headers") or [])
                challenges = [value for name, value in headers if name.lower() == b"www-authenticate"]
                if challenges:
                    params = dict(_PARAM.findall(challenges[0].decode("latin-1")))
                    if message["status"] == 401:
                        replacement: str | None = bearer("invalid_token", None, metadata)
                    elif params.get("error") == "insufficient_scope":
                        described = _REQUIRED_SCOPE.match(params.get("error_description", ""))
                        scope = params.get("scope") or (described.group(1) if described else None)
                        replacement = bearer("insufficient_scope", scope, metadata)
                    else:
                        replacement = None
                    if replacement is not None:
                        headers = [(name, value) for name, value in headers if name.lower() != b"www-authenticate"]
                        headers.append((b"www-authenticate", replacement.encode("latin-1")))
                        message = {**message, "headers": headers}
            await send(message)

        return rewritten


class _Refused(Exception):
    def __init__(self, error: VerificationError, scope: str | None) -> None:
        super().__init__(error.code)
        self.error = error
        self.scope = scope


async def _answer(send: Send, status: int, content_type: bytes, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


__all__ = ["CharterMCPAuth", "CharterTokenVerifier", "ProtectedResource", "UcansHeaderMiddleware", "protected_resource"]
