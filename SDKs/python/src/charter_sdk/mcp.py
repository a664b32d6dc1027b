"""Charter tokens for MCP servers built with the official `mcp` package: a `TokenVerifier` that checks the bearer
token offline with a `Verifier`.

    from charter_sdk import Verifier
    from charter_sdk.mcp import CharterTokenVerifier
    from mcp.server.auth.settings import AuthSettings
    from mcp.server.mcpserver import MCPServer          # mcp 2 (`FastMCP` in mcp 1)

    verifier = Verifier(charter_url, audiences=[server_key.did], organizations=["org_…"])
    verifier.start()
    server = MCPServer("mail", token_verifier=CharterTokenVerifier(verifier),
                       auth=AuthSettings(issuer_url=charter_url, resource_server_url=mcp_url,
                                         validate_token_resource=False, required_scopes=["email/send"]))

The bearer is a UCAN 0.10 token addressed to the MCP server's DID (one of the verifier's `audiences`): a token
Charter minted for that audience, or one the agent delegated to it from its own token (`Client.delegate`). A
delegated token's proofs travel in the `ucans` header, which the MCP app reads only when wrapped in
`UcansHeaderMiddleware`. The `AccessToken` returned has `client_id` the root's Charter key id, `scopes` the
abilities the token grants (`email/send`), `expires_at` its `exp`, `subject` the DID that delegated it to the
server (None for a root token), and `claims` Charter's facts. Needs the `mcp` extra: `pip install
'charter-sdk[mcp]'`.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

try:
    from mcp.server.auth.provider import AccessToken
except ImportError as missing:  # the core package needs no MCP SDK; this module does
    raise ImportError("charter_sdk.mcp needs the MCP SDK: pip install 'charter-sdk[mcp]'", name=missing.name) \
        from missing

from .asgi import ASGIApp, Receive, Scope, Send, request_headers
from .errors import VerificationError
from .ucan import Capability
from .verifier import VerifiedToken, Verifier

log = logging.getLogger("charter.mcp")

_proofs: ContextVar[tuple[str, ...]] = ContextVar("charter_ucans", default=())


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
        try:
            verified = self.verifier.verify(token.strip(" \t"), _proofs.get(), self.requiring)
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


__all__ = ["CharterTokenVerifier", "UcansHeaderMiddleware"]
