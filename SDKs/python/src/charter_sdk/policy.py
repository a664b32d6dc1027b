"""The UCAN 1.0 policy language over an invocation's `args`, evaluated exactly as Charter's Swift library does.

Statements: `==`, `!=`, `<`, `<=`, `>`, `>=`, `like` (a glob: `*` any run, `\\*` a literal star), `and`, `or`,
`not`, `all`, `any`, with jq-like selectors (`.`, `.a.b`, `.["a b"]`, `[0]`, `[-1]`, `[]`, slices, `?`).
Where the spec leaves room Charter fails closed, and so does this module:

- a selector that resolves to nothing makes its statement false, and `not` of it false too (three-valued logic);
  a missing map key selects null, and `.x?` ends a path at null instead of failing it;
- a type mismatch (`<` on a string, `like` on a number) is simply false;
- `any` over an empty collection is false, `all` over one is true, `or []` is true;
- numbers compare by value (`1 == 1.0`), exactly; strings and keys by their UTF-8 bytes;
- dotted names are identifiers (`.a_b`); anything else is written `.["a-b"]`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, NoReturn, Union

from ._crypto import CID
from ._encoding import frozen
from .dagcbor import key_order
from .errors import UCANError

MAX_DEPTH = 32
MAX_STATEMENTS = 256
MAX_SELECTOR_BYTES = 256
MAX_VALUE_DEPTH = 32


class Truth(Enum):
    HOLDS = "holds"
    FAILS = "fails"
    UNRESOLVED = "unresolved"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _values(value: Any) -> list[Any] | None:
    """A list's elements or a map's values in DAG-CBOR key order; None for anything else."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value[key] for key in sorted(value, key=key_order)]
    return None


def policy_equals(left: Any, right: Any) -> bool:
    """Deep equality: numbers by value whatever their kind, everything else by kind and content."""
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if _is_number(left) and _is_number(right):
        return bool(left == right)  # Python compares int and float exactly
    if isinstance(left, str) and isinstance(right, str):
        return left == right
    if isinstance(left, bytes) and isinstance(right, bytes):
        return left == right
    if isinstance(left, CID) and isinstance(right, CID):
        return left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(policy_equals(a, b) for a, b in zip(left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return len(left) == len(right) and all(key in right and policy_equals(value, right[key])
                                               for key, value in left.items())
    return False


def _numeric_order(left: Any, right: Any) -> int | None:
    if not (_is_number(left) and _is_number(right)):
        return None
    if isinstance(left, float) and math.isnan(left) or isinstance(right, float) and math.isnan(right):
        return None
    return 0 if left == right else -1 if left < right else 1


def policy_text(value: Any) -> str:
    """A one-line, JSON-like rendering for messages, as Charter writes it: `["==", ".a", 1]`."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bytes):
        import base64
        return '{"/": {"bytes": "' + base64.b64encode(value).decode().rstrip("=") + '"}}'
    if isinstance(value, CID):
        return '{"/": "' + str(value) + '"}'
    if isinstance(value, list):
        return "[" + ", ".join(policy_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(json.dumps(key, ensure_ascii=False) + ": " + policy_text(value[key])
                               for key in sorted(value, key=key_order)) + "}"
    return repr(value)


# Selectors

@dataclass(frozen=True)
class _Field:
    name: str


@dataclass(frozen=True)
class _Index:
    index: int


@dataclass(frozen=True)
class _Slice:
    start: int | None
    stop: int | None


@dataclass(frozen=True)
class _Values:
    pass


_Segment = Union[_Field, _Index, _Slice, _Values]
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class _Immutable:
    """Refuses every assignment and deletion once built (`__init__` sets attributes with `object.__setattr__`): a
    verifier hands the policies it caches to every request, none of which may change them."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError(f"a {type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"a {type(self).__name__} is immutable")


class Selector(_Immutable):
    """A parsed jq-like path, such as `.to[0]` or `.["content-type"]?`. Immutable."""

    __slots__ = ("text", "steps")
    text: str
    steps: tuple[tuple[_Segment, bool], ...]

    def __init__(self, text: str, field: str | None = None) -> None:
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "steps", tuple(_SelectorParser(text, field).parse()))

    def __repr__(self) -> str:
        return f"Selector({self.text!r})"

    def select(self, value: Any) -> tuple[bool, Any]:
        """(resolved, selected): the selection, or (False, None) when the path cannot be resolved."""
        results: list[Any] = []
        if not self._resolve(0, value, results):
            return False, None
        if any(isinstance(segment, _Values) for segment, _ in self.steps):
            return True, results
        return True, results[0]

    def _resolve(self, start: int, value: Any, results: list[Any]) -> bool:
        current = value
        position = start
        while position < len(self.steps):
            segment, optional = self.steps[position]
            position += 1
            if isinstance(segment, _Values):
                children = _values(current)
                if children is None:
                    if not optional:
                        return False
                    results.append(None)
                    return True
                for child in children:
                    if not self._resolve(position, child, results):
                        return False
                return True
            found, following = _apply(segment, current)
            if not found:
                if not optional:
                    return False
                results.append(None)
                return True
            current = following
        results.append(current)
        return True


def _position(index: int, count: int) -> int | None:
    resolved = index + count if index < 0 else index
    return resolved if 0 <= resolved < count else None


def _range(start: int | None, stop: int | None, count: int) -> slice:
    def clamp(bound: int) -> int:
        return min(max(bound + count if bound < 0 else bound, 0), count)
    lower = clamp(start if start is not None else 0)
    upper = clamp(stop if stop is not None else count)
    return slice(lower, upper) if lower < upper else slice(0, 0)


def _apply(segment: _Segment, value: Any) -> tuple[bool, Any]:
    if isinstance(segment, _Field) and isinstance(value, dict):
        return True, value.get(segment.name)
    if isinstance(segment, _Index):
        if isinstance(value, list):
            at = _position(segment.index, len(value))
            return (False, None) if at is None else (True, value[at])
        if isinstance(value, bytes):
            at = _position(segment.index, len(value))
            return (False, None) if at is None else (True, value[at])
    if isinstance(segment, _Slice) and isinstance(value, (list, bytes)):
        return True, value[_range(segment.start, segment.stop, len(value))]
    return False, None


class _SelectorParser:
    _escapes = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}

    def __init__(self, text: str, field: str | None) -> None:
        self.data = text.encode()
        self.field = field
        self.position = 0
        self.steps: list[tuple[_Segment, bool]] = []
        if len(self.data) > MAX_SELECTOR_BYTES:
            raise UCANError("too_large", f"a selector is limited to {MAX_SELECTOR_BYTES} bytes", field)

    def failure(self, message: str) -> UCANError:
        return UCANError("invalid_field", f"selector: {message}", self.field)

    def parse(self) -> list[tuple[_Segment, bool]]:
        data = self.data
        if not data.startswith(b"."):
            raise self.failure("a selector must begin with '.'")
        self.position = 1
        if self.position == len(data):
            return self.steps
        if data[self.position:self.position + 1] == b"?":
            self.skip_optionals()
        else:
            self.segment_after_dot()
        while self.position < len(data):
            char = data[self.position:self.position + 1]
            if char == b".":
                self.position += 1
                if self.position >= len(data):
                    raise self.failure("a selector may not end with '.' after a segment")
                self.segment_after_dot()
            elif char == b"[":
                self.bracket()
            else:
                raise self.failure(f"unexpected character at byte {self.position}")
        return self.steps

    @staticmethod
    def is_name_start(byte: int) -> bool:
        return 0x61 <= byte <= 0x7A or 0x41 <= byte <= 0x5A or byte == 0x5F

    @staticmethod
    def is_digit(byte: int) -> bool:
        return 0x30 <= byte <= 0x39

    def segment_after_dot(self) -> None:
        byte = self.data[self.position]
        if byte == 0x5B:
            return self.bracket()
        if byte == 0x2E:
            raise self.failure("'..' is not allowed in a selector")
        if not self.is_name_start(byte):
            raise self.failure(
                f"a dotted field name is ASCII letters, digits and '_'; use .[\"…\"] for others (byte {self.position})")
        start = self.position
        while self.position < len(self.data) and (
                self.is_name_start(self.data[self.position]) or self.is_digit(self.data[self.position])):
            self.position += 1
        self.append(_Field(self.data[start:self.position].decode()))
        return None

    def bracket(self) -> None:
        data = self.data
        self.position += 1
        if self.position >= len(data):
            raise self.failure("unclosed '['")
        if data[self.position] == 0x5D:
            self.position += 1
            return self.append(_Values())
        if data[self.position] == 0x22:
            name = self.quoted()
            if self.position >= len(data) or data[self.position] != 0x5D:
                raise self.failure(f"expected ']' after a quoted field name at byte {self.position}")
            self.position += 1
            return self.append(_Field(name))
        start = self.position
        while self.position < len(data) and data[self.position] != 0x5D:
            self.position += 1
        if self.position >= len(data):
            raise self.failure("unclosed '['")
        inside = data[start:self.position]
        self.position += 1
        if b":" not in inside:
            index = self.integer(inside)
            if index is None:
                raise self.failure("an empty bound is only allowed in a slice")
            return self.append(_Index(index))
        colon = inside.index(b":")
        lower, upper = self.integer(inside[:colon]), self.integer(inside[colon + 1:])
        if lower is None and upper is None:
            raise self.failure("a slice needs at least one bound")
        return self.append(_Slice(lower, upper))

    def integer(self, digits: bytes) -> int | None:
        if not digits:
            return None
        negative = digits.startswith(b"-")
        magnitude = digits[1:] if negative else digits
        if not magnitude or not all(self.is_digit(byte) for byte in magnitude):
            raise self.failure("a bracket holds an integer, a slice, a quoted name or nothing")
        if (len(magnitude) > 1 and magnitude.startswith(b"0")) or (negative and magnitude == b"0"):
            raise self.failure("an index is written without leading zeros")
        value = int(digits)
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise self.failure("an index is out of range")
        return value

    def quoted(self) -> str:
        data = self.data
        self.position += 1
        output = bytearray()
        while self.position < len(data):
            byte = data[self.position]
            self.position += 1
            if byte == 0x22:
                return output.decode()
            if byte == 0x5C:
                if self.position >= len(data):
                    break
                escape = chr(data[self.position])
                self.position += 1
                if escape == "u":
                    output += self.escaped_scalar().encode()
                elif escape in self._escapes:
                    output += self._escapes[escape].encode()
                else:
                    raise self.failure("unknown escape in a quoted field name")
            elif byte < 0x20:
                raise self.failure("a control character must be escaped in a quoted field name")
            else:
                output.append(byte)
        raise self.failure("unclosed quoted field name")

    def escaped_scalar(self) -> str:
        unit = self.hex_unit()
        if 0xD800 <= unit <= 0xDBFF:
            if self.data[self.position:self.position + 2] != b"\\u":
                raise self.failure("unpaired surrogate in a quoted field name")
            self.position += 2
            low = self.hex_unit()
            if not 0xDC00 <= low <= 0xDFFF:
                raise self.failure("unpaired surrogate in a quoted field name")
            return chr(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
        if 0xDC00 <= unit <= 0xDFFF:
            raise self.failure("unpaired surrogate in a quoted field name")
        return chr(unit)

    def hex_unit(self) -> int:
        digits = self.data[self.position:self.position + 4]
        if len(digits) != 4 or not all(chr(byte) in "0123456789abcdefABCDEF" for byte in digits):
            raise self.failure("\\u needs four hex digits")
        self.position += 4
        return int(digits, 16)

    def skip_optionals(self) -> None:
        while self.position < len(self.data) and self.data[self.position] == 0x3F:
            self.position += 1

    def append(self, segment: _Segment) -> None:
        start = self.position
        self.skip_optionals()
        self.steps.append((segment, self.position > start))


# Statements

@dataclass(frozen=True)
class Statement:
    """One parsed statement: `op`, its selector (if any), its operand (a value, a glob, or sub-statements)."""

    op: str
    selector: Selector | None
    operand: Any
    children: tuple[Statement, ...] = ()

    def evaluate(self, value: Any) -> Truth:
        op = self.op
        if op in ("==", "!="):
            assert self.selector is not None
            found, selected = self.selector.select(value)
            if not found:
                return Truth.UNRESOLVED
            equal = policy_equals(selected, self.operand)
            return Truth.HOLDS if equal == (op == "==") else Truth.FAILS
        if op in ("<", "<=", ">", ">="):
            assert self.selector is not None
            found, selected = self.selector.select(value)
            if not found:
                return Truth.UNRESOLVED
            order = _numeric_order(selected, self.operand)
            if order is None:
                return Truth.FAILS
            holds = {"<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0}[op]
            return Truth.HOLDS if holds else Truth.FAILS
        if op == "like":
            assert self.selector is not None
            found, selected = self.selector.select(value)
            if not found:
                return Truth.UNRESOLVED
            if not isinstance(selected, str):
                return Truth.FAILS
            return Truth.HOLDS if glob_matches(self.operand, selected) else Truth.FAILS
        if op == "and":
            return _conjunction(child.evaluate(value) for child in self.children)
        if op == "or":
            if not self.children:
                return Truth.HOLDS
            return _disjunction(child.evaluate(value) for child in self.children)
        if op == "not":
            inner = self.children[0].evaluate(value)
            return {Truth.HOLDS: Truth.FAILS, Truth.FAILS: Truth.HOLDS}.get(inner, Truth.UNRESOLVED)
        # all, any
        assert self.selector is not None
        found, selected = self.selector.select(value)
        if not found:
            return Truth.UNRESOLVED
        elements = _values(selected)
        if elements is None:
            return Truth.FAILS
        outcomes = (self.children[0].evaluate(element) for element in elements)
        return _conjunction(outcomes) if op == "all" else _disjunction(outcomes)


def _conjunction(outcomes: Any) -> Truth:
    result = Truth.HOLDS
    for outcome in outcomes:
        if outcome is Truth.FAILS:
            return Truth.FAILS
        if outcome is Truth.UNRESOLVED:
            result = Truth.UNRESOLVED
    return result


def _disjunction(outcomes: Any) -> Truth:
    result = Truth.FAILS
    for outcome in outcomes:
        if outcome is Truth.HOLDS:
            return Truth.HOLDS
        if outcome is Truth.UNRESOLVED:
            result = Truth.UNRESOLVED
    return result


def glob_pieces(pattern: str) -> list[bytes]:
    """The literal pieces between wildcards: `\\*` is a literal star, `\\\\` a literal backslash."""
    pieces: list[bytearray] = [bytearray()]
    escaped = False
    for byte in pattern.encode():
        if escaped:
            escaped = False
            if byte in (0x2A, 0x5C):
                pieces[-1].append(byte)
                continue
            pieces[-1].append(0x5C)
        if byte == 0x5C:
            escaped = True
        elif byte == 0x2A:
            pieces.append(bytearray())
        else:
            pieces[-1].append(byte)
    if escaped:
        pieces[-1].append(0x5C)
    return [bytes(piece) for piece in pieces]


def glob_matches(pieces: Sequence[bytes], text: str) -> bool:
    """Whether the whole text matches, in linear time (leftmost match of each middle piece)."""
    data = text.encode()
    if len(pieces) == 1:
        return data == pieces[0]
    first, last = pieces[0], pieces[-1]
    if len(data) < len(first) + len(last) or not data.startswith(first) or not data.endswith(last):
        return False
    start, end = len(first), len(data) - len(last)
    for piece in pieces[1:-1]:
        if not piece:
            continue
        found = data.find(piece, start, end)
        if found < 0:
            return False
        start = found + len(piece)
    return True


def _exceeds_depth(value: Any, limit: int) -> bool:
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        current, depth = pending.pop()
        children = current if isinstance(current, list) else list(current.values()) if isinstance(current, dict) \
            else None
        if children is None:
            continue
        if depth >= limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


class _Budget:
    def __init__(self) -> None:
        self.statements = 0


def _parse(value: Any, field: str, depth: int, budget: _Budget) -> Statement:
    if depth > MAX_DEPTH:
        raise UCANError("too_large", f"statements may nest at most {MAX_DEPTH} deep", field)
    budget.statements += 1
    if budget.statements > MAX_STATEMENTS:
        raise UCANError("too_large", f"a policy may hold at most {MAX_STATEMENTS} statements", field)
    if not isinstance(value, list) or not value:
        raise UCANError("invalid_field", "a statement is a list that begins with its operator", field)
    op = value[0]
    if not isinstance(op, str):
        raise UCANError("invalid_field", "an operator is a string", f"{field}[0]")

    def arity(count: int, shape: str) -> None:
        if len(value) != count:
            raise UCANError("invalid_field", f"'{op}' takes {shape}", field)

    def selector() -> Selector:
        if not isinstance(value[1], str):
            raise UCANError("invalid_field", "a selector is a string", f"{field}[1]")
        return Selector(value[1], f"{field}[1]")

    if op in ("==", "!="):
        arity(3, "a selector and a value")
        chosen = selector()
        if _exceeds_depth(value[2], MAX_VALUE_DEPTH):
            raise UCANError("too_large", f"a value may nest at most {MAX_VALUE_DEPTH} deep", f"{field}[2]")
        return Statement(op, chosen, value[2])
    if op in ("<", "<=", ">", ">="):
        arity(3, "a selector and a number")
        chosen = selector()
        bound = value[2]
        if not _is_number(bound) or (isinstance(bound, float) and not math.isfinite(bound)):
            raise UCANError("invalid_field", f"'{op}' compares with a number", f"{field}[2]")
        return Statement(op, chosen, bound)
    if op == "like":
        arity(3, "a selector and a pattern")
        chosen = selector()
        if not isinstance(value[2], str):
            raise UCANError("invalid_field", "a 'like' pattern is a string", f"{field}[2]")
        return Statement(op, chosen, tuple(glob_pieces(value[2])))
    if op in ("and", "or"):
        arity(2, "a list of statements")
        if not isinstance(value[1], list):
            raise UCANError("invalid_field", f"'{op}' takes a list of statements", f"{field}[1]")
        children = tuple(_parse(item, f"{field}[1][{index}]", depth + 1, budget) for index, item in enumerate(value[1]))
        return Statement(op, None, None, children)
    if op == "not":
        arity(2, "one statement")
        return Statement(op, None, None, (_parse(value[1], f"{field}[1]", depth + 1, budget),))
    if op in ("all", "any"):
        arity(3, "a selector and a statement")
        chosen = selector()
        return Statement(op, chosen, None, (_parse(value[2], f"{field}[2]", depth + 1, budget),))
    raise UCANError("invalid_field", "unknown operator; expected ==, !=, <, <=, >, >=, like, and, or, not, all or any",
                    f"{field}[0]")


class Policy(_Immutable):
    """A delegation's `pol`: statements that an invocation's arguments must all satisfy, kept as given.

    Immutable (`ipld` is a read-only copy; `list(policy.ipld)` is a mutable one): a verifier hands the same
    parsed delegation, policy included, to every request that cites it.
    """

    __slots__ = ("ipld", "statements")
    ipld: list[Any]
    statements: tuple[Statement, ...]

    def __init__(self, statements: Sequence[Any] = (), field: str = "pol") -> None:
        if not isinstance(statements, (list, tuple)):
            raise UCANError("invalid_field", "a policy is a list of statements", field)
        ipld: list[Any] = frozen(statements)
        budget = _Budget()
        object.__setattr__(self, "ipld", ipld)
        object.__setattr__(self, "statements", tuple(
            _parse(item, f"{field}[{index}]", 1, budget) for index, item in enumerate(ipld)))

    def __repr__(self) -> str:
        return f"Policy({policy_text(self.ipld)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Policy) and policy_equals(self.ipld, other.ipld)

    def __hash__(self) -> int:
        return hash(policy_text(self.ipld))

    def evaluate(self, args: Any) -> str | None:
        """None when every statement holds on `args`; otherwise `<the first failing statement> did not hold`."""
        for index, statement in enumerate(self.statements):
            if statement.evaluate(args) is not Truth.HOLDS:
                return f"{policy_text(self.ipld[index])} did not hold"
        return None

    def holds(self, args: Any) -> bool:
        return self.evaluate(args) is None
