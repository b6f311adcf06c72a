// Deterministic random source for the case generator. sfc32 (Chris Doty-Humphrey's small fast
// counting generator): tiny, fast, and good enough that every seed gives a well-spread case mix.

export const MASK64 = (1n << 64n) - 1n;

export function mask(bits: number): bigint {
  return (1n << BigInt(bits)) - 1n;
}

/** Sign-extends the low `bits` bits of `v` to a 64-bit two's-complement value. */
export function signExtend(v: bigint, bits: number): bigint {
  const m = mask(bits);
  v &= m;
  return (v >> BigInt(bits - 1)) & 1n ? (v | ~m) & MASK64 : v;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }

  /** Uniform in 0..n-1 (n small; the modulo bias is irrelevant here). */
  below(n: number): number {
    return this.u32() % n;
  }

  chance(p: number): boolean {
    return this.u32() < p * 4294967296;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  bits(n: number): bigint {
    return this.u64() & mask(n);
  }

  /** A value of `width` bits that is often an edge case: 0, 1, the signed limits, all ones. */
  edge(width: number): bigint {
    const w = BigInt(width);
    const half = 1n << (w - 1n);
    const m = mask(width);
    switch (this.below(10)) {
      case 0: return 0n;
      case 1: return 1n;
      case 2: return half - 1n;
      case 3: return half;
      case 4: return m;
      case 5: return m - 1n;
      case 6: return half + 1n;
      case 7: return BigInt(this.below(5));
      case 8: return (m - BigInt(this.below(4))) & m;
      default: return 1n << BigInt(this.below(width));
    }
  }

  /**
   * A 64-bit register value: edges at every operand width, with the bits above that width random,
   * zero or all ones (so narrow operations are caught leaking into or clearing the upper part).
   */
  value(): bigint {
    const width = this.pick([8, 16, 32, 64]);
    const low = this.chance(0.55) ? this.edge(width) : this.bits(width);
    if (width === 64) return low;
    const upperKind = this.below(4);
    const upper = upperKind === 0 ? 0n : upperKind === 1 ? MASK64 : this.u64();
    return ((upper & ~mask(width)) | low) & MASK64;
  }
}
