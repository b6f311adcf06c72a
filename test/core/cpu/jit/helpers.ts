// Test helpers for the JIT: force a block to compile where the vCPU stands and run it, and a
// JIT twin of core/cpu/testing.ts's runSnippet, so the generated semantics cases can run
// through compiled blocks and be compared with the interpreter.
import { bareCpu, Bare, BareMode, CODE } from '../bare-cpu';
import type { Block } from '../../../../core/cpu/jit/block';
import { CpuFault } from '../../../../core/cpu/fault';
import { L_NONE } from '../../../../core/cpu/flags';
import { ARITH_FLAGS, DF } from '../../../../core/cpu/regs';

/** Builds (or rebuilds) the block at the vCPU's RIP; bare machines map linear = physical. */
export function buildAt(b: Bare): Block {
  const c = b.cpu;
  const dc = c.host.decodeCache;
  const pa = c.rip;
  const pagePa = pa - (pa % 4096);
  const page = dc.blocks.page(pagePa);
  dc.blocks.build(page, pagePa, pa % 4096, c.bits, dc.page(pagePa)!, c.rip);
  const blk = page.blocks[pa % 4096];
  if (!blk) throw new Error(`no block at 0x${pa.toString(16)}`);
  return blk;
}

/**
 * Compiles the block at RIP and runs it once (budget `end`), as Cpu.loop would with nothing
 * pending (attention clear); returns the vector of the exception it threw, if any.
 */
export function runBlockOnce(b: Bare, end = Infinity): number | null {
  const blk = buildAt(b);
  if (!blk.fn) throw new Error('block declined');
  b.cpu.attention = false;
  try {
    blk.fn(b.cpu, end, blk);
  } catch (e) {
    if (e instanceof CpuFault) return e.vector;
    throw e;
  }
  return null;
}

/** Runs `code` at CODE on two bare vCPUs, JIT off and on, with `prepare` applied to each; returns both. */
export function both(mode: BareMode, code: number[], prepare: (b: Bare) => void, budget: number): { interp: Bare; jit: Bare } {
  const make = (jit: boolean) => {
    const b = bareCpu(mode);
    b.cpu.host.decodeCache.blocks.enabled = jit;
    b.load(code);
    prepare(b);
    b.cpu.run(budget);
    return b;
  };
  return { interp: make(false), jit: make(true) };
}

/** Two bare vCPUs with the same code and registers: one interprets only, one compiles. */
export function twins(mode: 32 | 64, code: ArrayLike<number>): { interp: Bare; jit: Bare } {
  const interp = bareCpu(mode), jit = bareCpu(mode);
  interp.cpu.host.decodeCache.blocks.enabled = false;
  interp.load(code); jit.load(code);
  return { interp, jit };
}

/** What tests compare between the interpreter and the JIT: registers, RIP, flags, retired count. */
export function snapshot(b: Bare): { gpr: number[]; rip: number; flags: number; instret: number } {
  return { gpr: Array.from(b.cpu.gpr), rip: b.cpu.rip, flags: b.cpu.getFlags(), instret: b.cpu.instret };
}

// ---- runSnippet through compiled blocks ---------------------------------------------------------

interface SnippetState { gpr: bigint[]; rflags: bigint }
const machines: { 32?: Bare; 64?: Bare } = {};

/**
 * As testing.ts runSnippet, but each block of the snippet is compiled and run by the JIT:
 * registers in, registers and RFLAGS out, or the vector of the exception the code raised.
 */
export function runSnippet(code: Uint8Array, bits: 32 | 64, state: SnippetState): { state: SnippetState; fault: number | null } {
  const b = (machines[bits] ??= bareCpu(bits));
  const c = b.cpu;
  // HLT after the snippet ends its last block there (blocks run on past the snippet otherwise).
  b.poke(CODE, new Uint8Array(64));
  b.load([...code, 0xf4]);
  c.activity = 'active';
  for (let r = 0; r < 16; r++) {
    const v = BigInt.asUintN(64, state.gpr[r]);
    c.gpr[r] = Number(BigInt.asIntN(32, v));
    c.gpr[r + 16] = Number(BigInt.asIntN(32, v >> 32n));
  }
  c.lop = L_NONE;
  c.flags = (Number(BigInt.asUintN(32, state.rflags)) & (ARITH_FLAGS | DF)) | 2;
  const end = CODE + code.length;
  let fault: number | null = null;
  for (let n = 0; c.rip >= CODE && c.rip < end && fault === null; n++) {
    if (n > 100) throw new Error('snippet did not finish');
    fault = runBlockOnce(b);
  }
  const out: bigint[] = [];
  for (let r = 0; r < 16; r++) out.push((BigInt(c.gpr[r + 16] >>> 0) << 32n) | BigInt(c.gpr[r] >>> 0));
  return { state: { gpr: out, rflags: BigInt(c.getFlags() >>> 0) }, fault };
}
