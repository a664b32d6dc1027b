// DAG-CBOR, the canonical binary form UCAN 1.0 envelopes are written in: a canonical encoder and a strict decoder.
//
// IPLD values are null, booleans, integers (64-bit signed: numbers, or bigints beyond 2^53), finite floats,
// strings, bytes (Uint8Array), lists, maps with string keys, and links (CID). The decoder accepts exactly the
// canonical form, as Charter's does: shortest heads, map keys in length-then-bytewise order and unique (also up to
// Unicode normalisation), definite lengths, tag 42 only, 64-bit floats only, valid UTF-8, nothing trailing.

import { CID } from "./crypto.js";
import { compareBytes, concat, fromUtf8, isFloatAt, isObject, markFloat, newMap, utf8 } from "./encoding.js";
import { UCANError } from "./errors.js";

export type IPLD = null | boolean | number | bigint | string | Uint8Array | CID | IPLD[] | { [key: string]: IPLD };

export const MAX_BYTES = 32 * 1024;
export const MAX_DEPTH = 64;
export const MAX_ITEMS = 8192;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

class Writer {
  private chunks: Uint8Array[] = [];
  push(bytes: Uint8Array | number[]): void {
    this.chunks.push(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes));
  }
  head(major: number, argument: number | bigint): void {
    const high = major << 5;
    const n = BigInt(argument);
    if (n < 24n) this.push([high | Number(n)]);
    else if (n < 0x100n) this.push([high | 24, Number(n)]);
    else if (n < 0x10000n) this.push([high | 25, Number(n >> 8n), Number(n & 0xffn)]);
    else if (n < 0x100000000n) {
      const out = new Uint8Array(5);
      out[0] = high | 26;
      new DataView(out.buffer).setUint32(1, Number(n));
      this.push(out);
    } else {
      const out = new Uint8Array(9);
      out[0] = high | 27;
      new DataView(out.buffer).setBigUint64(1, n);
      this.push(out);
    }
  }
  result(): Uint8Array {
    return concat(...this.chunks);
  }
}

/** DAG-CBOR's map key order: shorter UTF-8 first, then bytewise. */
export function keyOrder(a: string, b: string): number {
  const x = utf8(a), y = utf8(b);
  return x.length - y.length || compareBytes(x, y);
}

/** The canonical DAG-CBOR of an IPLD value. Throws TypeError on anything else. */
export function encode(value: unknown): Uint8Array {
  const writer = new Writer();
  write(value, writer, 0);
  return writer.result();
}

/** `float`: the value's container noted it as a float, so a whole value stays a float64. */
function write(value: unknown, out: Writer, depth: number, float = false): void {
  if (depth > MAX_DEPTH) throw new TypeError("nested deeper than DAG-CBOR allows");
  if (value === null) out.push([0xf6]);
  else if (value === true) out.push([0xf5]);
  else if (value === false) out.push([0xf4]);
  else if (typeof value === "bigint" || (typeof value === "number" && Number.isInteger(value) && !float)) {
    const n = BigInt(value);
    if (n < INT64_MIN || n > INT64_MAX) throw new TypeError("integers must fit in 64 signed bits");
    if (n >= 0n) out.head(0, n);
    else out.head(1, -1n - n);
  } else if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError("floats must be finite");
    const bytes = new Uint8Array(9);
    bytes[0] = 0xfb;
    new DataView(bytes.buffer).setFloat64(1, value);
    out.push(bytes);
  } else if (typeof value === "string") {
    const bytes = utf8(value);
    out.head(3, bytes.length);
    out.push(bytes);
  } else if (value instanceof Uint8Array) {
    out.head(2, value.length);
    out.push(value);
  } else if (value instanceof CID) {
    const binary = concat(Uint8Array.of(0), value.bytes);
    out.push([0xd8, 0x2a]);
    out.head(2, binary.length);
    out.push(binary);
  } else if (Array.isArray(value)) {
    out.head(4, value.length);
    value.forEach((item, index) => write(item, out, depth + 1, isFloatAt(value, index)));
  } else if (isObject(value)) {
    const keys = Object.keys(value).filter((key) => value[key] !== undefined).sort(keyOrder);
    out.head(5, keys.length);
    for (const key of keys) {
      const bytes = utf8(key);
      out.head(3, bytes.length);
      out.push(bytes);
      write(value[key], out, depth + 1, isFloatAt(value, key));
    }
  } else {
    throw new TypeError(`${typeof value} is not an IPLD value`);
  }
}

/** Exactly one canonical DAG-CBOR value; UCANError `malformed` (naming the rule and offset) or `too_large`. */
export function decode(data: Uint8Array, maxBytes = MAX_BYTES): IPLD {
  if (data.length > maxBytes) {
    throw new UCANError("too_large", `dag-cbor: ${data.length} bytes is over the limit of ${maxBytes}`);
  }
  if (data.length === 0) throw new UCANError("malformed", "dag-cbor at byte 0: unexpected end of input");
  // A copy: byte strings are taken from it, and the caller's buffer (a pooled Buffer, say) may be reused.
  const reader = new Reader(new Uint8Array(data));
  const value = reader.value(0);
  if (reader.position !== data.length) throw malformed("trailing bytes after the value", reader.position);
  return value;
}

function malformed(rule: string, offset: number): UCANError {
  return new UCANError("malformed", `dag-cbor at byte ${offset}: ${rule}`);
}

const MINIMUM = [24n, 0x100n, 0x10000n, 0x100000000n];
const CONTAINER_NAMES: Record<number, string> = { 2: "byte string", 3: "text string", 4: "list", 5: "map" };

class Reader {
  position = 0;
  private readonly view: DataView;
  constructor(private readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  private bigEndian(width: number): bigint {
    if (this.data.length - this.position < width) throw malformed("unexpected end of input", this.data.length);
    let value: bigint;
    if (width === 1) value = BigInt(this.view.getUint8(this.position));
    else if (width === 2) value = BigInt(this.view.getUint16(this.position));
    else if (width === 4) value = BigInt(this.view.getUint32(this.position));
    else value = this.view.getBigUint64(this.position);
    this.position += width;
    return value;
  }

  argument(info: number, major: number, start: number): bigint {
    if (info < 24) return BigInt(info);
    if (info >= 24 && info <= 27) {
      const value = this.bigEndian(1 << (info - 24));
      if (value < MINIMUM[info - 24]) {
        const what = major <= 1 ? "integer" : major === 6 ? "tag number" : "length";
        throw malformed(`${what} not in its shortest form`, start);
      }
      return value;
    }
    if (info === 31 && major >= 2 && major <= 5) {
      throw malformed(`indefinite-length ${CONTAINER_NAMES[major]} (only definite lengths are allowed)`, start);
    }
    throw malformed(`reserved additional information ${info}`, start);
  }

  private remaining(length: bigint, what: string, start: number): number {
    if (length > BigInt(this.data.length - this.position)) {
      throw malformed(`${what} of ${length} bytes runs past the end of the input`, start);
    }
    return Number(length);
  }

  private take(length: number): Uint8Array {
    const chunk = this.data.slice(this.position, this.position + length);
    this.position += length;
    return chunk;
  }

  private text(length: number, start: number, what: string): string {
    const text = fromUtf8(this.take(length));
    if (text === null) throw malformed(`invalid UTF-8 in ${what}`, start);
    return text;
  }

  private container(items: bigint, minimum: number, what: string, depth: number, start: number): number {
    if (items > BigInt(Math.floor((this.data.length - this.position) / minimum))) {
      throw malformed(`${what} of ${items} items runs past the end of the input`, start);
    }
    if (items > BigInt(MAX_ITEMS)) {
      throw new UCANError("too_large", `dag-cbor at byte ${start}: ${what} of ${items} items is over the limit of ${MAX_ITEMS}`);
    }
    if (depth >= MAX_DEPTH) {
      throw new UCANError("too_large", `dag-cbor at byte ${start}: nested deeper than ${MAX_DEPTH} lists and maps`);
    }
    return Number(items);
  }

  value(depth: number): IPLD {
    const start = this.position;
    if (start >= this.data.length) throw malformed("unexpected end of input", start);
    const initial = this.data[start];
    this.position += 1;
    const major = initial >> 5, info = initial & 0x1f;
    if (major === 7) return this.simple(info, start);
    const argument = this.argument(info, major, start);
    switch (major) {
      case 0:
        if (argument > INT64_MAX) throw malformed("integer outside Int64", start);
        return integer(argument);
      case 1:
        if (argument > INT64_MAX) throw malformed("integer outside Int64", start);
        return integer(-1n - argument);
      case 2:
        return this.take(this.remaining(argument, "byte string", start));
      case 3:
        return this.text(this.remaining(argument, "text string", start), start, "text string");
      case 4: {
        const count = this.container(argument, 1, "list", depth, start);
        const list: IPLD[] = [];
        for (let i = 0; i < count; i++) list.push(this.item(list, i, depth + 1));
        return list;
      }
      case 5:
        return this.map(this.container(argument, 2, "map", depth, start), depth);
      default:
        return this.link(argument, start);
    }
  }

  /** A list's or map's member; a float64 with a whole value is noted as a float on its container. */
  private item(container: object, key: string | number, depth: number): IPLD {
    const float = this.data[this.position] === 0xfb;
    const value = this.value(depth);
    if (float && typeof value === "number" && Number.isInteger(value)) markFloat(container, key);
    return value;
  }

  private simple(info: number, start: number): IPLD {
    switch (info) {
      case 20: return false;
      case 21: return true;
      case 22: return null;
      case 23: throw malformed("undefined is not supported", start);
      case 24: throw malformed(`simple value ${this.bigEndian(1)} is not supported`, start);
      case 25: throw malformed("half-precision float (floats must be 64-bit)", start);
      case 26: throw malformed("single-precision float (floats must be 64-bit)", start);
      case 27: {
        this.remaining(8n, "float", start);
        const number = this.view.getFloat64(this.position);
        this.position += 8;
        if (Number.isNaN(number)) throw malformed("NaN is not supported", start);
        if (!Number.isFinite(number)) throw malformed("infinity is not supported", start);
        return number;
      }
      case 31: throw malformed("unexpected break code (only definite lengths are allowed)", start);
      default:
        if (info >= 28) throw malformed(`reserved additional information ${info}`, start);
        throw malformed(`simple value ${info} is not supported`, start);
    }
  }

  private map(entries: number, depth: number): { [key: string]: IPLD } {
    const fields = newMap<IPLD>();
    const normalized = new Set<string>();
    let previous: Uint8Array | null = null;
    for (let i = 0; i < entries; i++) {
      const keyStart = this.position;
      if (keyStart >= this.data.length) throw malformed("unexpected end of input", keyStart);
      const initial = this.data[keyStart];
      if (initial >> 5 !== 3) throw malformed("map key is not a text string", keyStart);
      this.position += 1;
      const length = this.remaining(this.argument(initial & 0x1f, 3, keyStart), "map key", keyStart);
      const raw = this.data.subarray(this.position, this.position + length);
      if (previous !== null) {
        const order = raw.length - previous.length || compareBytes(raw, previous);
        if (order === 0) throw malformed("duplicate map key", keyStart);
        if (order < 0) throw malformed("map keys out of order", keyStart);
      }
      previous = raw;
      const key = this.text(length, keyStart, "map key");
      const field = this.item(fields, key, depth + 1);
      const normal = key.normalize("NFC");
      if (normalized.has(normal)) throw malformed("map keys differ only in Unicode normalization", keyStart);
      normalized.add(normal);
      fields[key] = field;
    }
    return fields;
  }

  private link(tag: bigint, start: number): CID {
    if (tag !== 42n) throw malformed(`tag ${tag} is not supported (only 42)`, start);
    const contentStart = this.position;
    if (contentStart >= this.data.length) throw malformed("unexpected end of input", contentStart);
    const initial = this.data[contentStart];
    if (initial >> 5 !== 2) throw malformed("tag 42 does not wrap a byte string", contentStart);
    this.position += 1;
    const length = this.argument(initial & 0x1f, 2, contentStart);
    const content = this.take(this.remaining(length, "byte string", contentStart));
    if (content.length === 0 || content[0] !== 0) throw malformed("CID lacks its 0x00 multibase prefix", contentStart);
    try {
      return CID.fromBytes(content.subarray(1));
    } catch {
      throw malformed("tag 42 does not hold a CIDv1 with a supported codec and hash", contentStart);
    }
  }
}

function integer(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}
