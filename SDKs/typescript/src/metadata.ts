// RFC 9728 OAuth 2.0 Protected Resource Metadata: how a service protected by Charter names its authorization
// server, so that an OAuth or MCP client that was refused can find where to get a token. The same option, document,
// path and answers as Charter's Swift and Python SDKs.

import { canonicalJSON } from "./encoding.js";

/** The service as a protected resource (RFC 9728). */
export interface ProtectedResource {
  /** The resource server's URL, such as `https://api.example.com/mcp`. */
  resource: string;
  /** Where tokens for it come from: Charter's base URL. */
  authorizationServers: readonly string[];
  /** The scopes (for Charter, abilities such as `email/send`) it understands. */
  scopesSupported?: readonly string[];
}

/** The metadata document. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  bearer_methods_supported: ["header"];
  scopes_supported?: string[];
}

export const WELL_KNOWN = "/.well-known/oauth-protected-resource";

/**
 * [scheme, authority, path] of an absolute http(s) URL with a host and no fragment (RFC 9728 §1.2), as written; a
 * resource may have no query either, as Swift's `ProtectedResource` requires.
 */
function parts(value: string, what: string, query = true): [string, string, string] {
  if (typeof value !== "string" || /[\u0000-\u0020\u007f"\\]/.test(value)) {
    throw new TypeError(`${what} is not a URL: ${JSON.stringify(value)}`);
  }
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?$/.exec(value);
  let host = "";
  try {
    host = new URL(value).hostname;
  } catch {
    // refused below
  }
  if (match === null || !["http", "https"].includes(match[1].toLowerCase()) || match[2] === "" || host === "") {
    throw new TypeError(`${what} must be an absolute http(s) URL without a fragment: ${JSON.stringify(value)}`);
  }
  if (!query && match[4] !== undefined) throw new TypeError(`${what} must not have a query: ${JSON.stringify(value)}`);
  return [match[1].toLowerCase(), match[2], match[3]];
}

/** `scope` if it is one RFC 6749 scope token (an ability such as `email/send` is), else TypeError. */
export function checkScope(scope: string): string {
  if (typeof scope !== "string" || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope)) {
    throw new TypeError(`not an OAuth scope token: ${JSON.stringify(scope)}`);
  }
  return scope;
}

/**
 * Where a resource's metadata is served (RFC 9728 §3.1): `/.well-known/oauth-protected-resource` then the resource
 * URL's path, a bare `/` counting as none: `https://h/mcp` gives `/.well-known/oauth-protected-resource/mcp`.
 */
export function protectedResourceMetadataPath(resource: string): string {
  const path = parts(resource, "resource", false)[2];
  return WELL_KNOWN + (path === "/" ? "" : path);
}

/** The full URL of the metadata, as `WWW-Authenticate` names it in `resource_metadata`. */
export function protectedResourceMetadataURL(resource: string): string {
  const [scheme, authority] = parts(resource, "resource", false);
  return `${scheme}://${authority}${protectedResourceMetadataPath(resource)}`;
}

/**
 * The metadata document: `resource`, `authorization_servers`, `bearer_methods_supported` and `scopes_supported`.
 * Throws TypeError for a resource or server that is not an http(s) URL without a fragment (a resource without a
 * query), no server, or a scope
 * that is not an OAuth scope token.
 */
export function protectedResourceMetadata(options: ProtectedResource): ProtectedResourceMetadata {
  parts(options.resource, "resource", false);
  if (typeof options.authorizationServers === "string" || options.authorizationServers.length === 0) {
    throw new TypeError("authorizationServers is a list of URLs, such as [charterURL]");
  }
  for (const server of options.authorizationServers) parts(server, "an authorization server");
  const document: ProtectedResourceMetadata = {
    resource: options.resource,
    authorization_servers: [...options.authorizationServers],
    bearer_methods_supported: ["header"],
  };
  if (options.scopesSupported !== undefined) document.scopes_supported = options.scopesSupported.map(checkScope);
  return document;
}

/**
 * The answer to a request for the document: `GET` and `HEAD` (public, cacheable, any origin), an `OPTIONS`
 * preflight, else 405. Header names are lower case.
 */
export function metadataAnswer(options: ProtectedResource, method: string):
  { status: number; headers: Record<string, string>; body: string } {
  if (method === "OPTIONS") {
    return {
      status: 204, body: "",
      headers: { "access-control-allow-origin": "*", "access-control-allow-methods": "GET, HEAD, OPTIONS", allow: "GET, HEAD, OPTIONS" },
    };
  }
  if (method !== "GET" && method !== "HEAD") return { status: 405, headers: { allow: "GET, HEAD, OPTIONS" }, body: "" };
  const body = canonicalJSON(protectedResourceMetadata(options));
  return {
    status: 200, body: method === "GET" ? body : "",
    headers: {
      "content-type": "application/json", "content-length": String(new TextEncoder().encode(body).length),
      "cache-control": "public, max-age=3600", "access-control-allow-origin": "*",
    },
  };
}
