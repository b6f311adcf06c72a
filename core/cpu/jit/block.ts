// Basic blocks for the JIT: a straight run of decoded instructions inside one physical
// page, up to and including the first instruction that may transfer control or change
// the state the following instructions were compiled against (mode, paging, segments,
// interrupt flag). Which instructions may sit in the middle of a block is a whitelist:
// anything not named here ends its block, so an instruction the JIT knows nothing about
// can never be run past.
import { Code, Mnemonic } from '../iced';
import type { Cpu } from '../cpu';
import type { Insn } from '../insn';
import type { BlockPage } from './cache';
import { K_IMM, K_MEM, K_NONE, K_REG, K_XMM } from '../regs';

/** How a trace goes on after one of its instructions (cache.ts builds them, compile.ts compiles them). */
export const LINK_NONE = 0, LINK_NEXT = 1, LINK_JMP = 2, LINK_CALL = 3, LINK_RET = 4, LINK_TAKEN = 5, LINK_FALL = 6, LINK_IRET = 7, LINK_IJMP = 8;

export interface TraceLink {
  /** LINK_NEXT (the next instruction, in another page), _JMP, _CALL, _RET, _TAKEN or _FALL (a conditional branch's way), _IRET, _IJMP (an IRETQ or a JMP through a register, to where it always went). */
  kind: number;
  /** Linear offset of the code that follows, from the block start. */
  target: number;
  /** Index of the page it lies in (0: the block's own page). */
  page: number;
  /** Physical address of that page when the trace changes page there (checked at run time), else -1. */
  pagePa: number;
}

/** One instruction of a trace: its linear offset from the block start, its page, and how the trace goes on after it. */
export interface TraceStep {
  off: number;
  page: number;
  link: TraceLink | null;
}

/**
 * Runs block `b` (the one whose fn this is); may return the block that follows in the same
 * page (the run loop checks and runs it).
 */
export type BlockFn = (c: Cpu, end: number, b: Block) => Block | undefined;

const NO_LOCALS: unknown[] = [];
const NO_FOLLOWS: number[] = [];

export class Block {
  /** Set when a write hits the block's bytes: the running block leaves at its next check. */
  dead = false;
  /**
   * Traces (cache.ts) run code from more than one run of bytes: the physical [start, end)
   * ranges after the first one (startPa..endPa), flat, and the other pages whose live
   * lists hold the block (so that a write to any of them kills it). Null for plain blocks.
   */
  spans: number[] | null = null;
  others: BlockPage[] | null = null;
  /** This machine's objects the compiled code uses (its page, instructions): see Emitter.m. */
  k: unknown[] = NO_LOCALS;
  /**
   * A trace that ends with an IRETQ or a JMP through a register (an interrupt handler's end,
   * a dispatcher's tail call): where it last went and how many times in a row before that
   * (noteExit). Once it always goes to one place the trace asks to be rebuilt (`rebuild`,
   * Cpu.runBlock), and the new one follows it there (cache.ts).
   */
  exitTarget = NaN;
  exitSame = 0;
  rebuild = false;
  /** Where the trace follows its IRETQs and indirect JMPs, in order (the rebuilt one follows these, then exitTarget). */
  follows: number[] = NO_FOLLOWS;
  constructor(
    /** Compiled code; null marks a start the JIT declined (interpreted, never retried until invalidated). */
    public fn: BlockFn | null,
    /** Decoder bitness the block was compiled for. */
    readonly bits: number,
    /** Guest-physical address of the first byte and one past the last byte. */
    readonly startPa: number,
    readonly endPa: number,
    /** Most instructions one pass may retire (the run loop checks its budget against it). */
    readonly n: number,
    /**
     * The RIP the block was compiled for: its code has it (and so every address relative to
     * it) as a constant, and runs only where RIP is this value (Cpu.runBlock checks).
     */
    readonly rip: number,
  ) {}
}

/** Executions in a row to one place that make the JIT follow a RET it did not see called, or a trace's IRETQ or JMP through a register. */
export const RET_SAME = 64;

/** Records where the IRETQ or indirect JMP that ends trace b went (Block.exitTarget). */
export function noteExit(b: Block, target: number): void {
  if (target !== b.exitTarget) { b.exitTarget = target; b.exitSame = 0; }
  else if (++b.exitSame === RET_SAME) b.rebuild = true;
}

/** A JMP through a 64-bit register (the trace builder may follow it: LINK_IJMP). */
export function isRegJmp64(i: Insn): boolean {
  return i.mnem === Mnemonic.Jmp && i.k0 === K_REG && i.opSize === 8 && !i.lock;
}

/** Longest block, in instructions. */
export const MAX_BLOCK = 48;
/** Longest trace (a block that follows branches, calls and returns: cache.ts), in instructions. */
export const MAX_TRACE = 160;
/** Most code pages one trace runs from. */
export const MAX_TRACE_PAGES = 4;

/** Near branches the compiler translates itself (they end a block). */
export const JCC = new Set<number>([Mnemonic.Jo, Mnemonic.Jno, Mnemonic.Jb, Mnemonic.Jae, Mnemonic.Je, Mnemonic.Jne,
  Mnemonic.Jbe, Mnemonic.Ja, Mnemonic.Js, Mnemonic.Jns, Mnemonic.Jp, Mnemonic.Jnp, Mnemonic.Jl, Mnemonic.Jge,
  Mnemonic.Jle, Mnemonic.Jg]);

/**
 * Instructions that may run in the middle of a block: their only effects are on general
 * registers, flags (arithmetic and DF), XMM state and memory, and CLI (clearing IF can
 * only make fewer interrupts deliverable, so the next boundary has nothing new to look
 * at). System instructions, I/O, segment loads, anything else touching IF/TF, and REP
 * string forms (which re-execute themselves) end the block.
 */
const MIDDLE = new Set<number>([
  Mnemonic.Add, Mnemonic.Or, Mnemonic.Adc, Mnemonic.Sbb, Mnemonic.And, Mnemonic.Sub, Mnemonic.Xor, Mnemonic.Cmp,
  Mnemonic.Test, Mnemonic.Inc, Mnemonic.Dec, Mnemonic.Neg, Mnemonic.Not, Mnemonic.Mul, Mnemonic.Imul, Mnemonic.Div,
  Mnemonic.Idiv, Mnemonic.Cbw, Mnemonic.Cwde, Mnemonic.Cdqe, Mnemonic.Cwd, Mnemonic.Cdq, Mnemonic.Cqo, Mnemonic.Xadd,
  Mnemonic.Cmpxchg, Mnemonic.Cmpxchg8b, Mnemonic.Cmpxchg16b, Mnemonic.Mov, Mnemonic.Movzx, Mnemonic.Movsx,
  Mnemonic.Movsxd, Mnemonic.Lea, Mnemonic.Xchg, Mnemonic.Push, Mnemonic.Pop, Mnemonic.Shl, Mnemonic.Sal, Mnemonic.Shr,
  Mnemonic.Sar, Mnemonic.Rol, Mnemonic.Ror, Mnemonic.Rcl, Mnemonic.Rcr, Mnemonic.Shld, Mnemonic.Shrd, Mnemonic.Bt,
  Mnemonic.Bts, Mnemonic.Btr, Mnemonic.Btc, Mnemonic.Bsf, Mnemonic.Bsr, Mnemonic.Bswap, Mnemonic.Popcnt,
  Mnemonic.Lzcnt, Mnemonic.Tzcnt, Mnemonic.Nop, Mnemonic.Lahf, Mnemonic.Sahf, Mnemonic.Clc, Mnemonic.Stc,
  Mnemonic.Cmc, Mnemonic.Cld, Mnemonic.Std, Mnemonic.Leave, Mnemonic.Enter, Mnemonic.Xlatb, Mnemonic.Pushf,
  Mnemonic.Pushfd, Mnemonic.Pushfq, Mnemonic.Movsb, Mnemonic.Movsw, Mnemonic.Movsd, Mnemonic.Movsq,
  Mnemonic.Stosb, Mnemonic.Stosw, Mnemonic.Stosd, Mnemonic.Stosq, Mnemonic.Lodsb, Mnemonic.Lodsw, Mnemonic.Lodsd,
  Mnemonic.Lodsq, Mnemonic.Cmpsb, Mnemonic.Cmpsw, Mnemonic.Cmpsd, Mnemonic.Cmpsq, Mnemonic.Scasb, Mnemonic.Scasw,
  Mnemonic.Scasd, Mnemonic.Scasq, Mnemonic.Seto, Mnemonic.Setno, Mnemonic.Setb, Mnemonic.Setae, Mnemonic.Sete,
  Mnemonic.Setne, Mnemonic.Setbe, Mnemonic.Seta, Mnemonic.Sets, Mnemonic.Setns, Mnemonic.Setp, Mnemonic.Setnp,
  Mnemonic.Setl, Mnemonic.Setge, Mnemonic.Setle, Mnemonic.Setg, Mnemonic.Cmovo, Mnemonic.Cmovno, Mnemonic.Cmovb,
  Mnemonic.Cmovae, Mnemonic.Cmove, Mnemonic.Cmovne, Mnemonic.Cmovbe, Mnemonic.Cmova, Mnemonic.Cmovs, Mnemonic.Cmovns,
  Mnemonic.Cmovp, Mnemonic.Cmovnp, Mnemonic.Cmovl, Mnemonic.Cmovge, Mnemonic.Cmovle, Mnemonic.Cmovg,
  Mnemonic.Prefetchnta, Mnemonic.Prefetcht0, Mnemonic.Prefetcht1, Mnemonic.Prefetcht2, Mnemonic.Prefetchw,
  Mnemonic.Endbr32, Mnemonic.Endbr64, Mnemonic.Lfence, Mnemonic.Sfence, Mnemonic.Mfence, Mnemonic.Cli,
]);

/** String forms (operands decoded as K_OTHER); only without REP, which re-executes itself. */
const STRING = new Set<number>([Mnemonic.Movsb, Mnemonic.Movsw, Mnemonic.Movsd, Mnemonic.Movsq, Mnemonic.Stosb,
  Mnemonic.Stosw, Mnemonic.Stosd, Mnemonic.Stosq, Mnemonic.Lodsb, Mnemonic.Lodsw, Mnemonic.Lodsd, Mnemonic.Lodsq,
  Mnemonic.Cmpsb, Mnemonic.Cmpsw, Mnemonic.Cmpsd, Mnemonic.Cmpsq, Mnemonic.Scasb, Mnemonic.Scasw, Mnemonic.Scasd,
  Mnemonic.Scasq, Mnemonic.Xlatb]);

/** Memory-only forms with XMM-looking names that touch system state (MXCSR, x87/SSE images). */
const XMM_SYSTEM = new Set<number>([Mnemonic.Ldmxcsr, Mnemonic.Stmxcsr, Mnemonic.Fxsave, Mnemonic.Fxsave64,
  Mnemonic.Fxrstor, Mnemonic.Fxrstor64]);

function plainOperand(k: number): boolean {
  return k === K_NONE || k === K_REG || k === K_MEM || k === K_IMM || k === K_XMM;
}

/** True when the instruction may be followed by more of the same block. */
export function continuesBlock(i: Insn): boolean {
  if (i.rep !== 0) return false;
  if (STRING.has(i.mnem)) return true;
  const ops = Math.min(i.nops, 3);
  for (let n = 0; n < ops; n++) if (!plainOperand(n === 0 ? i.k0 : n === 1 ? i.k1 : i.k2)) return false;
  if (MIDDLE.has(i.mnem)) return true;
  // Packed/scalar SSE data instructions: an XMM register operand and nothing else special.
  if (XMM_SYSTEM.has(i.mnem)) return false;
  return i.k0 === K_XMM || i.k1 === K_XMM;
}

/** Direct near JMP/CALL (not the far pointer forms). */
export function isRelJmp(i: Insn): boolean {
  return i.mnem === Mnemonic.Jmp && i.k0 === K_NONE && i.code !== Code.Jmp_ptr1616 && i.code !== Code.Jmp_ptr1632;
}
export function isRelCall(i: Insn): boolean {
  return i.mnem === Mnemonic.Call && i.k0 === K_NONE && i.code !== Code.Call_ptr1616 && i.code !== Code.Call_ptr1632;
}
