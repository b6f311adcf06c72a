// Test doubles for the APIC tests: a hand-driven clock, a bus that records what the
// local APICs send (and can deliver IPIs with the destination helpers), an event log.
import { VirtualClock } from '../../../core/devices/types';
import { EventStream, EventName, EventMap, HsEvent } from '../../../core/trace/events';
import { LocalApic, LocalApicOptions } from '../../../core/apic/lapic';
import { ApicBus, Ipi } from '../../../core/apic/types';
import { arbitrateLowestPriority, isIpiTarget } from '../../../core/apic/destination';

export class FakeClock implements VirtualClock {
  constructor(public ns = 0) {}
  nowNs(): number { return this.ns; }
}

/** Records sends and EOIs; with `apics` set it also delivers IPIs the way a vmm would. */
export class RecordingBus implements ApicBus {
  readonly sent: { src: number; ipi: Ipi }[] = [];
  readonly eois: { src: number; vector: number }[] = [];
  readonly illegal: { src: number; ipi: Ipi | null; reason: string }[] = [];
  readonly kicks: number[] = [];
  readonly inits: number[] = [];
  apics: LocalApic[] = [];
  /** Answer to sendIpi (to test the delivery-status bit). */
  reply: void | 'pending' = undefined;

  sendIpi(src: LocalApic, ipi: Ipi): void | 'pending' {
    this.sent.push({ src: src.vcpuIndex, ipi });
    const targets = this.apics.filter((a) => isIpiTarget(a, src, ipi));
    if (ipi.mode === 'fixed') for (const t of targets) t.acceptInterrupt(ipi.vector, ipi.trigger);
    if (ipi.mode === 'lowest') arbitrateLowestPriority(targets)?.acceptInterrupt(ipi.vector, ipi.trigger);
    if (ipi.mode === 'nmi') for (const t of targets) t.acceptNmi();
    return this.reply;
  }
  eoiLevel(src: LocalApic, vector: number): void { this.eois.push({ src: src.vcpuIndex, vector }); }
  kick(dst: LocalApic): void { this.kicks.push(dst.vcpuIndex); }
  illegalIpi(src: LocalApic, ipi: Ipi | null, reason: string): void { this.illegal.push({ src: src.vcpuIndex, ipi, reason }); }
  localInit(dst: LocalApic): void { this.inits.push(dst.vcpuIndex); }
}

export class EventLog {
  readonly all: HsEvent[] = [];
  constructor(events: EventStream) { events.on((e) => this.all.push(e)); }
  of<K extends EventName>(type: K): EventMap[K][] {
    return this.all.filter((e) => e.type === type).map((e) => e.data as EventMap[K]);
  }
  clear(): void { this.all.length = 0; }
}

export interface Rig {
  clock: FakeClock;
  bus: RecordingBus;
  events: EventStream;
  log: EventLog;
  apic: LocalApic;
  /** 32-bit MMIO read/write at an offset of the xAPIC page. */
  rd(off: number): number;
  wr(off: number, value: number): void;
}

/** One LAPIC (vCPU 0, APIC ID `id`), software-enabled unless `enable` is false. */
export function rig(opts: { id?: number; bsp?: boolean; enable?: boolean } & LocalApicOptions = {}): Rig {
  const clock = new FakeClock();
  const bus = new RecordingBus();
  const events = new EventStream();
  events.clock = () => clock.ns;
  const log = new EventLog(events);
  const apic = new LocalApic(0, opts.id ?? 0, opts.bsp ?? true, clock, bus, events, opts);
  bus.apics = [apic];
  const r: Rig = {
    clock, bus, events, log, apic,
    rd: (off) => apic.readMmio(off, 4),
    wr: (off, value) => apic.writeMmio(off, 4, value),
  };
  if (opts.enable !== false) r.wr(0xf0, 0x1ff);
  return r;
}

/** `n` software-enabled LAPICs with APIC IDs `ids` (default 0..n-1) sharing one delivering bus. */
export function rigs(n: number, ids?: number[]) {
  const clock = new FakeClock();
  const bus = new RecordingBus();
  const events = new EventStream();
  const log = new EventLog(events);
  const apics = Array.from({ length: n }, (_, i) => new LocalApic(i, ids?.[i] ?? i, i === 0, clock, bus, events));
  bus.apics = apics;
  for (const a of apics) a.writeMmio(0xf0, 4, 0x1ff);
  return { clock, bus, events, log, apics };
}

/** Puts a LAPIC in x2APIC mode through the legal path (xAPIC -> x2APIC). */
export function toX2apic(apic: LocalApic): void {
  const [lo, hi] = apic.readApicBase();
  if (apic.writeApicBase(lo | 0xc00, hi) !== 'ok') throw new Error('x2APIC switch refused');
}

/** Vectors set in a 256-bit register. */
export function vectors(r: Uint32Array): number[] {
  const out: number[] = [];
  for (let v = 0; v < 256; v++) if (r[v >>> 5] & (1 << (v & 31))) out.push(v);
  return out;
}
