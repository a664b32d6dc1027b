// Codecs, keys, tokens, envelopes and the policy language, offline.

import assert from "node:assert/strict";
import { test } from "node:test";
import { CID, Delegation, Invocation, Policy, ProofStore, SigningKey, Token, UCANError, isDID, validate, validateInvocation } from "../src/index.js";
import * as dagcbor from "../src/dagcbor.js";
import { b32Decode, b32Encode, b58Decode, b58Encode, b64Decode, b64urlDecode, canonicalJSON, fromHex, hex, parseJSON } from "../src/encoding.js";

const ucanCode = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    if (error instanceof UCANError) return error.code;
    throw error;
  }
  return "ok";
};

test("strict text encodings refuse second spellings", () => {
  assert.equal(b64urlDecode("AA=="), null);
  assert.equal(b64urlDecode("AB"), null, "non-zero trailing bits");
  assert.deepEqual([...b64urlDecode("AA")!], [0]);
  assert.deepEqual([...b64Decode("AAE=")!], [0, 1]);
  assert.equal(b64Decode("AAE==="), null);
  assert.equal(b32Decode("AE"), null);
  const bytes = Uint8Array.from([0, 0, 1, 2, 255]);
  assert.deepEqual([...b32Decode(b32Encode(bytes))!], [...bytes]);
  assert.deepEqual([...b58Decode(b58Encode(bytes))!], [...bytes]);
  assert.throws(() => parseJSON('{"a":1,"a":2}'));
  assert.throws(() => parseJSON('"\\ud800"'));
  assert.throws(() => parseJSON("[NaN]"));
  assert.throws(() => parseJSON("1 2"));
  assert.equal(typeof parseJSON("9007199254740993"), "bigint");
  assert.equal(canonicalJSON({ b: 1, a: [true, null, "é\n"], "\u{1F600}": 0, "\uFFFF": 1 }), '{"a":[true,null,"é\\n"],"b":1,"\uFFFF":1,"\u{1F600}":0}');
});

test("did:key: full-order Ed25519 points only", () => {
  const key = SigningKey.generate();
  assert.ok(isDID(key.did));
  assert.ok(key.did.startsWith("did:key:z6Mk"));
  assert.equal(SigningKey.fromSecret(key.exportSecretKey()).did, key.did);
  // The identity point and a point of order 8 (small order) are refused.
  const identity = "did:key:z" + b58Encode(Uint8Array.from([0xed, 0x01, 1, ...new Array(31).fill(0)]));
  assert.ok(!isDID(identity));
  const order8 = "did:key:z" + b58Encode(Uint8Array.from([0xed, 0x01, ...fromHex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")]));
  assert.ok(!isDID(order8));
  assert.ok(!isDID("did:key:zabc"));
});

test("DAG-CBOR: canonical out, only canonical in", () => {
  const cid = CID.of(Uint8Array.of(1), 0x71);
  const value = { b: [1, -1, 2 ** 40, 1.5, "x", null, true], a: Uint8Array.of(1, 2), link: cid, big: 2n ** 62n };
  const encoded = dagcbor.encode(value);
  const decoded = dagcbor.decode(encoded) as any;
  assert.deepEqual(Object.keys(decoded), ["a", "b", "big", "link"]);
  assert.ok(decoded.link.equals(cid));
  assert.equal(decoded.big, 2n ** 62n);
  assert.equal(hex(dagcbor.encode(decoded)), hex(encoded));
  assert.equal(ucanCode(() => dagcbor.decode(fromHex("1817"))), "malformed", "not the shortest integer");
  assert.equal(ucanCode(() => dagcbor.decode(fromHex("a2616201616101"))), "malformed", "keys out of order");
  assert.equal(ucanCode(() => dagcbor.decode(fromHex("fa3fc00000"))), "malformed", "32-bit float");
  assert.equal(ucanCode(() => dagcbor.decode(fromHex("0000"))), "malformed", "trailing bytes");
  assert.equal(ucanCode(() => dagcbor.decode(fromHex("9f00ff"))), "malformed", "indefinite length");
});

test("0.10 tokens: sign, parse, validate a chain", () => {
  const root = SigningKey.generate(), agent = SigningKey.generate(), service = SigningKey.generate();
  const parent = Token.sign(root, { audience: agent.did, capabilities: { "mailto:*": { "email/send": [{}] } }, expiration: 2_000_000_000 });
  assert.equal(Token.parse(parent.text).text, parent.text);
  const child = Token.sign(agent, {
    audience: service.did, capabilities: { "mailto:a@example.com": { "email/send": [{}] } }, expiration: 1_900_000_000, proofs: [parent.cid],
  });
  const chain = validate(child, new ProofStore([parent]), 1_800_000_000, { trustedIssuers: new Set([root.did]) });
  assert.deepEqual([...chain.rootIssuers], [root.did]);
  const wider = Token.sign(agent, { audience: service.did, capabilities: { "*": { "*": [{}] } }, expiration: 1_900_000_000, proofs: [parent.cid] });
  assert.equal(ucanCode(() => validate(wider, new ProofStore([parent]), 1_800_000_000)), "capability_not_delegated");
  assert.equal(ucanCode(() => validate(child, new ProofStore([parent]), 2_000_000_001)), "expired");
  assert.equal(ucanCode(() => Token.parse(parent.text.replace("eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"))),
    "unsupported_algorithm");
  assert.equal(ucanCode(() => Token.sign(root, { audience: agent.did, capabilities: { "mailto:*": { "email/send": [{ to: [] }] } }, expiration: 1 })),
    "invalid_field");
});

test("1.0 delegations and invocations: sign, parse, validate", () => {
  const subject = SigningKey.generate(), agent = SigningKey.generate(), service = SigningKey.generate();
  const delegation = Delegation.sign(subject, {
    audience: agent.did, subject: subject.did, command: "/email", policy: [["like", ".to", "*@example.com"]], expiration: 2_000_000_000,
  });
  assert.equal(Delegation.parse(delegation.encoded).cid.toString(), delegation.cid.toString());
  const invocation = Invocation.sign(agent, {
    subject: subject.did, audience: service.did, command: "/email/send", arguments: { to: "a@example.com" },
    proofs: [delegation.cid], expiration: 1_900_000_000,
  });
  const supplied = new Map([[delegation.cid.toString(), delegation]]);
  assert.equal(validateInvocation(invocation, supplied, 1_800_000_000).delegations.length, 1);
  const outside = Invocation.sign(agent, {
    subject: subject.did, audience: service.did, command: "/email/send", arguments: { to: "a@elsewhere.org" },
    proofs: [delegation.cid], expiration: 1_900_000_000,
  });
  assert.equal(ucanCode(() => validateInvocation(outside, supplied, 1_800_000_000)), "policy_mismatch");
  const tampered = Uint8Array.from(delegation.bytes);
  tampered[tampered.length - 1] ^= 1;
  assert.equal(ucanCode(() => Delegation.parse(tampered)), "invalid_signature");
});

test("the policy language fails closed", () => {
  const args = { to: ["a@example.com", "b@example.com"], n: 5, s: "x*y", nested: { "a-b": 1 }, bytes: Uint8Array.of(7) };
  const holds = (statement: unknown) => new Policy([statement]).holds(args);
  assert.ok(holds(["all", ".to[]", ["like", ".", "*@example.com"]]));
  assert.ok(holds(["any", ".to", ["==", ".", "b@example.com"]]));
  assert.ok(!holds(["any", ".missing", ["==", ".", 1]]));
  assert.ok(!holds(["not", ["==", ".missing.deeper", 1]]), "unresolved, and not of it too");
  assert.ok(holds(["==", ".missing", null]));
  assert.ok(holds(["==", ".missing.deeper?", null]));
  assert.ok(!holds(["==", ".missing?.deeper", null]), "the ? ends only its own segment");
  assert.ok(holds(["==", ".n", 5.0]));
  assert.ok(holds(["<", ".n", 6]) && !holds(["<", ".s", 6]));
  assert.ok(holds(["like", ".s", "x\\*y"]) && !holds(["like", ".s", "x\\*z"]));
  assert.ok(holds(["==", '.nested["a-b"]', 1]));
  assert.ok(holds(["==", ".to[-1]", "b@example.com"]));
  assert.ok(holds(["==", ".to[1:]", ["b@example.com"]]));
  assert.ok(holds(["or", []]) && holds(["and", []]));
  assert.ok(holds(["==", ".bytes[0]", 7]));
  assert.equal(new Policy([["==", ".n", 6]]).evaluate(args), '["==", ".n", 6] did not hold');
  assert.equal(ucanCode(() => new Policy([["~", ".n", 6]])), "invalid_field");
  assert.equal(ucanCode(() => new Policy([["==", "n", 6]])), "invalid_field");
  assert.equal(ucanCode(() => new Policy([["==", ".a..b", 6]])), "invalid_field");
});
