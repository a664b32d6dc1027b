// How fast the TypeScript SDK's hot paths are, in one run (build it first: tsc -p SDKs/typescript):
//
// - `Verifier.verify` of a Charter-minted root token (the whole offline check: freshness, parse cache, signature,
//   times, trusted issuer and organization, revocation, capability) per second, beside node:crypto's raw Ed25519
//   `verify` of the same signed bytes with the same signature and a ready key object, and their ratio (goal ≥ 0.7);
// - cached `Client.token()` calls per second (minted once; every call after that is the cache);
// - a hostile request: a 0.10 token citing 32 proofs, each from a key never seen, in milliseconds per verification
//   (the point checks of new did:keys are the cost; bounded per verification since issue 23).
//
//     CHARTER=path/to/charter node SDKs/typescript/bench.mjs [--seconds 1] [--rounds 5] [--json]
//     node SDKs/typescript/bench.mjs --hostile-only
//
// It starts its own `charter serve` on loopback (a temporary SQLite database, port 0), as the tests do. Each figure
// is the median of `--rounds` timed rounds of `--seconds`, the rounds of the loops interleaved so that a slower
// moment of the machine weighs on all of them alike.

import { spawn } from "node:child_process";
import * as nodeCrypto from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const sdk = await import(new URL("./dist/src/index.js", import.meta.url).href);
const { b64urlDecode, b64urlEncode, canonicalJSON, utf8 } = await import(new URL("./dist/src/encoding.js", import.meta.url).href);
const { Capability, CID, Client, SigningKey, Verifier } = sdk;
const MAIL = { "mailto:*": { "email/send": [{}] } };

/** [url, owner key, stop] of a fresh `charter serve`. */
async function charterServe(binary) {
  const directory = mkdtempSync(join(tmpdir(), "charter-typescript-bench-"));
  const child = spawn(binary, ["serve", "--database", "sqlite:" + join(directory, "charter.db"), "--port", "0"],
    { stdio: ["ignore", "pipe", "pipe"] });
  let output = "", url = "", owner = "";
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("charter serve did not start:\n" + output)), 60_000);
    const read = (chunk) => {
      output += chunk;
      for (const line of output.split("\n").map((text) => text.trim())) {
        if (line.startsWith("chr_live_") && !owner) owner = line;
        if (line.startsWith("charter listening on http://")) url = line.split(" on ")[1];
      }
      if (url && owner) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.on("exit", (code) => reject(new Error(`charter serve exited (${code}):\n${output}`)));
  });
  return [url, owner, () => {
    child.kill("SIGTERM");
    rmSync(directory, { recursive: true, force: true });
  }];
}

/** [org, agent key] of a new app whose envelope grants email/send on mailto:*. */
async function agentKey(url, owner) {
  const ok = async (method, path, body) => {
    const answer = await fetch(url + path, {
      method, headers: { Authorization: `Bearer ${owner}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!answer.ok) throw new Error(`${method} ${path}: ${answer.status} ${await answer.text()}`);
    return answer.json();
  };
  const org = (await ok("GET", "/v1/me")).organization.id;
  const app = (await ok("POST", "/v1/apps", { name: `bench-${process.hrtime.bigint()}`, environment: "live" })).id;
  await ok("POST", "/v1/envelopes", { app_id: app, name: "bench", max_ttl_seconds: 3600, capabilities: MAIL });
  return [org, (await ok("POST", "/v1/keys", { app_id: app, label: "bench", role: "agent" })).key];
}

/** Calls of `work` per second over about `seconds` (checking the clock every 64 calls). */
async function rate(work, seconds) {
  let calls = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  for (;;) {
    for (let i = 0; i < 64; i++) await work();
    calls += 64;
    const now = performance.now();
    if (now >= deadline) return calls / ((now - start) / 1000);
  }
}

function rateSync(work, seconds) {
  let calls = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  for (;;) {
    for (let i = 0; i < 64; i++) work();
    calls += 64;
    const now = performance.now();
    if (now >= deadline) return calls / ((now - start) / 1000);
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function bench(url, key, org, seconds, rounds) {
  const agent = new Client({ server: url, apiKey: key, identity: SigningKey.generate() });
  const verifier = new Verifier({ server: url, audiences: [agent.did], organizations: [org], maxFeedAge: 3600 });
  try {
    const token = await agent.token(MAIL);
    await verifier.sync();
    const needed = new Capability("mailto:ops@example.com", "email/send");
    if (verifier.verify(token.text, [], needed).org !== org) throw new Error("the token does not verify");

    const [header, payload, signature64] = token.text.split(".");
    const message = utf8(header + "." + payload);
    const signature = b64urlDecode(signature64);
    const publicKey = nodeCrypto.createPublicKey({
      key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(decodeDID(token.issuer))]),
      format: "der", type: "spki",
    });
    if (!nodeCrypto.verify(null, message, publicKey, signature)) throw new Error("the raw verify fails");

    const loops = {
      verifier_verify: [false, () => verifier.verify(token.text, [], needed)],
      node_crypto_verify: [false, () => nodeCrypto.verify(null, message, publicKey, signature)],
      client_token_cached: [true, () => agent.token(MAIL)],
    };
    const measure = (async_, work, time) => async_ ? rate(work, time) : rateSync(work, time);
    for (const [async_, work] of Object.values(loops)) await measure(async_, work, Math.min(0.2, seconds)); // warm up
    const measured = Object.fromEntries(Object.keys(loops).map((name) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const [name, [async_, work]] of Object.entries(loops)) measured[name].push(await measure(async_, work, seconds));
    }
    const figures = Object.fromEntries(Object.entries(measured).map(([name, values]) => [name, median(values)]));
    return {
      verifier_verify_per_s: Math.round(figures.verifier_verify),
      node_crypto_verify_per_s: Math.round(figures.node_crypto_verify),
      ratio: Math.round((figures.verifier_verify / figures.node_crypto_verify) * 1000) / 1000,
      client_token_cached_per_s: Math.round(figures.client_token_cached),
      rounds: Object.fromEntries(Object.entries(measured).map(([name, values]) => [name, values.map(Math.round)])),
      token_bytes: token.text.length,
    };
  } finally {
    verifier.stop();
    agent.close();
  }
}

/** The 32-byte key of a did:key (base58btc after `did:key:z`, less the 0xed01 multicodec). */
function decodeDID(did) {
  const B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  let number = 0n;
  for (const char of did.slice("did:key:z".length)) number = number * 58n + BigInt(B58.indexOf(char));
  const bytes = [];
  while (number > 0n) {
    bytes.unshift(Number(number & 0xffn));
    number >>= 8n;
  }
  return bytes.slice(-32);
}

/** A 0.10 token signed by hand, so that this process does not meet its keys before the verifier does. */
function rawToken(key, claims) {
  const signed = b64urlEncode(utf8('{"alg":"EdDSA","typ":"JWT"}')) + "." + b64urlEncode(utf8(canonicalJSON(claims)));
  return signed + "." + b64urlEncode(key.sign(utf8(signed)));
}

/** Milliseconds per verification of a token citing `proofs` proofs, each from a key the verifier never met. */
function hostile(requests = 15, proofs = 32) {
  const issuer = SigningKey.generate(), service = SigningKey.generate();
  const now = Math.floor(Date.now() / 1000);
  const verifier = new Verifier({ server: null, audiences: [service.did], organizations: ["org_bench"], issuers: [issuer.did] });
  const times = [], outcomes = new Set();
  for (let request = 0; request < requests; request++) {
    const agent = SigningKey.generate();
    const listed = Array.from({ length: proofs }, () => {
      const stranger = SigningKey.generate();
      return rawToken(stranger, { ucv: "0.10.0", iss: stranger.did, aud: agent.did, cap: MAIL, exp: now + 600 });
    });
    const token = rawToken(agent, {
      ucv: "0.10.0", iss: agent.did, aud: service.did, cap: MAIL, exp: now + 60,
      prf: listed.map((proof) => CID.of(utf8(proof), 0x55).toString()),
    });
    const start = performance.now();
    try {
      verifier.verify(token, listed);
      outcomes.add("valid");
    } catch (error) {
      outcomes.add(error.code);
    }
    times.push(performance.now() - start);
  }
  return { hostile_ms: Math.round(median(times) * 10) / 10, hostile_max_ms: Math.round(Math.max(...times) * 10) / 10, outcomes: [...outcomes] };
}

const { values: options } = parseArgs({
  options: {
    seconds: { type: "string", default: "1" }, rounds: { type: "string", default: "5" },
    json: { type: "boolean", default: false }, "hostile-only": { type: "boolean", default: false },
  },
});
if (options["hostile-only"]) {
  console.log(JSON.stringify(hostile()));
} else {
  const binary = process.env.CHARTER;
  if (!binary) {
    console.error("set CHARTER to the charter binary");
    process.exit(64);
  }
  const [url, owner, stop] = await charterServe(binary);
  let results;
  try {
    const [org, key] = await agentKey(url, owner);
    results = { ...(await bench(url, key, org, Number(options.seconds), Number(options.rounds))), ...hostile() };
  } finally {
    stop();
  }
  results.node = process.versions.node;
  results.openssl = process.versions.openssl;
  results.cpu_count = cpus().length;
  if (options.json) {
    console.log(JSON.stringify(results, null, 2));
  } else {
    const n = (value) => value.toLocaleString("en-US").padStart(9);
    console.log(`Verifier.verify (0.10 root token, ${results.token_bytes} bytes): ${n(results.verifier_verify_per_s)}/s`);
    console.log(`node:crypto Ed25519 verify (same bytes):        ${n(results.node_crypto_verify_per_s)}/s`);
    console.log(`ratio (goal >= 0.7):                            ${String(results.ratio).padStart(9)}`);
    console.log(`Client.token() from the cache:                  ${n(results.client_token_cached_per_s)}/s`);
    console.log(`a token citing 32 proofs of unknown keys:       ${String(results.hostile_ms).padStart(9)} ms (max ${results.hostile_max_ms}; ${results.outcomes.join(", ")})`);
    console.log(`(medians of ${options.rounds} rounds of ${options.seconds}s; Node ${results.node}, OpenSSL ${results.openssl}, ${results.cpu_count} CPUs)`);
  }
}
