"""Ed25519 through PyNaCl (libsodium), `did:key` identifiers and CIDs."""

from __future__ import annotations

import builtins

import blake3  # type: ignore[import-not-found,unused-ignore]

import hashlib
import threading
from dataclasses import dataclass

import nacl.bindings
import nacl.exceptions
import nacl.signing

from ._encoding import b32_decode, b32_encode, b58_decode, b58_encode
from .errors import UCANError

DID_PREFIX = "did:key:z"
_ED25519 = b"\xed\x01"
MAX_TIME = 2**53 - 1


class _KnownKeys:
    """DIDs already parsed and found to be full-order points, so each is checked once (bounded)."""

    capacity = 4096

    def __init__(self) -> None:
        self._keys: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, did: str) -> bytes | None:
        return self._keys.get(did)

    def put(self, did: str, key: bytes) -> None:
        with self._lock:
            if len(self._keys) >= self.capacity:
                self._keys.clear()
            self._keys[did] = key


_known = _KnownKeys()


def did_of(public_key: bytes) -> str:
    """The `did:key` of a 32-byte Ed25519 public key."""
    return DID_PREFIX + b58_encode(_ED25519 + public_key)


def public_key_of(did: str, field: str = "did") -> bytes:
    """The Ed25519 key a `did:key` names.

    Raises UCANError (`invalid_field`) unless it is an Ed25519 did:key whose key is a valid, full-order point:
    the small-order points (for which lenient verifiers accept forged signatures) and points with a torsion
    part are refused, as Charter refuses them.
    """
    known = _known.get(did)
    if known is not None:
        return known
    raw = b58_decode(did[len(DID_PREFIX):]) if did.startswith(DID_PREFIX) else None
    if raw is None or len(raw) != 34 or raw[:2] != _ED25519:
        raise UCANError("invalid_field", "not an Ed25519 did:key", field)
    key = raw[2:]
    if not nacl.bindings.crypto_core_ed25519_is_valid_point(key):
        raise UCANError("invalid_field", "the did:key's Ed25519 key is not a valid full-order point", field)
    _known.put(did, key)
    return key


def is_did(text: str) -> bool:
    try:
        public_key_of(text)
        return True
    except UCANError:
        return False


def signature_holds(did: str, message: bytes, signature: bytes) -> bool:
    """Whether `signature` is `did`'s Ed25519 signature over `message`."""
    if len(signature) != 64:
        return False
    try:
        nacl.signing.VerifyKey(public_key_of(did)).verify(message, signature)
        return True
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, UCANError, ValueError):
        return False


class SigningKey:
    """An Ed25519 private key. Its repr names only the DID."""

    __slots__ = ("_key", "did")

    def __init__(self, key: nacl.signing.SigningKey) -> None:
        self._key = key
        self.did = did_of(bytes(key.verify_key))

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(nacl.signing.SigningKey.generate())

    @classmethod
    def from_secret(cls, secret: bytes) -> SigningKey:
        """From libsodium's 64-byte secret key (seed then public key) or a 32-byte seed.

        Raises ValueError when it is neither, or the public half does not match the seed.
        """
        if len(secret) == 64:
            key = nacl.signing.SigningKey(secret[:32])
            if bytes(key.verify_key) != secret[32:]:
                raise ValueError("the secret key's public half does not match its seed")
            return cls(key)
        if len(secret) == 32:
            return cls(nacl.signing.SigningKey(secret))
        raise ValueError("an Ed25519 secret key is 64 bytes (or a 32-byte seed)")

    @property
    def secret_key(self) -> bytes:
        """libsodium's 64-byte secret key, as `charter ucan keygen` writes it (base64) into `secret_key`."""
        return bytes(self._key) + bytes(self._key.verify_key)

    def sign(self, message: bytes) -> bytes:
        return bytes(self._key.sign(message).signature)

    def __repr__(self) -> str:
        return f"SigningKey({self.did})"


# CIDs: CIDv1, a 32-byte sha2-256 or blake3 multihash, raw (0.10 tokens) or DAG-CBOR (1.0 envelopes).
RAW, DAG_CBOR = 0x55, 0x71
SHA256, BLAKE3 = 0x12, 0x1E


@dataclass(frozen=True)
class CID:
    """A content identifier; `str()` is its base32 form (`bafkrei…` for 0.10, `bafyrei…` for 1.0)."""

    codec: int
    hasher: int
    digest: builtins.bytes

    @property
    def bytes(self) -> builtins.bytes:
        """The binary CID (varints are single bytes for every codec and hash supported)."""
        return bytes([0x01, self.codec, self.hasher, 0x20]) + self.digest

    def __str__(self) -> str:
        return "b" + b32_encode(self.bytes)

    def __repr__(self) -> str:
        return f"CID({self})"

    @classmethod
    def of(cls, data: builtins.bytes, codec: int) -> CID:
        """The sha2-256 CID of exactly these bytes."""
        return cls(codec, SHA256, hashlib.sha256(data).digest())

    @classmethod
    def from_bytes(cls, raw: builtins.bytes, field: str = "cid") -> CID:
        if len(raw) != 36 or raw[0] != 0x01 or raw[1] not in (RAW, DAG_CBOR) or raw[2] not in (SHA256, BLAKE3) \
                or raw[3] != 0x20:
            raise UCANError("invalid_field", "not a CIDv1 sha2-256 or blake3-256 CID", field)
        return cls(raw[1], raw[2], raw[4:])

    @classmethod
    def parse(cls, text: str, field: str = "cid") -> CID:
        """A CID string: base32 (`b…`), or for DAG-CBOR base58btc (`z…`) too."""
        invalid = UCANError("invalid_field", "not a CIDv1 sha2-256 or blake3-256 CID", field)
        if len(text) >= 128 or not text:
            raise invalid
        raw = b32_decode(text[1:]) if text[0] == "b" else b58_decode(text[1:]) if text[0] == "z" else None
        if raw is None:
            raise invalid
        cid = cls.from_bytes(raw, field)
        if text[0] == "z" and cid.codec != DAG_CBOR:
            raise invalid
        return cid

    def rehash(self, data: builtins.bytes) -> bool:
        """Whether this CID names exactly `data` (with its own hash function)."""
        if self.hasher == SHA256:
            return hashlib.sha256(data).digest() == self.digest
        return _blake3(data) == self.digest


def _blake3(data: bytes) -> bytes:
    digest: builtins.bytes = blake3.blake3(data).digest()
    return digest
