"""Interop check: an independent UCAN 0.10 implementation (PyNaCl, hashlib, blake3) against `charter ucan`.

It verifies tokens Charter built, builds tokens Charter must verify, and checks that both sides encode
the same claims to byte-identical tokens. Prints 'N passed, N failed' and exits non-zero on any failure.
"""

import base64
import hashlib
import json
import subprocess
import sys
import time

import blake3
import nacl.signing

CHARTER = sys.argv[1]
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
passed, failed = 0, 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok    {name}")
    else:
        failed += 1
        print(f"FAIL  {name} {detail}")


def charter(*args, expect=0):
    run = subprocess.run([CHARTER, *args], capture_output=True, text=True)
    if run.returncode != expect:
        raise SystemExit(f"charter {args[:2]} exited {run.returncode}: {run.stderr.strip()}")
    return run


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b58encode(data):
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, digit = divmod(number, 58)
        out = B58[digit] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b58decode(text):
    number = 0
    for char in text:
        number = number * 58 + B58.index(char)
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def did_of(verify_key):
    return "did:key:z" + b58encode(b"\xed\x01" + bytes(verify_key))


def key_of(did):
    raw = b58decode(did[len("did:key:z"):])
    assert raw[:2] == b"\xed\x01" and len(raw) == 34
    return nacl.signing.VerifyKey(raw[2:])


def cid(token, hasher="sha2-256"):
    data = token.encode()
    code, digest = (0x12, hashlib.sha256(data).digest()) if hasher == "sha2-256" else (0x1E, blake3.blake3(data).digest())
    raw = bytes([0x01, 0x55, code, 0x20]) + digest
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def encode_json(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def build(signing_key, payload):
    header = encode_json({"alg": "EdDSA", "typ": "JWT"})
    signed = b64url(header) + "." + b64url(encode_json(payload))
    return signed + "." + b64url(signing_key.sign(signed.encode()).signature)


def verify_signature(token):
    header, payload, signature = token.split(".")
    claims = json.loads(unb64url(payload))
    key_of(claims["iss"]).verify(f"{header}.{payload}".encode(), unb64url(signature))
    return json.loads(unb64url(header)), claims


now = int(time.time())
seed = bytes(range(32))
python_key = nacl.signing.SigningKey(seed)
python_did = did_of(python_key.verify_key)

# 1. Charter builds; Python verifies.
identity = json.loads(charter("ucan", "keygen").stdout)
secret = base64.b64decode(identity["secret_key"])
check("keygen secret key is 64 bytes", len(secret) == 64)
charter_key = nacl.signing.SigningKey(secret[:32])
check("keygen DID matches the key", did_of(charter_key.verify_key) == identity["did"])

caps = {"https://api.example.com/mail": {"email/send": [{"max": 100}]}, "mailto:ops@example.com": {"msg/*": [{}]}}
root = charter("ucan", "build", "--issuer-key", identity["secret_key"], "--audience", python_did,
               "--expiration", str(now + 600), "--nonce", "n-1", "--facts", '{"org":"o_1","path":"a/b"}',
               "--capabilities", json.dumps(caps)).stdout.strip()
try:
    header, claims = verify_signature(root)
    check("Charter token verifies under PyNaCl", True)
except Exception as error:  # noqa: BLE001 - any failure is the finding
    header, claims = {}, {}
    check("Charter token verifies under PyNaCl", False, repr(error))
check("header is EdDSA/JWT", header == {"alg": "EdDSA", "typ": "JWT"})
check("payload claims are as built", claims.get("iss") == identity["did"] and claims.get("aud") == python_did
      and claims.get("exp") == now + 600 and claims.get("cap") == caps and claims.get("ucv") == "0.10.0"
      and claims.get("nnc") == "n-1" and "prf" not in claims and "nbf" not in claims)
check("payload bytes are canonical JSON", unb64url(root.split(".")[1]) == encode_json(claims))
for hasher in ("sha2-256", "blake3-256"):
    check(f"{hasher} CID matches", charter("ucan", "cid", root, "--hasher", hasher).stdout.strip() == cid(root, hasher))

never = charter("ucan", "build", "--issuer-key", identity["secret_key"], "--audience", python_did,
                "--expiration", "never").stdout.strip()
check("never-expiring token carries exp null", json.loads(unb64url(never.split(".")[1]))["exp"] is None)

# 2. Same seed and claims on both sides give byte-identical tokens.
seed_b64 = base64.b64encode(seed).decode()
payload = {"aud": identity["did"], "cap": caps, "exp": now + 600, "fct": {"org": "o_1"}, "iss": python_did,
           "nbf": now - 10, "nnc": "same", "ucv": "0.10.0"}
ours = build(python_key, payload)
theirs = charter("ucan", "build", "--issuer-key", seed_b64, "--audience", identity["did"], "--expiration",
                 str(now + 600), "--not-before", str(now - 10), "--nonce", "same", "--facts", '{"org":"o_1"}',
                 "--capabilities", json.dumps(caps)).stdout.strip()
check("Python and Charter encode identical tokens", ours == theirs)

# 3. Python builds a chain; Charter verifies it, and refuses tampered or widened ones.
check("Charter verifies a Python root token", charter("ucan", "verify", ours).stdout.strip() == "valid")
sub = nacl.signing.SigningKey(bytes(range(1, 33)))
delegated = build(charter_key, {"aud": did_of(sub.verify_key), "cap": {"https://api.example.com/mail": {
    "email/send": [{"max": 100, "to": ["a@example.com"]}]}}, "exp": now + 300, "iss": identity["did"],
    "nbf": now - 10, "prf": [cid(ours)], "ucv": "0.10.0"})
check("Charter verifies a Python delegation", charter("ucan", "verify", delegated, "--proof", ours).stdout.strip() == "valid")
by_blake3 = build(charter_key, {"aud": did_of(sub.verify_key), "cap": {}, "exp": now + 300, "iss": identity["did"],
                                "nbf": now, "prf": [cid(ours, "blake3-256")], "ucv": "0.10.0"})
check("Charter resolves a blake3 proof CID", charter("ucan", "verify", by_blake3, "--proof", ours).returncode == 0)

widened = build(charter_key, {"aud": did_of(sub.verify_key), "cap": {"https://api.example.com/mail": {
    "email/send": [{}]}}, "exp": now + 300, "iss": identity["did"], "nbf": now, "prf": [cid(ours)], "ucv": "0.10.0"})
refused = charter("ucan", "verify", widened, "--proof", ours, expect=1)
check("Charter refuses a widened delegation", "capability_not_delegated" in refused.stderr, refused.stderr)

h, p, s = ours.split(".")
forged = payload | {"exp": now + 6000}
tampered = f"{h}.{b64url(encode_json(forged))}.{s}"
refused = charter("ucan", "verify", tampered, expect=1)
check("Charter refuses a tampered payload", "invalid_signature" in refused.stderr, refused.stderr)

none_alg = b64url(encode_json({"alg": "none", "typ": "JWT"})) + "." + p + "."
refused = charter("ucan", "verify", none_alg, expect=1)
check("Charter refuses alg none", refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr)

print(f"interop: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
