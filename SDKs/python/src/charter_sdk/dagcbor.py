"""DAG-CBOR, the canonical binary form UCAN 1.0 envelopes are written in: a canonical encoder, a strict decoder.

IPLD values are None, bool, int (64-bit signed, as Charter allows), float (finite), str, bytes, list, dict with
str keys, and links as `CID`. Links and byte strings stay distinct both ways (a general-purpose codec that reads
links back as bytes cannot tell a `prf` entry from a nonce).

The decoder accepts exactly the canonical form, as Charter's does, since signatures and CIDs are computed over
the bytes as received: shortest integer, length and tag heads; map keys that are strings, in length-then-bytewise
order, unique (also up to Unicode normalisation); definite lengths; tag 42 only, holding 0x00 and a CIDv1; no
undefined or other simple values; 64-bit floats only, never NaN or infinite; valid UTF-8; nothing after the value.
"""

from __future__ import annotations

import math
import struct
import unicodedata
from typing import Any, Union

from ._crypto import CID
from .errors import UCANError

IPLD = Union[None, bool, int, float, str, bytes, list["IPLD"], dict[str, "IPLD"], CID]

MAX_BYTES = 32 * 1024
MAX_DEPTH = 64
MAX_ITEMS = 8192
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _head(major: int, argument: int) -> bytes:
    high = major << 5
    if argument < 24:
        return bytes([high | argument])
    if argument < 0x100:
        return bytes([high | 24, argument])
    if argument < 0x10000:
        return bytes([high | 25]) + argument.to_bytes(2, "big")
    if argument < 0x1_0000_0000:
        return bytes([high | 26]) + argument.to_bytes(4, "big")
    return bytes([high | 27]) + argument.to_bytes(8, "big")


def key_order(key: str) -> tuple[int, bytes]:
    """DAG-CBOR's map key order: shorter UTF-8 first, then bytewise."""
    encoded = key.encode()
    return len(encoded), encoded


def encode(value: Any) -> bytes:
    """The canonical DAG-CBOR of an IPLD value (tuples count as lists). Raises ValueError on anything else."""
    out = bytearray()
    _write(value, out, 0)
    return bytes(out)


def _write(value: Any, out: bytearray, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ValueError("nested deeper than DAG-CBOR allows")
    if value is None:
        out.append(0xF6)
    elif value is True:
        out.append(0xF5)
    elif value is False:
        out.append(0xF4)
    elif isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise ValueError("integers must fit in 64 signed bits")
        out += _head(0, value) if value >= 0 else _head(1, -1 - value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("floats must be finite")
        out.append(0xFB)
        out += struct.pack(">d", value)
    elif isinstance(value, str):
        encoded = value.encode()
        out += _head(3, len(encoded)) + encoded
    elif isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        out += _head(2, len(data)) + data
    elif isinstance(value, CID):
        binary = b"\x00" + value.bytes
        out += b"\xd8\x2a" + _head(2, len(binary)) + binary
    elif isinstance(value, (list, tuple)):
        out += _head(4, len(value))
        for item in value:
            _write(item, out, depth + 1)
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise ValueError("map keys must be strings")
        out += _head(5, len(value))
        for key in sorted(value, key=key_order):
            encoded = key.encode()
            out += _head(3, len(encoded)) + encoded
            _write(value[key], out, depth + 1)
    else:
        raise ValueError(f"{type(value).__name__} is not an IPLD value")


def decode(data: bytes, max_bytes: int = MAX_BYTES) -> Any:
    """Exactly one canonical DAG-CBOR value; UCANError `malformed` (naming the rule and offset) or `too_large`."""
    if len(data) > max_bytes:
        raise UCANError("too_large", f"dag-cbor: {len(data)} bytes is over the limit of {max_bytes}")
    if not data:
        raise UCANError("malformed", "dag-cbor at byte 0: unexpected end of input")
    reader = _Reader(bytes(data))
    value = reader.value(0)
    if reader.position != len(data):
        raise reader.malformed("trailing bytes after the value", reader.position)
    return value


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    @staticmethod
    def malformed(rule: str, offset: int) -> UCANError:
        return UCANError("malformed", f"dag-cbor at byte {offset}: {rule}")

    def big_endian(self, width: int) -> int:
        if len(self.data) - self.position < width:
            raise self.malformed("unexpected end of input", len(self.data))
        value = int.from_bytes(self.data[self.position:self.position + width], "big")
        self.position += width
        return value

    def argument(self, info: int, major: int, start: int) -> int:
        if info < 24:
            return info
        if info in (24, 25, 26, 27):
            width = 1 << (info - 24)
            value = self.big_endian(width)
            minimum = (24, 0x100, 0x1_0000, 0x1_0000_0000)[info - 24]
            if value < minimum:
                what = "integer" if major in (0, 1) else "tag number" if major == 6 else "length"
                raise self.malformed(f"{what} not in its shortest form", start)
            return value
        if info == 31 and 2 <= major <= 5:
            name = {2: "byte string", 3: "text string", 4: "list", 5: "map"}[major]
            raise self.malformed(f"indefinite-length {name} (only definite lengths are allowed)", start)
        raise self.malformed(f"reserved additional information {info}", start)

    def remaining(self, length: int, what: str, start: int) -> int:
        if length > len(self.data) - self.position:
            raise self.malformed(f"{what} of {length} bytes runs past the end of the input", start)
        return length

    def take(self, length: int) -> bytes:
        chunk = self.data[self.position:self.position + length]
        self.position += length
        return chunk

    def text(self, length: int, start: int, what: str) -> str:
        self.remaining(length, what, start)
        try:
            return self.take(length).decode("utf-8")
        except UnicodeDecodeError:
            raise self.malformed(f"invalid UTF-8 in {what}", start) from None

    def container(self, items: int, minimum: int, what: str, depth: int, start: int) -> int:
        if items > (len(self.data) - self.position) // minimum:
            raise self.malformed(f"{what} of {items} items runs past the end of the input", start)
        if items > MAX_ITEMS:
            raise UCANError("too_large", f"dag-cbor at byte {start}: {what} of {items} items is over the limit of "
                                         f"{MAX_ITEMS}")
        if depth >= MAX_DEPTH:
            raise UCANError("too_large", f"dag-cbor at byte {start}: nested deeper than {MAX_DEPTH} lists and maps")
        return items

    def value(self, depth: int) -> Any:
        start = self.position
        if start >= len(self.data):
            raise self.malformed("unexpected end of input", start)
        initial = self.data[start]
        self.position += 1
        major, info = initial >> 5, initial & 0x1F
        if major == 7:
            return self.simple(info, start)
        argument = self.argument(info, major, start)
        if major == 0:
            if argument > _INT64_MAX:
                raise self.malformed("integer outside Int64", start)
            return argument
        if major == 1:
            if argument > _INT64_MAX:
                raise self.malformed("integer outside Int64", start)
            return -1 - argument
        if major == 2:
            return self.take(self.remaining(argument, "byte string", start))
        if major == 3:
            return self.text(argument, start, "text string")
        if major == 4:
            count = self.container(argument, 1, "list", depth, start)
            return [self.value(depth + 1) for _ in range(count)]
        if major == 5:
            return self.map(self.container(argument, 2, "map", depth, start), depth, start)
        return self.link(argument, start)

    def simple(self, info: int, start: int) -> Any:
        if info == 20:
            return False
        if info == 21:
            return True
        if info == 22:
            return None
        if info == 23:
            raise self.malformed("undefined is not supported", start)
        if info == 24:
            raise self.malformed(f"simple value {self.big_endian(1)} is not supported", start)
        if info == 25:
            raise self.malformed("half-precision float (floats must be 64-bit)", start)
        if info == 26:
            raise self.malformed("single-precision float (floats must be 64-bit)", start)
        if info == 27:
            number: float = struct.unpack(">d", self.take(self.remaining(8, "float", start)))[0]
            if math.isnan(number):
                raise self.malformed("NaN is not supported", start)
            if math.isinf(number):
                raise self.malformed("infinity is not supported", start)
            return number
        if info == 31:
            raise self.malformed("unexpected break code (only definite lengths are allowed)", start)
        if 28 <= info <= 30:
            raise self.malformed(f"reserved additional information {info}", start)
        raise self.malformed(f"simple value {info} is not supported", start)

    def map(self, entries: int, depth: int, start: int) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        normalized: set[str] = set()
        previous: tuple[int, bytes] | None = None
        for _ in range(entries):
            key_start = self.position
            if key_start >= len(self.data):
                raise self.malformed("unexpected end of input", key_start)
            initial = self.data[key_start]
            if initial >> 5 != 3:
                raise self.malformed("map key is not a text string", key_start)
            self.position += 1
            length = self.remaining(self.argument(initial & 0x1F, 3, key_start), "map key", key_start)
            raw = self.data[self.position:self.position + length]
            order = (length, raw)
            if previous is not None:
                if order == previous:
                    raise self.malformed("duplicate map key", key_start)
                if order < previous:
                    raise self.malformed("map keys out of order", key_start)
            previous = order
            key = self.text(length, key_start, "map key")
            field = self.value(depth + 1)
            normal = unicodedata.normalize("NFC", key)
            if normal in normalized:
                raise self.malformed("map keys differ only in Unicode normalization", key_start)
            normalized.add(normal)
            fields[key] = field
        return fields

    def link(self, tag: int, start: int) -> CID:
        if tag != 42:
            raise self.malformed(f"tag {tag} is not supported (only 42)", start)
        content_start = self.position
        if content_start >= len(self.data):
            raise self.malformed("unexpected end of input", content_start)
        initial = self.data[content_start]
        if initial >> 5 != 2:
            raise self.malformed("tag 42 does not wrap a byte string", content_start)
        self.position += 1
        length = self.argument(initial & 0x1F, 2, content_start)
        content = self.take(self.remaining(length, "byte string", content_start))
        if not content or content[0] != 0:
            raise self.malformed("CID lacks its 0x00 multibase prefix", content_start)
        try:
            return CID.from_bytes(content[1:])
        except UCANError:
            raise self.malformed("tag 42 does not hold a CIDv1 with a supported codec and hash", content_start) \
                from None
