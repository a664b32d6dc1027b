"""Findings of the cross-SDK review (first made in the TypeScript SDK), each checked in Python against what
Charter's Swift verifier does: caveats compared as Swift's `JSONValue` compares them, verified objects that a
handler cannot use to change a later verdict, a replay cache that survives a clock stepping back, parse caches
bounded by bytes, and forged credentials refused before the expensive work."""
from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest

from charter_sdk import Capability, Client, Delegation, Invocation, SigningKey, Token, VerificationError, Verifier
from charter_sdk._crypto import CID, DAG_CBOR
from charter_sdk._encoding import parse_json
from charter_sdk.errors import UCANError
from charter_sdk.ucan import check_capabilities
from charter_sdk.verifier import ReplayCache
from conftest import CHARTER, ManualClock, Server, make_tenant

ORG = "org_parity"
NOW = 1_900_000_000


def refused(code: str, call: Callable[[], object]) -> VerificationError:
    with pytest.raises(VerificationError) as error:
        call()
    assert error.value.code == code, error.value
    return error.value


def airgapped(issuer: SigningKey, audience: SigningKey, clock: Callable[[], float] = lambda: float(NOW),
              **options: Any) -> Verifier:
    return Verifier(None, [audience.did], [ORG], issuers=[issuer.did], clock=clock, **options)


def caveat(text: str) -> Capability:
    """A capability whose one caveat is read from JSON text, as a token's would be (so `1.0` stays a float)."""
    return Capability("mailto:*", "email/send", (parse_json(text.encode()),))


# Swift's `Capability.covers` compares caveat values with `JSONValue ==`, under which an integer and a double
# of exactly the same value are equal (and `true` is a boolean, never the number 1). Each case: the parent's
# caveat, the child's, and Swift's verdict.
COVERS = [
    ('{"n": 1}', '{"n": 1.0}', True),
    ('{"n": 1.0}', '{"n": 1}', True),
    ('{"n": -0.0}', '{"n": 0}', True),
    ('{"n": 1e2}', '{"n": 100}', True),
    ('{"n": 1}', '{"n": 1.5}', False),
    ('{"n": 9007199254740993}', '{"n": 9007199254740992.0}', False),  # exact, not via rounding to a double
    ('{"n": [1, 2]}', '{"n": [2.0]}', True),
    ('{"n": [[1, 2.0]]}', '{"n": [[1.0, 2]]}', True),
    ('{"n": [{"k": 1}]}', '{"n": [{"k": 1.0}]}', True),
    ('{"n": [{"k": 1}]}', '{"n": [{"k": 1.0, "x": 2}]}', False),  # inside an array, objects compare whole
    ('{"a": {"b": [1.0]}}', '{"a": {"b": [1], "c": 3}}', True),  # an object caveat: the child may add fields
    ('{"n": true}', '{"n": 1}', False),
    ('{"n": 1}', '{"n": true}', False),
    ('{"n": 1.0}', '{"n": true}', False),
    ('{"n": false}', '{"n": 0}', False),
    ('{"n": [true]}', '{"n": [1]}', False),
    ('{"n": [1]}', '{"n": [true]}', False),
    ('{"n": [[true]]}', '{"n": [[1.0]]}', False),
    ('{"n": [{"k": false}]}', '{"n": [{"k": 0}]}', False),
    ('{"n": null}', '{"n": 0}', False),
    ('{"n": "1"}', '{"n": 1}', False),
]


@pytest.mark.parametrize(("parent", "child", "swift"), COVERS)
def test_caveat_values_compare_as_swifts_json_values(parent: str, child: str, swift: bool) -> None:
    assert caveat(parent).covers(caveat(child)) is swift


# Swift compares strings (caveat values, caveat keys, resources, abilities) by canonical equivalence: `é` and
# `e` + U+0301 are one string, and so are the Kelvin sign U+212A and `K`; compatibility forms (`ﬁ`, `fi`) are not.
EQUIVALENT = [
    ('{"to": "caf\u00e9"}', '{"to": "cafe\u0301"}', True),
    ('{"to": "cafe\u0301"}', '{"to": "caf\u00e9"}', True),
    ('{"caf\u00e9": 1}', '{"cafe\u0301": 1.0}', True),
    ('{"to": ["caf\u00e9"]}', '{"to": ["cafe\u0301"]}', True),
    ('{"n": [{"\u00e9": ["x"]}]}', '{"n": [{"e\u0301": ["x"]}]}', True),
    ('{"unit": "K"}', '{"unit": "\u212a"}', True),
    ('{"K": 1}', '{"\u212a": 1}', True),
    ('{"to": "caf\u00e9"}', '{"to": "cafe"}', False),
    ('{"to": "\ufb01le"}', '{"to": "file"}', False),
    ('{"n": [{"\u00e9": 1}]}', '{"n": [{"e": 1}]}', False),
]


@pytest.mark.parametrize(("parent", "child", "swift"), EQUIVALENT)
def test_caveat_strings_and_keys_compare_by_canonical_equivalence(parent: str, child: str, swift: bool) -> None:
    assert caveat(parent).covers(caveat(child)) is swift


def test_resources_and_abilities_compare_by_canonical_equivalence() -> None:
    def covers(parent: str, child: str, ability: tuple[str, str] = ("x/send", "x/send")) -> bool:
        return Capability(parent, ability[0]).covers(Capability(child, ability[1]))

    assert covers("mailto:caf\u00e9@example.com", "mailto:cafe\u0301@example.com")
    assert covers("https://x.example/\u00e9*", "https://x.example/e\u0301tude")
    assert covers("https://x.example/caf*", "https://x.example/cafe\u0301")
    assert not covers("https://x.example/cafe*", "https://x.example/caf\u00e9")
    assert not covers("https://x.example/cafe*", "https://x.example/cafe\u0301")
    assert covers("urn:x", "urn:x", ("x/caf\u00e9", "x/cafe\u0301"))
    assert covers("urn:x", "urn:x", ("x/*", "x/cafe\u0301"))
    # Charter's fuzzer found this one: one ability to Swift, written twice (`x/f` sorts between them by bytes).
    resource = "mailto:a@example.com"
    with pytest.raises(UCANError):
        check_capabilities([Capability(resource, "x/\u00c9"), Capability(resource, "x/f"),
                            Capability(resource, "x/e\u0301")])
    assert len(check_capabilities([Capability(resource, "x/\u00c9"), Capability(resource, "x/f")])) == 2


def test_a_chain_and_a_requirement_with_1_and_1_0_verify_as_in_swift() -> None:
    root_key, agent, sub_agent = SigningKey.generate(), SigningKey.generate(), SigningKey.generate()
    root = Token.sign(root_key, audience=agent.did, expiration=NOW + 600, facts={"org": ORG},
                      capabilities={"mailto:*": {"email/send": [{"max": 10, "tags": [1, [2, True]]}]}})
    child = Token.sign(agent, audience=sub_agent.did, expiration=NOW + 60, proofs=[root.cid],
                       capabilities={"mailto:*": {"email/send": [{"max": 10.0, "tags": [[2.0, True]]}]}})
    assert '"max":10.0' in parse_json_text(child) and '"max":10' in parse_json_text(root)
    verifier = airgapped(root_key, sub_agent)

    def requiring(text: str) -> Callable[[], object]:
        return lambda: verifier.verify(child.text, [root.text], requiring=caveat(text))

    assert verifier.verify(child.text, [root.text], requiring=caveat('{"max": 10, "tags": [[2, true]]}')).org == ORG
    assert verifier.verify(child.text, [root.text], requiring=caveat('{"max": 1e1, "tags": [[2.0, true]]}')).org == ORG
    refused("not_covered", requiring('{"max": 10.5}'))
    refused("not_covered", requiring('{"max": 10, "tags": [[2, 1]]}'))
    # A child that turns `true` into `1` claims what its proof never granted.
    bent = Token.sign(agent, audience=sub_agent.did, expiration=NOW + 60, proofs=[root.cid],
                      capabilities={"mailto:*": {"email/send": [{"max": 10, "tags": [[2, 1]]}]}})
    assert refused("invalid_chain", lambda: verifier.verify(bent.text, [root.text])).field == "cap"


def parse_json_text(token: Token) -> str:
    from charter_sdk._encoding import b64url_decode

    payload = b64url_decode(token.text.split(".")[1])
    assert payload is not None
    return payload.decode()


def test_charter_verify_and_this_verifier_agree_on_numbers_and_strings(server: Server) -> None:
    """The Swift verifier (`charter verify`) is the reference: a root minted by Charter with `max: 10` covers a
    delegation claiming `max: 10.0` (and `é` written decomposed, and the Kelvin sign for `K`), not `max: true`,
    nor `ﬁ` for `fi`."""
    granted = {"mailto:*": {"email/send": [{"max": 10, "to": "caf\u00e9@example.com", "unit": "K", "tag": "fi"}]}}
    tenant = make_tenant(server, capabilities=granted)
    sub_agent = SigningKey.generate()
    with Client(server.url, tenant.key, identity=SigningKey.generate()) as agent:
        root = agent.token(granted)
        as_double = agent.delegate(sub_agent.did, capabilities={"mailto:*": {"email/send": [
            {"max": 10.0, "to": "cafe\u0301@example.com", "unit": "\u212a", "tag": "fi"}]}}, ttl=60, proof=root)
        as_bool = Token.sign(agent.identity, audience=sub_agent.did, expiration=root.expiration, proofs=[root.cid],
                             capabilities={"mailto:*": {"email/send": [
                                 {"max": True, "to": "caf\u00e9@example.com", "unit": "K", "tag": "fi"}]}})
        as_fi = Token.sign(agent.identity, audience=sub_agent.did, expiration=root.expiration, proofs=[root.cid],
                           capabilities={"mailto:*": {"email/send": [
                               {"max": 10, "to": "caf\u00e9@example.com", "unit": "K", "tag": "\ufb01"}]}})
    assert isinstance(as_double, Token) and '"max":10.0' in parse_json_text(as_double)
    verifier = Verifier(server.url, [sub_agent.did], [tenant.org])
    verifier.sync()
    for token, expected in ((as_double, "valid"), (as_bool, "invalid_chain"), (as_fi, "invalid_chain")):
        run = subprocess.run([CHARTER, "verify", token.text, "--proof", root.text, "--server", server.url,
                              "--audience", sub_agent.did, "--organization", tenant.org],
                             capture_output=True, text=True)
        swift = "valid" if run.returncode == 0 else run.stderr.split(":")[0]
        try:
            verifier.verify(token.text, [root.text])
            python = "valid"
        except VerificationError as error:
            python = error.code
        assert (swift, python) == (expected, expected), run.stderr


def attempt(*mutations: Callable[[], object]) -> int:
    """Runs each mutation a careless handler might make; returns how many went through (none should)."""
    succeeded = 0
    for mutate in mutations:
        try:
            mutate()
            succeeded += 1
        except Exception:  # noqa: BLE001 - refused (TypeError, AttributeError), or undone by one before it
            pass
    return succeeded


def test_a_verified_token_cannot_be_changed_to_change_a_later_verdict() -> None:
    """The verifier caches parsed tokens and hands the same objects to every request: a handler changing the
    token or a proof it was given must not widen (or narrow) what a later request may do."""
    root_key, agent, sub_agent = SigningKey.generate(), SigningKey.generate(), SigningKey.generate()
    root = Token.sign(root_key, audience=agent.did, expiration=NOW + 600, facts={"org": ORG, "app": "app_1"},
                      capabilities={"mailto:*": {"email/send": [{"to": ["ops@example.com"]}]}})
    child = Token.sign(agent, audience=sub_agent.did, expiration=NOW + 60, proofs=[root.cid],
                       capabilities={"mailto:*": {"email/send": [{"to": ["ops@example.com"]}]}})
    wider = Token.sign(agent, audience=sub_agent.did, expiration=NOW + 60, proofs=[root.cid],
                       capabilities={"mailto:*": {"email/send": [{"to": ["ceo@example.com"]}]}})
    ceo = caveat('{"to": ["ceo@example.com"]}')
    verifier = airgapped(root_key, sub_agent)
    verified = verifier.verify(child.text, [root.text])
    proof = verified.chain.proofs[root.cid]
    mine, granted = verified.token.capabilities[0], proof.capabilities[0]
    changed = attempt(
        lambda: mine.caveats[0]["to"].append("ceo@example.com"),
        lambda: mine.caveats[0].clear(),
        lambda: granted.caveats[0]["to"].__setitem__(0, "ceo@example.com"),
        lambda: granted.caveats[0].pop("to"),
        lambda: proof.facts.__setitem__("org", "org_other"),  # type: ignore[union-attr]
        lambda: proof.facts.update(app="app_2"),  # type: ignore[union-attr]
        lambda: setattr(mine, "caveats", ({},)),
        lambda: setattr(verified.token, "capabilities", ()),
        lambda: verified.token.capabilities.append(granted),  # type: ignore[attr-defined]
    )
    refused("not_covered", lambda: verifier.verify(child.text, [root.text], requiring=ceo))
    assert refused("invalid_chain", lambda: verifier.verify(wider.text, [root.text])).field == "cap"
    again = verifier.verify(child.text, [root.text])
    assert (again.org, again.app) == (ORG, "app_1")
    assert again.token is verified.token, "the same cached token: nothing was copied to protect it"
    assert verified.token.capability_map == {"mailto:*": {"email/send": [{"to": ["ops@example.com"]}]}}
    verified.token.capability_map["mailto:*"]["email/send"][0]["to"].append("ceo@example.com")  # a fresh copy
    assert changed == 0


def invoke(agent: SigningKey, delegation: Delegation, service: SigningKey, to: str) -> Invocation:
    assert delegation.subject is not None
    return Invocation.sign(agent, subject=delegation.subject, audience=service.did, command="/email/send",
                           arguments={"to": to}, proofs=[delegation.cid], expiration=NOW + 60)


def test_a_verified_delegation_cannot_be_changed_to_change_a_later_verdict() -> None:
    """A delegation cached by the verifier and handed to a handler: clearing its policy, swapping a statement
    or a glob, or rewriting its `meta`, must not let a later invocation outside the policy through."""
    root_key, agent, service = SigningKey.generate(), SigningKey.generate(), SigningKey.generate()
    delegation = Delegation.sign(
        root_key, audience=agent.did, subject=root_key.did, command="/email/send", expiration=NOW + 600,
        policy=[["like", ".to", "*@example.com"], ["!=", ".to", "ceo@example.com"]], meta={"org": ORG})
    verifier = airgapped(root_key, service)
    verified = verifier.verify_invocation(invoke(agent, delegation, service, "ops@example.com").bytes,
                                          [delegation.bytes])
    cached = verified.delegations[0]
    policy = cached.policy
    changed = attempt(
        lambda: policy.statements.clear(),  # type: ignore[attr-defined]
        lambda: policy.ipld.clear(),
        lambda: policy.ipld[0].__setitem__(2, "*"),
        lambda: policy.statements[0].operand.clear(),
        lambda: policy.statements[0].operand.__setitem__(0, b""),
        lambda: policy.ipld[1].__setitem__(2, "eve@evil.com"),
        lambda: policy.statements[0].selector.steps.clear(),  # type: ignore[union-attr]
        lambda: setattr(policy.statements[0], "op", "or"),
        lambda: setattr(policy, "statements", ()),
        lambda: setattr(policy, "ipld", []),
        lambda: setattr(policy.statements[0].selector, "steps", ()),
        lambda: cached.meta.__setitem__("org", "org_other"),  # type: ignore[union-attr]
        lambda: setattr(cached, "policy", type(policy)()),
    )
    for outside in ("eve@evil.com", "ceo@example.com"):
        refused("policy_violation", lambda: verifier.verify_invocation(
            invoke(agent, delegation, service, outside).bytes, [delegation.bytes]))
    again = verifier.verify_invocation(invoke(agent, delegation, service, "ada@example.com").bytes,
                                       [delegation.bytes])
    assert again.org == ORG and again.delegations[0] is cached, "the same cached delegation, unchanged"
    assert policy.ipld == [["like", ".to", "*@example.com"], ["!=", ".to", "ceo@example.com"]]
    assert changed == 0


def test_the_replay_cache_sweeps_whichever_way_the_wall_clock_steps() -> None:
    """The TypeScript cache kept a sweep mark: entries filed while the clock was stepped back were never swept,
    and filled it (503 until restart). Python's is a min-heap by expiry, as Swift's: each goes once `now` passes
    its expiry, whichever way the clock moved in between."""
    clock = ManualClock(start=NOW)
    root_key, agent, service = SigningKey.generate(), SigningKey.generate(), SigningKey.generate()
    delegation = Delegation.sign(root_key, audience=agent.did, subject=root_key.did, command="/email/send",
                                 expiration=None, meta={"org": ORG})
    verifier = airgapped(root_key, service, clock.now, replay_capacity=3, leeway=0)

    def call() -> Callable[[], object]:
        invocation = Invocation.sign(agent, subject=root_key.did, audience=service.did, command="/email/send",
                                     proofs=[delegation.cid], expiration=int(clock.now()) + 60)
        verify = lambda: verifier.verify_invocation(invocation.bytes, [delegation.bytes])  # noqa: E731
        verify()
        return verify

    call()
    clock.advance(100)  # the first has expired: the next call sweeps it
    call()
    assert len(verifier.replays) == 1
    clock.advance(-10_000)  # the wall clock steps back (NTP, a VM resumed)
    replay = call()
    call()
    assert len(verifier.replays) == 3
    refused("replayed", replay)
    refused("overloaded", call)
    clock.advance(20_000)  # and forward again, past every expiry
    for _ in range(3):
        call()
    assert len(verifier.replays) == 3, "every entry filed while the clock was behind has been swept"
    refused("overloaded", call)


def test_a_replay_cache_filled_while_the_clock_was_behind_empties_when_it_catches_up() -> None:
    cache = ReplayCache(capacity=1000)
    cids = [CID.of(b"invocation %d" % index, DAG_CBOR) for index in range(1001)]
    for index in range(500):
        assert cache.record(cids[index], 2_000 + 60, 2_000) == "fresh"
    for index in range(500, 1000):  # the clock stepped back 1000 s
        assert cache.record(cids[index], 1_000 + 60, 1_000) == "fresh"
    assert cache.record(cids[1000], 1_000 + 60, 1_000) == "full"
    assert cache.record(cids[0], 2_000 + 60, 1_000) == "replayed"
    assert cache.record(cids[1000], 1_500 + 60, 1_500) == "fresh", "those filed at 1000 went at 1061"
    assert len(cache) == 501
    assert cache.record(cids[0], 3_000 + 60, 3_000) == "fresh" and len(cache) == 1

