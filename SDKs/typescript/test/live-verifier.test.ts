// The verifier against a real Charter: sync of issuers and the signed feed, revocation, fail-closed staleness, replay.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, test } from "node:test";
import { Capability, Client, FeedError, SigningKey, Token, VerificationError, Verifier } from "../src/index.js";
import { forgetKnownKeys, pointChecks } from "../src/did-key.js";
import { MAIL, Server, Tenant } from "./server.js";

let server: Server;
before(async () => {
  server = await Server.start();
}, { timeout: 60_000 });
after(() => server?.stop());

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof VerificationError) return error.code;
    throw error;
  }
  return "valid";
}

test("a verifier refuses everything before its first sync, then verifies a minted token offline", async () => {
  const tenant = await Tenant.create(server);
  const agent = new Client({ server: server.url, apiKey: tenant.key, identity: SigningKey.generate() });
  const service = SigningKey.generate();
  const verifier = new Verifier({ server: server.url, audiences: [agent.did, service.did], organizations: [tenant.org] });
  const token = await agent.token(MAIL);
  assert.equal(code(() => verifier.verify(token.text)), "not_synced");
  await verifier.sync();
  // The synced issuers' keys are the verifier's own, checked at sync: a root verifies without point arithmetic even
  // once the process's cache of keys has forgotten them.
  forgetKnownKeys();
  const checks = pointChecks();
  assert.equal(code(() => verifier.verify(token.text)), "valid");
  assert.equal(pointChecks(), checks);
  const verified = verifier.verify(token.text, [], new Capability("mailto:a@example.com", "email/send"));
  assert.equal(verified.org, tenant.org);
  assert.equal(verified.envelope, tenant.envelope);
  assert.equal(verified.key, tenant.keyId);
  assert.equal(code(() => verifier.verify(token.text, [], new Capability("https://bank.example.com", "money/move"))), "not_covered");
  // A sub-agent's delegation verifies with its root as proof.
  const sub = await agent.delegate(service.did, { ttl: 60, capabilities: { "mailto:ops@example.com": { "email/send": [{}] } }, proof: token });
  assert.equal(verifier.verify((sub as any).text, [token.text]).envelope, tenant.envelope);
  assert.equal(code(() => verifier.verify((sub as any).text)), "invalid_chain");
  agent.close();
});

test("charter verify and this verifier agree on strings: canonically equivalent forms are one, compatibility forms are not", async () => {
  // The Swift verifier (`charter verify`) is the reference: a root minted by Charter with `café` and `K` covers a
  // delegation claiming `é` written decomposed and the Kelvin sign for `K`, not one claiming `ﬁ` for `fi`.
  const granted = { "mailto:*": { "email/send": [{ max: 10, to: "caf\u00e9@example.com", unit: "K", tag: "fi" }] } };
  const tenant = await Tenant.create(server, { capabilities: granted });
  const agent = new Client({ server: server.url, apiKey: tenant.key, identity: SigningKey.generate() });
  const subAgent = SigningKey.generate();
  const root = await agent.token(granted);
  const claiming = (caveat: Record<string, unknown>) => Token.sign(agent.identity, {
    audience: subAgent.did, expiration: root.expiration, proofs: [root.cid],
    capabilities: { "mailto:*": { "email/send": [{ max: 10, to: "caf\u00e9@example.com", unit: "K", tag: "fi", ...caveat }] } },
  });
  const equivalent = await agent.delegate(subAgent.did, { ttl: 60, proof: root, capabilities: { "mailto:*": { "email/send": [
    { max: 10, to: "cafe\u0301@example.com", unit: "\u212a", tag: "fi" }] } } }) as Token;
  const verifier = new Verifier({ server: server.url, audiences: [subAgent.did], organizations: [tenant.org] });
  await verifier.sync();
  const cases: [Token, string][] = [
    [equivalent, "valid"], [claiming({ unit: "\u212a" }), "valid"], [claiming({ tag: "\ufb01" }), "invalid_chain"],
    [claiming({ max: true }), "invalid_chain"],
  ];
  for (const [token, expected] of cases) {
    const run = spawnSync(process.env.CHARTER!, ["verify", token.text, "--proof", root.text, "--server", server.url,
      "--audience", subAgent.did, "--organization", tenant.org], { encoding: "utf8" });
    const swift = run.status === 0 ? "valid" : run.stderr.split(":")[0];
    assert.deepEqual([swift, code(() => verifier.verify(token.text, [root.text]))], [expected, expected], run.stderr);
  }
  agent.close();
});

test("revocation by envelope is refused after a sync", async () => {
  const tenant = await Tenant.create(server);
  const agent = new Client({ server: server.url, apiKey: tenant.key, identity: SigningKey.generate() });
  const service = SigningKey.generate();
  const verifier = new Verifier({ server: server.url, audiences: [agent.did, service.did], organizations: [tenant.org] });
  const token = await agent.token(MAIL);
  const signed = await agent.invoke("/email/send", { to: "ops@example.com" }, service.did);
  await verifier.sync();
  assert.equal(code(() => verifier.verify(token.text)), "valid");
  await tenant.revokeEnvelope();
  assert.equal(code(() => verifier.verify(token.text)), "valid", "not known until the next sync");
  await verifier.sync();
  assert.equal(code(() => verifier.verify(token.text)), "revoked");
  assert.equal(code(() => verifier.verifyInvocationHeaders(signed.headers, "/email/send")), "revoked");
  agent.close();
});

test("invocations: verified once, a replay is refused, the policy holds", async () => {
  const tenant = await Tenant.create(server);
  const agent = new Client({ server: server.url, apiKey: tenant.key, identity: SigningKey.generate() });
  const service = SigningKey.generate();
  const verifier = new Verifier({ server: server.url, audiences: [service.did], organizations: [tenant.org] });
  await verifier.sync();
  const signed = await agent.invoke("/email/send", { to: "ops@example.com" }, service.did);
  const verified = verifier.verifyInvocationHeaders(signed.headers, "/email/send");
  assert.equal(verified.agent, agent.did);
  assert.equal(verified.args.to, "ops@example.com");
  assert.equal(verified.envelope, tenant.envelope);
  assert.equal(code(() => verifier.verifyInvocationHeaders(signed.headers, "/email/send")), "replayed");
  const outside = await agent.invoke("/email/send", { to: "someone@elsewhere.org" }, service.did);
  const refused = (() => {
    try {
      verifier.verifyInvocationHeaders(outside.headers);
    } catch (error) {
      return error as VerificationError;
    }
    return null;
  })();
  assert.equal(refused?.code, "policy_violation");
  assert.equal(refused?.status, 403);
  assert.equal(code(() => verifier.verifyInvocation(signed.invocation.bytes, [])), "invalid_chain");
  const other = await agent.invoke("/email/send", { to: "ops@example.com" }, SigningKey.generate().did);
  assert.equal(code(() => verifier.verifyInvocationHeaders(other.headers)), "wrong_audience");
  agent.close();
});

test("a stale feed fails closed, and a fresh sync recovers", async () => {
  const tenant = await Tenant.create(server);
  const agent = new Client({ server: server.url, apiKey: tenant.key, identity: SigningKey.generate() });
  let now = Date.now() / 1000;
  const verifier = new Verifier({ server: server.url, audiences: [agent.did], organizations: [tenant.org], maxFeedAge: 60, clock: () => now });
  const token = await agent.token(MAIL);
  await verifier.sync();
  assert.equal(code(() => verifier.verify(token.text)), "valid");
  now += 61;
  const stale = (() => { try { verifier.verify(token.text); } catch (error) { return error as VerificationError; } return null; })();
  assert.equal(stale?.code, "feed_stale");
  assert.equal(stale?.status, 503);
  now -= 61;
  await verifier.sync();
  assert.equal(code(() => verifier.verify(token.text)), "valid");
  agent.close();
});

test("a round that fails is all or nothing: an unreachable server keeps the last state, which goes stale", async () => {
  const tenant = await Tenant.create(server);
  let now = Date.now() / 1000;
  let reachable = true;
  const verifier = new Verifier({
    server: server.url, audiences: [SigningKey.generate().did], organizations: [tenant.org], clock: () => now,
    fetch: (input, init) => reachable ? fetch(input, init) : Promise.reject(new TypeError("connection refused")),
  });
  await verifier.sync();
  const synced = verifier.lastSuccessfulSync;
  reachable = false;
  now += 30;
  await assert.rejects(verifier.sync(), FeedError);
  assert.equal(verifier.lastSuccessfulSync, synced);
});

test("a verifier with no published issuers trusted: a forged feed answer fails the round", async () => {
  const tenant = await Tenant.create(server);
  const verifier = new Verifier({
    server: server.url, audiences: [SigningKey.generate().did], organizations: [tenant.org],
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      if (!String(input).includes("/v1/revocations")) return response;
      const body = await response.json();
      body.revocations.push({ seq: 999, kind: "envelope", revoke: "env_x" });
      return new Response(JSON.stringify(body), { status: 200 });
    },
  });
  await assert.rejects(verifier.sync(), FeedError);
  assert.equal(verifier.lastSuccessfulSync, null);
});

test("a token revoked under a CID this SDK cannot compute fails the round, closed, rather than be missed", async () => {
  const tenant = await Tenant.create(server);
  const verifier = new Verifier({
    server: server.url, audiences: [SigningKey.generate().did], organizations: [tenant.org],
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      if (!String(input).includes("/v1/revocations")) return response;
      const body = await response.json();
      body.revocations.push({
        seq: 999, kind: "token", revoke: "bafkr4ibd2bpvncydv7rbt2upywsjw6lipskp5c7q4wmjsasdvtlqfqr7qe",
        iss: SigningKey.generate().did, challenge: "AAAA", covers_until: "2099-01-01T00:00:00.000Z",
        environment: "live", revoked_at: "2026-01-01T00:00:00.000Z",
      });
      return new Response(JSON.stringify(body), { status: 200 });
    },
  });
  await assert.rejects(verifier.sync(), (error: unknown) =>
    error instanceof FeedError && /other than sha2-256/.test(error.message));
  assert.equal(verifier.lastSuccessfulSync, null);
});
