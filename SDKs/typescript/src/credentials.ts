// The credentials of a request as Charter's middleware reads them: `Authorization: Bearer <token>` and the
// proofs in `ucans` (comma-separated), and for UCAN 1.0 their base64 decoded.

import { b64Decode } from "./encoding.js";
import { VerificationError } from "./errors.js";

/** Request headers: a Fetch `Headers`, or a plain object as node:http gives (any name case). */
export type HeadersLike = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

/**
 * A request header (any name case), null when absent. From a plain object (node:http's `req.headers`): the first
 * value of `authorization`, as Charter's Swift and Python middleware read it (node:http itself keeps only the first),
 * and every value of any other joined with commas. From a Fetch `Headers`: what `get` gives, which has already
 * joined repeated headers with ", ", `authorization` included; `credentials` refuses such a value.
 */
export function headerValue(headers: HeadersLike, name: string): string | null {
  if (typeof (headers as { get?: unknown }).get === "function") return (headers as { get(name: string): string | null }).get(name);
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name || value === undefined) continue;
    values.push(...(Array.isArray(value) ? value : [value]));
  }
  if (values.length === 0) return null;
  return name === "authorization" ? values[0] : values.join(",");
}

/** The bearer credential and the `ucans` proofs of a request's headers (any header-name case). */
export function credentials(headers: HeadersLike): [string, string[]] {
  const authorization = headerValue(headers, "authorization");
  if (authorization === null) throw new VerificationError("malformed", "no Authorization header");
  if (authorization.length <= 7 || authorization.slice(0, 7).toLowerCase() !== "bearer ") {
    throw new VerificationError("malformed", "the Authorization header is not a Bearer token");
  }
  // No credential holds a comma (base64url with dots, or base64): one here is a second Authorization header that a
  // Fetch `Headers` joined to the first. Refused, rather than pick one of the two.
  if (authorization.includes(",")) {
    throw new VerificationError("malformed", "more than one Authorization header, or a comma in it");
  }
  const token = authorization.slice(7).replace(/^[ \t]+|[ \t]+$/g, "");
  const proofs = (headerValue(headers, "ucans") ?? "").split(",").map((part) => part.replace(/^[ \t]+|[ \t]+$/g, ""))
    .filter((part) => part);
  return [token, proofs];
}

/** The bytes of a UCAN 1.0 envelope given as bytes or base64; `malformed` (naming `fieldName`) otherwise. */
export function envelopeBytes(value: Uint8Array | string, fieldName: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  const decoded = b64Decode(value);
  if (decoded === null || decoded.length === 0) {
    throw new VerificationError("malformed", `${fieldName} is not the base64 of a UCAN 1.0 envelope`, fieldName);
  }
  return decoded;
}
