// An agent that trades its API key for Charter credentials and calls a service with them: the TypeScript twin of
// Examples/Agent and SDKs/python/examples/agent.py.
//
//     CHARTER_URL=http://127.0.0.1:8080 CHARTER_API_KEY=chr_live_… node dist/examples/agent.js [service-url]
//
// The key needs `token.authorize` (an `agent` key) and its app an envelope granting `/email/send` and email/send on
// mailto:*, such as {"capabilities": {"mailto:*": {"email/send": [{}]}}, "commands": {"/email/send": [["like", ".to",
// "*@example.com"]]}}. With the URL of service.ts, the agent and a sub-agent call it; without, they print what they
// would send. The agent's own identity is kept in ~/.charter/agent-identity.json, created on first run.

import { pathToFileURL } from "node:url";
import { CharterError, Client, Delegation, SigningKey, Token, signInvocation } from "@charter/sdk";

const MAIL = { "mailto:*": { "email/send": [{}] } };

/** One call and the service's answer (`status` null: printed, not sent). */
export interface Call {
  who: string;
  status: number | null;
  answer: string;
}

export const describe = (call: Call): string => `${call.who}: ${call.status ?? "(not sent)"} ${call.answer}`;

/** Every call the agent and its sub-agent make, with the service's answers (or the headers, without a service). */
export async function run(charterURL: string, apiKey: string, serviceURL?: string,
  options: { identity?: SigningKey | string } = {}): Promise<Call[]> {
  const calls: Call[] = [];
  const send = async (path: string, headers: Record<string, string>, who: string) => {
    if (serviceURL === undefined) {
      const proofs = headers.ucans ? headers.ucans.split(",").length : 0;
      calls.push({ who, status: null, answer: `Authorization: ${headers.Authorization.slice(0, 40)}…  ucans: ${proofs} proof(s)` });
      return;
    }
    const answer = await fetch(serviceURL.replace(/\/+$/, "") + path, { method: "POST", headers });
    calls.push({ who, status: answer.status, answer: (await answer.text()).trim() });
  };

  const agent = new Client({ server: charterURL, apiKey, identity: options.identity });
  try {
    // The service names itself; a real agent would have its DID in configuration.
    const service = serviceURL !== undefined ? (await (await fetch(serviceURL + "/did")).text()).trim() : SigningKey.generate().did;

    if (serviceURL !== undefined) {
      // Without a credential the service answers 401 and names its RFC 9728 metadata, which names Charter: how an
      // OAuth or MCP client finds where to get a token.
      const refused = await fetch(serviceURL + "/send", { method: "POST" });
      const challenge = refused.headers.get("www-authenticate") ?? "";
      const metadata = /resource_metadata="([^"]*)"/.exec(challenge)?.[1];
      const servers = metadata ? (await (await fetch(metadata)).json()).authorization_servers : [];
      calls.push({ who: "agent → /send without a token", status: refused.status, answer: `${challenge} → Charter at ${servers}` });
    }

    // UCAN 1.0: one invocation per call, signed with the agent's key, citing its cached delegation. The service
    // accepts each once, and only within the envelope's policy.
    const delegation = await agent.delegation("/email/send");
    const first = await agent.invoke("/email/send", { to: "ada@example.com", subject: "hi" }, service);
    await send("/email/send", first.headers, "agent → ada@example.com");
    await send("/email/send", first.headers, "agent → ada@example.com, the same invocation again");
    await send("/email/send", (await agent.invoke("/email/send", { to: "eve@elsewhere.com" }, service)).headers,
      "agent → eve@elsewhere.com");

    // A sub-agent may send to one address only, for two minutes: its policy adds to the envelope's.
    const subAgent = SigningKey.generate();
    const narrower = await agent.delegate(subAgent.did, { command: "/email/send", policy: [["==", ".to", "ops@example.com"]], ttl: 120 });
    if (!(narrower instanceof Delegation)) throw new Error("a command gives a 1.0 delegation");
    for (const to of ["ops@example.com", "ada@example.com"]) {
      const call = signInvocation(subAgent, "/email/send", { to }, {
        audience: service, chain: [delegation, narrower], expiration: Math.floor(Date.now() / 1000) + 60,
      });
      await send("/email/send", call.headers, `sub-agent → ${to}`);
    }

    // UCAN 0.10: the agent's token (addressed to the agent), delegated to the service for a minute; the service
    // verifies the chain with the root in `ucans`.
    const root = await agent.token(MAIL);
    const child = await agent.delegate(service, { capabilities: MAIL, ttl: 60, proof: root });
    if (!(child instanceof Token)) throw new Error("capabilities give a 0.10 token");
    await send("/send", { Authorization: `Bearer ${child.text}`, ucans: root.text }, "agent → /send (0.10)");
  } finally {
    agent.close();
  }
  return calls;
}

async function main(): Promise<void> {
  const charter = process.env.CHARTER_URL, key = process.env.CHARTER_API_KEY;
  if (!charter || !key) {
    console.error("set CHARTER_URL and CHARTER_API_KEY");
    process.exitCode = 64;
    return;
  }
  try {
    for (const call of await run(charter, key, process.argv[2])) console.log(describe(call));
  } catch (error) {
    if (!(error instanceof CharterError)) throw error;
    console.error(`refused: ${error.message}`);
    process.exitCode = 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
