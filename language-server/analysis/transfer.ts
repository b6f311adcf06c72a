// The effect of one instruction on what the analysis knows (values.ts), and the hardware
// accesses it makes visible: stores to the local APIC page (and x2APIC WRMSRs), MSR
// accesses, control-register writes, port I/O. Only the instructions that move or combine
// constants are modelled; any other instruction forgets the registers it writes (the
// operand-access table in access.ts says which).
import type { Instruction } from '../documents/model';
import { evaluate } from '../documents/expressions';
import { decodeOperand, intelOrder, OperandInfo } from '../documents/operands';
import { isBranch, normalizeMnemonic } from '../isa/instructions';
import { registerInfo, RegisterInfo } from '../isa/registers';
import { apicAddress, apicRegisterAt, apicRegisterOfMsr, ApicRegister } from '../hardware/apic';
import { registerUses } from './access';
import { ICR_HIGH_SLOT, mergeOrigins, Origin, OriginOp, RegValue, State } from './values';
import { APIC_ICR_HIGH, APIC_ICR_LOW, MSR_IA32_APIC_BASE, X2APIC_MSR_ICR } from '../../core/apic/registers';

export interface Where {
  line: number;
  start: number;
  end: number;
}

export type HwEvent =
  | {
      kind: 'apic-write'; insn: Where; address?: Where; offset: number; reg?: ApicRegister; x2apic: boolean;
      value?: bigint; high?: bigint; origins: Origin[]; page?: { value: bigint; origin?: Origin };
    }
  | { kind: 'apic-read'; insn: Where; address?: Where; offset: number; reg?: ApicRegister; x2apic: boolean }
  | { kind: 'ioapic'; insn: Where; address: Where; offset: number; write: boolean }
  | { kind: 'msr'; insn: Where; msr: number; write: boolean; value?: bigint; origins: Origin[]; msrOrigins: Origin[] }
  | { kind: 'cr-write'; insn: Where; cr: number; value?: bigint; origins: Origin[] }
  | { kind: 'port'; insn: Where; port: number; write: boolean; portOrigins: Origin[]; portSpan?: Where };

export interface AnalysisEnv {
  /** The value of a constant symbol as seen from `line`, or undefined. */
  lookup(name: string, line: number): bigint | undefined;
  /** What is known of a label's address (exact, or a lower bound), when the layout says. */
  addressOf?(name: string): { exact?: bigint; min?: bigint } | undefined;
}

const MASK = (bits: number) => (1n << BigInt(bits)) - 1n;
const CALLER_SAVED = ['rax', 'rcx', 'rdx', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11'];
const MEMORY_WRITERS = new Set(['mov', 'or', 'and', 'xor', 'add', 'sub', 'bts', 'btr', 'btc', 'inc', 'dec', 'not', 'neg', 'xchg', 'stos', 'movnti']);
const ALU = new Set<string>(['or', 'and', 'xor', 'add', 'sub', 'shl', 'sal', 'shr', 'sar', 'bts', 'btr']);

/** Reads a register: the part of its family's value this width sees. */
export function readReg(state: State, reg: RegisterInfo): RegValue {
  const rv = state.get(reg.family);
  if (!rv) return { origins: [] };
  const known = rv.value !== undefined && (rv.knownBits ?? 64) >= (reg.high8 ? 16 : reg.bits);
  const out: RegValue = { origins: rv.origins };
  if (known) out.value = reg.high8 ? (rv.value! >> 8n) & 0xffn : rv.value! & MASK(Math.min(reg.bits, 64));
  if (reg.bits >= 32) {
    out.apicBase = rv.apicBase; out.fromMsr = rv.fromMsr; out.fromCr = rv.fromCr; out.page = rv.page;
  } else if (rv.page && known) out.page = rv.page;
  return out;
}

/** Writes a register, merging into the family for 8- and 16-bit writes. */
export function writeReg(state: State, reg: RegisterInfo, v: RegValue): void {
  if (reg.cls !== 'gpr') return;
  if (reg.bits >= 32) {
    const value = v.value === undefined ? undefined : v.value & MASK(reg.bits);
    state.set(reg.family, { ...v, value, knownBits: value === undefined ? undefined : 64 });
    return;
  }
  const old = state.get(reg.family);
  const shift = reg.high8 ? 8n : 0n;
  const mask = MASK(reg.bits) << shift;
  if (v.value === undefined) {
    state.set(reg.family, { origins: mergeOrigins(v.origins, []) });
    return;
  }
  const part = (v.value << shift) & mask;
  if (old?.value !== undefined && (old.knownBits ?? 64) >= 32) {
    state.set(reg.family, { value: (old.value & ~mask) | part, knownBits: old.knownBits, origins: v.origins, page: v.page });
  } else if (!reg.high8) {
    // Only the low bits are known (mov $port, %dx with EDX unknown).
    state.set(reg.family, { value: part, knownBits: reg.bits, origins: v.origins, page: v.page });
  } else {
    state.set(reg.family, { origins: v.origins });
  }
}

export class Transfer {
  constructor(private readonly env: AnalysisEnv, private readonly defaultBits: 16 | 32 | 64) {}

  /** Applies one instruction; `emit` receives the hardware accesses (final pass only). */
  step(state: State, insn: Instruction, stack: RegValue[], emit?: (e: HwEvent) => void): void {
    const name = normalizeMnemonic(insn.mnemonic.text, insn.dialect);
    if (!name || insn.macroCall) {
      // A macro or an unknown op: it may change anything.
      for (const k of [...state.keys()]) if (k !== ICR_HIGH_SLOT) state.delete(k);
      stack.length = 0;
      return;
    }
    const base = name.base;
    const bits = insn.bits ?? this.defaultBits;
    const branch = isBranch(base);
    const ops = intelOrder(insn.operands.map((o) => decodeOperand(o, insn.dialect, branch)), insn.dialect);
    const where: Where = { line: insn.line, start: insn.mnemonic.start, end: insn.end };
    const ctx = { state, insn, ops, where, bits, emit };

    // Memory operands touching the APIC windows, whatever the instruction.
    ops.forEach((op, k) => {
      if (op.kind !== 'mem' || !emit) return;
      if (k === 0 && MEMORY_WRITERS.has(base)) return; // handled as a store below
      this.memoryAccess(ctx, op, false, undefined);
    });

    switch (base) {
      case 'mov': case 'movabs': return this.mov(ctx);
      case 'xor': case 'sub':
        if (ops[0]?.kind === 'reg' && ops[1]?.kind === 'reg' && ops[0].reg.family === ops[1].reg.family) {
          writeReg(state, ops[0].reg, { value: 0n, origins: [] });
          return;
        }
        return this.alu(ctx, base);
      case 'or': case 'and': case 'add': case 'shl': case 'sal': case 'shr': case 'sar': case 'bts': case 'btr':
        return this.alu(ctx, base);
      case 'inc': case 'dec': case 'not': case 'neg': return this.unary(ctx, base);
      case 'lea': return this.lea(ctx);
      case 'push': {
        const op = ops[0];
        stack.push(op ? this.valueOf(ctx, op) : { origins: [] });
        if (stack.length > 64) stack.shift();
        return;
      }
      case 'pop': {
        const v = stack.pop() ?? { origins: [] };
        if (ops[0]?.kind === 'reg') writeReg(state, ops[0].reg, v);
        return;
      }
      case 'rdmsr': return this.rdmsr(ctx);
      case 'wrmsr': return this.wrmsr(ctx);
      case 'in': case 'out': case 'insb': case 'insw': case 'insd': case 'outsb': case 'outsw': case 'outsd':
        this.port(ctx, base.startsWith('out'));
        break;
      case 'call':
        for (const r of CALLER_SAVED) state.delete(r);
        stack.length = 0;
        return;
      case 'pushad': case 'pusha': case 'popad': case 'popa': case 'pushfd': case 'popfd': case 'pushfq': case 'popfq': case 'pushf': case 'popf':
        stack.length = 0;
        break;
    }
    this.forgetWrites(state, insn);
  }

  private forgetWrites(state: State, insn: Instruction): void {
    for (const u of registerUses(insn, this.defaultBits)) if (u.write) state.delete(u.family);
  }

  private origin(ctx: { insn: Instruction }, op: Extract<OperandInfo, { kind: 'imm' }>, opName: OriginOp, value: bigint | undefined): Origin {
    return { line: ctx.insn.line, start: op.start, end: op.end, op: opName, expr: op.expr, value };
  }

  private valueOf(ctx: Ctx, op: OperandInfo, opName: OriginOp = 'mov'): RegValue {
    if (op.kind === 'imm') {
      const v = evaluate(op.expr, { lookup: (n) => this.env.lookup(n, ctx.insn.line) }, ctx.insn.dialect);
      const value = v === undefined ? undefined : BigInt.asUintN(64, v);
      return { value, origins: [this.origin(ctx, op, opName, value)] };
    }
    if (op.kind === 'reg') {
      const v = readReg(ctx.state, op.reg);
      // A register's origins combined with an operation take on that operation.
      return opName === 'mov' ? v : { ...v, origins: v.origins.map((o) => (o.op === 'mov' ? { ...o, op: opName } : o)) };
    }
    return { origins: [] };
  }

  private mov(ctx: Ctx): void {
    const [dst, src] = ctx.ops;
    if (!dst || !src) return;
    if (dst.kind === 'reg' && dst.reg.cls === 'control' && src.kind === 'reg') {
      const v = readReg(ctx.state, src.reg);
      ctx.emit?.({ kind: 'cr-write', insn: ctx.where, cr: Number(dst.reg.name.slice(2)), value: v.value, origins: v.origins });
      return;
    }
    if (dst.kind === 'reg') {
      if (src.kind === 'reg' && src.reg.cls === 'control') {
        writeReg(ctx.state, dst.reg, { origins: [], fromCr: Number(src.reg.name.slice(2)) });
        return;
      }
      if (src.kind === 'mem') {
        writeReg(ctx.state, dst.reg, { origins: [] });
        return;
      }
      writeReg(ctx.state, dst.reg, this.valueOf(ctx, src));
      return;
    }
    if (dst.kind === 'mem') this.memoryAccess(ctx, dst, true, this.valueOf(ctx, src));
  }

  private alu(ctx: Ctx, op: string): void {
    const [dst, src] = ctx.ops;
    if (!dst) return;
    const opName = (op === 'sal' ? 'shl' : op === 'sar' ? 'shr' : op) as OriginOp;
    if (dst.kind === 'mem') {
      if (src) this.memoryAccess(ctx, dst, true, { origins: this.valueOf(ctx, src, opName).origins });
      return;
    }
    if (dst.kind !== 'reg' || !src) { this.forgetWrites(ctx.state, ctx.insn); return; }
    const a = readReg(ctx.state, dst.reg);
    const b = this.valueOf(ctx, src, opName);
    const width = dst.reg.bits;
    const out: RegValue = { origins: mergeOrigins(a.origins, b.origins), fromMsr: a.fromMsr, fromCr: a.fromCr, page: a.page ?? b.page };
    if (a.value !== undefined && b.value !== undefined) {
      const x = a.value, y = b.value;
      const r = op === 'or' ? x | y : op === 'and' ? x & y : op === 'xor' ? x ^ y : op === 'add' ? x + y : op === 'sub' ? x - y
        : op === 'shl' || op === 'sal' ? x << (y & 63n) : op === 'shr' ? x >> (y & 63n) : op === 'sar' ? BigInt.asIntN(width, x) >> (y & 63n)
        : op === 'bts' ? x | (1n << (y & 63n)) : op === 'btr' ? x & ~(1n << (y & 63n)) : undefined;
      if (r !== undefined) out.value = BigInt.asUintN(width, r);
      // Shifting an address right by 12 makes a page number (a SIPI vector).
      if (op === 'shr' && y === 12n) out.page = { value: x, origin: a.origins[0] };
    }
    // RDMSR(IA32_APIC_BASE) & ~0xFFF is the local APIC base.
    if (op === 'and' && a.fromMsr === MSR_IA32_APIC_BASE && b.value !== undefined && (b.value & 0xfffff000n) === 0xfffff000n && !(b.value & 0xfffn)) out.apicBase = 0n;
    if (op === 'add' && a.apicBase !== undefined && b.value !== undefined) out.apicBase = a.apicBase + b.value;
    if (op === 'or' && a.apicBase !== undefined && b.value !== undefined && b.value < 0x1000n) out.apicBase = a.apicBase | b.value;
    writeReg(ctx.state, dst.reg, out);
  }

  private unary(ctx: Ctx, op: string): void {
    const dst = ctx.ops[0];
    if (dst?.kind !== 'reg') { if (dst?.kind === 'mem') this.memoryAccess(ctx, dst, true, { origins: [] }); return; }
    const a = readReg(ctx.state, dst.reg);
    const w = dst.reg.bits;
    const value = a.value === undefined ? undefined : BigInt.asUintN(w, op === 'inc' ? a.value + 1n : op === 'dec' ? a.value - 1n : op === 'not' ? ~a.value : -a.value);
    writeReg(ctx.state, dst.reg, { value, origins: a.origins });
  }

  private lea(ctx: Ctx): void {
    const [dst, src] = ctx.ops;
    if (dst?.kind !== 'reg' || src?.kind !== 'mem') { this.forgetWrites(ctx.state, ctx.insn); return; }
    const addr = this.address(ctx, src);
    writeReg(ctx.state, dst.reg, { value: addr.abs, apicBase: addr.apicOffset, origins: [] });
  }

  /** The address of a memory operand, as far as known. */
  private address(ctx: Ctx, m: Extract<OperandInfo, { kind: 'mem' }>): { abs?: bigint; apicOffset?: bigint } {
    let disp = 0n;
    for (const d of m.disp) {
      const v = evaluate(d.expr, { lookup: (n) => this.env.lookup(n, ctx.insn.line) }, ctx.insn.dialect);
      if (v === undefined) return {};
      disp += d.negate ? -v : v;
    }
    let index = 0n;
    if (m.index) {
      const iv = readReg(ctx.state, m.index.reg).value;
      if (iv === undefined) return {};
      index = iv * BigInt(m.scale);
    }
    if (m.base) {
      if (m.base.reg.cls !== 'gpr') return {};
      const b = readReg(ctx.state, m.base.reg);
      if (b.apicBase !== undefined) return { apicOffset: b.apicBase + disp + index };
      if (b.value === undefined) return {};
      return { abs: normalizeAddress(b.value + disp + index) };
    }
    return { abs: normalizeAddress(disp + index) };
  }

  private memoryAccess(ctx: Ctx, m: Extract<OperandInfo, { kind: 'mem' }>, write: boolean, value: RegValue | undefined): void {
    if (!ctx.emit && !write) return;
    const addr = this.address(ctx, m);
    const span: Where | undefined = m.dispStart !== undefined ? { line: ctx.insn.line, start: m.dispStart, end: m.dispEnd! } : m.base ? { line: ctx.insn.line, start: m.base.tok.start, end: m.base.tok.end } : undefined;
    let offset: number | undefined;
    if (addr.apicOffset !== undefined && addr.apicOffset >= 0n && addr.apicOffset < 0x1000n) offset = Number(addr.apicOffset);
    else if (addr.abs !== undefined) {
      const a = apicAddress(Number(addr.abs));
      if (a?.kind === 'lapic') offset = a.offset;
      else if (a?.kind === 'ioapic') {
        if (span) ctx.emit?.({ kind: 'ioapic', insn: ctx.where, address: span, offset: a.offset, write });
        return;
      }
    }
    if (offset === undefined) return;
    const reg = apicRegisterAt(offset & ~0xf);
    if (!write) {
      ctx.emit?.({ kind: 'apic-read', insn: ctx.where, address: span, offset, reg, x2apic: false });
      return;
    }
    const v = value ?? { origins: [] };
    if (offset === APIC_ICR_HIGH) ctx.state.set(ICR_HIGH_SLOT, { value: v.value, origins: v.origins });
    const high = offset === APIC_ICR_LOW ? ctx.state.get(ICR_HIGH_SLOT)?.value : undefined;
    ctx.emit?.({ kind: 'apic-write', insn: ctx.where, address: span, offset, reg, x2apic: false, value: v.value, high, origins: v.origins, page: v.page });
  }

  private rdmsr(ctx: Ctx): void {
    const ecx = readReg(ctx.state, registerInfo('ecx')!);
    const msr = ecx.value === undefined ? undefined : Number(ecx.value & 0xffffffffn);
    if (msr !== undefined) {
      ctx.emit?.({ kind: 'msr', insn: ctx.where, msr, write: false, origins: [], msrOrigins: ecx.origins });
      const reg = apicRegisterOfMsr(msr);
      if (reg) ctx.emit?.({ kind: 'apic-read', insn: ctx.where, offset: reg.offset, reg, x2apic: true });
    }
    writeReg(ctx.state, registerInfo('rax')!, { origins: [], fromMsr: msr });
    writeReg(ctx.state, registerInfo('rdx')!, { origins: [], fromMsr: msr });
  }

  private wrmsr(ctx: Ctx): void {
    const ecx = readReg(ctx.state, registerInfo('ecx')!);
    const eax = readReg(ctx.state, registerInfo('eax')!);
    const edx = readReg(ctx.state, registerInfo('edx')!);
    if (ecx.value === undefined) return;
    const msr = Number(ecx.value & 0xffffffffn);
    const value = eax.value !== undefined && edx.value !== undefined ? (edx.value << 32n) | eax.value : undefined;
    ctx.emit?.({ kind: 'msr', insn: ctx.where, msr, write: true, value, origins: eax.origins, msrOrigins: ecx.origins });
    const reg = apicRegisterOfMsr(msr);
    if (reg) {
      ctx.emit?.({
        kind: 'apic-write', insn: ctx.where, offset: reg.offset, reg, x2apic: true, value: eax.value,
        high: msr === X2APIC_MSR_ICR ? edx.value : undefined, origins: eax.origins, page: eax.page,
        address: ecx.origins.length === 1 ? ecx.origins[0] : undefined,
      });
    }
  }

  private port(ctx: Ctx, write: boolean): void {
    const ops = ctx.ops;
    const portOp = ops.find((o) => o.kind === 'imm') ?? ops.find((o) => o.kind === 'reg' && o.reg.name === 'dx');
    let port: bigint | undefined;
    let origins: Origin[] = [];
    let portSpan: Where | undefined;
    if (portOp?.kind === 'imm') {
      const v = this.valueOf(ctx, portOp);
      port = v.value; origins = v.origins;
      portSpan = { line: ctx.insn.line, start: portOp.start, end: portOp.end };
    } else {
      const dx = readReg(ctx.state, registerInfo('dx')!);
      port = dx.value; origins = dx.origins;
      if (portOp?.kind === 'reg') portSpan = { line: ctx.insn.line, start: portOp.tok.start, end: portOp.tok.end };
    }
    if (port !== undefined) ctx.emit?.({ kind: 'port', insn: ctx.where, port: Number(port & 0xffffn), write, portOrigins: origins, portSpan });
  }
}

interface Ctx {
  state: State;
  insn: Instruction;
  ops: OperandInfo[];
  where: Where;
  bits: number;
  emit?: (e: HwEvent) => void;
}

/** A 32-bit address written as a sign-extended displacement in 64-bit code (0xFFFFFFFFFEE00300) is 0xFEE00300. */
function normalizeAddress(a: bigint): bigint {
  const u = BigInt.asUintN(64, a);
  return u >> 32n === 0xffffffffn ? u & 0xffffffffn : u;
}

