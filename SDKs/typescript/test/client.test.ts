// The agent SDK against a real Charter server: mint, cache, single flight, refusals, retries, invocations.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Capability, CharterError, Client, Delegation, Invocation, ProofStore, SigningKey, Token, validate, type Clock } from "../src/index.js";
import { MAIL, Server, Tenant } from "./server.js";

const OPS = { "mailto:ops@example.com": { "email/send": [{}] } };
const DEV = { "mailto:dev@example.com": { "email/send": [{}] } };

let server: Server;
before(async () => {
  server = await Server.start();
}, { timeout: 60_000 });
after(() => server?.stop());

async function refusal(promise: Promise<unknown>): Promise<CharterError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CharterError, String(error));
    return error;
  }
  throw new Error("expected a CharterError");
}

/** The real time, but waits return at once; records what was waited, so backoff is checked without waiting. */
class InstantClock implements Clock {
  readonly waits: number[] = [];
  now(): number {
    return Date.now() / 1000;
  }
  async sleep(seconds: number): Promise<void> {
    this.waits.push(seconds);
  }
}

test("a token comes from the server once and then from the cache", async () => {
  const tenant = await Tenant.create(server);
  const agent = new Client({ server: server.url, apiKey: tenant.key, identity: SigningKey.generate() });
  const token = await agent.token(OPS);
  assert.equal(token.audience, agent.did);
  assert.equal(token.fact("key"), tenant.keyId);
  assert.equal(token.fact("envelope"), tenant.envelope);
  const chain = validate(token, new ProofStore(), Math.floor(Date.now() / 1000), {
    trustedIssuers: new Set(await server.issuers()), audiences: new Set([agent.did]),
  });
  assert.deepEqual([...chain.rootIssuers], [token.issuer]);
  assert.equal((await agent.token(OPS)).text, token.text);
  assert.equal((await agent.token([new Capability("mailto:ops@example.com", "email/send")])).text, token.text,
    "Capability objects and the cap map name the same grant");
  assert.notEqual((await agent.token(DEV)).text, token.text, "another capability set is another token");
  assert.equal(await tenant.audited(), 2);
  assert.ok(!String(token).includes(token.text), "a token's string form names it by CID, not its text");
  agent.close();
});

test("a thousand concurrent calls cause one mint", async () => {
  const tenant = await Tenant.create(server);
  const agent = new Client({ server: server.url, apiKey: tenant.key, identity: SigningKey.generate() });
  const tokens = await Promise.all(Array.from({ length: 1000 }, () => agent.token(OPS)));
  assert.equal(new Set(tokens.map((token) => token.text)).size, 1);
  assert.equal(await tenant.audited(), 1);
  agent.close();
});

test("a refusal surfaces at once with the server's code, status and field, and is not retried", async () => {
  const tenant = await Tenant.create(server);
  let requests = 0;
  const agent = new Client({
    server: server.url, apiKey: tenant.key, identity: SigningKey.generate(), clock: new InstantClock(),
    fetch: (input, init) => { requests++; return fetch(input, init); },
  });
  const refused = await refusal(agent.token({ "https://bank.example.com": { "money/move": [{}] } }));
  assert.deepEqual([refused.code, refused.status, refused.field], ["capability_not_in_envelope", 403, "capabilities"]);
  assert.equal(refused.transient, false);
  assert.equal(requests, 1, "refusals are not retried");
  await server.ok("POST", `/v1/keys/${tenant.keyId}/revoke`);
  const revoked = await refusal(agent.token(OPS));
  assert.deepEqual([revoked.code, revoked.status], ["api_key_revoked", 401]);
  assert.ok(!revoked.message.includes(tenant.key), "the key never appears in an error");
  agent.close();
});

test("a refusal carries the field the server named", async () => {
  const tenant = await Tenant.create(server);
  const agent = new Client({ server: server.url, apiKey: tenant.key, identity: SigningKey.generate(), ttlSeconds: 0 });
  const error = await refusal(agent.token(OPS));
  assert.deepEqual([error.code, error.status, error.field], ["validation_failed", 422, "ttl_seconds"]);
  agent.close();
});

test("transient failures are retried with backoff, honouring Retry-After", async () => {
  const tenant = await Tenant.create(server);
  const clock = new InstantClock();
  let failures = 2;
  const agent = new Client({
    server: server.url, apiKey: tenant.key, identity: SigningKey.generate(), clock,
    fetch: async (input, init) => {
      if (failures-- > 0) {
        return new Response(JSON.stringify({ error: { code: "rate_limited", message: "slow down" } }),
          { status: 429, headers: { "Retry-After": "3" } });
      }
      return fetch(input, init);
    },
  });
  const token = await agent.token(OPS);
  assert.equal(token.audience, agent.did);
  assert.deepEqual(clock.waits, [3, 3]);
  agent.close();

  const unreachable = new InstantClock();
  const down = new Client({
    server: "http://127.0.0.1:9", apiKey: tenant.key, identity: SigningKey.generate(), clock: unreachable, retry: { attempts: 4, initialDelay: 0.1, maxDelay: 0.3 },
  });
  const error = await refusal(down.token(OPS));
  assert.equal(error.code, "server_unreachable");
  assert.ok(error.transient);
  assert.deepEqual(unreachable.waits, [0.1, 0.2, 0.3]);
  down.close();
});

test("delegation(command, policy) and invoke(command, args, audience)", async () => {
  const tenant = await Tenant.create(server);
  const agent = new Client({ server: server.url, apiKey: tenant.key, identity: SigningKey.generate() });
  const service = SigningKey.generate();
  const delegation = await agent.delegation("/email/send", [["==", ".priority", "low"]]);
  assert.ok(delegation instanceof Delegation);
  assert.equal(delegation.audience, agent.did);
  assert.equal(delegation.command, "/email/send");
  assert.equal(delegation.metaString("envelope"), tenant.envelope);
  assert.ok(delegation.policy.holds({ to: "a@example.com", priority: "low" }));
  assert.ok(!delegation.policy.holds({ to: "a@example.com", priority: "high" }));
  assert.equal((await agent.delegation("/email/send", [["==", ".priority", "low"]])).encoded, delegation.encoded);

  const signed = await agent.invoke("/email/send", { to: "a@example.com" }, service.did);
  assert.ok(signed.headers.Authorization.startsWith("Bearer "));
  const invocation = Invocation.parse(signed.headers.Authorization.slice(7));
  assert.equal(invocation.issuer, agent.did);
  assert.equal(invocation.audience, service.did);
  assert.equal(invocation.args.to, "a@example.com");
  const proofs = signed.headers.ucans.split(", ").map((text) => Delegation.parse(text));
  assert.equal(proofs.length, 1);
  assert.ok(invocation.proofs[0].equals(proofs[0].cid));
  const again = await agent.invoke("/email/send", { to: "a@example.com" }, service.did);
  assert.notEqual(again.authorization, signed.authorization, "a fresh invocation per call");

  const refused = await refusal(agent.delegation("/payments/send"));
  assert.equal(refused.status, 403);
  assert.equal((await refusal(agent.invoke("/email/send", {}))).code, "invalid_request");
  agent.close();
});

test("delegate signs narrower credentials, and refuses to widen", async () => {
  const tenant = await Tenant.create(server);
  const agent = new Client({ server: server.url, apiKey: tenant.key, identity: SigningKey.generate() });
  const sub = SigningKey.generate();
  const token = await agent.token(MAIL);
  const narrower = await agent.delegate(sub.did, { ttl: 30, capabilities: OPS, proof: token });
  assert.ok(narrower instanceof Token);
  assert.ok(narrower.proofs[0].equals(token.cid));
  assert.equal((await refusal(agent.delegate(sub.did, { ttl: 30, capabilities: { "https://x.example": { "a/b": [{}] } }, proof: token }))).code,
    "would_widen");
  assert.equal((await refusal(agent.delegate(sub.did, { ttl: 10_000, capabilities: OPS, proof: token }))).code, "would_widen");
  const command = await agent.delegate(sub.did, { ttl: 30, command: "/email/send", policy: [["==", ".to", "x@example.com"]] });
  assert.ok(command instanceof Delegation);
  assert.equal(command.issuer, agent.did);
  assert.equal((await refusal(agent.delegate(sub.did, { ttl: 30, command: "/calendar", proof: await agent.delegation("/email/send") }))).code,
    "would_widen");
  agent.close();
});

test("a key is required and must look like one", () => {
  assert.throws(() => new Client({ server: "http://127.0.0.1:9", apiKey: "chr_live_x\n" }), (error: any) => error.code === "api_key_malformed");
});
