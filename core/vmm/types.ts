// The hypervisor layer's vocabulary, named as bhyve names it (sys/amd64/include/vmm.h:
// VM_EXITCODE_*, VM_CAP_*, vcpu states) so a person who knows bhyve finds their way.

/** Why a vCPU left guest execution. Only ever appended to (as bhyve's enum). */
export const EXIT_REASONS = [
  'INOUT', 'MMIO', 'RDMSR', 'WRMSR', 'CPUID', 'HLT', 'PAUSE', 'IPI', 'RENDEZVOUS', 'SUSPENDED',
  'EXCEPTION', 'TRIPLE_FAULT', 'INIT', 'SIPI',
] as const;
export type ExitReason = (typeof EXIT_REASONS)[number];
export const EXIT_INDEX: Record<ExitReason, number> = Object.fromEntries(EXIT_REASONS.map((r, k) => [r, k])) as Record<ExitReason, number>;

/** What an exit is about; which fields are set depends on the reason. */
export interface ExitQualification {
  port?: number;
  size?: number;
  direction?: 'in' | 'out' | 'read' | 'write';
  value?: number;
  address?: number;
  /** MMIO region: 'lapic', 'ioapic', 'unassigned'. */
  region?: string;
  /** LAPIC register name for MMIO/MSR accesses to the APIC. */
  register?: string;
  msr?: number;
  /** WRMSR: bits 63:32 of the value. */
  valueHigh?: number;
  leaf?: number;
  subleaf?: number;
  vector?: number;
  errorCode?: number | null;
  /** IPI exits: the decoded ICR and the destination vCPUs. */
  ipiMode?: string;
  destinations?: number[];
  sipiVector?: number;
}

/** The qualification of exits that carry none (HLT, PAUSE): one shared, frozen object. */
export const NO_QUALIFICATION: ExitQualification = Object.freeze({});

/** VM_CAP_*: behaviours a VMM opts into per VM. */
export const CAPABILITIES = ['ipi-exit', 'hlt-exit', 'pause-exit'] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** bhyve's vcpu states (vcpu_state): who owns the vCPU right now. */
export type RunState = 'IDLE' | 'FROZEN' | 'RUNNING' | 'SLEEPING';

/**
 * Named, default-off reproductions of real hypervisor bugs. Hardware behaviour is the
 * default; each quirk says which bug it models.
 */
export const QUIRKS = {
  'spurious-rendezvous': 'vCPUs outside the requested set take rendezvous exits too (FreeBSD review D37390)',
  'deferred-irr-ack': 'an injected vector stays in IRR until the next exit, so a second IPI for it collapses and is lost (FreeBSD bug 215972, "vmm/svm: use special state for LAPIC interrupt injected as virtual interrupt")',
  'accept-while-disabled': 'a software-disabled LAPIC latches fixed interrupts into IRR (the Xen upcall-vector thread)',
  'init-broadcast-self': 'INIT to all-including-self is honoured instead of ignored (FreeBSD review D35623)',
  'async-init-suspend': 'INIT suspends its target asynchronously, so a SIPI can find it still running',
  'ept-invalidate-no-wait': 'EPT/TLB invalidation returns before the vCPUs have exited (FreeBSD review "Make pmap_invalidate_ept() wait synchronously for guest exits")',
} as const;
export type Quirk = keyof typeof QUIRKS;

export function isQuirk(s: string): s is Quirk {
  return Object.prototype.hasOwnProperty.call(QUIRKS, s);
}
export function isCapability(s: string): s is Capability {
  return (CAPABILITIES as readonly string[]).includes(s);
}
