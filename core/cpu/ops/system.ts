// System instructions: descriptor tables, control/debug registers, CLI/STI, port I/O,
// TLB and cache control, CPUID, MSRs, TSC, SWAPGS, SYSCALL/SYSRET, fences and hints.
import { Code, Mnemonic } from '../iced';
import { onCode, onMnemonic } from '../decode';
import type { Cpu } from '../cpu';
import type { Insn } from '../insn';
import { fault } from '../fault';
import { NO_QUALIFICATION } from '../../vmm/types';
import { flushTlb, invalidatePage, loadPdptes, paeLegacy } from '../mmu';
import { loadLdt, loadTaskRegister } from '../segments';
import { cpuid } from '../cpuid';
import { rdmsr, wrmsr, IA32_STAR, IA32_LSTAR, IA32_FMASK, IA32_TSC_AUX } from '../msr';
import { inhibitInterrupts } from './move';
import {
  K_REG, K_IMM, CS, SS, FS, GS, GP, UD, NM, RAX, RCX, RDX, IF, IOPL, VM, RF, TF, AC, NT, A_UNUSABLE,
  CR0_PE, CR0_PG, CR0_WP, CR0_CD, CR0_NW, CR0_TS, CR0_EM, CR0_MP, CR0_ET, CR0_NE, CR0_AM,
  CR4_PAE, CR4_PGE, CR4_PSE, CR4_TSD, CR4_DE, EFER_LMA, EFER_LME, EFER_SCE, A_L, A_DB,
} from '../regs';

const TWO32 = 4294967296;

function requireCpl0(c: Cpu): void {
  if (c.cpl !== 0) fault(GP, 0);
}

// ---- descriptor tables ---------------------------------------------------------------------

function loadTableReg(idt: boolean) {
  return (c: Cpu, i: Insn): void => {
    requireCpl0(c);
    const baseSize = c.mode64 ? 8 : 4;
    const lin = c.memLin(i, 2 + baseSize, false);
    const limit = c.readLin16(lin);
    let base: number;
    if (c.mode64) {
      const lo = c.readLin32(lin + 2), hi = c.readLin32(lin + 6);
      if (hi >> 15 !== hi >> 31) fault(GP, 0);
      base = hi * TWO32 + (lo >>> 0);
    } else {
      base = c.readLin32(lin + 2) >>> 0;
      if (i.opSize === 2) base &= 0xffffff; // 16-bit operand size loads a 24-bit base
    }
    if (idt) { c.idtBase = base; c.idtLimit = limit; } else { c.gdtBase = base; c.gdtLimit = limit; }
  };
}
onMnemonic(Mnemonic.Lgdt, loadTableReg(false));
onMnemonic(Mnemonic.Lidt, loadTableReg(true));

function storeTableReg(idt: boolean) {
  return (c: Cpu, i: Insn): void => {
    const baseSize = c.mode64 ? 8 : 4;
    const lin = c.memLin(i, 2 + baseSize, true);
    const base = idt ? c.idtBase : c.gdtBase;
    c.writeLin16(lin, idt ? c.idtLimit : c.gdtLimit);
    if (c.mode64) c.writeLin64(lin + 2, base % TWO32 | 0, Math.floor(base / TWO32) | 0);
    else c.writeLin32(lin + 2, base | 0);
  };
}
onMnemonic(Mnemonic.Sgdt, storeTableReg(false));
onMnemonic(Mnemonic.Sidt, storeTableReg(true));

function protectedOnly(c: Cpu): void {
  if (c.mode === 'real' || c.mode === 'vm86') fault(UD);
}
onMnemonic(Mnemonic.Lldt, (c, i) => { protectedOnly(c); requireCpl0(c); loadLdt(c, c.readOp(i, 0) & 0xffff); });
onMnemonic(Mnemonic.Ltr, (c, i) => { protectedOnly(c); requireCpl0(c); loadTaskRegister(c, c.readOp(i, 0) & 0xffff); });
onMnemonic(Mnemonic.Sldt, (c, i) => { protectedOnly(c); storeSelector(c, i, c.ldtSel); });
onMnemonic(Mnemonic.Str, (c, i) => { protectedOnly(c); storeSelector(c, i, c.trSel); });

function storeSelector(c: Cpu, i: Insn, sel: number): void {
  if (i.k0 === K_REG) c.setReg(i.r0, i.s0, sel, 0);
  else c.writeLin16(c.memLin(i, 2, true), sel);
}

// ---- control and debug registers ---------------------------------------------------------

onCode([Code.Mov_r32_cr, Code.Mov_r64_cr], (c, i) => {
  requireCpl0(c);
  const n = i.r1;
  let v: number;
  switch (n) {
    case 0: v = c.cr0 >>> 0; break;
    case 2: v = c.cr2; break;
    case 3: v = c.cr3; break;
    case 4: v = c.cr4; break;
    case 8: v = c.host.readCr8 ? c.host.readCr8(c) : c.cr8; break;
    default: fault(UD);
  }
  if (i.opSize === 8) c.setReg(i.r0, 8, v % TWO32 | 0, Math.floor(v / TWO32) | 0);
  else c.setReg(i.r0, 4, v | 0);
});

onCode([Code.Mov_cr_r32, Code.Mov_cr_r64], (c, i) => {
  requireCpl0(c);
  const lo = c.gpr[i.r1];
  const hi = i.opSize === 8 ? c.gpr[i.r1 + 16] : 0;
  writeCr(c, i.r0, lo, hi);
});

const CR0_FIXED_WRITABLE = (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD | CR0_PG) >>> 0;
/** CR4 bits this model supports: VME..OSXMMEXCPT (CPUID does not advertise UMIP, FSGSBASE, PCID, SMEP, SMAP, XSAVE). */
const CR4_VALID = 0x7ff;

export function writeCr(c: Cpu, n: number, lo: number, hi: number): void {
  switch (n) {
    case 0: {
      if (hi !== 0) fault(GP, 0);
      const v = ((lo & CR0_FIXED_WRITABLE) | CR0_ET) >>> 0;
      if ((v & CR0_PG) && !(v & CR0_PE)) fault(GP, 0);
      if ((v & CR0_NW) && !(v & CR0_CD)) fault(GP, 0);
      const old = c.cr0 >>> 0;
      const enablingPaging = (v & CR0_PG) && !(old & CR0_PG);
      // Activating IA-32e mode requires PAE; leaving it with CS.L set is illegal (SDM 9.8.5).
      if (enablingPaging && (c.efer & EFER_LME) && !(c.cr4 & CR4_PAE)) fault(GP, 0);
      if (!(v & CR0_PG) && (old & CR0_PG) && c.mode64) fault(GP, 0);
      if (enablingPaging && paeLegacyAfter(c, v)) { const saved = c.cr0; c.cr0 = v | 0; try { loadPdptes(c); } catch (e) { c.cr0 = saved; throw e; } }
      c.cr0 = v | 0;
      if ((old ^ v) & CR0_PG) {
        if (v & CR0_PG) { if (c.efer & EFER_LME) c.efer |= EFER_LMA; }
        else c.efer &= ~EFER_LMA;
      }
      if ((old ^ v) & (CR0_PG | CR0_WP | CR0_PE)) flushTlb(c, true);
      c.updateMode();
      return;
    }
    case 2: c.cr2 = hi * TWO32 + (lo >>> 0); return;
    case 3: {
      const v = hi * TWO32 + (lo >>> 0);
      if (c.mode64 && (hi >>> 0) >= 1 << (c.model.physAddrBits - 32)) fault(GP, 0);
      const saved = c.cr3;
      c.cr3 = v;
      if (paeLegacy(c)) { try { loadPdptes(c); } catch (e) { c.cr3 = saved; throw e; } }
      flushTlb(c, false);
      if (c.host.events.active) c.host.events.emit(c.index, 'tlb.flush', { kind: 'cr3' });
      return;
    }
    case 4: {
      if (hi !== 0 || (lo & ~CR4_VALID)) fault(GP, 0);
      if (!(lo & CR4_PAE) && (c.efer & EFER_LMA)) fault(GP, 0);
      const old = c.cr4;
      c.cr4 = lo;
      if ((old ^ lo) & CR4_PAE && paeLegacy(c)) { try { loadPdptes(c); } catch (e) { c.cr4 = old; throw e; } }
      if ((old ^ lo) & (CR4_PAE | CR4_PGE | CR4_PSE)) flushTlb(c, true);
      return;
    }
    case 8:
      if (hi !== 0 || (lo & ~0xf)) fault(GP, 0);
      c.cr8 = lo;
      if (c.host.writeCr8) c.host.writeCr8(c, lo);
      return;
    default: fault(UD);
  }
}

function paeLegacyAfter(c: Cpu, cr0: number): boolean {
  return (cr0 & CR0_PG) !== 0 && (c.cr4 & CR4_PAE) !== 0 && !(c.efer & EFER_LME);
}

onCode([Code.Mov_r32_dr, Code.Mov_r64_dr], (c, i) => {
  requireCpl0(c);
  const n = debugRegIndex(c, i.r1);
  const v = c.dr[n];
  c.setReg(i.r0, i.opSize === 8 ? 8 : 4, v % TWO32 | 0, Math.floor(v / TWO32) | 0);
});
onCode([Code.Mov_dr_r32, Code.Mov_dr_r64], (c, i) => {
  requireCpl0(c);
  const n = debugRegIndex(c, i.r0);
  const lo = c.gpr[i.r1], hi = i.opSize === 8 ? c.gpr[i.r1 + 16] : 0;
  if ((n === 6 || n === 7) && hi !== 0) fault(GP, 0);
  // Reserved bits read as fixed values (SDM vol. 3, 18.2.3 and 18.2.4).
  if (n === 6) c.dr[6] = ((lo & 0x0001e00f) | 0xfffe0ff0) >>> 0;
  else if (n === 7) c.dr[7] = ((lo & 0xffff2bff) | 0x400) >>> 0;
  else c.dr[n] = hi * TWO32 + (lo >>> 0);
});

function debugRegIndex(c: Cpu, n: number): number {
  if (n === 4 || n === 5) { if (c.cr4 & CR4_DE) fault(UD); return n + 2; }
  if (n > 7) fault(UD);
  return n;
}

onMnemonic(Mnemonic.Lmsw, (c, i) => {
  requireCpl0(c);
  const v = c.readOp(i, 0) & 0xf;
  // LMSW can set PE but not clear it.
  writeCr(c, 0, (c.cr0 & ~0xe) | v | (c.cr0 & CR0_PE), 0);
});
onMnemonic(Mnemonic.Smsw, (c, i) => {
  if (i.k0 === K_REG) c.setReg(i.r0, i.s0, c.cr0, 0);
  else c.writeLin16(c.memLin(i, 2, true), c.cr0 & 0xffff);
});
onMnemonic(Mnemonic.Clts, (c) => { requireCpl0(c); c.cr0 &= ~CR0_TS; });

// ---- interrupt flag ----------------------------------------------------------------------

function iopl(c: Cpu): number { return (c.flags & IOPL) >> 12; }

onMnemonic(Mnemonic.Cli, (c) => {
  if (c.mode !== 'real' && c.cpl > iopl(c)) fault(GP, 0);
  c.flags &= ~IF;
});
onMnemonic(Mnemonic.Sti, (c) => {
  if (c.mode !== 'real' && c.cpl > iopl(c)) fault(GP, 0);
  // STI opens the interrupt window only after the next instruction (SDM vol. 2, STI).
  if (!(c.flags & IF)) inhibitInterrupts(c);
  c.flags |= IF;
  c.attention = true;
});

// ---- port I/O ----------------------------------------------------------------------------

/** I/O permission: CPL <= IOPL, else the TSS I/O bitmap decides (SDM vol. 1, 19.5). */
export function checkIo(c: Cpu, port: number, size: number): void {
  if (c.mode === 'real' || (c.cpl <= iopl(c) && !(c.flags & VM))) return;
  const trType = c.trAttr & 0xf;
  if ((c.trSel & 0xfffc) === 0 || (trType !== 9 && trType !== 11) || c.trLimit < 0x67) fault(GP, 0);
  const saved = c.sysAccess;
  c.sysAccess = true;
  try {
    const bitmap = c.readLin16(c.trBase + 0x66);
    const byte = bitmap + (port >> 3);
    if (byte + 1 > c.trLimit) fault(GP, 0);
    const bits = c.readLin16(c.trBase + byte);
    const mask = ((1 << size) - 1) << (port & 7);
    if (bits & mask) fault(GP, 0);
  } finally { c.sysAccess = saved; }
}

onMnemonic(Mnemonic.In, (c, i) => {
  const size = i.s0 as 1 | 2 | 4;
  const port = i.k1 === K_IMM ? i.immLo & 0xff : c.gpr[RDX] & 0xffff;
  checkIo(c, port, size);
  c.setReg(RAX, size, c.portIn(port, size), 0);
});
onMnemonic(Mnemonic.Out, (c, i) => {
  const size = i.s1 as 1 | 2 | 4;
  const port = i.k0 === K_IMM ? i.immLo & 0xff : c.gpr[RDX] & 0xffff;
  checkIo(c, port, size);
  c.portOut(port, size, c.getReg(RAX, size));
});

// ---- TLB and caches ----------------------------------------------------------------------

onMnemonic(Mnemonic.Invlpg, (c, i) => {
  requireCpl0(c);
  const lin = c.mode64 ? c.ea64(i) : (c.segBase[i.mSeg] + c.ea(i)) >>> 0;
  invalidatePage(c, lin);
  if (c.host.events.active) c.host.events.emit(c.index, 'tlb.flush', { kind: 'invlpg', address: lin });
});
onMnemonic([Mnemonic.Wbinvd, Mnemonic.Invd], (c) => requireCpl0(c));
onMnemonic([Mnemonic.Mfence, Mnemonic.Lfence, Mnemonic.Sfence], () => {});
// PAUSE: a VM exit only with the pause-exit capability (the vmm decides).
onMnemonic(Mnemonic.Pause, (c) => { if (c.host.vmExit) c.host.vmExit(c.index, 'PAUSE', NO_QUALIFICATION); });
onMnemonic([Mnemonic.Clflush, Mnemonic.Clflushopt], (c, i) => { c.readLin8(c.memLin(i, 1, false)); });

// ---- identification, MSRs, time ----------------------------------------------------------

onMnemonic(Mnemonic.Cpuid, (c) => {
  if (c.host.vmExit) c.host.vmExit(c.index, 'CPUID', { leaf: c.gpr[RAX] >>> 0, subleaf: c.gpr[RCX] >>> 0 });
  const [a, b, cx, d] = cpuid(c, c.gpr[RAX], c.gpr[RCX]);
  c.setReg(RAX, 4, a); c.setReg(3, 4, b); c.setReg(RCX, 4, cx); c.setReg(RDX, 4, d);
});

onMnemonic(Mnemonic.Rdmsr, (c) => {
  requireCpl0(c);
  const [lo, hi] = rdmsr(c, c.gpr[RCX]);
  c.setReg(RAX, 4, lo); c.setReg(RDX, 4, hi);
});
onMnemonic(Mnemonic.Wrmsr, (c) => {
  requireCpl0(c);
  wrmsr(c, c.gpr[RCX], c.gpr[RAX], c.gpr[RDX]);
});

function readTsc(c: Cpu): void {
  if (c.cr4 & CR4_TSD && c.cpl !== 0) fault(GP, 0);
  const t = c.tsc();
  c.setReg(RAX, 4, t % TWO32 | 0); c.setReg(RDX, 4, Math.floor(t / TWO32) | 0);
}
onMnemonic(Mnemonic.Rdtsc, readTsc);
onMnemonic(Mnemonic.Rdtscp, (c) => { readTsc(c); c.setReg(RCX, 4, rdmsr(c, IA32_TSC_AUX)[0]); });

// ---- 64-bit system calls -----------------------------------------------------------------

onMnemonic(Mnemonic.Swapgs, (c) => {
  if (!c.mode64) fault(UD);
  requireCpl0(c);
  const t = c.segBase[GS];
  c.setSegmentBase(GS, c.kernelGsBase);
  c.kernelGsBase = t;
});

onMnemonic(Mnemonic.Syscall, (c) => {
  // Intel: SYSCALL is valid only in 64-bit mode with EFER.SCE (SDM vol. 2, SYSCALL).
  if (!c.mode64 || !(c.efer & EFER_SCE)) fault(UD);
  const [, starHi] = rdmsr(c, IA32_STAR);
  const [lstarLo, lstarHi] = rdmsr(c, IA32_LSTAR);
  const [fmask] = rdmsr(c, IA32_FMASK);
  const ret = c.nextRip;
  c.setReg(RCX, 8, ret % TWO32 | 0, Math.floor(ret / TWO32) | 0);
  const fl = c.getFlags();
  c.setReg(11, 8, fl & ~RF, 0);
  const sel = (starHi & 0xffff);
  // CS and SS get fixed flat attributes, not the descriptors (SDM vol. 2, SYSCALL "Operation").
  c.setSegment(SS, (sel + 8) & 0xfffc, 0, 0xffffffff, 0x93 | A_DB | (1 << 15));
  c.setSegment(CS, sel & 0xfffc, 0, 0xffffffff, 0x9b | A_L | (1 << 15));
  c.setFlags(fl & ~fmask & ~RF, 0xffffffff);
  c.updateMode();
  c.nextRip = lstarHi * TWO32 + (lstarLo >>> 0);
});

onMnemonic(Mnemonic.Sysret, (c, i) => {
  if (!c.mode64 || !(c.efer & EFER_SCE)) fault(UD);
  requireCpl0(c);
  const [, starHi] = rdmsr(c, IA32_STAR);
  const base = (starHi >>> 16) & 0xffff;
  const to64 = i.opSize === 8;
  const rcxLo = c.gpr[RCX], rcxHi = c.gpr[RCX + 16];
  if (to64 && rcxHi >> 15 !== rcxHi >> 31) fault(GP, 0);
  const r11 = c.gpr[11];
  c.setFlags((r11 & 0x3c7fd7) | 2, 0xffffffff);
  if (to64) c.setSegment(CS, (base + 16) | 3, 0, 0xffffffff, 0xfb | A_L | (1 << 15));
  else c.setSegment(CS, base | 3, 0, 0xffffffff, 0xfb | A_DB | (1 << 15));
  // SS selector from STAR, with the cached attributes hardware gives it (flat, DPL 3).
  c.setSegment(SS, (base + 8) | 3, 0, 0xffffffff, 0xf3 | A_DB | (1 << 15));
  c.updateMode();
  c.nextRip = to64 ? rcxHi * TWO32 + (rcxLo >>> 0) : rcxLo >>> 0;
});

// ---- always #UD ----------------------------------------------------------------------------

onMnemonic([Mnemonic.Ud0, Mnemonic.Ud1, Mnemonic.Ud2], () => fault(UD));
// XSAVE is not advertised, so CR4.OSXSAVE cannot be set: XGETBV/XSETBV raise #UD.
onMnemonic([Mnemonic.Xgetbv, Mnemonic.Xsetbv], () => fault(UD));
// FSGSBASE is not advertised (CR4.FSGSBASE reserved): the instructions raise #UD.
onMnemonic([Mnemonic.Rdfsbase, Mnemonic.Rdgsbase, Mnemonic.Wrfsbase, Mnemonic.Wrgsbase], () => fault(UD));

void FS; void TF; void AC; void NT; void A_UNUSABLE; void CS; void NM; void CR4_PGE; void CR4_DE; void CR4_TSD;
