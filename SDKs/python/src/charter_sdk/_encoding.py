"""Strict text encodings shared by both UCAN versions: base64url, base32, base58btc, canonical JSON.

Every decoder here refuses what another implementation might read differently (padding, stray characters,
non-zero trailing bits, duplicate JSON keys, lone surrogates), as Charter's Swift library does: signatures and
CIDs are computed over the exact bytes received, so two spellings of one value must never both be accepted.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from collections.abc import Mapping
from typing import Any, NoReturn

_B64URL = re.compile(r"[A-Za-z0-9_-]*\Z")
_B64STD = re.compile(r"[A-Za-z0-9+/]*={0,2}\Z")
_B32 = re.compile(r"[a-z2-7]*\Z")
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {char: index for index, char in enumerate(_B58)}


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes | None:
    """Unpadded base64url, or None for padding, another alphabet or non-canonical trailing bits."""
    if len(text) % 4 == 1 or not _B64URL.match(text):
        return None
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return data if b64url_encode(data) == text else None


def b64_encode(data: bytes) -> str:
    """Padded standard base64, as Charter writes UCAN 1.0 tokens."""
    return base64.b64encode(data).decode("ascii")


def b64_decode(text: str) -> bytes | None:
    """Standard base64, padded or not; None for anything else."""
    stripped = text.rstrip("=")
    if not _B64STD.match(text) or len(text) - len(stripped) > 2 or len(stripped) % 4 == 1:
        return None
    try:
        return base64.b64decode(stripped + "=" * (-len(stripped) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def b32_encode(data: bytes) -> str:
    """Lower-case unpadded RFC 4648 base32 (the `b` multibase)."""
    return base64.b32encode(data).decode("ascii").lower().rstrip("=")


_B32_AS_INT = str.maketrans("abcdefghijklmnopqrstuvwxyz234567", "0123456789abcdefghijklmnopqrstuv")


def b32_decode(text: str) -> bytes | None:
    """Lower-case unpadded base32; None for another alphabet, a length no bytes encode to, or non-zero trailing
    bits (so that each byte string has one spelling). Read as one integer: base64's decoder is pure Python, and
    a token citing 32 proofs would spend most of its parse in it."""
    if not _B32.match(text) or len(text) % 8 in (1, 3, 6):
        return None
    if not text:
        return b""
    size, spare = divmod(len(text) * 5, 8)
    number = int(text.translate(_B32_AS_INT), 32)
    if number & ((1 << spare) - 1):
        return None
    return (number >> spare).to_bytes(size, "big")


def b58_encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, digit = divmod(number, 58)
        out = _B58[digit] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b58_decode(text: str, max_length: int = 128) -> bytes | None:
    if len(text) > max_length:
        return None
    number = 0
    for char in text:
        digit = _B58_INDEX.get(char)
        if digit is None:
            return None
        number = number * 58 + digit
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def canonical_json(value: Any) -> bytes:
    """Compact JSON with keys sorted by code point and only `"`, `\\` and control characters escaped.

    Byte for byte what Charter signs (its serializer is documented as identical to this call).
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


class JSONError(ValueError):
    """A document Charter's strict parser would refuse."""


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    seen: set[str] = set()
    for key, value in pairs:
        normal = unicodedata.normalize("NFC", key)
        if normal in seen:
            raise JSONError("duplicate key")
        seen.add(normal)
        result[key] = value
    return result


def _constant(name: str) -> Any:
    raise JSONError(f"{name} is not JSON")


def _integer(text: str) -> int | float:
    number = int(text)
    return number if _INT64_MIN <= number <= _INT64_MAX else _float(text)


def _float(text: str) -> float:
    # Charter's parser refuses a number no double holds, rather than read it as infinity.
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise JSONError("number out of range")
    return number


def _check(value: Any, depth: int, max_depth: int) -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise JSONError("lone surrogate") from None
    elif isinstance(value, (list, dict)):
        # The root container is at depth 0: at most `max_depth` nested containers, as Charter's parser allows.
        if depth >= max_depth:
            raise JSONError("nesting too deep")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str):
                _check(key, depth, max_depth)
            _check(item, depth + 1, max_depth)
    elif isinstance(value, float) and value != value:
        raise JSONError("NaN is not JSON")


def parse_json(data: bytes, max_depth: int = 32) -> Any:
    """One strict JSON document: UTF-8, no duplicate keys, no NaN, no lone surrogates, bounded nesting.

    Integers beyond 64 bits become floats, as they do in Charter's parser.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise JSONError("invalid UTF-8") from None
    if text.count("[") + text.count("{") > 100_000:
        raise JSONError("too many containers")
    try:
        value = json.loads(
            text, object_pairs_hook=_pairs, parse_constant=_constant, parse_int=_integer, parse_float=_float)
    except RecursionError:
        raise JSONError("nesting too deep") from None
    except JSONError:
        raise
    except ValueError as error:
        raise JSONError(str(error).split(":")[0]) from None
    _check(value, 0, max_depth)
    return value


def has_prefix(text: str, prefix: str) -> bool:
    """`text.startswith(prefix)` at a character boundary, as Swift's `hasPrefix` compares whole characters: a
    combining mark, zero-width joiner or variation selector right after the prefix joins the character before
    it, so `"a\u0301dmin"` does not start with `"a"`."""
    if not text.startswith(prefix):
        return False
    if len(text) == len(prefix) or not prefix:
        return True
    following = text[len(prefix)]
    return not (unicodedata.category(following) in ("Mn", "Mc", "Me") or following == "\u200d"
                or "\ufe00" <= following <= "\ufe0f")


def is_int(value: object) -> bool:
    """A JSON or IPLD integer (not a bool, which Python counts as one)."""
    return isinstance(value, int) and not isinstance(value, bool)


class FrozenDict(dict[str, Any]):
    """A JSON object or IPLD map of a parsed token that refuses every change with TypeError.

    A verifier caches parsed tokens and delegations and hands the same objects to every request that presents
    them: were their maps mutable, a handler changing one (a caveat, a fact, `meta`) would change the verdict on
    a later request. It is still a dict (it compares, reads, and encodes as JSON and DAG-CBOR as one);
    `dict(value)` is a mutable copy.
    """

    __slots__ = ()

    def _immutable(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("a parsed token's values are immutable; copy them (dict(value)) to change them")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _immutable

    def __reduce__(self) -> tuple[Any, ...]:
        return FrozenDict, (dict(self),)


class FrozenList(list[Any]):
    """A JSON array or IPLD list of a parsed token that refuses every change with TypeError, as FrozenDict
    does; `list(value)` is a mutable copy."""

    __slots__ = ()

    def _immutable(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("a parsed token's values are immutable; copy them (list(value)) to change them")

    __setitem__ = __delitem__ = __iadd__ = __imul__ = append = extend = insert = pop = remove = clear = sort = \
        reverse = _immutable

    def __reduce__(self) -> tuple[Any, ...]:
        return FrozenList, (list(self),)


def frozen(value: Any) -> Any:
    """`value` with every map and list in it, at any depth, made a FrozenDict or FrozenList (a copy)."""
    if isinstance(value, (FrozenDict, FrozenList)):
        return value
    if isinstance(value, Mapping):
        return FrozenDict({key: frozen(item) for key, item in value.items()})
    if isinstance(value, (list, tuple)):
        return FrozenList([frozen(item) for item in value])
    return value
