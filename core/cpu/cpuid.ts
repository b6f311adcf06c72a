// The CPU model a guest sees through CPUID (SDM vol. 2, CPUID): GenuineIntel, family 6.
// Configurable so tests and the debugger can present other models.
import type { Cpu } from './cpu';

export interface CpuModel {
  vendor: string;          // 12 characters
  family: number;
  model: number;
  stepping: number;
  brand: string;           // up to 48 characters
  /** CPUID.1 ECX/EDX and 0x80000001 ECX/EDX feature bits. */
  features1Ecx: number;
  features1Edx: number;
  ext1Ecx: number;
  ext1Edx: number;
  /** CPUID.7.0 EBX. */
  leaf7Ebx: number;
  /** EDX after reset/INIT: family/model/stepping signature (SDM vol. 3, 9.1.4). */
  resetEdx: number;
  physAddrBits: number;
  linAddrBits: number;
}

export function defaultCpuModel(): CpuModel {
  const family = 6, model = 0x3a, stepping = 9;
  return {
    vendor: 'GenuineIntel',
    family, model, stepping,
    brand: 'Hyperstep virtual CPU',
    // ECX: only what we implement: CX16 (13), POPCNT (23), HYPERVISOR (31); the machine adds TSC-deadline (24) and, with --x2apic, x2APIC (21).
    features1Ecx: (1 << 13) | (1 << 23) | (1 << 31),
    // EDX: FPU, VME? no; DE(2), PSE(3), TSC(4), MSR(5), PAE(6), MCE(7), CX8(8), APIC(9), SEP(11), MTRR(12), PGE(13), MCA(14), CMOV(15), PAT(16), PSE36(17), CLFSH(19), MMX(23), FXSR(24), SSE(25), SSE2(26)
    features1Edx: 1 | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 11) | (1 << 12) | (1 << 13) |
      (1 << 14) | (1 << 15) | (1 << 16) | (1 << 17) | (1 << 19) | (1 << 23) | (1 << 24) | (1 << 25) | (1 << 26),
    // 0x80000001 ECX: LAHF/SAHF in 64-bit (0), ABM/LZCNT (5); EDX: SYSCALL (11), NX (20), 1GB pages (26), RDTSCP (27), LM (29)
    ext1Ecx: 1 | (1 << 5),
    ext1Edx: (1 << 11) | (1 << 20) | (1 << 26) | (1 << 27) | (1 << 29),
    leaf7Ebx: (1 << 3) /* BMI1 for TZCNT */,
    resetEdx: (family << 8) | (model & 0xf) << 4 | stepping | ((model >> 4) << 16),
    physAddrBits: 40,
    linAddrBits: 48,
  };
}

/** Executes CPUID for `leaf`/`subleaf`; returns [eax, ebx, ecx, edx]. */
export function cpuid(c: Cpu, leaf: number, subleaf: number): [number, number, number, number] {
  const m = c.model;
  const str = (s: string, off: number) => (s.charCodeAt(off) | (s.charCodeAt(off + 1) << 8) | (s.charCodeAt(off + 2) << 16) | (s.charCodeAt(off + 3) << 24)) | 0;
  const vendor = m.vendor.padEnd(12, ' ');
  const sig = (m.stepping & 0xf) | ((m.model & 0xf) << 4) | ((m.family & 0xf) << 8) | ((m.model >> 4) << 16);
  leaf >>>= 0;
  switch (leaf) {
    case 0: return [0xd, str(vendor, 0), str(vendor, 8), str(vendor, 4)];
    case 1: {
      // EBX: initial APIC ID (31:24), logical processor count (23:16), CLFLUSH line size in 8-byte units (15:8).
      const ebx = ((c.index & 0xff) << 24) | (1 << 16) | (8 << 8);
      let ecx = m.features1Ecx;
      if (c.cr4 & (1 << 18)) ecx |= 1 << 27; // OSXSAVE mirrors CR4
      return [sig, ebx, ecx, m.features1Edx];
    }
    case 7: return subleaf === 0 ? [0, m.leaf7Ebx, 0, 0] : [0, 0, 0, 0];
    case 0xb: {
      // x2APIC topology: one thread per core, one core per package level.
      const level = subleaf & 0xff;
      if (level === 0) return [0, 1, 0x100 | level, c.index];
      if (level === 1) return [0, 1, 0x200 | level, c.index];
      return [0, 0, level, c.index];
    }
    case 0x80000000: return [0x80000008, 0, 0, 0];
    case 0x80000001: return [0, 0, m.ext1Ecx, m.ext1Edx];
    case 0x80000002: case 0x80000003: case 0x80000004: {
      const b = m.brand.padEnd(48, '\0');
      const o = (leaf - 0x80000002) * 16;
      return [str(b, o), str(b, o + 4), str(b, o + 8), str(b, o + 12)];
    }
    case 0x80000008: return [m.physAddrBits | (m.linAddrBits << 8), 0, 0, 0];
    default:
      // Leaves above the maximum return the highest basic leaf's data on Intel; within range but unused: zeros.
      if (leaf > 0xd && leaf < 0x80000000) return cpuid(c, 0xd, subleaf);
      return [0, 0, 0, 0];
  }
}
