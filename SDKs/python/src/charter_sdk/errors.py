"""The SDK's errors: each carries a stable `code`, a message safe to log (never a key or a token) and a `field`."""

from __future__ import annotations


class CharterError(Exception):
    """A failed exchange with Charter.

    `code` is the server's (`api_key_revoked`, `capability_not_in_envelope`, `validation_failed`, …) with its
    HTTP `status` and the request `field` it named, or the client's own: `server_unreachable`,
    `unexpected_response`, `would_widen`, `identity_unreadable`, `invalid_request`.
    """

    def __init__(
        self, code: str, message: str, *, status: int | None = None, field: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.field = field
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """Worth trying again: no answer, a server failure or a rate limit; never a refusal."""
        if self.status is None:
            return self.code == "server_unreachable"
        return self.status >= 500 or self.status == 429

    def __repr__(self) -> str:
        return f"CharterError(code={self.code!r}, status={self.status!r}, field={self.field!r})"


class VerificationError(Exception):
    """Why a token or an invocation was refused, with the same codes as Charter's Swift verifier.

    `malformed`, `bad_signature`, `untrusted_issuer`, `wrong_audience`, `expired`, `not_yet_valid`, `revoked`,
    `invalid_chain`, `not_covered`, `policy_violation`, `replayed`, `overloaded`, `feed_stale`, `not_synced`.
    `field` names the token field at fault (such as `exp` or `prf[0].pol`) when there is one.
    """

    CODES = frozenset({
        "malformed", "bad_signature", "untrusted_issuer", "wrong_audience", "expired", "not_yet_valid", "revoked",
        "invalid_chain", "not_covered", "policy_violation", "replayed", "overloaded", "feed_stale", "not_synced",
    })

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field

    @property
    def status(self) -> int:
        """The HTTP status a service answers with: 503 while revocation data is missing or stale (or the replay
        cache is full), 403 when the token is valid but not enough, else 401."""
        if self.code in ("not_covered", "policy_violation"):
            return 403
        if self.code in ("feed_stale", "not_synced", "overloaded"):
            return 503
        return 401

    def to_json(self) -> dict[str, object]:
        """`{"error": {"code", "message", "field"?}}`, the shape Charter's middleware answers with."""
        error: dict[str, object] = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        return {"error": error}

    def __repr__(self) -> str:
        return f"VerificationError(code={self.code!r}, field={self.field!r})"


class UCANError(Exception):
    """A token-level failure with the UCAN library's finer code (`invalid_signature`, `unknown_proof`, …)."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.code = code
        self.message = message
        self.field = field

    @property
    def description(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message

    def in_proof(self, index: int) -> UCANError:
        return UCANError(self.code, self.message, f"prf[{index}].{self.field}" if self.field else f"prf[{index}]")

    def prefixed(self, prefix: str) -> UCANError:
        return UCANError(self.code, self.message, f"{prefix}.{self.field}" if self.field else prefix)


_COARSE = {
    "invalid_signature": "bad_signature",
    "expired": "expired",
    "not_yet_valid": "not_yet_valid",
    "untrusted_issuer": "untrusted_issuer",
    "audience_not_accepted": "wrong_audience",
    "revoked": "revoked",
    "policy_mismatch": "policy_violation",
    "replayed": "replayed",
    "malformed": "malformed",
    "missing_field": "malformed",
    "invalid_field": "malformed",
    "unsupported_algorithm": "malformed",
}


def verification_error(error: UCANError, message: str | None = None, field: str | None = None) -> VerificationError:
    """The verifier's coarser code for a chain failure (anything unnamed is `invalid_chain`), keeping the field."""
    return VerificationError(
        _COARSE.get(error.code, "invalid_chain"), message if message is not None else error.description,
        field if field is not None else error.field)
