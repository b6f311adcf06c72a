// Port and MMIO buses. A device implements one interface and is mapped on a range;
// an access nobody claims reads all-ones and is reported as an event.
import { EventStream } from '../trace/events';

export type AccessSize = 1 | 2 | 4;

export interface PortDevice {
  readonly name: string;
  portRead(port: number, size: AccessSize): number;
  portWrite(port: number, size: AccessSize, value: number): void;
}

export interface MmioDevice {
  readonly name: string;
  /** offset is relative to the start of the mapped range. */
  mmioRead(offset: number, size: AccessSize): number;
  mmioWrite(offset: number, size: AccessSize, value: number): void;
}

/** What an unassigned read of each size returns (all ones), by access size. */
export const ONES = [0, 0xff, 0xffff, 0, 0xffffffff];

export class PortBus {
  /** One slot per port (64 Ki), null where nothing is mapped. */
  private readonly map: (PortDevice | null)[] = new Array(0x10000).fill(null);
  /** Ports whose accesses are reported as events (all, unless trimmed for speed). */
  reportAll = true;

  constructor(private readonly events: EventStream) {}

  register(first: number, count: number, dev: PortDevice): void {
    for (let p = first; p < first + count; p++) {
      if (this.map[p]) throw new Error(`port 0x${p.toString(16)} already claimed by ${this.map[p]!.name}`);
      this.map[p] = dev;
    }
  }

  deviceAt(port: number): PortDevice | null {
    return this.map[port & 0xffff];
  }

  read(vcpu: number, port: number, size: AccessSize): number {
    const dev = this.map[port & 0xffff];
    const value = dev ? dev.portRead(port, size) >>> 0 : ONES[size];
    if (this.events.active) this.events.emit(vcpu, 'port.read', { port, size, value, unassigned: !dev });
    return value;
  }

  write(vcpu: number, port: number, size: AccessSize, value: number): void {
    const dev = this.map[port & 0xffff];
    // The access is recorded before the device acts, so what it causes follows it in the trace.
    if (this.events.active) this.events.emit(vcpu, 'port.write', { port, size, value: value >>> 0, unassigned: !dev });
    if (dev) dev.portWrite(port, size, value >>> 0);
  }
}

interface MmioRange { base: number; end: number; dev: MmioDevice }

/** MMIO regions outside RAM (the IOAPIC, later others). Few ranges: a linear scan is enough. */
export class MmioBus {
  private ranges: MmioRange[] = [];

  constructor(private readonly events: EventStream) {}

  register(base: number, length: number, dev: MmioDevice): void {
    this.ranges.push({ base, end: base + length, dev });
  }

  /** The range the last access hit: accesses come in runs to one device (a LAPIC, say). */
  private last: MmioRange | undefined = undefined;

  find(pa: number): MmioRange | undefined {
    const l = this.last;
    if (l !== undefined && pa >= l.base && pa < l.end) return l;
    for (const r of this.ranges) if (pa >= r.base && pa < r.end) { this.last = r; return r; }
    return undefined;
  }

  read(vcpu: number, pa: number, size: AccessSize): number {
    const r = this.find(pa);
    const value = r ? r.dev.mmioRead(pa - r.base, size) >>> 0 : ONES[size];
    if (this.events.active) this.events.emit(vcpu, 'mmio.read', { address: pa, size, value, unassigned: !r });
    return value;
  }

  write(vcpu: number, pa: number, size: AccessSize, value: number): void {
    const r = this.find(pa);
    if (this.events.active) this.events.emit(vcpu, 'mmio.write', { address: pa, size, value: value >>> 0, unassigned: !r });
    if (r) r.dev.mmioWrite(pa - r.base, size, value >>> 0);
  }
}
