"""The feed and issuer rules a real server never breaks, against a stand-in Charter whose issuer keys the test
holds: forged entries in a properly signed page are ignored, and a retired issuer verifies only within its window."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from charter_sdk import SigningKey, Token, VerificationError, Verifier
from charter_sdk._encoding import b64url_encode, canonical_json

ORG = "org_standin"


def stamp(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(seconds * 1000) % 1000:03d}Z"


class StandIn:
    """`/v1/issuers` and `/v1/revocations` of one organization, signed with keys the test holds."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.active = SigningKey.generate()
        self.retired = SigningKey.generate()
        self.retired_until = now + 100
        self.entries: list[dict[str, Any]] = []

    def revoke(self, kind: str, subject: str, signer: SigningKey, claimed: SigningKey | None = None) -> None:
        self.entries.append({
            "seq": len(self.entries) + 1, "kind": kind, "revoke": subject, "environment": "live",
            "iss": (claimed or signer).did, "challenge": b64url_encode(signer.sign(f"REVOKE:{subject}".encode())),
            "revoked_at": stamp(self.now), "covers_until": stamp(self.now + 600)})

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/issuers":
            return httpx.Response(200, json={"issuers": [
                {"did": self.active.did, "org": ORG, "environment": "live", "status": "active",
                 "not_before": stamp(self.now - 1000), "not_after": None, "retired_at": None},
                {"did": self.retired.did, "org": ORG, "environment": "live", "status": "verify_only",
                 "not_before": stamp(self.now - 2000), "not_after": stamp(self.retired_until),
                 "retired_at": stamp(self.now - 1000)}]})
        since = int(request.url.params["since"])
        listed = [entry for entry in self.entries if entry["seq"] > since]
        seq = len(self.entries)
        head = {"org": ORG, "environment": "live", "since": since, "next_since": seq, "seq": seq,
                "time_ms": int(self.now * 1000), "iss": self.active.did,
                "entries": b64url_encode(hashlib.sha256(canonical_json(listed)).digest())}
        head["signature"] = b64url_encode(self.active.sign(b"charter-feed-head:" + canonical_json(head)))
        return httpx.Response(200, json={"head": head, "revocations": listed, "next_since": seq})


def root(issuer: SigningKey, audience: str, envelope: str, now: float) -> str:
    return Token.sign(issuer, audience=audience, capabilities={"mailto:*": {"email/send": [{}]}},
                      expiration=int(now) + 300, facts={"org": ORG, "env": "live", "envelope": envelope}).text


def test_forged_feed_entries_are_ignored() -> None:
    now = time.time()
    charter = StandIn(now)
    stranger = SigningKey.generate()
    charter.revoke("envelope", "env_revoked", charter.active)
    charter.revoke("envelope", "env_forged", stranger, claimed=charter.active)   # iss says Charter; it is not
    charter.revoke("envelope", "env_foreign", stranger)                         # an issuer nobody trusts
    charter.revoke("mystery", "whatever", charter.active)                       # a kind this SDK does not know
    agent = SigningKey.generate().did
    verifier = Verifier("http://charter.invalid", [agent], [ORG], clock=lambda: now,
                        transport=httpx.MockTransport(charter.handle))
    verifier.sync()
    with pytest.raises(VerificationError) as revoked:
        verifier.verify(root(charter.active, agent, "env_revoked", now))
    assert revoked.value.code == "revoked"
    for envelope in ("env_forged", "env_foreign"):
        assert verifier.verify(root(charter.active, agent, envelope, now)).envelope == envelope


def test_a_retired_issuer_verifies_only_within_its_window() -> None:
    clock = [time.time()]
    charter = StandIn(clock[0])
    agent = SigningKey.generate().did
    verifier = Verifier("http://charter.invalid", [agent], [ORG], clock=lambda: clock[0],
                        transport=httpx.MockTransport(charter.handle))
    verifier.sync()
    token = root(charter.retired, agent, "env_1", clock[0])
    assert verifier.verify(token).org == ORG
    clock[0] = charter.retired_until
    charter.now = clock[0]
    verifier.sync()
    with pytest.raises(VerificationError) as closed:
        verifier.verify(token)
    assert closed.value.code == "untrusted_issuer"
    # Another organization's token signed by this organization's issuer is not trusted either.
    other = Token.sign(charter.active, audience=agent, capabilities={"mailto:*": {"email/send": [{}]}},
                       expiration=int(clock[0]) + 60, facts={"org": "org_other"}).text
    with pytest.raises(VerificationError) as foreign:
        verifier.verify(other)
    assert foreign.value.code == "untrusted_issuer"


def test_a_head_signed_by_another_organizations_issuer_fails_the_round() -> None:
    now = time.time()
    charter = StandIn(now)
    impostor = SigningKey.generate()
    charter.active, real = impostor, charter.active

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/issuers":
            charter.active = real
            answer = charter.handle(request)
            charter.active = impostor
            return answer
        return charter.handle(request)

    verifier = Verifier("http://charter.invalid", [SigningKey.generate().did], [ORG], clock=lambda: now,
                        transport=httpx.MockTransport(handle))
    from charter_sdk import FeedError
    with pytest.raises(FeedError):
        verifier.sync()
    assert verifier.last_successful_sync is None
