"""Writes Specs/vectors/verification.json: the verification cases every Charter SDK runs, with the verdict each
must reach (`valid`, or the verifier's error code), so the Swift, Python and TypeScript verifiers cannot drift.

Tokens are built by the `charter ucan` CLI from fixed seeds and nonces, so running this again gives the same
file. Each case is checked as an air-gapped verifier would (issuers pinned, no feed, leeway 0) at its `now`:
the SDK-level rules (audience, trusted root, the root's organization, times, chain, policies, invocation
lifetime), not revocation or freshness, which need a server.

    python3 scripts/make-vectors.py [path/to/charter]
"""
import base64
import json
import subprocess
import sys

from nacl.signing import SigningKey

CHARTER = sys.argv[1] if len(sys.argv) > 1 else ".build/debug/charter"
ORG = "org_vectors00000000000000"
NOW = 1_800_000_000
EXP = 1_900_000_000


def seed(name):
    return (name.encode() * 32)[:32]


def did(name):
    key = SigningKey(seed(name)).verify_key.encode()
    raw = b"\xed\x01" + key
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    number = int.from_bytes(raw, "big")
    text = ""
    while number:
        number, digit = divmod(number, 58)
        text = alphabet[digit] + text
    return "did:key:z" + "1" * (len(raw) - len(raw.lstrip(b"\0"))) + text


def key(name):
    return base64.b64encode(seed(name)).decode()


def cli(*args):
    return subprocess.run([CHARTER, *map(str, args)], check=True, capture_output=True, text=True).stdout.strip()


ISSUER, AGENT, SERVICE, STRANGER = "charter-issuer", "agent", "service", "stranger"
MAIL = {"mailto:*": {"email/send": [{}]}}
FACTS = {"org": ORG, "env": "live", "app": "app_vectors", "envelope": "env_vectors", "key": "key_vectors"}


def root(audience=AGENT, capabilities=MAIL, expiration=EXP, not_before=None, facts=FACTS, issuer=ISSUER, nonce="n"):
    args = ["ucan", "build", "--issuer-key", key(issuer), "--audience", did(audience), "--expiration", expiration,
            "--nonce", nonce, "--capabilities", json.dumps(capabilities), "--facts", json.dumps(facts)]
    if not_before is not None:
        args += ["--not-before", not_before]
    return cli(*args)


def tampered(token):
    """The same token with one signature bit flipped (still valid base64url)."""
    head, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[0] ^= 1
    return ".".join([head, payload, base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()])


def case010(name, token, expect, proofs=(), audience=SERVICE, now=NOW, requiring=None):
    entry = {"name": name, "token": token, "proofs": list(proofs), "audience": did(audience), "now": now,
             "expect": expect}
    if requiring:
        entry["requiring"] = requiring
    return entry


service_root = root(audience=SERVICE)
agent_root = root(audience=AGENT)
agent_root_cid = cli("ucan", "cid", agent_root)
narrow = {"mailto:ops@example.com": {"email/send": [{}]}}
delegated = cli("ucan", "build", "--issuer-key", key(AGENT), "--audience", did(SERVICE), "--expiration", EXP,
                "--nonce", "d", "--capabilities", json.dumps(narrow), "--proof", agent_root_cid)
widened = cli("ucan", "build", "--issuer-key", key(AGENT), "--audience", did(SERVICE), "--expiration", EXP,
              "--nonce", "w", "--capabilities", json.dumps({"mailto:*": {"email/read": [{}]}}),
              "--proof", agent_root_cid)
ucan_0_10 = [
    case010("a root for the service", service_root, "valid", requiring={"resource": "mailto:a@example.com",
                                                                        "ability": "email/send"}),
    case010("expired", service_root, "expired", now=EXP + 1),
    case010("not valid yet", root(audience=SERVICE, not_before=NOW + 60), "not_yet_valid"),
    case010("addressed to another service", service_root, "wrong_audience", audience=STRANGER),
    case010("signed by an untrusted issuer", root(audience=SERVICE, issuer=STRANGER), "untrusted_issuer"),
    case010("of an untrusted organization", root(audience=SERVICE, facts={**FACTS, "org": "org_other"}),
            "untrusted_issuer"),
    case010("a flipped signature bit", tampered(service_root), "bad_signature"),
    case010("a capability it does not grant", service_root, "not_covered",
            requiring={"resource": "mailto:a@example.com", "ability": "email/read"}),
    case010("an agent's delegation with its root", delegated, "valid", proofs=[agent_root],
            requiring={"resource": "mailto:ops@example.com", "ability": "email/send"}),
    case010("a delegation without its root", delegated, "invalid_chain"),
    case010("a delegation that widens", widened, "invalid_chain", proofs=[agent_root]),
]


def delegation(policy, expiration=EXP, issuer=ISSUER, audience=AGENT, command="/email/send", meta=None):
    return cli("ucan", "delegate", "--issuer-key", key(issuer), "--audience", did(audience), "--subject", did(issuer),
               "--command", command, "--policy", json.dumps(policy), "--expiration", expiration,
               "--nonce", base64.b64encode(b"delegation").decode(), "--meta", json.dumps(meta or FACTS))


def invocation(proof, args, expiration=NOW + 60, audience=SERVICE, command="/email/send", subject=ISSUER):
    return cli("ucan", "invoke", "--issuer-key", key(AGENT), "--subject", did(subject), "--audience", did(audience),
               "--command", command, "--args", json.dumps(args), "--proof", cli("ucan", "cid", proof),
               "--expiration", expiration, "--nonce", base64.b64encode(b"invocation").decode())


def case1(name, invocation_, proofs, expect, audience=SERVICE, now=NOW, command=None):
    entry = {"name": name, "invocation": invocation_, "proofs": list(proofs), "audience": did(audience), "now": now,
             "expect": expect}
    if command:
        entry["command"] = command
    return entry


policy = [["like", ".to", "*@example.com"], ["!=", ".priority", "urgent"]]
granted = delegation(policy)
ucan_1_0 = [
    case1("an invocation within the policy", invocation(granted, {"to": "ada@example.com"}), [granted], "valid",
          command="/email/send"),
    case1("arguments outside the policy", invocation(granted, {"to": "eve@evil.com"}), [granted], "policy_violation"),
    case1("the second statement broken", invocation(granted, {"to": "ada@example.com", "priority": "urgent"}),
          [granted], "policy_violation"),
    case1("expired", invocation(granted, {"to": "ada@example.com"}, expiration=NOW - 1), [granted], "expired"),
    case1("no expiry", invocation(granted, {"to": "ada@example.com"}, expiration="never"), [granted], "malformed"),
    case1("an expiry past the longest lifetime", invocation(granted, {"to": "ada@example.com"}, expiration=NOW + 301),
          [granted], "malformed"),
    case1("addressed to another service", invocation(granted, {"to": "ada@example.com"}, audience=STRANGER),
          [granted], "wrong_audience"),
    case1("its delegation missing", invocation(granted, {"to": "ada@example.com"}), [], "invalid_chain"),
    case1("a command the delegation does not prove",
          invocation(granted, {"to": "ada@example.com"}, command="/email/read"), [granted], "invalid_chain"),
    case1("another command than required", invocation(granted, {"to": "ada@example.com"}), [granted], "not_covered",
          command="/email/send/bulk"),
    case1("rooted at an untrusted issuer",
          invocation(delegation([], issuer=STRANGER), {"to": "x"}, subject=STRANGER),
          [delegation([], issuer=STRANGER)], "untrusted_issuer"),
    case1("of an untrusted organization",
          invocation(delegation([], meta={**FACTS, "org": "org_other"}), {"to": "x"}),
          [delegation([], meta={**FACTS, "org": "org_other"})], "untrusted_issuer"),
    case1("an expired delegation", invocation(delegation(policy, expiration=NOW - 1), {"to": "ada@example.com"}),
          [delegation(policy, expiration=NOW - 1)], "expired"),
]

vectors = {
    "description": "Verification cases every Charter SDK runs (scripts/make-vectors.py): each token, checked by a "
    "verifier configured as `verifier` says, with its audience set to the case's `audience` and its clock at `now`, "
    "must reach `expect`: valid, or the verifier's error code.",
    "verifier": {"organizations": [ORG], "issuers": [did(ISSUER)], "leeway": 0, "max_invocation_lifetime": 300},
    "ucan_0_10": ucan_0_10,
    "ucan_1_0": ucan_1_0,
}
with open("Specs/vectors/verification.json", "w") as out:
    json.dump(vectors, out, indent=2)
    out.write("\n")
print(f"Specs/vectors/verification.json: {len(ucan_0_10)} 0.10 cases, {len(ucan_1_0)} 1.0 cases")
