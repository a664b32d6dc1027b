// Strict text encodings shared by both UCAN versions: base64url, base64, base32, base58btc, canonical JSON and a
// strict JSON parser. Every decoder refuses what another implementation might read differently (padding, stray
// characters, non-zero trailing bits, duplicate keys, lone surrogates): signatures and CIDs are computed over the
// exact bytes received, so two spellings of one value must never both be accepted.

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** UTF-8 text, or null for invalid UTF-8. */
export function fromUtf8(data: Uint8Array): string | null {
  try {
    return strictDecoder.decode(data);
  } catch {
    return null;
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Bytewise order (UTF-8 byte order is code point order). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** Strings by code point (as Python and Swift sort them), not by UTF-16 unit. */
export function compareCodePoints(a: string, b: string): number {
  return compareBytes(utf8(a), utf8(b));
}

export function hex(data: Uint8Array): string {
  let out = "";
  for (const byte of data) out += byte.toString(16).padStart(2, "0");
  return out;
}

export function fromHex(text: string): Uint8Array {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

// Base64

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function b64Encode(data: Uint8Array, alphabet: string, pad: boolean): string {
  let out = "";
  let i = 0;
  for (; i + 2 < data.length; i += 3) {
    const n = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + alphabet[(n >> 6) & 63] + alphabet[n & 63];
  }
  const rest = data.length - i;
  if (rest === 1) {
    const n = data[i] << 16;
    out += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + (pad ? "==" : "");
  } else if (rest === 2) {
    const n = (data[i] << 16) | (data[i + 1] << 8);
    out += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + alphabet[(n >> 6) & 63] + (pad ? "=" : "");
  }
  return out;
}

/** Each ASCII character's value in `alphabet`, -1 for none: decoding looks digits up rather than searches. */
function digitTable(alphabet: string): Int8Array {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
}

const DIGITS = new Map<string, Int8Array>();

function b64Decode(text: string, alphabet: string): Uint8Array | null {
  if (text.length % 4 === 1) return null;
  let table = DIGITS.get(alphabet);
  if (table === undefined) DIGITS.set(alphabet, table = digitTable(alphabet));
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const digit = code < 128 ? table[code] : -1;
    if (digit < 0) return null;
    value = (value << 6) | digit;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >> bits) & 0xff;
    }
  }
  if ((value & ((1 << bits) - 1)) !== 0) return null; // non-canonical trailing bits
  return out.subarray(0, o);
}

/** Unpadded base64url. */
export function b64urlEncode(data: Uint8Array): string {
  return b64Encode(data, B64URL, false);
}

/** Unpadded base64url, or null for padding, another alphabet or non-canonical trailing bits. */
export function b64urlDecode(text: string): Uint8Array | null {
  return b64Decode(text, B64URL);
}

/** Padded standard base64, as Charter writes UCAN 1.0 tokens. */
export function b64Encode_(data: Uint8Array): string {
  return b64Encode(data, B64, true);
}
export { b64Encode_ as b64Encode };

/** Standard base64, padded or not; null for anything else. */
export function b64Decode_(text: string): Uint8Array | null {
  let stripped = text;
  while (stripped.endsWith("=")) stripped = stripped.slice(0, -1);
  const padding = text.length - stripped.length;
  if (padding > 2 || stripped.length % 4 === 1) return null;
  if (padding > 0 && text.length % 4 !== 0) return null;
  return b64Decode(stripped, B64);
}
export { b64Decode_ as b64Decode };

// Base32 (lower-case, unpadded: the `b` multibase)

const B32 = "abcdefghijklmnopqrstuvwxyz234567";

export function b32Encode(data: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of data) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += B32[(value >> bits) & 31];
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

export function b32Decode(text: string): Uint8Array | null {
  if ([1, 3, 6].includes(text.length % 8)) return null;
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let bits = 0;
  let value = 0;
  let o = 0;
  for (const char of text) {
    const digit = B32.indexOf(char);
    if (digit < 0) return null;
    value = ((value << 5) | digit) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >> bits) & 0xff;
    }
  }
  if ((value & ((1 << bits) - 1)) !== 0) return null;
  return out.subarray(0, o);
}

// Base58btc

const B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

export function b58Encode(data: Uint8Array): string {
  let number = 0n;
  for (const byte of data) number = (number << 8n) | BigInt(byte);
  let out = "";
  while (number > 0n) {
    out = B58[Number(number % 58n)] + out;
    number /= 58n;
  }
  let zeros = 0;
  while (zeros < data.length && data[zeros] === 0) zeros++;
  return "1".repeat(zeros) + out;
}

const B58_DIGITS = digitTable(B58);

/** Base58btc: each leading "1" a zero byte, then the number the rest spells, big-endian; null for another character. */
export function b58Decode(text: string, maxLength = 128): Uint8Array | null {
  if (text.length > maxLength) return null;
  // The number, as base-256 digits least significant first, multiplied by 58 and added to per character: no BigInt.
  const bytes = new Uint8Array(text.length); // 58 < 256, so never more bytes than characters
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    let carry = code < 128 ? B58_DIGITS[code] : -1;
    if (carry < 0) return null;
    for (let j = 0; j < length; j++) {
      carry += bytes[j] * 58;
      bytes[j] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes[length++] = carry & 0xff;
      carry >>= 8;
    }
  }
  let zeros = 0;
  while (zeros < text.length && text[zeros] === "1") zeros++;
  const out = new Uint8Array(zeros + length);
  for (let j = 0; j < length; j++) out[zeros + j] = bytes[length - 1 - j];
  return out;
}

// JSON

/** A JSON value as the SDK reads it: objects have no prototype, integers beyond 2^53 are bigints. */
export type JSONValue = null | boolean | number | bigint | string | JSONValue[] | { [key: string]: JSONValue };

export function isInt(value: unknown): value is number | bigint {
  return typeof value === "bigint" || (typeof value === "number" && Number.isInteger(value));
}

// JavaScript has one number type, so `1.0` and `1` parse to the same value; Charter's parsers keep them apart (a
// time field must be an integer, and a CID or signature covers the spelling). The decoders here note, beside the
// value, each member of a map or list that was written as a float with a whole value: the only floats a JavaScript
// number cannot tell from an integer.
const wholeFloats = new WeakMap<object, Set<string>>();

/** Notes that `container[key]` was written as a float (`1.0`, `1e3`, a CBOR float64), though its value is whole. */
export function markFloat(container: object, key: string | number): void {
  let keys = wholeFloats.get(container);
  if (keys === undefined) wholeFloats.set(container, keys = new Set());
  keys.add(String(key));
}

/** Whether `container[key]` was written as a float: a non-integer number, or a whole one a decoder noted. */
export function isFloatAt(container: object, key: string | number): boolean {
  const value = (container as Record<string, unknown>)[key as string];
  if (typeof value !== "number") return false;
  return !Number.isInteger(value) || (wholeFloats.get(container)?.has(String(key)) ?? false);
}

/** `container[key]` is an integer as written: an integer value not written as a float. */
export function isIntAt(container: object, key: string): boolean {
  return isInt((container as Record<string, unknown>)[key]) && !isFloatAt(container, key);
}

/** A shallow copy of a map without one key, keeping the notes of which members were written as floats. */
export function without(map: Record<string, unknown>, omitted: string): Record<string, unknown> {
  const copy = newMap();
  const floats = wholeFloats.get(map);
  for (const key of Object.keys(map)) {
    if (key === omitted) continue;
    copy[key] = map[key];
    if (floats?.has(key)) markFloat(copy, key);
  }
  return copy;
}

/**
 * A copy of a decoded value that shares nothing mutable with it: lists, maps (with their notes of whole floats) and
 * byte strings are copied; anything else (strings, numbers, frozen CIDs) is kept.
 */
export function deepCopy<T>(value: T): T {
  if (value instanceof Uint8Array) return Uint8Array.prototype.slice.call(value) as T;
  if (Array.isArray(value)) {
    const copy = value.map(deepCopy);
    const floats = wholeFloats.get(value);
    if (floats !== undefined) wholeFloats.set(copy, new Set(floats));
    return copy as T;
  }
  if (isObject(value)) {
    const copy = Object.getPrototypeOf(value) === null ? newMap() : {} as Record<string, unknown>;
    for (const key of Object.keys(value)) copy[key] = deepCopy(value[key]);
    const floats = wholeFloats.get(value);
    if (floats !== undefined) wholeFloats.set(copy, new Set(floats));
    return copy as T;
  }
  return value;
}

/**
 * Freezes `value` and everything reachable through its own properties, so that what a verifier caches and hands out
 * cannot be changed by whoever it hands it to. Byte arrays cannot be frozen: they are left as they are, and the
 * classes that hold bytes keep them private.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || ArrayBuffer.isView(value)) return value;
  Object.freeze(value);
  for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<string | symbol, unknown>)[key]);
  return value;
}

/**
 * A double as Swift's `description` writes it (Charter's serializer): the shortest digits that read back as the same
 * double, in decimal with at least one fractional digit (`1.0`, `0.0001`, `9007199254740992.0`), or in exponential
 * form with a two-digit exponent (`1e-05`, `1.5e+300`) below 0.0001 or above 2^53.
 */
export function swiftDouble(value: number): string {
  if (!Number.isFinite(value)) throw new TypeError("NaN and infinity are not JSON");
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const sign = value < 0 ? "-" : "";
  const [mantissa, power] = Math.abs(value).toExponential().split("e"); // shortest round-trip digits
  const digits = mantissa.replace(".", "");
  const exponent = Number(power); // value = d.ddd × 10^exponent
  if (exponent < -4 || Math.abs(value) > 2 ** 53) {
    const fraction = digits.length > 1 ? "." + digits.slice(1) : "";
    return `${sign}${digits[0]}${fraction}e${exponent < 0 ? "-" : "+"}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  const point = exponent + 1; // digits before the decimal point
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point < digits.length) return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
  return `${sign}${digits}${"0".repeat(point - digits.length)}.0`;
}

/** A plain map (an object literal or a prototype-less map), not a list, bytes, a CID or any other class. */
export function isObject(value: unknown): value is Record<string, any> {
  if (typeof value !== "object" || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === null || prototype === Object.prototype;
}

/** A map without a prototype, so that a key such as `__proto__` is only a key. */
export function newMap<T = any>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

export function hasKey(map: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(map, key);
}

/**
 * Compact JSON with keys sorted by code point and only `"`, `\` and control characters escaped: byte for byte
 * what Charter signs.
 */
export function canonicalJSON(value: unknown): string {
  return member(value, false);
}

/** One value; `float` when its container noted it was written as a float. */
function member(value: unknown, float: boolean): string {
  if (value === null) return "null";
  if (value === true) return "true";
  if (value === false) return "false";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError("NaN and infinity are not JSON");
    return Number.isSafeInteger(value) && !float ? String(value) : swiftDouble(value);
  }
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "[" + value.map((item, index) => member(item, isFloatAt(value, index))).join(",") + "]";
  if (typeof value === "object") {
    const map = value as Record<string, unknown>;
    const keys = Object.keys(map).filter((key) => map[key] !== undefined);
    keys.sort(compareCodePoints);
    return "{" + keys.map((key) => JSON.stringify(key) + ":" + member(map[key], isFloatAt(map, key))).join(",") + "}";
  }
  throw new TypeError(`${typeof value} is not JSON`);
}

export class JSONError extends Error {}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * One strict JSON document: UTF-8, no duplicate keys (also up to Unicode normalisation), no NaN, no lone
 * surrogates, at most `maxDepth` nested containers. Integers beyond 2^53 become bigints, beyond 64 bits floats,
 * as in Charter's parser.
 */
export function parseJSON(data: Uint8Array | string, maxDepth = 32): JSONValue {
  const text = typeof data === "string" ? data : fromUtf8(data);
  if (text === null) throw new JSONError("invalid UTF-8");
  let containers = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) containers++;
  }
  if (containers > 100_000) throw new JSONError("too many containers");
  let i = 0;
  const fail = (message: string): never => {
    throw new JSONError(`${message} at ${i}`);
  };
  const ws = () => {
    while (i < text.length) {
      const c = text[i];
      if (c === " " || c === "\t" || c === "\n" || c === "\r") i++;
      else break;
    }
  };
  const string = (): string => {
    i++; // opening quote
    let out = "";
    while (true) {
      if (i >= text.length) fail("unterminated string");
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        break;
      }
      if (c < 0x20) fail("control character in string");
      if (c === 0x5c) {
        const e = text[i + 1];
        i += 2;
        switch (e) {
          case '"': out += '"'; break;
          case "\\": out += "\\"; break;
          case "/": out += "/"; break;
          case "b": out += "\b"; break;
          case "f": out += "\f"; break;
          case "n": out += "\n"; break;
          case "r": out += "\r"; break;
          case "t": out += "\t"; break;
          case "u": {
            const h = text.slice(i, i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(h)) fail("bad \\u escape");
            out += String.fromCharCode(parseInt(h, 16));
            i += 4;
            break;
          }
          default: fail("bad escape");
        }
      } else {
        out += text[i];
        i++;
      }
    }
    if (/[\ud800-\udfff]/.test(out)) {
      for (let k = 0; k < out.length; k++) {
        const u = out.charCodeAt(k);
        if (u >= 0xd800 && u <= 0xdbff) {
          const next = out.charCodeAt(k + 1);
          if (next >= 0xdc00 && next <= 0xdfff) { k++; continue; }
          fail("lone surrogate");
        } else if (u >= 0xdc00 && u <= 0xdfff) fail("lone surrogate");
      }
    }
    return out;
  };
  // Set by number() when the number it read is a float with a whole value, for the container to note.
  let wholeFloat = false;
  const number = (): number | bigint => {
    const match = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!match || match[0].length === 0 || match[0] === "-") return fail("bad number");
    i += match[0].length;
    if (match[2] === undefined && match[3] === undefined) {
      const big = BigInt(match[0]);
      if (big >= INT64_MIN && big <= INT64_MAX) {
        return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
      }
    }
    // A fraction, an exponent, or an integer beyond 64 bits: a double, as in Charter's parser.
    const value = Number(match[0]);
    if (!Number.isFinite(value)) fail("number out of range");
    wholeFloat = Number.isInteger(value);
    return value;
  };
  /** A container's member: a value, noted when it was written as a float with a whole value. */
  const item = (container: object, key: string | number, depth: number): JSONValue => {
    wholeFloat = false;
    const read = value(depth);
    if (wholeFloat && typeof read === "number") markFloat(container, key);
    wholeFloat = false;
    return read;
  };
  const value = (depth: number): JSONValue => {
    ws();
    const c = text[i];
    if (c === "{") {
      if (depth >= maxDepth) fail("nesting too deep");
      i++;
      const map = newMap<JSONValue>();
      const seen = new Set<string>();
      ws();
      if (text[i] === "}") {
        i++;
        return map;
      }
      while (true) {
        ws();
        if (text[i] !== '"') fail("expected a key");
        const key = string();
        const normal = key.normalize("NFC");
        if (seen.has(normal)) fail("duplicate key");
        seen.add(normal);
        ws();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        map[key] = item(map, key, depth + 1);
        ws();
        if (text[i] === ",") { i++; continue; }
        if (text[i] === "}") { i++; return map; }
        fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      if (depth >= maxDepth) fail("nesting too deep");
      i++;
      const list: JSONValue[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return list;
      }
      while (true) {
        list.push(item(list, list.length, depth + 1));
        ws();
        if (text[i] === ",") { i++; continue; }
        if (text[i] === "]") { i++; return list; }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    if (text.startsWith("true", i)) { i += 4; return true; }
    if (text.startsWith("false", i)) { i += 5; return false; }
    if (text.startsWith("null", i)) { i += 4; return null; }
    if (c === "-" || (c >= "0" && c <= "9")) return number();
    return fail("unexpected character");
  };
  const result = value(0);
  ws();
  if (i !== text.length) fail("trailing characters");
  return result;
}

/**
 * `text.startsWith(prefix)` at a character boundary, as Swift's `hasPrefix` compares whole characters: a
 * combining mark, zero-width joiner or variation selector right after the prefix joins the character before it.
 */
export function hasPrefix(text: string, prefix: string): boolean {
  if (!text.startsWith(prefix)) return false;
  if (text.length === prefix.length || prefix.length === 0) return true;
  const following = String.fromCodePoint(text.codePointAt(prefix.length)!);
  return !(/^[\p{Mn}\p{Mc}\p{Me}]$/u.test(following) || following === "\u200d"
    || (following >= "\ufe00" && following <= "\ufe0f"));
}
