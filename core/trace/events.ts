// The typed event stream. Every layer reports what it does here; the CLI's --trace
// writes these as JSON lines, the debugger's breakpoints are predicates over them.

/** Why a vCPU or the whole VM stopped. */
export type StopReason =
  | 'debug-exit'          // guest wrote isa-debug-exit
  | 'triple-fault'        // a vCPU shut down
  | 'unsupported'         // an instruction valid on hardware that we do not implement
  | 'instruction-limit'   // --max-instructions reached
  | 'halted'              // every vCPU halted with interrupts disabled: nothing can wake them
  | 'init-bsp'            // INIT delivered to the BSP (no firmware to reboot into)
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
  'tlb.flush': { kind: 'invlpg' | 'cr3' | 'cr0' | 'cr4' | 'all'; address?: number };
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
