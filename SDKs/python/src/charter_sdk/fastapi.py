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

A refused request raises `CharterRefusal`, an `HTTPException` with the status (401, 403 or 503) and, on a 401,
`WWW-Authenticate: Bearer`; with `handle_refusals(app)` (or `exception_handlers=EXCEPTION_HANDLERS`) its body is
Charter's `{"error":{"code","message","field"?}}`, else the framework's default for an HTTPException. Needs the
`fastapi` (or `starlette`) extra: `pip install 'charter-sdk[fastapi]'`.
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

from .asgi import STATE_KEY, _command, refusal, request_headers, verify_capability, verify_invocation
from .errors import VerificationError
from .ucan import Capability
from .verifier import VerifiedInvocation, VerifiedToken, Verifier


Handler = Callable[[Request, Exception], Awaitable[Response]]


class CharterRefusal(HTTPException):
    """A request refused by a Charter dependency; `error` is the VerificationError, with its code and field."""

    def __init__(self, error: VerificationError) -> None:
        super().__init__(error.status, error.message,
                         headers={"WWW-Authenticate": "Bearer"} if error.status == 401 else None)
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


def handle_refusals(app: _App) -> None:
    """Makes `app` answer a refused request with Charter's JSON body (call it before the app serves)."""
    app.add_exception_handler(CharterRefusal, refusal_handler)


def require_capability(
    verifier: Verifier, resource: str, ability: str,
) -> Callable[[HTTPConnection], Awaitable[VerifiedToken]]:
    """A dependency that verifies the request's 0.10 token (and its `ucans` proofs) grants `ability` on
    `resource`, returning the `VerifiedToken` (also in `request.state.charter`); else raises `CharterRefusal`."""
    capability = Capability(resource, ability)

    async def charter_capability(connection: HTTPConnection) -> VerifiedToken:
        try:
            verified = verify_capability(verifier, request_headers(connection.scope.get("headers") or ()),
                                         capability)
        except VerificationError as error:
            raise CharterRefusal(error) from None
        setattr(connection.state, STATE_KEY, verified)
        return verified

    return charter_capability


def require_invocation(verifier: Verifier, command: str) -> Callable[[HTTPConnection], Awaitable[VerifiedInvocation]]:
    """A dependency that verifies the request carries a 1.0 invocation of exactly `command` (base64 in
    `Authorization: Bearer`, its delegations in `ucans`), accepting each invocation once, and returns the
    `VerifiedInvocation` (also in `request.state.charter`); else raises `CharterRefusal`."""
    checked = _command(command)

    async def charter_invocation(connection: HTTPConnection) -> VerifiedInvocation:
        try:
            verified = verify_invocation(verifier, request_headers(connection.scope.get("headers") or ()), checked)
        except VerificationError as error:
            raise CharterRefusal(error) from None
        setattr(connection.state, STATE_KEY, verified)
        return verified

    return charter_invocation


__all__ = ["EXCEPTION_HANDLERS", "CharterRefusal", "handle_refusals", "refusal_handler", "require_capability",
           "require_invocation"]
