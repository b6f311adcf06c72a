// The typed event stream. Every layer reports what it does here; the CLI's --trace
// writes these as JSON lines, the debugger's breakpoints are predicates over them.
import type { ExitQualification } from '../vmm/types';


/** Why a vCPU or the whole VM stopped. */
export type StopReason =
  | 'debug-exit'          // guest wrote isa-debug-exit
  | 'triple-fault'        // a vCPU shut down
  | 'unsupported'         // an instruction valid on hardware that we do not implement
  | 'instruction-limit'   // --max-instructions reached
  | 'halted'              // every vCPU halted with interrupts disabled: nothing can wake them
  | 'init-bsp'            // INIT delivered to the BSP (no firmware to reboot into)
  | 'invariant'           // a hypervisor invariant broke (a quirk made hardware behaviour impossible)
  | 'error';              // an internal error, reported rather than crashing

export type CpuMode = 'real' | 'protected16' | 'protected32' | 'compat16' | 'compat32' | 'long64' | 'vm86';

export interface EventMap {
  'serial.out': { port: number; byte: number };
  'port.read': { port: number; size: number; value: number; unassigned: boolean };
  'port.write': { port: number; size: number; value: number; unassigned: boolean };
  'mmio.read': { address: number; size: number; value: number; unassigned: boolean };
  'mmio.write': { address: number; size: number; value: number; unassigned: boolean };
  'mode.change': { from: CpuMode; to: CpuMode; rip: number };
  'exception': { vector: number; errorCode: number | null; rip: number; cr2?: number; kind: 'fault' | 'trap' | 'abort' | 'interrupt' | 'software' };
  'interrupt': { vector: number; source: 'pic' | 'nmi' | 'apic' };
  'vcpu.state': { from: string; to: string };
  'stop': { reason: StopReason; message: string; exitCode?: number };
  /** A VM exit (bhyve VM_EXITCODE_* names) and its qualification. */
  'exit': { reason: string } & ExitQualification;
  'rendezvous.begin': { initiator: number; requested: number[]; name: string };
  'rendezvous.arrive': { name: string };
  'rendezvous.end': { name: string };
  'invariant': { name: string; message: string };
  'tlb.flush': { kind: 'invlpg' | 'cr3' | 'cr0' | 'cr4' | 'all' | 'ept'; address?: number };
  // Local APIC and IOAPIC (core/apic). The vcpu of an APIC event is the LAPIC's vCPU; IOAPIC events use -1.
  /** An IPI leaves the sender (ICR or x2APIC SELF IPI decoded; trigger is the effective one). */
  'ipi.send': {
    vector: number; mode: 'fixed' | 'lowest' | 'smi' | 'nmi' | 'init' | 'init-deassert' | 'startup';
    destMode: 'physical' | 'logical'; level: boolean; trigger: 'edge' | 'level';
    shorthand: 'none' | 'self' | 'all' | 'all-but-self'; dest: number; x2apic: boolean; icrLow: number; icrHigh: number;
  };
  /** A fixed interrupt set a new IRR bit (source: ipi, ioapic, msi, timer, lint0, lint1, error, ...). */
  'ipi.accept': { vector: number; trigger: 'edge' | 'level'; source: string };
  /** A fixed interrupt found its IRR bit already set: two requests became one. */
  'ipi.collapse': { vector: number; trigger: 'edge' | 'level'; source: string };
  /** A fixed interrupt was refused (illegal vector 0-15, APIC software- or hardware-disabled). */
  'apic.reject': { vector: number; source: string; reason: 'illegal-vector' | 'sw-disabled' | 'hw-disabled' };
  /** EOI: the ISR bit cleared (-1: ISR was empty); level = its TMR bit was set (EOI sent to the IOAPIC). */
  'eoi': { vector: number; level: boolean };
  /** A write to a LAPIC register by the guest (valueHigh: x2APIC ICR bits 63:32). */
  'apic.write': { register: string; value: number; valueHigh: number; x2apic: boolean };
  /** Something the hardware ignores or faults on: an invalid ICR combination, an x2APIC MSR #GP, a reserved register, an illegal IA32_APIC_BASE write. */
  'apic.illegal': { kind: 'icr' | 'msr-read' | 'msr-write' | 'mmio' | 'apic-base'; reason: string; address: number; value: number; valueHigh: number };
  /** Errors recorded in the ESR (bits: the new ones; esr: all collected since the last ESR write). */
  'apic.error': { bits: number; esr: number };
  /** IA32_APIC_BASE changed the APIC mode. */
  'apic.mode': { from: 'disabled' | 'xapic' | 'x2apic'; to: 'disabled' | 'xapic' | 'x2apic'; base: number };
  /** The LAPIC timer expired (masked: no interrupt was raised). */
  'apic.timer': { mode: 'one-shot' | 'periodic' | 'tsc-deadline'; vector: number; masked: boolean };
  /** The IOAPIC sent a message for a pin. */
  'ioapic.deliver': { pin: number; vector: number; mode: 'fixed' | 'lowest' | 'smi' | 'nmi' | 'init' | 'extint'; destMode: 'physical' | 'logical'; dest: number; trigger: 'edge' | 'level' };
  /** The IOAPIC received an EOI; pins: bit mask of the entries whose remote IRR it cleared. */
  'ioapic.eoi': { vector: number; pins: number };
  /** A write to an IOAPIC register (through IOWIN). */
  'ioapic.write': { register: number; value: number };
}

export type EventName = keyof EventMap;

export interface HsEvent<K extends EventName = EventName> {
  /** Sequence number, from 0, in emission order. */
  seq: number;
  /** Virtual time in nanoseconds when the event happened. */
  time: number;
  /** vCPU index, or -1 for a VM-wide event (a device, the scheduler). */
  vcpu: number;
  type: K;
  data: EventMap[K];
}

export type Listener = (e: HsEvent) => void;

/**
 * One stream per VM. Emission is cheap when nobody listens: callers test
 * `events.active` before building an event object.
 */
export class EventStream {
  private listeners: Listener[] = [];
  private seq = 0;
  /** True when at least one listener is attached. */
  active = false;
  /** Supplies the virtual time stamp of each event. */
  clock: () => number = () => 0;

  on(listener: Listener): () => void {
    this.listeners.push(listener);
    this.active = true;
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
      this.active = this.listeners.length > 0;
    };
  }

  emit<K extends EventName>(vcpu: number, type: K, data: EventMap[K]): void {
    if (!this.active) return;
    const e: HsEvent<K> = { seq: this.seq++, time: this.clock(), vcpu, type, data };
    for (const l of this.listeners) l(e as HsEvent);
  }
}
