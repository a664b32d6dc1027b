"""UCAN 1.0: DAG-CBOR envelopes `[signature, {"h": varsig, "ucan/<dlg|inv>@1.0.0": payload}]`, delegations,
invocations and chain validation, with the rules of Charter's Swift library."""

from __future__ import annotations

import builtins

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import dagcbor
from ._crypto import CID, DAG_CBOR, MAX_TIME, SHA256, SigningKey, public_key_of, signature_holds
from ._encoding import b64_decode, b64_encode, frozen, has_prefix, is_int
from .errors import UCANError
from .policy import Policy

VARSIG = bytes.fromhex("3401ed01ed011371")  # varsig v1, EdDSA, Ed25519, SHA2-512, DAG-CBOR
VARSIG_DRAFT = bytes.fromhex("34ed0171")  # the shorter draft form, read too
DLG, INV = "ucan/dlg@1.0.0", "ucan/inv@1.0.0"
_KINDS = {"ucan/dlg@1.0.0": "dlg", "ucan/dlg@1.0.0-rc.1": "dlg", "ucan/inv@1.0.0": "inv",
          "ucan/inv@1.0.0-rc.1": "inv"}
MAX_TOKEN_BYTES = 32 * 1024
MAX_PROOFS = 32
MAX_CHAIN = 8
_SIGNED_OFFSET = 3 + 64


def check_command(path: str, field_name: str = "cmd") -> str:
    """A command: a lowercase slash path such as `/msg/send`, no trailing slash, no empty segment."""
    if (not has_prefix(path, "/") or (path != "/" and path.endswith("/")) or "//" in path
            or len(path.encode()) > 256):
        raise UCANError("invalid_field", "a command is a slash path such as /msg/send", field_name)
    if path != path.lower() or any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F for char in path):
        raise UCANError("invalid_field", "a command is lowercase, without spaces or control characters", field_name)
    return path


def proves(delegated: str, invoked: str) -> bool:
    """Whether a delegated command proves another: the same path or one below it, segment by segment."""
    return delegated == "/" or invoked == delegated or has_prefix(invoked, delegated + "/")


def _seal(kind: str, payload: dict[str, Any], key: SigningKey) -> bytes:
    # The signed map's two keys in DAG-CBOR order: "h" (one byte) before any payload tag.
    signed = b"\xa2" + dagcbor.encode("h") + dagcbor.encode(VARSIG) + dagcbor.encode(kind) + dagcbor.encode(payload)
    envelope = b"\x82\x58\x40" + key.sign(signed) + signed
    if len(envelope) > MAX_TOKEN_BYTES:
        raise UCANError("too_large", f"the token would be over {MAX_TOKEN_BYTES} bytes")
    return envelope


def _open(data: bytes, max_bytes: int = MAX_TOKEN_BYTES) -> tuple[str, str, dict[str, Any], bytes]:
    """(kind, tag, payload, signature) of an envelope; the signature is not checked here."""
    if len(data) > max_bytes:
        raise UCANError("too_large", f"token is over {max_bytes} bytes")
    decoded = dagcbor.decode(data, max_bytes)
    if not (isinstance(decoded, list) and len(decoded) == 2 and isinstance(decoded[0], bytes)
            and isinstance(decoded[1], dict)):
        raise UCANError("malformed", "a UCAN 1.0 envelope is [signature, {h, payload}]")
    signature, signed = decoded
    if len(signature) != 64:
        raise UCANError("malformed", "an Ed25519 signature is 64 bytes", "signature")
    if len(signed) != 2 or not isinstance(signed.get("h"), bytes):
        raise UCANError("malformed", "the signed map holds the varsig header h and one payload", "h")
    if signed["h"] not in (VARSIG, VARSIG_DRAFT):
        raise UCANError("unsupported_algorithm", "only Ed25519 over DAG-CBOR is supported", "h")
    tag = next(key for key in signed if key != "h")
    kind = _KINDS.get(tag)
    if kind is None:
        raise UCANError("malformed", "the payload tag is neither ucan/dlg@1.0.0 nor ucan/inv@1.0.0")
    payload = signed[tag]
    if not isinstance(payload, dict):
        raise UCANError("malformed", "the payload is a map", tag)
    return kind, tag, payload, signature


class _Fields:
    """A payload's fields, taken one by one with their types checked; what is left over is refused."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = dict(fields)

    def take(self, name: str) -> Any:
        if name not in self.fields:
            raise UCANError("missing_field", "is required", name)
        return self.fields.pop(name)

    def did(self, name: str) -> str:
        value = self.take(name)
        if not isinstance(value, str):
            raise UCANError("invalid_field", "must be a DID", name)
        public_key_of(value, name)
        return value

    def optional_did(self, name: str, null_allowed: bool = False) -> str | None:
        if name not in self.fields:
            return None
        value = self.fields.pop(name)
        if value is None and null_allowed:
            return None
        if not isinstance(value, str):
            raise UCANError("invalid_field", "must be a DID", name)
        public_key_of(value, name)
        return value

    def require_present(self, name: str) -> None:
        if name not in self.fields:
            raise UCANError("missing_field", "is required", name)

    def command(self) -> str:
        value = self.take("cmd")
        if not isinstance(value, str):
            raise UCANError("invalid_field", "must be a command", "cmd")
        return check_command(value)

    def byte_string(self, name: str) -> bytes:
        value = self.take(name)
        if not isinstance(value, bytes):
            raise UCANError("invalid_field", "must be bytes", name)
        return value

    def map(self, name: str) -> dict[str, Any]:
        value = self.take(name)
        if not isinstance(value, dict):
            raise UCANError("invalid_field", "must be a map", name)
        return value

    def optional_map(self, name: str) -> dict[str, Any] | None:
        if name not in self.fields:
            return None
        value = self.fields.pop(name)
        if not isinstance(value, dict):
            raise UCANError("invalid_field", "must be a map", name)
        return value

    def time(self, name: str, null_allowed: bool = False) -> int | None:
        if name not in self.fields:
            return None
        value = self.fields.pop(name)
        if value is None and null_allowed:
            return None
        if not is_int(value) or not 0 <= value <= MAX_TIME:
            raise UCANError("invalid_field", "must be an integer between 0 and 2^53-1", name)
        result: int = value
        return result

    def links(self, name: str) -> list[CID]:
        value = self.take(name)
        if not isinstance(value, list):
            raise UCANError("invalid_field", "must be a list of CIDs", name)
        for index, item in enumerate(value):
            if not (isinstance(item, CID) and item.codec == DAG_CBOR and item.hasher == SHA256):
                raise UCANError("invalid_field", "must be the DAG-CBOR sha2-256 CID of a delegation",
                                f"{name}[{index}]")
        return value

    def optional_link(self, name: str) -> CID | None:
        if name not in self.fields:
            return None
        value = self.fields.pop(name)
        if not isinstance(value, CID):
            raise UCANError("invalid_field", "must be a CID", name)
        return value

    def require_no_others(self) -> None:
        if self.fields:
            unknown = min(self.fields)
            raise UCANError("invalid_field", "is not a field of this payload", unknown)


def _check_times(not_before: int | None, expiration: int | None) -> None:
    for name, time in (("nbf", not_before), ("exp", expiration)):
        if time is not None and not 0 <= time <= MAX_TIME:
            raise UCANError("invalid_field", "must be between 0 and 2^53-1", name)
    if not_before is not None and expiration is not None and not_before > expiration:
        raise UCANError("invalid_field", "is after exp", "nbf")


def check_time(not_before: int | None, expiration: int | None, now: int, leeway: int,
               field_name: str | None = None) -> None:
    """Valid from `nbf` through `exp`, with leeway (1.0's rule)."""
    if expiration is not None and now > expiration + leeway:
        raise UCANError("expired", f"expired at {expiration}", field_name or "exp")
    if not_before is not None and now + leeway < not_before:
        raise UCANError("not_yet_valid", f"not valid before {not_before}", field_name or "nbf")


@dataclass(frozen=True)
class Delegation:
    """A UCAN 1.0 delegation: `iss` grants `aud` the command `cmd` on `sub` (None: a powerline) under `pol`.

    Holds the exact envelope bytes it was parsed from or sealed as; `str()` is their padded base64. Immutable,
    policy and `meta` included, since a verifier hands the same parsed delegation to every request citing it.
    """

    issuer: str
    audience: str
    subject: str | None
    command: str
    policy: Policy
    nonce: builtins.bytes
    meta: dict[str, Any] | None
    not_before: int | None
    expiration: int | None
    tag: str
    bytes: builtins.bytes = field(repr=False)

    @property
    def cid(self) -> CID:
        """The CID of the exact envelope bytes (`bafyrei…`): how an invocation cites it and Charter revokes it."""
        return CID.of(self.bytes, DAG_CBOR)

    def __str__(self) -> str:
        return b64_encode(self.bytes)

    def __repr__(self) -> str:
        return f"Delegation({self.cid}, iss={self.issuer}, aud={self.audience}, cmd={self.command})"

    def meta_string(self, name: str) -> str | None:
        value = (self.meta or {}).get(name)
        return value if isinstance(value, str) else None

    @classmethod
    def parse(cls, data: builtins.bytes | str, max_bytes: int = MAX_TOKEN_BYTES) -> Delegation:
        """Parses an envelope (bytes, or base64 text) and checks its signature."""
        raw = _raw(data)
        kind, tag, payload, signature = _open(raw, max_bytes)
        if kind != "dlg":
            raise UCANError("malformed", "an invocation where a delegation was expected")
        fields = _Fields(payload)
        issuer = fields.did("iss")
        audience = fields.did("aud")
        fields.require_present("sub")
        subject = fields.optional_did("sub", null_allowed=True)
        command = fields.command()
        policy = Policy(fields.take("pol"))
        nonce = fields.byte_string("nonce")
        meta = fields.optional_map("meta")
        not_before = fields.time("nbf")
        fields.require_present("exp")
        expiration = fields.time("exp", null_allowed=True)
        fields.require_no_others()
        _check_times(not_before, expiration)
        if not signature_holds(issuer, raw[_SIGNED_OFFSET:], signature):
            raise UCANError("invalid_signature", f"the signature does not verify under {issuer}")
        return cls(issuer, audience, subject, command, policy, nonce, frozen(meta), not_before, expiration, tag, raw)

    @classmethod
    def sign(
        cls, key: SigningKey, *, audience: str, subject: str | None, command: str,
        policy: Sequence[Any] | Policy = (), expiration: int | None, not_before: int | None = None,
        nonce: builtins.bytes | None = None, meta: Mapping[str, Any] | None = None,
    ) -> Delegation:
        """Builds and signs a delegation; the same fields, nonce and key give the same bytes."""
        _check_times(not_before, expiration)
        public_key_of(audience, "aud")
        if subject is not None:
            public_key_of(subject, "sub")
        checked = policy if isinstance(policy, Policy) else Policy(list(policy))
        payload: dict[str, Any] = {
            "iss": key.did, "aud": audience, "sub": subject, "cmd": check_command(command), "pol": checked.ipld,
            "nonce": nonce if nonce is not None else os.urandom(12), "exp": expiration}
        if meta is not None:
            payload["meta"] = dict(meta)
        if not_before is not None:
            payload["nbf"] = not_before
        return cls.parse(_seal(DLG, payload, key))


@dataclass(frozen=True)
class Invocation:
    """A UCAN 1.0 invocation, signed by the invoker: run `cmd` with `args` on `sub`, proven by `prf` (root first)."""

    issuer: str
    subject: str
    audience: str | None
    command: str
    arguments: dict[str, Any]
    proofs: tuple[CID, ...]
    meta: dict[str, Any] | None
    nonce: builtins.bytes
    expiration: int | None
    issued_at: int | None
    cause: CID | None
    tag: str
    bytes: builtins.bytes = field(repr=False)

    @property
    def cid(self) -> CID:
        return CID.of(self.bytes, DAG_CBOR)

    def __str__(self) -> str:
        return b64_encode(self.bytes)

    def __repr__(self) -> str:
        return f"Invocation({self.cid}, iss={self.issuer}, cmd={self.command})"

    @classmethod
    def parse(cls, data: builtins.bytes | str, max_bytes: int = MAX_TOKEN_BYTES) -> Invocation:
        raw = _raw(data)
        kind, tag, payload, signature = _open(raw, max_bytes)
        if kind != "inv":
            raise UCANError("malformed", "a delegation where an invocation was expected")
        fields = _Fields(payload)
        issuer = fields.did("iss")
        subject = fields.did("sub")
        audience = fields.optional_did("aud")
        command = fields.command()
        arguments = fields.map("args")
        proofs = fields.links("prf")
        meta = fields.optional_map("meta")
        nonce = fields.byte_string("nonce")
        fields.require_present("exp")
        expiration = fields.time("exp", null_allowed=True)
        issued_at = fields.time("iat")
        cause = fields.optional_link("cause")
        fields.require_no_others()
        if not signature_holds(issuer, raw[_SIGNED_OFFSET:], signature):
            raise UCANError("invalid_signature", f"the signature does not verify under {issuer}")
        return cls(issuer, subject, audience, command, arguments, tuple(proofs), meta, nonce, expiration, issued_at,
                   cause, tag, raw)

    @classmethod
    def sign(
        cls, key: SigningKey, *, subject: str, command: str, arguments: Mapping[str, Any] | None = None,
        proofs: Sequence[CID] = (), audience: str | None = None, expiration: int | None,
        issued_at: int | None = None, nonce: builtins.bytes | None = None, meta: Mapping[str, Any] | None = None,
    ) -> Invocation:
        _check_times(None, expiration)
        if issued_at is not None and not 0 <= issued_at <= MAX_TIME:
            raise UCANError("invalid_field", "must be between 0 and 2^53-1", "iat")
        public_key_of(subject, "sub")
        if audience is not None:
            public_key_of(audience, "aud")
        payload: dict[str, Any] = {
            "iss": key.did, "sub": subject, "cmd": check_command(command), "args": dict(arguments or {}),
            "prf": list(proofs), "nonce": nonce if nonce is not None else os.urandom(12), "exp": expiration}
        if audience is not None:
            payload["aud"] = audience
        if meta is not None:
            payload["meta"] = dict(meta)
        if issued_at is not None:
            payload["iat"] = issued_at
        try:
            sealed = _seal(INV, payload, key)
        except ValueError as error:
            raise UCANError("invalid_field", str(error), "args") from None
        return cls.parse(sealed)


def _raw(data: bytes | str) -> bytes:
    if isinstance(data, str):
        decoded = b64_decode(data)
        if decoded is None or not decoded:
            raise UCANError("malformed", "not the base64 of a UCAN 1.0 envelope")
        return decoded
    return bytes(data)


@dataclass
class ValidatedInvocation:
    invocation: Invocation
    delegations: list[Delegation]


def validate_invocation(
    invocation: Invocation, supplied: Mapping[CID, Delegation], now: int, *, leeway: int = 0,
    executors: set[str] | None = None, trusted_subjects: set[str] | None = None,
) -> ValidatedInvocation:
    """Charter's `InvocationValidator`: time and executor; every `prf` supplied; principals aligned from the
    subject's root to the invoker; each delegation's time, command and policy on the arguments.

    Each delegation is read from `supplied` only once every check before it has passed (a trusted subject, then
    the chain's principals up to it), so a mapping that parses on access parses nothing for a forged invocation
    past its first bad link.
    """
    check_time(None, invocation.expiration, now, leeway)
    if executors is not None and (invocation.audience or invocation.subject) not in executors:
        raise UCANError("invalid_audience", "the invocation is for another executor",
                        "sub" if invocation.audience is None else "aud")
    if len(invocation.proofs) > MAX_CHAIN:
        raise UCANError("depth_exceeded", f"the chain is longer than {MAX_CHAIN}", "prf")
    for index, cid in enumerate(invocation.proofs):
        if cid not in supplied:
            raise UCANError("unknown_proof", f"{cid} was not supplied", f"prf[{index}]")
    if trusted_subjects is not None and invocation.subject not in trusted_subjects:
        raise UCANError("untrusted_issuer", f"{invocation.subject} is not a subject this executor trusts", "sub")
    chain: list[Delegation] = []
    for index, cid in enumerate(invocation.proofs):
        delegation = supplied[cid]
        _check_principal(invocation, chain, delegation, index)
        chain.append(delegation)
    if not chain and invocation.issuer != invocation.subject:
        raise UCANError("invalid_audience", "no delegation makes the invoker act for the subject", "prf")
    if chain and chain[-1].audience != invocation.issuer:
        raise UCANError("invalid_audience", "the last delegation is not made out to the invoker",
                        f"prf[{len(chain) - 1}].aud")
    for index, delegation in enumerate(chain):
        where = f"prf[{index}]"
        check_time(delegation.not_before, delegation.expiration, now, leeway, where)
        if not proves(delegation.command, invocation.command):
            raise UCANError("invalid_claim", f"{delegation.command} does not prove {invocation.command}",
                            f"{where}.cmd")
        mismatch = delegation.policy.evaluate(invocation.arguments)
        if mismatch is not None:
            raise UCANError("policy_mismatch", mismatch, f"{where}.pol")
    return ValidatedInvocation(invocation, chain)


def _check_principal(invocation: Invocation, before: list[Delegation], delegation: Delegation, index: int) -> None:
    """The root is issued by the invocation's subject, about it; each delegation after it by the audience of the
    one before, about the same subject (or any: a powerline)."""
    if not before:
        if delegation.subject is None:
            raise UCANError("invalid_subject", "a powerline (sub: null) cannot root a chain", "prf[0].sub")
        if delegation.subject != invocation.subject or delegation.issuer != delegation.subject:
            raise UCANError("invalid_subject", "the root is not issued by the invocation's subject", "prf[0]")
        return
    if delegation.issuer != before[-1].audience:
        raise UCANError("invalid_audience", "is not the audience of the delegation before it", f"prf[{index}].iss")
    if delegation.subject is not None and delegation.subject != invocation.subject:
        raise UCANError("invalid_subject", "is not the invocation's subject", f"prf[{index}].sub")


@dataclass(frozen=True)
class SignedInvocation:
    """An invocation signed by the agent with the delegations it cites (root first): what one call carries.

    Send `authorization` as the `Authorization` header and `ucans` as the `ucans` header, as Charter's
    `RequireInvocation` reads them; `headers` has both. Each invocation is accepted once: sign one per call.
    """

    invocation: Invocation
    proofs: tuple[Delegation, ...]

    @property
    def authorization(self) -> str:
        return "Bearer " + b64_encode(self.invocation.bytes)

    @property
    def ucans(self) -> str:
        return ", ".join(b64_encode(proof.bytes) for proof in self.proofs)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": self.authorization, "ucans": self.ucans}

    def __repr__(self) -> str:
        return f"SignedInvocation({self.invocation.cid}, cmd={self.invocation.command})"


def sign_invocation(
    key: SigningKey, command: str, arguments: Mapping[str, Any] | None, *, audience: str,
    chain: Sequence[Delegation], expiration: int,
) -> SignedInvocation:
    """Signs an invocation of `command` with `key`, citing `chain` (root first, the last made out to `key`)."""
    if not chain or chain[0].subject is None:
        raise UCANError("invalid_subject", "an invocation cites a chain rooted at its subject", "prf")
    invocation = Invocation.sign(
        key, subject=chain[0].subject, audience=audience, command=command, arguments=arguments,
        proofs=[delegation.cid for delegation in chain], nonce=os.urandom(16), expiration=expiration)
    return SignedInvocation(invocation, tuple(chain))
