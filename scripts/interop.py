"""Interop check: an independent UCAN 0.10 implementation (PyNaCl, hashlib, blake3) against `charter ucan`.

It verifies tokens Charter built, builds tokens Charter must verify, and checks that both sides encode
the same claims to byte-identical tokens. Then it starts a real `charter serve`, mints tokens over HTTP and
checks them, the issuer list and the signed revocation feed with PyNaCl alone. Prints 'N passed, N failed'
and exits non-zero on any failure.
"""

import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import blake3
import nacl.exceptions
import nacl.signing

import charter_api

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


def signed_by(did, message, signature):
    """Whether `signature` (base64url) is did's Ed25519 signature over `message`."""
    try:
        key_of(did).verify(message, unb64url(signature))
        return True
    except (nacl.exceptions.BadSignatureError, ValueError, AssertionError):
        return False


class Server:
    """`charter serve` on a temporary SQLite database and a free port, its output drained."""

    def __init__(self, directory):
        self.process = subprocess.Popen(
            [CHARTER, "serve", "--database", "sqlite:" + os.path.join(directory, "charter.db"), "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines, self.url, self.key = [], None, None
        started = threading.Event()

        def drain():
            for line in self.process.stdout:
                self.lines.append(line)
                if line.strip().startswith("chr_live_") and self.key is None:
                    self.key = line.strip()
                if line.startswith("charter listening on http://"):
                    self.url = line.split(" on ", 1)[1].strip()
                    started.set()
            started.set()

        threading.Thread(target=drain, daemon=True).start()
        if not started.wait(30) or self.url is None:
            self.stop()
            raise SystemExit("charter serve did not start:\n" + "".join(self.lines))

    def call(self, method, path, body=None, key=None):
        """(status, JSON body) of one request; error statuses are answers, not exceptions."""
        return charter_api.call(self.url + path, method, key, body)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(timeout=30)


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

# 4. A live server mints over HTTP; Python checks the tokens, the issuers and the revocation feed.
with tempfile.TemporaryDirectory(prefix="charter-interop-") as directory:
    server = Server(directory)
    try:
        key = server.key
        check("serve prints the owner key", key is not None and key.startswith("chr_live_"))
        status, apps = server.call("GET", "/v1/apps", key=key)
        app = apps["apps"][0]["id"]
        mail = {"mailto:*": {"email/send": [{}]}}
        status, envelope = server.call("POST", "/v1/envelopes", {"app_id": app, "name": "interop", "capabilities": mail,
                                                                 "max_ttl_seconds": 600}, key=key)
        check("envelope created", status == 201 and envelope.get("status") == "active", envelope)
        envelope_id = envelope["id"]

        def mint():
            status, minted = server.call("POST", "/v1/authorize", {"audience": python_did, "capabilities": mail,
                                                                   "ttl_seconds": 300}, key=key)
            if status != 200:
                raise SystemExit(f"/v1/authorize answered {status}: {minted}")
            return minted

        before = int(time.time())
        first, second = mint(), mint()
        token = first["token"]
        header_part, payload_part, _ = token.split(".")
        check("minted header is exactly EdDSA/JWT", unb64url(header_part) == b'{"alg":"EdDSA","typ":"JWT"}')
        try:
            _, minted_claims = verify_signature(token)
            check("minted token verifies under PyNaCl and its iss did:key", True)
        except Exception as error:  # noqa: BLE001 - any failure is the finding
            minted_claims = json.loads(unb64url(payload_part))
            check("minted token verifies under PyNaCl and its iss did:key", False, repr(error))
        check("minted payload bytes are canonical JSON", unb64url(payload_part) == encode_json(minted_claims))
        status, issuers = server.call("GET", "/v1/issuers")
        listed = {entry["did"]: entry for entry in issuers.get("issuers", [])}
        check("iss is a published live issuer", minted_claims.get("iss") in listed
              and listed[minted_claims["iss"]]["environment"] == "live" and first["issuer"] == minted_claims["iss"])
        check("server's cid is our sha2-256 CIDv1 raw",
              first["cid"] == cid(token) and second["cid"] == cid(second["token"]))
        check("minted claims are as requested", minted_claims.get("aud") == python_did
              and minted_claims.get("cap") == mail and minted_claims.get("ucv") == "0.10.0"
              and before + 300 <= minted_claims.get("exp", 0) <= int(time.time()) + 300 and "prf" not in minted_claims)
        facts = minted_claims.get("fct", {})
        check("fct names org, env, app, envelope and key", {"org", "env", "app", "envelope", "key"} <= facts.keys()
              and facts["app"] == app and facts["env"] == "live" and facts["envelope"] == envelope_id
              and first["envelope_id"] == envelope_id, facts)
        second_claims = json.loads(unb64url(second["token"].split(".")[1]))
        check("nnc is present and differs between mints",
              bool(minted_claims.get("nnc")) and bool(second_claims.get("nnc"))
              and minted_claims["nnc"] != second_claims["nnc"])

        status, record = server.call("POST", f"/v1/tokens/{second['cid']}/revoke", key=key)
        check("token revoked by CID", status == 200 and record.get("cid") == second["cid"] and record.get("revoked_at"))
        status, record = server.call("POST", f"/v1/envelopes/{envelope_id}/revoke", key=key)
        check("envelope revoked", status == 200 and record.get("status") == "revoked")
        status, refused = server.call("POST", "/v1/authorize", {"audience": python_did, "capabilities": mail}, key=key)
        check("no mint after the envelope is revoked", status == 403 and refused.get("error", {}).get("code")
              in ("no_active_envelope", "envelope_revoked"), refused)

        org = facts.get("org")
        check("the issuer is the organization's own", listed.get(minted_claims.get("iss"), {}).get("org") == org)
        feed_path = f"/v1/revocations?org={org}&environment=live"
        status, feed = server.call("GET", feed_path + "&since=0")
        entries = {(entry["kind"], entry["revoke"]): entry for entry in feed.get("revocations", [])}
        for kind, revoked in (("token", second["cid"]), ("envelope", envelope_id)):
            entry = entries.get((kind, revoked))
            check(f"{kind} revocation is on the feed",
                  entry is not None and entry["iss"] == minted_claims.get("iss"), feed)
            check(f"{kind} revocation challenge verifies under PyNaCl", entry is not None
                  and signed_by(entry["iss"], b"REVOKE:" + revoked.encode(), entry["challenge"]))
        envelope_entry = entries.get(("envelope", envelope_id), {"iss": minted_claims.get("iss"), "challenge": ""})
        check("a challenge does not verify for another id", not signed_by(
            envelope_entry["iss"], b"REVOKE:" + second["cid"].encode(), envelope_entry["challenge"]))
        seqs = [entry["seq"] for entry in feed.get("revocations", [])]
        head = dict(feed.get("head") or {})
        signature = head.pop("signature", "")
        check("feed is ordered and complete up to the signed head's seq", bool(seqs) and seqs == sorted(seqs)
              and feed.get("next_since") == head.get("seq") >= seqs[-1])
        check("the feed head is the issuer's signature over canonical JSON", head.get("iss") == minted_claims.get("iss")
              and signed_by(head.get("iss", ""), b"charter-feed-head:" + encode_json(head), signature), head)
        digest = b64url(hashlib.sha256(encode_json(feed.get("revocations"))).digest())
        check("the signed head names the digest of the entries as sent", head.get("entries") == digest
              and head.get("org") == org and head.get("since") == 0)
        tampered = dict(head, entries=b64url(hashlib.sha256(encode_json(feed["revocations"][1:])).digest()))
        check("a head over fewer entries does not verify", not signed_by(
            head.get("iss", ""), b"charter-feed-head:" + encode_json(tampered), signature))
        status, rest = server.call("GET", feed_path + f"&since={feed.get('next_since')}")
        check("feed resumes empty after next_since", status == 200 and rest.get("revocations") == [])
    finally:
        code = server.stop()
    check("serve stops cleanly on SIGTERM", code == 0, code)
    check("serve never logs the owner key again", "".join(server.lines).count(key or "chr_live_") == 1)

print(f"interop: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
