// The decoded form of one instruction: decoded once by iced-x86, kept in the
// per-physical-page cache, executed many times. A fixed-shape class so the
// interpreter's property accesses stay monomorphic.
import type { Cpu } from './cpu';

export type Handler = (cpu: Cpu, i: Insn) => void;

export class Insn {
  exec: Handler = unimplemented;
  /** iced-x86 Code (exact form) and Mnemonic. */
  code = 0;
  mnem = 0;
  len = 0;
  /** Decoder bitness (16, 32, 64): a cached instruction is reused only in the same mode. */
  bits = 0;
  /** Operand size in bytes of the instruction's main operand (1, 2, 4, 8; 16 for XMM). */
  opSize = 0;
  /** Address size in bytes (2, 4, 8). */
  addrSize = 0;
  nops = 0;
  // Operands 0..2: kind (K_*), register id, size in bytes.
  k0 = 0; r0 = 0; s0 = 0;
  k1 = 0; r1 = 0; s1 = 0;
  k2 = 0; r2 = 0; s2 = 0;
  // Memory operand (at most one per instruction).
  mBase = -1;      // GPR id, -1 none, -2 RIP/EIP-relative
  mIndex = -1;
  mScale = 1;
  dispLo = 0;      // for RIP-relative: displacement from the start of this instruction (a number)
  dispHi = 0;
  mSeg = 3;        // effective segment (DS default, SS for BP/SP bases, override prefix)
  memSize = 0;     // bytes accessed (0 when unknown/not applicable)
  // Immediates.
  immLo = 0;
  immHi = 0;
  imm2 = 0;
  /** Near branch: target minus the address of the next instruction. */
  rel = 0;
  farSel = 0;
  farOff = 0;
  /** Condition code 0..15 in the hardware's encoding (O, NO, B, AE, E, NE, BE, A, S, NS, P, NP, L, GE, LE, G). */
  cc = 0;
  /** 0 none, 1 REP/REPE, 2 REPNE. */
  rep = 0;
  lock = false;
  /**
   * The instruction ends a JIT block (control transfer or not whitelisted), so the one
   * after it starts a block: only those starts count towards compiling. Set when the
   * instruction enters the decode cache; true for uncached ones.
   */
  endsBlock = true;
  /**
   * Conditional branches: executions seen by the interpreter and how many were taken,
   * counted up to BRANCH_SAMPLES. The JIT follows a strongly biased branch into a trace.
   */
  branchSeen = 0;
  branchTaken = 0;
  /**
   * RET: where its last execution went, and how many executions before that in a row went
   * there too (up to BRANCH_SAMPLES), as the interpreter and compiled blocks leaving at it
   * saw them (noteReturn). The JIT follows a RET that always returns to one place into a
   * trace, which checks the address it pops.
   */
  retTarget = NaN;
  retSame = 0;
  /** The raw bytes, for messages and the disassembler. */
  bytes: Uint8Array = EMPTY;
}

const EMPTY = new Uint8Array(0);

/** Conditional branch executions the interpreter counts (Insn.branchSeen) before it stops. */
export const BRANCH_SAMPLES = 1024;

/** Records where RET `i` went (Insn.retTarget). */
export function noteReturn(i: Insn, target: number): void {
  if (target === i.retTarget) {
    if (i.retSame < BRANCH_SAMPLES) i.retSame++;
  } else {
    i.retTarget = target;
    i.retSame = 0;
  }
}

function unimplemented(cpu: Cpu, i: Insn): void {
  cpu.unsupported(i);
}
