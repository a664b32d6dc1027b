// Edwards25519 point checks for did:keys, as libsodium's crypto_core_ed25519_is_valid_point makes them: a canonical
// encoding of a point on the curve, not of small order, with no torsion component. node:crypto imports any 32 bytes
// as an Ed25519 key and checks none of this (a lenient verifier accepts forged signatures for small-order keys), and
// offers no arithmetic on the curve, so this is BigInt arithmetic modulo 2^255 - 19: about 1 ms a key, which is why
// crypto.ts remembers the answer per DID and bounds how many new DIDs one verification may make it check.

const P = 2n ** 255n - 19n;
const MASK = 2n ** 255n - 1n;
/** The order of the prime subgroup: 2^252 + C. */
const C = 27742317777372353535851937790883648493n;
const D = 37095705934669439343138083508754565189542113879843219016388785533085940283555n;
const D2 = (2n * D) % P;
const SQRT_M1 = 19681161376707505956807079304988542015446066515923890162744021073123829784752n;

/** a mod p for 0 <= a < 2^520: two folds of the bits above 2^255 (2^255 ≡ 19), then at most one subtraction. */
function reduce(a: bigint): bigint {
  let r = (a & MASK) + 19n * (a >> 255n);
  r = (r & MASK) + 19n * (r >> 255n);
  return r >= P ? r - P : r;
}

const mul = (a: bigint, b: bigint): bigint => reduce(a * b);
/** a - b, kept non-negative for reduced inputs. */
const sub = (a: bigint, b: bigint): bigint => a - b + P;

function power(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = base;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = mul(result, b);
    b = mul(b, b);
    e >>= 1n;
  }
  return result;
}

type Point = { x: bigint; y: bigint; z: bigint; t: bigint }; // extended coordinates: x = X/Z, y = Y/Z, xy = T/Z

/** 2P for a = -1 (dbl-2008-hwcd): 4 squarings and 4 multiplications. */
function double(p: Point): Point {
  const a = mul(p.x, p.x);
  const b = mul(p.y, p.y);
  const c = reduce(2n * mul(p.z, p.z));
  const e = sub(sub(mul(p.x + p.y, p.x + p.y), a), b);
  const g = sub(b, a);
  const f = sub(g, c);
  const h = sub(P - a, b);
  return { x: mul(e, f), y: mul(g, h), z: mul(f, g), t: mul(e, h) };
}

/** P + Q for a = -1 (add-2008-hwcd-3): 9 multiplications. */
function add(p: Point, q: Point): Point {
  const a = mul(sub(p.y, p.x), sub(q.y, q.x));
  const b = mul(p.y + p.x, q.y + q.x);
  const c = mul(mul(p.t, D2), q.t);
  const d = reduce(2n * mul(p.z, q.z));
  const e = sub(b, a), f = sub(d, c), g = d + c, h = b + a;
  return { x: mul(e, f), y: mul(g, h), z: mul(f, g), t: mul(e, h) };
}

function isIdentity(p: Point): boolean {
  return reduce(p.x) === 0n && reduce(p.y) === reduce(p.z);
}

/** The point a 32-byte encoding names, or null when it is non-canonical or not on the curve. */
function decode(key: Uint8Array): Point | null {
  if (key.length !== 32) return null;
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? key[i] & 0x7f : key[i]);
  const sign = key[31] >> 7;
  if (y >= P) return null;
  const y2 = mul(y, y);
  const u = reduce(sub(y2, 1n));
  const v = reduce(mul(D, y2) + 1n);
  const v3 = mul(mul(v, v), v);
  let x = mul(mul(u, v3), power(mul(u, mul(v3, mul(v3, v))), (P - 5n) / 8n));
  const check = mul(v, mul(x, x));
  if (check === (P - u) % P) x = mul(x, SQRT_M1);
  else if (check !== u) return null;
  if (x === 0n && sign === 1) return null;
  if (Number(x & 1n) !== sign) x = P - x;
  return { x, y, z: 1n, t: mul(x, y) };
}

/**
 * The y-coordinates (sign bit cleared) of the points of small order, with the non-canonical spellings of 0 and 1:
 * libsodium's blocklist (`ge25519_has_small_order`). The 8 points of order 1, 2, 4 and 8 are exactly the curve points
 * with these y, whichever their x's sign.
 */
const SMALL_ORDER: readonly Uint8Array[] = [
  "0000000000000000000000000000000000000000000000000000000000000000", // y = 0: order 4
  "0100000000000000000000000000000000000000000000000000000000000000", // y = 1: the identity
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p - 1: order 2
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p (0, not canonical)
  "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p + 1 (1, not canonical)
].map((hex) => Uint8Array.from(hex.match(/../g)!, (pair) => parseInt(pair, 16)));

/** Whether 32 bytes spell a point of small order (or 0 or 1 non-canonically): a table lookup, no arithmetic. */
export function hasSmallOrderEncoding(key: Uint8Array): boolean {
  if (key.length !== 32) return false;
  return SMALL_ORDER.some((entry) => {
    for (let i = 0; i < 31; i++) if (key[i] !== entry[i]) return false;
    return (key[31] & 0x7f) === entry[31];
  });
}

/** Whether y (the sign bit cleared) is below p: the encoding is canonical. A byte comparison, no arithmetic. */
export function isCanonicalEncoding(key: Uint8Array): boolean {
  if (key.length !== 32) return false;
  if ((key[31] & 0x7f) !== 0x7f) return true;
  for (let i = 30; i > 0; i--) if (key[i] !== 0xff) return true;
  return key[0] < 0xed;
}

/**
 * Whether 32 bytes are the canonical encoding of a curve point of full (prime) order: on the curve, not of small
 * order, with no torsion component. The cheap refusals first (a non-canonical encoding, libsodium's small-order
 * table), then about 1 ms of arithmetic: the point is multiplied by the group order.
 */
export function isFullOrderPoint(key: Uint8Array): boolean {
  return isCanonicalEncoding(key) && !hasSmallOrderEncoding(key) && hasPrimeOrder(key);
}

/** The arithmetic alone: whether the encoding decodes to a point P on the curve with [8]P and [L]P as they must be. */
export function hasPrimeOrder(key: Uint8Array): boolean {
  const point = decode(key);
  if (point === null || isIdentity(double(double(double(point))))) return false;
  // [L]P = [2^252]P + [C]P, both from the successive doublings of P.
  let sum: Point | null = null;
  let doubled = point;
  let c = C;
  for (let i = 0; i < 252; i++) {
    if (c & 1n) sum = sum === null ? doubled : add(sum, doubled);
    c >>= 1n;
    doubled = double(doubled);
  }
  return isIdentity(sum === null ? doubled : add(sum, doubled));
}
