// The SDK's errors: each carries a stable `code`, a message safe to log (never a key or a token) and a `field`.

/**
 * A failed exchange with Charter: the server's code (`api_key_revoked`, `capability_not_in_envelope`,
 * `validation_failed`, …) with its HTTP `status` and the request `field` it named, or the client's own:
 * `server_unreachable`, `unexpected_response`, `would_widen`, `identity_unreadable`, `invalid_request`,
 * `api_key_missing`, `api_key_malformed`.
 */
export class CharterError extends Error {
  readonly code: string;
  readonly status: number | undefined;
  readonly field: string | undefined;
  /** Seconds the server asked to wait (`Retry-After`), when it did. */
  readonly retryAfter: number | undefined;

  constructor(code: string, message: string, options: { status?: number; field?: string; retryAfter?: number } = {}) {
    super(`${code}: ${message}`);
    this.name = "CharterError";
    this.code = code;
    this.status = options.status;
    this.field = options.field;
    this.retryAfter = options.retryAfter;
  }

  /** Worth trying again: no answer, a server failure or a rate limit; never a refusal. */
  get transient(): boolean {
    if (this.status === undefined) return this.code === "server_unreachable";
    return this.status >= 500 || this.status === 429;
  }
}

export type VerificationCode =
  | "malformed" | "bad_signature" | "untrusted_issuer" | "wrong_audience" | "expired" | "not_yet_valid" | "revoked"
  | "invalid_chain" | "not_covered" | "policy_violation" | "replayed" | "overloaded" | "feed_stale" | "not_synced";

/**
 * Why a token or an invocation was refused, with the codes of Charter's Swift verifier. `field` names the token
 * field at fault (such as `exp` or `prf[0].pol`) when there is one.
 */
export class VerificationError extends Error {
  readonly code: VerificationCode;
  readonly field: string | undefined;
  readonly detail: string;

  constructor(code: VerificationCode, message: string, field?: string) {
    super(`${code}: ${message}`);
    this.name = "VerificationError";
    this.code = code;
    this.detail = message;
    this.field = field;
  }

  /** 503 while revocation data is missing or stale (or the replay cache is full), 403 when the token is valid but
   * not enough, else 401. */
  get status(): number {
    if (this.code === "not_covered" || this.code === "policy_violation") return 403;
    if (this.code === "feed_stale" || this.code === "not_synced" || this.code === "overloaded") return 503;
    return 401;
  }

  /** `{"error": {"code", "message", "field"?}}`, the shape Charter's middleware answers with. */
  toJSON(): { error: { code: string; message: string; field?: string } } {
    const error: { code: string; message: string; field?: string } = { code: this.code, message: this.detail };
    if (this.field !== undefined) error.field = this.field;
    return { error };
  }
}

/** A token-level failure with the UCAN library's finer code (`invalid_signature`, `unknown_proof`, …). */
export class UCANError extends Error {
  readonly code: string;
  readonly field: string | undefined;
  readonly detail: string;

  constructor(code: string, message: string, field?: string) {
    super(field ? `${field}: ${message}` : message);
    this.name = "UCANError";
    this.code = code;
    this.detail = message;
    this.field = field;
  }

  get description(): string {
    return this.field ? `${this.field}: ${this.detail}` : this.detail;
  }

  inProof(index: number): UCANError {
    return new UCANError(this.code, this.detail, this.field ? `prf[${index}].${this.field}` : `prf[${index}]`);
  }
}

const COARSE: Record<string, VerificationCode> = {
  invalid_signature: "bad_signature",
  expired: "expired",
  not_yet_valid: "not_yet_valid",
  untrusted_issuer: "untrusted_issuer",
  audience_not_accepted: "wrong_audience",
  revoked: "revoked",
  policy_mismatch: "policy_violation",
  replayed: "replayed",
  malformed: "malformed",
  missing_field: "malformed",
  invalid_field: "malformed",
  unsupported_algorithm: "malformed",
  too_many_keys: "overloaded",
};

/** The verifier's coarser code for a chain failure (anything unnamed is `invalid_chain`), keeping the field. */
export function verificationError(error: UCANError, message?: string, field?: string): VerificationError {
  return new VerificationError(COARSE[error.code] ?? "invalid_chain", message ?? error.description, field ?? error.field);
}

/** A token that does not parse is `malformed`, unless parsing it would have checked too many new keys. */
export function parseError(error: UCANError, message?: string, field?: string): VerificationError {
  if (error.code === "too_many_keys") return verificationError(error);
  return new VerificationError("malformed", message ?? error.description, field ?? error.field);
}
