// Builds the whole case list, deterministically from a seed. Each family generator appends to one
// array; the order (and so every case) depends only on the seed, the scale and the host features.
import { Case } from './cases';
import { genAlu, genDiv, genMul, genTest, genUnary } from './gen-arith';
import { genBitScan, genBitTest, genBswap } from './gen-bits';
import { genBcd, genShortIncDec } from './gen-legacy';
import { Gen, HostFeatures } from './gen-common';
import { genConditional, genExchangeArith, genExtend, genFlagOps, genLea, genMoves } from './gen-move';
import { genDoubleShift, genGroup2 } from './gen-shift';
import { Rng } from './prng';

export type { HostFeatures } from './gen-common';

export const DEFAULT_SEED = 0x5eed_c0de;

export interface GenerateOptions {
  seed?: number;
  /** Multiplies every family's case count; 1 gives the default suite (~40k cases). */
  scale?: number;
  features: HostFeatures;
}

const GENERATORS = [genAlu, genTest, genUnary, genMul, genDiv, genGroup2, genDoubleShift, genBitTest, genBitScan, genBswap,
  genExchangeArith, genExtend, genConditional, genLea, genMoves, genFlagOps, genBcd, genShortIncDec];

/**
 * 32-bit protected mode gets a lighter pass over the same families (the semantics are shared; what
 * differs is decoding: default sizes, 16-bit addressing, 40-4F as INC/DEC) plus its own BCD cases.
 */
const MODE32_SCALE = 0.15;

export function generateCases(opts: GenerateOptions): Case[] {
  const seed = opts.seed ?? DEFAULT_SEED;
  const scale = opts.scale ?? 1;
  const g: Gen = { rng: new Rng(seed), bits: 64, features: opts.features, scale, out: [] };
  for (const bits of (opts.features.compat32 === false ? [64] : [64, 32]) as Array<32 | 64>) {
    g.bits = bits;
    g.scale = bits === 64 ? scale : scale * MODE32_SCALE;
    // Every generator gets its own stream, so adding cases to one family leaves the others unchanged.
    GENERATORS.forEach((gen, i) => {
      g.rng = new Rng((seed ^ Math.imul(i + 1 + (bits === 32 ? 100 : 0), 0x9e3779b1)) >>> 0);
      gen(g);
    });
  }
  return g.out;
}
