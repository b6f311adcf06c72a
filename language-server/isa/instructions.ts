// The instruction set as iced-x86's op-code tables describe it: every mnemonic, its
// operand forms (Intel order), the modes it exists in, and the flags it reads and writes.
// One source of truth, the same tables the core's decoder uses. Built lazily once.
import { Code, CodeExt, Instruction, Mnemonic, OpCodeOperandKind, RflagsBits, EncodingKind } from '../../core/cpu/iced';
import type { Dialect } from '../documents/dialect';

export interface Form {
  code: number;
  /** "ADD r/m32, imm8" */
  instruction: string;
  /** "o32 83 /0 ib" */
  opcode: string;
  opKinds: string[];
  mode16: boolean;
  mode32: boolean;
  mode64: boolean;
  legacy: boolean;
}

let table: Map<string, Form[]> | undefined;

/** Every machine mnemonic (lowercase Intel names) with its forms. */
export function mnemonicTable(): Map<string, Form[]> {
  if (table) return table;
  const t = new Map<string, Form[]>();
  const codes = Object.keys(Code).filter((k) => Number.isNaN(Number(k)));
  for (const name of codes) {
    const code = (Code as unknown as Record<string, number>)[name];
    const oc = CodeExt.opCode(code);
    try {
      if (!oc.isInstruction) continue;
      const mnemonic = (Mnemonic[oc.mnemonic] as string).toLowerCase();
      const opKinds: string[] = [];
      for (let i = 0; i < oc.opCount; i++) opKinds.push(OpCodeOperandKind[oc.opKind(i)] as string);
      const form: Form = {
        code, instruction: oc.instructionString, opcode: oc.opCodeString, opKinds,
        mode16: oc.mode16, mode32: oc.mode32, mode64: oc.mode64, legacy: oc.encoding === EncodingKind.Legacy,
      };
      const list = t.get(mnemonic);
      if (list) list.push(form); else t.set(mnemonic, [form]);
    } finally {
      oc.free();
    }
  }
  table = t;
  return t;
}

/** GNU as AT&T names that differ from the Intel mnemonic other than by a size suffix. */
const ATT_ALIASES: Record<string, { base: string; bits?: number }> = {
  ljmp: { base: 'jmp' }, ljmpl: { base: 'jmp', bits: 32 }, ljmpw: { base: 'jmp', bits: 16 }, ljmpq: { base: 'jmp', bits: 64 },
  lcall: { base: 'call' }, lcalll: { base: 'call', bits: 32 }, lret: { base: 'retf' }, lretl: { base: 'retf', bits: 32 }, lretq: { base: 'retf', bits: 64 },
  movabs: { base: 'mov' }, movabsq: { base: 'mov', bits: 64 },
  cbtw: { base: 'cbw' }, cwtl: { base: 'cwde' }, cltq: { base: 'cdqe' }, cwtd: { base: 'cwd' }, cltd: { base: 'cdq' }, cqto: { base: 'cqo' },
  movzbw: { base: 'movzx', bits: 16 }, movzbl: { base: 'movzx', bits: 32 }, movzbq: { base: 'movzx', bits: 64 }, movzwl: { base: 'movzx', bits: 32 }, movzwq: { base: 'movzx', bits: 64 },
  movsbw: { base: 'movsx', bits: 16 }, movsbl: { base: 'movsx', bits: 32 }, movsbq: { base: 'movsx', bits: 64 }, movswl: { base: 'movsx', bits: 32 }, movswq: { base: 'movsx', bits: 64 },
  movslq: { base: 'movsxd', bits: 64 },
  movsl: { base: 'movsd' }, stosl: { base: 'stosd' }, lodsl: { base: 'lodsd' }, scasl: { base: 'scasd' }, cmpsl: { base: 'cmpsd' }, insl: { base: 'insd' }, outsl: { base: 'outsd' },
  iretl: { base: 'iretd' }, iretw: { base: 'iret' }, pushfl: { base: 'pushfd' }, popfl: { base: 'popfd' }, pushal: { base: 'pushad' }, popal: { base: 'popad' },
  sysretl: { base: 'sysret' }, smovl: { base: 'movsd' },
};

const SUFFIX_BITS: Record<string, number> = { b: 8, w: 16, l: 32, q: 64 };

/** Prefixes written as separate words before a mnemonic. */
export const PREFIXES = new Set([
  'lock', 'rep', 'repe', 'repz', 'repne', 'repnz', 'data16', 'data32', 'addr16', 'addr32', 'rex', 'rex64', 'rex.w', 'notrack', 'xacquire', 'xrelease',
  'bnd', 'o16', 'o32', 'o64', 'a16', 'a32', 'a64', 'wait',
]);

export interface MnemonicName {
  /** The Intel mnemonic, lowercase ("mov" for movl). */
  base: string;
  /** Operand size from an AT&T suffix, when there was one. */
  bits?: number;
}

/** Condition-code synonyms (SDM vol. 1, B.1): iced-x86 names each condition once. */
const CC_SYNONYMS: Record<string, string> = {
  c: 'b', nae: 'b', nb: 'ae', nc: 'ae', z: 'e', nz: 'ne', na: 'be', nbe: 'a', pe: 'p', po: 'np', nge: 'l', nl: 'ge', ng: 'le', nle: 'g',
};
const OTHER_SYNONYMS: Record<string, string> = { loopz: 'loope', loopnz: 'loopne', xlat: 'xlatb', sal: 'sal', int3: 'int3' };

function canonical(lower: string, t: Map<string, Form[]>): string | undefined {
  if (t.has(lower)) return lower;
  if (OTHER_SYNONYMS[lower] && t.has(OTHER_SYNONYMS[lower])) return OTHER_SYNONYMS[lower];
  const m = /^(j|set|cmov)(.+)$/.exec(lower);
  if (m && CC_SYNONYMS[m[2]] && t.has(m[1] + CC_SYNONYMS[m[2]])) return m[1] + CC_SYNONYMS[m[2]];
  return undefined;
}

/** The machine mnemonic an op is, as this dialect spells it; undefined for anything else (a directive or a macro). */
export function normalizeMnemonic(text: string, dialect: Dialect): MnemonicName | undefined {
  const lower = text.toLowerCase();
  const t = mnemonicTable();
  const direct = canonical(lower, t);
  if (direct) return { base: direct };
  if (dialect !== 'att') return undefined;
  const alias = ATT_ALIASES[lower];
  if (alias) return alias;
  const suffix = lower[lower.length - 1];
  const stem = lower.slice(0, -1);
  const stemBase = canonical(stem, t);
  if (SUFFIX_BITS[suffix] && stemBase) return { base: stemBase, bits: SUFFIX_BITS[suffix] };
  // x87 memory-size suffixes (fildl, fstps, fildll).
  if (stem.startsWith('f') && /^[sl]$/.test(suffix) && t.has(stem)) return { base: stem };
  if (lower.startsWith('f') && lower.endsWith('ll') && t.has(lower.slice(0, -2))) return { base: lower.slice(0, -2), bits: 64 };
  return undefined;
}

export function isMnemonicOrPrefix(text: string, dialect: Dialect): boolean {
  return PREFIXES.has(text.toLowerCase()) || normalizeMnemonic(text, dialect) !== undefined;
}

const BRANCHES = new Set(['jmp', 'call', 'loop', 'loope', 'loopne', 'loopz', 'loopnz', 'jecxz', 'jrcxz', 'jcxz', 'xbegin']);

/** Instructions whose direct operand is a code address (a label to navigate to), not data. */
export function isBranch(base: string): boolean {
  return BRANCHES.has(base) || /^j(n?[abcegloprsz]|n?[abgl]e|p[eo])$/.test(base);
}

export interface FlagsEffect {
  read: string[];
  modified: string[];
  set: string[];
  cleared: string[];
  undefined: string[];
}

const FLAG_NAMES: [number, string][] = [
  [RflagsBits.OF, 'OF'], [RflagsBits.SF, 'SF'], [RflagsBits.ZF, 'ZF'], [RflagsBits.AF, 'AF'], [RflagsBits.CF, 'CF'], [RflagsBits.PF, 'PF'],
  [RflagsBits.DF, 'DF'], [RflagsBits.IF, 'IF'], [RflagsBits.AC, 'AC'],
];

const names = (bits: number) => FLAG_NAMES.filter(([b]) => bits & b).map(([, n]) => n);

/** The flags an instruction form reads and writes (iced-x86's RFLAGS info). */
export function flagsOf(code: number): FlagsEffect {
  const i = Instruction.create(code);
  try {
    return {
      read: names(i.rflagsRead), modified: names(i.rflagsModified), set: names(i.rflagsSet),
      cleared: names(i.rflagsCleared), undefined: names(i.rflagsUndefined),
    };
  } finally {
    i.free();
  }
}
