// A node:http service that accepts Charter-minted UCANs, verified offline: the TypeScript twin of Examples/Service
// and SDKs/python/examples/service.py.
//
//     CHARTER_URL=http://127.0.0.1:8080 CHARTER_ORGANIZATION=org_… PORT=8081 node dist/examples/service.js
//
// It accepts only tokens of the organization CHARTER_ORGANIZATION names (its id, as GET /v1/me shows it), and prints
// its DID (also at GET /did). Its key is new on every start unless CHARTER_SERVICE_IDENTITY names an identity file
// (created on first use, as `charter ucan keygen` writes one).
//
//     POST /email/send  UCAN 1.0: an invocation of /email/send signed by the agent, in Authorization (base64), and
//                       the delegations it cites in a `ucans` header; each invocation is accepted once, and only
//                       when its arguments satisfy the envelope's policy (agent.ts does all of this).
//     POST /send        UCAN 0.10: a token for this service's DID granting email/send on mailto:*, with its proofs
//                       in `ucans`, comma-separated.
//     GET /.well-known/oauth-protected-resource
//                       RFC 9728 metadata naming Charter, which every 401 and scope 403 points to.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { pathToFileURL } from "node:url";
import {
  FeedError, SigningKey, Verifier, loadIdentity, metadataMiddleware, withCharter, type ProtectedResource,
} from "@charter/sdk";

export interface Service {
  /** Where it listens, such as `http://127.0.0.1:8081`. */
  url: string;
  /** Its DID: the audience it accepts. */
  did: string;
  verifier: Verifier;
  close(): Promise<void>;
}

/** Starts the service on `port` (0: any free port), trusting the tokens of `organization` minted by `charterURL`. */
export async function startService(charterURL: string, organization: string,
  options: { identity?: SigningKey; port?: number } = {}): Promise<Service> {
  const key = options.identity ?? SigningKey.generate();
  // Syncs issuers and revocations from Charter every 10 s; refuses tokens (503) once that data is over 60 s old.
  const verifier = new Verifier({
    server: charterURL, audiences: [key.did], organizations: [organization],
    onSyncError: (error) => console.warn(`example-service: sync failed: ${(error as Error).message}`),
  });
  try {
    await verifier.sync(); // so that the first requests are not refused as not_synced
  } catch (error) {
    if (!(error instanceof FeedError)) throw error;
    console.warn(`example-service: first sync failed (${error.message}); retrying in the background`);
  }
  verifier.start();

  let routes: Record<string, (req: IncomingMessage, res: ServerResponse) => unknown> = {};
  const server: Server = createServer((req, res) => {
    const route = routes[`${req.method} ${(req.url ?? "/").split("?")[0]}`] ?? routes.other;
    Promise.resolve(route(req, res)).catch((error) => {
      console.error(error);
      res.statusCode = 500;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;

  // The service as an OAuth protected resource: refusals name this document, which names Charter.
  const resource: ProtectedResource = { resource: url, authorizationServers: [charterURL], scopesSupported: ["email/send"] };
  const text = (res: ServerResponse, body: string) => {
    res.setHeader("content-type", "text/plain; charset=utf-8");
    res.end(body + "\n");
  };
  routes = {
    "GET /did": (_req, res) => text(res, key.did),
    "POST /email/send": withCharter(verifier, { command: "/email/send", protectedResource: resource }, (req, res) => {
      const call = req.charter;
      const to = call.args.to;
      if (typeof to !== "string") return text(res, "say whom to send to");
      text(res, `sent to ${to} for ${call.agent}, app ${call.app ?? "?"} under envelope ${call.envelope ?? "?"}`);
    }),
    "POST /send": withCharter(verifier, { resource: "mailto:*", ability: "email/send", protectedResource: resource },
      (req, res) => text(res, `sent for app ${req.charter.app ?? "?"} under envelope ${req.charter.envelope ?? "?"}`)),
    other: metadataMiddleware(resource), // the metadata document, else 404
  };

  return {
    url, did: key.did, verifier,
    close: () => new Promise<void>((resolve) => {
      verifier.stop();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function main(): Promise<void> {
  const organization = process.env.CHARTER_ORGANIZATION;
  if (!organization) {
    console.error("example-service: set CHARTER_ORGANIZATION to the id of the organization whose tokens to accept");
    process.exitCode = 64;
    return;
  }
  const charter = process.env.CHARTER_URL ?? "http://127.0.0.1:8080";
  const path = process.env.CHARTER_SERVICE_IDENTITY;
  const service = await startService(charter, organization, {
    identity: path ? loadIdentity(path) : undefined, port: Number(process.env.PORT ?? "8081"),
  });
  console.log(`example-service: ${service.did} on ${service.url}, trusting ${charter}`);
  const stop = () => void service.close();
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
