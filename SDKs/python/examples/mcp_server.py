"""An MCP server whose tools Charter protects: the official `mcp` package's MCPServer over streamable HTTP on
loopback, an OAuth resource server (RFC 9728) that names Charter as its authorization server.

    pip install './SDKs/python[mcp]' uvicorn
    CHARTER_URL=http://127.0.0.1:8080 CHARTER_ORGANIZATION=org_… PORT=8000 python SDKs/python/examples/mcp_server.py

It accepts tokens of the organization CHARTER_ORGANIZATION names that are addressed to its own DID; its key is new
on every start unless CHARTER_SERVICE_IDENTITY names an identity file (created on first use). It prints its URL
and DID: register them on the envelope of the agents' app, so that Charter's token endpoint mints tokens for it
when a client asks for `resource=<its URL>`:

    POST /v1/envelopes {"app_id": "app_…", "name": "mail", "max_ttl_seconds": 600,
                        "capabilities": {"mailto:*": {"email/send": [{}]}},
                        "audiences": {"http://127.0.0.1:8000/mcp": "did:key:z6Mk…"}}

Tools: `send_email` needs email/send on mailto:*, `read_inbox` email/read on mailto:*, `whoami` any valid token.
Without a token the server answers 401 `WWW-Authenticate: Bearer resource_metadata="…"`; a tool the token does
not cover, 403 `Bearer error="insufficient_scope", scope="email/read", …`. mcp_client.py calls it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from urllib.parse import urlsplit

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer

from charter_sdk import Capability, FeedError, SigningKey, Verifier
from charter_sdk.asgi import ASGIApp
from charter_sdk.mcp import CharterMCPAuth, CharterTokenVerifier, protected_resource

log = logging.getLogger("example-mcp-server")

TOOLS: dict[str, Capability | None] = {
    "send_email": Capability("mailto:*", "email/send"),
    "read_inbox": Capability("mailto:*", "email/read"),
    "whoami": None,
}
"""What each tool's `tools/call` needs the token to grant (None: only that the token verifies)."""


def create_server(charter_url: str, resource_url: str, verifier: Verifier) -> MCPServer:
    """The MCP server and its tools. The `mcp` package serves the protected-resource metadata and hands each tool
    the verified token (`get_access_token()`)."""
    server = MCPServer(
        "charter-mail", token_verifier=CharterTokenVerifier(verifier, resource=resource_url),
        # Validated from plain strings, so that the issuer keeps Charter's spelling (no trailing slash added). The
        # Verifier checks the token's audience (this server's DID), so mcp need not compare resources.
        auth=AuthSettings.model_validate({"issuer_url": charter_url, "resource_server_url": resource_url,
                                          "validate_token_resource": False}))

    def caller() -> str:
        access = get_access_token()
        return access.client_id if access is not None else "?"

    @server.tool()
    def send_email(to: str, subject: str) -> str:
        """Send an email (needs email/send on mailto:*)."""
        return f"sent {subject!r} to {to} for {caller()}"

    @server.tool()
    def read_inbox() -> str:
        """Read the inbox (needs email/read on mailto:*)."""
        return f"no new mail for {caller()}"

    @server.tool()
    def whoami() -> str:
        """Who the verified Charter token says is calling."""
        access = get_access_token()
        if access is None:
            return "{}"
        return json.dumps({"client_id": access.client_id, "scopes": access.scopes, "claims": access.claims},
                          sort_keys=True)

    return server


def create_app(charter_url: str, resource_url: str, verifier: Verifier) -> ASGIApp:
    """The ASGI app: the MCP server's streamable HTTP app at the resource URL's path, behind CharterMCPAuth,
    which refuses each request and `tools/call` its token does not allow. The caller syncs (and starts) the
    verifier."""
    server = create_server(charter_url, resource_url, verifier)
    assert server.settings.auth is not None
    app = server.streamable_http_app(streamable_http_path=urlsplit(resource_url).path or "/")
    return CharterMCPAuth(app, verifier, protected_resource(server.settings.auth), tools=TOOLS)


def main() -> None:
    import uvicorn

    from charter_sdk.identity import load_identity

    organization = os.environ.get("CHARTER_ORGANIZATION", "")
    if not organization:
        print("example-mcp-server: set CHARTER_ORGANIZATION to the id of the organization whose tokens to accept")
        sys.exit(64)
    charter = os.environ.get("CHARTER_URL", "http://127.0.0.1:8080").rstrip("/")
    port = int(os.environ.get("PORT", "8000"))
    path = os.environ.get("CHARTER_SERVICE_IDENTITY")
    identity = load_identity(path) if path else SigningKey.generate()
    resource = f"http://127.0.0.1:{port}/mcp"
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per sync round
    # Syncs issuers and revocations every 10 s; refuses tokens (503) if that data gets over 60 s old.
    verifier = Verifier(charter, audiences=[identity.did], organizations=[organization])
    try:
        verifier.sync()  # so that the first requests are not refused as not_synced
    except FeedError as error:
        log.warning("first sync failed (%s); retrying in the background", error)
    verifier.start()
    print(f"example-mcp-server: {resource} as {identity.did}, trusting {charter}", flush=True)
    try:
        uvicorn.run(create_app(charter, resource, verifier), host="127.0.0.1", port=port, log_level="warning")
    finally:
        verifier.close()


if __name__ == "__main__":
    main()
