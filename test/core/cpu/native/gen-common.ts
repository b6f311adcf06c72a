// Helpers every family generator uses: register choice, operand-size prefixes, initial state.
import { ARITH, Case, MachineState } from './cases';
import { encode, Encoding, gprOf, RegOp, RSP, Size } from './encoder';
import { MASK64, Rng } from './prng';

/** CPU features that decide whether some encodings mean what we think (F3 0F BD is BSR without ABM). */
export interface HostFeatures {
  lzcnt: boolean; tzcnt: boolean; popcnt: boolean; lahf64: boolean;
  /** The kernel runs 32-bit code (compatibility mode); false skips the 32-bit-mode cases. */
  compat32?: boolean;
}

export interface Gen {
  rng: Rng;
  /** Code size the cases run in: 64-bit mode, or 32-bit protected mode (no REX, no r8..r15). */
  bits: 32 | 64;
  features: HostFeatures;
  /** Multiplies every family's case count (1 = the default suite). */
  scale: number;
  out: Case[];
}

/** RSP is never an operand: the native harness runs the case on its real stack (see harness.c). */
export const INITIAL_RSP = 0x7ff0n;

const POOL_LEGACY8 = [0, 1, 2, 3, 16, 17, 18, 19];
const POOL_NO_RSP = [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
const POOL_LEGACY = [0, 1, 2, 3, 5, 6, 7];

export function count(g: Gen, base: number): number {
  return Math.max(1, Math.round(base * g.scale));
}

/**
 * `n` register operands of one size, sometimes repeating one (xor eax,eax and friends take other
 * paths in some implementations). `rex` says the instruction has a REX prefix anyway, so AH..BH are
 * not encodable; 8-bit choices otherwise mix the legacy set (with AH..BH) and the REX set.
 */
export function pickRegs(g: Gen, size: Size, n: number, rex = false): RegOp[] {
  const pool = size === 8 && (g.bits === 32 || (!rex && g.rng.chance(0.4))) ? POOL_LEGACY8 : g.bits === 32 ? POOL_LEGACY : POOL_NO_RSP;
  const regs: RegOp[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0 && g.rng.chance(0.15)) regs.push({ ...regs[g.rng.below(i)] });
    else regs.push({ size, n: g.rng.pick(pool) });
  }
  return regs;
}

export function pickReg(g: Gen, size: Size, rex = false): RegOp {
  return pickRegs(g, size, 1, rex)[0];
}

/** 0x66 for 16-bit operands, REX.W for 64-bit (SDM vol. 2, 2.2.1.2 and table 3-4). */
export function sizeEncoding(size: Size): { prefixes: number[]; rexW: boolean } {
  return { prefixes: size === 16 ? [0x66] : [], rexW: size === 64 };
}

export function randomFlags(g: Gen): bigint {
  return BigInt((g.rng.u32() & ARITH) | 2);
}

export function initialState(g: Gen): MachineState {
  const gpr: bigint[] = [];
  for (let i = 0; i < 16; i++) gpr.push(i === RSP ? INITIAL_RSP : g.rng.value());
  return { gpr, rflags: randomFlags(g) };
}

/** Writes `value` into the part of the register an operand names, keeping the other bits. */
export function setOperand(state: MachineState, r: RegOp, value: bigint): void {
  const n = gprOf(r);
  const shift = r.size === 8 && r.n >= 16 ? 8n : 0n;
  const m = ((1n << BigInt(r.size)) - 1n) << shift;
  state.gpr[n] = ((state.gpr[n] & ~m) | ((value << shift) & m)) & MASK64;
}

export function getOperand(state: MachineState, r: RegOp): bigint {
  const shift = r.size === 8 && r.n >= 16 ? 8n : 0n;
  return (state.gpr[gprOf(r)] >> shift) & ((1n << BigInt(r.size)) - 1n);
}

export interface CaseSpec {
  family: string;
  form: string;
  text: string;
  enc: Encoding;
  state: MachineState;
  regs: number[];
  undefinedFlags?: number;
  undefinedResult?: string;
}

export function emit(g: Gen, s: CaseSpec): void {
  const regs = [...new Set(s.regs)].sort((a, b) => a - b);
  g.out.push({
    family: s.family, form: g.bits === 32 ? `${s.form} [32-bit mode]` : s.form, text: s.text, code: encode(s.enc), bits: g.bits, input: s.state,
    undefinedFlags: s.undefinedFlags ?? 0, undefinedResult: s.undefinedResult, regs,
  });
}

/** Operand sizes of the current mode (no 64-bit operands outside 64-bit mode). */
export function sizes(g: Gen): Size[] {
  return g.bits === 64 ? [8, 16, 32, 64] : [8, 16, 32];
}

export function wide(g: Gen): Size[] {
  return g.bits === 64 ? [16, 32, 64] : [16, 32];
}

export function immBytes(size: Size): 1 | 2 | 4 {
  return size === 8 ? 1 : size === 16 ? 2 : 4;
}

export function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}
