// Charter's middleware for Fetch-API handlers, `(Request) => Promise<Response>`: Next.js route handlers, Hono,
// Cloudflare Workers, Deno and Bun servers.

import { Guard, type GuardOptions, type VerifiedFor } from "./middleware.js";
import { metadataAnswer, type ProtectedResource } from "./metadata.js";
import type { VerifiedInvocation, VerifiedToken, Verifier } from "./verifier.js";

const verifiedRequests = new WeakMap<Request, VerifiedToken | VerifiedInvocation>();

/** The verified token or invocation of a request a `charterFetch` handler let through; undefined for any other. */
export function verifiedOf(request: Request): VerifiedToken | VerifiedInvocation | undefined {
  return verifiedRequests.get(request);
}

/**
 * A Fetch handler that calls `handler` only for requests whose Charter credential verifies, with the verified token
 * or invocation as its second argument (and from `verifiedOf(request)`); others get the refusal. Arguments after
 * the request (a Next.js context, a Worker's `env` and `ctx`) follow the verified credential. With
 * `protectedResource`, a request for its RFC 9728 document is answered with it.
 *
 * ```ts
 * export const POST = charterFetch(verifier, { command: "/email/send" }, async (request, call) =>
 *   Response.json({ sent: call.args.to }));
 * ```
 */
export function charterFetch<O extends GuardOptions, A extends unknown[]>(
  verifier: Verifier, options: O,
  handler: (request: Request, verified: VerifiedFor<O>, ...rest: A) => Response | Promise<Response>,
): (request: Request, ...rest: A) => Promise<Response> {
  const guard = new Guard(verifier, options);
  return async (request, ...rest) => {
    if (guard.metadataPath !== null && new URL(request.url).pathname === guard.metadataPath) {
      const { status, headers, body } = guard.metadataAnswer(request.method);
      return new Response(body === "" ? null : body, { status, headers });
    }
    const outcome = guard.check(request.headers);
    if (outcome.refusal !== undefined) {
      const { status, headers, body } = outcome.refusal;
      return new Response(body, { status, headers });
    }
    verifiedRequests.set(request, outcome.verified);
    return handler(request, outcome.verified, ...rest);
  };
}

/**
 * A Fetch handler answering with the RFC 9728 metadata document (`GET`, `HEAD`, an `OPTIONS` preflight; else 405),
 * for the route at its well-known path (`protectedResourceMetadataPath`), such as
 * `app/.well-known/oauth-protected-resource/mcp/route.ts` in Next.js.
 */
export function metadataFetch(resource: ProtectedResource): (request?: Request) => Response {
  metadataAnswer(resource, "GET"); // checks the resource now rather than at the first request
  return (request) => {
    const { status, headers, body } = metadataAnswer(resource, request?.method ?? "GET");
    return new Response(body === "" ? null : body, { status, headers });
  };
}
