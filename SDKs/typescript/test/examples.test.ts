// The examples run the whole exchange against a real `charter serve`: examples/agent.ts calls examples/service.ts,
// in process (each answer checked) and as the commands their headers document, so they cannot rot.

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { SigningKey } from "../src/index.js";
import { describe, run } from "../examples/agent.js";
import { startService } from "../examples/service.js";
import { Server, Tenant } from "./server.js";

let server: Server;
before(async () => {
  server = await Server.start();
}, { timeout: 60_000 });
after(() => server?.stop());

test("the agent example calls the service example: 1.0 invocations, policies, a sub-agent, a 0.10 chain, RFC 9728", async () => {
  const tenant = await Tenant.create(server);
  const service = await startService(server.url, tenant.org);
  try {
    assert.equal((await (await fetch(service.url + "/did")).text()).trim(), service.did);
    const calls = await run(server.url, tenant.key, service.url, { identity: SigningKey.generate() });
    assert.deepEqual(calls.map((call) => [call.who, call.status]), [
      ["agent → /send without a token", 401],
      ["agent → ada@example.com", 200], ["agent → ada@example.com, the same invocation again", 401],
      ["agent → eve@elsewhere.com", 403], ["sub-agent → ops@example.com", 200], ["sub-agent → ada@example.com", 403],
      ["agent → /send (0.10)", 200],
    ], calls.map(describe).join("\n"));
    assert.equal(calls[0].answer, `Bearer resource_metadata="${service.url}/.well-known/oauth-protected-resource" → Charter at ${server.url}`);
    assert.ok(calls[1].answer.startsWith("sent to ada@example.com for did:key:") && calls[1].answer.includes(tenant.app));
    assert.ok(calls[2].answer.includes('"code":"replayed"') && calls[3].answer.includes('"code":"policy_violation"'));
    assert.ok(calls[5].answer.includes('"field":"prf[1].pol"'));
    assert.equal(calls[6].answer, `sent for app ${tenant.app} under envelope ${tenant.envelope}`);
    // Without a service, the agent prints what it would send.
    const dry = await run(server.url, tenant.key, undefined, { identity: SigningKey.generate() });
    assert.equal(dry.length, 6);
    assert.ok(dry.every((call) => call.status === null && call.answer.startsWith("Authorization: Bearer ")));
  } finally {
    await service.close();
  }
});

const example = (name: string) => fileURLToPath(new URL(`../examples/${name}.js`, import.meta.url));

test("the examples run as their headers say: node dist/examples/service.js, then agent.js with its URL", async () => {
  const tenant = await Tenant.create(server);
  const child = spawn(process.execPath, [example("service")], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, CHARTER_URL: server.url, CHARTER_ORGANIZATION: tenant.org, PORT: "0" },
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let output = "";
      const timer = setTimeout(() => reject(new Error("the service did not start:\n" + output)), 30_000);
      const read = (chunk: Uint8Array) => {
        output += new TextDecoder().decode(chunk);
        const match = / on (http:\/\/127\.0\.0\.1:[0-9]+),/.exec(output);
        if (match !== null) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout!.on("data", read);
      child.stderr!.on("data", read);
      child.on("exit", (code) => reject(new Error(`the service exited (${code}):\n${output}`)));
    });
    const agent = spawnSync(process.execPath, [example("agent"), url], {
      encoding: "utf8",
      env: { ...process.env, CHARTER_URL: server.url, CHARTER_API_KEY: tenant.key, HOME: server.directory },
    });
    assert.equal(agent.status, 0, agent.stderr);
    const lines = agent.stdout.trim().split("\n");
    assert.equal(lines.length, 7, agent.stdout);
    assert.ok(lines[1].startsWith("agent → ada@example.com: 200 sent to ada@example.com"), lines[1]);
    assert.ok(lines[6].startsWith("agent → /send (0.10): 200 sent for app"), lines[6]);
  } finally {
    child.kill("SIGTERM");
  }
  const usage = spawnSync(process.execPath, [example("agent")], { encoding: "utf8", env: { PATH: process.env.PATH } });
  assert.equal(usage.status, 64);
});
