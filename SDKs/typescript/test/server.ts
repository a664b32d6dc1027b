// A real `charter serve` on loopback (the binary in $CHARTER), and helpers that drive it over HTTP with the owner key.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const MAIL = { "mailto:*": { "email/send": [{}] } };
export const COMMANDS = { "/email/send": [["like", ".to", "*@example.com"]], "/calendar": [["==", ".calendar", "work"]] };

let counter = 0;
const unique = () => `${process.hrtime.bigint()}-${counter++}`;

export class Server {
  url = "";
  owner = "";
  private constructor(private readonly process_: ChildProcess, readonly directory: string) {}

  static async start(): Promise<Server> {
    const binary = process.env.CHARTER;
    if (!binary) throw new Error("set CHARTER to the charter binary");
    const directory = mkdtempSync(join(tmpdir(), "charter-typescript-sdk-"));
    const child = spawn(binary, ["serve", "--database", "sqlite:" + join(directory, "charter.db"), "--port", "0"],
      { stdio: ["ignore", "pipe", "pipe"] });
    const server = new Server(child, directory);
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("charter serve did not start:\n" + output)), 60_000);
      const read = (chunk: Uint8Array) => {
        output += new TextDecoder().decode(chunk);
        for (const line of output.split("\n")) {
          const trimmed = line.trim();
          if (trimmed.startsWith("chr_live_") && !server.owner) server.owner = trimmed;
          if (trimmed.startsWith("charter listening on http://")) server.url = trimmed.split(" on ")[1].trim();
        }
        if (server.url && server.owner) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on("data", read);
      child.stderr!.on("data", read);
      child.on("exit", (code) => reject(new Error(`charter serve exited (${code}):\n${output}`)));
    });
    return server;
  }

  async call(method: string, path: string, body?: unknown, key?: string): Promise<[number, any]> {
    const response = await fetch(this.url + path, {
      method, headers: { Authorization: `Bearer ${key ?? this.owner}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return [response.status, text ? JSON.parse(text) : {}];
  }

  async ok(method: string, path: string, body?: unknown, key?: string): Promise<any> {
    const [status, answer] = await this.call(method, path, body, key);
    if (status < 200 || status >= 300) throw new Error(`${method} ${path}: ${status} ${JSON.stringify(answer)}`);
    return answer;
  }

  async issuers(): Promise<string[]> {
    return (await this.ok("GET", "/v1/issuers")).issuers.map((issuer: { did: string }) => issuer.did);
  }

  stop(): void {
    this.process_.kill("SIGTERM");
    rmSync(this.directory, { recursive: true, force: true });
  }
}

/** A fresh app of the owner's organization, its envelope, and an agent key for it. */
export class Tenant {
  envelope = "";
  key = "";
  keyId = "";
  private constructor(readonly server: Server, readonly org: string, readonly app: string, readonly environment: string) {}

  static async create(server: Server, options: { environment?: string; capabilities?: unknown; commands?: unknown } = {}): Promise<Tenant> {
    const environment = options.environment ?? "live";
    const me = await server.ok("GET", "/v1/me");
    const app = (await server.ok("POST", "/v1/apps", { name: `app-${unique()}`, environment })).id;
    const tenant = new Tenant(server, me.organization.id, app, environment);
    await tenant.addEnvelope(options.capabilities ?? MAIL, options.commands ?? COMMANDS);
    await tenant.addKey();
    return tenant;
  }

  async addEnvelope(capabilities: unknown, commands: unknown, maxTtl = 600): Promise<string> {
    const body: Record<string, unknown> = { app_id: this.app, name: `env-${unique()}`, max_ttl_seconds: maxTtl };
    if (capabilities !== undefined) body.capabilities = capabilities;
    if (commands !== undefined) body.commands = commands;
    this.envelope = (await this.server.ok("POST", "/v1/envelopes", body)).id;
    return this.envelope;
  }

  async addKey(role = "agent"): Promise<void> {
    const issued = await this.server.ok("POST", "/v1/keys", { app_id: this.app, label: `agent-${unique()}`, role });
    this.key = issued.key;
    this.keyId = issued.api_key.id;
  }

  /** How many audit records of `action` with `outcome` the key made. */
  async audited(action = "token.mint", outcome = "success"): Promise<number> {
    const page = await this.server.ok("GET", `/v1/audit?action=${encodeURIComponent(action)}&limit=500`);
    return page.records.filter((record: any) => record.key_id === this.keyId && record.outcome === outcome).length;
  }

  async revokeEnvelope(envelope?: string): Promise<void> {
    await this.server.ok("POST", `/v1/envelopes/${envelope ?? this.envelope}/revoke`);
  }
}
