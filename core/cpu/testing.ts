// Runs a few instructions on a bare vCPU and returns the registers they leave: the
// interpreter's half of the native differential tests (test/core/cpu/native/) and, later,
// the debugger's "evaluate this instruction" helper.
//
// One bare machine per bitness is built on first use and reused: flat ring-0 segments,
// for 64-bit mode 4-level paging that identity-maps the first 4 MiB, no devices. Each call
// resets the registers, copies the code into the code page and executes it with the
// interpreter's own fetch/execute step until RIP leaves the code (or HLT). A CPU exception
// is caught where the instruction raises it (before delivery), so the state returned is the
// one the exception handler would see, as a native signal handler sees it; INT n, INT3,
// INTO and INT1 are reported the same way (after the instruction) instead of being delivered.
// Snippets may use memory at 0x200000..0x3fffff (identity-mapped RAM, kept between calls).
import { Mnemonic } from './iced';
import { Cpu, CpuHost } from './cpu';
import './ops';
import { DecodeCache } from './decode-cache';
import { CpuFault, CpuStop } from './fault';
import { L_NONE } from './flags';
import { flushTlb } from './mmu';
import {
  ARITH_FLAGS, CS, DF, DS, ES, FS, GS, SS, CR0_ET, CR0_NE, CR0_PE, CR0_PG, CR4_OSFXSR, CR4_PAE,
  EFER_LMA, EFER_LME, EFER_NXE, OF,
} from './regs';
import { MmioBus, PortBus } from '../memory/bus';
import { PhysicalMemory } from '../memory/physical';
import { EventStream } from '../trace/events';

export interface SnippetState { gpr: bigint[] /* 16: rax rcx rdx rbx rsp rbp rsi rdi r8..r15 */; rflags: bigint; }
export interface SnippetResult { state: SnippetState; fault: number | null /* exception vector if one was raised, e.g. 0 for #DE */ }

// Layout of the bare machine (guest-physical = linear).
const RAM = 4 << 20;
const GDT = 0x500;
const PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000;
/** The code page: snippets run from here. */
const CODE = 0x100000;
/** Longest snippet accepted (the code must fit in its page with room to decode the last instruction). */
const MAX_CODE = 4096 - 16;
/** Executions (a REP chunk counts once) before a snippet is declared runaway. */
const MAX_STEPS = 100000;
/** RFLAGS bits taken from the input state: the arithmetic flags and DF (never IF, TF, VM...). */
const INPUT_FLAGS = ARITH_FLAGS | DF;

interface Bench {
  cpu: Cpu;
  phys: PhysicalMemory;
  bits: 32 | 64;
  /** Returns and forgets why the vCPU asked to stop (unsupported instruction, triple fault). */
  takeStop(): string | null;
  /** Bytes of the previous snippet, to skip rewriting (and re-decoding) identical code. */
  last: Uint8Array;
  // Baseline system state, restored when a snippet changed it.
  cr0: number; cr3: number; cr4: number; efer: number;
}

const benches: { 32?: Bench; 64?: Bench } = {};

function le(v: number, n: number): number[] {
  return Array.from({ length: n }, (_, k) => Math.floor(v / 2 ** (8 * k)) & 0xff);
}

function gdtEntry(limit: number, access: number, flags: number): number[] {
  return [limit & 0xff, (limit >> 8) & 0xff, 0, 0, 0, access, ((flags & 0xf) << 4) | ((limit >> 16) & 0xf), 0];
}

function buildBench(bits: 32 | 64): Bench {
  const events = new EventStream();
  const phys = new PhysicalMemory(RAM, new MmioBus(events));
  const ports = new PortBus(events);
  const decodeCache = new DecodeCache(phys);
  let stop: string | null = null;
  const host: CpuHost = {
    phys, ports, events, decodeCache,
    nowNs: () => 0,
    hasExtInt: () => false,
    ackExtInt: () => 0,
    requestStop: (_vcpu, _reason, message) => { stop ??= message; },
  };
  const cpu = new Cpu(0, host);
  const poke = (pa: number, bytes: number[]) => phys.writeBytes(pa, Uint8Array.from(bytes));
  const long = bits === 64;
  // GDT: 0x08 ring-0 code (64-bit or 32-bit), 0x10 ring-0 flat data, so segment loads work.
  poke(GDT, [...new Array(8).fill(0), ...gdtEntry(0xfffff, 0x9a, long ? 0xa : 0xc), ...gdtEntry(0xfffff, 0x92, 0xc)]);
  cpu.gdtBase = GDT; cpu.gdtLimit = 0x17;
  // No IDT: exceptions are caught before delivery and software interrupts are not executed
  // (see runSnippet), so a delivery can only be a bug; with limit 0 it ends in a triple fault stop.
  cpu.idtBase = 0; cpu.idtLimit = 0;
  cpu.cr0 = CR0_PE | CR0_ET | CR0_NE;
  cpu.cr4 = CR4_OSFXSR;
  if (long) {
    // PML4[0] -> PDPT[0] -> PD with two 2 MiB pages: 0..4 MiB identity-mapped, writable.
    poke(PML4, le(PDPT | 3, 8));
    poke(PDPT, le(PD | 3, 8));
    poke(PD, [...le(0x000000 | 0x83, 8), ...le(0x200000 | 0x83, 8)]);
    cpu.cr3 = PML4;
    cpu.cr4 |= CR4_PAE;
    cpu.efer = EFER_LME | EFER_LMA | EFER_NXE;
    cpu.cr0 |= CR0_PG;
  }
  flushTlb(cpu, true);
  const bench: Bench = {
    cpu, phys, bits,
    takeStop: () => { const s = stop; stop = null; return s; },
    last: new Uint8Array(0),
    cr0: cpu.cr0, cr3: cpu.cr3, cr4: cpu.cr4, efer: cpu.efer,
  };
  resetSegments(bench);
  return bench;
}

function resetSegments(b: Bench): void {
  const c = b.cpu;
  c.setSegment(CS, 0x08, 0, 0xffffffff, b.bits === 64 ? 0xa09b : 0xc09b);
  for (const s of [DS, ES, SS, FS, GS]) c.setSegment(s, 0x10, 0, 0xffffffff, 0xc093);
}

/** Puts back what a previous snippet may have changed outside the registers. */
function resetSystem(b: Bench): void {
  const c = b.cpu;
  if (c.cr0 !== b.cr0 || c.cr3 !== b.cr3 || c.cr4 !== b.cr4 || c.efer !== b.efer) {
    c.cr0 = b.cr0; c.cr3 = b.cr3; c.cr4 = b.cr4; c.efer = b.efer;
    flushTlb(c, true);
  }
  const segsChanged = c.segSel[CS] !== 0x08 || c.segSel[SS] !== 0x10 || c.segSel[DS] !== 0x10 || c.segSel[ES] !== 0x10
    || c.segSel[FS] !== 0x10 || c.segSel[GS] !== 0x10 || c.segBase[FS] !== 0 || c.segBase[GS] !== 0;
  if (segsChanged) resetSegments(b);
  c.gdtBase = GDT; c.gdtLimit = 0x17; c.idtBase = 0; c.idtLimit = 0;
  c.activity = 'active';
  c.delivering = -1;
  c.sysAccess = false;
  c.stopRequested = false;
  c.shadowUntil = -1;
  b.takeStop();
}

function loadCode(b: Bench, code: Uint8Array): void {
  const last = b.last;
  if (last.length === code.length && last.every((v, k) => v === code[k])) return;
  // Clear the old snippet first: its tail must not complete a truncated last instruction.
  if (last.length > code.length) b.phys.writeBytes(CODE + code.length, new Uint8Array(last.length - code.length));
  b.phys.writeBytes(CODE, code);
  b.last = code.slice();
}

/** Mnemonics that deliver an interrupt themselves: reported as a fault instead of being delivered. */
function softwareInterrupt(c: Cpu, mnem: number, imm: number): number | null {
  switch (mnem) {
    case Mnemonic.Int: return imm & 0xff;
    case Mnemonic.Int3: return 3;
    case Mnemonic.Int1: return 1;
    case Mnemonic.Into: return c.getFlags() & OF ? 4 : null;
    default: return null;
  }
}

/** Runs `code` (a few instructions, no branches out) in 64-bit mode (or 32 when bits=32) starting with `state`, until it runs past the end of the code. */
export function runSnippet(code: Uint8Array, bits: 32 | 64, state: SnippetState): SnippetResult {
  if (code.length > MAX_CODE) throw new RangeError(`snippet of ${code.length} bytes: at most ${MAX_CODE}`);
  if (state.gpr.length !== 16) throw new RangeError(`state.gpr must hold 16 registers, not ${state.gpr.length}`);
  const b = (benches[bits] ??= buildBench(bits));
  const c = b.cpu;
  resetSystem(b);
  loadCode(b, code);
  const g = c.gpr;
  for (let r = 0; r < 16; r++) {
    const v = BigInt.asUintN(64, state.gpr[r]);
    g[r] = Number(BigInt.asIntN(32, v));
    g[r + 16] = Number(BigInt.asIntN(32, v >> 32n));
  }
  c.lop = L_NONE;
  c.flags = (Number(BigInt.asUintN(32, state.rflags)) & INPUT_FLAGS) | 2;
  c.rip = CODE;
  const end = CODE + code.length;
  let faultVector: number | null = null;
  let steps = 0;
  try {
    while (c.rip >= CODE && c.rip < end && c.activity === 'active') {
      if (++steps > MAX_STEPS) throw new Error(`snippet did not finish within ${MAX_STEPS} executions (rip 0x${c.rip.toString(16)})`);
      // The interpreter loop's step (Cpu.loop), without event checks.
      const i = c.fetch();
      c.nextRip = c.rip + i.len;
      const soft = softwareInterrupt(c, i.mnem, i.immLo);
      if (soft !== null) {
        c.rip = c.nextRip; // traps: reported after the instruction, as the handler would see it
        faultVector = soft;
        break;
      }
      i.exec(c, i);
      c.rip = c.nextRip;
      c.instret++;
    }
  } catch (e) {
    if (e instanceof CpuFault) faultVector = e.vector;
    else if (e instanceof CpuStop) throw new Error(b.takeStop() ?? `the vCPU stopped (${e.reason})`);
    else throw e;
  }
  const out: bigint[] = [];
  for (let r = 0; r < 16; r++) out.push((BigInt(g[r + 16] >>> 0) << 32n) | BigInt(g[r] >>> 0));
  return { state: { gpr: out, rflags: BigInt(c.getFlags() >>> 0) }, fault: faultVector };
}
