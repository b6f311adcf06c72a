// Decoding: iced-x86 decodes; this file turns its answer into our Insn, chooses the
// handler (by exact Code first, then by Mnemonic) and caches Insns per physical page.
import { Code, Decoder, DecoderOptions, Formatter, FormatterSyntax, Instruction, Mnemonic, MemorySize, OpKind, Register } from './iced';
import { Insn, Handler } from './insn';
import { ICED_REG, K_IMM, K_MEM, K_NONE, K_OTHER, K_REG, DS } from './regs';

/** Handlers by iced Code (exact form) and by Mnemonic; the instruction families fill these. */
export const byCode: (Handler | undefined)[] = [];
export const byMnemonic: (Handler | undefined)[] = [];

export function onCode(codes: number | number[], h: Handler): void {
  for (const c of Array.isArray(codes) ? codes : [codes]) byCode[c] = h;
}
export function onMnemonic(mnems: number | number[], h: Handler): void {
  for (const m of Array.isArray(mnems) ? mnems : [mnems]) byMnemonic[m] = h;
}

const CODE_NAMES: string[] = [];
for (const [k, v] of Object.entries(Code)) if (typeof v === 'number') CODE_NAMES[v] = k;
const MNEM_NAMES: string[] = [];
for (const [k, v] of Object.entries(Mnemonic)) if (typeof v === 'number') MNEM_NAMES[v] = k;
const MEMSIZE_BYTES: number[] = [];
for (const [k, v] of Object.entries(MemorySize)) if (typeof v === 'number') MEMSIZE_BYTES[v] = memSizeBytes(k);

export function codeName(code: number): string { return CODE_NAMES[code] ?? `code ${code}`; }
export function mnemonicName(m: number): string { return MNEM_NAMES[m] ?? `mnemonic ${m}`; }

function memSizeBytes(name: string): number {
  const fixed: Record<string, number> = { Fword6: 6, Fword10: 10, SegPtr16: 4, SegPtr32: 6, SegPtr64: 10, WordOffset: 2,
    DwordOffset: 4, QwordOffset: 8, Fxsave_512Byte: 512, Fxsave64_512Byte: 512, Float80: 10, Bcd: 10, Bound16_WordWord: 4,
    Bound32_DwordDword: 8, FpuEnv14: 14, FpuEnv28: 28, FpuState94: 94, FpuState108: 108 };
  if (name in fixed) return fixed[name];
  const m = /^(?:U?Int|Float|Packed)(\d+)/.exec(name);
  return m ? Number(m[1]) / 8 : 0;
}

/** Operand size implied by an iced Code name: Pushq_imm32 -> 8, Add_rm32_imm8 -> 4, Jmp_rel8_16 -> 2. */
const CODE_OPSIZE = new Uint8Array(CODE_NAMES.length);
for (let c = 0; c < CODE_NAMES.length; c++) if (CODE_NAMES[c]) CODE_OPSIZE[c] = opSizeFromName(CODE_NAMES[c]);

function opSizeFromName(name: string): number {
  const parts = name.split('_');
  const head = parts[0];
  const sfx = /^(Push|Pop|Pusha|Popa|Pushf|Popf|Iret|Retn|Retf|Enter|Leave)([wdq])$/.exec(head);
  if (sfx) return { w: 2, d: 4, q: 8 }[sfx[2]]!;
  for (let j = 1; j < parts.length; j++) {
    const t = parts[j];
    let m: RegExpExecArray | null;
    if ((m = /^rel(8|16|32)$/.exec(t))) {
      const next = parts[j + 1];
      if (next && /^(16|32|64)$/.test(next)) return Number(next) / 8;
      return Number(m[1]) / 8;
    }
    if ((m = /^(?:m|ptr)16(16|32|64)$/.exec(t))) return Number(m[1]) / 8;
    if ((m = /^m1632$/.exec(t))) return 4;
    if ((m = /^(?:r|rm|m|imm|moffs)(8|16|32|64)$/.exec(t))) return Number(m[1]) / 8;
    if (t === 'AL') return 1;
    if (t === 'AX') return 2;
    if (t === 'EAX') return 4;
    if (t === 'RAX') return 8;
  }
  return 0;
}

const scratch = new Instruction();

/**
 * Decodes the instruction in `bytes` (up to 15 bytes) for the given bitness.
 * Returns null when the bytes do not form a valid instruction (the caller raises #UD).
 */
export function decodeInsn(bytes: Uint8Array, bits: 16 | 32 | 64): Insn | null {
  const dec = new Decoder(bits, bytes, DecoderOptions.None);
  dec.ip = 0n;
  dec.decodeOut(scratch);
  dec.free();
  const ins = scratch;
  if (ins.isInvalid || ins.code === Code.INVALID) return null;
  const d = new Insn();
  d.code = ins.code;
  d.mnem = ins.mnemonic;
  d.len = ins.length;
  d.bits = bits;
  d.bytes = bytes.slice(0, d.len);
  d.nops = ins.opCount;
  d.rep = ins.hasRepePrefix || ins.hasRepPrefix ? 1 : ins.hasRepnePrefix ? 2 : 0;
  d.lock = ins.hasLockPrefix;
  const cc = ins.conditionCode;
  d.cc = cc > 0 ? cc - 1 : 0;
  let immSeen = false;
  for (let n = 0; n < Math.min(d.nops, 3); n++) {
    const kind = ins.opKind(n);
    let k = K_OTHER, r = 0, s = 0;
    switch (kind) {
      case OpKind.Register: {
        const ref = ICED_REG[ins.opRegister(n)];
        if (ref) { k = ref.kind; r = ref.id; s = ref.size; } else { k = K_OTHER; }
        break;
      }
      case OpKind.Memory:
        k = K_MEM;
        s = MEMSIZE_BYTES[ins.memorySize] ?? 0;
        decodeMemory(d, ins);
        break;
      case OpKind.NearBranch16: case OpKind.NearBranch32: case OpKind.NearBranch64: {
        // Decoded at IP 0: the target is the displacement from the next instruction plus len.
        const target = ins.nearBranchTarget;
        const width = kind === OpKind.NearBranch16 ? 16 : kind === OpKind.NearBranch32 ? 32 : 64;
        d.rel = Number(BigInt.asIntN(width, target)) - d.len;
        k = K_NONE;
        break;
      }
      case OpKind.FarBranch16: case OpKind.FarBranch32:
        d.farSel = ins.farBranchSelector;
        d.farOff = kind === OpKind.FarBranch16 ? ins.farBranch16 : ins.farBranch32;
        k = K_NONE;
        break;
      case OpKind.Immediate8_2nd:
        d.imm2 = ins.immediate8_2nd;
        k = K_IMM; s = 1;
        break;
      case OpKind.Immediate8: case OpKind.Immediate16: case OpKind.Immediate32: case OpKind.Immediate64:
      case OpKind.Immediate8to16: case OpKind.Immediate8to32: case OpKind.Immediate8to64: case OpKind.Immediate32to64: {
        const v = ins.immediate(n);
        if (!immSeen) {
          d.immLo = Number(BigInt.asIntN(32, v));
          d.immHi = Number(BigInt.asIntN(32, v >> 32n));
          immSeen = true;
        } else {
          d.imm2 = Number(BigInt.asIntN(32, v));
        }
        k = K_IMM;
        s = kind === OpKind.Immediate8 ? 1 : kind === OpKind.Immediate16 || kind === OpKind.Immediate8to16 ? 2
          : kind === OpKind.Immediate32 || kind === OpKind.Immediate8to32 ? 4 : 8;
        break;
      }
      default:
        // String operands (seg:[rSI], es:[rDI]): the string handlers use addrSize and mSeg.
        k = K_OTHER;
        d.mSeg = segIndex(ins.memorySegment);
        s = MEMSIZE_BYTES[ins.memorySize] ?? 0;
        d.memSize = s;
        break;
    }
    if (n === 0) { d.k0 = k; d.r0 = r; d.s0 = s; }
    else if (n === 1) { d.k1 = k; d.r1 = r; d.s1 = s; }
    else { d.k2 = k; d.r2 = r; d.s2 = s; }
  }
  d.opSize = CODE_OPSIZE[d.code] || (d.k0 === K_REG || d.k0 === K_MEM ? d.s0 : 0) || defaultOpSize(bytes, bits);
  d.addrSize = addressSize(bytes, bits);
  d.exec = byCode[d.code] ?? byMnemonic[d.mnem] ?? d.exec;
  return d;
}

function segIndex(reg: number): number {
  switch (reg) {
    case Register.ES: return 0; case Register.CS: return 1; case Register.SS: return 2;
    case Register.DS: return 3; case Register.FS: return 4; case Register.GS: return 5;
    default: return DS;
  }
}

function decodeMemory(d: Insn, ins: Instruction): void {
  d.memSize = MEMSIZE_BYTES[ins.memorySize] ?? 0;
  d.mSeg = segIndex(ins.memorySegment);
  d.mScale = ins.memoryIndexScale;
  const base = ins.memoryBase;
  const disp = ins.memoryDisplacement;
  if (base === Register.RIP || base === Register.EIP) {
    d.mBase = -2;
    // Decoded at IP 0, iced reports next-IP + displacement: keep the offset from this instruction.
    d.dispLo = Number(base === Register.RIP ? BigInt.asIntN(64, disp) : BigInt.asIntN(32, disp));
    d.dispHi = 0;
  } else {
    d.mBase = base === Register.None ? -1 : ICED_REG[base].id;
    const dv = BigInt.asUintN(64, disp);
    d.dispLo = Number(BigInt.asIntN(32, dv));
    d.dispHi = Number(BigInt.asIntN(32, dv >> 32n));
  }
  d.mIndex = ins.memoryIndex === Register.None ? -1 : ICED_REG[ins.memoryIndex].id;
  if (d.mIndex === -1 && d.mBase === -1) d.mScale = 1;
}

function scanPrefixes(bytes: Uint8Array, bits: number): { p66: boolean; p67: boolean; rexW: boolean } {
  let p66 = false, p67 = false, rexW = false;
  for (let j = 0; j < bytes.length; j++) {
    const b = bytes[j];
    if (b === 0x66) p66 = true;
    else if (b === 0x67) p67 = true;
    else if (b === 0xf0 || b === 0xf2 || b === 0xf3 || b === 0x2e || b === 0x36 || b === 0x3e || b === 0x26 || b === 0x64 || b === 0x65) continue;
    else if (bits === 64 && (b & 0xf0) === 0x40) { rexW = (b & 8) !== 0; continue; }
    else break;
  }
  return { p66, p67, rexW };
}

function defaultOpSize(bytes: Uint8Array, bits: number): number {
  const p = scanPrefixes(bytes, bits);
  if (bits === 64) return p.rexW ? 8 : p.p66 ? 2 : 4;
  return (bits === 16) !== p.p66 ? 2 : 4;
}

function addressSize(bytes: Uint8Array, bits: number): number {
  const p = scanPrefixes(bytes, bits);
  if (bits === 64) return p.p67 ? 4 : 8;
  return (bits === 16) !== p.p67 ? 2 : 4;
}

let formatter: Formatter | null = null;

/** Disassembles raw bytes (GNU syntax), for messages and the debugger. */
export function disassemble(bytes: Uint8Array, bits: 16 | 32 | 64, ip = 0): { text: string; len: number } {
  const dec = new Decoder(bits, bytes, DecoderOptions.None);
  dec.ip = BigInt.asUintN(64, BigInt(ip));
  const ins = dec.decode();
  formatter ??= new Formatter(FormatterSyntax.Gas);
  const text = ins.isInvalid ? '(bad)' : formatter.format(ins);
  const len = ins.isInvalid ? 1 : ins.length;
  ins.free();
  dec.free();
  return { text, len };
}
