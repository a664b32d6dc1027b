"""The MCP examples end to end, over real HTTP on loopback: examples/mcp_server.py served by uvicorn, Charter's
`/oauth2/token` on the real `charter serve`, and the official `mcp` client: the example client's own discovery, and
the `mcp` package's ClientCredentialsOAuthProvider, which finds Charter from the server's 401 and steps up on a 403."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.auth import OAuthTokenError
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

from charter_sdk import SigningKey, Token, Verifier
from conftest import MAIL, ManualClock, Server, Tenant, make_tenant
from test_examples import example

BOTH = {"mailto:*": {"email/send": [{}], "email/read": [{}]}}
JSON_RPC = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


class Served:
    """examples/mcp_server.py on a loopback port of its own (uvicorn in a thread), for a tenant whose envelope
    registers its URL; its verifier runs on a test clock."""

    def __init__(self, server: Server, capabilities: Any) -> None:
        listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listening.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{listening.getsockname()[1]}/mcp"
        self.metadata = self.url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp")
        self.identity = SigningKey.generate()
        self.tenant: Tenant = make_tenant(server, capabilities=capabilities, audiences={self.url: self.identity.did},
                                          max_ttl=120)
        self.clock = ManualClock()
        self.verifier = Verifier(server.url, [self.identity.did], [self.tenant.org], clock=self.clock.now,
                                 max_feed_age=3600)
        self.verifier.sync()
        app = example("mcp_server").create_app(server.url, self.url, self.verifier)
        self.uvicorn = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.uvicorn.run, kwargs={"sockets": [listening]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.uvicorn.started:  # bounded: returns once uvicorn has bound its socket
            assert self.thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        self.uvicorn.should_exit = True
        self.thread.join(30)
        self.verifier.close()

    def token(self, scope: str | None = None) -> dict[str, Any]:
        form = {"grant_type": "client_credentials", "resource": self.url} | ({"scope": scope} if scope else {})
        answer = self.tenant.server.http.post("/oauth2/token", data=form, auth=(self.tenant.key_id, self.tenant.key))
        assert answer.status_code == 200, answer.text
        grant: dict[str, Any] = answer.json()
        return grant

    def works(self, token: str) -> str:
        """What `whoami` answers the official client holding `token` (the server keeps sessions: a raw call could
        not get past the MCP handshake)."""
        session = asyncio.run(example("mcp_client").call(self.url, token, "whoami"))
        assert not session.is_error and session.result is not None
        result: str = session.result
        return result

    def call(self, tool: str, token: str | None, arguments: Any = None) -> httpx.Response:
        """A raw `tools/call`, to read the HTTP answer an MCP client reacts to."""
        request = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": arguments
                                                                                 or {}}}
        bearer = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return httpx.post(self.url, json=request, headers=JSON_RPC | bearer | {"MCP-Protocol-Version": "2025-06-18"},
                          timeout=30)


def serve(server: Server, capabilities: Any) -> Iterator[Served]:
    served = Served(server, capabilities)
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
def mail(server: Server) -> Iterator[Served]:
    """The example server for an app whose envelope grants email/send only."""
    yield from serve(server, MAIL)


@pytest.fixture
def inbox(server: Server) -> Iterator[Served]:
    """The example server for an app whose envelope grants email/send and email/read."""
    yield from serve(server, BOTH)


def test_the_example_client_gets_a_token_and_calls_the_example_server(mail: Served) -> None:
    client = example("mcp_client")
    tenant = mail.tenant
    grant, session = client.run(mail.url, tenant.key_id, tenant.key, "send_email",
                                {"to": "ada@example.com", "subject": "hi"})
    assert (grant.scope, session.tools) == ("email/send", ["send_email", "read_inbox", "whoami"])
    assert (session.called, session.is_error) == ("send_email", False)
    assert session.result == f"sent 'hi' to ada@example.com for {tenant.key_id}"
    token = Token.parse(grant.access_token)
    assert token.audience == mail.identity.did and token.fact("envelope") == tenant.envelope
    # The example client's discovery, step by step: the 401 names the metadata, which names Charter.
    with httpx.Client(timeout=30) as http:
        discovered = client.discover(mail.url, http)
    assert (discovered.resource, discovered.issuer, discovered.token_endpoint) == (
        mail.url, tenant.server.url, tenant.server.url + "/oauth2/token")
    with pytest.raises(client.OAuthError) as refused:
        client.fetch_token(httpx.Client(timeout=30), discovered, tenant.key_id, tenant.key, "email/read")
    assert (refused.value.error, refused.value.status) == ("invalid_scope", 400)


def test_the_example_server_refuses_as_the_mcp_spec_says(mail: Served) -> None:
    missing = mail.call("whoami", None)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == f'Bearer resource_metadata="{mail.metadata}"'
    metadata = httpx.get(mail.metadata, timeout=30).json()
    assert metadata == {"resource": mail.url, "authorization_servers": [mail.tenant.server.url],
                        "bearer_methods_supported": ["header"]}
    invalid = f'Bearer error="invalid_token", resource_metadata="{mail.metadata}"'
    assert (mail.call("whoami", "x.y.z").status_code, mail.call("whoami", "x.y.z").headers["www-authenticate"]) == (
        401, invalid)
    grant = mail.token()
    token = grant["access_token"]
    assert json.loads(mail.works(token))["client_id"] == mail.tenant.key_id
    # A tool the token's scope does not cover: 403 and the scope to ask for.
    uncovered = mail.call("read_inbox", token)
    assert uncovered.status_code == 403 and uncovered.json()["error"]["code"] == "not_covered"
    assert uncovered.headers["www-authenticate"] == \
        f'Bearer error="insufficient_scope", scope="email/read", resource_metadata="{mail.metadata}"'
    # The official client, in the example, meets the same refusal; stepping up fails at Charter, whose envelope
    # does not grant email/read.
    client = example("mcp_client")
    with pytest.raises(client.Refused) as refused:
        asyncio.run(client.call(mail.url, token, "read_inbox"))
    assert (refused.value.status, refused.value.needed_scope) == (403, "email/read")
    with pytest.raises(client.OAuthError) as stepped:
        client.run(mail.url, mail.tenant.key_id, mail.tenant.key, "read_inbox")
    assert (stepped.value.error, stepped.value.status) == ("invalid_scope", 400)
    # Revoked: after one sync, a fresh token revoked by its CID is refused as well.
    fresh = mail.token()["access_token"]
    assert json.loads(mail.works(fresh))["scopes"] == ["email/send"]
    mail.tenant.revoke_token(str(Token.parse(fresh).cid))
    mail.verifier.sync()
    revoked = mail.call("whoami", fresh)
    assert (revoked.status_code, revoked.json()["error"]["code"], revoked.headers["www-authenticate"]) == (
        401, "revoked", invalid)
    with pytest.raises(client.Refused) as refused:
        asyncio.run(client.call(mail.url, fresh))
    assert (refused.value.status, refused.value.challenge, refused.value.needed_scope) == (401, invalid, None)
    # Expired, by the verifier's clock: the token's lifetime is the envelope's (120 s), and no real time passes.
    assert grant["expires_in"] == 120 or grant["expires_in"] == 119
    mail.clock.advance(grant["expires_in"] + mail.verifier.leeway + 2)
    mail.verifier.sync()
    expired = mail.call("whoami", token)
    assert (expired.status_code, expired.json()["error"]["code"], expired.headers["www-authenticate"]) == (
        401, "expired", invalid)


def test_the_example_client_steps_up_to_the_scope_a_tool_needs(inbox: Served) -> None:
    tenant = inbox.tenant
    grant, session = example("mcp_client").run(inbox.url, tenant.key_id, tenant.key, "read_inbox",
                                               scope="email/send")
    assert (grant.scope, session.result, session.is_error) == ("email/read email/send",
                                                               f"no new mail for {tenant.key_id}", False)


class Memory:
    """The `mcp` client's TokenStorage, in memory."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


async def with_mcp_oauth(served: Served, method: str, scope: str | None,
                         work: Callable[[Client], Any]) -> tuple[Any, Memory]:
    storage = Memory()
    provider = ClientCredentialsOAuthProvider(
        served.url, storage, served.tenant.key_id, served.tenant.key, token_endpoint_auth_method=method,  # type: ignore[arg-type]
        scope=scope, issuer=served.tenant.server.url)
    async with httpx2.AsyncClient(auth=provider, timeout=httpx2.Timeout(30, read=300)) as http:
        async with Client(streamable_http_client(served.url, http_client=http)) as client:
            return await work(client), storage


def text(result: Any) -> str:
    return "".join(getattr(part, "text", "") for part in result.content)


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_the_mcp_packages_oauth_client_finds_charter_and_steps_up(inbox: Served, method: str) -> None:
    async def work(client: Client) -> list[str]:
        sent = await client.call_tool("send_email", {"to": "ada@example.com", "subject": "hi"})
        read = await client.call_tool("read_inbox", {})  # 403 insufficient_scope, a new token, and again
        return [text(sent), text(read)]

    answers, storage = asyncio.run(with_mcp_oauth(inbox, method, "email/send", work))
    key_id = inbox.tenant.key_id
    assert answers == [f"sent 'hi' to ada@example.com for {key_id}", f"no new mail for {key_id}"]
    assert storage.tokens is not None and sorted((storage.tokens.scope or "").split()) == ["email/read", "email/send"]
    assert Token.parse(storage.tokens.access_token).audience == inbox.identity.did


def test_the_mcp_packages_oauth_client_cannot_step_up_past_the_envelope(mail: Served) -> None:
    async def work(client: Client) -> str:
        assert text(await client.call_tool("whoami", {})).startswith("{")
        return text(await client.call_tool("read_inbox", {}))

    with pytest.raises(Exception) as failed:
        asyncio.run(with_mcp_oauth(mail, "client_secret_basic", None, work))
    errors = leaves(failed.value)
    assert any(isinstance(error, OAuthTokenError) and "invalid_scope" in str(error) for error in errors), errors


def leaves(error: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups, as the MCP client's task groups raise them."""
    nested = getattr(error, "exceptions", None)
    return [leaf for inner in nested for leaf in leaves(inner)] if nested else [error]
