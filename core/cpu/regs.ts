// Register numbering used throughout the CPU: the hardware's encoding order, so a
// person who knows the SDM's tables finds their way.
import { Register } from './iced';

export const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;
export const GPR_NAMES64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
/** 8-bit register ids 16..19 are AH, CH, DH, BH (bits 15:8 of RAX..RBX). */
export const AH = 16;

export const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;
export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];

/** Operand kinds of a decoded instruction. */
export const K_NONE = 0, K_REG = 1, K_MEM = 2, K_IMM = 3, K_SEG = 4, K_CR = 5, K_DR = 6, K_XMM = 7, K_OTHER = 8;

// EFLAGS bits (SDM vol. 1, 3.4.3).
export const CF = 1 << 0, PF = 1 << 2, AF = 1 << 4, ZF = 1 << 6, SF = 1 << 7, TF = 1 << 8, IF = 1 << 9,
  DF = 1 << 10, OF = 1 << 11, IOPL = 3 << 12, NT = 1 << 14, RF = 1 << 16, VM = 1 << 17, AC = 1 << 18,
  VIF = 1 << 19, VIP = 1 << 20, ID = 1 << 21;
export const ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;

// Control register bits (SDM vol. 3, 2.5).
export const CR0_PE = 1 << 0, CR0_MP = 1 << 1, CR0_EM = 1 << 2, CR0_TS = 1 << 3, CR0_ET = 1 << 4, CR0_NE = 1 << 5,
  CR0_WP = 1 << 16, CR0_AM = 1 << 18, CR0_NW = 1 << 29, CR0_CD = 1 << 30, CR0_PG = 1 << 31;
export const CR4_VME = 1 << 0, CR4_PVI = 1 << 1, CR4_TSD = 1 << 2, CR4_DE = 1 << 3, CR4_PSE = 1 << 4, CR4_PAE = 1 << 5,
  CR4_MCE = 1 << 6, CR4_PGE = 1 << 7, CR4_PCE = 1 << 8, CR4_OSFXSR = 1 << 9, CR4_OSXMMEXCPT = 1 << 10,
  CR4_UMIP = 1 << 11, CR4_FSGSBASE = 1 << 16, CR4_PCIDE = 1 << 17, CR4_OSXSAVE = 1 << 18, CR4_SMEP = 1 << 20, CR4_SMAP = 1 << 21;
export const EFER_SCE = 1 << 0, EFER_LME = 1 << 8, EFER_LMA = 1 << 10, EFER_NXE = 1 << 11;

// Segment attribute bits, packed as VMX access rights (SDM vol. 3, 24.4.1).
export const A_TYPE = 0xf, A_S = 1 << 4, A_DPL_SHIFT = 5, A_P = 1 << 7, A_AVL = 1 << 12, A_L = 1 << 13, A_DB = 1 << 14,
  A_G = 1 << 15, A_UNUSABLE = 1 << 16;

// Exception vectors (SDM vol. 3, 6.3.1).
export const DE = 0, DB = 1, NMI_VEC = 2, BP = 3, OFV = 4, BR = 5, UD = 6, NM = 7, DF_VEC = 8, TS = 10, NP = 11, SS_VEC = 12,
  GP = 13, PF_VEC = 14, MF = 16, AC_VEC = 17, MC = 18, XM = 19;

export interface RegRef { kind: number; id: number; size: number }

/** iced-x86 register -> our (kind, id, size). Built once from the enum names. */
export const ICED_REG: RegRef[] = buildRegMap();

function buildRegMap(): RegRef[] {
  const map: RegRef[] = [];
  const g8 = ['AL', 'CL', 'DL', 'BL', 'SPL', 'BPL', 'SIL', 'DIL'];
  const g16 = ['AX', 'CX', 'DX', 'BX', 'SP', 'BP', 'SI', 'DI'];
  const g32 = ['EAX', 'ECX', 'EDX', 'EBX', 'ESP', 'EBP', 'ESI', 'EDI'];
  const g64 = ['RAX', 'RCX', 'RDX', 'RBX', 'RSP', 'RBP', 'RSI', 'RDI'];
  const set = (name: string, kind: number, id: number, size: number) => {
    const v = (Register as unknown as Record<string, number>)[name];
    if (typeof v === 'number') map[v] = { kind, id, size };
  };
  for (let i = 0; i < 8; i++) {
    set(g8[i], K_REG, i, 1); set(g16[i], K_REG, i, 2); set(g32[i], K_REG, i, 4); set(g64[i], K_REG, i, 8);
    set(`R${i + 8}L`, K_REG, i + 8, 1); set(`R${i + 8}W`, K_REG, i + 8, 2); set(`R${i + 8}D`, K_REG, i + 8, 4); set(`R${i + 8}`, K_REG, i + 8, 8);
  }
  ['AH', 'CH', 'DH', 'BH'].forEach((n, i) => set(n, K_REG, AH + i, 1));
  ['ES', 'CS', 'SS', 'DS', 'FS', 'GS'].forEach((n, i) => set(n, K_SEG, i, 2));
  for (let i = 0; i < 16; i++) { set(`CR${i}`, K_CR, i, 8); set(`DR${i}`, K_DR, i, 8); set(`XMM${i}`, K_XMM, i, 16); }
  return map;
}
