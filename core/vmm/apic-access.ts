// How a vCPU reaches its own local APIC: the xAPIC page (an MMIO region every vCPU sees at
// its own IA32_APIC_BASE, routed to the vCPU making the access) and the MSRs (x2APIC
// 0x800-0x8FF, IA32_APIC_BASE, IA32_TSC_DEADLINE). Each access is a VM exit, as an
// APIC-access or MSR exit would be on VMX, counted and recorded by the vmm.
import { ONES } from '../memory/bus';
import type { MmioDevice, AccessSize, MmioBus } from '../memory/bus';
import type { Mmio32Device } from '../memory/physical';
import type { LocalApic } from '../apic/lapic';
import type { Vmm } from './vmm';
import { GP_FAULT } from '../apic/types';
import { readMmio, writeMmio } from '../apic/lapic-access';
import { APIC_SELF_IPI, REGISTER_NAMES, X2APIC_MSR_FIRST, X2APIC_MSR_LAST } from '../apic/registers';
import { EXIT_INDEX } from './types';

const MMIO_EXIT = EXIT_INDEX.MMIO;

export const XAPIC_DEFAULT_BASE = 0xfee00000;
/** The window the MMIO bus routes to the LAPICs: the default page (relocation within it is honoured per vCPU). */
export const XAPIC_WINDOW = 0x100000;

export const MSR_APIC_BASE = 0x1b;
export const MSR_TSC_DEADLINE = 0x6e0;

/**
 * The name of the register at an xAPIC offset, as the LAPIC's own events name it
 * (registers.ts REGISTER_NAMES: "ISR2" for bits 95:64 of ISR); SELF IPI exists only in x2APIC mode.
 */
export function apicRegisterName(offset: number): string {
  const o = offset & 0xff0;
  const name = o === APIC_SELF_IPI ? undefined : REGISTER_NAMES[o >> 4];
  return name ?? `reserved 0x${o.toString(16)}`;
}

const LAPIC_ACCESS = Object.freeze({ region: 'lapic' });

/** The MMIO window at 0xFEE00000: each access goes to the LAPIC of the vCPU making it. */
export class ApicMmio implements MmioDevice, Mmio32Device {
  readonly name = 'local APIC';
  /** The vCPU whose access is being served (the machine sets it before each vCPU runs). */
  current = 0;

  constructor(private readonly lapics: readonly LocalApic[], private readonly vmm: Vmm, private readonly bus: MmioBus) {}

  /**
   * An aligned 4-byte access to the page (PhysicalMemory.mapPage32): what mmioRead and
   * mmioWrite do for the vCPU's own xAPIC page, without the bus's lookup and with the exit
   * counted inline. With events on, or any other page, the bus's road (it records the access).
   */
  read32(offset: number): number {
    const v = this.current, l = this.lapics[v];
    if (l.xapicPage !== XAPIC_DEFAULT_BASE || this.vmm.detailed()) return this.bus.read(v, XAPIC_DEFAULT_BASE + offset, 4) | 0;
    const value = readMmio(l, offset, 4);
    this.vmm.countExit(v, MMIO_EXIT, LAPIC_ACCESS);
    return value | 0;
  }

  write32(offset: number, value: number): void {
    const v = this.current, l = this.lapics[v];
    if (l.xapicPage !== XAPIC_DEFAULT_BASE || this.vmm.detailed()) { this.bus.write(v, XAPIC_DEFAULT_BASE + offset, 4, value); return; }
    this.vmm.countExit(v, MMIO_EXIT, LAPIC_ACCESS);
    this.update(l, offset, 4, value >>> 0);
  }

  private target(offset: number): LocalApic | null {
    const l = this.lapics[this.current];
    // Only the page this vCPU's IA32_APIC_BASE points at, and only in xAPIC mode.
    if (XAPIC_DEFAULT_BASE + (offset & ~0xfff) !== l.xapicPage) return null;
    return l;
  }

  mmioRead(offset: number, size: AccessSize): number {
    const l = this.target(offset);
    const value = l !== null ? l.readMmio(offset & 0xfff, size) >>> 0 : ONES[size];
    // The qualification is built only when someone looks (events on): LAPIC accesses are frequent.
    this.vmm.exitAt(this.current, MMIO_EXIT, this.vmm.detailed()
      ? { address: XAPIC_DEFAULT_BASE + offset, size, direction: 'read', value, region: l ? 'lapic' : 'unassigned', register: apicRegisterName(offset & 0xfff) }
      : LAPIC_ACCESS);
    return value;
  }

  mmioWrite(offset: number, size: AccessSize, value: number): void {
    const l = this.target(offset);
    this.vmm.exitAt(this.current, MMIO_EXIT, this.vmm.detailed()
      ? { address: XAPIC_DEFAULT_BASE + offset, size, direction: 'write', value: value >>> 0, region: l ? 'lapic' : 'unassigned', register: apicRegisterName(offset & 0xfff) }
      : LAPIC_ACCESS);
    if (l !== null) this.update(l, offset, size, value);
  }

  /** The write to the vCPU's own LAPIC, and what the vmm checks around an EOI or a TPR write. */
  private update(l: LocalApic, offset: number, size: AccessSize, value: number): void {
    const reg = offset & 0xff0;
    if (reg === 0xb0) this.vmm.checkEoi(this.current);
    writeMmio(l, offset & 0xfff, size, value);
    if (reg === 0xb0 || reg === 0x80) this.vmm.priorityLowered(this.current);
  }
}

/** MSR access to the LAPIC: returns the value, '#GP', or null when the MSR is not the APIC's. */
export function apicMsrRead(l: LocalApic, msr: number, nsToTsc: (ns: number) => number): [number, number] | typeof GP_FAULT | null {
  if (msr === MSR_APIC_BASE) return l.readApicBase();
  if (msr === MSR_TSC_DEADLINE) {
    // The LAPIC keeps the deadline in virtual ns; the guest reads back the TSC value it wrote (0: disarmed).
    const ns = l.readTscDeadline();
    const tsc = ns === 0 ? 0 : nsToTsc(ns);
    return [tsc % 4294967296 | 0, Math.floor(tsc / 4294967296) | 0];
  }
  if (msr >= X2APIC_MSR_FIRST && msr <= X2APIC_MSR_LAST) return l.readMsr(msr);
  return null;
}

export function apicMsrWrite(l: LocalApic, msr: number, lo: number, hi: number, tscToNs: (tsc: number) => number): 'ok' | typeof GP_FAULT | null {
  if (msr === MSR_APIC_BASE) return l.writeApicBase(lo, hi);
  if (msr === MSR_TSC_DEADLINE) {
    const tsc = (hi >>> 0) * 4294967296 + (lo >>> 0);
    // A non-zero deadline arms the timer; 0 disarms it (SDM "TSC-Deadline Mode").
    l.writeTscDeadline(tsc === 0 ? 0 : Math.max(1, tscToNs(tsc)));
    return 'ok';
  }
  if (msr >= X2APIC_MSR_FIRST && msr <= X2APIC_MSR_LAST) return l.writeMsr(msr, lo, hi);
  return null;
}
