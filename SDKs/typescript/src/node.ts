// Charter's middleware for node:http servers, and for Express and the frameworks that share its `(req, res, next)`.
//
// The types are structural, so the SDK needs no @types/node: node:http's IncomingMessage and ServerResponse (and
// Express's Request and Response, which extend them) fit them.

import { Guard, type GuardOptions, type VerifiedFor } from "./middleware.js";
import { metadataAnswer, protectedResourceMetadataPath, type ProtectedResource } from "./metadata.js";
import type { Verifier } from "./verifier.js";

/** What the middleware reads of a request: node:http's `IncomingMessage` and Express's `Request` fit. */
export interface NodeRequest {
  headers: Record<string, string | string[] | undefined>;
  method?: string;
  url?: string;
  /** Express's full URL, when the router is mounted under a path (`url` is then relative to it). */
  originalUrl?: string;
}

/** What it writes to a response: node:http's `ServerResponse` and Express's `Response` fit. */
export interface NodeResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
}

/** `next` of Express and Connect: with an error, to hand it to the error handlers. */
export type Next = (error?: unknown) => void;

/** A request that passed, with its verified credential in `charter`. */
export type CharterRequest<R, O> = R & { charter: VerifiedFor<O> };

function send(res: NodeResponse, answer: { status: number; headers: Record<string, string>; body: string }): void {
  res.statusCode = answer.status;
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  // A 204 (the metadata's OPTIONS preflight) or a 304 carries no body, and RFC 9110 forbids Content-Length on a 204.
  const bodiless = answer.status === 204 || answer.status === 304;
  if (!bodiless && answer.headers["content-length"] === undefined) {
    res.setHeader("content-length", String(new TextEncoder().encode(answer.body).length));
  }
  res.end(answer.body === "" ? undefined : answer.body);
}

const pathOf = (url: string | undefined): string => (url ?? "/").split("?")[0];

/** Whether the request is for the metadata document at `path` (the full path, or the one below a mount point). */
function asksFor(req: NodeRequest, path: string | null): boolean {
  return path !== null && (pathOf(req.url) === path || (req.originalUrl !== undefined && pathOf(req.originalUrl) === path));
}

/**
 * Runs the guard on a request: the metadata document when it asks for it, a refusal, or the verified credential
 * put in `req.charter` (true).
 */
function admit<O extends GuardOptions>(guard: Guard<O>, req: NodeRequest, res: NodeResponse): boolean {
  if (asksFor(req, guard.metadataPath)) {
    send(res, guard.metadataAnswer(req.method ?? "GET"));
    return false;
  }
  const outcome = guard.check(req.headers);
  if (outcome.refusal !== undefined) {
    send(res, outcome.refusal);
    return false;
  }
  (req as CharterRequest<NodeRequest, O>).charter = outcome.verified;
  return true;
}

/**
 * Express-style middleware that lets a request through only when its Charter credential verifies, putting the
 * verified token or invocation in `req.charter` before calling `next()`; a refusal is answered at once. With
 * `protectedResource`, it also answers requests for the RFC 9728 document its challenges name.
 *
 * ```ts
 * app.post("/send", charterMiddleware(verifier, { resource: "mailto:*", ability: "email/send" }), (req, res) => …);
 * app.use("/mcp", charterMiddleware(verifier, { command: "/email/send", protectedResource }));
 * ```
 */
export function charterMiddleware<O extends GuardOptions>(verifier: Verifier, options: O):
  (req: NodeRequest, res: NodeResponse, next: Next) => void {
  const guard = new Guard(verifier, options);
  return (req, res, next) => {
    let admitted: boolean;
    try {
      admitted = admit(guard, req, res);
    } catch (error) {
      next(error);
      return;
    }
    if (admitted) next();
  };
}

const INTERNAL_ERROR = '{"error":{"code":"internal_error","message":"the request could not be checked"}}';

/**
 * Answers 500 `internal_error` for a request the guard itself failed on, dropping what it had set; when the answer
 * has begun, it can only be ended. Never throws: node:http ignores a handler's promise, so a rejection here would
 * be an unhandled one, which ends the process.
 */
function internalError(res: NodeResponse): void {
  const partial = res as NodeResponse & {
    headersSent?: boolean; getHeaderNames?(): string[]; removeHeader?(name: string): unknown; destroy?(): unknown;
  };
  try {
    if (partial.headersSent === true) {
      partial.destroy?.();
      return;
    }
    for (const name of partial.getHeaderNames?.() ?? []) partial.removeHeader?.(name);
    send(res, { status: 500, headers: { "content-type": "application/json" }, body: INTERNAL_ERROR });
  } catch {
    try {
      partial.destroy?.();
    } catch {
      // nothing more can be done for this response
    }
  }
}

/**
 * A node:http request handler that runs `handler` only for requests whose Charter credential verifies, with the
 * verified token or invocation in `req.charter`; others get the refusal (and, with `protectedResource`, a request
 * for the RFC 9728 document gets the document).
 *
 * node:http ignores the promise a request listener returns, so the guard's own failures never reach it: one that
 * is not a refusal (a bug, or an answer that cannot be written) is answered 500 with the JSON error shape, code
 * `internal_error`, and no detail. What `handler` returns (or throws) is what the wrapper's promise resolves to (or
 * rejects with): catch the handler's own errors in it, or node:http leaves them unhandled.
 *
 * ```ts
 * http.createServer(withCharter(verifier, { command: "/email/send" }, (req, res) => res.end(String(req.charter.args.to))));
 * ```
 */
export function withCharter<O extends GuardOptions, R extends NodeRequest, S extends NodeResponse>(
  verifier: Verifier, options: O, handler: (req: CharterRequest<R, O>, res: S) => unknown,
): (req: R, res: S) => Promise<void> {
  const guard = new Guard(verifier, options);
  return async (req, res) => {
    let admitted: boolean;
    try {
      admitted = admit(guard, req, res);
    } catch {
      internalError(res);
      return;
    }
    if (admitted) await handler(req as CharterRequest<R, O>, res);
  };
}

/**
 * Serves the RFC 9728 metadata document at its well-known path (`GET`, `HEAD` and an `OPTIONS` preflight; another
 * method is 405). Other paths go to `next` as middleware, or get a 404 as a plain node:http handler.
 *
 * ```ts
 * app.use(metadataMiddleware({ resource: "https://api.example.com/mcp", authorizationServers: [charterURL] }));
 * ```
 */
export function metadataMiddleware(resource: ProtectedResource): (req: NodeRequest, res: NodeResponse, next?: Next) => void {
  const path = protectedResourceMetadataPath(resource.resource);
  metadataAnswer(resource, "GET"); // checks the resource now rather than at the first request
  return (req, res, next) => {
    if (asksFor(req, path)) send(res, metadataAnswer(resource, req.method ?? "GET"));
    else if (next !== undefined) next();
    else send(res, { status: 404, headers: { "content-type": "application/json" }, body: '{"error":{"code":"not_found","message":"no such path"}}' });
  };
}
