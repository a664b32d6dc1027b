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
from charter_sdk.ucan1 import DLG, _seal
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



class Work:
    """Counts the expensive steps of a verification: Ed25519 point validations and signature checks."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import nacl.bindings
        import nacl.signing

        from charter_sdk import _crypto

        self.points = self.signatures = 0
        validate_point, verify = nacl.bindings.crypto_core_ed25519_is_valid_point, nacl.signing.VerifyKey.verify

        def counted_point(key: bytes) -> bool:
            self.points += 1
            return bool(validate_point(key))

        def counted_verify(key: nacl.signing.VerifyKey, *args: Any, **kwargs: Any) -> Any:
            self.signatures += 1
            return verify(key, *args, **kwargs)

        monkeypatch.setattr(nacl.bindings, "crypto_core_ed25519_is_valid_point", counted_point)
        monkeypatch.setattr(nacl.signing.VerifyKey, "verify", counted_verify)
        monkeypatch.setattr(_crypto._known, "_keys", {})  # every DID unseen, as an attacker's fresh ones are

    def reset(self) -> None:
        self.points = self.signatures = 0


def forged_root(audience: str, **claims: Any) -> Token:
    return Token.sign(SigningKey.generate(), audience=audience, expiration=NOW + 600, facts={"org": ORG},
                      capabilities={"mailto:*": {"email/send": [{}]}}, **claims)


def test_forged_0_10_chains_are_refused_before_the_expensive_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before, every proof supplied was parsed and its signature checked before the audience or any root's
    issuer was looked at: 32 forged proofs cost 33 signature checks and 65 point validations (about 5.6 ms).
    Now a token for another service is refused before its proofs are read, and a chain's first root is found
    (parsing one path, checking no signature) and refused unless a trusted issuer signed it."""
    trusted, agent, service = SigningKey.generate(), SigningKey.generate(), SigningKey.generate()
    verifier = airgapped(trusted, service)
    roots = [forged_root(agent.did) for _ in range(32)]
    fan = Token.sign(agent, audience=service.did, expiration=NOW + 60, proofs=[root.cid for root in roots],
                     capabilities={"mailto:*": {"email/send": [{}]}})
    elsewhere = Token.sign(agent, audience=SigningKey.generate().did, expiration=NOW + 60,
                           proofs=[root.cid for root in roots], capabilities={"mailto:*": {"email/send": [{}]}})
    keys = [SigningKey.generate() for _ in range(8)]
    chain = [forged_root(keys[1].did)]
    for index in range(1, 7):
        chain.append(Token.sign(keys[index], audience=keys[index + 1].did, expiration=NOW + 600,
                                proofs=[chain[-1].cid], capabilities={"mailto:*": {"email/send": [{}]}}))
    deep = Token.sign(keys[7], audience=service.did, expiration=NOW + 60, proofs=[chain[-1].cid],
                      capabilities={"mailto:*": {"email/send": [{}]}})
    texts = [root.text for root in roots]
    work = Work(monkeypatch)

    assert refused("untrusted_issuer", lambda: verifier.verify(fan.text, texts)).field == "prf[0].iss"
    assert (work.signatures, work.points) == (0, 3), "the presented token's issuer, and the first root's"
    work.reset()
    assert refused("wrong_audience", lambda: verifier.verify(elsewhere.text, texts)).field == "aud"
    assert (work.signatures, work.points) == (0, 1)
    work.reset()
    error = refused("untrusted_issuer", lambda: verifier.verify(deep.text, [token.text for token in chain]))
    assert error.field == ".".join(["prf[0]"] * 7) + ".iss"
    assert work.signatures == 0 and work.points == 8, "one path parsed, each DID checked once"
    assert len(verifier._presented) == len(verifier._proofs) == 0, "nothing forged is kept"


def test_forged_1_0_invocations_are_refused_before_their_delegations_are_read(
        monkeypatch: pytest.MonkeyPatch) -> None:
    trusted, agent, service = SigningKey.generate(), SigningKey.generate(), SigningKey.generate()
    verifier = airgapped(trusted, service)

    def forged(subject: SigningKey, count: int) -> tuple[bytes, list[bytes]]:
        delegations = [Delegation.sign(subject, audience=agent.did, subject=subject.did, command="/email/send",
                                       expiration=NOW + 600, meta={"org": ORG}) for _ in range(count)]
        invocation = Invocation.sign(agent, subject=subject.did, audience=service.did, command="/email/send",
                                     proofs=[delegation.cid for delegation in delegations[:8]],
                                     expiration=NOW + 60)
        return invocation.bytes, [delegation.bytes for delegation in delegations]

    untrusted = forged(SigningKey.generate(), 32)
    others = forged(trusted, 7)[1]
    impostor = SigningKey.generate()
    # A root issued by another key about the trusted subject, and one claiming the trusted issuer but signed by
    # another key; each cited before seven more that are never read.
    about = Delegation.sign(impostor, audience=agent.did, subject=trusted.did, command="/email/send",
                            expiration=NOW + 600, meta={"org": ORG})
    claiming = _seal(DLG, {"iss": trusted.did, "aud": agent.did, "sub": trusted.did, "cmd": "/email/send",
                           "pol": [], "nonce": b"0123456789ab", "exp": NOW + 600, "meta": {"org": ORG}}, impostor)

    def citing(root: bytes) -> tuple[bytes, list[bytes]]:
        cited = [root, *others]
        invocation = Invocation.sign(agent, subject=trusted.did, audience=service.did, command="/email/send",
                                     proofs=[CID.of(data, DAG_CBOR) for data in cited], expiration=NOW + 60)
        return invocation.bytes, cited

    by_impostor, forged_signature = citing(about.bytes), citing(claiming)
    work = Work(monkeypatch)
    assert refused("untrusted_issuer", lambda: verifier.verify_invocation(*untrusted)).field == "sub"
    assert work.signatures == 1, "the invocation's own; none of the 32 delegations is read"
    work.reset()
    assert refused("invalid_chain", lambda: verifier.verify_invocation(*by_impostor)).field == "prf[0]"
    assert work.signatures == 2, "the invocation's and its root's (which holds, under the impostor's key)"
    work.reset()
    assert refused("bad_signature", lambda: verifier.verify_invocation(*forged_signature)).field == "proofs[0]"
    assert work.signatures == 2, "the invocation's and its root's (which does not hold)"
    assert len(verifier._delegations) == 0, "nothing forged is kept"


def test_every_proof_supplied_must_still_parse_as_in_swift() -> None:
    """Parsing proofs only as the chain reaches them must not let a malformed extra one through: Swift's verifier
    parses every proof supplied (and checks each 1.0 delegation's signature), used or not."""
    root_key, agent, service = SigningKey.generate(), SigningKey.generate(), SigningKey.generate()
    verifier = airgapped(root_key, agent)
    root = Token.sign(root_key, audience=agent.did, expiration=NOW + 600, facts={"org": ORG},
                      capabilities={"mailto:*": {"email/send": [{}]}})
    unsigned = Token.sign(SigningKey.generate(), audience=agent.did, expiration=NOW + 600,
                          capabilities={"mailto:*": {"email/send": [{}]}})
    header, payload, signature = unsigned.text.split(".")
    unused_bad_signature = ".".join([header, payload, signature[:-2] + ("AA" if signature[-2:] != "AA" else "AQ")])
    assert verifier.verify(root.text, [unused_bad_signature]).org == ORG, "an unused proof's signature: unread"
    error = refused("malformed", lambda: verifier.verify(root.text, [root.text, "x.y.z"]))
    assert error.field is not None and error.field.startswith("proofs[1]")
    assert refused("malformed", lambda: verifier.verify(root.text, ["a" * 40_000])).field == "proofs[0]"

    delegation = Delegation.sign(root_key, audience=agent.did, subject=root_key.did, command="/email/send",
                                 expiration=NOW + 600, meta={"org": ORG})
    other = Delegation.sign(root_key, audience=agent.did, subject=root_key.did, command="/email/read",
                            expiration=NOW + 600, meta={"org": ORG})
    forged = bytearray(other.bytes)
    forged[10] ^= 1  # inside the signature
    verifier = airgapped(root_key, service)
    invocations = [invoke(agent, delegation, service, "ops@example.com") for _ in range(3)]
    assert refused("bad_signature", lambda: verifier.verify_invocation(
        invocations[0].bytes, [delegation.bytes, bytes(forged)])).field == "proofs[1]"
    assert refused("malformed", lambda: verifier.verify_invocation(
        invocations[1].bytes, [delegation.bytes, b"\xa0"])).field == "proofs[1]"
    assert verifier.verify_invocation(invocations[2].bytes, [other.bytes, delegation.bytes]).org == ORG


def test_parse_caches_are_bounded_by_bytes_as_well_as_by_count() -> None:
    from charter_sdk.verifier import _Bounded

    cache: _Bounded[str, int] = _Bounded()
    cache.max_bytes = 1_000
    for index in range(50):
        cache.put(f"token {index}", index, 300)
        assert cache.bytes <= 1_000 and len(cache) <= 3
    assert cache.get("token 49") == 49
    cache.put("too large to keep", 0, 1_001)
    assert cache.get("too large to keep") is None and cache.get("token 49") == 49
    assert _Bounded.capacity == 4096 and _Bounded.max_bytes == 16 * 1024 * 1024

    # In a verifier: what a trusted chain used is kept, and no more than the budget of it.
    root_key, agent = SigningKey.generate(), SigningKey.generate()
    verifier = airgapped(root_key, agent)
    verifier._presented.max_bytes = 40_000
    big = {f"https://x.example/{index}": {"x/y": [{"n": "x" * 100}]} for index in range(100)}
    for nonce in range(5):
        token = Token.sign(root_key, audience=agent.did, expiration=NOW + 600, facts={"org": ORG},
                           capabilities=big, nonce=str(nonce))
        assert len(token.text) > 15_000
        verifier.verify(token.text)
        assert verifier._presented.get(token.text) is not None
        assert verifier._presented.bytes <= 40_000 and len(verifier._presented) <= 2
