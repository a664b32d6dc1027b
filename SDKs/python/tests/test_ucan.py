"""The token core: policies against the spec's examples and Charter's own verdicts, DAG-CBOR against libipld and
Charter's strict decoder, envelopes and CIDs byte for byte with the `charter ucan` CLI."""

from __future__ import annotations

import base64
import json
import struct
import subprocess
from typing import Any

import libipld
import pytest

from charter_sdk import CID, Delegation, Invocation, Policy, SigningKey, Token, UCANError, dagcbor
from charter_sdk._crypto import did_of
from charter_sdk.ucan1 import DLG, VARSIG_DRAFT, validate_invocation
from conftest import CHARTER

KATIE = {"name": "Katie", "age": 35, "nationalities": ["Canadian", "South African"]}
MAIL = {"from": "alice@example.com", "to": ["bob@example.com", "carol@not.example.com", "dan@example.com"],
        "cc": ["fraud@example.com"], "title": "Meeting Confirmation", "body": "I'll see you on Tuesday"}
ABZ = {"a": [{"b": 1}, {"b": 2}, {"z": [7, 8, 9]}]}
GLOB = "Alice\\*, Bob*, Carol."

# (label, statements, args, holds); None: the policy itself is malformed. The delegation spec's examples, as
# scripts/interop.py runs them against `charter ucan policy`, plus Charter's fail-closed choices.
CASES: list[tuple[str, list[Any], dict[str, Any], bool | None]] = [
    ("and []", [["and", []]], KATIE, True),
    ("and of name and age", [["and", [["==", ".name", "Katie"], [">=", ".age", 21]]]], KATIE, True),
    ("and with a false nationalities", [["and", [["==", ".name", "Katie"], [">=", ".age", 21],
                                                 ["==", ".nationalities", ["American"]]]]], KATIE, False),
    ("or []", [["or", []]], KATIE, True),
    ("or with one true", [["or", [["==", ".name", "Katie"], [">", ".age", 45]]]], KATIE, True),
    ("not of a false and", [["not", ["and", [["==", ".name", "Katie"], ["==", ".nationalities", ["American"]]]]]],
     KATIE, True),
    ("all .a > .b 0", [["all", ".a", [">", ".b", 0]]], ABZ, False),
    ("any .a == .b 2", [["any", ".a", ["==", ".b", 2]]], ABZ, True),
    ("deep == on a list", [["==", ".nationalities", ["Canadian", "South African"]]], KATIE, True),
    ("!= on a list", [["!=", ".nationalities", ["Canadian"]]], KATIE, True),
    (".title", [["==", ".title", "Meeting Confirmation"]], MAIL, True),
    (".to[1]", [["==", ".to[1]", "carol@not.example.com"]], MAIL, True),
    (".to[-1]", [["==", ".to[-1]", "dan@example.com"]], MAIL, True),
    (".to[99]? is null", [["==", ".to[99]?", None]], MAIL, True),
    (".to[99] fails to resolve", [["==", ".to[99]", None]], MAIL, False),
    ('["title"]', [["==", '.["title"]', "Meeting Confirmation"]], MAIL, True),
    (".to[1:]", [["==", ".to[1:]", ["carol@not.example.com", "dan@example.com"]]], MAIL, True),
    (".to[-2:-1]", [["==", ".to[-2:-1]", ["carol@not.example.com"]]], MAIL, True),
    ("a byte selected from bytes", [["==", ".b[3]", 140]], {"b": base64.b64decode("1qnBjPjE")}, True),
    ("the validation example", [["==", ".from", "alice@example.com"], ["any", ".to", ["like", ".", "*@example.com"]]],
     {"from": "alice@example.com", "to": ["bob@example.com", "carol@elsewhere.example.com"]}, True),
    ("the invalid validation example", [["any", ".to", ["like", ".", "*@example.com"]]],
     {"to": ["carol@elsewhere.example.com"]}, False),
    ("nested quantifiers", [["all", ".newsletters", ["any", ".recipients", ["==", ".email", "fraud@example.com"]]]],
     {"newsletters": [{"recipients": [{"email": "fraud@example.com"}]}, {"recipients": [{"email": "x@y.z"}]}]},
     False),
    ("1 >= 1.0 across number types", [[">=", ".a", 1.0], ["<=", ".a", 1]], {"a": 1}, True),
    ("2^53 + 1 > 2^53 as a float, exactly", [[">", ".a", 9007199254740992.0]], {"a": 2**53 + 1}, True),
    ("> on a string is false", [[">", ".a", 1]], {"a": "2"}, False),
    ("like on a number is false", [["like", ".a", "*"]], {"a": 1}, False),
    ("all on a non-collection is false", [["all", ".a", ["==", ".", 1]]], {"a": 1}, False),
    ("any on an empty list is false", [["any", ".a", ["==", ".", 1]]], {"a": []}, False),
    ("all on an empty list is true", [["all", ".a", ["==", ".", 1]]], {"a": []}, True),
    ("a missing key selects null", [["==", ".missing", None]], {"a": 1}, True),
    ("not of an unresolved statement is not a pass", [["not", ["==", ".a[5]", 1]]], {"a": [1]}, False),
    ("!= of an unresolved selector is not a pass", [["!=", ".a.b", 1]], {"a": 1}, False),
    ("a [] over a map's values in key order", [["==", ".m[]", [1, 2]]], {"m": {"bb": 2, "a": 1}}, True),
    ("true is not 1", [["==", ".a", 1]], {"a": True}, False),
    ("keys compare as bytes", [["==", '.["é"]', 1]], {"e\u0301": 1}, False),
    ("an unknown operator is malformed", [["~=", ".a", 1]], {"a": 1}, None),
    ("a selector without a leading dot is malformed", [["==", "a", 1]], {"a": 1}, None),
    ("a double-dot selector is malformed", [["==", "..a", 1]], {"a": 1}, None),
    ("a leading-zero index is malformed", [["==", ".a[01]", 1]], {"a": 1}, None),
    ("< against a string is malformed", [["<", ".a", "1"]], {"a": 1}, None),
] + [(f"{GLOB!r} matches {text!r}", [["like", ".s", GLOB]], {"s": text}, True) for text in (
    "Alice*, Bob, Carol.", "Alice*, Bob, Dan, Erin, Carol.", "Alice*, Bob  , Carol.", "Alice*, Bob*, Carol.")
] + [(f"{GLOB!r} does not match {text!r}", [["like", ".s", GLOB]], {"s": text}, False) for text in (
    "Alice*, Bob, Carol", "Alice*, Bob*, Carol!", "Alice, Bob, Carol.", "Alice Cooper, Bob, Carol.",
    " Alice*, Bob, Carol. ")]


def dag_json(value: Any) -> str:
    def convert(item: Any) -> Any:
        if isinstance(item, bytes):
            return {"/": {"bytes": base64.b64encode(item).decode().rstrip("=")}}
        if isinstance(item, dict):
            return {key: convert(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [convert(inner) for inner in item]
        return item
    return json.dumps(convert(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def python_verdict(statements: list[Any], arguments: dict[str, Any]) -> bool | None:
    try:
        policy = Policy(statements)
    except UCANError:
        return None
    return policy.holds(arguments)


@pytest.mark.parametrize("label,statements,arguments,expected", CASES, ids=[case[0] for case in CASES])
def test_policies_evaluate_as_the_spec_and_charter_say(label: str, statements: list[Any], arguments: dict[str, Any],
                                                       expected: bool | None) -> None:
    assert python_verdict(statements, arguments) is expected


def test_charter_gives_the_same_verdict_on_every_case() -> None:
    """`charter ucan policy` (the Swift evaluator) on every case above: exit 0 match, 1 no match, 64 malformed."""
    exits = {True: 0, False: 1, None: 64}
    disagreements = []
    for label, statements, arguments, expected in CASES:
        run = subprocess.run([CHARTER, "ucan", "policy", "--policy", json.dumps(statements), "--args",
                              dag_json(arguments)], capture_output=True, text=True)
        if run.returncode != exits[expected]:
            disagreements.append((label, run.returncode, run.stdout + run.stderr))
    assert disagreements == []


def test_the_first_failing_statement_is_named() -> None:
    policy = Policy([["==", ".from", "a@example.com"], ["like", ".to", "*@example.com"]])
    assert policy.evaluate({"from": "a@example.com", "to": "eve@evil.com"}) == \
        '["like", ".to", "*@example.com"] did not hold'
    with pytest.raises(UCANError) as error:
        Policy([["==", ".a", 1], ["and", [["like", 3, "x"]]]])
    assert error.value.field == "pol[1][1][0][1]"
    with pytest.raises(UCANError) as deep:
        nested: list[Any] = ["==", ".a", 1]
        for _ in range(40):
            nested = ["not", nested]
        Policy([nested])
    assert deep.value.code == "too_large"


SAMPLES: list[Any] = [
    None, True, False, 0, 23, 24, 255, 256, 65535, 65536, 2**32, 2**63 - 1, -1, -24, -25, -(2**63), 1.5, -0.1, 2.0,
    "", "héllo ✓", b"", b"\x00\xff", [], [1, [2, {"deep": True}], None], {}, {"zz": 1, "aaa": 2, "b": {"zz": 1}},
    {"é": 1, "e": 2, "ab": 3},
]


@pytest.mark.parametrize("value", SAMPLES, ids=[repr(sample)[:30] for sample in SAMPLES])
def test_dag_cbor_encodes_as_libipld_and_reads_back(value: Any) -> None:
    encoded = dagcbor.encode(value)
    assert encoded == libipld.encode_dag_cbor(value)
    assert dagcbor.decode(encoded) == value


def test_links_and_bytes_stay_apart() -> None:
    cid = CID.of(b"x", 0x71)
    encoded = dagcbor.encode({"prf": [cid], "nonce": cid.bytes})
    decoded = dagcbor.decode(encoded)
    assert decoded["prf"] == [cid] and decoded["nonce"] == cid.bytes
    assert b"\xd8\x2a\x58\x25\x00" + cid.bytes in encoded


NON_CANONICAL = {
    "an integer in a longer form": b"\x18\x01",
    "map keys out of order": b"\xa2\x61b\x01\x61a\x02",
    "a duplicate key": b"\xa2\x61a\x01\x61a\x02",
    "keys differing only in normalisation": b"\xa2" + dagcbor.encode("\u00e9") + b"\x01" + dagcbor.encode(
        "e\u0301") + b"\x02",
    "an indefinite-length map": b"\xbf\x61a\x01\xff",
    "a 32-bit float": b"\xfa" + struct.pack(">f", 1.5),
    "a 16-bit float": b"\xf9\x3e\x00",
    "NaN": b"\xfb\x7f\xf8" + bytes(6),
    "infinity": b"\xfb\x7f\xf0" + bytes(6),
    "undefined": b"\xf7",
    "a tag other than 42": b"\xc1\x01",
    "an integer map key": b"\xa1\x01\x01",
    "an integer past Int64": b"\x1b" + b"\xff" * 8,
    "trailing bytes": b"\x01\x00",
    "invalid UTF-8": b"\x61\xff",
    "a truncated string": b"\x63ab",
    "a link without the 0x00 prefix": b"\xd8\x2a\x58\x24" + CID.of(b"x", 0x71).bytes,
}


@pytest.mark.parametrize("label", list(NON_CANONICAL))
def test_dag_cbor_refuses_what_is_not_canonical(label: str) -> None:
    with pytest.raises(UCANError) as error:
        dagcbor.decode(NON_CANONICAL[label])
    assert error.value.code in ("malformed", "too_large")


def test_deep_nesting_is_refused_without_recursing_far() -> None:
    with pytest.raises(UCANError) as error:
        dagcbor.decode(b"\x81" * 100 + b"\x01")
    assert error.value.code == "too_large"


def test_envelopes_are_byte_identical_with_the_cli() -> None:
    issuer = SigningKey.from_secret(bytes([0xE1]) * 32)
    audience = SigningKey.from_secret(bytes([0xB0]) * 32)
    policy = [["==", ".from", "alice@example.com"], ["any", ".to", ["like", ".", "*@example.com"]]]
    meta = {"org": "o_1", "blob": b"\x00\xff", "n": -3}
    ours = Delegation.sign(issuer, audience=audience.did, subject=issuer.did, command="/msg", policy=policy,
                           expiration=4_102_444_800, not_before=1_767_225_540, nonce=b"cli-dlg-nonce", meta=meta)
    theirs = subprocess.run(
        [CHARTER, "ucan", "delegate", "--issuer-key", base64.b64encode(bytes([0xE1]) * 32).decode(), "--audience",
         audience.did, "--subject", issuer.did, "--command", "/msg", "--policy", json.dumps(policy), "--expiration",
         "4102444800", "--not-before", "1767225540", "--nonce", base64.b64encode(b"cli-dlg-nonce").decode(),
         "--meta", dag_json(meta)], capture_output=True, text=True, check=True).stdout.strip()
    assert str(ours) == theirs
    cid = subprocess.run([CHARTER, "ucan", "cid", theirs], capture_output=True, text=True, check=True).stdout
    assert str(ours.cid) == cid.strip() and str(ours.cid).startswith("bafyrei")
    assert Delegation.parse(theirs) == ours
    invocation = Invocation.sign(audience, subject=issuer.did, command="/msg/send",
                                 arguments={"to": ["bob@example.com"], "from": "alice@example.com", "n": 2.0},
                                 proofs=[ours.cid], expiration=4_102_444_800, nonce=b"inv")
    run = subprocess.run([CHARTER, "ucan", "verify", str(invocation), "--proof", theirs, "--now", "1767225600",
                          "--json"], capture_output=True, text=True)
    assert run.returncode == 0 and json.loads(run.stdout)["cid"] == str(invocation.cid), run.stderr
    validated = validate_invocation(invocation, {ours.cid: ours}, 1_767_225_600)
    assert validated.delegations == [ours]


def test_tokens_are_byte_identical_with_the_cli() -> None:
    seed = bytes(range(32))
    key = SigningKey.from_secret(seed)
    audience = SigningKey.from_secret(bytes(range(1, 33))).did
    caps = {"https://api.example.com/mail": {"email/send": [{"max": 100}]}, "mailto:ops@example.com": {"msg/*": [{}]}}
    ours = Token.sign(key, audience=audience, capabilities=caps, expiration=2_000_000_000, not_before=1_900_000_000,
                      nonce="same", facts={"org": "o_1"})
    theirs = subprocess.run(
        [CHARTER, "ucan", "build", "--issuer-key", base64.b64encode(seed).decode(), "--audience", audience,
         "--expiration", "2000000000", "--not-before", "1900000000", "--nonce", "same", "--facts", '{"org":"o_1"}',
         "--capabilities", json.dumps(caps)], capture_output=True, text=True, check=True).stdout.strip()
    assert ours.text == theirs
    cid = subprocess.run([CHARTER, "ucan", "cid", theirs], capture_output=True, text=True, check=True).stdout
    assert str(ours.cid) == cid.strip()


@pytest.mark.parametrize("mutation", ["alg none", "padded", "unknown field", "ucv 1.0", "small-order aud"])
def test_tokens_are_parsed_strictly(mutation: str) -> None:
    from charter_sdk._encoding import b64url_encode, canonical_json
    key = SigningKey.generate()
    header = {"alg": "EdDSA", "typ": "JWT"}
    payload: dict[str, Any] = {"ucv": "0.10.0", "iss": key.did, "aud": key.did, "exp": None, "cap": {}}
    if mutation == "alg none":
        header["alg"] = "none"
    elif mutation == "unknown field":
        payload["xyz"] = 1
    elif mutation == "ucv 1.0":
        payload["ucv"] = "1.0.0"
    elif mutation == "small-order aud":
        payload["aud"] = did_of(b"\x01" + bytes(31))  # the identity point: small order
    signed = b64url_encode(canonical_json(header)) + "." + b64url_encode(canonical_json(payload))
    text = signed + "." + b64url_encode(key.sign(signed.encode()))
    if mutation == "padded":
        text += "=="
    with pytest.raises(UCANError):
        Token.parse(text)


def test_a_hand_built_envelope_with_the_draft_header_is_read() -> None:
    key = SigningKey.generate()
    payload = {"iss": key.did, "aud": key.did, "sub": key.did, "cmd": "/", "pol": [], "nonce": b"n", "exp": None}
    signed = b"\xa2" + dagcbor.encode("h") + dagcbor.encode(VARSIG_DRAFT) + dagcbor.encode(DLG) + dagcbor.encode(payload)
    envelope = b"\x82\x58\x40" + key.sign(signed) + signed
    assert Delegation.parse(envelope).command == "/"
    forged = envelope[:3] + bytes(64) + envelope[67:]
    with pytest.raises(UCANError) as error:
        Delegation.parse(forged)
    assert error.value.code == "invalid_signature"
