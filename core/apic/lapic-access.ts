// Register access to a LocalApic: the xAPIC MMIO page and the x2APIC MSRs, each
// dispatching to one handler per register (the handlers that change state live on
// LocalApic and are shared by both interfaces).
//
// xAPIC MMIO (SDM "Local APIC Register Address Map"): registers are 32 bits on 16-byte
// boundaries and "should be accessed using 128-bit aligned 32-bit loads or stores";
// other accesses are model specific or undefined. Here an access that is not 4 bytes
// at a 16-byte boundary reads 0 and its write is ignored, with no error (QEMU 7.2 does
// the same for 1- and 2-byte accesses). A 32-bit access to a reserved register reads 0,
// ignores the write and sets ESR "illegal register address" (bit 7), as QEMU does.
// Writes to read-only registers (ID, VER, APR, PPR, RRD, ISR, TMR, IRR, current count)
// are ignored; reads of EOI return 0.
//
// x2APIC MSRs (SDM "x2APIC Register Address Space", "Reserved Bit Checking"): only in
// x2APIC mode (otherwise every MSR of 0x800-0xBFF raises #GP); #GP for MSRs not in the
// table (APR 809H, RRD 80CH, DFR 80EH, ICR high 831H, ...), for RDMSR of write-only
// registers (EOI, SELF IPI), for WRMSR of read-only ones, for a non-zero value written
// to EOI or ESR, for bits 63:32 set (all registers but ICR) and for any reserved bit set.
// SVR bit 9 (focus processor checking) is tolerated in a write but not stored, as on
// version-0x14 parts, so that software that sets it does not fault.
import type { LocalApic } from './lapic';
import {
  APIC_APR, APIC_DFR, APIC_EOI, APIC_ESR, APIC_ICR_HIGH, APIC_ICR_LOW, APIC_ID, APIC_IRR, APIC_ISR, APIC_LDR,
  APIC_LVT_CMCI, APIC_PPR, APIC_RRD, APIC_SELF_IPI, APIC_SVR, APIC_TIMER_CCR, APIC_TIMER_DCR,
  APIC_TIMER_ICR, APIC_TMR, APIC_TPR, APIC_VER, DCR_WRITABLE, DFR_MODEL_MASK, DFR_RESERVED_ONES,
  ICR_DELIVERY_STATUS, ICR_HIGH_WRITABLE, ICR_LOW_WRITABLE, LDR_WRITABLE, LVT_CMCI, LVT_DEFINED, LVT_OFFSETS,
  REGISTER_NAMES, SVR_FOCUS_DISABLE, SVR_WRITABLE, X2APIC_MSR_FIRST, isX2apicMsr,
} from './registers';
import { GP_FAULT, GpFault } from './types';

/** LVT index by MMIO offset >> 4 (offsets up to 0xFF0), -1 elsewhere. */
const LVT_BY_OFFSET = (() => {
  const t = new Int8Array(256).fill(-1);
  LVT_OFFSETS.forEach((off, i) => { t[off >> 4] = i; });
  return t;
})();

/** LVT index of an MMIO offset, or -1 (CMCI only when the APIC has it). */
function lvtIndex(apic: LocalApic, off: number): number {
  const i = LVT_BY_OFFSET[(off >> 4) & 0xff];
  return i === LVT_CMCI && !apic.hasCmci ? -1 : i;
}

/**
 * Value of the registers both interfaces read the same way; null for the ones that
 * differ by mode (ID, LDR, DFR, ICR, APR, RRD, EOI, SELF IPI) and for reserved offsets.
 */
function readCommon(apic: LocalApic, off: number): number | null {
  switch (off) {
    case APIC_VER: return apic.version();
    case APIC_TPR: return apic.tpr;
    case APIC_PPR: return apic.ppr();
    case APIC_SVR: return apic.svr;
    case APIC_ESR: return apic.esr;
    case APIC_TIMER_ICR: return apic.timer.initialCount;
    case APIC_TIMER_CCR: return apic.timerCurrentCount();
    case APIC_TIMER_DCR: return apic.timer.dcr;
  }
  if (off >= APIC_ISR && off < APIC_ISR + 0x80) return apic.isr[(off - APIC_ISR) >> 4];
  if (off >= APIC_TMR && off < APIC_TMR + 0x80) return apic.tmr[(off - APIC_TMR) >> 4];
  if (off >= APIC_IRR && off < APIC_IRR + 0x80) return apic.irr[(off - APIC_IRR) >> 4];
  const lvt = lvtIndex(apic, off);
  return lvt >= 0 ? apic.lvt[lvt] : null;
}

function emitWrite(apic: LocalApic, off: number, value: number, valueHigh: number, x2apic: boolean): void {
  if (apic.events.active) {
    apic.events.emit(apic.vcpuIndex, 'apic.write', { register: REGISTER_NAMES[off >> 4] ?? `0x${off.toString(16)}`, value: value >>> 0, valueHigh, x2apic });
  }
}

// ------------------------------------------------------------------ xAPIC MMIO

export function readMmio(apic: LocalApic, offset: number, size: number): number {
  if (size !== 4 || (offset & 0xf) !== 0 || apic.mode() !== 'xapic') return 0;
  const off = offset & 0xff0;
  const v = readCommon(apic, off);
  if (v !== null) return v >>> 0;
  switch (off) {
    case APIC_ID: return ((apic.apicId & 0xff) << 24) >>> 0;
    case APIC_APR: case APIC_RRD: case APIC_EOI: return 0;
    case APIC_LDR: return apic.ldr >>> 0;
    case APIC_DFR: return (apic.dfr | DFR_RESERVED_ONES) >>> 0;
    case APIC_ICR_LOW: return (apic.icrLow | (apic.icrBusy ? ICR_DELIVERY_STATUS : 0)) >>> 0;
    case APIC_ICR_HIGH: return apic.icrHigh >>> 0;
  }
  apic.illegalRegister(off, 0, false);
  return 0;
}

export function writeMmio(apic: LocalApic, offset: number, size: number, value: number): void {
  if (size !== 4 || (offset & 0xf) !== 0 || apic.mode() !== 'xapic') return;
  const off = offset & 0xff0;
  value >>>= 0;
  const lvt = lvtIndex(apic, off);
  const reserved = lvt < 0 && (REGISTER_NAMES[off >> 4] === undefined || off === APIC_SELF_IPI || off === APIC_LVT_CMCI);
  if (reserved) {
    apic.illegalRegister(off, value, true);
    return;
  }
  emitWrite(apic, off, value, 0, false);
  if (lvt >= 0) { apic.writeLvt(lvt, value); return; }
  switch (off) {
    case APIC_TPR: apic.writeTpr(value); return;
    case APIC_EOI: apic.eoi(); return;
    case APIC_LDR: apic.ldr = value & LDR_WRITABLE; return;
    case APIC_DFR: apic.dfr = (value & DFR_MODEL_MASK) | DFR_RESERVED_ONES; return;
    case APIC_SVR: apic.writeSvr(value); return;
    case APIC_ESR: apic.writeEsr(); return;
    case APIC_ICR_HIGH: apic.icrHigh = value & ICR_HIGH_WRITABLE; return;
    case APIC_ICR_LOW:
      apic.icrLow = value & ICR_LOW_WRITABLE;
      apic.sendIcr(apic.icrLow, apic.icrHigh);
      return;
    case APIC_TIMER_ICR: apic.writeTimerInitialCount(value); return;
    case APIC_TIMER_DCR: apic.writeTimerDivide(value); return;
  }
  // ID, VER, APR, PPR, RRD, ISR, TMR, IRR, TIMER_CCR: read-only, the write is ignored.
}

// ------------------------------------------------------------------ x2APIC MSRs

function gp(apic: LocalApic, write: boolean, msr: number, reason: string, lo = 0, hi = 0): GpFault {
  apic.illegal(write ? 'msr-write' : 'msr-read', reason, msr, lo >>> 0, hi >>> 0);
  return GP_FAULT;
}

export function readMsr(apic: LocalApic, msr: number): [number, number] | GpFault {
  if (!isX2apicMsr(msr)) return gp(apic, false, msr, 'not an x2APIC MSR');
  if (apic.mode() !== 'x2apic') return gp(apic, false, msr, 'x2APIC MSR read outside x2APIC mode');
  const off = (msr - X2APIC_MSR_FIRST) << 4;
  if (off >= 0x400) return gp(apic, false, msr, 'reserved x2APIC MSR');
  const v = readCommon(apic, off);
  if (v !== null) return [v | 0, 0];
  switch (off) {
    case APIC_ID: return [apic.apicId | 0, 0];
    case APIC_LDR: return [apic.logicalId() | 0, 0];
    case APIC_ICR_LOW: return [apic.icrLow | 0, apic.icrHigh | 0];
    case APIC_EOI: case APIC_SELF_IPI: return gp(apic, false, msr, 'read of a write-only register');
  }
  return gp(apic, false, msr, 'reserved x2APIC MSR');
}

export function writeMsr(apic: LocalApic, msr: number, lo: number, hi: number): 'ok' | GpFault {
  lo >>>= 0;
  hi >>>= 0;
  if (!isX2apicMsr(msr)) return gp(apic, true, msr, 'not an x2APIC MSR', lo, hi);
  if (apic.mode() !== 'x2apic') return gp(apic, true, msr, 'x2APIC MSR write outside x2APIC mode', lo, hi);
  const off = (msr - X2APIC_MSR_FIRST) << 4;
  if (off >= 0x400) return gp(apic, true, msr, 'reserved x2APIC MSR', lo, hi);
  if (off === APIC_ICR_LOW) {
    if (lo & ~ICR_LOW_WRITABLE) return gp(apic, true, msr, 'reserved ICR bit set', lo, hi);
    emitWrite(apic, off, lo, hi, true);
    apic.icrLow = lo;
    apic.icrHigh = hi;
    apic.sendIcr(lo, hi);
    return 'ok';
  }
  if (hi !== 0) return gp(apic, true, msr, 'bits 63:32 are reserved', lo, hi);
  const lvt = lvtIndex(apic, off);
  let reserved: number;
  if (lvt >= 0) reserved = ~LVT_DEFINED[lvt];
  else {
    switch (off) {
      case APIC_TPR: reserved = ~0xff; break;
      case APIC_SVR: reserved = ~(SVR_WRITABLE | SVR_FOCUS_DISABLE); break;
      case APIC_EOI: case APIC_ESR: reserved = ~0; break; // "WRMSR of a non-zero value causes #GP(0)"
      case APIC_TIMER_ICR: reserved = 0; break;
      case APIC_TIMER_DCR: reserved = ~DCR_WRITABLE; break;
      case APIC_SELF_IPI: reserved = ~0xff; break;
      case APIC_ID: case APIC_VER: case APIC_PPR: case APIC_LDR: case APIC_TIMER_CCR:
        return gp(apic, true, msr, 'write to a read-only register', lo, hi);
      default:
        if (off >= APIC_ISR && off < APIC_IRR + 0x80) return gp(apic, true, msr, 'write to a read-only register', lo, hi);
        return gp(apic, true, msr, 'reserved x2APIC MSR', lo, hi);
    }
  }
  if (lo & reserved) return gp(apic, true, msr, 'reserved bit set', lo, hi);
  emitWrite(apic, off, lo, 0, true);
  if (lvt >= 0) { apic.writeLvt(lvt, lo); return 'ok'; }
  switch (off) {
    case APIC_TPR: apic.writeTpr(lo); break;
    case APIC_SVR: apic.writeSvr(lo); break;
    case APIC_EOI: apic.eoi(); break;
    case APIC_ESR: apic.writeEsr(); break;
    case APIC_TIMER_ICR: apic.writeTimerInitialCount(lo); break;
    case APIC_TIMER_DCR: apic.writeTimerDivide(lo); break;
    case APIC_SELF_IPI: apic.sendSelfIpi(lo); break;
  }
  return 'ok';
}
