// The UCAN 1.0 policy language over an invocation's `args`, evaluated exactly as Charter's Swift library does.
//
// Statements: `==`, `!=`, `<`, `<=`, `>`, `>=`, `like` (a glob: `*` any run, `\*` a literal star), `and`, `or`,
// `not`, `all`, `any`, with jq-like selectors (`.`, `.a.b`, `.["a b"]`, `[0]`, `[-1]`, `[]`, slices, `?`). Where
// the spec leaves room Charter fails closed: a selector that resolves to nothing makes its statement (and `not` of
// it) false; a type mismatch is false; `any` over nothing is false, `all` over nothing true, `or []` true; numbers
// compare by value; strings by their UTF-8 bytes.

import { CID } from "./crypto.js";
import { b64Encode, bytesEqual, deepCopy, deepFreeze, hasKey, isObject, utf8 } from "./encoding.js";
import { keyOrder, type IPLD } from "./dagcbor.js";
import { UCANError } from "./errors.js";

export const MAX_DEPTH = 32;
export const MAX_STATEMENTS = 256;
export const MAX_SELECTOR_BYTES = 256;
export const MAX_VALUE_DEPTH = 32;

const enum Truth { Holds, Fails, Unresolved }

function isNumber(value: unknown): value is number | bigint {
  return typeof value === "number" || typeof value === "bigint";
}

/** A list's elements or a map's values in DAG-CBOR key order; null for anything else. */
function children(value: unknown): unknown[] | null {
  if (Array.isArray(value)) return value;
  if (isObject(value)) return Object.keys(value).sort(keyOrder).map((key) => value[key]);
  return null;
}

/** Deep equality: numbers by value whatever their kind, everything else by kind and content. */
export function policyEquals(left: unknown, right: unknown): boolean {
  if (left === null || right === null || left === undefined || right === undefined) {
    return (left ?? null) === null && (right ?? null) === null;
  }
  if (typeof left === "boolean" || typeof right === "boolean") return left === right;
  // eslint-disable-next-line eqeqeq
  if (isNumber(left) && isNumber(right)) return left == right; // exact across number and bigint
  if (typeof left === "string" && typeof right === "string") return left === right;
  if (left instanceof Uint8Array && right instanceof Uint8Array) return bytesEqual(left, right);
  if (left instanceof CID && right instanceof CID) return left.equals(right);
  if (Array.isArray(left) && Array.isArray(right)) {
    return left.length === right.length && left.every((item, index) => policyEquals(item, right[index]));
  }
  if (isObject(left) && isObject(right)) {
    const keys = Object.keys(left);
    return keys.length === Object.keys(right).length
      && keys.every((key) => hasKey(right, key) && policyEquals(left[key], right[key]));
  }
  return false;
}

function numericOrder(left: unknown, right: unknown): number | null {
  if (!isNumber(left) || !isNumber(right)) return null;
  // eslint-disable-next-line eqeqeq
  return left == right ? 0 : left < right ? -1 : 1;
}

/** A one-line, JSON-like rendering for messages, as Charter writes it: `["==", ".a", 1]`. */
export function policyText(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (value === true) return "true";
  if (value === false) return "false";
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (value instanceof Uint8Array) return '{"/": {"bytes": "' + b64Encode(value).replace(/=+$/, "") + '"}}';
  if (value instanceof CID) return '{"/": "' + value.toString() + '"}';
  if (Array.isArray(value)) return "[" + value.map(policyText).join(", ") + "]";
  if (isObject(value)) {
    return "{" + Object.keys(value).sort(keyOrder).map((key) => JSON.stringify(key) + ": " + policyText(value[key]))
      .join(", ") + "}";
  }
  return String(value);
}

// Selectors

type Segment =
  | { kind: "field"; name: string }
  | { kind: "index"; index: bigint }
  | { kind: "slice"; start: bigint | null; stop: bigint | null }
  | { kind: "values" };

type Step = { segment: Segment; optional: boolean };
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function position(index: bigint, count: number): number | null {
  const n = BigInt(count);
  const resolved = index < 0n ? index + n : index;
  return resolved >= 0n && resolved < n ? Number(resolved) : null;
}

function range(start: bigint | null, stop: bigint | null, count: number): [number, number] {
  const n = BigInt(count);
  const clamp = (bound: bigint): number => {
    const b = bound < 0n ? bound + n : bound;
    return Number(b < 0n ? 0n : b > n ? n : b);
  };
  const lower = clamp(start ?? 0n), upper = clamp(stop ?? n);
  return lower < upper ? [lower, upper] : [0, 0];
}

function apply(segment: Segment, value: unknown): [boolean, unknown] {
  if (segment.kind === "field" && isObject(value)) {
    return [true, hasKey(value, segment.name) ? value[segment.name] : null];
  }
  if (segment.kind === "index" && (Array.isArray(value) || value instanceof Uint8Array)) {
    const at = position(segment.index, value.length);
    return at === null ? [false, null] : [true, value[at]];
  }
  if (segment.kind === "slice" && (Array.isArray(value) || value instanceof Uint8Array)) {
    const [lower, upper] = range(segment.start, segment.stop, value.length);
    return [true, value.slice(lower, upper)];
  }
  return [false, null];
}

/** A parsed jq-like path, such as `.to[0]` or `.["content-type"]?`. */
export class Selector {
  readonly steps: Step[];
  private readonly fansOut: boolean;

  constructor(readonly text: string, field?: string) {
    this.steps = new SelectorParser(text, field).parse();
    this.fansOut = this.steps.some((step) => step.segment.kind === "values");
  }

  /** [resolved, selected]: the selection, or [false, null] when the path cannot be resolved. */
  select(value: unknown): [boolean, unknown] {
    const results: unknown[] = [];
    if (!this.resolve(0, value, results)) return [false, null];
    return [true, this.fansOut ? results : results[0]];
  }

  private resolve(start: number, value: unknown, results: unknown[]): boolean {
    let current = value;
    let at = start;
    while (at < this.steps.length) {
      const { segment, optional } = this.steps[at];
      at += 1;
      if (segment.kind === "values") {
        const items = children(current);
        if (items === null) {
          if (!optional) return false;
          results.push(null);
          return true;
        }
        for (const item of items) if (!this.resolve(at, item, results)) return false;
        return true;
      }
      const [found, following] = apply(segment, current);
      if (!found) {
        if (!optional) return false;
        results.push(null);
        return true;
      }
      current = following;
    }
    results.push(current);
    return true;
  }
}

const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
const isNameStart = (b: number) => (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || b === 0x5f;
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;

class SelectorParser {
  private readonly data: Uint8Array;
  private position = 0;
  private readonly steps: Step[] = [];

  constructor(text: string, private readonly field: string | undefined) {
    this.data = utf8(text);
    if (this.data.length > MAX_SELECTOR_BYTES) {
      throw new UCANError("too_large", `a selector is limited to ${MAX_SELECTOR_BYTES} bytes`, field);
    }
  }

  private failure(message: string): UCANError {
    return new UCANError("invalid_field", `selector: ${message}`, this.field);
  }

  parse(): Step[] {
    const data = this.data;
    if (data[0] !== 0x2e) throw this.failure("a selector must begin with '.'");
    this.position = 1;
    if (this.position === data.length) return this.steps;
    if (data[this.position] === 0x3f) this.skipOptionals();
    else this.segmentAfterDot();
    while (this.position < data.length) {
      const char = data[this.position];
      if (char === 0x2e) {
        this.position += 1;
        if (this.position >= data.length) throw this.failure("a selector may not end with '.' after a segment");
        this.segmentAfterDot();
      } else if (char === 0x5b) {
        this.bracket();
      } else {
        throw this.failure(`unexpected character at byte ${this.position}`);
      }
    }
    return this.steps;
  }

  private segmentAfterDot(): void {
    const byte = this.data[this.position];
    if (byte === 0x5b) return this.bracket();
    if (byte === 0x2e) throw this.failure("'..' is not allowed in a selector");
    if (!isNameStart(byte)) {
      throw this.failure(`a dotted field name is ASCII letters, digits and '_'; use .["…"] for others (byte ${this.position})`);
    }
    const start = this.position;
    while (this.position < this.data.length && (isNameStart(this.data[this.position]) || isDigit(this.data[this.position]))) {
      this.position += 1;
    }
    this.append({ kind: "field", name: String.fromCharCode(...this.data.subarray(start, this.position)) });
  }

  private bracket(): void {
    const data = this.data;
    this.position += 1;
    if (this.position >= data.length) throw this.failure("unclosed '['");
    if (data[this.position] === 0x5d) {
      this.position += 1;
      return this.append({ kind: "values" });
    }
    if (data[this.position] === 0x22) {
      const name = this.quoted();
      if (this.position >= data.length || data[this.position] !== 0x5d) {
        throw this.failure(`expected ']' after a quoted field name at byte ${this.position}`);
      }
      this.position += 1;
      return this.append({ kind: "field", name });
    }
    const start = this.position;
    while (this.position < data.length && data[this.position] !== 0x5d) this.position += 1;
    if (this.position >= data.length) throw this.failure("unclosed '['");
    const inside = data.subarray(start, this.position);
    this.position += 1;
    const colon = inside.indexOf(0x3a);
    if (colon < 0) {
      const index = this.integer(inside);
      if (index === null) throw this.failure("an empty bound is only allowed in a slice");
      return this.append({ kind: "index", index });
    }
    const lower = this.integer(inside.subarray(0, colon)), upper = this.integer(inside.subarray(colon + 1));
    if (lower === null && upper === null) throw this.failure("a slice needs at least one bound");
    return this.append({ kind: "slice", start: lower, stop: upper });
  }

  private integer(digits: Uint8Array): bigint | null {
    if (digits.length === 0) return null;
    const negative = digits[0] === 0x2d;
    const magnitude = negative ? digits.subarray(1) : digits;
    if (magnitude.length === 0 || !magnitude.every(isDigit)) {
      throw this.failure("a bracket holds an integer, a slice, a quoted name or nothing");
    }
    if ((magnitude.length > 1 && magnitude[0] === 0x30) || (negative && magnitude.length === 1 && magnitude[0] === 0x30)) {
      throw this.failure("an index is written without leading zeros");
    }
    const value = BigInt(String.fromCharCode(...digits));
    if (value < INT64_MIN || value > INT64_MAX) throw this.failure("an index is out of range");
    return value;
  }

  private quoted(): string {
    const data = this.data;
    this.position += 1;
    const output: number[] = [];
    const decoder = new TextDecoder("utf-8", { fatal: false });
    while (this.position < data.length) {
      const byte = data[this.position];
      this.position += 1;
      if (byte === 0x22) return decoder.decode(Uint8Array.from(output));
      if (byte === 0x5c) {
        if (this.position >= data.length) break;
        const escape = String.fromCharCode(data[this.position]);
        this.position += 1;
        if (escape === "u") output.push(...utf8(this.escapedScalar()));
        else if (hasKey(ESCAPES, escape)) output.push(...utf8(ESCAPES[escape]));
        else throw this.failure("unknown escape in a quoted field name");
      } else if (byte < 0x20) {
        throw this.failure("a control character must be escaped in a quoted field name");
      } else {
        output.push(byte);
      }
    }
    throw this.failure("unclosed quoted field name");
  }

  private escapedScalar(): string {
    const unit = this.hexUnit();
    if (unit >= 0xd800 && unit <= 0xdbff) {
      if (this.data[this.position] !== 0x5c || this.data[this.position + 1] !== 0x75) {
        throw this.failure("unpaired surrogate in a quoted field name");
      }
      this.position += 2;
      const low = this.hexUnit();
      if (!(low >= 0xdc00 && low <= 0xdfff)) throw this.failure("unpaired surrogate in a quoted field name");
      return String.fromCodePoint(0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00));
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) throw this.failure("unpaired surrogate in a quoted field name");
    return String.fromCodePoint(unit);
  }

  private hexUnit(): number {
    const digits = String.fromCharCode(...this.data.subarray(this.position, this.position + 4));
    if (!/^[0-9a-fA-F]{4}$/.test(digits)) throw this.failure("\\u needs four hex digits");
    this.position += 4;
    return parseInt(digits, 16);
  }

  private skipOptionals(): void {
    while (this.position < this.data.length && this.data[this.position] === 0x3f) this.position += 1;
  }

  private append(segment: Segment): void {
    const start = this.position;
    this.skipOptionals();
    this.steps.push({ segment, optional: this.position > start });
  }
}

// Statements

/** The literal pieces between wildcards: `\*` is a literal star, `\\` a literal backslash. */
export function globPieces(pattern: string): Uint8Array[] {
  const pieces: number[][] = [[]];
  let escaped = false;
  for (const byte of utf8(pattern)) {
    const last = pieces[pieces.length - 1];
    if (escaped) {
      escaped = false;
      if (byte === 0x2a || byte === 0x5c) {
        last.push(byte);
        continue;
      }
      last.push(0x5c);
    }
    if (byte === 0x5c) escaped = true;
    else if (byte === 0x2a) pieces.push([]);
    else last.push(byte);
  }
  if (escaped) pieces[pieces.length - 1].push(0x5c);
  return pieces.map((piece) => Uint8Array.from(piece));
}

function indexOf(data: Uint8Array, piece: Uint8Array, start: number, end: number): number {
  outer: for (let i = start; i + piece.length <= end; i++) {
    for (let j = 0; j < piece.length; j++) if (data[i + j] !== piece[j]) continue outer;
    return i;
  }
  return -1;
}

/** Whether the whole text matches, in linear time (leftmost match of each middle piece). */
export function globMatches(pieces: Uint8Array[], text: string): boolean {
  const data = utf8(text);
  if (pieces.length === 1) return bytesEqual(data, pieces[0]);
  const first = pieces[0], last = pieces[pieces.length - 1];
  if (data.length < first.length + last.length) return false;
  if (!bytesEqual(data.subarray(0, first.length), first) || !bytesEqual(data.subarray(data.length - last.length), last)) {
    return false;
  }
  let start = first.length;
  const end = data.length - last.length;
  for (const piece of pieces.slice(1, -1)) {
    if (piece.length === 0) continue;
    const found = indexOf(data, piece, start, end);
    if (found < 0) return false;
    start = found + piece.length;
  }
  return true;
}

function exceedsDepth(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    const items = Array.isArray(current) ? current : isObject(current) ? Object.values(current) : null;
    if (items === null) continue;
    if (depth >= limit) return true;
    for (const item of items) pending.push([item, depth + 1]);
  }
  return false;
}

interface Statement {
  op: string;
  selector: Selector | null;
  operand: unknown;
  children: Statement[];
}

function conjunction(outcomes: Iterable<Truth>): Truth {
  let result = Truth.Holds;
  for (const outcome of outcomes) {
    if (outcome === Truth.Fails) return Truth.Fails;
    if (outcome === Truth.Unresolved) result = Truth.Unresolved;
  }
  return result;
}

function disjunction(outcomes: Iterable<Truth>): Truth {
  let result = Truth.Fails;
  for (const outcome of outcomes) {
    if (outcome === Truth.Holds) return Truth.Holds;
    if (outcome === Truth.Unresolved) result = Truth.Unresolved;
  }
  return result;
}

function* each(statement: Statement, values: unknown[]): Iterable<Truth> {
  for (const value of values) yield evaluate(statement, value);
}

function evaluate(statement: Statement, value: unknown): Truth {
  const { op } = statement;
  if (op === "and") return conjunction(each1(statement.children, value));
  if (op === "or") return statement.children.length === 0 ? Truth.Holds : disjunction(each1(statement.children, value));
  if (op === "not") {
    const inner = evaluate(statement.children[0], value);
    return inner === Truth.Holds ? Truth.Fails : inner === Truth.Fails ? Truth.Holds : Truth.Unresolved;
  }
  const [found, selected] = statement.selector!.select(value);
  if (!found) return Truth.Unresolved;
  switch (op) {
    case "==":
    case "!=":
      return policyEquals(selected, statement.operand) === (op === "==") ? Truth.Holds : Truth.Fails;
    case "<":
    case "<=":
    case ">":
    case ">=": {
      const order = numericOrder(selected, statement.operand);
      if (order === null) return Truth.Fails;
      const holds = op === "<" ? order < 0 : op === "<=" ? order <= 0 : op === ">" ? order > 0 : order >= 0;
      return holds ? Truth.Holds : Truth.Fails;
    }
    case "like":
      if (typeof selected !== "string") return Truth.Fails;
      return globMatches(statement.operand as Uint8Array[], selected) ? Truth.Holds : Truth.Fails;
    default: { // all, any
      const elements = children(selected);
      if (elements === null) return Truth.Fails;
      const outcomes = each(statement.children[0], elements);
      return op === "all" ? conjunction(outcomes) : disjunction(outcomes);
    }
  }
}

function* each1(statements: Statement[], value: unknown): Iterable<Truth> {
  for (const statement of statements) yield evaluate(statement, value);
}

function parseStatement(value: unknown, field: string, depth: number, budget: { statements: number }): Statement {
  if (depth > MAX_DEPTH) throw new UCANError("too_large", `statements may nest at most ${MAX_DEPTH} deep`, field);
  budget.statements += 1;
  if (budget.statements > MAX_STATEMENTS) {
    throw new UCANError("too_large", `a policy may hold at most ${MAX_STATEMENTS} statements`, field);
  }
  if (!Array.isArray(value) || value.length === 0) {
    throw new UCANError("invalid_field", "a statement is a list that begins with its operator", field);
  }
  const op = value[0];
  if (typeof op !== "string") throw new UCANError("invalid_field", "an operator is a string", `${field}[0]`);
  const arity = (count: number, shape: string) => {
    if (value.length !== count) throw new UCANError("invalid_field", `'${op}' takes ${shape}`, field);
  };
  const selector = () => {
    if (typeof value[1] !== "string") throw new UCANError("invalid_field", "a selector is a string", `${field}[1]`);
    return new Selector(value[1], `${field}[1]`);
  };
  switch (op) {
    case "==":
    case "!=": {
      arity(3, "a selector and a value");
      const chosen = selector();
      if (exceedsDepth(value[2], MAX_VALUE_DEPTH)) {
        throw new UCANError("too_large", `a value may nest at most ${MAX_VALUE_DEPTH} deep`, `${field}[2]`);
      }
      return { op, selector: chosen, operand: value[2], children: [] };
    }
    case "<":
    case "<=":
    case ">":
    case ">=": {
      arity(3, "a selector and a number");
      const chosen = selector();
      const bound = value[2];
      if (!isNumber(bound) || (typeof bound === "number" && !Number.isFinite(bound))) {
        throw new UCANError("invalid_field", `'${op}' compares with a number`, `${field}[2]`);
      }
      return { op, selector: chosen, operand: bound, children: [] };
    }
    case "like": {
      arity(3, "a selector and a pattern");
      const chosen = selector();
      if (typeof value[2] !== "string") throw new UCANError("invalid_field", "a 'like' pattern is a string", `${field}[2]`);
      return { op, selector: chosen, operand: globPieces(value[2]), children: [] };
    }
    case "and":
    case "or": {
      arity(2, "a list of statements");
      if (!Array.isArray(value[1])) throw new UCANError("invalid_field", `'${op}' takes a list of statements`, `${field}[1]`);
      const parsed = (value[1] as unknown[]).map((item, index) => parseStatement(item, `${field}[1][${index}]`, depth + 1, budget));
      return { op, selector: null, operand: null, children: parsed };
    }
    case "not":
      arity(2, "one statement");
      return { op, selector: null, operand: null, children: [parseStatement(value[1], `${field}[1]`, depth + 1, budget)] };
    case "all":
    case "any": {
      arity(3, "a selector and a statement");
      const chosen = selector();
      return { op, selector: chosen, operand: null, children: [parseStatement(value[2], `${field}[2]`, depth + 1, budget)] };
    }
    default:
      throw new UCANError("invalid_field",
        "unknown operator; expected ==, !=, <, <=, >, >=, like, and, or, not, all or any", `${field}[0]`);
  }
}

/**
 * A delegation's `pol`: statements that an invocation's arguments must all satisfy, kept as given. Immutable: what
 * it evaluates is a private copy of the statements, and `ipld` a frozen one, so no holder of a verified delegation
 * can change what the policy allows.
 */
export class Policy {
  /** The statements as given (IPLD), frozen. */
  readonly ipld: readonly IPLD[];
  readonly #ipld: IPLD[];
  readonly #statements: Statement[];

  constructor(statements: readonly unknown[] = [], field = "pol") {
    if (!Array.isArray(statements)) throw new UCANError("invalid_field", "a policy is a list of statements", field);
    this.#ipld = deepCopy([...statements]) as IPLD[];
    const budget = { statements: 0 };
    this.#statements = this.#ipld.map((item, index) => parseStatement(item, `${field}[${index}]`, 1, budget));
    this.ipld = deepFreeze(deepCopy(this.#ipld));
    Object.freeze(this);
  }

  /** null when every statement holds on `args`; otherwise `<the first failing statement> did not hold`. */
  evaluate(args: unknown): string | null {
    for (let index = 0; index < this.#statements.length; index++) {
      if (evaluate(this.#statements[index], args) !== Truth.Holds) return `${policyText(this.#ipld[index])} did not hold`;
    }
    return null;
  }

  holds(args: unknown): boolean {
    return this.evaluate(args) === null;
  }

  equals(other: unknown): boolean {
    return other instanceof Policy && policyEquals(this.#ipld, other.#ipld);
  }

  toString(): string {
    return `Policy(${policyText(this.#ipld)})`;
  }
}
