// Which registers an instruction reads and writes: the operands as written, classified
// by iced-x86's operand-access table for the matching form (the same tables the core
// decodes with), plus the implicit registers of that form (RDMSR reads ECX, REP MOVSB
// reads ECX, ESI, EDI, PUSH reads ESP, ...). Memory operands read their base and index.
import { Code, Instruction, InstructionInfoFactory, OpAccess, Register } from '../../core/cpu/iced';
import type { Instruction as Insn } from '../documents/model';
import { decodeOperand, intelOrder, OperandInfo } from '../documents/operands';
import { Form, isBranch, mnemonicTable, normalizeMnemonic } from '../isa/instructions';
import { registerInfo, sized } from '../isa/registers';

export interface RegisterUse {
  /** Lowercase register name ("ecx"). */
  name: string;
  family: string;
  /** Columns of the register as written; for implicit ones, the mnemonic's. */
  start: number;
  end: number;
  implicit: boolean;
  read: boolean;
  write: boolean;
}

interface FormAccess {
  ops: OpAccess[];
  implicit: { reg: string; access: OpAccess }[];
}

let factory: InstructionInfoFactory | undefined;
const accessCache = new Map<string, FormAccess>();

/** iced-x86's number for a register name (r8b is its R8L, st its ST0). */
function icedRegister(name: string): Register | undefined {
  const n = name.toUpperCase().replace(/^(R\d+)B$/, '$1L').replace(/^ST$/, 'ST0');
  const v = (Register as unknown as Record<string, number>)[n];
  return typeof v === 'number' ? v : undefined;
}

/**
 * Operand access of a form with the registers as written (so that `xor %eax, %eax`, which
 * reads nothing, differs from `xor %ebx, %eax`) and the repeat prefix (REP adds (E/R)CX).
 */
function formAccess(code: number, regs: (string | undefined)[], rep: string | undefined): FormAccess {
  const key = `${code}/${regs.join(',')}/${rep ?? ''}`;
  const hit = accessCache.get(key);
  if (hit) return hit;
  factory ??= new InstructionInfoFactory();
  const i = Instruction.create(code);
  regs.forEach((r, k) => {
    const reg = r === undefined ? undefined : icedRegister(r);
    if (reg !== undefined && k < i.opCount) i.setOpRegister(k, reg);
  });
  if (rep === 'rep') i.hasRepPrefix = true;
  else if (rep === 'repe' || rep === 'repz') i.hasRepePrefix = true;
  else if (rep === 'repne' || rep === 'repnz') i.hasRepnePrefix = true;
  const info = factory.info(i);
  const ops: OpAccess[] = [];
  for (let k = 0; k < i.opCount; k++) ops.push(info.opAccess(k));
  const implicit = (info.usedRegisters() as { register: Register; access: OpAccess; free(): void }[])
    .filter((u) => u.register !== Register.None)
    .map((u) => {
      const r = { reg: (Register[u.register] as string).toLowerCase(), access: u.access };
      u.free();
      return r;
    });
  info.free();
  i.free();
  const v = { ops, implicit };
  if (accessCache.size > 20000) accessCache.clear();
  accessCache.set(key, v);
  return v;
}

const READS = new Set([OpAccess.Read, OpAccess.ReadWrite, OpAccess.CondRead, OpAccess.ReadCondWrite]);
const WRITES = new Set([OpAccess.Write, OpAccess.ReadWrite, OpAccess.CondWrite, OpAccess.ReadCondWrite]);

const SIZED_KIND = /^r(8|16|32|64)_/;
const FIXED_REGS = new Set(['al', 'cl', 'ax', 'dx', 'eax', 'rax', 'es', 'cs', 'ss', 'ds', 'fs', 'gs', 'st0']);

/** How well an operand fits an operand kind of a form: -1 not at all, higher is better. */
function fit(kind: string, op: OperandInfo, sizeBits: number | undefined): number {
  switch (op.kind) {
    case 'reg': {
      const r = op.reg;
      if (FIXED_REGS.has(kind)) return kind === r.name ? 4 : -1;
      const m = SIZED_KIND.exec(kind);
      if (m) return r.cls === 'gpr' && Number(m[1]) === r.bits && !kind.startsWith('r32_or_mem_mpx') ? 3 : -1;
      if (kind === 'seg_reg') return r.cls === 'segment' ? 3 : -1;
      if (kind === 'cr_reg') return r.cls === 'control' ? 3 : -1;
      if (kind === 'dr_reg') return r.cls === 'debug' ? 3 : -1;
      const vec = /^(xmm|ymm|zmm|mm|k|tmm|bnd)/.exec(kind);
      if (vec) return r.name.startsWith(vec[1]) && !(vec[1] === 'k' && r.cls !== 'mask') && !(vec[1] === 'mm' && r.cls !== 'mmx') ? 3 : -1;
      if (kind.startsWith('sti') ) return r.cls === 'x87' ? 3 : -1;
      return -1;
    }
    case 'mem': {
      if (kind.includes('mem') || kind === 'sibmem') {
        const m = SIZED_KIND.exec(kind);
        const want = sizeBits ?? op.sizeBits;
        return m && want !== undefined ? (Number(m[1]) === want ? 3 : 1) : 2;
      }
      if (/^(seg_r|es_r)/.test(kind)) return 1;
      return -1;
    }
    case 'imm':
      if (kind.startsWith('imm')) return kind === 'imm8_const_1' ? 0 : 2;
      if (kind.startsWith('br') || kind.startsWith('farbr')) return 1;
      return -1;
    case 'target':
      if (kind.startsWith('br') || kind.startsWith('brdisp') || kind.startsWith('xbegin')) return 3;
      if (kind.startsWith('farbr')) return 1;
      return -1;
    default:
      return 0;
  }
}

const formCache = new Map<string, Form | null>();
const IMPLICIT_KINDS = new Set(['seg_rSI', 'es_rDI', 'seg_rDI', 'seg_rBX_al', 'al', 'ax', 'eax', 'rax', 'dx']);

/** The iced-x86 form that best matches an instruction as written, if any. */
export function matchForm(base: string, ops: OperandInfo[], bits: 16 | 32 | 64, sizeBits: number | undefined): Form | undefined {
  const shape = `${base}/${bits}/${sizeBits ?? ''}/${ops.map((o) => (o.kind === 'reg' ? o.reg.name : o.kind === 'mem' ? `m${o.sizeBits ?? ''}` : o.kind)).join(',')}`;
  const cached = formCache.get(shape);
  if (cached !== undefined) return cached ?? undefined;
  const forms = mnemonicTable().get(base) ?? [];
  let best: Form | undefined;
  let bestScore = -Infinity;
  for (const f of forms) {
    if (f.opKinds.length !== ops.length) continue;
    let score = 0;
    for (let k = 0; k < ops.length && score > -Infinity; k++) {
      const s = fit(f.opKinds[k], ops[k], sizeBits);
      score = s < 0 ? -Infinity : score + s;
    }
    if (score === -Infinity) continue;
    const inMode = bits === 64 ? f.mode64 : bits === 32 ? f.mode32 : f.mode16;
    if (inMode) score += 2;
    if (f.legacy) score += 1;
    // Address-size variants (LOOP, string ops): prefer the one of this mode.
    const codeName = Code[f.code] as string;
    if (codeName.includes(`_${bits}`)) score += 1;
    if (score > bestScore) { best = f; bestScore = score; }
  }
  // String instructions written bare (movsb, stosd, lodsb): iced-x86 lists their implicit memory and accumulator operands.
  if (!best && ops.length === 0) {
    for (const f of forms) {
      if (!f.opKinds.every((k) => IMPLICIT_KINDS.has(k))) continue;
      const inMode = bits === 64 ? f.mode64 : bits === 32 ? f.mode32 : f.mode16;
      const score = (inMode ? 2 : 0) + ((Code[f.code] as string).includes(`_${bits}`) ? 1 : 0);
      if (score > bestScore) { best = f; bestScore = score; }
    }
  }
  formCache.set(shape, best ?? null);
  return best;
}

/** Registers an instruction reads and writes, explicit first, in source order. */
export function registerUses(insn: Insn, defaultBits: 16 | 32 | 64): RegisterUse[] {
  const name = normalizeMnemonic(insn.mnemonic.text, insn.dialect);
  if (!name || insn.macroCall) return [];
  const bits = insn.bits ?? defaultBits;
  const branch = isBranch(name.base);
  const source = insn.operands.map((o) => decodeOperand(o, insn.dialect, branch));
  const ops = intelOrder(source, insn.dialect);
  const form = matchForm(name.base, ops, bits, name.bits);
  const rep = insn.prefixes.map((p) => p.text.toLowerCase()).find((p) => p.startsWith('rep'));
  // Explicit operands only when the form has them (a bare movsb's are implicit).
  const explicit = form && form.opKinds.length === ops.length;
  const access = form ? formAccess(form.code, explicit ? ops.map((o) => (o.kind === 'reg' ? o.reg.name : undefined)) : [], rep) : undefined;
  const out: RegisterUse[] = [];
  const add = (reg: string, start: number, end: number, read: boolean, write: boolean, implicit: boolean) => {
    const info = registerInfo(reg);
    if (!info) return;
    const same = out.find((u) => u.name === info.name && u.implicit === implicit && u.start === start);
    if (same) { same.read ||= read; same.write ||= write; return; }
    out.push({ name: info.name, family: info.family, start, end, implicit, read, write });
  };
  ops.forEach((op, k) => {
    const acc = explicit ? access?.ops[k] : undefined;
    if (op.kind === 'reg') {
      // Without a form (unknown to iced-x86), assume the Intel-order destination is written and sources read.
      const read = acc !== undefined ? READS.has(acc) : k > 0 || ops.length === 1;
      const write = acc !== undefined ? WRITES.has(acc) : k === 0;
      add(op.reg.name, op.tok.start, op.tok.end, read, write, false);
    } else if (op.kind === 'mem') {
      if (op.base) add(op.base.reg.name, op.base.tok.start, op.base.tok.end, true, false, false);
      if (op.index) add(op.index.reg.name, op.index.tok.start, op.index.tok.end, true, false, false);
    }
  });
  // Explicit registers in source order (AT&T lists sources first).
  out.sort((a, b) => a.start - b.start);
  if (access) {
    const m = insn.mnemonic;
    for (const u of access.implicit) {
      const info = registerInfo(u.reg);
      if (!info || info.cls !== 'gpr') continue;
      // Registers of the explicit operands come back here too once set: they are listed above.
      if (explicit && ops.some((o) => o.kind === 'reg' && o.reg.name === info.name)) continue;
      // iced-x86 reports string and stack registers at 64 bits for a bare form: use this mode's width.
      const reg = info.bits === 64 && bits !== 64 ? sized(info.family, bits) : u.reg;
      if (out.some((e) => !e.implicit && e.family === info.family)) continue;
      add(reg, m.start, m.end, READS.has(u.access), WRITES.has(u.access), true);
    }
  }
  return out;
}
