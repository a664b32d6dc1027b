"""Charter's `RequireCapability` and `RequireInvocation` as FastAPI dependencies (Starlette underneath).

    from charter_sdk.fastapi import handle_refusals, require_capability, require_invocation

    app = FastAPI()
    handle_refusals(app)                    # refusals answered exactly as Charter's middleware answers them

    @app.post("/mail")
    async def mail(verified: VerifiedToken = Depends(require_capability(verifier, "mailto:*", "email/send"))):
        ...

    @app.post("/send")
    async def send(call: VerifiedInvocation = Depends(require_invocation(verifier, "/email/send"))):
        call.arguments                      # verified: every policy on the chain holds on them

A refused request raises `CharterRefusal`, an `HTTPException` with the status (401, 403 or 503) and the RFC 6750
challenge `charter_sdk.resource.challenge` gives (`WWW-Authenticate: Bearer` on a 401, with `error="invalid_token"`
when a credential was presented; `Bearer error="insufficient_scope", scope="<ability>"` on a capability's 403);
with `handle_refusals(app)` (or `exception_handlers=EXCEPTION_HANDLERS`) its body is Charter's
`{"error":{"code","message","field"?}}`, else the framework's default for an HTTPException. Needs the `fastapi` (or
`starlette`) extra: `pip install 'charter-sdk[fastapi]'`.

As an OAuth protected resource (RFC 9728), pass the same `ProtectedResource` to the dependencies (their challenges
then name its metadata) and to `serve_protected_resource(app, resource)`, which answers the document:

    resource = ProtectedResource("https://mail.example.com/api", [charter_url], scopes_supported=["email/send"])
    serve_protected_resource(app, resource)      # GET /.well-known/oauth-protected-resource/api
    require_capability(verifier, "mailto:*", "email/send", protected_resource=resource)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

try:
    from starlette.exceptions import HTTPException
    from starlette.requests import HTTPConnection, Request
    from starlette.responses import Response
except ImportError as missing:  # the core package needs no framework; this module does
    raise ImportError("charter_sdk.fastapi needs Starlette: pip install 'charter-sdk[fastapi]' (or [starlette])",
                      name=missing.name) from missing

from .asgi import STATE_KEY, _command, metadata_response, refusal, request_headers, verify_capability, \
    verify_invocation
from .errors import VerificationError
from .resource import ProtectedResource, challenge, check_scope
from .ucan import Capability
from .verifier import VerifiedInvocation, VerifiedToken, Verifier


Handler = Callable[[Request, Exception], Awaitable[Response]]


class CharterRefusal(HTTPException):
    """A request refused by a Charter dependency; `error` is the VerificationError, with its code and field."""

    def __init__(self, error: VerificationError, www_authenticate: str | None = None) -> None:
        super().__init__(error.status, error.message,
                         headers={"WWW-Authenticate": www_authenticate} if www_authenticate is not None else None)
        self.error = error

    def __repr__(self) -> str:
        return f"CharterRefusal({self.error!r})"


async def refusal_handler(request: Request, exc: Exception) -> Response:
    """Answers a `CharterRefusal` as Charter's middleware does (the exception handler `handle_refusals` adds)."""
    if not isinstance(exc, CharterRefusal):
        raise exc
    status, _, body = refusal(exc.error)
    return Response(body, status_code=status, media_type="application/json", headers=exc.headers)


EXCEPTION_HANDLERS: Mapping[int | type[Exception], Handler] = {CharterRefusal: refusal_handler}
"""For `FastAPI(exception_handlers=…)` or `Starlette(exception_handlers=…)`."""


class _App(Protocol):
    """What `handle_refusals` needs of an application: FastAPI's and Starlette's `add_exception_handler`."""

    def add_exception_handler(self, exc_class_or_status_code: int | type[Exception],
                              handler: Handler) -> None: ...


class _Routes(Protocol):
    """What `serve_protected_resource` needs of an application: FastAPI's and Starlette's `add_route`."""

    def add_route(self, path: str, route: Callable[[Request], Awaitable[Response]], methods: list[str] | None = None,
                  name: str | None = None, include_in_schema: bool = True) -> None: ...


def handle_refusals(app: _App) -> None:
    """Makes `app` answer a refused request with Charter's JSON body (call it before the app serves)."""
    app.add_exception_handler(CharterRefusal, refusal_handler)


def _refusal(connection: HTTPConnection, error: VerificationError, scope: str | None,
             protected_resource: ProtectedResource | None) -> CharterRefusal:
    presented = any(name.lower() == b"authorization" for name, _ in connection.scope.get("headers") or ())
    return CharterRefusal(error, challenge(error, presented=presented, scope=scope,
                                           protected_resource=protected_resource))


def serve_protected_resource(app: _Routes, resource: ProtectedResource) -> None:
    """Makes `app` (FastAPI or Starlette) answer `resource`'s RFC 9728 document at its metadata path, for anyone."""

    async def protected_resource_metadata(request: Request) -> Response:
        status, headers, body = metadata_response(resource, request.method)
        return Response(body, status_code=status,
                        headers={name.decode(): value.decode() for name, value in headers if name != b"content-length"})

    app.add_route(resource.metadata_path, protected_resource_metadata, methods=["GET", "HEAD", "OPTIONS"],
                  include_in_schema=False)


def require_capability(
    verifier: Verifier, resource: str, ability: str, *, protected_resource: ProtectedResource | None = None,
) -> Callable[[HTTPConnection], Awaitable[VerifiedToken]]:
    """A dependency that verifies the request's 0.10 token (and its `ucans` proofs) grants `ability` on
    `resource`, returning the `VerifiedToken` (also in `request.state.charter`); else raises `CharterRefusal`, whose
    challenge names `protected_resource`'s metadata when given."""
    capability = Capability(resource, ability)
    check_scope(capability.ability)

    async def charter_capability(connection: HTTPConnection) -> VerifiedToken:
        try:
            verified = verify_capability(verifier, request_headers(connection.scope.get("headers") or ()),
                                         capability)
        except VerificationError as error:
            raise _refusal(connection, error, capability.ability, protected_resource) from None
        setattr(connection.state, STATE_KEY, verified)
        return verified

    return charter_capability


def require_invocation(
    verifier: Verifier, command: str, *, protected_resource: ProtectedResource | None = None,
) -> Callable[[HTTPConnection], Awaitable[VerifiedInvocation]]:
    """A dependency that verifies the request carries a 1.0 invocation of exactly `command` (base64 in
    `Authorization: Bearer`, its delegations in `ucans`), accepting each invocation once, and returns the
    `VerifiedInvocation` (also in `request.state.charter`); else raises `CharterRefusal`."""
    checked = _command(command)

    async def charter_invocation(connection: HTTPConnection) -> VerifiedInvocation:
        try:
            verified = verify_invocation(verifier, request_headers(connection.scope.get("headers") or ()), checked)
        except VerificationError as error:
            raise _refusal(connection, error, None, protected_resource) from None
        setattr(connection.state, STATE_KEY, verified)
        return verified

    return charter_invocation


__all__ = ["EXCEPTION_HANDLERS", "CharterRefusal", "ProtectedResource", "handle_refusals", "refusal_handler",
           "require_capability", "require_invocation", "serve_protected_resource"]
