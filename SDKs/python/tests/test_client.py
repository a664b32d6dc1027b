"""The agent SDK against a real Charter server: mint, cache, single flight, refusals, retries, refresh, identity."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import stat
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from charter_sdk import (
    AsyncClient, Capability, CharterError, Client, RetryPolicy, SigningKey, Token, UCANError)
from charter_sdk.ucan import ProofStore, validate
from conftest import CHARTER, MAIL, InstantClock, ManualClock, Server, Tenant

OPS = {"mailto:ops@example.com": {"email/send": [{}]}}
DEV = {"mailto:dev@example.com": {"email/send": [{}]}}


def issuers(server: Server) -> set[str]:
    return {issuer["did"] for issuer in server.ok("GET", "/v1/issuers")["issuers"]}


def test_a_token_comes_from_the_server_once_and_then_from_the_cache(server: Server, tenant: Tenant) -> None:
    with Client(server.url, tenant.key, identity=SigningKey.generate()) as agent:
        token = agent.token(OPS)
        assert token.audience == agent.did
        assert token.fact("key") == tenant.key_id and token.fact("envelope") == tenant.envelope
        chain = validate(token, ProofStore(), int(agent.clock.now()), trusted_issuers=issuers(server),
                         audiences={agent.did})
        assert chain.root_issuers == {token.issuer}
        assert agent.token(OPS).text == token.text
        assert agent.token([Capability("mailto:ops@example.com", "email/send")]).text == token.text, \
            "Capability objects and the cap map name the same grant"
        assert agent.token(DEV).text != token.text, "another capability set is another token"
    assert tenant.audited() == 2


def test_a_thousand_concurrent_threads_cause_one_mint(server: Server, tenant: Tenant) -> None:
    with Client(server.url, tenant.key, identity=SigningKey.generate()) as agent:
        barrier = threading.Barrier(100)
        tokens: set[str] = set()
        errors: list[BaseException] = []
        lock = threading.Lock()

        def call() -> None:
            barrier.wait()
            for _ in range(10):
                try:
                    text = agent.token(OPS).text
                except BaseException as error:  # noqa: BLE001 - collected for the assertion
                    errors.append(error)
                    return
                with lock:
                    tokens.add(text)

        threads = [threading.Thread(target=call) for _ in range(100)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == [] and len(tokens) == 1
    assert tenant.audited() == 1


def test_a_thousand_concurrent_coroutines_cause_one_mint(server: Server, tenant: Tenant) -> None:
    async def run() -> set[str]:
        async with AsyncClient(server.url, tenant.key, identity=SigningKey.generate()) as agent:
            tokens = await asyncio.gather(*(agent.token(OPS) for _ in range(1000)))
            return {token.text for token in tokens}

    assert len(asyncio.run(run())) == 1
    assert tenant.audited() == 1


class CountingTransport(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return super().handle_request(request)


def test_a_refusal_surfaces_at_once_with_the_servers_code(server: Server, tenant: Tenant) -> None:
    transport = CountingTransport()
    with Client(server.url, tenant.key, identity=SigningKey.generate(), clock=InstantClock(),
                transport=transport) as agent:
        with pytest.raises(CharterError) as refused:
            agent.token({"https://bank.example.com": {"money/move": [{}]}})
        assert (refused.value.code, refused.value.status, refused.value.field) == (
            "capability_not_in_envelope", 403, "capabilities")
        assert not refused.value.transient
        assert transport.requests == 1, "refusals are not retried"
        # Charter writes a denial's audit record shortly after answering (not before, as it does for a mint).
        deadline = time.monotonic() + 15
        while tenant.audited(outcome="denied") == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert tenant.audited(outcome="denied") == 1

        server.ok("POST", f"/v1/keys/{tenant.key_id}/revoke")
        with pytest.raises(CharterError) as revoked:
            agent.token(OPS)
        assert (revoked.value.code, revoked.value.status) == ("api_key_revoked", 401)


def test_a_refusal_carries_the_servers_code_status_and_field(server: Server, tenant: Tenant) -> None:
    with Client(server.url, tenant.key, identity=SigningKey.generate(), ttl_seconds=0) as agent:
        with pytest.raises(CharterError) as error:
            agent.token(OPS)
    assert (error.value.code, error.value.status, error.value.field) == ("validation_failed", 422, "ttl_seconds")


def test_transient_failures_are_retried_with_backoff(server: Server, tenant: Tenant) -> None:
    """A hop in front of Charter that fails the first calls the way an overloaded proxy would."""
    upstream = httpx.Client(base_url=server.url)
    answers = [httpx.Response(503), httpx.Response(429, headers={"Retry-After": "2"},
                                                   json={"error": {"code": "rate_limited", "message": "slow down"}})]
    attempts: list[httpx.Request] = []

    def hop(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        if answers:
            return answers.pop(0)
        forwarded = upstream.post("/v1/authorize", content=request.content,
                                  headers={"Authorization": request.headers["Authorization"],
                                           "Content-Type": "application/json"})
        return httpx.Response(forwarded.status_code, content=forwarded.content)

    clock = InstantClock()
    with Client("http://charter.invalid", tenant.key, identity=SigningKey.generate(), clock=clock,
                retry=RetryPolicy(attempts=4, initial_delay=0.02), transport=httpx.MockTransport(hop)) as agent:
        token = agent.token(OPS)
    assert token.audience == agent.did
    assert len(attempts) == 3
    assert clock.waits == [0.02, 2.0], "exponential backoff, then the server's Retry-After"
    upstream.close()


def test_retry_after_is_capped_and_attempts_run_out(tenant: Tenant) -> None:
    def overloaded(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "3600"},
                              json={"error": {"code": "rate_limited", "message": "slow down"}})

    clock = InstantClock()
    with Client("http://charter.invalid", tenant.key, identity=SigningKey.generate(), clock=clock,
                transport=httpx.MockTransport(overloaded)) as agent:
        with pytest.raises(CharterError) as error:
            agent.token(OPS)
    assert (error.value.code, error.value.status, error.value.retry_after) == ("rate_limited", 429, 3600)
    assert clock.waits == [5.0] * 4, "five attempts, each wait capped at max_delay"


def test_an_unreachable_server_is_retried_then_reported(tenant: Tenant) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    clock = InstantClock()
    with Client("http://127.0.0.1:9", tenant.key, identity=SigningKey.generate(), clock=clock,
                retry=RetryPolicy(attempts=3, initial_delay=0.1), transport=httpx.MockTransport(refuse)) as agent:
        with pytest.raises(CharterError) as error:
            agent.token(OPS)
    assert error.value.code == "server_unreachable" and error.value.status is None
    assert clock.waits == [0.1, 0.2]
    assert tenant.key not in str(error.value)


def test_a_redirect_is_refused_so_the_key_never_follows_it(server: Server, tenant: Tenant) -> None:
    def redirect(request: httpx.Request) -> httpx.Response:
        return httpx.Response(307, headers={"Location": server.url + "/v1/authorize"})

    with Client("http://charter.invalid", tenant.key, identity=SigningKey.generate(),
                transport=httpx.MockTransport(redirect), retry=RetryPolicy(attempts=1)) as agent:
        with pytest.raises(CharterError) as error:
            agent.token(OPS)
    assert (error.value.code, error.value.status) == ("unexpected_response", 307)
    assert tenant.audited() == 0, "the key did not reach the redirect's target"


def test_a_token_is_refreshed_in_the_background_at_80_percent(server: Server, tenant: Tenant) -> None:
    clock = ManualClock()
    with Client(server.url, tenant.key, identity=SigningKey.generate(), ttl_seconds=600, clock=clock) as agent:
        issued = clock.now()
        first = agent.token(OPS)
        assert first.expiration is not None
        refresh_at = clock.deadline_after(issued)
        assert refresh_at == pytest.approx(issued + (first.expiration - issued) * 0.8), "at 80% of the lifetime"

        clock.advance(refresh_at - issued - 1)
        assert agent.token(OPS).text == first.text
        assert tenant.audited() == 1, "nothing is minted before then"

        # No call is made: the refresh runs on its own, and once it has stored the new token it schedules the
        # next refresh, which is the moment to look.
        clock.advance(1)
        next_refresh = clock.deadline_after(refresh_at)
        second = agent.token(OPS)
        assert second.text != first.text, "the refreshed token replaced the first while it was still valid"
        assert tenant.audited() == 2
        assert second.expiration is not None and second.expiration >= first.expiration
        assert next_refresh < second.expiration

        # Past its expiry a token is never handed out: the caller waits for a new one.
        clock.advance(second.expiration - clock.now() + 1)
        third = agent.token(OPS)
        assert third.text not in (first.text, second.text)


def test_the_async_client_refreshes_in_the_background_too(server: Server, tenant: Tenant) -> None:
    clock = ManualClock()

    async def run() -> None:
        async with AsyncClient(server.url, tenant.key, identity=SigningKey.generate(), ttl_seconds=600,
                               clock=clock) as agent:
            issued = clock.now()
            first = await agent.token(OPS)
            assert first.expiration is not None
            while not clock.deadlines:
                await asyncio.sleep(0.001)
            refresh_at = clock.deadlines[0]
            assert refresh_at == pytest.approx(issued + (first.expiration - issued) * 0.8)
            clock.advance(refresh_at - issued)
            while len(clock.deadlines) < 2:
                await asyncio.sleep(0.001)
            assert (await agent.token(OPS)).text != first.text

    asyncio.run(asyncio.wait_for(run(), 30))
    assert tenant.audited() == 2


def test_the_identity_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    file = tmp_path / "charter" / "identity.json"
    first = Client("http://127.0.0.1:9", "chr_test_x", identity=file)
    again = Client("http://127.0.0.1:9", "chr_test_x", identity=str(file))
    assert first.did == again.did
    assert stat.S_IMODE(os.stat(file).st_mode) == 0o600
    stored = json.loads(file.read_text())
    assert set(stored) == {"did", "secret_key"} and stored["did"] == first.did
    assert len(base64.b64decode(stored["secret_key"])) == 64, "libsodium's 64-byte secret key, as keygen writes it"
    # The charter CLI reads the same file format: a token it signs with that key names the same DID.
    token = subprocess.run([CHARTER, "ucan", "build", "--issuer-key", stored["secret_key"], "--audience",
                            first.did, "--expiration", "never"], capture_output=True, text=True, check=True)
    assert Token.parse(token.stdout.strip()).issuer == first.did
    keygen = json.loads(subprocess.run([CHARTER, "ucan", "keygen"], capture_output=True, text=True,
                                       check=True).stdout)
    (tmp_path / "cli.json").write_text(json.dumps(keygen))
    assert Client("http://127.0.0.1:9", "chr_test_x", identity=tmp_path / "cli.json").did == keygen["did"]

    file.write_text('{"secret_key":"nope"}')
    with pytest.raises(CharterError) as broken:
        Client("http://127.0.0.1:9", "chr_test_x", identity=file)
    assert broken.value.code == "identity_unreadable"


def test_the_key_comes_from_the_environment_and_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARTER_API_KEY", "chr_live_secretsecret")
    agent = Client("http://127.0.0.1:9", identity=SigningKey.generate())
    assert "chr_live_secretsecret" not in repr(agent) + str(vars(agent).keys())
    assert "chr_live_secretsecret" not in repr(agent.identity) and "secret" not in repr(agent.identity).lower()
    monkeypatch.delenv("CHARTER_API_KEY")
    with pytest.raises(CharterError) as missing:
        Client("http://127.0.0.1:9", identity=SigningKey.generate())
    assert missing.value.code == "api_key_missing"


def test_a_delegation_narrows_and_never_widens(server: Server, tenant: Tenant) -> None:
    with Client(server.url, tenant.key, identity=SigningKey.generate()) as agent:
        root = agent.token(MAIL)
        sub_agent = SigningKey.generate().did
        child = agent.delegate(sub_agent, capabilities=OPS, ttl=60, proof=root)
        assert isinstance(child, Token)
        assert child.issuer == agent.did and child.proofs == (root.cid,)
        chain = validate(child, ProofStore([root]), int(agent.clock.now()), trusted_issuers=issuers(server),
                         audiences={sub_agent})
        assert chain.root_issuers == {root.issuer}

        for wider in ({"https://bank.example.com": {"money/move": [{}]}}, {"mailto:*": {"email/*": [{}]}}):
            with pytest.raises(CharterError) as widening:
                agent.delegate(sub_agent, capabilities=wider, ttl=60, proof=root)
            assert widening.value.code == "would_widen"
        with pytest.raises(CharterError) as longer:
            agent.delegate(sub_agent, capabilities=OPS, ttl=3600, proof=root)
        assert longer.value.code == "would_widen"
        with Client(server.url, tenant.key, identity=SigningKey.generate()) as other:
            not_ours = other.token(MAIL)
        with pytest.raises(CharterError) as foreign:
            agent.delegate(sub_agent, capabilities=OPS, ttl=60, proof=not_ours)
        assert foreign.value.code == "would_widen"


def test_capabilities_are_checked_before_anything_is_sent(tenant: Tenant) -> None:
    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing should be sent")

    with Client("http://charter.invalid", tenant.key, identity=SigningKey.generate(),
                transport=httpx.MockTransport(never)) as agent:
        for bad in ({"mailto:*": {"email/send": []}}, {"mailto:*": {"email/send": [{"to": []}]}},
                    {"ucan:*": {"email/send": [{}]}}, {"mailto:*": {"send": [{}]}}):
            with pytest.raises(CharterError) as error:
                agent.token(bad)
            assert error.value.code == "invalid_request"
    with pytest.raises(UCANError):
        Token.parse("not.a.token")
