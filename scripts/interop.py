"""Interop check: independent UCAN 0.10 and 1.0 implementations (PyNaCl, hashlib, blake3, libipld) against Charter.

It verifies tokens Charter built, builds tokens Charter must verify, and checks that both sides encode
the same claims to byte-identical tokens. Then it starts a real `charter serve`, mints tokens over HTTP and
checks them, the issuer list and the signed revocation feed with PyNaCl alone; it mints UCAN 1.0 delegations
there too, checks them byte for byte and has `charter verify` judge Python invocations under them, revoked or
not. For UCAN 1.0 it builds DAG-CBOR envelopes with libipld (delegations, invocations, chains, policies),
checks Charter's verdicts and CIDs, decodes and re-encodes Charter's own 1.0 tokens byte for byte, feeds it
properly signed non-canonical DAG-CBOR, and runs the delegation spec's policy examples. Prints
'N passed, N failed' and exits non-zero on any failure.
"""

import base64
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime

import blake3
import libipld
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


# UCAN 1.0: DAG-CBOR envelopes [signature, {"h": varsig, "ucan/<tag>@<version>": payload}], built with libipld.
# libipld encodes bytes that parse as a CID as a link (tag 42) and decodes links back to the CID's bytes, so
# links here are raw CID bytes and every other bytes value (nonces, blobs) is kept from looking like a CID.
VARSIG = bytes.fromhex("3401ed01ed011371")  # varsig v1, EdDSA (ed01), edwards25519 (ed01), sha2-512 (13), DAG-CBOR
DLG, INV = "ucan/dlg@1.0.0", "ucan/inv@1.0.0"
NOW = 1_767_225_600  # 2026-01-01: 1.0 checks pass --now so that every token is the same bytes on every run
FAR = 4_102_444_800  # 2100-01-01
encode, decode = libipld.encode_dag_cbor, libipld.decode_dag_cbor


def b64(data):
    return base64.b64encode(data).decode()


def cid1(envelope):
    """CIDv1, dag-cbor, sha2-256 of the exact envelope bytes, base32 lower multibase: by hand, not by libipld."""
    raw = bytes([0x01, 0x71, 0x12, 0x20]) + hashlib.sha256(envelope).digest()
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def link(cid_text):
    """The binary CID of a base32 CIDv1 string: what libipld encodes as a tag-42 link."""
    body = cid_text[1:].upper()
    return base64.b32decode(body + "=" * (-len(body) % 8))


def cbor_head(major, value, width=None):
    """A CBOR head; `width` (1, 2, 4, 8) forces a longer, non-canonical argument."""
    if width is None and value < 24:
        return bytes([major << 5 | value])
    if width is None:
        width = next(w for w in (1, 2, 4, 8) if value < 1 << (8 * w))
    return bytes([major << 5 | {1: 24, 2: 25, 4: 26, 8: 27}[width]]) + value.to_bytes(width, "big")


def raw_map(pairs):
    """A CBOR map of (key, already-encoded value) pairs, in the order given (canonical only if given so)."""
    return cbor_head(5, len(pairs)) + b"".join(encode(key) + value for key, value in pairs)


def signed_part(tag, payload_bytes, header=VARSIG):
    return raw_map([("h", encode(header)), (tag, payload_bytes)])


def seal(signing_key, signed, signature_head=b"\x58\x40"):
    """The envelope: a 2-array of the Ed25519 signature over `signed` and `signed` itself, byte for byte."""
    return b"\x82" + signature_head + signing_key.sign(signed).signature + signed


def token1(signing_key, tag, payload):
    return b64(seal(signing_key, signed_part(tag, encode(payload))))


def envelope_of(token):
    return base64.b64decode(token, validate=True)


def delegation(issuer, audience, subject, command="/msg", policy=(), nonce=b"dlg", expiration=FAR, **extra):
    return {"iss": did_of(issuer.verify_key), "aud": audience, "sub": subject, "cmd": command, "pol": list(policy),
            "nonce": nonce, "exp": expiration, **extra}


def invocation(issuer, subject, command, arguments, proofs, nonce=b"inv", expiration=FAR, **extra):
    return {"iss": did_of(issuer.verify_key), "sub": subject, "cmd": command, "args": arguments,
            "prf": [link(cid1(envelope_of(proof))) for proof in proofs], "nonce": nonce, "exp": expiration, **extra}


def dag_json(value):
    """DAG-JSON text of a Python IPLD value (bytes as {"/": {"bytes": unpadded base64}}; no links)."""
    def convert(item):
        if isinstance(item, bytes):
            return {"/": {"bytes": b64(item).rstrip("=")}}
        if isinstance(item, dict):
            return {key: convert(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [convert(inner) for inner in item]
        return item
    return json.dumps(convert(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def verify1(token, *proofs, now=NOW):
    """(exit code, --json answer) of `charter ucan verify`; the answer is {} when stdout is not JSON."""
    args = [CHARTER, "ucan", "verify", token, "--json"] + [part for proof in proofs for part in ("--proof", proof)]
    run = subprocess.run(args + (["--now", str(now)] if now is not None else []), capture_output=True, text=True)
    try:
        answer = json.loads(run.stdout)
    except ValueError:
        answer = {}
    return run.returncode, answer, run.stderr.strip()


def is_valid(result):
    code, answer, _ = result
    return code == 0 and answer.get("valid") is True


def refused_as(result, name=None):
    """Exit 1 with {"valid": false, "error": {...}}, of the given name when one is given."""
    code, answer, _ = result
    error = answer.get("error") or {}
    return (code == 1 and answer.get("valid") is False and bool(error.get("code"))
            and (name is None or error.get("name") == name))


def decoded_envelope(envelope):
    """(signature, signed map, tag, payload) of an envelope, or raise."""
    signature, signed = decode(envelope)
    tags = [key for key in signed if key != "h"]
    assert len(tags) == 1 and set(signed) == {"h", tags[0]}, signed.keys()
    return signature, signed, tags[0], signed[tags[0]]


def signature_holds(envelope):
    """Whether the envelope's signature is its payload iss's Ed25519 signature over the re-encoded second element."""
    try:
        signature, signed, _, payload = decoded_envelope(envelope)
        key_of(payload["iss"]).verify(encode(signed), signature)
        return True
    except (nacl.exceptions.BadSignatureError, ValueError, AssertionError, KeyError):
        return False


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

# 4b. The live server mints UCAN 1.0 delegations; Python decodes and checks them byte for byte, invokes under them
# with its own agent key, and `charter verify` judges those invocations offline, as the service they address would.
with tempfile.TemporaryDirectory(prefix="charter-interop-") as directory:
    server = Server(directory)
    try:
        key = server.key
        status, apps = server.call("GET", "/v1/apps", key=key)
        app = apps["apps"][0]["id"]
        grants = {"/email/send": [["like", ".to", "*@example.com"]], "/calendar": [["==", ".calendar", "work"]]}
        status, envelope = server.call("POST", "/v1/envelopes", {"app_id": app, "name": "interop-1.0",
                                                                 "commands": grants, "max_ttl_seconds": 600}, key=key)
        check("an envelope of command grants alone is created", status == 201 and envelope.get("commands") == grants,
              envelope)
        envelope_id = envelope["id"]
        status, shown = server.call("GET", f"/v1/envelopes/{envelope_id}", key=key)
        check("GET shows the same command grants", status == 200 and shown.get("commands") == grants, shown)

        # The agent holds its own key (the delegation's aud); the service is whoever the invocations address.
        agent, service = nacl.signing.SigningKey.generate(), nacl.signing.SigningKey.generate()
        agent_did, service_did = did_of(agent.verify_key), did_of(service.verify_key)
        narrowing = [["!=", ".to", "ceo@example.com"]]
        before = int(time.time())
        status, minted = server.call("POST", "/v1/authorize", {
            "format": "ucan/1.0", "audience": agent_did, "command": "/email/send", "policy": narrowing,
            "ttl_seconds": 300, "meta": {"trace": "t-live"}}, key=key)
        after = int(time.time())
        check("/v1/authorize mints a ucan/1.0 delegation under the envelope", status == 200
              and minted.get("format") == "ucan/1.0" and minted.get("envelope_id") == envelope_id, minted)
        if status != 200:
            raise SystemExit(f"/v1/authorize answered {status}: {minted}")
        dlg_live = minted["token"]
        try:
            live_bytes = base64.b64decode(dlg_live, validate=True)
            live_signature, live_signed, live_tag, live = decoded_envelope(live_bytes)
        except Exception as error:  # noqa: BLE001 - any failure is the finding
            live_bytes, live_signature, live_signed, live_tag, live = b"", b"", {}, "", {}
            check("libipld decodes the minted delegation", False, repr(error))
        check("the token is padded standard base64", b64(live_bytes) == dlg_live)
        check("the minted delegation re-encodes to identical bytes (canonical DAG-CBOR)",
              encode(decode(live_bytes)) == live_bytes and live_bytes == b"\x82\x58\x40" + live_signature
              + encode(live_signed))
        check("its varsig header is Ed25519/DAG-CBOR and its tag ucan/dlg@1.0.0",
              live_signed.get("h") == VARSIG and live_tag == DLG, (live_signed.get("h"), live_tag))
        check("the minted delegation's signature verifies under PyNaCl and its iss did:key",
              signature_holds(live_bytes))
        check("server's cid is our dag-cbor sha2-256 CIDv1", minted["cid"] == cid1(live_bytes)
              and minted["cid"].startswith("bafyrei"), minted["cid"])
        status, issuers = server.call("GET", "/v1/issuers")
        listed = {entry["did"]: entry for entry in issuers.get("issuers", [])}
        issuer = minted["issuer"]
        check("iss and sub are the answer's issuer, a published live issuer", live.get("iss") == live.get("sub")
              == issuer and listed.get(issuer, {}).get("environment") == "live", (live.get("iss"), live.get("sub")))
        check("aud is the agent and cmd the command", live.get("aud") == agent_did and live.get("cmd") == "/email/send")
        check("pol is the grant's statements, then the request's", live.get("pol") == grants["/email/send"] + narrowing,
              live.get("pol"))
        org = listed.get(issuer, {}).get("org")
        status, me = server.call("GET", "/v1/me", key=key)
        check("meta names org, env, app, envelope and key beside the request's own", live.get("meta") == {
            "trace": "t-live", "org": org, "env": "live", "app": app, "envelope": envelope_id,
            "key": me.get("api_key", {}).get("id")}, live.get("meta"))
        check("the nonce is 16 bytes, and there is no nbf", isinstance(live.get("nonce"), bytes)
              and len(live["nonce"]) == 16 and set(live) == {"iss", "aud", "sub", "cmd", "pol", "nonce", "meta", "exp"},
              live)
        check("exp is now + ttl, as expires_at says", before + 300 <= live.get("exp", 0) <= after + 300
              and datetime.fromisoformat(minted["expires_at"]).timestamp() == live["exp"], minted["expires_at"])

        def invoke(arguments, nonce, lifetime=60):
            """The agent's invocation of /email/send under the minted delegation, addressed to the service."""
            return token1(agent, INV, invocation(agent, issuer, "/email/send", arguments, [dlg_live], nonce,
                                                 expiration=int(time.time()) + lifetime, aud=service_did))

        def verify_live(token, *options, audience=service_did):
            """(exit code, stdout, stderr) of `charter verify` against the live server's issuers and feed."""
            run = subprocess.run([CHARTER, "verify", token, "--proof", dlg_live, "--server", server.url,
                                  "--audience", audience, *options], capture_output=True, text=True)
            return run.returncode, run.stdout.strip(), run.stderr.strip()

        def refused_live(result, code):
            """Exit 1 and one stderr line `code: reason`."""
            return result[0] == 1 and result[2].startswith(code + ": ") and "\n" not in result[2]

        to_ada = invoke({"to": "ada@example.com"}, b"inv-live-ada")
        result = verify_live(to_ada)
        check("charter verify accepts a Python invocation under the minted delegation",
              result[0] == 0 and result[1].splitlines() == ["valid", f"organization: {org}"], result)
        result = verify_live(invoke({"to": "eve@evil.com"}, b"inv-live-eve"))
        check("args breaking the grant's policy are a policy_violation",
              refused_live(result, "policy_violation"), result)
        result = verify_live(invoke({"to": "ceo@example.com"}, b"inv-live-ceo"))
        check("args breaking the request's narrowing are a policy_violation",
              refused_live(result, "policy_violation"), result)
        result = verify_live(to_ada, "--command", "/email/read")
        check("an invocation of another command than --command is not_covered", refused_live(result, "not_covered"),
              result)
        result = verify_live(to_ada, audience=agent_did)
        check("an invocation addressed to another service is wrong_audience", refused_live(result, "wrong_audience"),
              result)
        # The verifier remembers each invocation until it expires, to refuse replays, so it takes only short-lived ones.
        result = verify_live(invoke({"to": "ada@example.com"}, b"inv-live-long", lifetime=3600))
        check("an invocation expiring past 300 s is refused as malformed", refused_live(result, "malformed"), result)

        status, record = server.call("POST", f"/v1/tokens/{minted['cid']}/revoke", key=key)
        check("the delegation is revoked by its CID", status == 200 and record.get("cid") == minted["cid"]
              and record.get("revoked_at"), record)
        status, feed = server.call("GET", f"/v1/revocations?org={org}&environment=live&since=0")
        entry = {(item["kind"], item["revoke"]): item for item in feed.get("revocations", [])}.get(
            ("token", minted["cid"]))
        check("its revocation is on the feed, signed by the issuer", entry is not None and entry["iss"] == issuer
              and signed_by(issuer, b"REVOKE:" + minted["cid"].encode(), entry["challenge"]), feed)
        result = verify_live(invoke({"to": "ada@example.com"}, b"inv-live-late"))
        check("charter verify then refuses an invocation under it as revoked", refused_live(result, "revoked"), result)
    finally:
        server.stop()

# 5. UCAN 1.0: Python builds delegations (libipld + PyNaCl); Charter verifies them and names the same CIDs.
def seeded(n):
    return nacl.signing.SigningKey(bytes([n]) * 32)


alice, bob, carol, dan, mallory = (seeded(n) for n in (0xA1, 0xB0, 0xC4, 0xD0, 0xE6))
alice_did, bob_did, carol_did, dan_did, mallory_did = (did_of(k.verify_key) for k in (alice, bob, carol, dan, mallory))
policy = [["like", ".to", "*@example.com"], [">", ".amount", 0]]
root_payload = delegation(alice, bob_did, alice_did, "/msg", policy, b"dlg-root", nbf=NOW - 60, meta={"note": "python"})
root1 = token1(alice, DLG, root_payload)
root1_cid = cid1(envelope_of(root1))
check("libipld and the hand-built envelope agree", envelope_of(root1) == encode(
    [decode(envelope_of(root1))[0], {"h": VARSIG, DLG: root_payload}]))
result = verify1(root1)
check("Charter verifies a Python 1.0 delegation", is_valid(result), result)
answer = result[1]
check("verify --json names the delegation's parties and CID", answer.get("kind") == "delegation"
      and answer.get("issuer") == alice_did and answer.get("audience") == bob_did and answer.get("subject") == alice_did
      and answer.get("command") == "/msg" and answer.get("expiration") == FAR and answer.get("cid") == root1_cid,
      answer)
check("Charter verifies it at the real time too", is_valid(verify1(root1, now=None)))
check("Charter's 1.0 CID is Python's sha2-256 dag-cbor CIDv1",
      charter("ucan", "cid", root1).stdout.strip() == root1_cid and root1_cid.startswith("bafyrei"), root1_cid)
check("libipld reads the same CID", libipld.decode_cid(root1_cid)["codec"] == 0x71
      and libipld.decode_cid(root1_cid)["hash"]["digest"] == hashlib.sha256(envelope_of(root1)).digest())
signature = decode(envelope_of(root1))[0]
inspected = json.loads(charter("ucan", "inspect", root1).stdout)
check("inspect prints the envelope as DAG-JSON",
      inspected == json.loads(dag_json([signature, {"h": VARSIG, DLG: root_payload}])), inspected)
rc1 = token1(alice, "ucan/dlg@1.0.0-rc.1", root_payload)
check("Charter verifies a ucan/dlg@1.0.0-rc.1 delegation", is_valid(verify1(rc1)), verify1(rc1))
check("the rc.1 tag is part of the signed bytes, so of the CID", charter("ucan", "cid", rc1).stdout.strip()
      == cid1(envelope_of(rc1)) != root1_cid)
never1 = token1(alice, DLG, delegation(alice, bob_did, alice_did, nonce=b"dlg-never", expiration=None))
check("Charter verifies a never-expiring (exp null) delegation", is_valid(verify1(never1)))
result = verify1(token1(alice, DLG, delegation(alice, bob_did, alice_did, nonce=b"dlg-late", nbf=NOW + 600)))
check("a delegation not yet valid is TooEarly", refused_as(result, "TooEarly"), result)
result = verify1(token1(alice, DLG, delegation(alice, bob_did, alice_did, nonce=b"dlg-old", expiration=NOW - 1)))
check("a delegation past exp is Expired", refused_as(result, "Expired"), result)
forged = token1(mallory, DLG, delegation(alice, bob_did, alice_did, nonce=b"dlg-forged"))
result = verify1(forged)
check("a delegation signed by another key than iss is InvalidSignature", refused_as(result, "InvalidSignature"),
      result)

# 6. Python builds invocations citing Python delegations; Charter checks policies, signatures and chains.
good_args = {"to": "bob@example.com", "amount": 5, "body": "hi"}
inv1 = token1(bob, INV, invocation(bob, alice_did, "/msg/send", good_args, [root1], b"inv-1", iat=NOW))
result = verify1(inv1, root1)
check("Charter verifies a Python invocation with its delegation", is_valid(result), result)
answer = result[1]
check("verify --json names the invocation", answer.get("kind") == "invocation" and answer.get("issuer") == bob_did
      and answer.get("subject") == alice_did and answer.get("command") == "/msg/send"
      and answer.get("cid") == cid1(envelope_of(inv1)), answer)
check("Charter's invocation CID is Python's", charter("ucan", "cid", inv1).stdout.strip() == cid1(envelope_of(inv1)))
inv_rc1 = token1(bob, "ucan/inv@1.0.0-rc.1", invocation(bob, alice_did, "/msg/send", good_args, [rc1], b"inv-rc1"))
check("Charter verifies a ucan/inv@1.0.0-rc.1 invocation", is_valid(verify1(inv_rc1, rc1)), verify1(inv_rc1, rc1))
for label, arguments in (("a to outside the like pattern", {"to": "eve@evil.example", "amount": 5}),
                         ("amount not > 0", {"to": "bob@example.com", "amount": 0}),
                         ("a missing amount", {"to": "bob@example.com"})):
    bad = token1(bob, INV, invocation(bob, alice_did, "/msg/send", arguments, [root1], b"inv-bad"))
    result = verify1(bad, root1)
    check(f"args with {label} are a MatchError", refused_as(result, "MatchError"), result)
flipped = bytearray(envelope_of(inv1))
flipped[3] ^= 0x01  # the first signature byte, after 82 58 40
result = verify1(b64(bytes(flipped)), root1)
check("a flipped signature byte is InvalidSignature", refused_as(result, "InvalidSignature"), result)
edited = envelope_of(inv1).replace(b"\x62hi", b"\x62ho")
result = verify1(b64(edited), root1)
check("an edited payload byte is InvalidSignature",
      edited != envelope_of(inv1) and refused_as(result, "InvalidSignature"), result)
result = verify1(inv1)
check("a prf delegation not supplied is UnavailableProof", refused_as(result, "UnavailableProof"), result)
result = verify1(inv1, never1)
check("another delegation than the one prf names is UnavailableProof", refused_as(result, "UnavailableProof"), result)

# root (alice → bob) → bob → carol (narrower command, extra policy) → carol → dan; dan invokes.
bob_carol = token1(bob, DLG, delegation(bob, carol_did, alice_did, "/msg/send", [["<=", ".amount", 100]], b"dlg-bc"))
carol_dan = token1(carol, DLG, delegation(carol, dan_did, alice_did, "/msg/send", [], b"dlg-cd"))
chain = [root1, bob_carol, carol_dan]
inv3 = token1(dan, INV, invocation(dan, alice_did, "/msg/send", good_args, chain, b"inv-3"))
result = verify1(inv3, *chain)
check("Charter verifies a chain of 3 delegations (root first)", is_valid(result), result)
result = verify1(inv3, *reversed(chain))
check("the proofs may be supplied in any order", is_valid(result), result)
over = token1(dan, INV, invocation(dan, alice_did, "/msg/send", good_args | {"amount": 500}, chain, b"inv-over"))
result = verify1(over, *chain)
check("a mid-chain policy holds too (MatchError)", refused_as(result, "MatchError"), result)
leaf_first = token1(dan, INV, invocation(dan, alice_did, "/msg/send", good_args, chain[::-1], b"inv-rev"))
result = verify1(leaf_first, *chain)
check("prf listed leaf first is refused", refused_as(result), result)
gap = token1(dan, INV, invocation(dan, alice_did, "/msg/send", good_args, [root1, carol_dan], b"inv-gap"))
result = verify1(gap, root1, carol_dan)
check("a chain missing a link is refused", refused_as(result), result)
by_mallory = token1(mallory, INV, invocation(mallory, alice_did, "/msg/send", good_args, chain, b"inv-mal"))
result = verify1(by_mallory, *chain)
check("an invoker who is not the last audience is InvalidAudience", refused_as(result, "InvalidAudience"), result)
other_subject = token1(dan, INV, invocation(dan, carol_did, "/msg/send", good_args, chain, b"inv-sub"))
result = verify1(other_subject, *chain)
check("an invocation for another subject is InvalidSubject", refused_as(result, "InvalidSubject"), result)
for command in ("/msg", "/msgx", "/admin"):
    wider = token1(dan, INV, invocation(dan, alice_did, command, good_args, chain, b"inv-cmd"))
    result = verify1(wider, *chain)
    check(f"command {command} is not covered by /msg/send", refused_as(result), result)
check("a sub-command is covered", is_valid(verify1(token1(dan, INV, invocation(
    dan, alice_did, "/msg/send/bulk", good_args, chain, b"inv-sub-cmd")), *chain)))
short = token1(bob, DLG, delegation(bob, carol_did, alice_did, "/msg/send", [], b"dlg-short", expiration=NOW + 100))
short_chain = [root1, short, carol_dan]
late = token1(dan, INV, invocation(dan, alice_did, "/msg/send", good_args, short_chain, b"inv-late", expiration=None))
check("the chain with a short delegation is valid before its exp", is_valid(verify1(late, *short_chain)))
result = verify1(late, *short_chain, now=NOW + 1000)
check("the same chain after that delegation's exp is Expired", refused_as(result, "Expired"), result)
result = verify1(token1(bob, INV, invocation(bob, alice_did, "/msg/send", good_args, [root1], b"inv-exp",
                                           expiration=NOW - 5)), root1)
check("an invocation past its own exp is Expired", refused_as(result, "Expired"), result)
# Powerline: carol gives dan everything she is given, whatever the subject (sub null).
powerline = token1(carol, DLG, delegation(carol, dan_did, None, "/", [], b"dlg-power"))
via_power = token1(dan, INV, invocation(dan, alice_did, "/msg/send", good_args, [root1, bob_carol, powerline],
                                        b"inv-power"))
result = verify1(via_power, root1, bob_carol, powerline)
check("a powerline (sub null) link in a chain is valid", is_valid(result), result)
power_root = token1(dan, INV, invocation(dan, carol_did, "/msg/send", good_args, [powerline], b"inv-proot"))
result = verify1(power_root, powerline)
check("a powerline as the root of a chain is refused", refused_as(result), result)

# 7. Charter signs 1.0 tokens; Python decodes, re-encodes and verifies them byte for byte.
erin = seeded(0xE1)
erin_did = did_of(erin.verify_key)
erin_seed = b64(bytes(erin))
cli_policy = [["==", ".from", "alice@example.com"], ["any", ".to", ["like", ".", "*@example.com"]],
              ["or", [[">=", ".amount", 1.5], ["==", ".kind", "free"]]], ["not", ["==", ".flags", []]]]
cli_meta = {"org": "o_1", "tags": ["a", "b"], "blob": b"\x00\xff\x10", "n": -3, "zz": {"aaa": None, "b": True}}
delegate_args = ("ucan", "delegate", "--audience", bob_did, "--subject", erin_did, "--command", "/msg",
                 "--policy", json.dumps(cli_policy), "--expiration", str(FAR), "--not-before", str(NOW - 60),
                 "--nonce", b64(b"cli-dlg-nonce"), "--meta", dag_json(cli_meta))
cli_dlg = charter(delegate_args[0], delegate_args[1], "--issuer-key", erin_seed, *delegate_args[2:]).stdout.strip()
dlg_bytes = envelope_of(cli_dlg)
try:
    signature, signed, tag, payload = decoded_envelope(dlg_bytes)
except Exception as error:  # noqa: BLE001 - any failure is the finding
    signature, signed, tag, payload = b"", {}, "", {}
    check("libipld decodes Charter's delegation", False, repr(error))
check("Charter's delegation re-encodes to identical bytes", encode(decode(dlg_bytes)) == dlg_bytes)
check("its signed part is exactly the DAG-CBOR of the second element",
      dlg_bytes == b"\x82\x58\x40" + signature + encode(signed) and len(signature) == 64)
check("varsig header is 34 01 ed 01 ed 01 13 71 and the tag ucan/dlg@1.0.0",
      signed.get("h") == VARSIG and tag == DLG, (signed.get("h"), tag))
check("Charter's delegation signature verifies under PyNaCl and its iss did:key", signature_holds(dlg_bytes))
check("the delegation payload is as given", payload == {
    "iss": erin_did, "aud": bob_did, "sub": erin_did, "cmd": "/msg", "pol": cli_policy, "nonce": b"cli-dlg-nonce",
    "meta": cli_meta, "nbf": NOW - 60, "exp": FAR}, payload)
check("Charter's delegation CID is Python's", charter("ucan", "cid", cli_dlg).stdout.strip() == cid1(dlg_bytes))
check("the same delegate inputs give the same bytes", charter(
    delegate_args[0], delegate_args[1], "--issuer-key", erin_seed, *delegate_args[2:]).stdout.strip() == cli_dlg)
key_forms = (b64(bytes(erin) + bytes(erin.verify_key)), b64(b"\x80\x26" + bytes(erin)))
check("the 64-byte and multicodec key forms sign the same delegation", all(charter(
    delegate_args[0], delegate_args[1], "--issuer-key", form, *delegate_args[2:]).stdout.strip() == cli_dlg
    for form in key_forms))
check("Python encodes the identical delegation", token1(erin, DLG, payload) == cli_dlg)
check("Charter verifies its own delegation", is_valid(verify1(cli_dlg)))
open_dlg = charter("ucan", "delegate", "--issuer-key", erin_seed, "--audience", bob_did, "--powerline",
                   "--command", "/", "--expiration", "never").stdout.strip()
open_payload = decoded_envelope(envelope_of(open_dlg))[3]
check("--powerline and never give sub null, exp null, pol [] and a random 12-byte nonce",
      open_payload.get("sub", "") is None and open_payload.get("exp", 0) is None and open_payload.get("pol") == []
      and isinstance(open_payload.get("nonce"), bytes) and len(open_payload["nonce"]) == 12
      and "nbf" not in open_payload and "meta" not in open_payload, open_payload)
again = decoded_envelope(envelope_of(charter("ucan", "delegate", "--issuer-key", erin_seed, "--audience", bob_did,
                                             "--powerline", "--command", "/", "--expiration", "never").stdout.strip()))
check("default nonces differ between runs", again[3]["nonce"] != open_payload.get("nonce"))

cli_args = {"from": "alice@example.com", "to": ["bob@example.com", "x@elsewhere.org"], "amount": 2.0, "kind": "paid",
            "flags": ["urgent"], "nested": {"list": [1, [2, {"deep": True}], None, "x"], "empty": {}, "none": []},
            "neg": -42, "neg_big": -(2 ** 63), "big": 2 ** 63 - 1, "past_53_bits": 2 ** 53 + 1, "float": 3.25,
            "tenth": -0.1, "bytes": b"\x00\x01\xfe\xff", "empty_bytes": b"", "unicode": "h\u00e9llo \u2713",
            "zz": 1, "aaa": 2, "b": {"zz": 1, "aaa": 2}}
invoke_args = ("--subject", erin_did, "--command", "/msg/send", "--args", dag_json(cli_args),
               "--proof", cid1(dlg_bytes), "--expiration", str(FAR), "--issued-at", str(NOW),
               "--nonce", b64(b"cli-inv-nonce"), "--meta", dag_json({"trace": "t-1"}))
cli_inv = charter("ucan", "invoke", "--issuer-key", b64(bytes(bob)), *invoke_args).stdout.strip()
inv_bytes = envelope_of(cli_inv)
try:
    signature, signed, tag, payload = decoded_envelope(inv_bytes)
except Exception as error:  # noqa: BLE001 - any failure is the finding
    signature, signed, tag, payload = b"", {}, "", {}
    check("libipld decodes Charter's invocation", False, repr(error))
check("Charter's invocation re-encodes to identical bytes", encode(decode(inv_bytes)) == inv_bytes)
check("its varsig header and tag are Ed25519/DAG-CBOR and ucan/inv@1.0.0",
      signed.get("h") == VARSIG and tag == INV and inv_bytes == b"\x82\x58\x40" + signature + encode(signed))
check("Charter's invocation signature verifies under PyNaCl and its iss did:key", signature_holds(inv_bytes))
check("the invocation payload is as given (ints, floats, bytes, nesting, prf link)", payload == {
    "iss": bob_did, "sub": erin_did, "cmd": "/msg/send", "args": cli_args, "prf": [link(cid1(dlg_bytes))],
    "nonce": b"cli-inv-nonce", "meta": {"trace": "t-1"}, "exp": FAR, "iat": NOW}, payload)
check("floats are 64-bit, and 2.0 stays a float", all(b"\xfb" + struct.pack(">d", number) in inv_bytes
                                                     for number in (2.0, 3.25, -0.1)))
check("prf is a tag-42 link to the delegation", b"\xd8\x2a\x58\x25\x00" + link(cid1(dlg_bytes)) in inv_bytes)
check("Charter's invocation CID is Python's", charter("ucan", "cid", cli_inv).stdout.strip() == cid1(inv_bytes))
check("the same invoke inputs give the same bytes",
      charter("ucan", "invoke", "--issuer-key", b64(bytes(bob)), *invoke_args).stdout.strip() == cli_inv)
check("Python encodes the identical invocation", token1(bob, INV, payload) == cli_inv)
result = verify1(cli_inv, cli_dlg)
check("Charter verifies its invocation with its delegation", is_valid(result), result)
result = verify1(token1(bob, INV, payload | {"args": cli_args | {"flags": []}, "nonce": b"py-inv"}), cli_dlg)
check("a Python invocation breaking Charter's not statement is a MatchError", refused_as(result, "MatchError"), result)
cli_aud = charter("ucan", "invoke", "--issuer-key", b64(bytes(bob)), "--subject", erin_did, "--audience", carol_did,
                  "--command", "/msg/send", "--expiration", "never", "--nonce", b64(b"n")).stdout.strip()
aud_payload = decoded_envelope(envelope_of(cli_aud))[3]
check("invoke --audience and defaults: aud set, args {}, prf [], exp null, no iat", aud_payload == {
    "iss": bob_did, "sub": erin_did, "aud": carol_did, "cmd": "/msg/send", "args": {}, "prf": [], "nonce": b"n",
    "exp": None}, aud_payload)

# 8. Non-canonical DAG-CBOR, signed properly, is never valid.
def sorted_pairs(mapping):
    return sorted(((key, encode(value)) for key, value in mapping.items()), key=lambda pair: (len(pair[0]), pair[0]))


base = delegation(alice, bob_did, alice_did, "/msg", [], b"dlg-odd", meta={"k": 1})
canonical = sorted_pairs(base)
check("the hand-built canonical payload is libipld's", raw_map(canonical) == encode(base))
check("Charter verifies the hand-built canonical delegation", is_valid(verify1(b64(seal(alice, signed_part(
    DLG, raw_map(canonical)))))))


def replaced(pairs, key, value_bytes):
    return [(name, value_bytes if name == key else value) for name, value in pairs]


variants = {
    "payload keys in plain string order (nonce before pol)": raw_map(sorted(canonical)),
    "payload keys in reverse order": raw_map(canonical[::-1]),
    "exp as an 8-byte integer": raw_map(replaced(canonical, "exp", cbor_head(0, FAR, 8))),
    "meta value 1 as a 1-byte integer": raw_map(replaced(canonical, "meta", raw_map([("k", cbor_head(0, 1, 1))]))),
    "cmd with a 1-byte length": raw_map(replaced(canonical, "cmd", cbor_head(3, 4, 1) + b"/msg")),
    "nonce with a 2-byte length": raw_map(replaced(canonical, "nonce", cbor_head(2, 7, 2) + b"dlg-odd")),
    "an indefinite-length meta map": raw_map(replaced(canonical, "meta", b"\xbf" + encode("k") + b"\x01\xff")),
    "a duplicate meta key": raw_map(replaced(canonical, "meta", cbor_head(5, 2) + (encode("k") + b"\x01") * 2)),
    "a 32-bit float": raw_map(replaced(canonical, "meta", raw_map([("k", b"\xfa" + struct.pack(">f", 1.5))]))),
    "a NaN float": raw_map(replaced(canonical, "meta", raw_map([("k", b"\xfb\x7f\xf8" + bytes(6))]))),
    "the undefined simple value": raw_map(replaced(canonical, "meta", raw_map([("k", b"\xf7")]))),
    "a tag other than 42 (epoch time on exp)": raw_map(replaced(canonical, "exp", b"\xc1" + encode(FAR))),
    "an integer map key": raw_map(replaced(canonical, "meta", b"\xa1\x01\x01")),
}
for label, payload_bytes in variants.items():
    result = verify1(b64(seal(alice, signed_part(DLG, payload_bytes))))
    check(f"a signed delegation with {label} is refused", refused_as(result), result)
good = seal(alice, signed_part(DLG, raw_map(canonical)))
signed = good[67:]
outer = {
    "a 2-byte signature length": seal(alice, signed, b"\x59\x00\x40"),
    "a trailing byte after the envelope": good + b"\x00",
    "an indefinite-length envelope array": b"\x9f" + good[1:] + b"\xff",
    "the signed map's keys reversed": seal(alice, raw_map([(DLG, encode(base)), ("h", encode(VARSIG))])),
    "a DAG-JSON varsig header": seal(alice, signed_part(DLG, raw_map(canonical), VARSIG[:-1] + b"\xa9\x02")),
    "an extra key beside h and the tag": seal(alice, raw_map([("h", encode(VARSIG)), ("x", b"\x01"),
                                                              (DLG, raw_map(canonical))])),
}
for label, envelope in outer.items():
    result = verify1(b64(envelope))
    check(f"an envelope with {label} is refused", refused_as(result), result)
odd_args = raw_map([("amount", encode(5)), ("to", encode("bob@example.com"))])  # canonical: "to" (shorter) first
check("those args are not libipld's", odd_args != encode({"amount": 5, "to": "bob@example.com"}))
odd_inv = invocation(bob, alice_did, "/msg/send", {}, [root1], b"inv-odd")
odd_pairs = replaced(sorted_pairs(odd_inv), "args", odd_args)
result = verify1(b64(seal(bob, signed_part(INV, raw_map(odd_pairs)))), root1)
check("an invocation with unsorted args is refused", refused_as(result) and result[1]["error"]["name"] != "MatchError",
      result)
odd_root_payload = raw_map(replaced(sorted_pairs(root_payload), "exp", cbor_head(0, FAR, 8)))
odd_root = b64(seal(alice, signed_part(DLG, odd_root_payload)))
odd_invocation = token1(bob, INV, invocation(bob, alice_did, "/msg/send", good_args, [odd_root], b"inv-oddprf"))
result = verify1(odd_invocation, odd_root)
check("a non-canonical delegation given as a proof is refused", refused_as(result), result)

# 9. `charter ucan policy` against the delegation spec's examples.
def policy_exit(statements, arguments):
    return subprocess.run([CHARTER, "ucan", "policy", "--policy", json.dumps(statements),
                           "--args", dag_json(arguments)], capture_output=True, text=True).returncode


katie = {"name": "Katie", "age": 35, "nationalities": ["Canadian", "South African"]}
mail = {"from": "alice@example.com", "to": ["bob@example.com", "carol@not.example.com", "dan@example.com"],
        "cc": ["fraud@example.com"], "title": "Meeting Confirmation", "body": "I'll see you on Tuesday"}
abz = {"a": [{"b": 1}, {"b": 2}, {"z": [7, 8, 9]}]}
glob = "Alice\\*, Bob*, Carol."
spec_cases = [
    ("and []", [["and", []]], katie, 0),
    ("and of name and age", [["and", [["==", ".name", "Katie"], [">=", ".age", 21]]]], katie, 0),
    ("and with a false nationalities", [["and", [["==", ".name", "Katie"], [">=", ".age", 21],
                                                 ["==", ".nationalities", ["American"]]]]], katie, 1),
    ("or []", [["or", []]], katie, 0),
    ("or with one true", [["or", [["==", ".name", "Katie"], [">", ".age", 45]]]], katie, 0),
    ("not of a false and", [["not", ["and", [["==", ".name", "Katie"], ["==", ".nationalities", ["American"]]]]]],
     katie, 0),
    ("all .a > .b 0", [["all", ".a", [">", ".b", 0]]], abz, 1),
    ("any .a == .b 2", [["any", ".a", ["==", ".b", 2]]], abz, 0),
    ("deep == on a list", [["==", ".nationalities", ["Canadian", "South African"]]], katie, 0),
    ("!= on a list", [["!=", ".nationalities", ["Canadian"]]], katie, 0),
    (".title", [["==", ".title", "Meeting Confirmation"]], mail, 0),
    (".cc", [["==", ".cc", ["fraud@example.com"]]], mail, 0),
    (".to[1]", [["==", ".to[1]", "carol@not.example.com"]], mail, 0),
    (".to[-1]", [["==", ".to[-1]", "dan@example.com"]], mail, 0),
    (".to[99]? is null", [["==", ".to[99]?", None]], mail, 0),
    (".to[99] fails to resolve", [["==", ".to[99]", None]], mail, 1),
    ('["title"]', [["==", '.["title"]', "Meeting Confirmation"]], mail, 0),
    (".to[1:]", [["==", ".to[1:]", ["carol@not.example.com", "dan@example.com"]]], mail, 0),
    ("a byte selected from bytes", [["==", ".b[3]", 140]], {"b": base64.b64decode("1qnBjPjE")}, 0),
    ("the validation example", [["==", ".from", "alice@example.com"], ["any", ".to", ["like", ".", "*@example.com"]]],
     {"from": "alice@example.com", "to": ["bob@example.com", "carol@elsewhere.example.com"]}, 0),
    ("the invalid validation example", [["any", ".to", ["like", ".", "*@example.com"]]],
     {"to": ["carol@elsewhere.example.com"]}, 1),
    ("nested quantifiers", [["all", ".newsletters", ["any", ".recipients", ["==", ".email", "fraud@example.com"]]]],
     {"newsletters": [{"recipients": [{"email": "fraud@example.com"}]}, {"recipients": [{"email": "x@y.z"}]}]}, 1),
    ("1 >= 1.0 across number types", [[">=", ".a", 1.0], ["<=", ".a", 1]], {"a": 1}, 0),
    ("> on a string is false", [[">", ".a", 1]], {"a": "2"}, 1),
    ("like on a number is false", [["like", ".a", "*"]], {"a": 1}, 1),
    ("all on a non-collection is false", [["all", ".a", ["==", ".", 1]]], {"a": 1}, 1),
    ("a missing key selects null", [["==", ".missing", None]], {"a": 1}, 0),
    ("an unknown operator is malformed", [["~=", ".a", 1]], {"a": 1}, 64),
    ("a selector without a leading dot is malformed", [["==", "a", 1]], {"a": 1}, 64),
    ("a double-dot selector is malformed", [["==", "..a", 1]], {"a": 1}, 64),
] + [(f"{glob!r} matches {text!r}", [["like", ".s", glob]], {"s": text}, 0) for text in (
    "Alice*, Bob, Carol.", "Alice*, Bob, Dan, Erin, Carol.", "Alice*, Bob  , Carol.", "Alice*, Bob*, Carol.")
] + [(f"{glob!r} does not match {text!r}", [["like", ".s", glob]], {"s": text}, 1) for text in (
    "Alice*, Bob, Carol", "Alice*, Bob*, Carol!", "Alice, Bob, Carol.", "Alice Cooper, Bob, Carol.",
    " Alice*, Bob, Carol. ")]
for label, statements, arguments, expected in spec_cases:
    code = policy_exit(statements, arguments)
    check(f"policy: {label}", code == expected, f"exit {code}, expected {expected}")

print(f"interop: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
