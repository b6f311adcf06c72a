// The local APIC of one vCPU (Intel SDM vol. 3, chapter "Advanced Programmable
// Interrupt Controller (APIC)"): xAPIC registers in a 4 KiB MMIO page, x2APIC registers
// as MSRs 0x800-0xBFF (access rules in lapic-access.ts), IA32_APIC_BASE, priorities,
// acceptance and delivery, EOI, the ICR, LINT0/LINT1 and the timer.
//
// What the model decides and what it leaves to the vmm:
//  - Destinations are resolved by the vmm (bus.sendIpi) with the helpers in
//    destination.ts; INIT and SIPI are handled by the vmm and never stored here.
//  - IRR -> ISR happens in acknowledge(), which the vCPU calls at the instant it takes
//    the interrupt; pendingVector() says whether there is one to take.
//  - Virtual time comes from the clock; the LocalApic is a TimedDevice for its timer.
//    After any register access the scheduler must re-read nextDeadlineNs().
//
// Choices (hardware first; QEMU 7.2 TCG checked with a probe, differences noted):
//  - The APIC ID register is read-only ("In processors based on Intel microarchitecture
//    code name Nehalem the Local APIC ID Register is no longer Read/Write"); QEMU lets
//    software change it.
//  - APR and RRD are "not supported in the Pentium 4 and Intel Xeon processors" (the
//    version-0x14 xAPIC we model): they read 0, as in QEMU. The arbitration priority
//    used for lowest-priority delivery is still computed (arbitrationPriority()).
//  - VER is 0x00050014 (6 LVT entries, as QEMU reports); with options.cmci the LVT CMCI
//    register exists and VER is 0x00060014. Without it 0x2F0 is reserved.
//  - Reserved LVT/SVR/ICR bits are not stored (QEMU stores whatever is written).
//  - A self IPI with a vector below 16 is not latched (ESR send + receive illegal
//    vector); QEMU latches it.
import { EventStream } from '../trace/events';
import { TimedDevice, VirtualClock } from '../devices/types';
import { carriesVector, decodeIcr, selfIpi } from './icr';
import {
  APIC_BASE_BSP, APIC_BASE_DEFAULT, APIC_BASE_EN, APIC_BASE_EXTD, APIC_VER_VALUE, APIC_VER_VALUE_CMCI, DFR_FLAT,
  DM_EXTINT, DM_FIXED, DM_INIT, DM_NMI, DM_SMI, ESR_ILLEGAL_REGISTER, ESR_RECEIVE_ILLEGAL_VECTOR,
  ESR_SEND_ILLEGAL_VECTOR, LVT_COUNT, LVT_ERROR, LVT_LINT0, LVT_MASKED, LVT_POLARITY_LOW, LVT_REMOTE_IRR, LVT_TIMER,
  LVT_TRIGGER_LEVEL, LVT_WRITABLE, SVR_ENABLE, SVR_WRITABLE,
} from './registers';
import { ApicTimer, lvtTimerMode } from './timer';
import type { AcceptResult, ApicBus, ApicMode, InterruptSource, Ipi, TriggerMode } from './types';
import { GP_FAULT, GpFault } from './types';
import * as access from './lapic-access';

export interface LocalApicOptions {
  /** Implement the LVT CMCI register (VER reports 7 LVT entries). Default false, as QEMU 7.2. */
  cmci?: boolean;
  /** MAXPHYADDR: IA32_APIC_BASE bits at and above it are reserved. Default 40, as our CPUID. */
  physAddrBits?: number;
}

/** Highest set bit of a 256-bit register, or -1. */
export function highestVector(r: Uint32Array): number {
  for (let i = 7; i >= 0; i--) if (r[i] !== 0) return i * 32 + 31 - Math.clz32(r[i]);
  return -1;
}

const bitOf = (r: Uint32Array, v: number): boolean => (r[v >>> 5] & (1 << (v & 31))) !== 0;

export class LocalApic implements TimedDevice {
  readonly name: string;
  readonly hasCmci: boolean;
  readonly physAddrBits: number;

  // IA32_APIC_BASE, low and high halves (bit 8 BSP is fixed by isBsp); written by setApicBase only.
  apicBaseLo = 0;
  apicBaseHi = 0;
  // What IA32_APIC_BASE says, kept with it by setApicBase: every register access looks at them.
  private apicMode: ApicMode = 'xapic';
  /** mmioBase() in xAPIC mode, else -1. */
  xapicPage = -1;
  tpr = 0;
  /** xAPIC LDR (bits 31:24). In x2APIC mode the LDR is derived from the ID instead. */
  ldr = 0;
  dfr = DFR_FLAT;
  svr = 0xff;
  /** ESR as software reads it: the errors latched by the last ESR write. */
  esr = 0;
  /** Errors detected since the last ESR write (SDM "Error Handling"). */
  esrPending = 0;
  icrLow = 0;
  icrHigh = 0;
  /** ICR delivery status (bit 12, xAPIC): set while the vmm reports the last IPI pending. */
  icrBusy = false;
  /** LVT entries, indexed by LVT_CMCI .. LVT_ERROR (registers.ts). */
  readonly lvt = new Uint32Array(LVT_COUNT);
  readonly irr = new Uint32Array(8);
  readonly isr = new Uint32Array(8);
  readonly tmr = new Uint32Array(8);
  readonly timer = new ApicTimer();
  /** An NMI was accepted and not yet taken by the vCPU. */
  nmiPending = false;
  /** SMIs received (there is no SMM: they are counted and reported). */
  smiCount = 0;
  /** An ExtINT message (IOAPIC or IPI) asks the vCPU to fetch a vector from the 8259. */
  extIntLatched = false;
  /** Electrical levels of the LINT0 (bit 0) and LINT1 (bit 1) inputs. */
  lintLevels = 0;
  /**
   * Quirk hook (default off, hardware never does it): a software-disabled APIC still
   * latches fixed interrupts into IRR, as in the Xen upcall-vector thread. Set by the
   * vmm's `accept-while-disabled` quirk.
   */
  acceptWhileSoftwareDisabled = false;
  /** Re-entrancy guard of the error interrupt (always false between calls). */
  private errorFiring = false;

  constructor(
    readonly vcpuIndex: number,
    /** Initial (x2)APIC ID: 32 bits; the xAPIC ID register shows its low 8 bits. */
    readonly apicId: number,
    readonly isBsp: boolean,
    readonly clock: VirtualClock,
    readonly bus: ApicBus,
    readonly events: EventStream,
    options: LocalApicOptions = {},
  ) {
    this.name = `lapic${vcpuIndex}`;
    this.hasCmci = options.cmci ?? false;
    this.physAddrBits = options.physAddrBits ?? 40;
    this.reset('power');
  }

  // ---------------------------------------------------------------- reset and mode

  /**
   * Power-up/RESET or INIT (SDM "Local APIC State After Power-Up or Reset", "... After
   * an INIT Reset", "x2APIC State Transitions"): both reset every register except the
   * ID; RESET also puts IA32_APIC_BASE back to 0xFEE00000 | EN (| BSP) in xAPIC mode,
   * while INIT keeps IA32_APIC_BASE (an x2APIC stays in x2APIC mode, a disabled APIC
   * stays disabled). Pending NMI/ExtINT requests are dropped, as bhyve's vCPU reset does.
   */
  reset(kind: 'power' | 'init'): void {
    if (kind === 'power') {
      this.setApicBase(APIC_BASE_DEFAULT | APIC_BASE_EN | (this.isBsp ? APIC_BASE_BSP : 0), 0);
      this.smiCount = 0;
    }
    this.resetRegisters();
    this.nmiPending = false;
    this.extIntLatched = false;
  }

  private resetRegisters(): void {
    this.tpr = 0;
    this.ldr = 0;
    this.dfr = DFR_FLAT;
    this.svr = 0xff;
    this.esr = 0;
    this.esrPending = 0;
    this.icrLow = 0;
    this.icrHigh = 0;
    this.icrBusy = false;
    this.lvt.fill(LVT_MASKED);
    this.irr.fill(0);
    this.isr.fill(0);
    this.tmr.fill(0);
    this.timer.reset();
  }

  mode(): ApicMode {
    return this.apicMode;
  }

  private setApicBase(lo: number, hi: number): void {
    this.apicBaseLo = lo >>> 0;
    this.apicBaseHi = hi;
    this.apicMode = !(lo & APIC_BASE_EN) ? 'disabled' : lo & APIC_BASE_EXTD ? 'x2apic' : 'xapic';
    this.xapicPage = this.apicMode === 'xapic' ? this.mmioBase() : -1;
  }

  /** Physical address of the xAPIC page (IA32_APIC_BASE bits MAXPHYADDR-1:12). */
  mmioBase(): number {
    return this.apicBaseHi * 4294967296 + ((this.apicBaseLo & 0xfffff000) >>> 0);
  }

  /** True when the vCPU must route accesses to mmioBase() here (xAPIC mode only). */
  mmioEnabled(): boolean {
    return this.mode() === 'xapic';
  }

  softwareEnabled(): boolean {
    return (this.svr & SVR_ENABLE) !== 0;
  }

  readApicBase(): [number, number] {
    return [this.apicBaseLo | 0, this.apicBaseHi | 0];
  }

  /**
   * WRMSR IA32_APIC_BASE (SDM "Enabling or Disabling the Local APIC" and "x2APIC State
   * Transitions"). #GP for reserved bits (7:0, 9, MAXPHYADDR and up), for EN=0 EXTD=1,
   * for x2APIC -> xAPIC and disabled -> x2APIC. Disabling resets the APIC to its
   * power-up register state (the SDM allows it: "prior initialization to the APIC may
   * be lost"), so re-enabling finds xAPIC mode with reset registers. xAPIC -> x2APIC
   * keeps the registers except ICR bits 63:32 (not preserved) and the LDR, which
   * becomes the one derived from the x2APIC ID. The BSP flag is read-only.
   */
  writeApicBase(lo: number, hi: number): 'ok' | GpFault {
    lo >>>= 0;
    hi >>>= 0;
    const hiBits = this.physAddrBits - 32;
    const hiReserved = hiBits >= 32 ? 0 : ~((1 << hiBits) - 1) >>> 0;
    const from = this.mode();
    const en = (lo & APIC_BASE_EN) !== 0;
    const extd = (lo & APIC_BASE_EXTD) !== 0;
    const to: ApicMode = en ? (extd ? 'x2apic' : 'xapic') : 'disabled';
    let reason: string | null = null;
    if ((lo & 0x2ff) !== 0 || (hi & hiReserved) !== 0) reason = 'reserved bit set';
    else if (!en && extd) reason = 'EXTD without EN is the invalid state';
    else if (from === 'x2apic' && to === 'xapic') reason = 'x2APIC -> xAPIC must go through disabled';
    else if (from === 'disabled' && to === 'x2apic') reason = 'disabled -> x2APIC must go through xAPIC';
    if (reason !== null) {
      this.illegal('apic-base', reason, 0x1b, lo, hi);
      return GP_FAULT;
    }
    this.setApicBase((lo & 0xfffff000) | (lo & (APIC_BASE_EN | APIC_BASE_EXTD)) | (this.isBsp ? APIC_BASE_BSP : 0), hi);
    if (from !== to) {
      if (to === 'disabled') this.resetRegisters();
      if (to === 'x2apic') this.icrHigh = 0;
      if (this.events.active) this.events.emit(this.vcpuIndex, 'apic.mode', { from, to, base: this.mmioBase() });
    }
    return 'ok';
  }

  // ---------------------------------------------------------------- register access

  /** xAPIC MMIO read at `offset` in the page (see lapic-access.ts for sizes and alignment). */
  readMmio(offset: number, size: number): number {
    return access.readMmio(this, offset, size);
  }

  writeMmio(offset: number, size: number, value: number): void {
    access.writeMmio(this, offset, size, value);
  }

  /** RDMSR of 0x800-0xBFF: [low, high] or '#GP'. */
  readMsr(msr: number): [number, number] | GpFault {
    return access.readMsr(this, msr);
  }

  /** WRMSR of 0x800-0xBFF: 'ok' or '#GP'. */
  writeMsr(msr: number, lo: number, hi: number): 'ok' | GpFault {
    return access.writeMsr(this, msr, lo, hi);
  }

  /** Version register. */
  version(): number {
    return this.hasCmci ? APIC_VER_VALUE_CMCI : APIC_VER_VALUE;
  }

  /** The LDR as software reads it: xAPIC LDR, or in x2APIC mode cluster (ID[19:4]) << 16 | 1 << ID[3:0]. */
  logicalId(): number {
    if (this.mode() === 'x2apic') return ((((this.apicId >>> 4) & 0xffff) << 16) | (1 << (this.apicId & 15))) >>> 0;
    return this.ldr >>> 0;
  }

  // ---------------------------------------------------------------- priorities

  /** PPR (SDM "Processor Priority Register"): TPR if its class is >= the ISR's, else the ISR class. */
  ppr(): number {
    const isrv = highestVector(this.isr);
    const isrClass = isrv < 0 ? 0 : isrv & 0xf0;
    return (this.tpr & 0xf0) >= isrClass ? this.tpr : isrClass;
  }

  /**
   * Arbitration priority as the SDM defines APR (used for lowest-priority arbitration;
   * the register itself reads 0 on this xAPIC version): TPR if TPR[7:4] >= IRRV[7:4]
   * and TPR[7:4] > ISRV[7:4], else the highest of the three classes.
   */
  arbitrationPriority(): number {
    const irrv = Math.max(highestVector(this.irr), 0);
    const isrv = Math.max(highestVector(this.isr), 0);
    const t = this.tpr & 0xf0;
    if (t >= (irrv & 0xf0) && t > (isrv & 0xf0)) return this.tpr;
    return Math.max(t, isrv & 0xf0, irrv & 0xf0);
  }

  /** The vector the vCPU would take now: highest IRR vector whose class is above the PPR class, or -1. */
  pendingVector(): number {
    const irrv = highestVector(this.irr);
    if (irrv < 0) return -1;
    return (irrv & 0xf0) > (this.ppr() & 0xf0) ? irrv : -1;
  }

  /**
   * INTA: moves pendingVector() from IRR to ISR at this instant and returns it (-1 if
   * nothing is deliverable; hardware would then supply spuriousVector()).
   */
  acknowledge(): number {
    const v = this.pendingVector();
    if (v < 0) return -1;
    this.irr[v >>> 5] &= ~(1 << (v & 31));
    this.isr[v >>> 5] |= 1 << (v & 31);
    return v;
  }

  /** SVR vector, supplied when an INTA finds nothing deliverable. */
  spuriousVector(): number {
    return this.svr & 0xff;
  }

  /**
   * EOI (SDM "Signaling Interrupt Servicing Completion"): clears the highest ISR bit;
   * if its TMR bit is set the EOI goes to the IOAPIC through bus.eoiLevel (there is no
   * EOI-broadcast suppression on this version). Also clears the remote IRR of a
   * level-triggered LINT entry with that vector. Returns the vector, or -1 if ISR was empty.
   */
  eoi(): number {
    const v = highestVector(this.isr);
    if (v < 0) {
      if (this.events.active) this.events.emit(this.vcpuIndex, 'eoi', { vector: -1, level: false });
      return -1;
    }
    this.isr[v >>> 5] &= ~(1 << (v & 31));
    const level = bitOf(this.tmr, v);
    if (this.events.active) this.events.emit(this.vcpuIndex, 'eoi', { vector: v, level });
    for (let n = 0; n < 2; n++) {
      const e = this.lvt[LVT_LINT0 + n];
      if ((e & LVT_REMOTE_IRR) && (e & 0xff) === v) {
        this.lvt[LVT_LINT0 + n] = e & ~LVT_REMOTE_IRR;
        this.evaluateLint(n, false);
      }
    }
    if (level) this.bus.eoiLevel(this, v);
    return v;
  }

  // ---------------------------------------------------------------- acceptance

  /**
   * A fixed or lowest-priority interrupt arrives (IPI, IOAPIC, MSI, LVT). Vectors 0-15
   * are illegal: ESR receive illegal vector, nothing latched. A software-disabled APIC
   * accepts no fixed interrupt. Otherwise the IRR bit is set (collapsing with one already
   * there) and TMR records the trigger mode.
   */
  acceptInterrupt(vector: number, trigger: TriggerMode, source: InterruptSource = 'ipi'): AcceptResult {
    vector &= 0xff;
    let result: AcceptResult;
    if (this.mode() === 'disabled') result = 'hw-disabled';
    else if (!(this.svr & SVR_ENABLE) && !this.acceptWhileSoftwareDisabled) result = 'sw-disabled';
    else if (vector < 16) result = 'illegal-vector';
    else {
      const w = vector >>> 5;
      const b = 1 << (vector & 31);
      if (trigger === 'level') this.tmr[w] |= b;
      else this.tmr[w] &= ~b;
      result = this.irr[w] & b ? 'collapsed' : 'accepted';
      this.irr[w] |= b;
    }
    if (this.events.active) {
      if (result === 'accepted') this.events.emit(this.vcpuIndex, 'ipi.accept', { vector, trigger, source });
      else if (result === 'collapsed') this.events.emit(this.vcpuIndex, 'ipi.collapse', { vector, trigger, source });
      else this.events.emit(this.vcpuIndex, 'apic.reject', { vector, source, reason: result });
    }
    if (result === 'illegal-vector') this.setError(ESR_RECEIVE_ILLEGAL_VECTOR);
    if (result === 'accepted') this.bus.kick(this);
    return result;
  }

  /** An NMI arrives (IPI, IOAPIC, LINT): accepted even while software-disabled. */
  acceptNmi(): 'accepted' | 'collapsed' | 'hw-disabled' {
    if (this.mode() === 'disabled') return 'hw-disabled';
    const was = this.nmiPending;
    this.nmiPending = true;
    if (!was) this.bus.kick(this);
    return was ? 'collapsed' : 'accepted';
  }

  /** The vCPU takes the pending NMI, if any. */
  takeNmi(): boolean {
    const p = this.nmiPending;
    this.nmiPending = false;
    return p;
  }

  /** An SMI arrives: recorded only (no SMM). */
  acceptSmi(): void {
    if (this.mode() === 'disabled') return;
    this.smiCount++;
  }

  /** An ExtINT message arrives (IOAPIC pin in ExtINT mode): the vCPU must ask the 8259. */
  acceptExtInt(): void {
    if (this.mode() === 'disabled') return;
    this.extIntLatched = true;
    this.bus.kick(this);
  }

  /**
   * Whether the vCPU should run an INTA cycle on the 8259 (when RFLAGS.IF allows):
   * a latched ExtINT message, a LINT input in ExtINT mode that is asserted and not
   * masked (virtual-wire mode), or, with the APIC globally disabled, LINT0 itself,
   * which then is the processor's INTR pin.
   */
  extIntPending(): boolean {
    if (this.mode() === 'disabled') return (this.lintLevels & 1) !== 0;
    if (this.extIntLatched) return true;
    for (let n = 0; n < 2; n++) {
      const e = this.lvt[LVT_LINT0 + n];
      if (!(e & LVT_MASKED) && ((e >>> 8) & 7) === DM_EXTINT && this.lintAsserted(n)) return true;
    }
    return false;
  }

  /** The vCPU has fetched the ExtINT vector from the 8259. */
  ackExtInt(): void {
    this.extIntLatched = false;
  }

  // ---------------------------------------------------------------- LINT0 / LINT1

  private lintAsserted(n: number): boolean {
    const high = ((this.lintLevels >>> n) & 1) !== 0;
    return high !== ((this.lvt[LVT_LINT0 + n] & LVT_POLARITY_LOW) !== 0);
  }

  /**
   * Drives the electrical level of LINT0 (n = 0) or LINT1 (n = 1). The LVT entry
   * decides: fixed (edge, or level with remote IRR on LINT0), NMI, SMI, INIT on the
   * asserting edge, ExtINT while asserted. With the APIC globally disabled LINT0 is
   * INTR and LINT1 is NMI (SDM "Enabling or Disabling the Local APIC").
   */
  setLint(n: 0 | 1, level: boolean): void {
    const before = this.lintAsserted(n);
    const wasHigh = ((this.lintLevels >>> n) & 1) !== 0;
    if (level) this.lintLevels |= 1 << n;
    else this.lintLevels &= ~(1 << n);
    if (this.mode() === 'disabled') {
      if (n === 1 && level && !wasHigh && !this.nmiPending) { this.nmiPending = true; this.bus.kick(this); }
      if (n === 0 && level) this.bus.kick(this);
      return;
    }
    this.evaluateLint(n, !before && this.lintAsserted(n));
  }

  /** Acts on LINTn's current state; `rising` is true on an asserting edge. */
  private evaluateLint(n: number, rising: boolean): void {
    const e = this.lvt[LVT_LINT0 + n];
    if (e & LVT_MASKED) return;
    const asserted = this.lintAsserted(n);
    const source: InterruptSource = n === 0 ? 'lint0' : 'lint1';
    switch ((e >>> 8) & 7) {
      case DM_FIXED:
        // Level-sensitive LINT1 is not supported (SDM "Local Vector Table"): LINT1 is edge.
        if (n === 0 && (e & LVT_TRIGGER_LEVEL)) {
          if (asserted && !(e & LVT_REMOTE_IRR)) {
            const r = this.acceptInterrupt(e & 0xff, 'level', source);
            if (r === 'accepted' || r === 'collapsed') this.lvt[LVT_LINT0] |= LVT_REMOTE_IRR;
          }
        } else if (rising) this.acceptInterrupt(e & 0xff, 'edge', source);
        return;
      case DM_NMI: if (rising) this.acceptNmi(); return;
      case DM_SMI: if (rising) this.acceptSmi(); return;
      case DM_INIT: if (rising) this.bus.localInit?.(this); return;
      case DM_EXTINT: if (asserted) this.bus.kick(this); return;
    }
  }

  // ---------------------------------------------------------------- register handlers (shared by MMIO and MSR)

  /** TPR write. */
  writeTpr(value: number): void {
    this.tpr = value & 0xff;
  }

  /** SVR write: clearing bit 8 software-disables the APIC and sets every LVT mask bit. */
  writeSvr(value: number): void {
    this.fire(this.clock.nowNs()); // settle the timer before its LVT may become masked
    this.svr = value & SVR_WRITABLE;
    if (!(this.svr & SVR_ENABLE)) for (let i = 0; i < LVT_COUNT; i++) this.lvt[i] |= LVT_MASKED;
  }

  /** ESR write: the errors collected since the last write become readable; collection restarts. */
  writeEsr(): void {
    this.esr = this.esrPending;
    this.esrPending = 0;
  }

  /**
   * LVT write: read-only bits (delivery status, remote IRR) kept, reserved bits dropped,
   * the mask forced while software-disabled. The timer is settled under the old entry
   * first, and a timer mode change disarms it.
   */
  writeLvt(index: number, value: number): void {
    const now = this.clock.nowNs();
    this.fire(now);
    const old = this.lvt[index];
    let v = (value & LVT_WRITABLE[index]) | (old & LVT_REMOTE_IRR);
    if (!(this.svr & SVR_ENABLE)) v |= LVT_MASKED;
    if (!(v & LVT_TRIGGER_LEVEL)) v &= ~LVT_REMOTE_IRR;
    this.lvt[index] = v >>> 0;
    if (index === LVT_TIMER) this.timer.changeMode(lvtTimerMode(old), lvtTimerMode(v));
    if (index === LVT_LINT0 || index === LVT_LINT0 + 1) this.evaluateLint(index - LVT_LINT0, false);
  }

  writeTimerInitialCount(value: number): void {
    const now = this.clock.nowNs();
    this.fire(now);
    this.timer.writeInitialCount(now, lvtTimerMode(this.lvt[LVT_TIMER]), value);
  }

  writeTimerDivide(value: number): void {
    const now = this.clock.nowNs();
    this.fire(now);
    this.timer.writeDivide(now, lvtTimerMode(this.lvt[LVT_TIMER]), value);
  }

  timerCurrentCount(): number {
    return this.timer.currentCount(this.clock.nowNs(), lvtTimerMode(this.lvt[LVT_TIMER]));
  }

  /**
   * ICR write that sends: validated against the SDM's table (icr.ts); an invalid
   * combination is ignored and reported (apic.illegal, bus.illegalIpi). A fixed or
   * lowest-priority IPI with a vector below 16 sets ESR send illegal vector and is
   * still sent (the receivers set receive illegal vector).
   */
  sendIcr(icrLow: number, icrHigh: number): void {
    const x2apic = this.mode() === 'x2apic';
    // Fixed delivery (10:8 = 0), physical destination (bit 11 clear), no shorthand (19:18),
    // a vector from 16 up, one destination: every OS's reschedule and call-function IPI. A
    // valid row of the table, sent as dispatchIpi would send it (nothing to report when no
    // one listens), without decoding it into a message first.
    if ((icrLow & 0xc0f00) === 0 && (icrLow & 0xf0) !== 0 && !this.events.active && this.bus.sendFixedUnicast !== undefined) {
      const dest = x2apic ? icrHigh >>> 0 : icrHigh >>> 24;
      if (dest !== (x2apic ? 0xffffffff : 0xff)) {
        this.icrBusy = true;
        this.bus.sendFixedUnicast(this, dest, icrLow & 0xff, x2apic);
        this.icrBusy = false;
        return;
      }
    }
    const d = decodeIcr(icrLow, icrHigh, x2apic);
    if (d.illegal !== null) {
      this.illegal('icr', d.illegal, x2apic ? 0x830 : 0x300, icrLow >>> 0, icrHigh >>> 0);
      this.bus.illegalIpi?.(this, d.ipi, d.illegal);
      return;
    }
    this.dispatchIpi(d.ipi!);
  }

  /** x2APIC SELF IPI write. */
  sendSelfIpi(vector: number): void {
    this.dispatchIpi(selfIpi(vector));
  }

  private dispatchIpi(ipi: Ipi): void {
    if (carriesVector(ipi.mode) && ipi.vector < 16) this.setError(ESR_SEND_ILLEGAL_VECTOR);
    if (this.events.active) {
      this.events.emit(this.vcpuIndex, 'ipi.send', {
        vector: ipi.vector, mode: ipi.mode, destMode: ipi.destMode, level: ipi.level, trigger: ipi.trigger,
        shorthand: ipi.shorthand, dest: ipi.dest, x2apic: ipi.x2apic, icrLow: ipi.icrLow, icrHigh: ipi.icrHigh,
      });
    }
    this.icrBusy = true;
    if (this.bus.sendIpi(this, ipi) !== 'pending') this.icrBusy = false;
  }

  /** The vmm finished delivering an IPI it reported 'pending': the delivery status goes idle. */
  ipiDelivered(): void {
    this.icrBusy = false;
  }

  // ---------------------------------------------------------------- errors

  /**
   * Records errors in the internal ESR and signals the LVT error interrupt if it is
   * unmasked (an error vector below 16 records receive illegal vector and stops there).
   */
  setError(bits: number): void {
    this.esrPending |= bits;
    if (this.events.active) this.events.emit(this.vcpuIndex, 'apic.error', { bits, esr: this.esrPending });
    const e = this.lvt[LVT_ERROR];
    if (this.errorFiring || (e & LVT_MASKED)) return;
    this.errorFiring = true;
    this.acceptInterrupt(e & 0xff, 'edge', 'error');
    this.errorFiring = false;
  }

  /** Accesses to reserved registers (xAPIC) set ESR illegal register address. */
  illegalRegister(offset: number, value: number, write: boolean): void {
    this.illegal('mmio', `${write ? 'write to' : 'read of'} reserved register 0x${offset.toString(16)}`, offset, value, 0);
    this.setError(ESR_ILLEGAL_REGISTER);
  }

  /** Reports something the hardware refuses or ignores. */
  illegal(kind: 'icr' | 'msr-read' | 'msr-write' | 'mmio' | 'apic-base', reason: string, address: number, value: number, valueHigh: number): void {
    if (this.events.active) this.events.emit(this.vcpuIndex, 'apic.illegal', { kind, reason, address, value, valueHigh });
  }

  // ---------------------------------------------------------------- timer (TimedDevice)

  nextDeadlineNs(): number {
    const e = this.lvt[LVT_TIMER];
    return this.timer.nextDeadline(lvtTimerMode(e), (e & LVT_MASKED) !== 0);
  }

  /** Settles the timer at `nowNs`, raising the LVT timer vector if it expired and is not masked. */
  fire(nowNs: number): void {
    const e = this.lvt[LVT_TIMER];
    const mode = lvtTimerMode(e);
    if (!this.timer.expire(nowNs, mode)) return;
    const masked = (e & LVT_MASKED) !== 0;
    if (this.events.active) {
      this.events.emit(this.vcpuIndex, 'apic.timer', {
        mode: mode === 2 ? 'tsc-deadline' : mode === 1 ? 'periodic' : 'one-shot', vector: e & 0xff, masked,
      });
    }
    if (!masked) this.acceptInterrupt(e & 0xff, 'edge', 'timer');
  }

  /** IA32_TSC_DEADLINE write, converted by the vCPU to virtual ns (0 disarms; ignored outside TSC-deadline mode). */
  writeTscDeadline(ns: number): void {
    const now = this.clock.nowNs();
    this.fire(now);
    this.timer.writeDeadline(lvtTimerMode(this.lvt[LVT_TIMER]), ns);
  }

  /** IA32_TSC_DEADLINE read, in virtual ns (0 when disarmed or outside TSC-deadline mode). */
  readTscDeadline(): number {
    this.fire(this.clock.nowNs());
    return this.timer.readDeadline(lvtTimerMode(this.lvt[LVT_TIMER]));
  }
}
