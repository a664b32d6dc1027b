// What Charter's RequireCapability and RequireInvocation check, and how they refuse, for any HTTP framework;
// node.ts and fetch.ts adapt it to node:http (and Express) and to the Fetch API.
//
// A refusal is `{"error":{"code","message","field"?}}` (compact, keys sorted) with the verifier's status: 401 when
// the credential is missing or fails, 403 for `not_covered` and `policy_violation`, 503 for `not_synced`,
// `feed_stale` and `overloaded`. A 401 carries `WWW-Authenticate: Bearer` (with `error="invalid_token"` when a
// credential was presented), a 403 `not_covered` of a capability `error="insufficient_scope"` and the ability as
// its scope; both add `resource_metadata` (RFC 9728) when the service is configured as a protected resource, and
// the adapters then answer requests for that metadata document themselves, as the Python middleware does.

import { canonicalJSON } from "./encoding.js";
import { UCANError, VerificationError } from "./errors.js";
import {
  checkScope, metadataAnswer, protectedResourceMetadata, protectedResourceMetadataPath, protectedResourceMetadataURL,
  type ProtectedResource,
} from "./metadata.js";
import { Capability } from "./ucan.js";
import { checkCommand } from "./ucan1.js";
import { headerValue, type HeadersLike } from "./credentials.js";
import type { VerifiedInvocation, VerifiedToken, Verifier } from "./verifier.js";

/** What a route demands: a UCAN 0.10 token granting an ability on a resource, or a UCAN 1.0 invocation of a command. */
export type Requirement =
  | { resource: string; ability: string; command?: undefined }
  | { command: string; resource?: undefined; ability?: undefined };

/** A requirement, and the service as an RFC 9728 protected resource (named in `WWW-Authenticate` when given). */
export type GuardOptions = Requirement & { protectedResource?: ProtectedResource };

/** What a request that passes carries: a `VerifiedInvocation` for a command, else a `VerifiedToken`. */
export type VerifiedFor<O> = O extends { command: string } ? VerifiedInvocation : VerifiedToken;

/** The answer to a refused request. `headers` has lower-case names; `body` is the JSON error. */
export interface Refusal {
  status: number;
  headers: Record<string, string>;
  body: string;
  error: VerificationError;
}

/** An RFC 7230 quoted-string. */
function quoted(value: string): string {
  return '"' + value.replace(/[\\"]/g, (char) => "\\" + char) + '"';
}

/**
 * Checks requests against one requirement with one verifier, as Charter's Swift middleware does; node.ts and
 * fetch.ts wrap it for their frameworks, and it serves any other (`check` takes any headers).
 */
export class Guard<O extends GuardOptions = GuardOptions> {
  readonly capability: Capability | null;
  readonly command: string | null;
  /** The service as an RFC 9728 protected resource, when it is one. */
  readonly protectedResource: ProtectedResource | null;
  /** Its metadata URL, which challenges name as `resource_metadata`. */
  readonly metadataURL: string | null;
  /** Its metadata path, where the adapters answer with the document. */
  readonly metadataPath: string | null;

  constructor(readonly verifier: Verifier, options: O) {
    if (options.command !== undefined) {
      if (options.resource !== undefined || options.ability !== undefined) {
        throw new TypeError("protect a route with a capability (resource and ability) or a command, not both");
      }
      try {
        this.command = checkCommand(options.command, "command");
      } catch (error) {
        if (error instanceof UCANError) throw new TypeError(`not a UCAN 1.0 command: ${JSON.stringify(options.command)}`);
        throw error;
      }
      this.capability = null;
    } else {
      if (typeof options.resource !== "string" || typeof options.ability !== "string") {
        throw new TypeError("a Charter guard needs resource and ability (0.10 tokens) or command (1.0 invocations)");
      }
      this.capability = new Capability(options.resource, options.ability);
      // A 403's challenge names the ability as its scope: one that is not an RFC 6749 scope token could not be
      // written into the header (node:http throws on a non-Latin-1 value), so it is refused here, as Python does.
      checkScope(this.capability.ability);
      this.command = null;
    }
    this.protectedResource = options.protectedResource ?? null;
    if (this.protectedResource !== null) protectedResourceMetadata(this.protectedResource); // checks it
    this.metadataURL = this.protectedResource && protectedResourceMetadataURL(this.protectedResource.resource);
    this.metadataPath = this.protectedResource && protectedResourceMetadataPath(this.protectedResource.resource);
  }

  /** The answer to a request (by `method`) for the metadata document; only for a protected resource. */
  metadataAnswer(method: string): { status: number; headers: Record<string, string>; body: string } {
    if (this.protectedResource === null) throw new TypeError("the guard has no protectedResource");
    return metadataAnswer(this.protectedResource, method);
  }

  toString(): string {
    return `Guard(${this.command ?? String(this.capability)})`;
  }

  /** The request's verified credential; throws VerificationError with the reason it is refused. */
  verify(headers: HeadersLike): VerifiedFor<O> {
    if (this.command !== null) return this.verifier.verifyInvocationHeaders(headers, this.command) as VerifiedFor<O>;
    return this.verifier.verifyHeaders(headers, this.capability!) as VerifiedFor<O>;
  }

  /** The verified credential, or the refusal to answer with. Errors other than VerificationError are thrown. */
  check(headers: HeadersLike): { verified: VerifiedFor<O>; refusal?: undefined } | { refusal: Refusal; verified?: undefined } {
    try {
      return { verified: this.verify(headers) };
    } catch (error) {
      if (error instanceof VerificationError) return { refusal: this.refusal(error, headerValue(headers, "authorization") !== null) };
      throw error;
    }
  }

  /** The status, headers and body that refuse a request for `error`; `presented`: it carried an Authorization header. */
  refusal(error: VerificationError, presented: boolean): Refusal {
    const body = canonicalJSON(error.toJSON());
    const headers: Record<string, string> = { "content-type": "application/json" };
    const challenge = this.challenge(error, presented);
    if (challenge !== null) headers["www-authenticate"] = challenge;
    return { status: error.status, headers, body, error };
  }

  /** The `WWW-Authenticate` value for a refusal, or null when it carries none (503s, and 403s but for a scope). */
  challenge(error: VerificationError, presented: boolean): string | null {
    const params: string[] = [];
    if (error.status === 401) {
      if (presented) params.push(`error=${quoted("invalid_token")}`);
    } else if (error.status === 403 && error.code === "not_covered" && this.capability !== null) {
      params.push(`error=${quoted("insufficient_scope")}`, `scope=${quoted(this.capability.ability)}`);
    } else {
      return null;
    }
    if (this.metadataURL !== null) params.push(`resource_metadata=${quoted(this.metadataURL)}`);
    return params.length === 0 ? "Bearer" : "Bearer " + params.join(", ");
  }
}
