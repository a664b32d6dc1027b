"""UCAN 1.0 end to end: Charter mints delegations, the agent signs invocations, a service verifies them offline."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from charter_sdk import (
    CharterError, Client, Delegation, Invocation, SigningKey, VerificationError, Verifier, sign_invocation)
from conftest import CHARTER, ManualClock, Server, Tenant


def refused(code: str, call: Callable[[], object]) -> VerificationError:
    with pytest.raises(VerificationError) as error:
        call()
    assert error.value.code == code, error.value
    return error.value


def synced(tenant: Tenant, service: SigningKey, clock: ManualClock | None = None, **options: Any) -> Verifier:
    verifier = Verifier(tenant.server.url, [service.did], [tenant.org], clock=(clock or ManualClock()).now, **options)
    verifier.sync()
    return verifier


def test_an_invocation_verifies_once_and_names_who_may_do_what(tenant: Tenant, service: SigningKey) -> None:
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
        delegation = agent.delegation("/email/send")
        assert agent.delegation("/email/send").bytes == delegation.bytes, "cached like a token"
        assert delegation.audience == agent.did and delegation.subject == delegation.issuer
        assert delegation.policy.ipld == [["like", ".to", "*@example.com"]]
        assert delegation.meta_string("envelope") == tenant.envelope
        call = agent.invoke("/email/send", {"to": "ada@example.com"}, audience=service.did)
    assert call.headers["Authorization"] == call.authorization and call.authorization.startswith("Bearer ")
    assert call.ucans == str(delegation)
    assert call.invocation.expiration is not None and call.invocation.proofs == (delegation.cid,)
    verifier = synced(tenant, service)
    verified = verifier.verify_invocation_headers(call.headers, "/email/send")
    assert (verified.command, verified.arguments, verified.agent) == ("/email/send", {"to": "ada@example.com"},
                                                                      agent.did)
    assert (verified.org, verified.env, verified.app, verified.envelope, verified.key) == (
        tenant.org, "live", tenant.app, tenant.envelope, tenant.key_id)
    assert refused("replayed", lambda: verifier.verify_invocation_headers(call.headers)).status == 401
    assert tenant.audited() == 1


def test_a_refused_invocation_is_not_remembered_as_seen(tenant: Tenant, service: SigningKey) -> None:
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
        call = agent.invoke("/email/send", {"to": "ada@example.com"}, audience=service.did)
    verifier = synced(tenant, service)
    refused("not_covered", lambda: verifier.verify_invocation(call.invocation.bytes, [call.proofs[0].bytes],
                                                              command="/email/read"))
    assert len(verifier.replays) == 0
    verifier.verify_invocation(str(call.invocation), [str(call.proofs[0])], command="/email/send")
    assert len(verifier.replays) == 1


def test_every_policy_on_the_chain_holds_on_the_arguments(tenant: Tenant, service: SigningKey) -> None:
    sub_agent = SigningKey.generate()
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
        narrowed = agent.invoke("/email/send", {"to": "ceo@example.com"}, audience=service.did,
                                policy=[["!=", ".to", "ceo@example.com"]])
        outside = agent.invoke("/email/send", {"to": "eve@evil.com"}, audience=service.did)
        delegation = agent.delegation("/email/send")
        child = agent.delegate(sub_agent.did, command="/email/send", policy=[["==", ".to", "ops@example.com"]],
                               ttl=120)
        assert isinstance(child, Delegation) and child.issuer == agent.did and child.subject == delegation.subject
        with pytest.raises(CharterError) as wider:
            agent.delegate(sub_agent.did, command="/email", ttl=60, proof=delegation)
        assert wider.value.code == "would_widen"
        with pytest.raises(CharterError) as longer:
            agent.delegate(sub_agent.did, command="/email/send", ttl=10_000)
        assert longer.value.code == "would_widen"
        with pytest.raises(CharterError) as not_ours:
            agent.delegate(SigningKey.generate().did, command="/email/send", ttl=60, proof=child)
        assert not_ours.value.code == "would_widen"
    verifier = synced(tenant, service)
    error = refused("policy_violation", lambda: verifier.verify_invocation_headers(outside.headers))
    assert (error.field, error.status) == ("prf[0].pol", 403)
    assert error.message == 'prf[0].pol: ["like", ".to", "*@example.com"] did not hold'
    assert refused("policy_violation", lambda: verifier.verify_invocation_headers(narrowed.headers)).field \
        == "prf[0].pol"

    def by_sub_agent(to: str) -> dict[str, str]:
        return sign_invocation(sub_agent, "/email/send", {"to": to}, audience=service.did,
                               chain=[delegation, child], expiration=int(ManualClock().now()) + 60).headers

    assert verifier.verify_invocation_headers(by_sub_agent("ops@example.com")).agent == sub_agent.did
    assert refused("policy_violation", lambda: verifier.verify_invocation_headers(
        by_sub_agent("ada@example.com"))).field == "prf[1].pol"
    assert refused("invalid_chain", lambda: verifier.verify_invocation(
        Invocation.parse(by_sub_agent("ops@example.com")["Authorization"][7:]).bytes,
        [delegation.bytes])).field == "prf[1]", "every delegation the invocation cites is needed"


def test_address_time_and_lifetime_are_checked(tenant: Tenant, service: SigningKey) -> None:
    clock = ManualClock()
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate(), clock=clock) as agent:
        elsewhere = agent.invoke("/email/send", {"to": "ada@example.com"}, audience=SigningKey.generate().did)
        too_long = agent.invoke("/email/send", {"to": "ada@example.com"}, audience=service.did, ttl=3600)
        soon = agent.invoke("/email/send", {"to": "ada@example.com"}, audience=service.did, ttl=60)
        never = Invocation.sign(agent.identity, subject=soon.proofs[0].issuer, audience=service.did,
                                command="/email/send", arguments={"to": "ada@example.com"},
                                proofs=[soon.proofs[0].cid], expiration=None)
    verifier = synced(tenant, service, clock, max_feed_age=3600)
    assert refused("wrong_audience", lambda: verifier.verify_invocation_headers(elsewhere.headers)).field == "aud"
    assert refused("malformed", lambda: verifier.verify_invocation_headers(too_long.headers)).field == "exp"
    assert refused("malformed", lambda: verifier.verify_invocation(never.bytes, soon.proofs)).field == "exp"
    clock.advance(60 + 31)
    assert refused("expired", lambda: verifier.verify_invocation_headers(soon.headers)).field == "exp"
    refused("malformed", lambda: verifier.verify_invocation("%%%", []))
    refused("malformed", lambda: verifier.verify_invocation_headers({"Authorization": "Basic x"}))


def test_revoked_delegations_and_envelopes_are_refused_after_a_sync(tenant: Tenant, service: SigningKey) -> None:
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
        first = agent.invoke("/email/send", {"to": "ada@example.com"}, audience=service.did)
        calendar = agent.invoke("/calendar/read", {"calendar": "work"}, audience=service.did, policy=[])
        again = agent.invoke("/email/send", {"to": "bob@example.com"}, audience=service.did)
        later = agent.invoke("/calendar/read", {"calendar": "work"}, audience=service.did)
    verifier = synced(tenant, service)
    verifier.verify_invocation_headers(first.headers)
    tenant.revoke_token(str(first.proofs[0].cid))
    verifier.verify_invocation_headers(calendar.headers)
    verifier.sync()
    assert refused("revoked", lambda: verifier.verify_invocation_headers(again.headers)).message == \
        f"delegation {first.proofs[0].cid} is revoked"
    tenant.revoke_envelope()
    verifier.sync()
    assert "envelope" in refused("revoked", lambda: verifier.verify_invocation_headers(later.headers)).message


def test_another_organizations_or_environments_delegation_is_untrusted(server: Server, service: SigningKey) -> None:
    from conftest import make_tenant
    staging = make_tenant(server, environment="test")
    with Client(server.url, staging.key, identity=SigningKey.generate()) as agent:
        call = agent.invoke("/email/send", {"to": "ada@example.com"}, audience=service.did)
    live = synced(staging, service)
    refused("untrusted_issuer", lambda: live.verify_invocation_headers(call.headers))
    test = synced(staging, service, environments=["test"])
    assert test.verify_invocation_headers(call.headers).env == "test"


def test_the_replay_cache_is_bounded_and_fails_closed_when_full(tenant: Tenant, service: SigningKey) -> None:
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
        calls = [agent.invoke("/email/send", {"to": "ada@example.com"}, audience=service.did) for _ in range(3)]
    clock = ManualClock()
    verifier = synced(tenant, service, clock, replay_capacity=2, max_feed_age=3600)
    verifier.verify_invocation_headers(calls[0].headers)
    verifier.verify_invocation_headers(calls[1].headers)
    assert refused("overloaded", lambda: verifier.verify_invocation_headers(calls[2].headers)).status == 503
    clock.advance(60 + 30 + 1)  # both remembered ones are past exp + leeway: their slots free up
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate(), clock=clock) as agent:
        fresh = agent.invoke("/email/send", {"to": "ada@example.com"}, audience=service.did)
    verifier.verify_invocation_headers(fresh.headers)


def test_charter_verify_accepts_what_the_python_agent_signs(tenant: Tenant, service: SigningKey) -> None:
    """The Swift verifier (through `charter verify`) and this one agree on the same invocations."""
    with Client(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
        good = agent.invoke("/email/send", {"to": "ada@example.com"}, audience=service.did)
        bad = agent.invoke("/email/send", {"to": "eve@evil.com"}, audience=service.did)
    for call, expected in ((good, "valid"), (bad, "policy_violation")):
        run = subprocess.run([CHARTER, "verify", str(call.invocation), "--proof", str(call.proofs[0]), "--server",
                              tenant.server.url, "--audience", service.did, "--command", "/email/send"],
                             capture_output=True, text=True)
        swift = "valid" if run.returncode == 0 else run.stderr.split(":")[0]
        assert swift == expected, run.stderr
    verifier = synced(tenant, service)
    verifier.verify_invocation_headers(good.headers, "/email/send")
    refused("policy_violation", lambda: verifier.verify_invocation_headers(bad.headers, "/email/send"))


def test_the_async_client_invokes_too(tenant: Tenant, service: SigningKey) -> None:
    import asyncio

    from charter_sdk import AsyncClient

    async def run() -> list[dict[str, str]]:
        async with AsyncClient(tenant.server.url, tenant.key, identity=SigningKey.generate()) as agent:
            calls = await asyncio.gather(*(agent.invoke("/email/send", {"to": "ada@example.com"}, service.did)
                                           for _ in range(50)))
            return [call.headers for call in calls]

    headers = asyncio.run(run())
    verifier = synced(tenant, service)
    assert {verifier.verify_invocation_headers(each).agent for each in headers} == {
        Invocation.parse(headers[0]["Authorization"][7:]).issuer}
    assert tenant.audited() == 1, "fifty invocations, one delegation"
