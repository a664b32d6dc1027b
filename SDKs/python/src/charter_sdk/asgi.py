"""Charter's `RequireCapability` and `RequireInvocation` for any ASGI application (Starlette, FastAPI, Quart, …).

`CharterMiddleware` protects every path under a prefix; `charter_sdk.fastapi` has the same checks as FastAPI
dependencies. Both answer exactly as the Swift middleware does: the credentials are read from `Authorization:
Bearer …` (the first such header) and the comma-separated `ucans` headers (all of them), and a refusal is
`{"error":{"code","message","field"?}}` (compact, keys sorted) with status 401 when the token is missing or fails
verification, 403 for `not_covered` and `policy_violation`, 503 for `not_synced`, `feed_stale` and `overloaded`.
Refusals carry RFC 6750 challenges (`charter_sdk.resource.challenge`): a 401 `WWW-Authenticate: Bearer` (with
`error="invalid_token"` when a credential was presented), a 403 `not_covered` of a capability `Bearer
error="insufficient_scope", scope="<ability>"`; with a `ProtectedResource` each also names its RFC 9728 metadata
(`resource_metadata="…"`), which the middleware then serves.

This module needs no web framework: it speaks ASGI 3 directly.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any, Union

from ._encoding import b64_decode
from .errors import UCANError, VerificationError
from .resource import ProtectedResource, challenge, check_scope
from .ucan import Capability
from .ucan1 import check_command
from .verifier import VerifiedInvocation, VerifiedToken, Verifier, credentials

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Verified = Union[VerifiedToken, VerifiedInvocation]

STATE_KEY = "charter"
"""Where a verified request's `VerifiedToken` or `VerifiedInvocation` is kept: `scope["charter"]`, and
`scope["state"]["charter"]` (Starlette's `request.state.charter`)."""


def request_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """The credentials of an ASGI request's raw headers as `Verifier.verify_headers` reads them: the first
    `Authorization` header, and every `ucans` header joined with commas (any header-name case)."""
    authorization: str | None = None
    ucans: list[str] = []
    for name, value in raw:
        lowered = name.lower()
        if lowered == b"authorization":
            if authorization is None:
                authorization = value.decode("latin-1")
        elif lowered == b"ucans":
            ucans.append(value.decode("latin-1"))
    headers: dict[str, str] = {}
    if authorization is not None:
        headers["authorization"] = authorization
    if ucans:
        headers["ucans"] = ",".join(ucans)
    return headers


def verify_capability(verifier: Verifier, headers: dict[str, str], capability: Capability) -> VerifiedToken:
    """What `RequireCapability` checks: the bearer 0.10 token and its `ucans` proofs grant `capability`."""
    token, proofs = credentials(headers)
    return verifier.verify(token, proofs, requiring=capability)


def verify_invocation(verifier: Verifier, headers: dict[str, str], command: str) -> VerifiedInvocation:
    """What `RequireInvocation` checks: the bearer is the base64 of a 1.0 invocation of exactly `command` and
    `ucans` the delegations it cites. Like the Swift middleware, the base64 is decoded before anything is verified,
    so an undecodable one is `malformed` (field `invocation` or `proofs[i]`) whatever the verifier's state."""
    token, proofs = credentials(headers)
    invocation = _envelope(token, "invocation")
    delegations = [_envelope(proof, f"proofs[{index}]") for index, proof in enumerate(proofs)]
    return verifier.verify_invocation(invocation, delegations, command)


def _envelope(text: str, field: str) -> bytes:
    decoded = b64_decode(text)
    if not decoded:
        raise VerificationError("malformed", f"{field} is not the base64 of a UCAN 1.0 envelope", field)
    return decoded


def refusal(error: VerificationError, www_authenticate: str | None = None) \
        -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The status, headers and body Charter's middleware answers a refusal with (`www_authenticate` from
    `charter_sdk.resource.challenge`)."""
    body = json.dumps(error.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if www_authenticate is not None:
        headers.append((b"www-authenticate", www_authenticate.encode("latin-1")))
    return error.status, headers, body


def metadata_response(resource: ProtectedResource, method: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The answer to a request for the RFC 9728 document: GET and HEAD (public, cacheable, any origin), an OPTIONS
    preflight, else 405."""
    if method == "OPTIONS":
        return 204, [(b"access-control-allow-origin", b"*"), (b"access-control-allow-methods", b"GET, HEAD, OPTIONS"),
                     (b"allow", b"GET, HEAD, OPTIONS")], b""
    if method not in ("GET", "HEAD"):
        return 405, [(b"allow", b"GET, HEAD, OPTIONS"), (b"content-length", b"0")], b""
    body = resource.body()
    return 200, [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                 (b"cache-control", b"public, max-age=3600"), (b"access-control-allow-origin", b"*")], \
        body if method == "GET" else b""


def route_path(scope: Scope) -> str:
    """The path an application routes on: `path` less the `root_path` it is mounted under (as Starlette does)."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "") or ""
    if root and path.startswith(root):
        if path == root:
            return ""
        if path[len(root)] == "/":
            return path[len(root):]
    return path


def remember(scope: Scope, verified: Verified) -> None:
    """Puts a request's verified credentials where handlers read them: `scope["charter"]` and
    `scope["state"]["charter"]` (Starlette's `request.state.charter`)."""
    scope[STATE_KEY] = verified
    state = scope.get("state")
    if state is None:
        scope["state"] = state = {}
    state[STATE_KEY] = verified


def _command(command: str) -> str:
    try:
        return check_command(command)
    except UCANError as error:
        raise ValueError(f"not a UCAN 1.0 command: {command!r} ({error.message})") from None


class CharterMiddleware:
    """Lets a request under `prefix` through only when its Charter credentials verify, as Swift's middleware does.

    With `resource` and `ability` (`RequireCapability`) the request must carry a 0.10 token granting them; with
    `command` (`RequireInvocation`) a 1.0 invocation of exactly that command, accepted once. The verified
    `VerifiedToken` or `VerifiedInvocation` is put in `scope["charter"]` and `scope["state"]["charter"]`
    (`request.state.charter` in Starlette and FastAPI) before the application runs.

    >>> app = CharterMiddleware(app, verifier, prefix="/api", resource="mailto:*", ability="email/send")
    >>> app.add_middleware(CharterMiddleware, verifier=verifier, prefix="/send", command="/email/send")  # Starlette

    `prefix` covers itself and every path below it (`/api` covers `/api` and `/api/x`, not `/apix`); a path is
    covered when either the full path or the path less the mount's `root_path` is. Other paths, and lifespan
    events, go straight to the application. A refused WebSocket handshake is answered with the same HTTP response
    when the server supports the `websocket.http.response` extension, else closed with code 1008.

    With `protected_resource` (a `ProtectedResource`), the middleware also answers its RFC 9728 document at
    `protected_resource.metadata_path`, without credentials, and its challenges name it (`resource_metadata`).
    """

    def __init__(
        self, app: ASGIApp, verifier: Verifier, *, prefix: str = "/", resource: str | None = None,
        ability: str | None = None, command: str | None = None, protected_resource: ProtectedResource | None = None,
    ) -> None:
        if command is not None and (resource is not None or ability is not None):
            raise ValueError("protect a path with a capability (resource and ability) or a command, not both")
        if command is None and (resource is None or ability is None):
            raise ValueError("CharterMiddleware needs resource and ability (0.10 tokens) or command (1.0)")
        if not prefix.startswith("/"):
            raise ValueError("the prefix is a path such as /api")
        self.app = app
        self.verifier = verifier
        self.prefix = prefix.rstrip("/")
        self.capability = Capability(resource, ability) if resource is not None and ability is not None else None
        if self.capability is not None:
            check_scope(self.capability.ability)  # a challenge names it as the scope a token needs
        self.command = _command(command) if command is not None else None
        self.protected_resource = protected_resource

    def __repr__(self) -> str:
        needs = self.command if self.command is not None else str(self.capability)
        return f"CharterMiddleware(prefix={self.prefix or '/'!r}, requiring={needs!r})"

    def covers(self, path: str) -> bool:
        return not self.prefix or path == self.prefix or path.startswith(self.prefix + "/")

    def verify(self, scope: Scope) -> Verified:
        """The request's verified credentials; raises VerificationError with the reason it is refused."""
        headers = request_headers(scope.get("headers") or ())
        if self.command is not None:
            return verify_invocation(self.verifier, headers, self.command)
        assert self.capability is not None
        return verify_capability(self.verifier, headers, self.capability)

    def serves_metadata(self, scope: Scope) -> bool:
        """Whether the request is for the protected resource's RFC 9728 document."""
        resource = self.protected_resource
        return resource is not None and scope["type"] == "http" and \
            resource.metadata_path in (scope.get("path", ""), route_path(scope))

    def challenge(self, scope: Scope, error: VerificationError) -> str | None:
        """The `WWW-Authenticate` a refusal of this request carries."""
        presented = any(name.lower() == b"authorization" for name, _ in scope.get("headers") or ())
        return challenge(error, presented=presented, protected_resource=self.protected_resource,
                         scope=self.capability.ability if self.capability is not None else None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.serves_metadata(scope):
            assert self.protected_resource is not None
            status, headers, body = metadata_response(self.protected_resource, scope.get("method", "GET"))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        if scope["type"] not in ("http", "websocket") or not (
                self.covers(scope.get("path", "")) or self.covers(route_path(scope))):
            await self.app(scope, receive, send)
            return
        try:
            verified = self.verify(scope)
        except VerificationError as error:
            await self._refuse(scope, send, error, self.challenge(scope, error))
            return
        remember(scope, verified)
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, error: VerificationError, www_authenticate: str | None) -> None:
        status, headers, body = refusal(error, www_authenticate)
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        elif "websocket.http.response" in (scope.get("extensions") or {}):
            await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
            await send({"type": "websocket.http.response.body", "body": body})
        else:
            await send({"type": "websocket.close", "code": 1008, "reason": error.code})


__all__ = ["CharterMiddleware", "ProtectedResource", "metadata_response", "refusal", "remember", "request_headers",
           "route_path", "verify_capability", "verify_invocation"]
