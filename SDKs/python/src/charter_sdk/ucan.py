"""UCAN 0.10 tokens (JWT form): strict parsing, signing, capabilities and chain validation.

The rules are those of Charter's Swift `UCAN` module: only `{"alg":"EdDSA","typ":"JWT"}`, no unknown fields,
`ucv` 0.10.x, canonical unpadded base64url, `did:key` Ed25519 keys of full order, capabilities attenuated by
the UCAN rules, proofs resolved by CID, nested time windows, and limits on size, proofs and depth.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from ._crypto import BLAKE3, CID, MAX_TIME, RAW, SHA256, SigningKey, _blake3, public_key_of, signature_holds
from ._encoding import (
    JSONError, b64url_decode, b64url_encode, canonical_json, frozen, has_prefix, is_int, parse_json)
from .errors import UCANError

HEADER = b'{"alg":"EdDSA","typ":"JWT"}'
_ENCODED_HEADER = b64url_encode(HEADER)
_PAYLOAD_FIELDS = frozenset({"ucv", "iss", "aud", "nbf", "exp", "nnc", "fct", "cap", "prf"})

MAX_TOKEN_BYTES = 32 * 1024
MAX_PROOFS = 32
MAX_DEPTH = 8

CapabilityMap = Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]]
"""`{resource: {ability: [caveat, …]}}`, as a UCAN's `cap` and an envelope's `capabilities` write it."""


@dataclass(frozen=True)
class Capability:
    """An ability on a resource, limited by caveats that are alternatives (`[{}]`: no further restriction).

    Immutable, caveats included: they are kept as read-only copies (dicts and lists that refuse changes).
    """

    resource: str
    ability: str
    caveats: tuple[Mapping[str, Any], ...] = ({},)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ability", self.ability.lower())
        object.__setattr__(self, "caveats", tuple(frozen(caveat) for caveat in self.caveats))

    def __str__(self) -> str:
        return f"{self.ability} on {self.resource}"

    def covers(self, child: Capability) -> bool:
        """Whether this grants at least everything `child` claims."""
        return (_pattern_covers(self.resource, child.resource, None)
                and _pattern_covers(self.ability, child.ability, "/")
                and all(any(_caveat_covers(parent, claimed) for parent in self.caveats) for claimed in child.caveats))


def _pattern_covers(parent: str, child: str, separator: str | None) -> bool:
    if parent == "*" or _same_text(parent, child):
        return True
    if not parent.endswith("*"):
        return False
    prefix = parent[:-1]
    if separator is not None and not prefix.endswith(separator):
        return False
    return has_prefix(_canonical(child), _canonical(prefix))


def _canonical(text: str) -> str:
    """The NFC form: two strings Swift holds equal (canonically equivalent, as `é` and `e` + U+0301) have the
    same one. ASCII is its own."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _same_text(left: str, right: str) -> bool:
    """Swift's `String ==`: canonical equivalence, not code points."""
    return left == right or (not (left.isascii() and right.isascii()) and _canonical(left) == _canonical(right))


_ABSENT = object()


def _member(mapping: Mapping[str, Any], key: str) -> Any:
    """`mapping[key]` as a Swift dictionary finds it, by canonical equivalence (a parsed object never holds two
    equivalent keys), or `_ABSENT`. An ASCII key can match a non-ASCII one: U+212A, the Kelvin sign, is `K`."""
    if key in mapping:
        return mapping[key]
    wanted = _canonical(key)
    for name, value in mapping.items():
        if not (name.isascii() and key.isascii()) and _canonical(name) == wanted:
            return value
    return _ABSENT


def _caveat_covers(parent: Mapping[str, Any], child: Mapping[str, Any]) -> bool:
    """A child caveat is covered when it has every field of the parent with an equal or narrower value."""
    for key, value in parent.items():
        claimed = _member(child, key)
        if claimed is _ABSENT or not _value_covers(value, claimed):
            return False
    return True


def _json_equal(left: Any, right: Any) -> bool:
    """Swift's `JSONValue ==`: structural, with an integer equal to a double of exactly its value (`1 == 1.0`, as
    the JSON data model has them), compared exactly (`2**53 + 1` is not `2.0**53`); `true` is never `1`; strings
    and keys by canonical equivalence, as Swift compares strings."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        # Python compares an int with a float exactly; NaN (which no parser yields) equals itself, as in Swift.
        return bool(left == right) or (left != left and right != right)
    if isinstance(left, str) and isinstance(right, str):
        return _same_text(left, right)
    if _is_array(left) and _is_array(right):
        return len(left) == len(right) and all(_json_equal(a, b) for a, b in zip(left, right))
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        if len(left) != len(right):
            return False
        for key, value in left.items():
            other = _member(right, key)
            if other is _ABSENT or not _json_equal(value, other):
                return False
        return True
    return left is None and right is None


def _is_array(value: Any) -> bool:
    return isinstance(value, (list, tuple))


def _value_covers(parent: Any, child: Any) -> bool:
    if isinstance(parent, Mapping) and isinstance(child, Mapping):
        return _caveat_covers(parent, child)
    if _is_array(parent) and _is_array(child):
        return all(any(_json_equal(item, allowed) for allowed in parent) for item in child)
    return _json_equal(parent, child)


def _is_visible(text: str) -> bool:
    return all(ord(char) > 0x20 and char != "\x7f" for char in text)


def _check_resource(resource: str) -> None:
    if resource == "*":
        return
    scheme, colon, rest = resource.partition(":")
    if not colon or not scheme or not rest:
        raise UCANError("invalid_field", f"resource {resource} is not a URI", "cap")
    if not (scheme[0].isascii() and scheme[0].isalpha()) or not all(
            char.isascii() and (char.isalnum() or char in "+-.") for char in scheme):
        raise UCANError("invalid_field", f"resource {resource} has no valid URI scheme", "cap")
    if not _is_visible(resource):
        raise UCANError("invalid_field", "resource contains whitespace or control characters", "cap")
    if scheme.lower() == "ucan":
        raise UCANError("invalid_field", "the ucan: resource scheme is reserved", "cap")


def _check_ability(ability: str, resource: str) -> None:
    if ability == "*":
        return
    first = ability.find("/")
    if first <= 0 or ability.endswith("/") or "//" in ability or not _is_visible(ability):
        raise UCANError("invalid_field", f"ability {ability} on {resource} is not namespace/verb", "cap")
    if ability[:first] == "ucan":
        raise UCANError("invalid_field", "the ucan/ abilities are reserved", "cap")


def _empty_array_path(value: Any) -> list[str] | None:
    """Steps (innermost first) to the first empty array inside a caveat value, or None."""
    if isinstance(value, list):
        if not value:
            return []
        for index, item in enumerate(value):
            steps = _empty_array_path(item)
            if steps is not None:
                return [*steps, f"[{index}]"]
    elif isinstance(value, dict):
        for name in sorted(value, key=lambda key: key.encode()):
            steps = _empty_array_path(value[name])
            if steps is not None:
                simple = name and all(char.isascii() and (char.isalnum() or char == "_") for char in name)
                step = f".{name}" if simple else "[" + canonical_json(name).decode() + "]"
                return [*steps, step]
    return None


def check_capabilities(capabilities: Iterable[Capability]) -> tuple[Capability, ...]:
    """Checks and sorts capabilities as Charter does; raises UCANError naming the fault."""
    listed = sorted(capabilities, key=lambda cap: (cap.resource.encode(), cap.ability.encode()))
    for capability in listed:
        _check_resource(capability.resource)
        _check_ability(capability.ability, capability.resource)
        if not capability.caveats:
            raise UCANError("invalid_field", f"caveats of {capability} must not be empty", "cap")
        for index, caveat in enumerate(capability.caveats):
            steps = _empty_array_path(dict(caveat))
            if steps is not None:
                path = ("cap[" + canonical_json(capability.resource).decode() + "]["
                        + canonical_json(capability.ability).decode() + f"][{index}]" + "".join(reversed(steps)))
                raise UCANError(
                    "invalid_field",
                    "must not be an empty array: a service could read an empty list in a caveat as no restriction",
                    path)
    # Swift compares strings by canonical equivalence, so `x/é` and `x/e` + U+0301 are one ability there (and one
    # key to a strict parser reading the token back), though their code points differ.
    seen: set[tuple[str, str]] = set()
    for capability in listed:
        pair = (_canonical(capability.resource), _canonical(capability.ability))
        if pair in seen:
            raise UCANError("invalid_field", f"{capability} appears twice", "cap")
        seen.add(pair)
    return tuple(listed)


def parse_capabilities(value: Any, field_name: str = "cap") -> tuple[Capability, ...]:
    """Reads the `cap` map form."""
    if not isinstance(value, dict):
        raise UCANError("invalid_field", "must be an object of resources", field_name)
    listed: list[Capability] = []
    for resource, abilities in value.items():
        if not isinstance(abilities, dict):
            raise UCANError("invalid_field", f"abilities of {resource} must be an object", field_name)
        for ability, caveats in abilities.items():
            if not isinstance(caveats, list) or not caveats:
                raise UCANError(
                    "invalid_field", f"caveats of {ability} on {resource} must be a non-empty array", field_name)
            if not all(isinstance(caveat, dict) for caveat in caveats):
                raise UCANError("invalid_field", f"caveats of {ability} on {resource} must be objects", field_name)
            listed.append(Capability(resource, ability, tuple(caveats)))
    try:
        return check_capabilities(listed)
    except UCANError as error:
        below = error.field[3:] if error.field and error.field.startswith("cap") else ""
        raise UCANError(error.code, error.message, field_name + below) from None


def capability_map(capabilities: Iterable[Capability]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """The `cap` map form of capabilities."""
    result: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for capability in capabilities:
        result.setdefault(capability.resource, {})[capability.ability] = [_plain(c) for c in capability.caveats]
    return result


Capabilities = Union[CapabilityMap, Iterable[Capability]]
"""What the SDK accepts wherever capabilities are asked for: the `cap` map, or Capability objects."""


def to_capabilities(value: Capabilities) -> tuple[Capability, ...]:
    if isinstance(value, Mapping):
        return parse_capabilities(_plain(value))
    return check_capabilities(value)


def _plain(value: Any) -> Any:
    """Mappings and sequences as dicts and lists, so that they encode and compare as JSON."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


@dataclass(frozen=True)
class Token:
    """A UCAN 0.10 token, holding the exact text it was parsed from or built as (its CID is over that text).

    Its repr names it by CID; `str(token)` is the bearer text itself, so print it only on purpose. Immutable,
    facts and caveats included, since a verifier hands the same parsed token to every request that presents it.
    """

    text: str
    issuer: str
    audience: str
    expiration: int | None
    not_before: int | None
    nonce: str | None
    facts: dict[str, Any] | None
    capabilities: tuple[Capability, ...]
    proofs: tuple[CID, ...]
    version: tuple[int, int, int]
    signature: bytes = field(repr=False)
    signed_length: int = field(repr=False)

    def __str__(self) -> str:
        # A bearer credential: formatting one into a log line must not leak it (`.text` is the token).
        return f"token {self.cid}"

    def __repr__(self) -> str:
        return f"Token({self.cid}, iss={self.issuer}, aud={self.audience})"

    @property
    def cid(self) -> CID:
        """The sha2-256 CID of the token's bytes (`bafkrei…`): how a delegation cites it and Charter revokes it."""
        return CID.of(self.text.encode(), RAW)

    def cid_with(self, hasher: int) -> CID | None:
        if hasher == SHA256:
            return self.cid
        return CID(RAW, BLAKE3, _blake3(self.text.encode())) if hasher == BLAKE3 else None

    @property
    def capability_map(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        return capability_map(self.capabilities)

    @property
    def has_valid_signature(self) -> bool:
        return signature_holds(self.issuer, self.text.encode()[: self.signed_length], self.signature)

    def fact(self, name: str) -> str | None:
        value = (self.facts or {}).get(name)
        return value if isinstance(value, str) else None

    @classmethod
    def parse(cls, text: str, max_bytes: int = MAX_TOKEN_BYTES, max_proofs: int = MAX_PROOFS) -> Token:
        """Parses a token and checks its shape strictly; the signature and time are checked by validation."""
        encoded = text.encode("utf-8", "surrogatepass")
        if len(encoded) > max_bytes:
            raise UCANError("too_large", f"token is over {max_bytes} bytes")
        parts = text.split(".")
        if len(parts) != 3:
            raise UCANError("malformed", "a token has exactly three dot-separated parts")
        if parts[0] != _ENCODED_HEADER:
            _check_header(_segment_json(parts[0], "header"))
        payload = _segment_json(parts[1], "payload")
        signature = b64url_decode(parts[2])
        if signature is None:
            raise UCANError("malformed", "is not unpadded base64url", "signature")
        if len(signature) != 64:
            raise UCANError("invalid_field", "must be 64 bytes", "signature")
        return _payload(text, payload, signature, len(parts[0]) + 1 + len(parts[1]), max_proofs)

    @classmethod
    def sign(
        cls, key: SigningKey, *, audience: str, capabilities: Capabilities, expiration: int | None,
        not_before: int | None = None, nonce: str | None = None, facts: Mapping[str, Any] | None = None,
        proofs: Sequence[CID] = (),
    ) -> Token:
        """Builds and signs a token; the same claims and key always give the same bytes."""
        checked = to_capabilities(capabilities)
        public_key_of(audience, "aud")
        for name, time in (("exp", expiration), ("nbf", not_before)):
            if time is not None and not 0 <= time <= MAX_TIME:
                raise UCANError("invalid_field", "must be between 0 and 2^53-1", name)
        if not_before is not None and expiration is not None and not_before > expiration:
            raise UCANError("invalid_field", "is after exp", "nbf")
        if len(proofs) > MAX_PROOFS:
            raise UCANError("too_large", f"more than {MAX_PROOFS} proofs", "prf")
        payload: dict[str, Any] = {
            "ucv": "0.10.0", "iss": key.did, "aud": audience, "exp": expiration, "cap": capability_map(checked)}
        if not_before is not None:
            payload["nbf"] = not_before
        if nonce is not None:
            payload["nnc"] = nonce
        if facts is not None:
            payload["fct"] = _plain(facts)
        if proofs:
            payload["prf"] = [str(cid) for cid in proofs]
        signed = _ENCODED_HEADER + "." + b64url_encode(canonical_json(payload))
        text = signed + "." + b64url_encode(key.sign(signed.encode()))
        if len(text) > MAX_TOKEN_BYTES:
            raise UCANError("too_large", f"the token would be {len(text)} bytes, over the {MAX_TOKEN_BYTES} "
                                         "verifiers accept")
        return cls.parse(text)


def _segment_json(segment: str, name: str) -> dict[str, Any]:
    decoded = b64url_decode(segment)
    if decoded is None:
        raise UCANError("malformed", "is not unpadded base64url", name)
    try:
        value = parse_json(decoded)
    except JSONError as error:
        raise UCANError("malformed", f"is not valid JSON ({error})", name) from None
    if not isinstance(value, dict):
        raise UCANError("malformed", "is not a JSON object", name)
    return value


def _check_header(header: dict[str, Any]) -> None:
    for key in header:
        if key not in ("alg", "typ"):
            raise UCANError("invalid_field", f'unknown field "{key[:32]}"', "header")
    alg, typ = header.get("alg"), header.get("typ")
    if alg is None:
        raise UCANError("missing_field", "is required", "alg")
    if not isinstance(alg, str):
        raise UCANError("invalid_field", "must be a string", "alg")
    if alg != "EdDSA":
        raise UCANError("unsupported_algorithm", "must be EdDSA", "alg")
    if typ is None:
        raise UCANError("missing_field", "is required", "typ")
    if typ != "JWT":
        raise UCANError("invalid_field", "must be JWT" if isinstance(typ, str) else "must be a string", "typ")


def _version(text: str) -> tuple[int, int, int] | None:
    parts = text.split(".")
    if len(parts) != 3:
        return None
    numbers = []
    for part in parts:
        if not part or len(part) > 9 or not part.isascii() or not part.isdigit() or (part != "0" and part[0] == "0"):
            return None
        numbers.append(int(part))
    return numbers[0], numbers[1], numbers[2]


def _string(payload: dict[str, Any], name: str) -> str:
    value = payload.get(name)
    if value is None and name not in payload:
        raise UCANError("missing_field", "is required", name)
    if not isinstance(value, str):
        raise UCANError("invalid_field", "must be a string", name)
    return value


def _time(value: Any, name: str) -> int:
    if not is_int(value) or not 0 <= value <= MAX_TIME:
        raise UCANError("invalid_field", "must be an integer number of seconds", name)
    result: int = value
    return result


def _payload(text: str, payload: dict[str, Any], signature: bytes, signed_length: int, max_proofs: int) -> Token:
    for key in payload:
        if key not in _PAYLOAD_FIELDS:
            raise UCANError("invalid_field", f'unknown field "{key[:32]}"', "payload")
    version = _version(_string(payload, "ucv"))
    if version is None:
        raise UCANError("invalid_field", "is not a semantic version", "ucv")
    if version[:2] != (0, 10):
        raise UCANError("invalid_field", "version {}.{}.{} is not supported (0.10.x)".format(*version), "ucv")
    issuer = _string(payload, "iss")
    public_key_of(issuer, "iss")
    audience = _string(payload, "aud")
    public_key_of(audience, "aud")
    if "exp" not in payload:
        raise UCANError("missing_field", "is required (null for no expiry)", "exp")
    expiration = None if payload["exp"] is None else _time(payload["exp"], "exp")
    not_before = _time(payload["nbf"], "nbf") if "nbf" in payload else None
    nonce = payload.get("nnc")
    if "nnc" in payload and not isinstance(nonce, str):
        raise UCANError("invalid_field", "must be a string", "nnc")
    facts = payload.get("fct")
    if "fct" in payload and not isinstance(facts, dict):
        raise UCANError("invalid_field", "must be an object", "fct")
    if "cap" not in payload:
        raise UCANError("missing_field", "is required", "cap")
    capabilities = parse_capabilities(payload["cap"])
    proofs: list[CID] = []
    if "prf" in payload:
        listed = payload["prf"]
        if not isinstance(listed, list):
            raise UCANError("invalid_field", "must be an array of CID strings", "prf")
        if len(listed) > max_proofs:
            raise UCANError("too_large", f"more than {max_proofs} proofs", "prf")
        for index, entry in enumerate(listed):
            if not isinstance(entry, str):
                raise UCANError("invalid_field", "must be a CID string", f"prf[{index}]")
            proofs.append(CID.parse(entry, f"prf[{index}]"))
    return Token(text, issuer, audience, expiration, not_before, nonce if isinstance(nonce, str) else None,
                 frozen(facts) if isinstance(facts, dict) else None, capabilities, tuple(proofs), version, signature,
                 signed_length)


@dataclass
class ValidatedChain:
    """A token whose whole chain checked out: the proofs used by CID, every issuer on it, and the roots'."""

    token: Token
    proofs: dict[CID, Token]
    issuers: set[str]
    root_issuers: set[str]


class ProofStore:
    """Parsed proofs by sha2-256 CID; `verified` holds CIDs whose signature a cache already checked."""

    def __init__(self, tokens: Iterable[Token] = ()) -> None:
        self.by_sha256: dict[CID, Token] = {}
        self.verified: set[CID] = set()
        for token in tokens:
            self.add(token)

    def add(self, token: Token, signature_verified: bool = False) -> None:
        cid = token.cid
        self.by_sha256[cid] = token
        if signature_verified:
            self.verified.add(cid)

    def token_for(self, cid: CID) -> Token | None:
        if cid.hasher == SHA256:
            return self.by_sha256.get(cid)
        return next((token for token in self.by_sha256.values() if token.cid_with(cid.hasher) == cid), None)


def validate(
    token: Token, proofs: ProofStore, now: int, *, leeway: int = 0, trusted_issuers: set[str] | None = None,
    audiences: set[str] | None = None,
) -> ValidatedChain:
    """Validates `token` and everything it is delegated from, as Charter's `Validator` does.

    Raises UCANError with the first reason the chain fails; a proof's failure names its position (`prf[0].exp`).
    """
    if audiences is not None and token.audience not in audiences:
        raise UCANError("audience_not_accepted", f"{token.audience} is not an accepted audience", "aud")
    walk = _ChainWalk(proofs, now, max(0, min(leeway, 1 << 40)), trusted_issuers)
    walk.check(token, 1, [])
    return ValidatedChain(token, walk.used, walk.issuers, walk.roots)


class _ChainWalk:
    def __init__(self, store: ProofStore, now: int, leeway: int, trusted: set[str] | None) -> None:
        self.store, self.now, self.leeway, self.trusted = store, now, leeway, trusted
        self.verified: dict[CID, int] = {}
        self.used: dict[CID, Token] = {}
        self.entered = 0
        self.issuers: set[str] = set()
        self.roots: set[str] = set()

    def check(self, token: Token, depth: int, path: list[CID], signature_verified: bool = False) -> int:
        if depth > MAX_DEPTH:
            raise UCANError("depth_exceeded", f"the chain is deeper than {MAX_DEPTH} tokens")
        if not signature_verified and not token.has_valid_signature:
            raise UCANError("invalid_signature", f"does not verify under {token.issuer}", "signature")
        if token.expiration is not None and self.now - self.leeway >= token.expiration:
            raise UCANError("expired", f"expired at {token.expiration}, now is {self.now}", "exp")
        if token.not_before is not None and self.now + self.leeway < token.not_before:
            raise UCANError("not_yet_valid", f"not valid before {token.not_before}, now is {self.now}", "nbf")
        self.issuers.add(token.issuer)
        if not token.proofs:
            if self.trusted is not None and token.issuer not in self.trusted:
                raise UCANError("untrusted_issuer", f"{token.issuer} is not a trusted issuer", "iss")
            self.roots.add(token.issuer)
            return 1
        height = 0
        delegated: list[tuple[Capability, ...]] = []
        for index, cid in enumerate(token.proofs):
            if cid in path:
                raise UCANError("proof_cycle", f"{cid} is already on the chain", f"prf[{index}]")
            proof = self.store.token_for(cid)
            if proof is None:
                raise UCANError("unknown_proof", f"{cid} was not supplied", f"prf[{index}]")
            self._check_link(token, proof, index)
            delegated.append(proof.capabilities)
            known = self.verified.get(cid)
            if known is not None:
                if depth + known > MAX_DEPTH:
                    raise UCANError("depth_exceeded", f"the chain is deeper than {MAX_DEPTH} tokens")
                height = max(height, known)
                continue
            self.entered += 1
            if self.entered > MAX_PROOFS:
                raise UCANError("too_large", f"the chain uses more than {MAX_PROOFS} proofs", "prf")
            path.append(cid)
            try:
                below = self.check(proof, depth + 1, path, cid in self.store.verified)
            except UCANError as error:
                raise error.in_proof(index) from None
            path.pop()
            self.verified[cid] = below
            self.used[cid] = proof
            height = max(height, below)
        for wanted in token.capabilities:
            if not any(any(have.covers(wanted) for have in caps) for caps in delegated):
                raise UCANError("capability_not_delegated", f"{wanted} is not delegated by any proof", "cap")
        return height + 1

    @staticmethod
    def _check_link(child: Token, proof: Token, index: int) -> None:
        if proof.audience != child.issuer:
            raise UCANError("audience_mismatch", f"is {proof.audience}, not the issuer {child.issuer}",
                            f"prf[{index}].aud")
        if proof.expiration is not None and (
                child.expiration if child.expiration is not None else 2**63) > proof.expiration:
            raise UCANError("time_window_not_nested",
                            f"outlasts proof prf[{index}], which expires at {proof.expiration}", "exp")
        if proof.not_before is not None and (
                child.not_before if child.not_before is not None else -(2**63)) < proof.not_before:
            raise UCANError("time_window_not_nested", f"starts before proof prf[{index}], valid from "
                                                      f"{proof.not_before}", "nbf")
        if child.version < proof.version:
            raise UCANError("version_downgrade", "is lower than proof prf[{}]'s {}.{}.{}".format(
                index, *proof.version), "ucv")
