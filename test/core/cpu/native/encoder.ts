// A small x86-64 encoder for the instruction forms the semantics suite generates: legacy prefixes,
// REX, opcode, ModRM (register or raw memory fields), SIB, displacement and immediate.
// SDM vol. 2, ch. 2 "Instruction format" is the reference for every rule below.

export type Size = 8 | 16 | 32 | 64;

/** A register operand. For size 8, n = 16..19 names AH, CH, DH, BH (only encodable without REX). */
export interface RegOp { size: Size; n: number }

/**
 * A memory operand given by its raw encoding fields, so the generator can reach every ModRM/SIB
 * combination (SIB with no index, base=101 with mod=00, REX.X selecting r12 as index...).
 */
export interface MemOp {
  mod: 0 | 1 | 2;
  rm: number;
  sib?: { scale: number; index: number; base: number };
  rexX?: boolean;
  rexB?: boolean;
  /** Displacement value (only its low 8, 16 or 32 bits are encoded, as mod/base decide). */
  disp: bigint;
  /** Address size: in 64-bit mode 64, or 32 with 0x67; in 32-bit mode 32, or 16 with 0x67. The caller adds the prefix. */
  addrSize: 16 | 32 | 64;
  /** Code size: RIP-relative addressing exists only in 64-bit mode. */
  mode: 32 | 64;
}

export interface Encoding {
  /** Legacy prefixes in order, e.g. 0x66, 0x67, 0xF3. */
  prefixes?: number[];
  rexW?: boolean;
  /** Emit a REX byte (0x40) even when no REX bit is needed. */
  forceRex?: boolean;
  opcode: number[];
  /** ModRM.reg: a register operand or an opcode-extension digit (/0../7). */
  reg?: RegOp | number;
  rm?: RegOp | MemOp;
  /** Register encoded in the low 3 bits of the last opcode byte (BSWAP, XCHG 90+r, MOV B8+r). */
  opcodeReg?: RegOp;
  imm?: { value: bigint; bytes: 1 | 2 | 4 | 8 };
}

const NAMES64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const NAMES32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'];
const NAMES16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di', 'r8w', 'r9w', 'r10w', 'r11w', 'r12w', 'r13w', 'r14w', 'r15w'];
const NAMES8 = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil', 'r8b', 'r9b', 'r10b', 'r11b', 'r12b', 'r13b', 'r14b', 'r15b',
  'ah', 'ch', 'dh', 'bh'];

export const GPR_NAMES = NAMES64;
export const RSP = 4;

export function regName(r: RegOp): string {
  switch (r.size) {
    case 8: return NAMES8[r.n];
    case 16: return NAMES16[r.n];
    case 32: return NAMES32[r.n];
    default: return NAMES64[r.n];
  }
}

/** The 64-bit register an operand lives in (AH..BH live in RAX..RBX). */
export function gprOf(r: RegOp): number {
  return r.size === 8 && r.n >= 16 ? r.n - 16 : r.n;
}

function isMem(x: RegOp | MemOp): x is MemOp {
  return (x as MemOp).mod !== undefined;
}

/** Low three bits of a register's encoding; AH..BH encode as 4..7 (SDM vol. 2, table 2-2). */
function low3(r: RegOp): number {
  return r.size === 8 && r.n >= 16 ? r.n - 12 : r.n & 7;
}

function high(r: RegOp): boolean {
  return !(r.size === 8 && r.n >= 16) && r.n >= 8;
}

export function encode(e: Encoding): Uint8Array {
  const out: number[] = [...(e.prefixes ?? [])];
  const regs: RegOp[] = [];
  if (e.reg !== undefined && typeof e.reg !== 'number') regs.push(e.reg);
  if (e.rm !== undefined && !isMem(e.rm)) regs.push(e.rm);
  if (e.opcodeReg) regs.push(e.opcodeReg);

  const rexR = e.reg !== undefined && typeof e.reg !== 'number' && high(e.reg);
  let rexX = false;
  let rexB = false;
  if (e.rm !== undefined) {
    if (isMem(e.rm)) { rexX = !!e.rm.rexX; rexB = !!e.rm.rexB; } else rexB = high(e.rm);
  }
  if (e.opcodeReg) rexB = high(e.opcodeReg);
  // SPL, BPL, SIL, DIL exist only with a REX prefix; AH..BH only without one (SDM vol. 2, 2.2.1.2).
  const needsRex = regs.some((r) => r.size === 8 && r.n >= 4 && r.n <= 7);
  const forbidsRex = regs.some((r) => r.size === 8 && r.n >= 16);
  const rex = 0x40 | (e.rexW ? 8 : 0) | (rexR ? 4 : 0) | (rexX ? 2 : 0) | (rexB ? 1 : 0);
  if (rex !== 0x40 || needsRex || e.forceRex) {
    if (forbidsRex) throw new Error('AH/CH/DH/BH cannot be encoded with a REX prefix');
    out.push(rex);
  }

  const opcode = [...e.opcode];
  if (e.opcodeReg) opcode[opcode.length - 1] |= low3(e.opcodeReg);
  out.push(...opcode);

  if (e.rm !== undefined) {
    const regField = e.reg === undefined ? 0 : typeof e.reg === 'number' ? e.reg : low3(e.reg);
    if (isMem(e.rm)) {
      const m = e.rm;
      out.push((m.mod << 6) | (regField << 3) | m.rm);
      let dispBytes = m.mod === 1 ? 1 : m.mod === 2 ? 4 : 0;
      if (m.addrSize === 16) {
        // 16-bit ModRM has no SIB; mod=00 rm=110 is a bare disp16 (SDM vol. 2, table 2-1).
        dispBytes = m.mod === 1 ? 1 : m.mod === 2 || (m.mod === 0 && m.rm === 6) ? 2 : 0;
      } else if (m.rm === 4) {
        if (!m.sib) throw new Error('rm=100 needs a SIB byte');
        out.push((m.sib.scale << 6) | (m.sib.index << 3) | m.sib.base);
        if (m.mod === 0 && m.sib.base === 5) dispBytes = 4;
      } else if (m.mod === 0 && m.rm === 5) {
        dispBytes = 4;
      }
      pushLE(out, m.disp, dispBytes);
    } else {
      out.push(0xc0 | (regField << 3) | low3(e.rm));
    }
  }
  if (e.imm) pushLE(out, e.imm.value, e.imm.bytes);
  if (out.length > 15) throw new Error('instruction longer than 15 bytes');
  return Uint8Array.from(out);
}

function pushLE(out: number[], v: bigint, bytes: number): void {
  for (let i = 0; i < bytes; i++) out.push(Number((v >> BigInt(8 * i)) & 0xffn));
}

function hexSigned(v: bigint): string {
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

function sext(v: bigint, bits: number): bigint {
  const m = (1n << BigInt(bits)) - 1n;
  v &= m;
  return (v >> BigInt(bits - 1)) & 1n ? v - (1n << BigInt(bits)) : v;
}

export interface MemParts { base: number | null; index: number | null; scale: number; disp: bigint; ripRelative: boolean }

/** 16-bit addressing bases and indexes by rm (SDM vol. 2, table 2-1): BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP, BX. */
const RM16: Array<[number | null, number | null]> = [[3, 6], [3, 7], [5, 6], [5, 7], [6, null], [7, null], [5, null], [3, null]];

/** What a raw memory operand means (SDM vol. 2, tables 2-1 to 2-3, and 2.2.1.3 for REX). */
export function memParts(m: MemOp): MemParts {
  if (m.addrSize === 16) {
    const disp = m.mod === 1 ? sext(m.disp, 8) : m.mod === 2 || (m.mod === 0 && m.rm === 6) ? sext(m.disp, 16) : 0n;
    if (m.mod === 0 && m.rm === 6) return { base: null, index: null, scale: 1, disp, ripRelative: false };
    const [base, index] = RM16[m.rm];
    return { base, index, scale: 1, disp, ripRelative: false };
  }
  let disp = m.mod === 1 ? sext(m.disp, 8) : m.mod === 2 ? sext(m.disp, 32) : 0n;
  const b = m.rexB ? 8 : 0;
  if (m.rm === 4 && m.sib) {
    const index = m.sib.index | (m.rexX ? 8 : 0);
    const noBase = m.mod === 0 && m.sib.base === 5;
    if (noBase) disp = sext(m.disp, 32);
    return { base: noBase ? null : m.sib.base | b, index: index === 4 ? null : index, scale: 1 << m.sib.scale, disp, ripRelative: false };
  }
  if (m.mod === 0 && m.rm === 5) return { base: null, index: null, scale: 1, disp: sext(m.disp, 32), ripRelative: m.mode === 64 };
  return { base: m.rm | b, index: null, scale: 1, disp, ripRelative: false };
}

export function memText(m: MemOp): string {
  const p = memParts(m);
  const names = m.addrSize === 16 ? NAMES16 : m.addrSize === 32 ? NAMES32 : NAMES64;
  const parts: string[] = [];
  if (p.ripRelative) parts.push(m.addrSize === 32 ? 'eip' : 'rip');
  if (p.base !== null) parts.push(names[p.base]);
  if (p.index !== null) parts.push(p.scale === 1 ? names[p.index] : `${names[p.index]}*${p.scale}`);
  let text = parts.join('+');
  if (p.disp !== 0n || parts.length === 0) text += (p.disp < 0n || parts.length === 0 ? '' : '+') + hexSigned(p.disp);
  return `[${text}]`;
}

export function operandText(x: RegOp | MemOp): string {
  return isMem(x) ? memText(x) : regName(x);
}
