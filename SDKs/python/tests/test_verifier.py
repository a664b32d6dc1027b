"""Offline verification of 0.10 tokens against a real Charter server's issuers and signed revocation feed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from charter_sdk import Capability, Client, FeedError, SigningKey, Token, VerificationError, Verifier
from charter_sdk._encoding import b64url_decode, b64url_encode
from conftest import MAIL, ManualClock, Server, Tenant, make_tenant

SEND = Capability("mailto:ops@example.com", "email/send")


def verifier(tenant: Tenant, audiences: list[str], clock: ManualClock | None = None, **options: Any) -> Verifier:
    return Verifier(tenant.server.url, audiences, [tenant.org], clock=(clock or ManualClock()).now, **options)


def refused(code: str, call: Callable[[], object]) -> VerificationError:
    with pytest.raises(VerificationError) as error:
        call()
    assert error.value.code == code, error.value
    return error.value


def test_before_the_first_sync_nothing_verifies(tenant: Tenant) -> None:
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
        token = agent.token(MAIL)
        service = verifier(tenant, [agent.did])
        refused("not_synced", lambda: service.verify(token.text))
        assert service.last_successful_sync is None
        service.sync()
        assert service.verify(token.text).org == tenant.org


def test_a_root_token_verifies_offline_with_charters_facts(tenant: Tenant) -> None:
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
        token = agent.token(MAIL)
    service = verifier(tenant, [agent.did])
    service.sync()
    verified = service.verify(token.text, requiring=SEND)
    assert (verified.org, verified.env, verified.app, verified.envelope, verified.key) == (
        tenant.org, "live", tenant.app, tenant.envelope, tenant.key_id)
    assert verified.token.cid == token.cid
    error = refused("not_covered", lambda: service.verify(token.text, requiring=Capability("mailto:*", "email/read")))
    assert error.status == 403


def test_wrong_audience_expired_and_malformed(tenant: Tenant) -> None:
    clock = ManualClock()
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate(), ttl_seconds=120) as agent:
        token = agent.token(MAIL)
    elsewhere = verifier(tenant, [SigningKey.generate().did], clock)
    elsewhere.sync()
    assert refused("wrong_audience", lambda: elsewhere.verify(token.text)).field == "aud"
    service = verifier(tenant, [agent.did], clock, max_feed_age=3600)
    service.sync()
    assert refused("malformed", lambda: service.verify("x.y.z")).status == 401
    assert refused("malformed", lambda: service.verify(token.text + "=")).field == "signature"
    clock.advance(120 + 30 + 1)  # the clock started before the mint, whose exp may count from the next second
    assert refused("expired", lambda: service.verify(token.text)).field == "exp"


def test_an_agents_delegation_verifies_with_the_root_as_proof(tenant: Tenant) -> None:
    sub_agent = SigningKey.generate()
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
        root = agent.token(MAIL)
        child = agent.delegate(sub_agent.did, capabilities={"mailto:ops@example.com": {"email/send": [{}]}},
                               ttl=60, proof=root)
        assert isinstance(child, Token)
        # A sub-agent that asks for more than its proof grants (built by hand, as a rogue agent would).
        wider = Token.sign(agent.identity, audience=sub_agent.did, capabilities={"https://bank.example.com":
                                                                                 {"money/move": [{}]}},
                           expiration=root.expiration, proofs=[root.cid])
    service = verifier(tenant, [sub_agent.did])
    service.sync()
    verified = service.verify(child.text, [root.text], requiring=SEND)
    assert verified.envelope == tenant.envelope and verified.token.issuer == agent.did
    assert refused("invalid_chain", lambda: service.verify(child.text)).field == "prf[0]", "the proof is needed"
    assert refused("invalid_chain", lambda: service.verify(wider.text, [root.text])).field == "cap"
    assert service.verify_headers({"authorization": f"Bearer {child.text}", "UCANS": f" {root.text} ,"}).app \
        == tenant.app


def test_forged_and_untrusted_tokens_fail(server: Server, tenant: Tenant) -> None:
    with Client(server.url, tenant.key, identity=SigningKey.generate()) as agent:
        token = agent.token(MAIL)
    service = verifier(tenant, [agent.did])
    service.sync()
    # Same claims, signed by someone else: not one of Charter's issuers.
    header, payload, _ = token.text.split(".")
    claims = json.loads(b64url_decode(payload) or b"")
    impostor = SigningKey.generate()
    forged = Token.sign(impostor, audience=agent.did, capabilities=MAIL, expiration=claims["exp"],
                        facts=claims["fct"], nonce=claims["nnc"])
    assert refused("untrusted_issuer", lambda: service.verify(forged.text)).field == "iss"
    # Charter's issuer, but a payload edited after signing.
    edited = header + "." + b64url_encode(json.dumps(claims | {"exp": claims["exp"] + 1}, sort_keys=True,
                                                     separators=(",", ":")).encode()) + "." + token.text.split(".")[2]
    assert refused("bad_signature", lambda: service.verify(edited)).status == 401


def test_a_test_token_does_not_pass_a_live_service(server: Server) -> None:
    staging = make_tenant(server, environment="test")
    assert staging.key.startswith("chr_test_")
    with Client(server.url, staging.key, identity=SigningKey.generate()) as agent:
        token = agent.token(MAIL)
    live = verifier(staging, [agent.did])
    live.sync()
    refused("untrusted_issuer", lambda: live.verify(token.text))
    test = verifier(staging, [agent.did], environments=["test"])
    test.sync()
    assert test.verify(token.text).env == "test"


def test_revoking_the_envelope_refuses_its_tokens_after_one_sync(tenant: Tenant) -> None:
    sub_agent = SigningKey.generate()
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
        root = agent.token(MAIL)
        child = agent.delegate(sub_agent.did, capabilities=MAIL, ttl=60, proof=root)
    service = verifier(tenant, [agent.did, sub_agent.did])
    service.sync()
    service.verify(root.text)
    tenant.revoke_envelope()
    service.verify(root.text)  # offline: nothing is known of the revocation until the next sync
    service.sync()
    assert "envelope" in refused("revoked", lambda: service.verify(root.text)).message
    refused("revoked", lambda: service.verify(child.text, [root.text]))


def test_revoking_one_token_by_cid_revokes_it_and_what_is_delegated_from_it(tenant: Tenant) -> None:
    sub_agent = SigningKey.generate()
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
        root = agent.token(MAIL)
        kept = agent.token({"mailto:ops@example.com": {"email/send": [{}]}})
        child = agent.delegate(sub_agent.did, capabilities=MAIL, ttl=60, proof=root)
    service = verifier(tenant, [agent.did, sub_agent.did])
    service.sync()
    tenant.revoke_token(str(root.cid))
    service.sync()
    assert refused("revoked", lambda: service.verify(root.text)).message == f"token {root.cid} is revoked"
    assert refused("revoked", lambda: service.verify(child.text, [root.text])).message == \
        f"proof {root.cid} is revoked"
    assert service.verify(kept.text).key == tenant.key_id


def test_a_stale_feed_fails_closed(tenant: Tenant) -> None:
    clock = ManualClock()
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
        token = agent.token(MAIL)
    service = verifier(tenant, [agent.did], clock)
    service.sync()
    service.verify(token.text)
    clock.advance(61)
    error = refused("feed_stale", lambda: service.verify(token.text))
    assert error.status == 503 and error.to_json()["error"] == {"code": "feed_stale", "message": error.message}
    service.sync()  # freshness is the server's signed time, which has not moved: still stale
    refused("feed_stale", lambda: service.verify(token.text))
    clock.advance(-61)
    service.sync()
    service.verify(token.text)


class Proxy(httpx.BaseTransport):
    """A hop between the verifier and Charter that can rewrite answers, as a hostile proxy would."""

    def __init__(self, server: Server, rewrite: Callable[[str, dict[str, Any]], dict[str, Any]]) -> None:
        self.upstream = httpx.Client(base_url=server.url)
        self.rewrite = rewrite

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.upstream.get(request.url.path, params=request.url.params)
        return httpx.Response(answer.status_code, json=self.rewrite(request.url.path, answer.json()))


def test_a_proxy_that_drops_alters_or_replays_feed_entries_fails_the_round(tenant: Tenant) -> None:
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
        first, second = agent.token(MAIL), agent.token({"mailto:ops@example.com": {"email/send": [{}]}})
    tenant.revoke_token(str(first.cid))
    tenant.revoke_token(str(second.cid))

    def dropping(path: str, body: dict[str, Any]) -> dict[str, Any]:
        if path == "/v1/revocations":
            body["revocations"] = body["revocations"][1:]
        return body

    def reordering(path: str, body: dict[str, Any]) -> dict[str, Any]:
        if path == "/v1/revocations":
            body["revocations"] = body["revocations"][::-1]
        return body

    def resigning_nothing(path: str, body: dict[str, Any]) -> dict[str, Any]:
        if path == "/v1/revocations":
            body["head"]["seq"] += 1
        return body

    for rewrite in (dropping, reordering, resigning_nothing):
        service = Verifier(tenant.server.url, [agent.did], [tenant.org], transport=Proxy(tenant.server, rewrite))
        with pytest.raises(FeedError):
            service.sync()
        refused("not_synced", lambda: service.verify(first.text))

    # A proxy that answers with an old page once the verifier has a newer one: the round fails, and the
    # verifier goes stale instead of trusting it.
    recorded: dict[str, Any] = {}

    def replaying(path: str, body: dict[str, Any]) -> dict[str, Any]:
        if path == "/v1/revocations":
            if "page" in recorded:
                return recorded["page"]
            recorded["page"] = body
        return body

    clock = ManualClock()
    service = Verifier(tenant.server.url, [agent.did], [tenant.org], clock=clock.now,
                       transport=Proxy(tenant.server, replaying))
    service.sync()
    with pytest.raises(FeedError):
        service.sync()
    clock.advance(61)
    refused("feed_stale", lambda: service.verify(second.text))


def test_pinned_issuers_without_a_server_check_no_revocation(tenant: Tenant) -> None:
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
        token = agent.token(MAIL)
    airgapped = Verifier(None, [agent.did], [tenant.org], issuers=[token.issuer])
    assert airgapped.verify(token.text).org == tenant.org
    with pytest.raises(FeedError):
        airgapped.sync()
    unpinned = Verifier(None, [agent.did], [tenant.org])
    refused("not_synced", lambda: unpinned.verify(token.text))
