// Paging (SDM vol. 3, ch. 4): 32-bit, PAE and 4-level walks with 4 KiB, 2/4 MiB and
// 1 GiB pages, accessed/dirty bits, protection and the #PF error code; and the software
// TLB. The TLB keeps translations until INVLPG, a CR3 write (non-global entries) or a
// paging-mode change flushes them, as hardware may: a guest that forgets to invalidate
// sees the stale translation, as it would on hardware.
import type { Cpu } from './cpu';
import { fault } from './fault';
import { CR0_PG, CR0_WP, CR4_PAE, CR4_PSE, CR4_PGE, EFER_LMA, EFER_NXE, GP, PF_VEC } from './regs';

export const TLB_SIZE = 1024;
/** Cpu.tlbRam of a page that is not plain RAM below 2 GiB. */
export const NOT_RAM = -0x40000000;
/** Cpu.tlbRam of the page whose aligned 4-byte accesses go to PhysicalMemory.dev32 (the xAPIC page). */
export const PAGE32 = -0x60000000;
/** Cpu.tlbKey of an empty entry: no canonical page number gives it. */
export const NO_KEY = 0x40000000;

// Permission bits of a TLB entry: which accesses the fast path may satisfy.
export const P_RSUP = 1, P_RUSER = 2, P_WSUP = 4, P_WUSER = 8, P_XSUP = 16, P_XUSER = 32, P_DIRTY = 64, P_GLOBAL = 128;

const TWO32 = 4294967296;
/** Physical address width reported by CPUID 0x80000008 (QEMU's default of 40 bits). */
export const MAXPHYADDR = 40;
/** Bits 51:MAXPHYADDR of a 64-bit entry's high half must be zero. */
const RSVD_HI = (0xfffff & ~((1 << (MAXPHYADDR - 32)) - 1)) >>> 0;

/** Flushes the TLB: everything, or only non-global entries (CR3 write with CR4.PGE). */
export function flushTlb(c: Cpu, all: boolean): void {
  const keepGlobal = !all && (c.cr4 & CR4_PGE) !== 0;
  for (let k = 0; k < TLB_SIZE; k++) {
    if (keepGlobal && c.tlbPerm[k] & P_GLOBAL) continue;
    dropEntry(c, k);
  }
  c.dropFetchCache();
}

/** INVLPG: drops every entry for the page containing `lin`, including those filled from a large page. */
export function invalidatePage(c: Cpu, lin: number): void {
  const vpn = Math.floor(lin / 4096);
  // Entries from a large page are per 4 KiB page; one INVLPG must drop them all (SDM 4.10.4.1).
  for (let k = 0; k < TLB_SIZE; k++) {
    const t = c.tlbTag[k];
    if (t === vpn) dropEntry(c, k);
    else if (c.tlbLarge[k] !== 0 && Math.floor(t / c.tlbLarge[k]) === Math.floor(vpn / c.tlbLarge[k])) dropEntry(c, k);
  }
  c.dropFetchCache();
}

/** Reads a 64-bit page-table entry: low half returned, high half in c.hi. */
function readEntry64(c: Cpu, pa: number): number {
  const phys = c.host.phys;
  const lo = phys.read32(pa);
  c.hi = phys.read32(pa + 4);
  return lo;
}

/** The #PF error code bits (SDM vol. 3, 4.7). */
function pageFault(c: Cpu, lin: number, present: boolean, access: number, user: boolean, rsvd: boolean): never {
  let ec = 0;
  if (present || rsvd) ec |= 1;
  if (access === 1) ec |= 2;
  if (user) ec |= 4;
  if (rsvd) ec |= 8;
  if (access === 2 && (c.efer & EFER_NXE || c.cr4 & (1 << 20))) ec |= 16;
  c.cr2 = lin;
  fault(PF_VEC, ec);
}

/**
 * Walks the page tables for `lin`, checks the access, sets A/D bits, fills the TLB and
 * returns the physical address of the page (4 KiB-aligned).
 */
export function tlbFill(c: Cpu, lin: number, access: number): number {
  const vpn = Math.floor(lin / 4096);
  const idx = vpn & (TLB_SIZE - 1);
  if (!(c.cr0 & CR0_PG)) {
    const pa = (lin >>> 0) - ((lin >>> 0) % 4096);
    setEntry(c, idx, vpn, pa, 0x7f, 0);
    return pa;
  }
  const user = c.cpl === 3 && !c.sysAccess;
  const wp = (c.cr0 & CR0_WP) !== 0;
  const nxe = (c.efer & EFER_NXE) !== 0;
  const phys = c.host.phys;
  let rw = true, us = true, nx = false, global = false;
  let pagePa: number;      // physical address of the 4 KiB page
  let large = 0;           // size of the mapping in 4 KiB pages (0 for 4 KiB)
  let entryPa: number;     // where the final entry lives (for the dirty bit)
  let entryLo: number;

  if (!(c.cr4 & CR4_PAE)) {
    // 32-bit paging (SDM 4.3).
    const l32 = lin >>> 0;
    const pdePa = (c.cr3 & 0xfffff000) >>> 0 | ((l32 >>> 22) << 2);
    let pde = phys.read32(pdePa);
    if (!(pde & 1)) pageFault(c, lin, false, access, user, false);
    rw = (pde & 2) !== 0; us = (pde & 4) !== 0;
    if (pde & 0x80 && c.cr4 & CR4_PSE) {
      // 4 MiB page; bits 20:13 give physical address bits 39:32 (PSE-36).
      if (pde & 0x200000) pageFault(c, lin, true, access, user, true);
      checkAccess(c, lin, access, user, rw, us, false, wp);
      if (!(pde & 0x20)) { pde |= 0x20; phys.write32(pdePa, pde); }
      const base = ((pde & 0xffc00000) >>> 0) + ((pde >>> 13) & 0xff) * TWO32;
      pagePa = base + (l32 & 0x3ff000);
      large = 1024; entryPa = pdePa; entryLo = pde;
      global = (pde & 0x100) !== 0 && (c.cr4 & CR4_PGE) !== 0;
    } else {
      if (!(pde & 0x20)) { pde |= 0x20; phys.write32(pdePa, pde); }
      const ptePa = ((pde & 0xfffff000) >>> 0) | ((l32 >>> 10) & 0xffc);
      let pte = phys.read32(ptePa);
      if (!(pte & 1)) pageFault(c, lin, false, access, user, false);
      rw = rw && (pte & 2) !== 0; us = us && (pte & 4) !== 0;
      checkAccess(c, lin, access, user, rw, us, false, wp);
      if (!(pte & 0x20)) { pte |= 0x20; phys.write32(ptePa, pte); }
      pagePa = (pte & 0xfffff000) >>> 0;
      entryPa = ptePa; entryLo = pte;
      global = (pte & 0x100) !== 0 && (c.cr4 & CR4_PGE) !== 0;
    }
  } else {
    const long = (c.efer & EFER_LMA) !== 0;
    let tablePa: number;
    let level: number;
    if (long) {
      // 4-level paging (SDM 4.5): PML4 -> PDPT -> PD -> PT.
      const hi16 = Math.floor(lin / TWO32);
      const pml4i = ((hi16 & 0xffff) >>> 7) & 0x1ff;
      const pml4ePa = phys4k(c.cr3) + pml4i * 8;
      let e = readEntry64(c, pml4ePa);
      let eh = c.hi;
      if (!(e & 1)) pageFault(c, lin, false, access, user, false);
      if ((eh & RSVD_HI) || (e & 0x80) || (!nxe && eh < 0)) pageFault(c, lin, true, access, user, true);
      rw = (e & 2) !== 0; us = (e & 4) !== 0; nx = eh < 0;
      if (!(e & 0x20)) { e |= 0x20; phys.write32(pml4ePa, e); }
      tablePa = entryAddr(e, eh);
      level = 3;
    } else {
      // PAE (SDM 4.4): the PDPTE registers were loaded when CR3 was written.
      const pdpte = c.pdpte[(lin >>> 30) & 3];
      if (pdpte % 2 === 0) pageFault(c, lin, false, access, user, false);
      tablePa = pdpte - (pdpte % 4096);
      level = 2;
    }
    const l32 = lin >>> 0;
    for (;;) {
      const shift = level === 3 ? 30 : level === 2 ? 21 : 12;
      let indexBits: number;
      if (shift === 30) indexBits = ((Math.floor(lin / TWO32) & 0x7f) << 2) | (l32 >>> 30);
      else indexBits = (l32 >>> shift) & 0x1ff;
      if (!long && level === 2) indexBits = (l32 >>> 21) & 0x1ff;
      const ePa = tablePa + indexBits * 8;
      let e = readEntry64(c, ePa);
      const eh = c.hi;
      if (!(e & 1)) pageFault(c, lin, false, access, user, false);
      if ((eh & RSVD_HI) || (!nxe && eh < 0)) pageFault(c, lin, true, access, user, true);
      rw = rw && (e & 2) !== 0; us = us && (e & 4) !== 0; nx = nx || eh < 0;
      const ps = level > 1 && (e & 0x80) !== 0;
      if (level === 3 && ps && !long) pageFault(c, lin, true, access, user, true);
      if (ps) {
        // 1 GiB (level 3) or 2 MiB (level 2) page: reserved low address bits must be zero.
        const lowMask = level === 3 ? 0x3fffe000 : 0x1fe000;
        if (e & lowMask) pageFault(c, lin, true, access, user, true);
      }
      if (level === 1 || ps) {
        checkAccess(c, lin, access, user, rw, us, nx, wp);
        if (!(e & 0x20)) { e |= 0x20; phys.write32(ePa, e); }
        const base = entryAddr(e, eh);
        if (level === 1) { pagePa = base; large = 0; }
        else if (level === 2) { pagePa = base - (base % 0x200000) + (l32 & 0x1ff000); large = 512; }
        else { pagePa = base - (base % 0x40000000) + (l32 & 0x3ffff000); large = 262144; }
        entryPa = ePa; entryLo = e;
        global = (e & 0x100) !== 0 && (c.cr4 & CR4_PGE) !== 0;
        break;
      }
      if (!(e & 0x20)) { e |= 0x20; phys.write32(ePa, e); }
      tablePa = entryAddr(e, eh);
      level--;
    }
  }
  // Dirty bit on the first write through this translation (SDM 4.8).
  let dirty = (entryLo & 0x40) !== 0;
  if (access === 1 && !dirty) {
    phys.write32(entryPa, entryLo | 0x60);
    dirty = true;
  }
  let perm = P_RSUP;
  if (us) perm |= P_RUSER;
  if (rw || !wp) perm |= P_WSUP;
  if (us && rw) perm |= P_WUSER;
  if (!(nx && nxe)) { perm |= P_XSUP; if (us) perm |= P_XUSER; }
  if (dirty) perm |= P_DIRTY;
  if (global) perm |= P_GLOBAL;
  setEntry(c, idx, vpn, pagePa, perm, large);
  return pagePa;
}

/** Cpu.tlbKey of page number `vpn`: vpn >> 10 on the 36-bit page numbers of canonical addresses (so not a shift). */
export function tlbKey(vpn: number): number {
  return Math.floor(vpn / TLB_SIZE);
}

/** Empties TLB entry k: NaN equals no page number (-1 is the last page's). */
function dropEntry(c: Cpu, k: number): void {
  c.tlbTag[k] = NaN;
  c.tlbKey[k] = NO_KEY;
}

function setEntry(c: Cpu, idx: number, vpn: number, pagePa: number, perm: number, large: number): void {
  c.tlbTag[idx] = vpn;
  c.tlbKey[idx] = tlbKey(vpn);
  c.tlbPa[idx] = pagePa;
  const phys = c.host.phys;
  c.tlbRam[idx] = pagePa + 4096 <= Math.min(phys.size, 0x80000000) ? pagePa : pagePa === phys.page32 ? PAGE32 : NOT_RAM;
  c.tlbPerm[idx] = perm;
  c.tlbLarge[idx] = large;
}

function checkAccess(c: Cpu, lin: number, access: number, user: boolean, rw: boolean, us: boolean, nx: boolean, wp: boolean): void {
  if (user && !us) pageFault(c, lin, true, access, user, false);
  if (access === 1 && !rw && (user || wp)) pageFault(c, lin, true, access, user, false);
  if (access === 2 && nx && (c.efer & EFER_NXE)) pageFault(c, lin, true, access, user, false);
}

function phys4k(cr3: number): number {
  return cr3 - (cr3 % 4096);
}

/** Physical address in bits MAXPHYADDR-1:12 of a 64-bit entry. */
function entryAddr(lo: number, hi: number): number {
  return (hi & 0xfffff & ~RSVD_HI) * TWO32 + ((lo & 0xfffff000) >>> 0);
}

/** Loads the four PAE PDPTE registers from CR3 (SDM 4.4.1); reserved bits set give #GP(0). */
export function loadPdptes(c: Cpu): void {
  const base = (c.cr3 & 0xffffffe0) >>> 0;
  for (let k = 0; k < 4; k++) {
    const lo = c.host.phys.read32(base + k * 8);
    const hi = c.host.phys.read32(base + k * 8 + 4);
    if (lo & 1 && ((lo & 0x1e6) || (hi & RSVD_HI) || hi < 0)) fault(GP, 0);
    c.pdpte[k] = lo & 1 ? entryAddr(lo, hi) + 1 : 0;
  }
}

/** Whether paging is on in PAE form outside long mode (PDPTEs in use). */
export function paeLegacy(c: Cpu): boolean {
  return (c.cr0 & CR0_PG) !== 0 && (c.cr4 & CR4_PAE) !== 0 && (c.efer & EFER_LMA) === 0;
}
