"""An MCP client that gets a Charter token the standard OAuth way and calls an MCP server's tools with it.

    CHARTER_CLIENT_ID=key_… CHARTER_CLIENT_SECRET=chr_live_… \\
        python SDKs/python/examples/mcp_client.py http://127.0.0.1:8000/mcp [tool [json-arguments]]

CHARTER_CLIENT_ID is the API key's id and CHARTER_CLIENT_SECRET the key itself (an `agent` key of an app whose
envelope registers the MCP server's URL, see mcp_server.py); CHARTER_SCOPE, optional, the abilities to ask for
(`email/send`; by default all the envelope grants). Nothing here is Charter's code:

1. the MCP server, asked without a token, answers 401 with `WWW-Authenticate: Bearer resource_metadata="…"`;
   its protected-resource metadata (RFC 9728) names the authorization server, Charter;
2. Charter's authorization-server metadata (RFC 8414) names its token endpoint;
3. client credentials there (RFC 6749 §4.4, `client_secret_basic`), with `resource` = the MCP server's URL
   (RFC 8707), give an access token made out to the MCP server;
4. the official `mcp` client lists the server's tools over streamable HTTP and calls one with that token; if the
   server answers 403 `insufficient_scope` with the scope the tool needs, the client asks Charter for it and
   calls again (the MCP spec's step-up).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client


class OAuthError(Exception):
    """A refusal from the token endpoint (RFC 6749 §5.2), or a discovery step that did not check out."""

    def __init__(self, error: str, description: str = "", status: int | None = None) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class Discovered:
    resource: str  # the MCP server's resource identifier, for `resource=`
    issuer: str  # the authorization server, as the resource names it and as it names itself
    token_endpoint: str


@dataclass(frozen=True)
class Grant:
    access_token: str
    expires_in: int
    scope: str


@dataclass(frozen=True)
class Session:
    tools: list[str]
    called: str | None  # the tool called
    result: str | None  # its text content
    is_error: bool


def discover(mcp_url: str, http: httpx.Client) -> Discovered:
    """Steps 1 and 2: from the MCP server's challenge to Charter's token endpoint."""
    probe = http.post(mcp_url, json={"jsonrpc": "2.0", "id": 0, "method": "ping"},
                      headers={"Accept": "application/json, text/event-stream"})
    found = re.search(r'resource_metadata="([^"]+)"', probe.headers.get("www-authenticate", ""))
    if probe.status_code != 401 or found is None:
        raise OAuthError("discovery_failed", f"{mcp_url} answered {probe.status_code} with no resource_metadata")
    metadata = http.get(found.group(1)).raise_for_status().json()
    servers = metadata.get("authorization_servers") or []
    if not servers:
        raise OAuthError("discovery_failed", "the protected-resource metadata names no authorization server")
    issuer = str(servers[0]).rstrip("/")
    # RFC 8414 §3: the metadata of issuer https://as/x is at https://as/.well-known/oauth-authorization-server/x.
    origin, _, path = issuer.partition("://")[2].partition("/")
    well_known = f"{issuer.partition('://')[0]}://{origin}/.well-known/oauth-authorization-server"
    server = http.get(well_known + (f"/{path}" if path else "")).raise_for_status().json()
    if server.get("issuer") != issuer:  # RFC 8414 §3.3: else the metadata may be an impostor's
        raise OAuthError("discovery_failed", f"the metadata names issuer {server.get('issuer')!r}, not {issuer!r}")
    if "client_credentials" not in server.get("grant_types_supported", []):
        raise OAuthError("discovery_failed", f"{issuer} does not offer client credentials")
    return Discovered(str(metadata["resource"]), issuer, str(server["token_endpoint"]))


def fetch_token(http: httpx.Client, discovered: Discovered, client_id: str, client_secret: str,
                scope: str | None = None) -> Grant:
    """Step 3: client credentials, authenticated by HTTP Basic (each part form-urlencoded, RFC 6749 §2.3.1)."""
    form = {"grant_type": "client_credentials", "resource": discovered.resource}
    if scope:
        form["scope"] = scope
    answer = http.post(discovered.token_endpoint, data=form,
                       auth=(quote(client_id, safe=""), quote(client_secret, safe="")))
    body: Any = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
    if answer.status_code != 200:
        raise OAuthError(str(body.get("error", "server_error")), str(body.get("error_description", "")),
                         answer.status_code)
    if body.get("token_type", "").lower() != "bearer":
        raise OAuthError("unexpected_response", f"token_type {body.get('token_type')!r}")
    return Grant(body["access_token"], int(body["expires_in"]), str(body.get("scope", "")))


class Refused(Exception):
    """The MCP server refused the token: its status and `WWW-Authenticate` challenge (RFC 6750)."""

    def __init__(self, status: int, challenge: str) -> None:
        super().__init__(f"{status} {challenge}")
        self.status = status
        self.challenge = challenge

    @property
    def needed_scope(self) -> str | None:
        """The scope a 403 `insufficient_scope` names: what to ask the authorization server for."""
        if self.status != 403 or 'error="insufficient_scope"' not in self.challenge:
            return None
        found = re.search(r'(?:^|[ ,])scope="([^"]+)"', self.challenge)
        return found.group(1) if found else None


async def call(mcp_url: str, access_token: str, tool: str | None = None,
               arguments: dict[str, Any] | None = None) -> Session:
    """Step 4: the official MCP client, over streamable HTTP, with the token on every request. Raises Refused when
    the server refuses the token (the MCP client itself only reports that an error occurred)."""
    refusals: list[httpx2.Response] = []

    async def note(response: httpx2.Response) -> None:
        if response.status_code in (401, 403):
            refusals.append(response)

    headers = {"Authorization": f"Bearer {access_token}"}
    try:
        async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300),
                                      event_hooks={"response": [note]}) as http:
            async with Client(streamable_http_client(mcp_url, http_client=http)) as client:
                listed = await client.list_tools()
                names = [listed_tool.name for listed_tool in listed.tools]
                if tool is None:
                    return Session(names, None, None, False)
                result = await client.call_tool(tool, arguments or {})
                text = "".join(getattr(part, "text", "") for part in result.content)
                return Session(names, tool, text, bool(result.is_error))
    except Exception as error:  # the MCP client's failures arrive wrapped in task-group exception groups
        if refusals:
            raise Refused(refusals[-1].status_code, refusals[-1].headers.get("www-authenticate", "")) from error
        raise


def run(mcp_url: str, client_id: str, client_secret: str, tool: str | None = None,
        arguments: dict[str, Any] | None = None, scope: str | None = None,
        http: httpx.Client | None = None) -> tuple[Grant, Session]:
    """The whole exchange: discover, get a token, list the tools and call one. When the server answers that the
    tool needs a scope the token lacks (403 `insufficient_scope`), ask Charter once more for the token's scopes and
    that one, and call again (the MCP spec's step-up; Charter refuses with `invalid_scope` if the envelope does not
    grant it)."""
    with httpx.Client(timeout=30) if http is None else nullcontext(http) as client:
        discovered = discover(mcp_url, client)
        grant = fetch_token(client, discovered, client_id, client_secret, scope)
        try:
            return grant, asyncio.run(call(mcp_url, grant.access_token, tool, arguments))
        except Refused as refused:
            needed = refused.needed_scope
            if needed is None or needed in grant.scope.split():
                raise
        wider = " ".join(sorted(set(grant.scope.split()) | {needed}))
        grant = fetch_token(client, discovered, client_id, client_secret, wider)
    return grant, asyncio.run(call(mcp_url, grant.access_token, tool, arguments))


def main() -> None:
    client_id, secret = os.environ.get("CHARTER_CLIENT_ID", ""), os.environ.get("CHARTER_CLIENT_SECRET", "")
    if len(sys.argv) < 2 or not client_id or not secret:
        print(__doc__)
        sys.exit(64)
    tool = sys.argv[2] if len(sys.argv) > 2 else None
    arguments = json.loads(sys.argv[3]) if len(sys.argv) > 3 else None
    try:
        grant, session = run(sys.argv[1], client_id, secret, tool, arguments, os.environ.get("CHARTER_SCOPE"))
    except OAuthError as error:
        print(f"mcp-client: Charter refused: {error}", file=sys.stderr)
        sys.exit(1)
    except Refused as refused:
        print(f"mcp-client: the MCP server refused: {refused}", file=sys.stderr)
        sys.exit(1)
    print(f"token for scope {grant.scope!r}, {grant.expires_in}s; tools: {', '.join(session.tools)}")
    if session.called is not None:
        print(f"{session.called}: {'error: ' if session.is_error else ''}{session.result}")


if __name__ == "__main__":
    main()
