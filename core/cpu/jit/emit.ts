// The JIT's code generator state: JavaScript source for one block, the constants it
// closes over, and the arithmetic flags known at compile time.
//
// Flags: an ALU instruction inside a block leaves its lazy-flag record (operation, size,
// operands, result; see flags.ts) in the function's locals fa/fb/fr (faH/fbH/frH for 64-bit,
// fcf for the CF that INC/DEC keep) instead of the Cpu's fields. A later Jcc/SETcc/CMOVcc
// reads the locals directly ("cmp; jl" becomes one signed compare); a later flag writer
// simply replaces them. The record is stored into the Cpu ("flushed") before anything that
// can look at it: an interpreter handler, a block exit, and - from the catch handler - a
// fault, so an exception handler sees exactly the flags the interpreter would have left.
import { L_ADD, L_DEC, L_INC, L_LOGIC, L_SUB, getCF } from '../flags';
import { ARITH_FLAGS } from '../regs';

/**
 * A flag record held in locals: a lazy operation (L_*) and its operand size, or P_EAGER with
 * the expression of all six flags (shifts, IMUL: fr/fcf/fof hold their inputs). For INC/DEC,
 * cpuCF says the CF they keep is still the Cpu's (read from it only if someone needs it).
 */
export interface Pending { op: number; size: number; cpuCF?: boolean; eager?: string }

export const P_EAGER = -1;

/** Left shift bringing a 1/2/4-byte value's sign bit to bit 31 (order-preserving on its bits). */
const TOP = [0, 24, 16, 0, 0];

/** v's index in list (appended the first time; ids remembers). */
function intern(list: unknown[], ids: Map<unknown, number>, v: unknown): number {
  let id = ids.get(v);
  if (id === undefined) { id = list.length; list.push(v); ids.set(v, id); }
  return id;
}

export class Emitter {
  readonly lines: string[] = [];
  /** Constants every machine shares (handlers, helpers, tables): closed over by the function. */
  readonly consts: unknown[] = [];
  private readonly constIds = new Map<unknown, number>();
  /** This machine's objects (instructions, the block's page): the block carries them (Block.k). */
  readonly locals: unknown[] = [];
  private readonly localIds = new Map<unknown, number>();
  pend: Pending | null = null;
  /**
   * Whether the flags at block entry can be observed before the block overwrites them all
   * (null until the first flag event). When they cannot, a loop back to the block start
   * need not flush the record of the previous iteration.
   */
  entryLive: boolean | null = null;
  /** Per instruction: the flush its fault points need (the record pending when it started). */
  readonly catchFlush: string[] = [];

  emit(s: string): void { this.lines.push(s); }

  /** Name of a constant shared by every machine (a handler, a helper, a table) the generated code closes over. */
  k(v: unknown): string {
    return `k${intern(this.consts, this.constIds, v)}`;
  }

  /**
   * Expression of one of this machine's objects (an Insn, the block's page), which the
   * generated code reads from the block it runs (K = B.k): the function itself holds nothing
   * of one machine, so every machine running the same code runs the same function.
   */
  m(v: unknown): string {
    return `K[${intern(this.locals, this.localIds, v)}]`;
  }

  // ---- flags ----------------------------------------------------------------------------

  flushCode(p: Pending | null): string {
    if (p === null) return '';
    if (p.op === P_EAGER) return `c.flags = (c.flags & ${~ARITH_FLAGS}) | ${p.eager}; c.lop = 0;`;
    let s = `c.lop = ${p.op}; c.lsz = ${p.size}; c.la = fa; c.lb = fb; c.lres = fr;`;
    if (p.size === 8) s += ' c.laH = faH; c.lbH = fbH; c.lresH = frH;';
    if (p.op === L_INC || p.op === L_DEC) {
      // As lazyKeepCF: CF goes to c.flags, the high halves are zero below 64 bits.
      if (p.cpuCF) s = `fcf = ${this.k(getCF)}(c); ${s}`;
      s += ' c.flags = (c.flags & -2) | fcf;';
      if (p.size !== 8) s += ' c.laH = 0; c.lbH = 0; c.lresH = 0;';
    }
    return s;
  }

  /** The flags at block entry are read (before any full write). */
  noteUse(): void {
    if (this.entryLive === null) this.entryLive = true;
  }

  /** A new record replaces whatever was pending (all six flags are written). */
  setPend(p: Pending): void {
    if (this.entryLive === null) this.entryLive = false;
    this.pend = p;
  }

  /** Stores the pending record into the Cpu; afterwards the Cpu's fields are the truth. */
  flush(): void {
    if (this.entryLive === null) this.entryLive = true;
    const s = this.flushCode(this.pend);
    if (s) this.emit(s);
    this.pend = null;
  }

  /** The flush an exit needs, without forgetting the record (other paths may still use it). */
  flushText(): string { return this.flushCode(this.pend); }

  /**
   * Marks a point where instruction j may fault or reach a device: the Cpu's instret must be
   * exact (virtual time), and the catch handler learns which record to flush.
   */
  faultPoint(j: number): void {
    if (this.entryLive === null) this.entryLive = true;
    if (this.catchFlush[j] === undefined) this.catchFlush[j] = this.flushCode(this.pend);
    this.emit(`c.instret = base + ${j};`);
  }

  /**
   * As faultPoint, for code whose fast path can neither fault nor reach a device (mem.ts):
   * returns the instret store for the caller to put on its slow paths only.
   */
  lazyFaultPoint(j: number): string {
    if (this.entryLive === null) this.entryLive = true;
    if (this.catchFlush[j] === undefined) this.catchFlush[j] = this.flushCode(this.pend);
    return `c.instret = base + ${j}`;
  }

  /** CF (0 or 1) of the pending record as an expression, or null when only the Cpu knows. */
  carryExpr(): string | null {
    const p = this.pend;
    if (p === null) return null;
    if (p.op === L_LOGIC) return '0';
    if (p.op === L_INC || p.op === L_DEC) return p.cpuCF ? `${this.k(getCF)}(c)` : 'fcf';
    if (p.op === P_EAGER) return 'fcf';
    if (p.size <= 4) {
      const sh = TOP[p.size];
      if (p.op === L_SUB) return `(((fa << ${sh}) >>> 0) < ((fb << ${sh}) >>> 0) ? 1 : 0)`;
      if (p.op === L_ADD) return `(((fr << ${sh}) >>> 0) < ((fa << ${sh}) >>> 0) ? 1 : 0)`;
      return null;
    }
    if (p.op === L_SUB) return '((faH >>> 0) < (fbH >>> 0) || (faH === fbH && (fa >>> 0) < (fb >>> 0)) ? 1 : 0)';
    if (p.op === L_ADD) return '((frH >>> 0) < (faH >>> 0) || (frH === faH && (fr >>> 0) < (fa >>> 0)) ? 1 : 0)';
    return null;
  }

  /**
   * Condition cc (SDM vol. 1, appendix B) of the pending record as a boolean expression,
   * or null when the record does not give it cheaply (the caller flushes and asks flags.ts).
   */
  condExpr(cc: number): string | null {
    const p = this.pend;
    if (p === null) return null;
    const neg = (cc & 1) !== 0;
    const base = cc & ~1;
    let e: string | null = null;
    if (p.size <= 4) {
      const sh = TOP[p.size];
      const r = `(fr << ${sh})`;
      const zs = (): string | null => base === 4 ? `${r} === 0` : base === 8 ? `${r} < 0` : null;
      switch (p.op) {
        case L_SUB: {
          const a = `(fa << ${sh})`, b = `(fb << ${sh})`;
          switch (base) {
            case 0: e = `((fa ^ fb) & (fa ^ fr)) << ${sh} < 0`; break;
            case 2: e = `(${a} >>> 0) < (${b} >>> 0)`; break;
            case 4: e = `${a} === ${b}`; break;
            case 6: e = `(${a} >>> 0) <= (${b} >>> 0)`; break;
            case 8: e = `${r} < 0`; break;
            case 12: e = `${a} < ${b}`; break;
            case 14: e = `${a} <= ${b}`; break;
          }
          break;
        }
        case L_LOGIC:
          switch (base) {
            case 0: case 2: e = 'false'; break;
            case 4: case 6: e = `${r} === 0`; break;
            case 8: case 12: e = `${r} < 0`; break;
            case 14: e = `${r} <= 0`; break;
          }
          break;
        case L_ADD:
          if (base === 2) e = `((fr << ${sh}) >>> 0) < ((fa << ${sh}) >>> 0)`;
          else e = zs();
          break;
        case L_INC: case L_DEC:
          if (base === 2) e = `${this.carryExpr()} !== 0`;
          else e = zs();
          break;
      }
    } else {
      const z = '(fr | frH) === 0';
      switch (p.op) {
        case L_SUB:
          switch (base) {
            case 2: e = '(faH >>> 0) < (fbH >>> 0) || (faH === fbH && (fa >>> 0) < (fb >>> 0))'; break;
            case 4: e = 'fa === fb && faH === fbH'; break;
            case 6: e = '(faH >>> 0) < (fbH >>> 0) || (faH === fbH && (fa >>> 0) <= (fb >>> 0))'; break;
            case 8: e = 'frH < 0'; break;
            case 12: e = 'faH < fbH || (faH === fbH && (fa >>> 0) < (fb >>> 0))'; break;
            case 14: e = 'faH < fbH || (faH === fbH && (fa >>> 0) <= (fb >>> 0))'; break;
          }
          break;
        case L_LOGIC:
          switch (base) {
            case 0: case 2: e = 'false'; break;
            case 4: case 6: e = z; break;
            case 8: case 12: e = 'frH < 0'; break;
            case 14: e = `${z} || frH < 0`; break;
          }
          break;
        case L_ADD: case L_INC: case L_DEC:
          if (base === 4) e = z;
          else if (base === 8) e = 'frH < 0';
          else if (base === 2 && p.op !== L_ADD) e = `${this.carryExpr()} !== 0`;
          break;
      }
    }
    if (e === null) return null;
    return neg ? `!(${e})` : `(${e})`;
  }

  // ---- registers --------------------------------------------------------------------------

  /** Value of GPR `id` at `size` bytes, as getReg returns it (low half for 8 bytes). */
  static reg(id: number, size: number): string {
    switch (size) {
      case 1: return id < 16 ? `(g[${id}] & 255)` : `((g[${id - 16}] >> 8) & 255)`;
      case 2: return `(g[${id}] & 65535)`;
      default: return `g[${id}]`;
    }
  }

  /** Statement writing GPR `id` as setReg does (32-bit writes zero the high half). */
  static setReg(id: number, size: number, v: string, hi = '0'): string {
    switch (size) {
      case 1:
        return id < 16 ? `g[${id}] = (g[${id}] & -256) | (${v} & 255);`
          : `g[${id - 16}] = (g[${id - 16}] & -65281) | ((${v} & 255) << 8);`;
      case 2: return `g[${id}] = (g[${id}] & -65536) | (${v} & 65535);`;
      case 4: return `g[${id}] = ${v}; g[${id + 16}] = 0;`;
      default: return `g[${id}] = ${v}; g[${id + 16}] = ${hi};`;
    }
  }
}
