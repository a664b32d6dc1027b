"""A FastAPI service that accepts Charter-minted UCANs, verified offline: the Python twin of Examples/Service.

    pip install './SDKs/python[fastapi]' uvicorn
    CHARTER_URL=http://127.0.0.1:8080 CHARTER_ORGANIZATION=org_… PORT=8081 python SDKs/python/examples/service.py

It accepts only tokens of the organization CHARTER_ORGANIZATION names (its id, as GET /v1/me shows it), and prints
its DID (also at GET /did). Its key is new on every start unless CHARTER_SERVICE_IDENTITY names an identity file
(created on first use, as `charter ucan keygen` writes one).

    POST /email/send  UCAN 1.0: an invocation of /email/send signed by the agent, in Authorization (base64), and
                      the delegations it cites in a `ucans` header; each invocation is accepted once, and only
                      when its arguments satisfy the envelope's policy (agent.py does all of this).
    POST /send        UCAN 0.10: a token for this service's DID granting email/send on mailto:* in Authorization;
                      a delegated token with its proofs in `ucans`, comma-separated.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.responses import PlainTextResponse

from charter_sdk import FeedError, SigningKey, VerifiedInvocation, VerifiedToken, Verifier
from charter_sdk.fastapi import handle_refusals, require_capability, require_invocation

log = logging.getLogger("example-service")


def create_app(charter_url: str, organization: str, identity: SigningKey | None = None, *,
               environments: Iterable[str] = ("live",)) -> FastAPI:
    """The service: its DID is `identity`'s (a new key by default), the audience it accepts."""
    key = identity if identity is not None else SigningKey.generate()
    # Syncs issuers and revocations from Charter every 10 s; refuses tokens (503) if that data gets over 60 s old.
    verifier = Verifier(charter_url, audiences=[key.did], organizations=[organization], environments=environments)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            verifier.sync()  # so that the first requests are not refused as not_synced
        except FeedError as error:
            log.warning("first sync failed (%s); retrying in the background", error)
        verifier.start()
        try:
            yield
        finally:
            verifier.close()

    app = FastAPI(title="example-service", lifespan=lifespan)
    app.state.did = key.did
    app.state.verifier = verifier
    handle_refusals(app)  # refusals as Charter's middleware answers them: {"error": {"code", "message", …}}

    @app.get("/did", response_class=PlainTextResponse)
    async def did() -> str:
        return key.did + "\n"

    @app.post("/email/send", response_class=PlainTextResponse)
    async def email_send(call: VerifiedInvocation = Depends(require_invocation(verifier, "/email/send"))) -> str:
        to = call.arguments.get("to")
        if not isinstance(to, str):
            return "say whom to send to\n"
        return f"sent to {to} for {call.agent}, app {call.app or '?'} under envelope {call.envelope or '?'}\n"

    @app.post("/send", response_class=PlainTextResponse)
    async def send(token: VerifiedToken = Depends(require_capability(verifier, "mailto:*", "email/send"))) -> str:
        return f"sent for app {token.app or '?'} under envelope {token.envelope or '?'}\n"

    return app


def main() -> None:
    import uvicorn

    from charter_sdk.identity import load_identity

    organization = os.environ.get("CHARTER_ORGANIZATION", "")
    if not organization:
        print("example-service: set CHARTER_ORGANIZATION to the id of the organization whose tokens to accept")
        sys.exit(64)
    charter = os.environ.get("CHARTER_URL", "http://127.0.0.1:8080")
    port = int(os.environ.get("PORT", "8081"))
    path = os.environ.get("CHARTER_SERVICE_IDENTITY")
    identity = load_identity(path) if path else SigningKey.generate()
    app = create_app(charter, organization, identity)
    print(f"example-service: {identity.did} on http://127.0.0.1:{port}, trusting {charter}", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
