// What a request can make a verifier spend. A did:key's point check is ~1 ms of BigInt arithmetic: it must not run
// for a key nobody trusted vouches for, so a forged request costs parsing and at most a signature or two. Each case
// counts the point checks the process ran (`pointChecks`); keys are fresh and tokens signed by hand, so the process
// has met none of them before the verifier does.

import assert from "node:assert/strict";
import { test } from "node:test";
import { CID, Delegation, NEW_KEYS_PER_VERIFICATION, SigningKey, Token, UCANError, signInvocation } from "../src/index.js";
import { BoundedCache } from "../src/bounded-cache.js";
import { forgetKnownKeys, pointChecks } from "../src/did-key.js";
import { hasPrimeOrder, hasSmallOrderEncoding, isCanonicalEncoding } from "../src/edwards.js";
import { b58Encode, fromHex, utf8 } from "../src/encoding.js";
import { FACTS, Fixture, code, rawEnvelope, rawToken } from "./fixtures.js";

const MAIL = { "mailto:*": { "email/send": [{}] } };

/** `fn`'s verdict and how many point checks it ran. */
function costed(fn: () => unknown): [string, number] {
  const before = pointChecks();
  const verdict = code(fn);
  return [verdict, pointChecks() - before];
}

/** The agent's invocation of /email/send for the fixture's service, citing `delegation`. */
const signInvocationFor = (fixture: Fixture, delegation: Delegation) => signInvocation(fixture.agent, "/email/send", {}, {
  audience: fixture.service.did, chain: [delegation], expiration: fixture.now + 60,
});

const cidOf = (token: string) => CID.of(utf8(token), 0x55).toString();
const dlgCID = (envelope: Uint8Array) => CID.of(envelope, 0x71);

test("0.10: a forged token or chain costs no point check, whatever keys it names", () => {
  const fixture = new Fixture();
  const stranger = () => SigningKey.generate();
  const exp = fixture.now + 60;
  const elsewhere = stranger(), self = stranger();
  // Addressed to another service: refused on the audience string.
  assert.deepEqual(costed(() => fixture.verifier.verify(rawToken(self, {
    ucv: "0.10.0", iss: self.did, aud: elsewhere.did, cap: MAIL, exp, fct: FACTS,
  }))), ["wrong_audience", 0]);
  // Self-issued, to this service: its issuer is not a trusted one, a string comparison.
  assert.deepEqual(costed(() => fixture.verifier.verify(rawToken(self, {
    ucv: "0.10.0", iss: self.did, aud: fixture.service.did, cap: MAIL, exp, fct: FACTS,
  }))), ["untrusted_issuer", 0]);
  // Claiming the trusted issuer, signed by another key: one signature, under the issuer's key the verifier holds.
  assert.deepEqual(costed(() => fixture.verifier.verify(rawToken(self, {
    ucv: "0.10.0", iss: fixture.issuer.did, aud: fixture.service.did, cap: MAIL, exp, fct: FACTS,
  }))), ["bad_signature", 0]);
  // Ten proofs from ten strangers: before, ~1 ms of arithmetic each up to the budget, then `overloaded`.
  const proofs = Array.from({ length: NEW_KEYS_PER_VERIFICATION + 2 }, () => {
    const key = stranger();
    return rawToken(key, { ucv: "0.10.0", iss: key.did, aud: self.did, cap: MAIL, exp: fixture.now + 600 });
  });
  const chained = rawToken(self, {
    ucv: "0.10.0", iss: self.did, aud: fixture.service.did, cap: MAIL, exp, prf: proofs.map(cidOf),
  });
  assert.deepEqual(costed(() => fixture.verifier.verify(chained, proofs)), ["untrusted_issuer", 0]);
  assert.deepEqual(costed(() => fixture.verifier.verify(chained, proofs)), ["untrusted_issuer", 0]);
});

test("0.10: a key is checked once a verified link names it, and only then", () => {
  const fixture = new Fixture();
  const agent = SigningKey.generate(), forger = SigningKey.generate();
  const root = rawToken(fixture.issuer, {
    ucv: "0.10.0", iss: fixture.issuer.did, aud: agent.did, cap: MAIL, exp: fixture.now + 600, fct: FACTS,
  });
  // The root verifies, so the agent it names is vouched for: its key is checked, and the forged signature fails.
  const forged = rawToken(forger, {
    ucv: "0.10.0", iss: agent.did, aud: fixture.service.did, cap: MAIL, exp: fixture.now + 60, prf: [cidOf(root)],
  });
  assert.deepEqual(costed(() => fixture.verifier.verify(forged, [root])), ["bad_signature", 1]);
  // A root with a forged signature vouches for nothing: the agent it names is not checked.
  const other = SigningKey.generate();
  const forgedRoot = rawToken(forger, {
    ucv: "0.10.0", iss: fixture.issuer.did, aud: other.did, cap: MAIL, exp: fixture.now + 600, fct: FACTS,
  });
  const onForgedRoot = rawToken(other, {
    ucv: "0.10.0", iss: other.did, aud: fixture.service.did, cap: MAIL, exp: fixture.now + 60, prf: [cidOf(forgedRoot)],
  });
  assert.deepEqual(costed(() => fixture.verifier.verify(onForgedRoot, [forgedRoot])), ["bad_signature", 0]);
  // The agent's real token: its key is known by now.
  const real = rawToken(agent, {
    ucv: "0.10.0", iss: agent.did, aud: fixture.service.did, cap: MAIL, exp: fixture.now + 60, prf: [cidOf(root)],
  });
  assert.deepEqual(costed(() => fixture.verifier.verify(real, [root])), ["valid", 0]);
});

test("0.10: an agent delegating to more fresh keys than one verification checks is overloaded, and a retry goes further", () => {
  const fixture = new Fixture();
  const agent = SigningKey.generate(), last = SigningKey.generate();
  const root = rawToken(fixture.issuer, {
    ucv: "0.10.0", iss: fixture.issuer.did, aud: agent.did, cap: MAIL, exp: fixture.now + 600, fct: FACTS,
  });
  // Ten sub-agents, each delegated to by the agent and delegating on to the same last key: 12 keys to check.
  const links = Array.from({ length: 10 }, () => {
    const sub = SigningKey.generate();
    const down = rawToken(agent, { ucv: "0.10.0", iss: agent.did, aud: sub.did, cap: MAIL, exp: fixture.now + 500, prf: [cidOf(root)] });
    const on = rawToken(sub, { ucv: "0.10.0", iss: sub.did, aud: last.did, cap: MAIL, exp: fixture.now + 400, prf: [cidOf(down)] });
    return [down, on];
  });
  const token = rawToken(last, {
    ucv: "0.10.0", iss: last.did, aud: fixture.service.did, cap: MAIL, exp: fixture.now + 60, prf: links.map(([, on]) => cidOf(on)),
  });
  const proofs = [root, ...links.flat()];
  assert.deepEqual(costed(() => fixture.verifier.verify(token, proofs)), ["overloaded", NEW_KEYS_PER_VERIFICATION]);
  assert.deepEqual(costed(() => fixture.verifier.verify(token, proofs)), ["valid", 12 - NEW_KEYS_PER_VERIFICATION]);
});

test("the verifier's own keys are kept apart from the process's cache of keys", () => {
  const fixture = new Fixture();
  const token = fixture.token().text, call = fixture.invoke();
  forgetKnownKeys(); // as if a flood of other keys had pushed them out
  assert.deepEqual(costed(() => fixture.verifier.verify(token)), ["valid", 0], "the issuer's key and the audience kept");
  assert.deepEqual(costed(() => fixture.verifier.verifyInvocationHeaders(call.headers)), ["valid", 1], "the agent's key only");
});

test("1.0: a forged invocation costs no point check; a key is checked once a verified delegation names it", () => {
  const fixture = new Fixture();
  const exp = fixture.now + 60;
  const agent = SigningKey.generate(), forger = SigningKey.generate(), subject = SigningKey.generate();
  const invocation = (key: SigningKey, fields: Record<string, unknown>) => rawEnvelope(key, {
    iss: key.did, sub: fixture.issuer.did, aud: fixture.service.did, cmd: "/email/send", args: {}, prf: [],
    nonce: Uint8Array.of(1), exp, ...fields,
  }, "ucan/inv@1.0.0");
  const delegation = (key: SigningKey, fields: Record<string, unknown>) => rawEnvelope(key, {
    iss: key.did, aud: agent.did, sub: key.did, cmd: "/email/send", pol: [], nonce: Uint8Array.of(2),
    exp: fixture.now + 600, meta: FACTS, ...fields,
  });
  const verify = (envelope: Uint8Array, proofs: Uint8Array[]) => () => fixture.verifier.verifyInvocation(envelope, proofs);
  // To another service: refused on the audience string.
  assert.deepEqual(costed(verify(invocation(agent, { aud: SigningKey.generate().did }), [])), ["wrong_audience", 0]);
  // Rooted at a subject that is not a trusted issuer: a string comparison.
  const selfRooted = delegation(subject, {});
  assert.deepEqual(costed(verify(invocation(agent, { sub: subject.did, prf: [dlgCID(selfRooted)] }), [selfRooted])),
    ["untrusted_issuer", 0]);
  // A root claiming the trusted issuer, signed by another key: one signature under the key the verifier holds.
  const forgedRoot = delegation(forger, { iss: fixture.issuer.did, sub: fixture.issuer.did });
  assert.deepEqual(costed(verify(invocation(agent, { prf: [dlgCID(forgedRoot)] }), [forgedRoot])), ["bad_signature", 0]);
  // A genuine root vouches for the agent: its key is checked, and its forged invocation refused.
  const root = delegation(fixture.issuer, { iss: fixture.issuer.did, sub: fixture.issuer.did });
  const forged = Uint8Array.from(invocation(agent, { prf: [dlgCID(root)] }));
  forged[5] ^= 1;
  assert.deepEqual(costed(verify(forged, [root])), ["bad_signature", 1]);
  assert.deepEqual(costed(verify(invocation(agent, { prf: [dlgCID(root)] }), [root])), ["valid", 0]);
});

test("1.0: the longest chain accepted, all of it fresh keys, verifies in one call", () => {
  const fixture = new Fixture();
  const keys = [fixture.issuer, ...Array.from({ length: 8 }, () => SigningKey.generate())];
  const chain = keys.slice(0, 8).map((key, index) => rawEnvelope(key, {
    iss: key.did, aud: keys[index + 1].did, sub: fixture.issuer.did, cmd: "/email/send", pol: [], nonce: Uint8Array.of(index),
    exp: fixture.now + 600, ...(index === 0 ? { meta: FACTS } : {}),
  }));
  const invoker = keys[8];
  const invocation = rawEnvelope(invoker, {
    iss: invoker.did, sub: fixture.issuer.did, aud: fixture.service.did, cmd: "/email/send", args: {},
    prf: chain.map(dlgCID), nonce: Uint8Array.of(9), exp: fixture.now + 60,
  }, "ucan/inv@1.0.0");
  assert.deepEqual(costed(() => fixture.verifier.verifyInvocation(invocation, chain)), ["valid", NEW_KEYS_PER_VERIFICATION]);
});

test("did:keys: libsodium's small-order table is checked without arithmetic, and the arithmetic agrees with it", () => {
  const table = [
    "0000000000000000000000000000000000000000000000000000000000000000", "0100000000000000000000000000000000000000000000000000000000000000",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  ];
  const fixture = new Fixture();
  for (const entry of table) {
    for (const sign of [0, 0x80]) {
      const point = fromHex(entry);
      point[31] |= sign;
      assert.ok(hasSmallOrderEncoding(point), entry);
      assert.ok(!hasPrimeOrder(point), `the arithmetic refuses ${entry} too`);
      const did = "did:key:z" + b58Encode(Uint8Array.from([0xed, 0x01, ...point]));
      const text = rawToken(fixture.agent, { ucv: "0.10.0", iss: fixture.agent.did, aud: did, cap: MAIL, exp: fixture.now + 60 });
      const before = pointChecks();
      assert.throws(() => Token.parseUnverified(text), (error: UCANError) => error.code === "invalid_field" && error.field === "aud");
      assert.equal(pointChecks(), before, "refused by its shape");
    }
  }
  const base = fromHex("5866666666666666666666666666666666666666666666666666666666666666");
  assert.ok(!hasSmallOrderEncoding(base) && isCanonicalEncoding(base) && hasPrimeOrder(base));
  assert.ok(!isCanonicalEncoding(fromHex("efffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")));
  assert.ok(isCanonicalEncoding(fromHex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")));
});

test("a supplied proof is parsed when the chain reaches it; one it never reaches is refused only if the chain verifies", () => {
  const fixture = new Fixture();
  const agent = SigningKey.generate(), stranger = SigningKey.generate();
  const root = rawToken(fixture.issuer, {
    ucv: "0.10.0", iss: fixture.issuer.did, aud: agent.did, cap: MAIL, exp: fixture.now + 600, fct: FACTS,
  });
  const strangers = rawToken(stranger, { ucv: "0.10.0", iss: stranger.did, aud: agent.did, cap: MAIL, exp: fixture.now + 600 });
  const garbage = "not.a.token";
  const token = (...proofs: string[]) => rawToken(agent, {
    ucv: "0.10.0", iss: agent.did, aud: fixture.service.did, cap: MAIL, exp: fixture.now + 60, prf: proofs.map(cidOf),
  });
  // The chain stops at the stranger's root: the garbage it would reach next is never parsed.
  assert.equal(code(() => fixture.verifier.verify(token(strangers, garbage), [strangers, garbage])), "untrusted_issuer");
  // Cited and reached: malformed, naming where it was supplied.
  const cited = (() => {
    try {
      fixture.verifier.verify(token(root, garbage), [root, garbage]);
    } catch (error) {
      return error as { code: string; field?: string };
    }
  })();
  assert.equal(cited?.code, "malformed");
  assert.match(cited?.field ?? "", /^proofs\[1\]/);
  // Not cited by a chain that verifies: refused all the same, as Swift and Python refuse any supplied proof that
  // does not parse.
  assert.equal(code(() => fixture.verifier.verify(token(root), [root, garbage])), "malformed");
  assert.equal(code(() => fixture.verifier.verify(token(root), [root])), "valid");
});

test("1.0: a supplied delegation the invocation does not cite is parsed only once the chain verified", () => {
  const fixture = new Fixture();
  const delegation = fixture.delegation();
  const invocation = () => signInvocationFor(fixture, delegation);
  const garbage = Uint8Array.of(0x82, 0x00);
  assert.equal(code(() => fixture.verifier.verifyInvocation(invocation().invocation.bytes, [delegation.bytes, garbage])), "malformed");
  assert.equal(code(() => fixture.verifier.verifyInvocation(invocation().invocation.bytes, [delegation.bytes])), "valid");
  // Rooted at an untrusted subject: refused before the garbage is looked at.
  const stranger = SigningKey.generate();
  const selfRooted = rawEnvelope(stranger, {
    iss: stranger.did, aud: fixture.agent.did, sub: stranger.did, cmd: "/email/send", pol: [], nonce: Uint8Array.of(1),
    exp: fixture.now + 600,
  });
  const forged = rawEnvelope(fixture.agent, {
    iss: fixture.agent.did, sub: stranger.did, aud: fixture.service.did, cmd: "/email/send", args: {}, prf: [dlgCID(selfRooted)],
    nonce: Uint8Array.of(2), exp: fixture.now + 60,
  }, "ucan/inv@1.0.0");
  assert.equal(code(() => fixture.verifier.verifyInvocation(forged, [selfRooted, garbage])), "untrusted_issuer");
});

test("the parse caches hold only what verified, bounded by size as well as count, least recently used first out", () => {
  const cache = new BoundedCache<string>(3, 100);
  cache.set("a", "A", 40);
  cache.set("b", "B", 40);
  assert.equal(cache.peek("a"), "A", "a is now the most recently used");
  cache.set("c", "C", 40); // 120 bytes: b, the least recently used, goes
  assert.deepEqual([cache.peek("b"), cache.peek("a"), cache.peek("c")], [undefined, "A", "C"]);
  assert.equal(cache.bytes, 80);
  cache.set("d", "D", 10);
  cache.set("e", "E", 10); // four entries: a goes
  assert.deepEqual([cache.size, cache.peek("a")], [3, undefined]);
  cache.set("huge", "H", 101);
  assert.equal(cache.peek("huge"), undefined, "larger than the whole bound: not kept");
  assert.equal(cache.bytes, 60);

  const fixture = new Fixture();
  const caches = fixture.verifier as unknown as Record<"presented" | "proofCache" | "delegations", BoundedCache<unknown>>;
  const pad = "x".repeat(10_000);
  // Forged: a large token from a stranger, a chain citing a stranger's root, an invocation rooted at a stranger.
  const stranger = SigningKey.generate();
  for (let i = 0; i < 20; i++) {
    const forged = rawToken(stranger, { ucv: "0.10.0", iss: stranger.did, aud: fixture.service.did, cap: MAIL, exp: fixture.now + 60, nnc: i + pad });
    assert.equal(code(() => fixture.verifier.verify(forged)), "untrusted_issuer");
    const root = rawToken(stranger, { ucv: "0.10.0", iss: stranger.did, aud: fixture.agent.did, cap: MAIL, exp: fixture.now + 600, nnc: String(i) });
    const chained = rawToken(fixture.agent, {
      ucv: "0.10.0", iss: fixture.agent.did, aud: fixture.service.did, cap: MAIL, exp: fixture.now + 60, prf: [cidOf(root)],
    });
    assert.equal(code(() => fixture.verifier.verify(chained, [root])), "untrusted_issuer");
  }
  assert.deepEqual([caches.presented.size, caches.proofCache.size, caches.delegations.size], [0, 0, 0]);
  // Genuine: kept, weighed by size.
  const tokens = Array.from({ length: 3 }, (_, i) => Token.sign(fixture.issuer, {
    audience: fixture.service.did, capabilities: MAIL, expiration: fixture.now + 60, nonce: i + pad, facts: FACTS,
  }).text);
  for (const token of tokens) assert.equal(code(() => fixture.verifier.verify(token)), "valid");
  assert.equal(caches.presented.size, 3);
  assert.equal(caches.presented.bytes, tokens.reduce((sum, token) => sum + 2 * token.length, 0));
  const call = fixture.invoke();
  assert.equal(code(() => fixture.verifier.verifyInvocationHeaders(call.headers)), "valid");
  assert.equal(caches.delegations.size, 1);
});
