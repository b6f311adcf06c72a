// Instruction family: string instructions, MOVS/STOS/LODS/CMPS/SCAS/INS/OUTS with their
// REP/REPE/REPNE forms (SDM vol. 2, each instruction and "REP/REPE/REPZ/REPNE/REPNZ").
//
// rSI/rDI/rCX are SI/DI/CX, ESI/EDI/ECX or RSI/RDI/RCX by the address size; 16-bit indexes
// wrap within 16 bits and leave the upper bits alone. The source segment is DS or the
// override (i.mSeg); the destination is always ES (base 0 in 64-bit mode).
//
// A REP instruction runs at most CHUNK iterations per execution and then re-executes
// itself (nextRip = rip), so interrupts are taken between chunks at deterministic points,
// as hardware takes them between iterations. Within a chunk the iterations run in
// batches that stay inside one page of source and destination: each batch translates
// its pages once, moves data through PhysicalMemory (or, for plain RAM, the backing
// array directly), and only then commits rCX/rSI/rDI. A #PF therefore arrives with the
// registers as after the last completed iteration and rip on the instruction, which is
// what the SDM promises for a fault in the middle of a repeated string instruction.
import { Code } from '../iced';
import type { Cpu } from '../cpu';
import { SC_DOWN } from '../cpu';
import type { Insn } from '../insn';
import { onCode } from '../decode';
import { fault } from '../fault';
import { L_SUB, lazy, lazy64 } from '../flags';
import { PAGE_RAM, PAGE_SPECIAL } from '../../memory/physical';
import { A_DB, CR0_PE, DF, EFER_LMA, ES, FS, GP, IOPL, RAX, RCX, RDI, RDX, RSI, VM } from '../regs';

/** Iterations of a REP instruction per execution before interrupts get a chance. */
export const CHUNK = 4096;
const TWO32 = 4294967296;
/** Larger than any batch: "no limit from this source". */
const NO_LIMIT = 1 << 30;

// ---- registers by address size ----------------------------------------------------------------

/** rSI/rDI as an offset: 16 or 32 bits unsigned, or for 64-bit addressing a signed number (exact when canonical). */
function index(c: Cpu, r: number, as: number): number {
  const v = c.gpr[r];
  if (as === 2) return v & 0xffff;
  if (as === 4) return v >>> 0;
  return c.gpr[r + 16] * TWO32 + (v >>> 0);
}

/** Adds `delta` to rSI/rDI/rCX with the address size's wrap-around; 32-bit writes clear bits 63:32. */
function advance(c: Cpu, r: number, as: number, delta: number): void {
  const g = c.gpr;
  if (as === 2) {
    g[r] = (g[r] & ~0xffff) | ((g[r] + delta) & 0xffff);
  } else if (as === 4) {
    g[r] = (g[r] + delta) | 0;
    g[r + 16] = 0;
  } else {
    const lo = (g[r] >>> 0) + delta;
    g[r] = lo | 0;
    g[r + 16] = (g[r + 16] + Math.floor(lo / TWO32)) | 0;
  }
}

/** Iterations rCX asks for (beyond 2^53 inexact, but then only "more than a chunk" matters). */
function count(c: Cpu, as: number): number {
  const v = c.gpr[RCX];
  if (as === 2) return v & 0xffff;
  if (as === 4) return v >>> 0;
  return (c.gpr[RCX + 16] >>> 0) * TWO32 + (v >>> 0);
}

// ---- addresses -----------------------------------------------------------------------------------

/** Linear address of a string element at seg:off, after segmentation (or canonical) checks. */
function strLin(c: Cpu, seg: number, off: number, size: number, write: boolean, as: number): number {
  if (c.mode64) {
    // Only FS and GS have a base in 64-bit mode (SDM vol. 3, 3.4.4); ES is always flat.
    if (seg >= FS) return c.canonical(c.segBase[seg] + off, seg);
    return as === 8 ? c.canonical(off, seg) : off;
  }
  return c.segLin(seg, off, size, write);
}

/** Elements of `size` from `lin` (going down when `down`) that stay in lin's page; 0 if the first straddles. */
function pageRoom(lin: number, size: number, down: boolean): number {
  const off = lin & 0xfff;
  if (off + size > 4096) return 0;
  return down ? ((off / size) | 0) + 1 : ((4096 - off) / size) | 0;
}

/** Elements before the offset wraps around the address size (16/32 bits). */
function wrapRoom(off: number, size: number, down: boolean, as: number): number {
  if (as === 8) return NO_LIMIT;
  if (down) return Math.floor(off / size) + 1;
  return Math.floor(((as === 2 ? 0x10000 : TWO32) - off) / size);
}

/**
 * Whether n elements from seg:off all pass the limit check (the first already passed
 * segLin, so type and usability are known good). Outside 64-bit mode only.
 */
function rangeFits(c: Cpu, seg: number, off: number, n: number, size: number, down: boolean): boolean {
  const lo = down ? off - (n - 1) * size : off;
  const last = (down ? off : off + (n - 1) * size) + size - 1;
  const limit = c.segLimit[seg];
  if (c.segChk[seg] & SC_DOWN) {
    const upper = c.segAttr[seg] & A_DB ? 0xffffffff : 0xffff;
    return lo > limit && last <= upper;
  }
  return last <= limit;
}

/** Batch size: bounded by what is left, the pages, the offset wrap and the segment limits; 1 when unsure. */
function batch(c: Cpu, i: Insn, left: number, size: number, down: boolean,
  srcLin: number, srcOff: number, dstLin: number, dstOff: number, useSrc: boolean, useDst: boolean): number {
  const as = i.addrSize;
  let n = left;
  if (useSrc) n = Math.min(n, pageRoom(srcLin, size, down), wrapRoom(srcOff, size, down, as));
  if (useDst) n = Math.min(n, pageRoom(dstLin, size, down), wrapRoom(dstOff, size, down, as));
  if (n > 1 && !c.mode64) {
    if (useSrc && !rangeFits(c, i.mSeg, srcOff, n, size, down)) return 1;
    if (useDst && !rangeFits(c, ES, dstOff, n, size, down)) return 1;
  }
  return n < 1 ? 1 : n;
}

// ---- physical memory helpers ---------------------------------------------------------------------

let readHi = 0;

/** Reads an element at a physical address (64-bit: high half in readHi, else readHi is 0). */
function physRead(c: Cpu, pa: number, size: number): number {
  const phys = c.host.phys;
  // Callers compare (value, readHi) pairs: a stale high half from an earlier 8-byte read
  // would make equal words and dwords compare unequal (REPE/REPNE SCASW/SCASD).
  readHi = 0;
  switch (size) {
    case 1: return phys.read8(pa);
    case 2: return phys.read16(pa);
    case 4: return phys.read32(pa);
    default: readHi = phys.read32(pa + 4); return phys.read32(pa);
  }
}

function physWrite(c: Cpu, pa: number, size: number, v: number, hi: number): void {
  const phys = c.host.phys;
  switch (size) {
    case 1: phys.write8(pa, v); return;
    case 2: phys.write16(pa, v); return;
    case 4: phys.write32(pa, v); return;
    default: phys.write32(pa, v); phys.write32(pa + 4, hi); return;
  }
}

/** True when [pa, pa+len) is plain RAM without decoded code: the only memory we may touch directly. */
function plainRam(c: Cpu, pa: number, len: number): boolean {
  const phys = c.host.phys;
  return pa + len <= phys.size && phys.kind[Math.floor(pa / 4096)] === PAGE_RAM;
}

/** True when n bytes from pa (going down when `down`) are RAM or ROM that reads have no side effects on. */
function readableRam(c: Cpu, pa: number, n: number, down: boolean): boolean {
  const phys = c.host.phys;
  const low = down ? pa - n + 1 : pa;
  return low + n <= phys.size && (phys.kind[Math.floor(low / 4096)] & PAGE_SPECIAL) === 0;
}

/** n MOVS elements within one page each side; sp/dp are the physical addresses of the first. */
function copyPhys(c: Cpu, sp: number, dp: number, n: number, size: number, down: boolean): void {
  const phys = c.host.phys;
  const bytes = n * size;
  const sLow = down ? sp - bytes + size : sp;
  const dLow = down ? dp - bytes + size : dp;
  // Overlap in the direction of travel makes each element read what an earlier one wrote:
  // only the element-by-element loop gives that result (memmove would not).
  const hazard = down ? dLow < sLow && sLow - dLow < bytes : dLow > sLow && dLow - sLow < bytes;
  if (!hazard && plainRam(c, dLow, bytes) && sLow + bytes <= phys.size && (phys.kind[Math.floor(sLow / 4096)] & PAGE_SPECIAL) === 0) {
    phys.u8.copyWithin(dLow, sLow, sLow + bytes);
    phys.written[Math.floor(dLow / 4096)] = 1;
    return;
  }
  const step = down ? -size : size;
  for (let k = 0; k < n; k++, sp += step, dp += step) {
    const v = physRead(c, sp, size);
    physWrite(c, dp, size, v, readHi);
  }
}

/** n STOS elements within one page; dp is the physical address of the first. */
function fillPhys(c: Cpu, dp: number, n: number, size: number, down: boolean, v: number, hi: number): void {
  const phys = c.host.phys;
  const bytes = n * size;
  const dLow = down ? dp - bytes + size : dp;
  if (plainRam(c, dLow, bytes)) {
    const b = v & 0xff;
    const uniform = size === 1 || (size === 2 ? ((v >>> 8) & 0xff) === b : v === Math.imul(b, 0x01010101) && (size === 4 || hi === v));
    if (uniform) phys.u8.fill(b, dLow, dLow + bytes);
    else {
      const view = phys.view;
      for (let a = dLow, end = dLow + bytes; a < end; a += size) {
        if (size === 2) view.setUint16(a, v, true);
        else { view.setInt32(a, v, true); if (size === 8) view.setInt32(a + 4, hi, true); }
      }
    }
    phys.written[Math.floor(dLow / 4096)] = 1;
    return;
  }
  const step = down ? -size : size;
  for (let k = 0; k < n; k++, dp += step) physWrite(c, dp, size, v, hi);
}

// ---- the instructions ----------------------------------------------------------------------------

/** Sets the flags of CMPS/SCAS: a - b as SUB/CMP of `size` bytes. */
function compareFlags(c: Cpu, size: number, a: number, aHi: number, b: number, bHi: number): void {
  if (size === 8) {
    const borrow = (a >>> 0) < (b >>> 0) ? 1 : 0;
    lazy64(c, L_SUB, aHi, a, bHi, b, (aHi - bHi - borrow) | 0, (a - b) | 0);
  } else {
    lazy(c, L_SUB, size, a, b, (a - b) | 0);
  }
}

/** After a (possibly partial) REP execution: run again if iterations remain. */
function finish(c: Cpu, left: number): void {
  if (left > 0) c.nextRip = c.rip;
}

function movs(c: Cpu, i: Insn): void {
  const size = i.memSize, as = i.addrSize;
  const rep = i.rep !== 0; // F2 acts as REP for MOVS (as on hardware and QEMU)
  let left = rep ? count(c, as) : 1;
  if (left === 0) return;
  const down = (c.flags & DF) !== 0;
  const step = down ? -size : size;
  let budget = CHUNK;
  while (left > 0 && budget > 0) {
    const so = index(c, RSI, as), dO = index(c, RDI, as);
    const sl = strLin(c, i.mSeg, so, size, false, as);
    const dl = strLin(c, ES, dO, size, true, as);
    const n = batch(c, i, Math.min(left, budget), size, down, sl, so, dl, dO, true, true);
    if (n === 1) {
      const v = c.readLin(sl, size);
      c.writeLin(dl, size, v, c.hi);
    } else {
      const sp = c.translate(sl, 0);
      const dp = c.translate(dl, 1);
      copyPhys(c, sp, dp, n, size, down);
    }
    advance(c, RSI, as, step * n);
    advance(c, RDI, as, step * n);
    if (rep) advance(c, RCX, as, -n);
    left -= n; budget -= n;
  }
  if (rep) finish(c, left);
}

function stos(c: Cpu, i: Insn): void {
  const size = i.memSize, as = i.addrSize;
  const rep = i.rep !== 0;
  let left = rep ? count(c, as) : 1;
  if (left === 0) return;
  const down = (c.flags & DF) !== 0;
  const step = down ? -size : size;
  const v = size === 1 ? c.gpr[RAX] & 0xff : size === 2 ? c.gpr[RAX] & 0xffff : c.gpr[RAX];
  const hi = size === 8 ? c.gpr[RAX + 16] : 0;
  let budget = CHUNK;
  while (left > 0 && budget > 0) {
    const dO = index(c, RDI, as);
    const dl = strLin(c, ES, dO, size, true, as);
    const n = batch(c, i, Math.min(left, budget), size, down, 0, 0, dl, dO, false, true);
    if (n === 1) c.writeLin(dl, size, v, hi);
    else fillPhys(c, c.translate(dl, 1), n, size, down, v, hi);
    advance(c, RDI, as, step * n);
    if (rep) advance(c, RCX, as, -n);
    left -= n; budget -= n;
  }
  if (rep) finish(c, left);
}

function lods(c: Cpu, i: Insn): void {
  const size = i.memSize, as = i.addrSize;
  const rep = i.rep !== 0;
  let left = rep ? count(c, as) : 1;
  if (left === 0) return;
  const down = (c.flags & DF) !== 0;
  const step = down ? -size : size;
  let budget = CHUNK;
  while (left > 0 && budget > 0) {
    const so = index(c, RSI, as);
    const sl = strLin(c, i.mSeg, so, size, false, as);
    const n = batch(c, i, Math.min(left, budget), size, down, sl, so, 0, 0, true, false);
    let v: number, hi: number;
    if (n === 1) {
      v = c.readLin(sl, size); hi = c.hi;
    } else {
      // Every element is read (an MMIO source sees each access); the register keeps the last.
      let sp = c.translate(sl, 0);
      v = 0; hi = 0;
      for (let k = 0; k < n; k++, sp += step) { v = physRead(c, sp, size); hi = readHi; }
    }
    c.setReg(RAX, size, v, hi);
    advance(c, RSI, as, step * n);
    if (rep) advance(c, RCX, as, -n);
    left -= n; budget -= n;
  }
  if (rep) finish(c, left);
}

/**
 * CMPS and SCAS: compares [rSI] (or rAX for SCAS) with ES:[rDI]; REPE stops after an iteration
 * that clears ZF, REPNE after one that sets it (SDM vol. 2, REP/REPE/REPZ/REPNE/REPNZ: the
 * count is decremented for the terminating iteration too).
 */
function compare(c: Cpu, i: Insn, scas: boolean): void {
  const size = i.memSize, as = i.addrSize;
  const rep = i.rep;
  let left = rep ? count(c, as) : 1;
  if (left === 0) return;
  const down = (c.flags & DF) !== 0;
  const step = down ? -size : size;
  // SCAS: the accumulator is the first operand.
  const acc = size === 1 ? c.gpr[RAX] & 0xff : size === 2 ? c.gpr[RAX] & 0xffff : c.gpr[RAX];
  const accHi = size === 8 ? c.gpr[RAX + 16] : 0;
  let budget = CHUNK;
  while (left > 0 && budget > 0) {
    const so = scas ? 0 : index(c, RSI, as), dO = index(c, RDI, as);
    const sl = scas ? 0 : strLin(c, i.mSeg, so, size, false, as);
    const dl = strLin(c, ES, dO, size, false, as);
    const n = batch(c, i, Math.min(left, budget), size, down, sl, so, dl, dO, !scas, true);
    let a = acc, aHi = accHi, b: number, bHi = 0, done: number;
    if (n === 1) {
      if (!scas) { a = c.readLin(sl, size); aHi = c.hi; }
      b = c.readLin(dl, size); bHi = c.hi;
      done = 1;
    } else {
      let sp = scas ? 0 : c.translate(sl, 0);
      let dp = c.translate(dl, 0);
      b = 0; done = 0;
      if (size === 1 && rep !== 0 && readableRam(c, dp, n, down) && (scas || readableRam(c, sp, n, down))) {
        // Byte scans and compares over RAM (strlen, memchr, memcmp idioms): straight from the array.
        const u8 = c.host.phys.u8, d = down ? -1 : 1, stopOnEqual = rep === 2;
        while (done < n) {
          if (!scas) { a = u8[sp]; sp += d; }
          b = u8[dp]; dp += d;
          done++;
          if ((a === b) === stopOnEqual) break;
        }
      } else {
        while (done < n) {
          if (!scas) { a = physRead(c, sp, size); aHi = readHi; sp += step; }
          b = physRead(c, dp, size); bHi = readHi; dp += step;
          done++;
          const equal = a === b && aHi === bHi;
          if (rep === 1 ? !equal : rep === 2 && equal) break;
        }
      }
    }
    compareFlags(c, size, a, aHi, b, bHi);
    if (!scas) advance(c, RSI, as, step * done);
    advance(c, RDI, as, step * done);
    if (rep === 0) return;
    advance(c, RCX, as, -done);
    left -= done; budget -= done;
    const equal = a === b && aHi === bHi;
    if (rep === 1 ? !equal : equal) return; // terminated on ZF
  }
  finish(c, left);
}

function ins(c: Cpu, i: Insn): void {
  const size = i.memSize as 1 | 2 | 4, as = i.addrSize;
  const port = c.gpr[RDX] & 0xffff;
  checkIoPermission(c, port, size);
  const rep = i.rep !== 0;
  let left = rep ? count(c, as) : 1;
  if (left === 0) return;
  const step = c.flags & DF ? -size : size;
  let budget = CHUNK;
  while (left > 0 && budget > 0) {
    const dl = strLin(c, ES, index(c, RDI, as), size, true, as);
    // Fault on the destination before reading the port, so a restarted INS does not lose data.
    c.translate(dl, 1);
    if ((dl & 0xfff) + size > 4096) {
      const next = dl - (dl & 0xfff) + 4096;
      c.translate(c.mode64 ? next : next >>> 0, 1);
    }
    c.writeLin(dl, size, c.portIn(port, size));
    advance(c, RDI, as, step);
    if (rep) advance(c, RCX, as, -1);
    left--; budget--;
  }
  if (rep) finish(c, left);
}

function outs(c: Cpu, i: Insn): void {
  const size = i.memSize as 1 | 2 | 4, as = i.addrSize;
  const port = c.gpr[RDX] & 0xffff;
  checkIoPermission(c, port, size);
  const rep = i.rep !== 0;
  let left = rep ? count(c, as) : 1;
  if (left === 0) return;
  const step = c.flags & DF ? -size : size;
  let budget = CHUNK;
  while (left > 0 && budget > 0) {
    const v = c.readLin(strLin(c, i.mSeg, index(c, RSI, as), size, false, as), size);
    c.portOut(port, size, v);
    advance(c, RSI, as, step);
    if (rep) advance(c, RCX, as, -1);
    left--; budget--;
  }
  if (rep) finish(c, left);
}

// ---- I/O permission ------------------------------------------------------------------------------

/**
 * The protected-mode I/O permission check of IN/OUT/INS/OUTS (SDM vol. 1, 19.5.1-19.5.2):
 * with CPL > IOPL, or in virtual-8086 mode, every port accessed must have a clear bit in
 * the I/O permission bitmap of the current 32/64-bit TSS, else #GP(0). The bitmap starts
 * at the 16-bit offset stored at TSS+0x66; the two bytes holding the port's bits must lie
 * within the TSS limit.
 */
export function checkIoPermission(c: Cpu, port: number, size: number): void {
  if (!(c.cr0 & CR0_PE)) return;
  if (!(c.flags & VM) && c.cpl <= (c.flags & IOPL) >>> 12) return;
  const type = c.trAttr & 0xf;
  if ((type !== 9 && type !== 11) || c.trLimit < 0x67) fault(GP, 0); // 16-bit TSS: no bitmap
  const saved = c.sysAccess;
  c.sysAccess = true; // the TSS is read with supervisor rights whatever the CPL
  let bits: number;
  try {
    const mapBase = c.readLin16(tssLin(c, 0x66));
    const off = mapBase + (port >>> 3);
    if (off + 1 > c.trLimit) fault(GP, 0);
    bits = c.readLin16(tssLin(c, off));
  } finally {
    c.sysAccess = saved;
  }
  if (bits & (((1 << size) - 1) << (port & 7))) fault(GP, 0);
}

/** Linear address of a TSS byte: in IA-32e mode the TSS base is 64 bits wide, even in compatibility mode. */
function tssLin(c: Cpu, off: number): number {
  return c.efer & EFER_LMA ? c.trBase + off : (c.trBase + off) >>> 0;
}

// ---- registration --------------------------------------------------------------------------------

onCode([Code.Movsb_m8_m8, Code.Movsw_m16_m16, Code.Movsd_m32_m32, Code.Movsq_m64_m64], movs);
onCode([Code.Stosb_m8_AL, Code.Stosw_m16_AX, Code.Stosd_m32_EAX, Code.Stosq_m64_RAX], stos);
onCode([Code.Lodsb_AL_m8, Code.Lodsw_AX_m16, Code.Lodsd_EAX_m32, Code.Lodsq_RAX_m64], lods);
onCode([Code.Cmpsb_m8_m8, Code.Cmpsw_m16_m16, Code.Cmpsd_m32_m32, Code.Cmpsq_m64_m64], (c, i) => compare(c, i, false));
onCode([Code.Scasb_AL_m8, Code.Scasw_AX_m16, Code.Scasd_EAX_m32, Code.Scasq_RAX_m64], (c, i) => compare(c, i, true));
onCode([Code.Insb_m8_DX, Code.Insw_m16_DX, Code.Insd_m32_DX], ins);
onCode([Code.Outsb_DX_m8, Code.Outsw_DX_m16, Code.Outsd_DX_m32], outs);
