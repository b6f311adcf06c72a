// Translates a basic block into one JavaScript function (new Function), which V8 then
// compiles to machine code. The common integer forms are written out with their operands,
// sizes and offsets as constants; every other instruction calls its interpreter handler,
// so the JIT never has semantics of its own for those.
//
// Contract with Cpu.loop (which checked the budget, CS limit and attention at entry):
// - on return, c.rip is the next instruction and c.instret counts exactly what retired;
// - on a throw (fault, stop), c.rip is the faulting instruction, c.instret counts the
//   instructions before it, and the flags are as the interpreter would have left them;
// - the function returns after any instruction that touched memory or called a handler
//   when c.attention is set (interrupt, stop, HLT...) or the block was invalidated by a
//   write (self-modifying code); REP strings and other control-changing instructions end
//   the block (see block.ts).
import { Mnemonic } from '../iced';
import type { Insn } from '../insn';
import { noteReturn } from '../insn';
import { byCode } from '../decode';
import { K_IMM, K_MEM, K_REG, CF, OF, SF, ZF, CS, FS, ARITH_FLAGS } from '../regs';
import { SC_FLAT, SC_WRITE } from '../cpu';
import { L_ADD, L_DEC, L_INC, L_LOGIC, L_NONE, L_SUB, PARITY } from '../flags';
import { Emitter, P_EAGER } from './emit';
import { Block, BlockFn, JCC, isRelCall, isRelJmp, LINK_CALL, LINK_IJMP, LINK_IRET, LINK_JMP, LINK_NEXT, LINK_RET, LINK_TAKEN, noteExit } from './block';
import type { TraceLink, TraceStep } from './block';
import type { BlockPage } from './cache';
import { fastCond } from './fast';
import { MEM_LOCALS, halvesAddr, linAddr, popMem, popRun, pushMem, pushRun, readMem, writeMem } from './mem';
import type { Addr } from './mem';

const ADD = 0, OR = 1, AND = 4, SUB = 5, XOR = 6, CMP = 7, TEST = 8;
const ALU = new Map<number, number>([[Mnemonic.Add, ADD], [Mnemonic.Or, OR], [Mnemonic.And, AND],
  [Mnemonic.Sub, SUB], [Mnemonic.Xor, XOR], [Mnemonic.Cmp, CMP], [Mnemonic.Test, TEST]]);
const SETCC = new Set<number>([Mnemonic.Seto, Mnemonic.Setno, Mnemonic.Setb, Mnemonic.Setae, Mnemonic.Sete,
  Mnemonic.Setne, Mnemonic.Setbe, Mnemonic.Seta, Mnemonic.Sets, Mnemonic.Setns, Mnemonic.Setp, Mnemonic.Setnp,
  Mnemonic.Setl, Mnemonic.Setge, Mnemonic.Setle, Mnemonic.Setg]);
const CMOVCC = new Set<number>([Mnemonic.Cmovo, Mnemonic.Cmovno, Mnemonic.Cmovb, Mnemonic.Cmovae, Mnemonic.Cmove,
  Mnemonic.Cmovne, Mnemonic.Cmovbe, Mnemonic.Cmova, Mnemonic.Cmovs, Mnemonic.Cmovns, Mnemonic.Cmovp,
  Mnemonic.Cmovnp, Mnemonic.Cmovl, Mnemonic.Cmovge, Mnemonic.Cmovle, Mnemonic.Cmovg]);
const NO_EFFECT = new Set<number>([Mnemonic.Nop, Mnemonic.Endbr32, Mnemonic.Endbr64, Mnemonic.Prefetchnta,
  Mnemonic.Prefetcht0, Mnemonic.Prefetcht1, Mnemonic.Prefetcht2, Mnemonic.Prefetchw]);

const MASK_EXPR = ['', ' & 255', ' & 65535', '', ' | 0'];
/** Bounds of the canonical 48-bit address space (SDM vol. 1, 3.3.7.1). */
const CANON_LO = -140737488355328, CANON_HI = 140737488355328;

/** The target of a JMP through register r with operand size 8 or 4, as its handler computes it. */
function regTarget(r: number, size: number): string {
  return size === 8 ? `g[${r + 16}] * 4294967296 + (g[${r}] >>> 0)` : `(g[${r}] >>> 0)`;
}

/** A 64-bit value's low and high 32-bit halves as int32 literals. */
function halves(v: number): [string, string] {
  return [String(v | 0), String(Math.floor(v / 4294967296) | 0)];
}

/** One block being compiled. */
class Compiler {
  readonly e: Emitter;
  /**
   * Linear offset of each instruction from the block start, and (index n) of the one after
   * the last. Contiguous for plain blocks; a trace's jumps make gaps.
   */
  readonly offs: number[] = [];
  /** Index of the code page each instruction is in (0: the block's page); all 0 for plain blocks. */
  readonly pageOf: number[] = [];

  readonly startOff: number;
  /** Some instruction uses the inline memory fast paths (mem.ts): the block declares their locals. */
  mem = false;
  /** The trace follows an IRETQ: the block notes its CPL at entry (cpl0), which the IRETQ must keep. */
  cplLocal = false;
  /**
   * The current instruction's fault point as an expression (the instret store), for its
   * slow paths: fast paths neither fault nor reach devices, so they need none (mem.ts).
   */
  fp = '';

  constructor(readonly insns: Insn[], readonly bits: number, readonly block: Block, readonly page: BlockPage, readonly steps: TraceStep[] | null) {
    this.startOff = block.startPa % 4096;
    this.e = new Emitter();
    let o = 0;
    insns.forEach((i, j) => {
      if (steps !== null) o = steps[j].off;
      this.offs.push(o);
      this.pageOf.push(steps !== null ? steps[j].page : 0);
      o += i.len;
    });
    // A trace may end right after following a transfer (the next code would not decode in
    // its page): it goes on at the transfer's target.
    const lastLink = steps !== null && insns.length > 0 ? steps[insns.length - 1].link : null;
    this.offs.push(lastLink !== null ? lastLink.target : o);
  }

  /** Linear offset of the instruction after j in the byte stream (where it falls through to). */
  next(j: number): number {
    return this.offs[j] + this.insns[j].len;
  }

  get n(): number { return this.insns.length; }

  // ---- pieces ----------------------------------------------------------------------------

  /**
   * The block to run next when execution continues at rip0 + delta: a direct branch or the
   * fall-through to a start in the same page (same linear page, so the translation the run
   * loop made for this block holds). The loop checks budget, attention and CS limit first.
   */
  successor(delta: number, j: number): string {
    const off = this.startOff + delta;
    // From another page of a trace the vCPU's code page is that one: Cpu.nextBlock looks it up.
    return this.pageOf[j] === 0 && off >= 0 && off < 4096 ? `P.blocks[${off}]` : 'c.nextBlock()';
  }

  /** Leaves the block after instruction j (flushing the pending flags). */
  exitAfter(j: number): string {
    return `{ ${this.e.flushText()} c.rip = rip0 + ${this.next(j)}; c.instret = base + ${j + 1}; return; }`;
  }

  /** Instruction j accesses memory: its fault point goes on the slow paths of the access (see fp). */
  memPoint(j: number): void {
    this.fp = this.e.lazyFaultPoint(j);
  }

  /** Slow-path prologue of a memory access: exact instret, and the check after the instruction armed. */
  slowPre(): string {
    if (this.fp === '') throw new Error('JIT: a memory access without its fault point');
    return `${this.fp}; chk = true;`;
  }

  /**
   * After a memory access: leave if the loop must look (interrupt, stop) or the code changed;
   * only a slow path can have caused either (chk).
   */
  checkAfter(j: number): void {
    this.e.emit(`if (chk) { chk = false; if (c.attention || B.dead) ${this.exitAfter(j)} }`);
  }

  /** The linear address of the current instruction's memory operand (lin() sets it). */
  addr: Addr = linAddr('lin', false);

  /**
   * Sets addr to the linear address of i's memory operand, declaring what it needs
   * (segmentation and canonical checks included).
   */
  lin(j: number, i: Insn, size: number, write: boolean): void {
    const e = this.e;
    if (this.bits === 64) {
      if (i.mSeg >= FS) {
        // FS/GS bases: Cpu.ea64 does it all.
        if (i.mBase === -2) e.emit(`c.rip = rip0 + ${this.offs[j]};`);
        e.emit(`${this.fp}; const lin = c.ea64(${e.m(i)});`);
        this.addr = linAddr('lin', false);
        return;
      }
      if (i.addrSize === 4) {
        // 32-bit address size: the sum wraps to 32 bits, always canonical (as ea64).
        let a = String(i.dispLo);
        if (i.mBase >= 0) a += ` + g[${i.mBase}]`;
        else if (i.mBase === -2) a += ` + ${this.block.rip + this.offs[j]}`;
        if (i.mIndex >= 0) a += ` + g[${i.mIndex}] * ${i.mScale}`;
        e.emit(`const lin = (${a}) >>> 0;`);
        this.addr = linAddr('lin', true);
        return;
      }
      if (i.mBase === -2) {
        // RIP-relative: a constant, as the block's RIP is (its page and offset fold too).
        const t = this.block.rip + this.offs[j] + i.dispLo;
        if (t >= CANON_LO && t < CANON_HI) this.addr = linAddr(String(t), false);
        else { e.emit(`const lin = (${this.fp}, c.canonical(${t}, ${i.mSeg}));`); this.addr = linAddr('lin', false); }
        return;
      }
      // As ea64, on 32-bit halves, then the canonical check (which faults through ea64). The
      // page number and offset come from the halves; the address as a number only on the slow path.
      this.sum64(i);
      e.emit(`if (hi >> 15 !== hi >> 31) { ${this.fp}; c.ea64(${e.m(i)}); }`);
      this.addr = halvesAddr('hi', 'lo');
      return;
    }
    let a = String(i.dispLo);
    if (i.mBase >= 0) a += ` + g[${i.mBase}]`;
    else if (i.mBase === -2) a += ` + ${this.block.rip + this.offs[j]}`;
    if (i.mIndex >= 0) a += ` + g[${i.mIndex}] * ${i.mScale}`;
    const ea = i.addrSize === 2 ? `((${a}) & 65535)` : `((${a}) >>> 0)`;
    // A flat segment (base 0, 4 GiB limit, expand-up, usable for the access): the offset is the address, as segLin.
    const flat = SC_FLAT | (write ? SC_WRITE : 0);
    e.emit(`const ea = ${ea}, ck = c.segChk[${i.mSeg}];`);
    e.emit(`const lin = (ck & ${flat}) === ${flat} && ea + ${size - 1} <= 4294967295 ? ea : (${this.fp}, c.segLin(${i.mSeg}, ea, ${size}, ${write}));`);
    this.addr = linAddr('lin', true);
  }

  /**
   * Declares `lo` and `hi`, the 64-bit sum of i's base, scaled index and displacement (not
   * RIP-relative) on int32 halves: each term added to the low half, its carry (an unsigned
   * compare) and its high half to the high one.
   */
  sum64(i: Insn): void {
    const e = this.e;
    const terms: [string, string][] = [];
    if (i.mBase >= 0) terms.push([`g[${i.mBase}]`, `g[${i.mBase + 16}]`]);
    if (i.mIndex >= 0) {
      const x = i.mIndex, s = Math.log2(i.mScale);
      terms.push(s === 0 ? [`g[${x}]`, `g[${x + 16}]`] : [`(g[${x}] << ${s})`, `((g[${x + 16}] << ${s}) | (g[${x}] >>> ${32 - s}))`]);
    }
    if (terms.length === 0 || i.dispLo !== 0 || i.dispHi !== 0) terms.push([String(i.dispLo | 0), String(i.dispHi | 0)]);
    e.emit(`let lo = ${terms[0][0]}, hi = ${terms[0][1]};`);
    for (const [l, h] of terms.slice(1)) {
      e.emit(`{ const l = ${l}, s = (lo + l) | 0; hi = (hi + ${h} + ((s >>> 0) < (l >>> 0) ? 1 : 0)) | 0; lo = s; }`);
    }
  }

  /** Declares `name` (and `nameH` for 8 bytes) with operand n's value as readOp returns it. */
  read(i: Insn, n: number, size: number, name: string): void {
    const k = n === 0 ? i.k0 : n === 1 ? i.k1 : i.k2;
    const r = n === 0 ? i.r0 : n === 1 ? i.r1 : i.r2;
    const e = this.e;
    if (k === K_REG) {
      e.emit(`const ${name} = ${Emitter.reg(r, size)};`);
      if (size === 8) e.emit(`const ${name}H = g[${r + 16}];`);
    } else if (k === K_IMM) {
      e.emit(`const ${name} = ${i.immLo};`);
      if (size === 8) e.emit(`const ${name}H = ${i.immHi};`);
    } else {
      this.mem = true;
      e.emit(readMem(size, name, this.slowPre(), this.addr));
    }
  }

  /** Writes a memory operand of `size` bytes at `lin` as writeLin would. */
  store(size: number, v: string, hi: string): void {
    this.mem = true;
    this.e.emit(writeMem(size, v, hi, this.slowPre(), this.addr));
  }

  /** Boolean expression for condition cc: from the pending record, else from the Cpu. */
  cond(cc: number): string {
    const e = this.e;
    const x = e.condExpr(cc);
    if (x !== null) return x;
    e.flush();
    return `${e.k(fastCond)}(c, ${cc})`;
  }

  // ---- instructions ------------------------------------------------------------------------

  /** Emits instruction j inline; false when it is left to its interpreter handler. */
  inline(j: number, i: Insn): boolean {
    if (i.lock || byCode[i.code] !== undefined) return false;
    const m = i.mnem;
    const alu = ALU.get(m);
    if (alu !== undefined) return this.alu(j, i, alu);
    switch (m) {
      case Mnemonic.Mov: return this.mov(j, i);
      case Mnemonic.Movzx: case Mnemonic.Movsx: case Mnemonic.Movsxd: return this.extend(j, i);
      case Mnemonic.Lea: return this.lea(j, i);
      case Mnemonic.Inc: case Mnemonic.Dec: return this.incDec(j, i);
      case Mnemonic.Neg: case Mnemonic.Not: return this.negNot(j, i);
      case Mnemonic.Shl: case Mnemonic.Sal: case Mnemonic.Shr: case Mnemonic.Sar: return this.shift(i);
      case Mnemonic.Imul: return this.imul(j, i);
      case Mnemonic.Push: return this.push(j, i);
      case Mnemonic.Pop: return this.pop(j, i);
    }
    if (NO_EFFECT.has(m)) return true;
    if (SETCC.has(m)) return this.setcc(j, i);
    if (CMOVCC.has(m)) return this.cmov(j, i);
    return false;
  }

  alu(j: number, i: Insn, op: number): boolean {
    const size = i.opSize, e = this.e;
    if ((i.k0 !== K_REG && i.k0 !== K_MEM) || (i.k1 !== K_REG && i.k1 !== K_IMM && i.k1 !== K_MEM)) return false;
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8) return false;
    const writes = op !== CMP && op !== TEST;
    const mem = i.k0 === K_MEM || i.k1 === K_MEM;
    e.emit('{');
    if (mem) { this.memPoint(j); this.lin(j, i, size, i.k0 === K_MEM && writes); }
    this.read(i, 1, size, 'b');
    this.read(i, 0, size, 'a');
    const lop = op === ADD ? L_ADD : op === SUB || op === CMP ? L_SUB : L_LOGIC;
    if (size === 8) {
      // On int32 halves: the carry out of the low half is an unsigned compare (no doubles).
      if (op === ADD) e.emit('const r = (a + b) | 0; const rH = (aH + bH + ((r >>> 0) < (a >>> 0) ? 1 : 0)) | 0;');
      else if (op === SUB || op === CMP) e.emit('const r = (a - b) | 0; const rH = (aH - bH - ((a >>> 0) < (b >>> 0) ? 1 : 0)) | 0;');
      else {
        const o = op === OR ? '|' : op === XOR ? '^' : '&';
        e.emit(`const r = a ${o} b; const rH = aH ${o} bH;`);
      }
      if (writes) {
        if (i.k0 === K_REG) e.emit(Emitter.setReg(i.r0, 8, 'r', 'rH'));
        else this.store(8, 'r', 'rH');
      }
      e.emit('fa = a; faH = aH; fb = b; fbH = bH; fr = r; frH = rH;');
    } else {
      const o = op === ADD ? '+' : op === SUB || op === CMP ? '-' : op === OR ? '|' : op === XOR ? '^' : '&';
      // The result's low 32 bits are all the flags use (flags.ts masks, conditions shift): an int32.
      e.emit(`const r = (a ${o} b) | 0;`);
      if (writes) {
        if (i.k0 === K_REG) e.emit(Emitter.setReg(i.r0, size, `(r${MASK_EXPR[size]})`));
        else this.store(size, `(r${MASK_EXPR[size]})`, '0');
      }
      e.emit('fa = a; fb = b; fr = r;');
    }
    e.setPend({ op: lop, size });
    if (mem) this.checkAfter(j);
    e.emit('}');
    return true;
  }

  mov(j: number, i: Insn): boolean {
    const size = i.opSize, e = this.e;
    const toReg = i.k0 === K_REG && (i.k1 === K_REG || i.k1 === K_IMM || i.k1 === K_MEM);
    const toMem = i.k0 === K_MEM && (i.k1 === K_REG || i.k1 === K_IMM);
    if (!(toReg || toMem) || (size !== 1 && size !== 2 && size !== 4 && size !== 8)) return false;
    const mem = i.k0 === K_MEM || i.k1 === K_MEM;
    e.emit('{');
    if (mem) { this.memPoint(j); this.lin(j, i, size, toMem); }
    this.read(i, 1, size, 'v');
    if (toReg) e.emit(Emitter.setReg(i.r0, size, 'v', 'vH'));
    else this.store(size, 'v', size === 8 ? 'vH' : '0');
    if (mem) this.checkAfter(j);
    e.emit('}');
    return true;
  }

  extend(j: number, i: Insn): boolean {
    const e = this.e, s0 = i.s0, s1 = i.s1;
    if (i.k0 !== K_REG || (i.k1 !== K_REG && i.k1 !== K_MEM) || (s1 !== 1 && s1 !== 2 && s1 !== 4)) return false;
    e.emit('{');
    const mem = i.k1 === K_MEM;
    if (mem) { this.memPoint(j); this.lin(j, i, s1, false); }
    this.read(i, 1, s1, 'v0');
    if (i.mnem === Mnemonic.Movzx) e.emit(Emitter.setReg(i.r0, s0, 'v0', '0'));
    else {
      e.emit(`const v = ${s1 === 1 ? '(v0 << 24) >> 24' : s1 === 2 ? '(v0 << 16) >> 16' : 'v0'};`);
      e.emit(Emitter.setReg(i.r0, s0, 'v', '(v >> 31)'));
    }
    if (mem) this.checkAfter(j);
    e.emit('}');
    return true;
  }

  lea(j: number, i: Insn): boolean {
    const e = this.e, size = i.opSize;
    if (i.k0 !== K_REG || (size !== 2 && size !== 4 && size !== 8)) return false;
    const here = String(this.block.rip + this.offs[j]);
    e.emit('{');
    if (i.addrSize === 8) {
      // As the LEA handler: the 64-bit sum (RIP-relative: a constant), its low 32 bits for smaller operands.
      if (i.mBase === -2) {
        const [lo, hi] = halves(this.block.rip + this.offs[j] + i.dispLo);
        e.emit(`const lo = ${lo}, hi = ${hi};`);
      } else {
        this.sum64(i);
      }
      e.emit(Emitter.setReg(i.r0, size, 'lo', 'hi'));
    } else {
      let a = String(i.dispLo);
      if (i.mBase >= 0) a += ` + g[${i.mBase}]`;
      else if (i.mBase === -2) a += ` + ${here}`;
      if (i.mIndex >= 0) a += ` + g[${i.mIndex}] * ${i.mScale}`;
      e.emit(`const a = (${a})${i.addrSize === 2 ? ' & 65535' : ' | 0'};`);
      e.emit(Emitter.setReg(i.r0, size, 'a', '0'));
    }
    e.emit('}');
    return true;
  }

  incDec(j: number, i: Insn): boolean {
    const e = this.e, size = i.opSize;
    if ((i.k0 !== K_REG && i.k0 !== K_MEM) || (size !== 1 && size !== 2 && size !== 4 && size !== 8)) return false;
    const inc = i.mnem === Mnemonic.Inc;
    // INC/DEC keep CF: from the pending record when it gives it, else still the Cpu's (read lazily).
    const p = e.pend;
    let cf: string | null = null;
    if (p === null) e.noteUse();
    else if (!((p.op === L_INC || p.op === L_DEC) && p.cpuCF)) {
      cf = e.carryExpr();
      if (cf === null) e.flush();
    }
    e.emit('{');
    if (cf !== null) e.emit(`const cf = ${cf};`);
    const mem = i.k0 === K_MEM;
    if (mem) { this.memPoint(j); this.lin(j, i, size, true); }
    this.read(i, 0, size, 'a');
    const keep = cf !== null ? 'fcf = cf; ' : '';
    if (size === 8) {
      e.emit(inc ? 'const r = (a + 1) | 0; const rH = (r === 0 ? aH + 1 : aH) | 0;' : 'const r = (a - 1) | 0; const rH = (a === 0 ? aH - 1 : aH) | 0;');
      if (mem) this.store(8, 'r', 'rH'); else e.emit(Emitter.setReg(i.r0, 8, 'r', 'rH'));
      e.emit(`${keep}fa = a; faH = aH; fb = 1; fbH = 0; fr = r; frH = rH;`);
    } else {
      e.emit(`const r = (a ${inc ? '+' : '-'} 1) | 0;`);
      if (mem) this.store(size, `(r${MASK_EXPR[size]})`, '0'); else e.emit(Emitter.setReg(i.r0, size, `(r${MASK_EXPR[size]})`));
      e.emit(`${keep}fa = a; fb = 1; fr = r;`);
    }
    e.setPend({ op: inc ? L_INC : L_DEC, size, cpuCF: cf === null });
    if (mem) this.checkAfter(j);
    e.emit('}');
    return true;
  }

  negNot(j: number, i: Insn): boolean {
    const e = this.e, size = i.opSize;
    if ((i.k0 !== K_REG && i.k0 !== K_MEM) || (size !== 1 && size !== 2 && size !== 4 && size !== 8)) return false;
    const neg = i.mnem === Mnemonic.Neg;
    const mem = i.k0 === K_MEM;
    e.emit('{');
    if (mem) { this.memPoint(j); this.lin(j, i, size, true); }
    this.read(i, 0, size, 'a');
    const put = (v: string, hi: string) => { if (mem) this.store(size, v, hi); else e.emit(Emitter.setReg(i.r0, size, v, hi)); };
    if (!neg) {
      put(size === 8 || size === 4 ? '~a' : `(~a${MASK_EXPR[size]})`, size === 8 ? '~aH' : '0');
    } else if (size === 8) {
      e.emit('const r = (0 - a) | 0; const rH = (0 - aH - (a !== 0 ? 1 : 0)) | 0;');
      put('r', 'rH');
      e.emit('fa = 0; faH = 0; fb = a; fbH = aH; fr = r; frH = rH;');
      e.setPend({ op: L_SUB, size });
    } else {
      e.emit('const r = (0 - a) | 0;');
      put(`(r${MASK_EXPR[size]})`, '0');
      e.emit('fa = 0; fb = a; fr = r;');
      e.setPend({ op: L_SUB, size });
    }
    if (mem) this.checkAfter(j);
    e.emit('}');
    return true;
  }

  /** SHL/SAR/SHR r32, imm8: all six flags as the shift handler sets them (AF cleared), kept pending. */
  shift(i: Insn): boolean {
    const e = this.e;
    if (i.k0 === K_REG && i.k1 === K_REG && i.opSize === 4) return this.shiftCl(i);
    if (i.k0 !== K_REG || i.k1 !== K_IMM || i.opSize !== 4) return false;
    const n = i.immLo & 31, r0 = i.r0;
    e.emit('{');
    if (n === 0) { e.emit(Emitter.setReg(r0, 4, `g[${r0}]`)); e.emit('}'); return true; }
    e.emit(`const a = g[${r0}];`);
    if (i.mnem === Mnemonic.Shr) e.emit(`const r = (a >>> ${n}) | 0; const cf = (a >>> ${n - 1}) & 1; const of = (a >>> 31) & 1;`);
    else if (i.mnem === Mnemonic.Sar) e.emit(`const r = a >> ${n}; const cf = (a >> ${n - 1}) & 1; const of = 0;`);
    else e.emit(`const r = a << ${n}; const cf = (a >>> ${32 - n}) & 1; const of = ((a >>> 31) ^ (a >>> 30)) & 1;`);
    e.emit(Emitter.setReg(r0, 4, 'r'));
    e.emit('fr = r; fcf = cf; fof = of;');
    e.setPend({ op: P_EAGER, size: 4, eager: `${e.k(PARITY)}[fr & 255] | (fr === 0 ? ${ZF} : 0) | (fr < 0 ? ${SF} : 0) | fcf | (fof << 11)` });
    e.emit('}');
    return true;
  }

  /**
   * SHL/SAR/SHR r32, CL as the shift handler: a masked count of 0 leaves the flags alone
   * (so the pending record is stored first), otherwise all six are set (AF cleared).
   */
  shiftCl(i: Insn): boolean {
    const e = this.e, r0 = i.r0;
    e.flush();
    e.emit(`{ const n = g[1] & 31, a = g[${r0}];`);
    e.emit(`if (n === 0) { ${Emitter.setReg(r0, 4, 'a')} } else {`);
    if (i.mnem === Mnemonic.Shr) e.emit('const r = (a >>> n) | 0, cf = (a >>> (n - 1)) & 1, of = (a >>> 31) & 1;');
    else if (i.mnem === Mnemonic.Sar) e.emit('const r = a >> n, cf = (a >> (n - 1)) & 1, of = 0;');
    else e.emit('const r = a << n, cf = (a >>> (32 - n)) & 1, of = ((a >>> 31) ^ (a >>> 30)) & 1;');
    e.emit(Emitter.setReg(r0, 4, 'r'));
    e.emit(`c.flags = (c.flags & ${~ARITH_FLAGS}) | ${e.k(PARITY)}[r & 255] | (r === 0 ? ${ZF} : 0) | (r < 0 ? ${SF} : 0) | cf | (of << 11); c.lop = ${L_NONE};`);
    e.emit('} }');
    return true;
  }

  /** Two- and three-operand IMUL r32: flags as the multiply handler sets them, kept pending. */
  imul(j: number, i: Insn): boolean {
    const e = this.e;
    if (i.opSize !== 4 || i.k0 !== K_REG || i.nops < 2) return false;
    const sk = i.k1;
    if (sk !== K_REG && sk !== K_MEM) return false;
    if (i.nops === 3 && i.k2 !== K_IMM) return false;
    e.emit('{');
    const mem = sk === K_MEM;
    if (mem) { this.memPoint(j); this.lin(j, i, 4, false); }
    if (i.nops === 2) { this.read(i, 0, 4, 'a'); this.read(i, 1, 4, 'b'); }
    else { this.read(i, 1, 4, 'a'); e.emit(`const b = ${i.immLo};`); }
    // The low half is exact with Math.imul; the product overflows iff it is not that int32.
    e.emit('const r = Math.imul(a, b); const over = a * b !== r;');
    e.emit(Emitter.setReg(i.r0, 4, 'r'));
    e.emit('fr = r; fcf = over ? 1 : 0;');
    e.setPend({ op: P_EAGER, size: 4, eager: `${e.k(PARITY)}[fr & 255] | (fr < 0 ? ${SF} : 0) | (fcf ? ${CF | OF} : 0)` });
    if (mem) this.checkAfter(j);
    e.emit('}');
    return true;
  }

  /** Whether PUSH/POP/CALL/RET of `size` bytes use the block's natural stack width (mem.ts fast paths). */
  natural(size: number): boolean {
    return (this.bits === 64 && size === 8) || (this.bits === 32 && size === 4);
  }

  /** Statement pushing `v` (`hi` its high half for 8 bytes) as c.push(size, v, hi). */
  pushCode(size: number, v: string, hi: string): string {
    this.mem = true;
    if (!this.natural(size)) return `${this.slowPre()} ${size === 8 ? `c.push(8, ${v}, ${hi});` : `c.push(${size}, ${v});`}`;
    return pushMem(this.bits, v, hi, this.slowPre());
  }

  /** Declares `name` (and `nameH` for 8 bytes) popped as c.pop(size) returns it. */
  popCode(size: number, name: string): string {
    this.mem = true;
    if (!this.natural(size)) return `${this.slowPre()} const ${name} = c.pop(${size});${size === 8 ? ` const ${name}H = c.hi;` : ''}`;
    return popMem(this.bits, name, this.slowPre());
  }

  push(j: number, i: Insn): boolean {
    const e = this.e, size = i.opSize;
    if ((i.k0 !== K_REG && i.k0 !== K_IMM) || (size !== 2 && size !== 4 && size !== 8)) return false;
    e.emit('{');
    this.read(i, 0, size, 'v');
    this.memPoint(j);
    e.emit(this.pushCode(size, 'v', size === 8 ? 'vH' : '0'));
    this.checkAfter(j);
    e.emit('}');
    return true;
  }

  pop(j: number, i: Insn): boolean {
    const e = this.e, size = i.opSize;
    if (i.k0 !== K_REG || (size !== 2 && size !== 4 && size !== 8)) return false;
    e.emit('{');
    this.memPoint(j);
    e.emit(this.popCode(size, 'v'));
    e.emit(Emitter.setReg(i.r0, size, 'v', size === 8 ? 'vH' : '0'));
    this.checkAfter(j);
    e.emit('}');
    return true;
  }

  /** Whether i is a PUSH (register but RSP, or immediate) or POP (register but RSP) of the natural stack width: 1 push, 2 pop, 0 neither. */
  stackOp(i: Insn): number {
    if (i.lock || byCode[i.code] !== undefined || !this.natural(i.opSize)) return 0;
    if (i.mnem === Mnemonic.Push && ((i.k0 === K_REG && i.r0 !== 4) || i.k0 === K_IMM)) return 1;
    if (i.mnem === Mnemonic.Pop && i.k0 === K_REG && i.r0 !== 4) return 2;
    return 0;
  }

  /** Length of the run of PUSHes or of POPs starting at instruction j (before `last`). */
  stackRun(j: number, last: number): number {
    const kind = this.stackOp(this.insns[j]);
    if (kind === 0) return 0;
    let k = j + 1;
    // A run stays in one page of the trace: it ends before an instruction after which the trace jumps.
    while (k < last && this.stackOp(this.insns[k]) === kind && (this.steps === null || this.steps[k].link === null)) k++;
    return k - j;
  }

  /** A run of n PUSHes or POPs from instruction j: one access when it can (mem.ts pushRun/popRun), else one by one. */
  emitStackRun(j: number, n: number): void {
    const e = this.e, size = this.insns[j].opSize;
    this.mem = true;
    e.emit('{ let done = false;');
    if (this.insns[j].mnem === Mnemonic.Push) {
      const values: [string, string][] = [];
      for (let k = 0; k < n; k++) {
        const i = this.insns[j + k];
        if (i.k0 === K_REG) values.push([Emitter.reg(i.r0, size), size === 8 ? `g[${i.r0 + 16}]` : '0']);
        else values.push([String(i.immLo), String(i.immHi)]);
      }
      e.emit(pushRun(this.bits, values));
    } else {
      e.emit(popRun(this.bits, n, (k, lo, hi) => Emitter.setReg(this.insns[j + k].r0, size, lo, hi)));
    }
    // Otherwise (a stack in another page part way, not in the TLB, not plain RAM) one by one,
    // through the Cpu's own push and pop: a rare path, kept small.
    e.emit('if (!done) {');
    for (let k = 0; k < n; k++) {
      const i = this.insns[j + k];
      this.memPoint(j + k);
      if (i.mnem === Mnemonic.Push) {
        const [lo, hi] = i.k0 === K_REG ? [Emitter.reg(i.r0, size), size === 8 ? `g[${i.r0 + 16}]` : '0'] : [String(i.immLo), String(i.immHi)];
        e.emit(`${this.fp}; c.push(${size}, ${lo}, ${hi});`);
      } else {
        e.emit(`{ ${this.fp}; const v = c.pop(${size}), vH = c.hi; ${Emitter.setReg(i.r0, size, 'v', 'vH')} }`);
      }
      e.emit(`if (c.attention || B.dead) ${this.exitAfter(j + k)}`);
    }
    this.fp = '';
    e.emit('} }');
  }

  setcc(j: number, i: Insn): boolean {
    const e = this.e;
    if (i.k0 !== K_REG && i.k0 !== K_MEM) return false;
    e.emit('{');
    e.emit(`const v = ${this.cond(i.cc)} ? 1 : 0;`);
    if (i.k0 === K_REG) e.emit(Emitter.setReg(i.r0, 1, 'v'));
    else { this.memPoint(j); this.lin(j, i, 1, true); this.store(1, 'v', '0'); this.checkAfter(j); }
    e.emit('}');
    return true;
  }

  cmov(j: number, i: Insn): boolean {
    const e = this.e, size = i.opSize;
    if (i.k0 !== K_REG || (i.k1 !== K_REG && i.k1 !== K_MEM) || (size !== 2 && size !== 4 && size !== 8)) return false;
    e.emit('{');
    const mem = i.k1 === K_MEM;
    // The source is read (and may fault) whatever the condition.
    if (mem) { this.memPoint(j); this.lin(j, i, size, false); }
    this.read(i, 1, size, 'v');
    const cond = this.cond(i.cc);
    e.emit(`if (${cond}) { ${Emitter.setReg(i.r0, size, 'v', 'vH')} }${size === 4 ? ` else g[${i.r0 + 16}] = 0;` : ''}`);
    if (mem) this.checkAfter(j);
    e.emit('}');
    return true;
  }

  // ---- block end -------------------------------------------------------------------------

  /** Calls the interpreter handler of instruction j; a terminator leaves the block after it. */
  callHandler(j: number, i: Insn, last: boolean, followed = false): void {
    const e = this.e;
    e.flush();
    const next = `rip0 + ${this.next(j)}`;
    e.emit(`c.rip = rip0 + ${this.offs[j]}; c.nextRip = ${next};`);
    e.faultPoint(j);
    e.emit(`${e.k(i.exec)}(c, ${e.m(i)});`);
    const done = `c.rip = c.nextRip; c.instret = base + ${j + 1};`;
    if (last) {
      // A trace's IRETQ: where it returns, so that a trace that always returns one place is rebuilt to follow it.
      const note = i.mnem === Mnemonic.Iretq && this.steps !== null ? `${e.k(noteExit)}(B, c.rip);` : '';
      e.emit(`${done} ${note} return;`);
    } else if (followed) {
      e.emit(`${done} if (B.dead) return;`);
    } else if (i.mnem === Mnemonic.Sti && j === this.n - 2) {
      // STI; HLT (cache.ts): at the boundary between them the loop would call checkEvents,
      // which inside the shadow this STI opened delivers nothing; then it would step the HLT.
      // The same here, without the trip out (blockBoundary: anything else, and the loop acts).
      e.emit(`${done} if (B.dead || c.rip !== ${next} || c.shadowUntil !== base + ${j + 1} || c.blockBoundary()) return;`);
    } else {
      e.emit(`if (c.attention || B.dead || c.nextRip !== ${next}) { ${done} return; }`);
    }
  }

  /**
   * Statements doing c.branch(target, size) then c.rip = c.nextRip, with the common cases
   * inline: in 64-bit mode the canonical check, in 32-bit code the CS limit check (both
   * fault through c.branch itself). The caller has set the fault point.
   */
  branchCode(target: string, size: number): string {
    if (this.bits === 64 && size !== 2) {
      return `{ const bt = ${target}; c.rip = c.nextRip = bt >= ${CANON_LO} && bt < ${CANON_HI} ? bt : c.canonical(bt, ${CS}); }`;
    }
    if (this.bits === 32 && size === 4) {
      return `{ const bt = (${target}) >>> 0; if (bt > c.segLimit[${CS}]) c.branch(bt, 4); c.rip = c.nextRip = bt; }`;
    }
    return `c.branch(${target}, ${size}); c.rip = c.nextRip;`;
  }

  /** Continues at rip0 + target after instruction j (the last): loops in place when it is the block start. */
  jumpTo(j: number, i: Insn, target: number): void {
    const e = this.e, n = this.n;
    const natural = (this.bits === 32 && i.opSize === 4) || (this.bits === 64 && i.opSize === 8);
    // A trace that left its first page is back at its start through another code page: that is a block boundary (Cpu.nextBlock).
    if (target === 0 && natural && this.pageOf[j] === 0) {
      // Flags not live at the block start need no flush on the back edge.
      const flush = e.entryLive === false ? '' : e.flushText();
      e.emit(`${flush} if (base + ${2 * n} <= end && !c.attention && !B.dead) { base += ${n}; continue; }`);
      e.emit(`${e.flushText()} c.rip = rip0; c.instret = base + ${n}; return;`);
      return;
    }
    e.emit(e.flushText());
    e.faultPoint(j);
    e.emit(`${this.branchCode(`rip0 + ${target}`, i.opSize)} c.instret = base + ${n}; return ${this.successor(target, j)};`);
  }

  /** Leaves the block before instruction j (the loop runs it): flags stored, instret exact. */
  exitBefore(j: number): string {
    return `{ ${this.e.flushText()} c.rip = rip0 + ${this.offs[j]}; c.instret = base + ${j}; return; }`;
  }

  /** Leaves the block after instruction j with execution going on at rip0 + target. */
  exitTo(j: number, target: number, next: string): string {
    return `{ ${this.e.flushText()} c.rip = rip0 + ${target}; c.instret = base + ${j + 1}; return ${next}; }`;
  }

  /**
   * Instruction j of a trace, after which the trace goes on at link.target (cache.ts built
   * it): the instruction itself where there is more than the transfer, the checks that the
   * way the trace was built is still the way execution goes (return address, branch
   * direction), else an exit where the interpreter would go; then, on entering another
   * page, the check of its translation. A target in another page is
   * checked canonical first (in its page it is), so a branch that would fault leaves the
   * block before it and faults in the loop as it should. The pending flags stay in locals.
   */
  follow(j: number, i: Insn, link: TraceLink): void {
    const e = this.e, target = link.target;
    const abs = this.block.rip + target;
    const canonical = link.pagePa < 0 || (abs >= CANON_LO && abs < CANON_HI) ? '' : this.exitBefore(j);
    switch (link.kind) {
      case LINK_NEXT:
        if (!this.inline(j, i)) this.callHandler(j, i, false);
        break;
      case LINK_JMP:
        e.emit(canonical);
        break;
      case LINK_CALL:
        e.emit(canonical);
        this.memPoint(j);
        e.emit(`{ ${this.pushCode(8, ...halves(this.block.rip + this.next(j)))}`);
        e.emit(`if (chk) { chk = false; if (c.attention || B.dead) ${this.exitTo(j, target, '')} } }`);
        break;
      case LINK_RET: {
        this.memPoint(j);
        e.emit(`{ ${this.popCode(8, 'ip')}`);
        // The popped address against the expected one, half by half (it is canonical, as is any address in a page the TLB maps).
        const [tl, th] = halves(abs);
        const mismatch = abs >= CANON_LO && abs < CANON_HI ? `ip !== ${tl} || ipH !== ${th}` : 'true';
        e.faultPoint(j); // for the branch below (a non-canonical return address)
        e.emit(`if (${mismatch}) { const t = ipH * 4294967296 + (ip >>> 0); ${e.flushText()} ${e.k(noteReturn)}(${e.m(i)}, t); ${this.branchCode('t', 8)} c.instret = base + ${j + 1}; return c.nextBlock(); }`);
        e.emit(`if (chk) { chk = false; if (c.attention || B.dead) ${this.exitTo(j, target, '')} } }`);
        break;
      }
      case LINK_IRET: {
        // Its handler, then what the loop would do at the boundary after it (blockBoundary: IF
        // has just risen), and on where it has always returned if it went there, at this CPL
        // and in 64-bit mode (what the rest of the trace was compiled for). Else the loop goes on.
        this.callHandler(j, i, false, true);
        this.cplLocal = true;
        e.emit(`if (c.attention && (c.blockBoundary() || c.attention)) return; if (c.rip !== ${abs} || c.cpl !== cpl0 || !c.mode64) return;`);
        break;
      }
      case LINK_IJMP: {
        // A JMP through a register to where it always went: on if the register holds that
        // address, else the branch as the interpreter makes it (a target elsewhere may fault).
        const [tl, th] = halves(abs);
        const r = i.r0;
        e.emit(`if (g[${r}] !== ${tl} || g[${r + 16}] !== ${th}) { ${e.flushText()}`);
        e.faultPoint(j);
        e.emit(`${this.branchCode(regTarget(r, 8), 8)} c.instret = base + ${j + 1}; return c.nextBlock(); }`);
        break;
      }
      default: { // LINK_TAKEN, LINK_FALL
        const taken = link.kind === LINK_TAKEN;
        const other = taken ? this.next(j) : this.next(j) + i.rel;
        const cond = this.cond(i.cc);
        e.emit(`if (${taken ? '!' : ''}${cond}) ${this.exitTo(j, other, this.successor(other, j))}`);
        e.emit(canonical);
        break;
      }
    }
    if (link.pagePa >= 0) {
      // The page's translation, as the TLB holds it now: executable, to the page the trace was
      // built from. The vCPU's fetch state stays where it is (a translation still valid):
      // Cpu.nextBlock and runBlock move it when they look up a block in another page.
      const { ix, key } = linAddr(String(abs), false);
      const pa = link.pagePa < 0x80000000 - 4096 ? `TR[${ix}]` : `TP[${ix}]`; // a RAM page below 2 GiB: tlbRam has it as an int32
      this.mem = true;
      e.emit(`if (TK[${ix}] !== ${key} || (TM[${ix}] & NX) !== NX || ${pa} !== ${link.pagePa}) ${this.exitTo(j, target, '')}`);
    }
  }

  terminator(j: number, i: Insn): void {
    const e = this.e;
    const fall = this.next(j);
    const target = fall + i.rel;
    if (JCC.has(i.mnem) && i.k0 !== K_MEM) {
      const cond = this.cond(i.cc);
      const saved = e.pend;
      e.emit(`if (${cond}) {`);
      this.jumpTo(j, i, target);
      e.emit('}');
      e.pend = saved;
      e.emit(`${e.flushText()} c.rip = rip0 + ${fall}; c.instret = base + ${j + 1}; return ${this.successor(fall, j)};`);
      return;
    }
    if (isRelJmp(i)) { this.jumpTo(j, i, target); return; }
    if (isRelCall(i) && !i.lock) {
      e.flush();
      e.faultPoint(j); // the push's slow path and the branch (canonical, CS limit) may fault
      this.memPoint(j);
      const size = i.opSize;
      e.emit(`{ ${this.pushCode(size, ...(size === 8 ? halves(this.block.rip + fall) : [String(this.block.rip + fall), '0'] as [string, string]))}`);
      e.emit(`${this.branchCode(`rip0 + ${target}`, size)} c.instret = base + ${j + 1}; return ${this.successor(target, j)}; }`);
      return;
    }
    if (i.mnem === Mnemonic.Jmp && i.k0 === K_REG && !i.lock && byCode[i.code] === undefined && (i.opSize === 8 || i.opSize === 4)) {
      // Near indirect JMP through a register, as its handler: the target, then c.branch.
      e.flush();
      e.faultPoint(j);
      const t = regTarget(i.r0, i.opSize);
      // In a trace, where it goes: one that always goes one place is rebuilt to follow it (LINK_IJMP).
      const note = this.steps !== null && i.opSize === 8 ? `${e.k(noteExit)}(B, c.rip);` : '';
      e.emit(`${this.branchCode(t, i.opSize)} c.instret = base + ${j + 1}; ${note} return c.nextBlock();`);
      return;
    }
    if (i.mnem === Mnemonic.Ret && i.nops === 0 && !i.lock && byCode[i.code] === undefined) {
      e.flush();
      e.faultPoint(j);
      this.memPoint(j);
      const size = i.opSize;
      e.emit(`{ ${this.popCode(size, 'ip')} const t = ${size === 8 ? 'ipH * 4294967296 + (ip >>> 0)' : 'ip >>> 0'};`);
      e.emit(`${e.k(noteReturn)}(${e.m(i)}, t); ${this.branchCode('t', size)} c.instret = base + ${j + 1}; return c.nextBlock(); }`);
      return;
    }
    this.callHandler(j, i, true);
  }

  /** The whole function's source. */
  source(endsWithTerminator: boolean): string {
    const e = this.e, n = this.n;
    const last = endsWithTerminator ? n - 1 : n;
    for (let j = 0; j < last; j++) {
      const i = this.insns[j];
      this.fp = '';
      const link = this.steps !== null ? this.steps[j].link : null;
      if (link !== null) { this.follow(j, i, link); continue; }
      const run = this.stackRun(j, last);
      if (run > 1) { this.emitStackRun(j, run); j += run - 1; continue; }
      if (!this.inline(j, i)) this.callHandler(j, i, false);
    }
    this.fp = '';
    if (endsWithTerminator) this.terminator(n - 1, this.insns[n - 1]);
    else e.emit(`${e.flushText()} c.rip = rip0 + ${this.offs[n]}; c.instret = base + ${n}; return ${this.successor(this.offs[n], n - 1)};`);
    const cases = e.catchFlush.map((f, j) => (f ? `case ${j}: ${f} break;` : '')).join(' ');
    const offs = e.m(Int32Array.from(this.offs));
    const page = e.m(this.page);
    const consts = e.consts.map((_, id) => `const k${id} = G[${id}];`).join('\n');
    return `${consts}
return function block(c, end, B) {
  const g = c.gpr, K = B.k, P = ${page};${this.cplLocal ? ' const cpl0 = c.cpl;' : ''}${this.mem ? `\n  ${MEM_LOCALS}` : ''}
  const rip0 = ${this.block.rip};
  let base = c.instret;
  let fa = 0, fb = 0, fr = 0, faH = 0, fbH = 0, frH = 0, fcf = 0, fof = 0;
  try {
    for (;;) {
${e.lines.join('\n')}
    }
  } catch (err) {
    const j = c.instret - base;
    c.rip = rip0 + ${offs}[j];
    switch (j) { ${cases} }
    throw err;
  }
};`;
  }
}

type Factory = (k: unknown[]) => BlockFn;
/**
 * Block functions by source text, shared by every machine in the process. A function holds
 * only constants every machine shares (Emitter.k); what is one machine's own comes from the
 * block it is called with (Emitter.m, Block.k). So the same code compiled again (another
 * Machine, a restarted session) is the same JavaScript function, with the feedback and the
 * optimized code V8 made for it: a new closure of the same source would start over in the
 * interpreter and wait for the optimizing compiler again (tens of milliseconds per trace).
 */
const shared = new Map<string, { factory: Factory; consts: unknown[]; fn: BlockFn }>();
const MAX_SHARED = 20000;

/** Compiles `insns` (decoded for `bits`) into the block's function, and sets block.k; `page` holds the block. */
export function compileBlock(insns: Insn[], bits: number, block: Block, page: BlockPage, endsWithTerminator: boolean, steps: TraceStep[] | null = null): BlockFn {
  const c = new Compiler(insns, bits, block, page, steps);
  const src = c.source(endsWithTerminator);
  const consts = c.e.consts;
  block.k = c.e.locals;
  const s = shared.get(src);
  if (s !== undefined) {
    // The same text closes over the same constants unless two handlers compile alike.
    if (s.consts.length === consts.length && s.consts.every((v, k) => v === consts[k])) return s.fn;
    return s.factory(consts);
  }
  if (shared.size >= MAX_SHARED) shared.clear();
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const factory = new Function('G', src) as Factory;
  const fn = factory(consts);
  shared.set(src, { factory, consts, fn });
  return fn;
}
