// The middleware for node:http and the Fetch API against an air-gapped verifier: the JSON error shape and statuses
// of Charter's RequireCapability and RequireInvocation, WWW-Authenticate in each case, and RFC 9728 metadata.

import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { after, before, test } from "node:test";
import {
  Guard, Verifier, VerificationError, charterFetch, charterMiddleware, metadataFetch, metadataMiddleware,
  protectedResourceMetadata, protectedResourceMetadataPath, protectedResourceMetadataURL, verifiedOf, withCharter, type NodeRequest, type NodeResponse,
  type ProtectedResource,
} from "../src/index.js";
import { Fixture, ORG } from "./fixtures.js";

const RESOURCE: ProtectedResource = {
  resource: "http://127.0.0.1:8000/mcp", authorizationServers: ["http://127.0.0.1:4000"], scopesSupported: ["email/send"],
};
const METADATA = "http://127.0.0.1:8000/.well-known/oauth-protected-resource/mcp";

const fixture = new Fixture();
let server: Server;
let base = "";

// Four routes: a capability and a command, each bare and as a protected resource; plus the metadata document.
before(async () => {
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => unknown> = {
    "/send": withCharter(fixture.verifier, { resource: "mailto:*", ability: "email/send" }, (req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ org: req.charter.org, token: String(req.charter.token) }));
    }),
    "/mcp/send": withCharter(fixture.verifier, { resource: "mailto:*", ability: "email/send", protectedResource: RESOURCE },
      (req, res) => res.end(req.charter.org ?? "")),
    "/invoke": withCharter(fixture.verifier, { command: "/email/send" }, (req, res) => res.end(String(req.charter.args.to))),
    "/mcp/invoke": withCharter(fixture.verifier, { command: "/email/send", protectedResource: RESOURCE },
      (req, res) => res.end(String(req.charter.args.to))),
  };
  const metadata = metadataMiddleware(RESOURCE);
  server = createServer((req, res) => {
    const route = routes[(req.url ?? "").split("?")[0]];
    if (route !== undefined) void route(req, res);
    else metadata(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

async function call(path: string, headers: Record<string, string> = {}, method = "POST") {
  const response = await fetch(base + path, { method, headers });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

const bearer = (text: string) => ({ Authorization: `Bearer ${text}` });

test("a capability route lets a granting token through, with the verified token in req.charter", async () => {
  const token = fixture.token();
  const answer = await call("/send", bearer(token.text));
  assert.equal(answer.status, 200);
  assert.deepEqual(JSON.parse(answer.body), { org: ORG, token: String(token) });
  assert.equal(answer.headers.get("www-authenticate"), null);
});

test("no Authorization header: 401, WWW-Authenticate Bearer, naming the metadata when configured", async () => {
  for (const path of ["/send", "/invoke"]) {
    const answer = await call(path);
    assert.equal(answer.status, 401);
    assert.equal(answer.headers.get("content-type"), "application/json");
    assert.equal(answer.body, '{"error":{"code":"malformed","message":"no Authorization header"}}');
    assert.equal(answer.headers.get("www-authenticate"), "Bearer");
  }
  for (const path of ["/mcp/send", "/mcp/invoke"]) {
    const answer = await call(path);
    assert.equal(answer.status, 401);
    assert.equal(answer.headers.get("www-authenticate"), `Bearer resource_metadata="${METADATA}"`);
  }
});

test("a credential that fails: 401, error=\"invalid_token\", the JSON error with its field", async () => {
  const answer = await call("/send", bearer("not.a.token"));
  assert.equal(answer.status, 401);
  assert.equal(answer.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
  assert.equal(JSON.parse(answer.body).error.code, "malformed");
  const scheme = await call("/mcp/send", { Authorization: "Basic YWxhZGRpbjpvcGVuc2VzYW1l" });
  assert.equal(scheme.status, 401);
  assert.equal(scheme.headers.get("www-authenticate"), `Bearer error="invalid_token", resource_metadata="${METADATA}"`);
  // An invocation whose base64 does not decode names the field, as RequireInvocation does.
  const invocation = await call("/mcp/invoke", bearer("%%%"));
  assert.equal(invocation.body, '{"error":{"code":"malformed","field":"invocation","message":"invocation is not the base64 of a UCAN 1.0 envelope"}}');
  assert.equal(invocation.headers.get("www-authenticate"), `Bearer error="invalid_token", resource_metadata="${METADATA}"`);
  // Expired: still 401 invalid_token.
  const token = fixture.token();
  fixture.now += 3600;
  try {
    const expired = await call("/send", bearer(token.text));
    assert.equal(expired.status, 401);
    assert.equal(JSON.parse(expired.body).error.code, "expired");
    assert.equal(expired.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
  } finally {
    fixture.now -= 3600;
  }
});

test("a capability the token does not grant: 403 not_covered, error=\"insufficient_scope\" with the ability", async () => {
  const token = fixture.token({ "https://calendar.example.com": { "calendar/read": [{}] } });
  const answer = await call("/send", bearer(token.text));
  assert.equal(answer.status, 403);
  assert.equal(JSON.parse(answer.body).error.code, "not_covered");
  assert.equal(answer.headers.get("www-authenticate"), 'Bearer error="insufficient_scope", scope="email/send"');
  const named = await call("/mcp/send", bearer(token.text));
  assert.equal(named.headers.get("www-authenticate"),
    `Bearer error="insufficient_scope", scope="email/send", resource_metadata="${METADATA}"`);
});

test("a command route: the invocation once; another command or a broken policy is 403 without a challenge", async () => {
  const signed = fixture.invoke();
  const answer = await call("/mcp/invoke", signed.headers);
  assert.equal(answer.status, 200);
  assert.equal(answer.body, "ops@example.com");
  const again = await call("/mcp/invoke", signed.headers);
  assert.equal(again.status, 401);
  assert.equal(JSON.parse(again.body).error.code, "replayed");
  assert.equal(again.headers.get("www-authenticate"), `Bearer error="invalid_token", resource_metadata="${METADATA}"`);
  const other = await call("/mcp/invoke", fixture.invoke("/email/read", {}, "/email").headers);
  assert.equal(other.status, 403);
  assert.equal(JSON.parse(other.body).error.code, "not_covered");
  assert.equal(other.headers.get("www-authenticate"), null);
  const broken = await call("/invoke", fixture.invoke("/email/send", { to: "x@evil.example" }, "/email/send",
    [["like", ".to", "*@example.com"]]).headers);
  assert.equal(broken.status, 403);
  assert.equal(JSON.parse(broken.body).error.code, "policy_violation");
  assert.equal(broken.headers.get("www-authenticate"), null);
});

test("503 while the verifier has not synced: no challenge, whatever the credential", async () => {
  const unsynced = new Verifier({ server: "http://127.0.0.1:9", audiences: [fixture.service.did], organizations: [ORG] });
  for (const options of [{ resource: "mailto:*", ability: "email/send" }, { command: "/email/send" }] as const) {
    const handler = charterFetch(unsynced, { ...options, protectedResource: RESOURCE }, () => new Response("no"));
    const credential = "command" in options ? fixture.invoke().authorization : `Bearer ${fixture.token().text}`;
    const response = await handler(new Request("http://service/x", { headers: { Authorization: credential } }));
    assert.equal(response.status, 503);
    assert.equal((await response.json()).error.code, "not_synced");
    assert.equal(response.headers.get("www-authenticate"), null);
  }
});

test("overloaded (a full replay cache) is 503 without a challenge", async () => {
  const small = new Fixture({ replayCapacity: 1 });
  const handler = charterFetch(small.verifier, { command: "/email/send" }, () => new Response("ok"));
  const request = () => new Request("http://service/x", { method: "POST", headers: small.invoke().headers });
  assert.equal((await handler(request())).status, 200);
  const refused = await handler(request());
  assert.equal(refused.status, 503);
  assert.equal((await refused.json()).error.code, "overloaded");
  assert.equal(refused.headers.get("www-authenticate"), null);
});

test("Express-style middleware: next() with req.charter, a refusal answered without next", () => {
  const middleware = charterMiddleware(fixture.verifier, { resource: "mailto:*", ability: "email/send", protectedResource: RESOURCE });
  const response = () => {
    const sent: { status?: number; headers: Record<string, string>; body?: string } = { headers: {} };
    const res: NodeResponse = {
      statusCode: 200,
      setHeader(name, value) { sent.headers[name.toLowerCase()] = value; },
      end(body) { sent.status = this.statusCode; sent.body = body; },
    };
    return { res, sent };
  };
  const passed = response();
  const req: NodeRequest & { charter?: unknown } = { headers: { authorization: `Bearer ${fixture.token().text}` } };
  let nexts = 0;
  middleware(req, passed.res, (error) => {
    assert.equal(error, undefined);
    nexts += 1;
  });
  assert.equal(nexts, 1);
  assert.equal((req.charter as { org: string }).org, ORG);
  assert.equal(passed.sent.status, undefined, "nothing written");

  const refused = response();
  middleware({ headers: {} }, refused.res, () => assert.fail("next must not run"));
  assert.equal(refused.sent.status, 401);
  assert.equal(refused.sent.headers["www-authenticate"], `Bearer resource_metadata="${METADATA}"`);
  assert.equal(refused.sent.headers["content-length"], String(refused.sent.body!.length));
});

test("Fetch wrapper: the verified credential as second argument and from verifiedOf, later arguments passed on", async () => {
  const handler = charterFetch(fixture.verifier, { command: "/email/send" }, async (request, call, context: { id: number }) => {
    assert.equal(verifiedOf(request), call);
    return new Response(JSON.stringify({ to: call.args.to, agent: call.agent, id: context.id }));
  });
  const response = await handler(new Request("http://service/send", { method: "POST", headers: fixture.invoke().headers }), { id: 7 });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { to: "ops@example.com", agent: fixture.agent.did, id: 7 });
  assert.equal(verifiedOf(new Request("http://service/other")), undefined);
});

test("two Authorization headers: Fetch joins them, and the guard refuses the pair; node:http's object gives the first", async () => {
  const token = fixture.token().text;
  const headers = new Headers();
  headers.append("authorization", `Bearer ${token}`);
  headers.append("authorization", `Bearer ${token}`);
  const handler = charterFetch(fixture.verifier, { resource: "mailto:*", ability: "email/send" }, () => new Response("ok"));
  const refused = await handler(new Request("http://service/send", { method: "POST", headers }));
  assert.equal(refused.status, 401);
  assert.deepEqual(await refused.json(),
    { error: { code: "malformed", message: "more than one Authorization header, or a comma in it" } });
  const guard = new Guard(fixture.verifier, { resource: "mailto:*", ability: "email/send" });
  assert.equal(guard.check({ authorization: [`Bearer ${token}`, "Bearer other"] }).refusal, undefined, "the first, as Swift reads it");
  assert.equal(guard.check({ authorization: `Bearer ${token}, x` }).refusal?.error.code, "malformed");
});

test("a guard's ability must be an RFC 6749 scope token, as its challenge names it: checked when the guard is made", () => {
  const guard = new Guard(fixture.verifier, { resource: "mailto:*", ability: "Email/Send", protectedResource: RESOURCE });
  assert.equal(guard.challenge(new VerificationError("not_covered", "no"), true),
    `Bearer error="insufficient_scope", scope="email/send", resource_metadata="${METADATA}"`);
  for (const ability of ["email/✉", 'a\\b"c/send', "email send", "email/\u0000", ""]) {
    const options = { resource: "mailto:*", ability };
    assert.throws(() => new Guard(fixture.verifier, options), TypeError, ability);
    assert.throws(() => withCharter(fixture.verifier, options, () => undefined), TypeError, ability);
    assert.throws(() => charterMiddleware(fixture.verifier, options), TypeError, ability);
    assert.throws(() => charterFetch(fixture.verifier, options, () => new Response()), TypeError, ability);
  }
  assert.throws(() => new Guard(fixture.verifier, { command: "/Email" }), TypeError);
  assert.throws(() => new Guard(fixture.verifier, { resource: "mailto:*", ability: "email/send", command: "/x" } as never), TypeError);
});

test("withCharter: a failure of the guard itself is a 500 internal_error, never a rejection node:http leaves unhandled", async () => {
  const broken = new Fixture().verifier;
  broken.verifyHeaders = () => {
    throw new RangeError("a bug, with a secret: chr_live_x");
  };
  const wrapped = withCharter(broken, { resource: "mailto:*", ability: "email/send" }, () => assert.fail("not admitted"));
  const local = createServer((req, res) => {
    const settled = wrapped(req, res);
    settled.then(() => undefined, (error) => assert.fail(`the wrapper rejected: ${error}`));
  });
  await new Promise<void>((resolve) => local.listen(0, "127.0.0.1", resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${(local.address() as { port: number }).port}/`, { headers: bearer(fixture.token().text) });
    assert.equal(response.status, 500);
    assert.equal(response.headers.get("content-type"), "application/json");
    assert.deepEqual(await response.json(), { error: { code: "internal_error", message: "the request could not be checked" } });
  } finally {
    local.closeAllConnections();
    local.close();
  }
  // A response that cannot take the refusal's headers: what was set is dropped, and the 500 sent instead.
  const set = new Map<string, string>();
  const sent: { status?: number; body?: string } = {};
  const res = {
    statusCode: 200, headersSent: false,
    setHeader(name: string, value: string) {
      if (name === "www-authenticate") throw new TypeError("Invalid character in header content");
      set.set(name, value);
    },
    getHeaderNames: () => [...set.keys()],
    removeHeader: (name: string) => set.delete(name),
    end(body?: string) { sent.status = this.statusCode; sent.body = body; },
  };
  const refusing = withCharter(fixture.verifier, { resource: "mailto:*", ability: "email/send" }, () => assert.fail("not admitted"));
  await refusing({ headers: {} }, res);
  assert.equal(sent.status, 500);
  assert.equal(JSON.parse(sent.body!).error.code, "internal_error");
  assert.deepEqual([...set.keys()].sort(), ["content-length", "content-type"]);
  // The handler's own errors stay the caller's: the wrapper's promise rejects with them.
  const failing = withCharter(fixture.verifier, { resource: "mailto:*", ability: "email/send" }, () => {
    throw new Error("the handler's");
  });
  await assert.rejects(failing({ headers: { authorization: `Bearer ${fixture.token().text}` } }, res), /the handler's/);
});

test("RFC 9728: the metadata lives under the resource's path, and the option is checked as Python checks it", () => {
  assert.equal(protectedResourceMetadataURL("https://api.example.com/mcp"), "https://api.example.com/.well-known/oauth-protected-resource/mcp");
  assert.equal(protectedResourceMetadataPath("https://api.example.com/mcp"), "/.well-known/oauth-protected-resource/mcp");
  for (const bare of ["https://api.example.com", "https://api.example.com/"]) {
    assert.equal(protectedResourceMetadataURL(bare), "https://api.example.com/.well-known/oauth-protected-resource");
  }
  assert.equal(protectedResourceMetadataPath("http://127.0.0.1:8000/a/b/"), "/.well-known/oauth-protected-resource/a/b/");
  assert.throws(() => protectedResourceMetadataURL("https://h.example/x?tenant=1"), TypeError, "no query, as in Swift");
  assert.deepEqual(protectedResourceMetadata({ resource: "https://h.example", authorizationServers: ["https://charter.example"] }),
    { resource: "https://h.example", authorization_servers: ["https://charter.example"], bearer_methods_supported: ["header"] });
  const CHARTER = ["http://127.0.0.1:8080"];
  for (const [resource, servers, scopes] of [
    ["/mcp", CHARTER, undefined], ["mailto:ops@example.com", CHARTER, undefined], ["https://h/mcp#x", CHARTER, undefined],
    ["https:///mcp", CHARTER, undefined], ['https://h/"mcp', CHARTER, undefined], ["https://h/mcp", [], undefined],
    ["https://h/mcp", CHARTER[0], undefined], ["https://h/mcp", ["charter"], undefined], ["https://h/mcp", CHARTER, ["email send"]],
  ] as [string, string[], string[] | undefined][]) {
    assert.throws(() => protectedResourceMetadata({ resource, authorizationServers: servers, scopesSupported: scopes }), TypeError,
      `${resource} ${servers} ${scopes}`);
  }
  assert.throws(() => new Guard(fixture.verifier, { command: "/x", protectedResource: { resource: "https://h/mcp", authorizationServers: [] } }), TypeError);
});

test("RFC 9728: the document, at the well-known path, by node:http, by a guard, and by Fetch", async () => {
  const expected = '{"authorization_servers":["http://127.0.0.1:4000"],"bearer_methods_supported":["header"],'
    + '"resource":"http://127.0.0.1:8000/mcp","scopes_supported":["email/send"]}';
  const answer = await call("/.well-known/oauth-protected-resource/mcp", {}, "GET");
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get("content-type"), "application/json");
  assert.equal(answer.headers.get("access-control-allow-origin"), "*");
  assert.equal(answer.headers.get("cache-control"), "public, max-age=3600");
  assert.equal(answer.body, expected);
  const head = await call("/.well-known/oauth-protected-resource/mcp", {}, "HEAD");
  assert.equal(head.status, 200);
  assert.equal(head.body, "");
  const post = await call("/.well-known/oauth-protected-resource/mcp", {}, "POST");
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD, OPTIONS");
  const preflight = await call("/.well-known/oauth-protected-resource/mcp", {}, "OPTIONS");
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("content-length"), null, "RFC 9110: no Content-Length on a 204");
  assert.equal(preflight.headers.get("access-control-allow-methods"), "GET, HEAD, OPTIONS");
  assert.equal((await call("/.well-known/oauth-protected-resource", {}, "GET")).status, 404);
  // A guard configured as a protected resource serves the document its challenges name, without credentials.
  const guarded = withCharter(fixture.verifier, { command: "/email/send", protectedResource: RESOURCE }, () => assert.fail("not a call"));
  const sent: { status?: number; body?: string } = {};
  await guarded({ headers: {}, method: "GET", url: "/.well-known/oauth-protected-resource/mcp" },
    { statusCode: 0, setHeader: () => undefined, end(body) { sent.status = this.statusCode; sent.body = body; } });
  assert.deepEqual(sent, { status: 200, body: expected });
  const fetched = charterFetch(fixture.verifier, { command: "/email/send", protectedResource: RESOURCE }, () => new Response("no"));
  assert.equal(await (await fetched(new Request(METADATA))).text(), expected);
  const response = metadataFetch(RESOURCE)(new Request(METADATA));
  assert.equal(response.headers.get("content-type"), "application/json");
  assert.equal(await response.text(), expected);
  assert.equal(metadataFetch(RESOURCE)(new Request(METADATA, { method: "DELETE" })).status, 405);
});
