// The shared verification vectors (Specs/vectors/verification.json): the same cases, and the same verdicts, as
// CharterVerifier's VectorTests and the Python SDK's, so the verifiers cannot drift.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { Capability, VerificationError, Verifier } from "../src/index.js";

const VECTORS = JSON.parse(readFileSync(new URL("../../../../Specs/vectors/verification.json", import.meta.url), "utf8"));

interface Case { name: string; audience: string; now: number; expect: string; [key: string]: any }

/** An air-gapped verifier as the vectors describe it, its clock at the case's `now`. */
function verifier(testCase: Case): Verifier {
  const settings = VECTORS.verifier;
  return new Verifier({
    server: null, audiences: [testCase.audience], organizations: settings.organizations, issuers: settings.issuers,
    leeway: settings.leeway, maxInvocationLifetime: settings.max_invocation_lifetime, clock: () => testCase.now,
  });
}

function verdict(verify: () => unknown): string {
  try {
    verify();
  } catch (error) {
    if (error instanceof VerificationError) return error.code;
    throw error;
  }
  return "valid";
}

test("the vectors are there", () => {
  const cases: Case[] = [...VECTORS.ucan_0_10, ...VECTORS.ucan_1_0];
  assert.ok(VECTORS.ucan_0_10.length >= 10 && VECTORS.ucan_1_0.length >= 10);
  const verdicts = new Set(cases.map((c) => c.expect));
  assert.ok(verdicts.has("valid") && verdicts.size > 5);
});

for (const testCase of VECTORS.ucan_0_10 as Case[]) {
  test(`ucan 0.10: ${testCase.name}`, () => {
    const required = testCase.requiring;
    const capability = required ? new Capability(required.resource, required.ability) : undefined;
    assert.equal(verdict(() => verifier(testCase).verify(testCase.token, testCase.proofs, capability)), testCase.expect);
  });
}

for (const testCase of VECTORS.ucan_1_0 as Case[]) {
  test(`ucan 1.0: ${testCase.name}`, () => {
    assert.equal(verdict(() => verifier(testCase).verifyInvocation(testCase.invocation, testCase.proofs, testCase.command)),
      testCase.expect);
  });
}
