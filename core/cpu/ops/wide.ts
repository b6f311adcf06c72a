// Wide multiplication and division on 32-bit limbs, for MUL/IMUL/DIV/IDIV at 32 and 64
// bits without BigInt. Results land in the module-level `W` array (no allocation).

/** Result limbs, least significant first (int32 each). */
export const W = new Int32Array(4);
const TWO32 = 4294967296;

/** Unsigned 32x32 -> 64: W[0] = low, W[1] = high. */
export function umul32(a: number, b: number): void {
  a >>>= 0; b >>>= 0;
  const aL = a & 0xffff, aH = a >>> 16, bL = b & 0xffff, bH = b >>> 16;
  const ll = aL * bL, lh = aL * bH, hl = aH * bL, hh = aH * bH;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  W[0] = ((mid & 0xffff) << 16) | (ll & 0xffff);
  W[1] = (hh + (lh >>> 16) + (hl >>> 16) + Math.floor(mid / 65536)) | 0;
}

/** Signed 32x32 -> 64. */
export function smul32(a: number, b: number): void {
  umul32(a, b);
  let hi = W[1];
  if ((a | 0) < 0) hi -= b;
  if ((b | 0) < 0) hi -= a;
  W[1] = hi | 0;
}

/** Unsigned 64x64 -> 128 from (hi, lo) halves: W[0..3]. */
export function umul64(aH: number, aL: number, bH: number, bL: number): void {
  umul32(aL, bL); const p0l = W[0] >>> 0, p0h = W[1] >>> 0;
  umul32(aL, bH); const p1l = W[0] >>> 0, p1h = W[1] >>> 0;
  umul32(aH, bL); const p2l = W[0] >>> 0, p2h = W[1] >>> 0;
  umul32(aH, bH); const p3l = W[0] >>> 0, p3h = W[1] >>> 0;
  const r0 = p0l;
  let t = p0h + p1l + p2l;
  const r1 = t >>> 0;
  t = Math.floor(t / TWO32) + p1h + p2h + p3l;
  const r2 = t >>> 0;
  t = Math.floor(t / TWO32) + p3h;
  W[0] = r0 | 0; W[1] = r1 | 0; W[2] = r2 | 0; W[3] = t | 0;
}

/** Signed 64x64 -> 128. */
export function smul64(aH: number, aL: number, bH: number, bL: number): void {
  umul64(aH, aL, bH, bL);
  // Two's-complement correction of the upper 64 bits: subtract b if a < 0, a if b < 0.
  if (aH < 0) sub64Upper(bH, bL);
  if (bH < 0) sub64Upper(aH, aL);
}

function sub64Upper(h: number, l: number): void {
  let lo = (W[2] >>> 0) - (l >>> 0);
  const borrow = lo < 0 ? 1 : 0;
  lo >>>= 0;
  W[2] = lo | 0;
  W[3] = (W[3] - h - borrow) | 0;
}

/**
 * Unsigned division of the 128-bit value n3:n2:n1:n0 by the 64-bit d1:d0.
 * Returns false when the divisor is zero or the quotient does not fit in 64 bits (#DE).
 * Quotient in W[0], W[1]; remainder in W[2], W[3].
 */
export function udiv128(n3: number, n2: number, n1: number, n0: number, d1: number, d0: number): boolean {
  n3 >>>= 0; n2 >>>= 0; n1 >>>= 0; n0 >>>= 0; d1 >>>= 0; d0 >>>= 0;
  if (d1 === 0 && d0 === 0) return false;
  // Quotient fits in 64 bits iff the high 64 bits of the dividend are below the divisor.
  if (n3 > d1 || (n3 === d1 && n2 >= d0)) return false;
  if (n3 === 0 && n2 === 0 && n1 < 0x200000) {
    // Dividend below 2^53: exact in floating point.
    const n = n1 * TWO32 + n0, d = d1 * TWO32 + d0;
    const q = Math.floor(n / d), r = n - q * d;
    W[0] = q % TWO32 | 0; W[1] = Math.floor(q / TWO32) | 0; W[2] = r % TWO32 | 0; W[3] = Math.floor(r / TWO32) | 0;
    return true;
  }
  // Restoring division, one quotient bit per step: remainder r1:r0 starts as the high half.
  let r1 = n3, r0 = n2, q1 = 0, q0 = 0;
  for (let bit = 63; bit >= 0; bit--) {
    const inBit = bit >= 32 ? (n1 >>> (bit - 32)) & 1 : (n0 >>> bit) & 1;
    const top = r1 >>> 31;
    r1 = ((r1 << 1) | (r0 >>> 31)) >>> 0;
    r0 = ((r0 << 1) | inBit) >>> 0;
    if (top || r1 > d1 || (r1 === d1 && r0 >= d0)) {
      const lo = r0 - d0;
      r0 = lo >>> 0;
      r1 = (r1 - d1 - (lo < 0 ? 1 : 0)) >>> 0;
      if (bit >= 32) q1 |= 1 << (bit - 32); else q0 |= 1 << bit;
    }
  }
  W[0] = q0 | 0; W[1] = q1 | 0; W[2] = r0 | 0; W[3] = r1 | 0;
  return true;
}

/** Negates the 128-bit value held in (a3, a2, a1, a0) into W. */
export function neg128(a3: number, a2: number, a1: number, a0: number): void {
  let c = 1;
  const limbs = [~a0 >>> 0, ~a1 >>> 0, ~a2 >>> 0, ~a3 >>> 0];
  for (let k = 0; k < 4; k++) {
    const s = limbs[k] + c;
    W[k] = s | 0;
    c = s > 0xffffffff ? 1 : 0;
  }
}
