// Types shared by the local APIC, the IOAPIC and the VM-level code (core/vmm) that
// connects them. The APIC models never find their peers themselves: every message
// leaves through an interface implemented by the VM (ApicBus for the local APICs,
// IoApicSink for the IOAPIC), so IPIs and I/O interrupts take one delivery path.
import type { LocalApic } from './lapic';

/** IA32_APIC_BASE state: EN=0 (disabled), EN=1 EXTD=0 (xAPIC), EN=1 EXTD=1 (x2APIC). */
export type ApicMode = 'disabled' | 'xapic' | 'x2apic';

export type IpiMode = 'fixed' | 'lowest' | 'smi' | 'nmi' | 'init' | 'init-deassert' | 'startup';
export type DestMode = 'physical' | 'logical';
export type Shorthand = 'none' | 'self' | 'all' | 'all-but-self';
export type TriggerMode = 'edge' | 'level';

/** An IPI as decoded from an ICR write (or an x2APIC SELF IPI write) that the SDM's table allows. */
export interface Ipi {
  vector: number;
  mode: IpiMode;
  destMode: DestMode;
  /** ICR bit 14 as written (only INIT level de-assert carries a 0 that matters). */
  level: boolean;
  /**
   * Effective trigger: 'edge' for every IPI except INIT level de-assert, because the
   * xAPIC issues level-triggered IPIs as edge-triggered (SDM table "Valid Combinations
   * for the Pentium 4 and Intel Xeon Processors' Local xAPIC ICR", note 2).
   */
  trigger: TriggerMode;
  shorthand: Shorthand;
  /** Destination field: 8 bits (xAPIC, ICR 63:56) or 32 bits (x2APIC, ICR 63:32); ignored with a shorthand. */
  dest: number;
  /** Sent in x2APIC mode: dest is 32 bits wide, 0xFFFFFFFF is the broadcast. */
  x2apic: boolean;
  /** The ICR as written, for the trace and the debugger. */
  icrLow: number;
  icrHigh: number;
}

/** Where an interrupt offered to acceptInterrupt() came from (for events). */
export type InterruptSource = 'ipi' | 'ioapic' | 'msi' | 'timer' | 'lint0' | 'lint1' | 'error' | 'thermal' | 'perf' | 'cmci';

/** Outcome of offering a fixed interrupt to a local APIC. */
export type AcceptResult =
  | 'accepted'        // IRR bit newly set
  | 'collapsed'       // IRR bit was already set: the two requests are now one
  | 'illegal-vector'  // vector 0-15: ESR receive illegal vector set, nothing latched
  | 'sw-disabled'     // SVR bit 8 clear: fixed interrupts are not accepted
  | 'hw-disabled';    // IA32_APIC_BASE EN clear: there is no APIC to accept it

/** The VM-level interface a LocalApic sends through; implemented by the vmm. */
export interface ApicBus {
  /**
   * The one VM-level IPI delivery function: resolves destinations (see destination.ts)
   * and delivers. Return 'pending' to keep the sender's ICR delivery-status bit set
   * until the vmm calls src.ipiDelivered(); anything else means the send completed.
   */
  sendIpi(src: LocalApic, ipi: Ipi): void | 'pending';
  /** EOI of a vector whose TMR bit was set: the vmm forwards it to the IOAPIC (SDM "EOI"). */
  eoiLevel(src: LocalApic, vector: number): void;
  /** Something became deliverable on dst (IRR bit, NMI, SMI, ExtINT): wake its vCPU if it sleeps. */
  kick(dst: LocalApic): void;
  /**
   * Optional: an ICR write the SDM's table of valid combinations rules out. Hardware
   * ignores it (so does the LocalApic); a quirk may choose to deliver `ipi` anyway.
   * `ipi` is null when the delivery mode is reserved.
   */
  illegalIpi?(src: LocalApic, ipi: Ipi | null, reason: string): void;
  /** Optional: an LVT entry (LINT0/LINT1) with delivery mode INIT fired. */
  localInit?(dst: LocalApic): void;
  /**
   * Optional: sendIpi of a fixed, edge IPI with a legal vector to one physical destination
   * (not a broadcast), without the message: what sendIpi would do with it, exactly.
   */
  sendFixedUnicast?(src: LocalApic, dest: number, vector: number, x2apic: boolean): void;
}

/** Delivery modes of an IOAPIC redirection entry (82093AA datasheet, IOREDTBL bits 10:8). */
export type IoApicDeliveryMode = 'fixed' | 'lowest' | 'smi' | 'nmi' | 'init' | 'extint';

/** An interrupt message sent by the IOAPIC: 8-bit destination, never x2APIC format. */
export interface IoApicMessage {
  pin: number;
  vector: number;
  mode: IoApicDeliveryMode;
  destMode: DestMode;
  dest: number;
  trigger: TriggerMode;
}

/** The VM-level interface the IOAPIC delivers through (the same path as IPIs in the vmm). */
export interface IoApicSink {
  deliver(msg: IoApicMessage): void;
}

/** Result of an x2APIC MSR or IA32_APIC_BASE access that faults. */
export const GP_FAULT = '#GP';
export type GpFault = typeof GP_FAULT;
