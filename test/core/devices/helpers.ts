// Test doubles for the device tests: a hand-driven virtual clock and an IRQ recorder.
import { IrqLines, VirtualClock } from '../../../core/devices/types';

export class FakeClock implements VirtualClock {
  constructor(public ns = 0) {}
  nowNs(): number {
    return this.ns;
  }
  advance(ns: number): void {
    this.ns += ns;
  }
}

/** Records every line change and keeps the current levels. */
export class IrqRecorder implements IrqLines {
  readonly changes: { irq: number; level: boolean }[] = [];
  readonly levels = new Map<number, boolean>();

  setIrq(irq: number, level: boolean): void {
    this.changes.push({ irq, level });
    this.levels.set(irq, level);
  }

  level(irq: number): boolean {
    return this.levels.get(irq) ?? false;
  }

  /** Number of low-to-high transitions seen on `irq`. */
  risingEdges(irq: number): number {
    let prev = false;
    let n = 0;
    for (const c of this.changes) {
      if (c.irq !== irq) continue;
      if (c.level && !prev) n++;
      prev = c.level;
    }
    return n;
  }
}

/** Runs a timed device up to `untilNs` the way the scheduler would: fire at each deadline. */
export function runUntil(dev: { nextDeadlineNs(): number; fire(ns: number): void }, clock: FakeClock, untilNs: number): void {
  for (let guard = 0; guard < 1_000_000; guard++) {
    const d = dev.nextDeadlineNs();
    if (d > untilNs) break;
    clock.ns = Math.max(clock.ns, d);
    dev.fire(clock.ns);
  }
  clock.ns = untilNs;
}
