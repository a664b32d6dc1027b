// Findings of the review against the Swift and Python verifiers, each pinned by a case that failed before its fix.

import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import {
  CID, Capability, Delegation, ReplayCache, SigningKey, Token, Verifier, checkCommand, isDID, signInvocation,
} from "../src/index.js";
import { sha256 } from "../src/crypto.js";
import { UCANError } from "../src/errors.js";
import { checkCapabilities } from "../src/ucan.js";
import {
  b58Encode, b64Encode, b64urlEncode, canonicalJSON, fromHex, hex, isFloatAt, isIntAt, markFloat, parseJSON, utf8,
} from "../src/encoding.js";
import { Fixture, FACTS, ORG, code, rawDelegation, rawToken } from "./fixtures.js";

const didOfPoint = (point: string) => "did:key:z" + b58Encode(Uint8Array.from([0xed, 0x01, ...fromHex(point)]));

test("did:key points: the base point is valid; a point with a torsion component is not", () => {
  assert.ok(isDID(didOfPoint("5866666666666666666666666666666666666666666666666666666666666666")));
  // The base point plus a point of order 8: on the curve, not of small order, but not in the prime subgroup.
  assert.ok(!isDID(didOfPoint("98519eadf35b995233b51b5cd23e9cc5a28b639b5a4af0ec903cb960d81b7819")));
  // y = p (a non-canonical encoding of y = 0).
  assert.ok(!isDID(didOfPoint("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")));
});

test("0.10: a time written as a float (1.0, 1e3) is not an integer, as Charter's parser reads it", () => {
  const fixture = new Fixture();
  const payload = (exp: string, nbf = "") => `{"aud":"${fixture.service.did}","cap":{"mailto:*":{"email/send":[{}]}},"exp":${exp},`
    + `"fct":${canonicalJSON(FACTS)},"iss":"${fixture.issuer.did}",${nbf}"ucv":"0.10.0"}`;
  const exp = fixture.now + 600;
  assert.equal(code(() => fixture.verifier.verify(rawToken(fixture.issuer, payload(String(exp))))), "valid");
  for (const spelling of [`${exp}.0`, `${exp}e0`, `${exp / 100}e2`]) {
    assert.equal(code(() => Token.parse(rawToken(fixture.issuer, payload(spelling)))), "invalid_field", spelling);
    assert.equal(code(() => fixture.verifier.verify(rawToken(fixture.issuer, payload(spelling)))), "malformed", spelling);
  }
  assert.equal(code(() => Token.parse(rawToken(fixture.issuer, payload(String(exp), `"nbf":1.0,`)))), "invalid_field");
});

test("1.0: a DAG-CBOR float in exp is refused even when its value is whole", () => {
  const fixture = new Fixture();
  const envelope = (float: boolean) => {
    const payload: Record<string, unknown> = {
      iss: fixture.issuer.did, aud: fixture.agent.did, sub: fixture.issuer.did, cmd: "/email/send", pol: [],
      nonce: Uint8Array.of(1, 2, 3), exp: fixture.now + 600,
    };
    if (float) markFloat(payload, "exp");
    return rawDelegation(fixture.issuer, payload);
  };
  assert.equal(Delegation.parse(envelope(false)).expiration, fixture.now + 600);
  const floated = envelope(true);
  assert.ok(hex(floated).includes("6365787" + "0fb"), "exp is encoded as a float64");
  assert.equal(code(() => Delegation.parse(floated)), "invalid_field");
});

test("JSON: whole floats are noted where they were written, and re-spelled as Charter's serializer spells them", () => {
  const value = parseJSON('{"a":1.0,"b":[2e0,3,1e-7],"c":0.00001,"d":9.5e15,"e":9007199254740993.0,"f":-0.0,"g":1e400}'.replace(',"g":1e400', "")) as any;
  assert.ok(isFloatAt(value, "a") && !isIntAt(value, "a"));
  assert.ok(isFloatAt(value.b, 0) && !isFloatAt(value.b, 1) && isFloatAt(value.b, 2));
  assert.equal(canonicalJSON(value), '{"a":1.0,"b":[2.0,3,1e-07],"c":1e-05,"d":9.5e+15,"e":9007199254740992.0,"f":-0.0}');
  assert.equal(canonicalJSON(parseJSON("[0.0001,123.456,1e16,12345678901234567890]")), "[0.0001,123.456,1e+16,1.2345678901234567e+19]");
  assert.throws(() => parseJSON("1e400"));
});

test("0.10 caveats compare numbers by value, 1 and 1.0 alike, as Swift's JSONValue does", () => {
  const parent = new Capability("mailto:*", "email/send", [parseJSON('{"n":1}') as Record<string, unknown>]);
  const child = (json: string) => new Capability("mailto:a@example.com", "email/send", [parseJSON(json) as Record<string, unknown>]);
  assert.ok(parent.covers(child('{"n":1.0}')));
  assert.ok(!parent.covers(child('{"n":1.5}')));
  assert.ok(!parent.covers(child('{"n":"1"}')));
  assert.ok(!new Capability("mailto:*", "email/send", [{ n: 9007199254740993n }]).covers(child('{"n":9007199254740992.0}')));
});

// Swift compares strings (caveat values, caveat keys, resources, abilities) by canonical equivalence: `é` and
// `e` + U+0301 are one string, and so are the Kelvin sign U+212A and `K`; compatibility forms (`ﬁ`, `fi`) are not.
// The Python SDK's table (test_parity.py, EQUIVALENT): the parent's caveat, the child's, and Swift's verdict.
const EQUIVALENT: [string, string, boolean][] = [
  ['{"to": "caf\u00e9"}', '{"to": "cafe\u0301"}', true],
  ['{"to": "cafe\u0301"}', '{"to": "caf\u00e9"}', true],
  ['{"caf\u00e9": 1}', '{"cafe\u0301": 1.0}', true],
  ['{"to": ["caf\u00e9"]}', '{"to": ["cafe\u0301"]}', true],
  ['{"n": [{"\u00e9": ["x"]}]}', '{"n": [{"e\u0301": ["x"]}]}', true],
  ['{"unit": "K"}', '{"unit": "\u212a"}', true],
  ['{"K": 1}', '{"\u212a": 1}', true],
  ['{"to": "caf\u00e9"}', '{"to": "cafe"}', false],
  ['{"to": "\ufb01le"}', '{"to": "file"}', false],
  ['{"n": [{"\u00e9": 1}]}', '{"n": [{"e": 1}]}', false],
];

test("0.10 caveat strings and keys compare by canonical equivalence, as Swift's String == does", () => {
  const caveat = (json: string) => new Capability("mailto:*", "email/send", [parseJSON(json) as Record<string, unknown>]);
  for (const [parent, child, swift] of EQUIVALENT) {
    assert.equal(caveat(parent).covers(caveat(child)), swift, `${parent} covers ${child}`);
  }
});

test("0.10 resources and abilities compare by canonical equivalence; one ability in two forms is a duplicate", () => {
  const covers = (parent: string, child: string, ability: [string, string] = ["x/send", "x/send"]) =>
    new Capability(parent, ability[0]).covers(new Capability(child, ability[1]));
  assert.ok(covers("mailto:caf\u00e9@example.com", "mailto:cafe\u0301@example.com"));
  assert.ok(covers("https://x.example/\u00e9*", "https://x.example/e\u0301tude"));
  assert.ok(covers("https://x.example/caf*", "https://x.example/cafe\u0301"));
  assert.ok(!covers("https://x.example/cafe*", "https://x.example/caf\u00e9"));
  assert.ok(!covers("https://x.example/cafe*", "https://x.example/cafe\u0301"));
  assert.ok(covers("urn:x", "urn:x", ["x/caf\u00e9", "x/cafe\u0301"]));
  assert.ok(covers("urn:x", "urn:x", ["x/*", "x/cafe\u0301"]));
  // Charter's fuzzer found this one: one ability to Swift, written twice (`x/f` sorts between them by bytes).
  const resource = "mailto:a@example.com";
  assert.throws(() => checkCapabilities([new Capability(resource, "x/\u00c9"), new Capability(resource, "x/f"),
    new Capability(resource, "x/e\u0301")]), (error: unknown) => error instanceof UCANError && /appears twice/.test(error.message));
  assert.equal(checkCapabilities([new Capability(resource, "x/\u00c9"), new Capability(resource, "x/f")]).length, 2);
  // And so a token naming it twice is refused, as Charter refuses it.
  const key = SigningKey.generate();
  assert.throws(() => Token.sign(key, { audience: key.did, expiration: null,
    capabilities: { [resource]: { "x/\u00e9": [{}], "x/e\u0301": [{}] } } }), UCANError);
});

/** A revocation feed of one page, signed by `issuer`, as a fake `fetch` answers it; `seq` spelled as given. */
function feed(issuer: SigningKey, seq: string): typeof fetch {
  const revoked = CID.of(utf8("a token"), 0x55).toString();
  const entry = `{"challenge":"${b64urlEncode(issuer.sign(utf8("REVOKE:" + revoked)))}","covers_until":"2030-01-01T00:00:00.000Z",`
    + `"environment":"live","iss":"${issuer.did}","kind":"token","revoke":"${revoked}","revoked_at":"2026-01-01T00:00:00.000Z","seq":${seq}}`;
  const listed = `[${entry}]`;
  // The head signs the digest of the entries in Charter's canonical spelling, whatever the answer spells.
  const fields = {
    entries: b64urlEncode(sha256(utf8(canonicalJSON(parseJSON(listed))))), environment: "live", iss: issuer.did,
    next_since: 1, org: ORG, seq: 1, since: 0, time_ms: 1_800_000_000_000,
  };
  const head = { ...fields, signature: b64urlEncode(issuer.sign(utf8("charter-feed-head:" + canonicalJSON(fields)))) };
  const body = `{"head":${canonicalJSON(head)},"next_since":1,"revocations":${listed}}`;
  return async () => new Response(body, { status: 200, headers: { "content-type": "application/json" } });
}

test("the feed: an integer field written as a float is refused, and the digest covers the canonical spelling", async () => {
  const issuer = SigningKey.generate();
  const verifier = (seq: string) => new Verifier({
    server: "http://charter.test", audiences: [issuer.did], organizations: [ORG], issuers: [issuer.did],
    clock: () => 1_800_000_000, fetch: feed(issuer, seq),
  });
  await verifier("1").sync();
  await assert.rejects(verifier("1.0").sync(), /revocations\[0\] is not a revocation/);
  assert.equal(canonicalJSON(parseJSON('[{"seq":1.0}]')), '[{"seq":1.0}]', "hashed as Swift serializes it, not as 1");
});

test("commands: U+0085 is whitespace, as in Swift and Python; U+FEFF is not", () => {
  assert.equal(code(() => checkCommand("/email\u0085send")), "invalid_field");
  assert.equal(code(() => checkCommand("/email\u2028send")), "invalid_field");
  assert.equal(checkCommand("/email\ufeffsend"), "/email\ufeffsend");
});

test("the replay cache drops what has expired wherever it was filed, and stays exact when full", () => {
  const cache = new ReplayCache(2);
  assert.equal(cache.record("long", 1000, 0), "fresh");
  assert.equal(cache.record("short", 10, 0), "fresh");
  assert.equal(cache.record("third", 20, 5), "full");
  assert.equal(cache.record("short", 10, 10), "replayed", "still live at its expiry second");
  // "short" expired behind a live, older entry: a sweep from the front alone would still count it.
  assert.equal(cache.record("third", 20, 11), "fresh");
  assert.equal(cache.size, 2);
  assert.equal(cache.record("third", 20, 12), "replayed");
  assert.equal(cache.record("short", 10, 12), "full", "forgotten once expired, so new again, and the cache is full");
  assert.equal(cache.record("fourth", 30, 2000), "fresh", "a long quiet spell empties it");
  assert.equal(cache.size, 1);
  assert.equal(cache.record("x", null, 0), "unbounded");
});

test("the replay cache forgets entries filed while the clock was behind, once the clock passes them", () => {
  const cache = new ReplayCache(3);
  assert.equal(cache.record("before", 10_010, 10_000), "fresh");
  // The clock steps back an hour: entries expiring long before anything already filed.
  assert.equal(cache.record("behind1", 6_460, 6_400), "fresh");
  assert.equal(cache.record("behind2", 6_460, 6_400), "fresh");
  assert.equal(cache.record("behind3", 6_460, 6_400), "full", "all three live by the clock");
  assert.equal(cache.record("behind1", 6_460, 6_460), "replayed", "still live at its expiry second");
  // The clock is back, one second on: the two filed behind have expired, "before" has not.
  assert.equal(cache.record("later1", 10_060, 10_001), "fresh");
  assert.equal(cache.record("later2", 10_060, 10_001), "fresh");
  assert.equal(cache.record("later3", 10_060, 10_001), "full");
  assert.equal(cache.record("later3", 10_060, 10_011), "fresh", "before expired at 10010");
  assert.equal(cache.size, 3);
});

test("a verifier whose clock stepped back keeps room for new invocations once the clock is back", () => {
  const fixture = new Fixture({ replayCapacity: 3 });
  const start = fixture.now;
  const call = () => code(() => fixture.verifier.verifyInvocationHeaders(fixture.invoke().headers, "/email/send"));
  assert.equal(call(), "valid");
  fixture.now = start - 3600;
  assert.equal(call(), "valid");
  assert.equal(call(), "valid");
  assert.equal(call(), "overloaded", "three live invocations by the clock");
  // A second after the first call: the two accepted an hour back have expired, however they were filed.
  fixture.now = start + 1;
  assert.equal(call(), "valid");
  assert.equal(call(), "valid");
  assert.equal(call(), "overloaded", "the first is still live");
  assert.equal(fixture.verifier.replays.size, 3);
});

test("a verified 0.10 token is frozen through and through: a handler cannot widen what later requests are granted", () => {
  const fixture = new Fixture();
  const headers = { authorization: `Bearer ${fixture.token().text}` };
  const bank = new Capability("https://bank.example.com", "money/move");
  assert.equal(code(() => fixture.verifier.verifyHeaders(headers, bank)), "not_covered");
  const verified = fixture.verifier.verifyHeaders(headers);
  const token = verified.token as any;
  const attempts: [string, () => void][] = [
    ["push a capability", () => token.capabilities.push(new Capability("*", "*"))],
    ["replace a capability", () => { token.capabilities[0] = new Capability("*", "*"); }],
    ["widen a resource", () => { token.capabilities[0].resource = "*"; }],
    ["empty a caveat list", () => { token.capabilities[0].caveats.length = 0; }],
    ["add a caveat member", () => { token.capabilities[0].caveats[0].to = "x"; }],
    ["change a fact", () => { token.facts.org = "org_other"; }],
    ["change the audience", () => { token.audience = "did:key:z6Mk"; }],
    ["drop a proof list", () => { token.proofs.length = 1; }],
  ];
  for (const [name, attempt] of attempts) assert.throws(attempt, TypeError, name);
  assert.equal(code(() => fixture.verifier.verifyHeaders(headers, bank)), "not_covered");
  assert.equal(fixture.verifier.verifyHeaders(headers).org, ORG);
});

test("a verified 1.0 chain is frozen: its policy, meta and arguments cannot be changed, and its bytes are copies", () => {
  const fixture = new Fixture();
  const secret = Uint8Array.of(1, 2, 3);
  const delegation = fixture.delegation("/email/send", [["==", ".to", "ops@example.com"], ["==", ".key", secret]]);
  const call = (to: string, key = secret) => code(() => fixture.verifier.verifyInvocation(signInvocation(fixture.agent, "/email/send",
    { to, key }, { audience: fixture.service.did, chain: [delegation], expiration: fixture.now + 60 }).invocation.bytes,
  [delegation.bytes], "/email/send"));
  assert.equal(call("eve@evil.example"), "policy_violation");
  const verified = fixture.verifier.verifyInvocation(signInvocation(fixture.agent, "/email/send", { to: "ops@example.com", key: secret },
    { audience: fixture.service.did, chain: [delegation], expiration: fixture.now + 60 }).invocation.bytes, [delegation.bytes]);
  const held = verified.delegations[0] as any;
  const attempts: [string, () => void][] = [
    ["empty the policy", () => { held.policy.ipld.length = 0; }],
    ["rewrite a statement", () => { held.policy.ipld[0][2] = "eve@evil.example"; }],
    ["replace the policy", () => { held.policy = null; }],
    ["reach the parsed statements", () => { held.policy.statements.length = 0; }],
    ["change the meta", () => { held.meta.org = "org_other"; }],
    ["change the arguments", () => { (verified.invocation.args as any).to = "eve@evil.example"; }],
    ["change a delegation list", () => { (verified.delegations as any).pop(); }],
  ];
  for (const [name, attempt] of attempts) assert.throws(attempt, TypeError, name);
  // Bytes cannot be frozen: the policy's own copy decides, and envelopes and CIDs hand out copies.
  held.policy.ipld[1][2][0] = 9;
  held.bytes[70] ^= 1;
  held.cid.digest[0] ^= 1;
  assert.equal(held.encoded, delegation.encoded);
  assert.ok(held.cid.equals(delegation.cid));
  assert.equal(call("eve@evil.example"), "policy_violation");
  assert.equal(call("ops@example.com", Uint8Array.of(9, 2, 3)), "policy_violation");
  assert.equal(call("ops@example.com"), "valid");
});

test("a SigningKey shows only its DID, even to util.inspect with getters", () => {
  const key = SigningKey.generate();
  const secret = key.exportSecretKey();
  const shown = [
    inspect(key, { getters: true, showHidden: true, depth: 5 }), inspect({ nested: key }, { getters: true, showHidden: true }),
    JSON.stringify(key), String(key), Object.keys(key).join(","),
  ].join("\n");
  for (const form of [hex(secret.subarray(0, 32)), b64Encode(secret), b64urlEncode(secret.subarray(0, 32)), String(secret[0]) + ", " + String(secret[1])]) {
    assert.ok(!shown.includes(form), "the secret shows");
  }
  assert.ok(shown.includes(key.did));
  assert.equal(SigningKey.fromSecret(secret).did, key.did);
  assert.equal((key as unknown as Record<string, unknown>).secretKey, undefined);
});

test("bytes the caller passes in are copied: reusing its buffer changes nothing the verifier returns or caches", () => {
  const fixture = new Fixture();
  const delegation = fixture.delegation();
  const invoke = () => signInvocation(fixture.agent, "/email/send", { to: "a@example.com" }, {
    audience: fixture.service.did, chain: [delegation], expiration: fixture.now + 60,
  });
  const first = invoke();
  const buffers = [Buffer.from(first.invocation.bytes), Buffer.from(delegation.bytes)];
  const verified = fixture.verifier.verifyInvocation(buffers[0], [buffers[1]], "/email/send");
  for (const buffer of buffers) buffer.fill(0);
  assert.equal(b64Encode(verified.invocation.bytes), first.invocation.encoded);
  assert.equal(b64Encode(verified.delegations[0].bytes), delegation.encoded);
  // The cached delegation, met again, still holds its own bytes.
  const again = fixture.verifier.verifyInvocation(invoke().invocation.bytes, [Buffer.from(delegation.bytes)], "/email/send");
  assert.equal(b64Encode(again.delegations[0].bytes), delegation.encoded);
  const raw = Buffer.from(delegation.cid.bytes);
  const cid = CID.fromBytes(raw);
  raw.fill(0);
  assert.ok(cid.equals(delegation.cid));
});
