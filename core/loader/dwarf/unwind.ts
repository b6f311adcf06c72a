// Stack unwinding from .debug_frame, with a frame-pointer walk where there is no CFI.
// Registers are identified by their DWARF numbers, as the psABIs define them (System V
// AMD64 ABI, figure 3.36 "DWARF Register Number Mapping"; System V i386 ABI, DWARF
// register numbers in chapter 2).
import { Fde, unwindRowAt } from './frame';
import { RangeIndex } from './range-index';
import { DwarfError } from './reader';

export const X86_64_DWARF_REGISTERS = {
  rax: 0, rdx: 1, rcx: 2, rbx: 3, rsi: 4, rdi: 5, rbp: 6, rsp: 7,
  r8: 8, r9: 9, r10: 10, r11: 11, r12: 12, r13: 13, r14: 14, r15: 15,
  /** The return address column. */
  rip: 16,
} as const;

export const I386_DWARF_REGISTERS = {
  eax: 0, ecx: 1, edx: 2, ebx: 3, esp: 4, ebp: 5, esi: 6, edi: 7,
  /** The return address column. */
  eip: 8,
} as const;

/**
 * A register set: pc, sp and (optionally) fp by name, any other register by DWARF number.
 * sp and fp stand for rsp/rbp (esp/ebp); if both a name and its number are given, the
 * name wins.
 */
export interface UnwindRegisters {
  pc: number;
  sp: number;
  fp?: number;
  [dwarfRegister: number]: number | undefined;
}

/**
 * A register set from general registers in Intel encoding order (rax/eax, rcx, rdx, rbx,
 * rsp, rbp, rsi, rdi, then r8-r15), the order CPUs and the instruction set number them.
 * The DWARF numbering differs on x86-64 (rdx is 1, rcx 2, rsi 4, rdi 5, rbp 6, rsp 7).
 */
export function unwindRegistersFromGprs(pc: number, gprs: readonly number[], is64: boolean): UnwindRegisters {
  const toDwarf = is64
    ? [X86_64_DWARF_REGISTERS.rax, X86_64_DWARF_REGISTERS.rcx, X86_64_DWARF_REGISTERS.rdx, X86_64_DWARF_REGISTERS.rbx,
       X86_64_DWARF_REGISTERS.rsp, X86_64_DWARF_REGISTERS.rbp, X86_64_DWARF_REGISTERS.rsi, X86_64_DWARF_REGISTERS.rdi]
    : [0, 1, 2, 3, 4, 5, 6, 7]; // i386's DWARF order is the encoding order
  const regs: UnwindRegisters = { pc, sp: gprs[4], fp: gprs[5] };
  const count = is64 ? Math.min(gprs.length, 16) : Math.min(gprs.length, 8);
  for (let i = 0; i < count; i++) regs[i < 8 ? toDwarf[i] : i] = gprs[i];
  return regs;
}

/** Reads `size` bytes of guest memory as an unsigned little-endian number; null if unreadable. */
export type ReadMemory = (address: number, size: 4 | 8) => number | null;

export interface UnwoundFrame {
  /** The return address into this frame's function. */
  pc: number;
  /** pc - 1: an address inside the call instruction, for line and function lookup. */
  callSite: number;
  sp: number;
  /** The callee's canonical frame address (CFI) or frame pointer + 2 words (frame-pointer walk). */
  cfa: number;
  /** The registers as they were in this frame, as far as they could be recovered. */
  registers: UnwindRegisters;
  method: 'cfi' | 'frame-pointer';
}

export interface FrameTable {
  section: Uint8Array;
  fdes: RangeIndex<Fde>;
}

interface Arch {
  word: 4 | 8;
  pc: number;
  sp: number;
  fp: number;
}

const ARCH64: Arch = { word: 8, pc: 16, sp: 7, fp: 6 };
const ARCH32: Arch = { word: 4, pc: 8, sp: 4, fp: 5 };

/** A frame pointer further than this above sp is not believed (stacks of guests are small). */
const MAX_FRAME_SIZE = 16 * 1024 * 1024;

/**
 * The caller frames of the frame described by `regs`, innermost first, at most
 * `maxFrames`. Stops at the first frame it cannot recover, at a zero return address, and
 * when the stack pointer does not move up (no progress: a loop in corrupt data).
 */
export function unwindStack(
  table: FrameTable | null,
  regs: UnwindRegisters,
  readMemory: ReadMemory,
  is64: boolean,
  maxFrames = 64,
): UnwoundFrame[] {
  const arch = is64 ? ARCH64 : ARCH32;
  let state = toState(regs, arch);
  const frames: UnwoundFrame[] = [];
  for (let depth = 0; frames.length < maxFrames; depth++) {
    const next = step(table, state, readMemory, arch, depth > 0);
    if (!next) break;
    const pc = next.state.get(arch.pc);
    const sp = next.state.get(arch.sp);
    const oldSp = state.get(arch.sp) as number;
    if (pc === undefined || pc === 0 || sp === undefined || sp <= oldSp) break;
    frames.push({ pc, callSite: pc - 1, sp, cfa: next.cfa, registers: fromState(next.state, arch), method: next.method });
    state = next.state;
  }
  return frames;
}

function toState(regs: UnwindRegisters, arch: Arch): Map<number, number> {
  const s = new Map<number, number>();
  for (const [k, v] of Object.entries(regs)) {
    const n = Number(k);
    if (Number.isInteger(n) && n >= 0 && typeof v === 'number') s.set(n, v);
  }
  s.set(arch.pc, regs.pc);
  s.set(arch.sp, regs.sp);
  if (regs.fp !== undefined) s.set(arch.fp, regs.fp);
  return s;
}

function fromState(s: Map<number, number>, arch: Arch): UnwindRegisters {
  const out: UnwindRegisters = { pc: s.get(arch.pc) as number, sp: s.get(arch.sp) as number };
  const fp = s.get(arch.fp);
  if (fp !== undefined) out.fp = fp;
  for (const [k, v] of s) out[k] = v;
  return out;
}

interface Step {
  state: Map<number, number>;
  cfa: number;
  method: 'cfi' | 'frame-pointer';
}

/**
 * One frame up. For a caller frame the lookup uses pc - 1: a return address may lie just
 * past the end of a function that ends in a call (noreturn), or at the start of the next row.
 */
function step(table: FrameTable | null, state: Map<number, number>, read: ReadMemory, arch: Arch, isCaller: boolean): Step | null {
  const pc = state.get(arch.pc) as number;
  const lookup = isCaller ? pc - 1 : pc;
  const fde = table?.fdes.find(lookup);
  if (table && fde) return cfiStep(table, fde, state, read, arch, lookup);
  return framePointerStep(state, read, arch);
}

function cfiStep(table: FrameTable, fde: Fde, state: Map<number, number>, read: ReadMemory, arch: Arch, lookup: number): Step | null {
  let row;
  try {
    row = unwindRowAt(table.section, fde, lookup);
  } catch (e) {
    if (e instanceof DwarfError) return null;
    throw e;
  }
  if (row.cfa.kind !== 'register') return null;
  const base = state.get(row.cfa.register);
  if (base === undefined) return null;
  const cfa = wrap(base + row.cfa.offset, arch);
  const ra = fde.cie.raColumn;
  const next = new Map(state);
  // The caller's stack pointer is the CFA unless a rule says otherwise (x86 psABI convention).
  next.set(arch.sp, cfa);
  for (const [reg, rule] of row.registers) {
    switch (rule.kind) {
      case 'same': break;
      case 'undefined':
      case 'expression':
        next.delete(reg);
        break;
      case 'offset': {
        const v = read(wrap(cfa + rule.offset, arch), arch.word);
        if (v === null) {
          if (reg === ra) return null;
          next.delete(reg);
        } else {
          next.set(reg, v);
        }
        break;
      }
      case 'val_offset': next.set(reg, wrap(cfa + rule.offset, arch)); break;
      case 'register': {
        const v = state.get(rule.register);
        if (v === undefined) next.delete(reg);
        else next.set(reg, v);
        break;
      }
    }
  }
  const retAddr = next.get(ra);
  // No rule for the return address column means it was never saved: the outermost frame.
  if (retAddr === undefined || !row.registers.has(ra)) return null;
  next.set(arch.pc, retAddr);
  return { state: next, cfa, method: 'cfi' };
}

/**
 * The classic frame chain: [fp] is the caller's fp, [fp + word] the return address. Only
 * trusted when fp points into readable memory a sane distance above sp, word-aligned;
 * optimised code uses fp as an ordinary register.
 */
function framePointerStep(state: Map<number, number>, read: ReadMemory, arch: Arch): Step | null {
  const fp = state.get(arch.fp);
  const sp = state.get(arch.sp) as number;
  if (fp === undefined || fp < sp || fp - sp > MAX_FRAME_SIZE || fp % arch.word !== 0) return null;
  const savedFp = read(fp, arch.word);
  const retAddr = read(wrap(fp + arch.word, arch), arch.word);
  if (savedFp === null || retAddr === null) return null;
  // Only the frame registers are known in the caller: everything else may have been clobbered.
  const next = new Map<number, number>([
    [arch.pc, retAddr],
    [arch.sp, wrap(fp + 2 * arch.word, arch)],
    [arch.fp, savedFp],
  ]);
  return { state: next, cfa: wrap(fp + 2 * arch.word, arch), method: 'frame-pointer' };
}

function wrap(address: number, arch: Arch): number {
  return arch.word === 4 ? address >>> 0 : address;
}
