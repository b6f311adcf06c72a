// Intel 8254 programmable interval timer at ports 0x40-0x43 (Intel 82C54 datasheet,
// order no. 231244). Its 1.193182 MHz input clock is derived from virtual time, so
// counter values depend only on how much virtual time has passed. Channel 0's OUT
// drives IRQ 0; channel 2's GATE and OUT are wired to port 0x61 (misc-ports.ts).
//
// Each channel is described analytically by the tick at which its counting element
// (CE) was loaded, rather than by stepping each clock: counter values, OUT levels and
// the next OUT transition follow from the mode. The scheduler jumps over idle time
// using nextDeadlineNs(), which is the next transition of channel 0's OUT.
//
// Where QEMU 7.2 differs from the datasheet we follow the datasheet and say so:
//  - OUT polarity in modes 1, 2, 4, 5 (QEMU reports it inverted; the IRQ 0 rising
//    edges fall on the same ticks in mode 2, one tick earlier in mode 4);
//  - GATE low pauses modes 0 and 4 and forces OUT high in modes 2 and 3 (QEMU ignores
//    it there), so channel 2's OUT reads high at power-on with its gate low;
//  - a control word stops the counter until a count is written (QEMU keeps counting);
//  - status NULL COUNT is set from a count write until the CE is loaded (QEMU: always 0).
import { AccessSize, PortDevice } from '../memory/bus';
import { IrqLines, TimedDevice, VirtualClock } from './types';

export const PIT_PORT_BASE = 0x40;
export const PIT_PORT_CONTROL = 0x43;
export const PIT_IRQ = 0;
/** Input clock, Hz (the PC's 14.31818 MHz crystal divided by 12). */
export const PIT_HZ = 1193182;
const NS_PER_S = 1e9;

// Read/write access modes (control word bits 5-4).
export const RW_LATCH = 0;
export const RW_LSB = 1;
export const RW_MSB = 2;
export const RW_LSB_MSB = 3;

/** One counter's state: plain fields only (snapshots copy them). */
export class PitChannel {
  mode = 0;
  rwMode = 0;
  bcd = false;
  gate = true;
  /** The count register as last written, as a count of ticks (1..0x10000, or 1..10000 in BCD). */
  cr = 0x10000;
  /** A count was written since the last control word. */
  hasCount = false;
  /** The count the CE was loaded with. */
  count = 0x10000;
  /** Tick at which the CE was (or will be, one tick after a write) loaded with `count`. */
  loadTick = 0;
  /** The CE counts (or, with pausedElapsed >= 0, holds) a loaded count. */
  armed = false;
  /** Modes 0/4 with GATE low: ticks counted before the pause; -1 when counting. */
  pausedElapsed = -1;
  /** OUT when not armed. */
  idleOut = true;
  /** CE value when not armed (or before a pending load). */
  idleValue = 0;
  /** Modes 2/3: a count written while counting, loaded at switchTick (end of the period). */
  nextCount = -1;
  switchTick = Infinity;
  /** NULL COUNT is reported until this tick (Infinity: until a gate trigger loads it). */
  nullUntilTick = 0;
  /** lo/hi writes: 1 when the low byte has been written and the high byte is awaited. */
  writeHigh = 0;
  writeLow = 0;
  /** lo/hi reads of the live counter: 1 when the next byte read is the high byte. */
  readHigh = 0;
  /** Latched count (counter latch / read-back), -1 when none; bytes left to read in latchBytes. */
  latchedCount = -1;
  latchBytes = 0;
  latchHighNext = 0;
  /** Latched status byte, -1 when none. */
  latchedStatus = -1;
}

export class Pit implements PortDevice, TimedDevice {
  readonly name = 'i8254-pit';
  readonly channels = [new PitChannel(), new PitChannel(), new PitChannel()];
  /** Level driven on IRQ 0. */
  irqLevel = false;
  /** Tick up to which channel 0's OUT has been reflected on IRQ 0. */
  irqTick = 0;

  constructor(private readonly irqLines: IrqLines, private readonly clock: VirtualClock) {
    // As SeaBIOS leaves it: channel 0 in mode 2, lo/hi, count 65536 (18.2 Hz), counting
    // since power-on; channels 1 and 2 in mode 3 with count 65536 from QEMU's reset, with
    // access mode 0 as QEMU reports it; channel 2's gate is low (port 0x61 bit 0).
    const [c0, c1, c2] = this.channels;
    c0.mode = 2; c0.rwMode = RW_LSB_MSB; c0.armed = true; c0.hasCount = true;
    c1.mode = 3; c1.armed = true; c1.hasCount = true;
    c2.mode = 3; c2.hasCount = true; c2.gate = false; c2.idleValue = 0;
    this.irqLevel = this.out(0, 0);
  }

  // ---- time ----

  /** Input clock ticks elapsed at `ns` (exact for any ns below 2^53). */
  static ticksAt(ns: number): number {
    const s = Math.floor(ns / NS_PER_S);
    return s * PIT_HZ + Math.floor(((ns - s * NS_PER_S) * PIT_HZ) / NS_PER_S);
  }

  /** The first nanosecond at which `tick` ticks have elapsed. */
  static nsOfTick(tick: number): number {
    const q = Math.floor(tick / PIT_HZ);
    return q * NS_PER_S + Math.ceil(((tick - q * PIT_HZ) * NS_PER_S) / PIT_HZ);
  }

  private tick(): number {
    return Pit.ticksAt(this.clock.nowNs());
  }

  // ---- PortDevice ----

  portRead(port: number, size: AccessSize): number {
    this.deadlineValid = false;
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.readByte((port + i) & 3) << (8 * i);
    return v >>> 0;
  }

  portWrite(port: number, size: AccessSize, value: number): void {
    this.deadlineValid = false;
    for (let i = 0; i < size; i++) this.writeByte((port + i) & 3, (value >>> (8 * i)) & 0xff);
  }

  private readByte(reg: number): number {
    if (reg === 3) return 0; // the control register is write-only; QEMU reads 0
    const c = this.channels[reg];
    const tick = this.tick();
    this.sync(c, tick);
    if (c.latchedStatus >= 0) {
      const s = c.latchedStatus;
      c.latchedStatus = -1;
      return s;
    }
    if (c.latchBytes > 0) {
      const v = this.latchByte(c);
      if (--c.latchBytes === 0) c.latchedCount = -1;
      return v;
    }
    const value = this.registerValue(c, tick);
    switch (c.rwMode) {
      case RW_MSB:
        return value >>> 8;
      case RW_LSB_MSB: {
        const high = c.readHigh;
        c.readHigh ^= 1;
        return high ? value >>> 8 : value & 0xff;
      }
      default:
        return value & 0xff;
    }
  }

  private latchByte(c: PitChannel): number {
    if (c.rwMode === RW_MSB) return c.latchedCount >>> 8;
    if (c.rwMode === RW_LSB_MSB) {
      const high = c.latchHighNext;
      c.latchHighNext ^= 1;
      return high ? c.latchedCount >>> 8 : c.latchedCount & 0xff;
    }
    return c.latchedCount & 0xff;
  }

  private writeByte(reg: number, v: number): void {
    const tick = this.tick();
    // Deliver what channel 0 did under its old programming before changing it.
    this.updateIrq(tick);
    if (reg === 3) {
      this.writeControl(v, tick);
    } else {
      const c = this.channels[reg];
      this.sync(c, tick);
      switch (c.rwMode) {
        case RW_MSB:
          this.writeCount(reg, v << 8, tick);
          break;
        case RW_LSB_MSB:
          if (c.writeHigh === 0) {
            c.writeLow = v;
            c.writeHigh = 1;
            // Mode 0: writing the first byte stops counting and sets OUT low (datasheet, mode 0).
            if (c.mode === 0) {
              c.idleValue = this.ceValue(c, tick);
              c.armed = false;
              c.idleOut = false;
            }
          } else {
            c.writeHigh = 0;
            this.writeCount(reg, c.writeLow | (v << 8), tick);
          }
          break;
        default:
          this.writeCount(reg, v, tick);
      }
    }
    this.updateIrq(tick);
  }

  private writeControl(v: number, tick: number): void {
    const sc = v >>> 6;
    if (sc === 3) {
      // Read-back command: bit 5 clear latches counts, bit 4 clear latches status, bits 3-1 pick counters.
      for (let i = 0; i < 3; i++) {
        if (!(v & (2 << i))) continue;
        const c = this.channels[i];
        this.sync(c, tick);
        if (!(v & 0x20)) this.latchCount(c, tick);
        if (!(v & 0x10) && c.latchedStatus < 0) c.latchedStatus = this.status(i, tick);
      }
      return;
    }
    const c = this.channels[sc];
    this.sync(c, tick);
    const rw = (v >>> 4) & 3;
    if (rw === RW_LATCH) {
      this.latchCount(c, tick);
      return;
    }
    // A control word resets the counter's logic: counting stops until a count is
    // written, OUT goes low in mode 0 and high in the others (datasheet, "Write operations").
    c.idleValue = this.ceValue(c, tick);
    c.rwMode = rw;
    c.mode = (v >>> 1) & 7;
    if (c.mode > 5) c.mode -= 4; // 110 and 111 are modes 2 and 3
    c.bcd = (v & 1) !== 0;
    c.armed = false;
    c.pausedElapsed = -1;
    c.hasCount = false;
    c.nextCount = -1;
    c.switchTick = Infinity;
    c.idleOut = c.mode !== 0;
    c.writeHigh = 0;
    c.readHigh = 0;
    c.latchedCount = -1;
    c.latchBytes = 0;
    c.latchedStatus = -1;
  }

  private latchCount(c: PitChannel, tick: number): void {
    if (c.latchBytes > 0) return; // a latched count is held until read
    c.latchedCount = this.registerValue(c, tick);
    c.latchBytes = c.rwMode === RW_LSB_MSB ? 2 : 1;
    c.latchHighNext = 0;
  }

  /** Loads a written count (raw register value) into channel `index` as its mode requires. */
  private writeCount(index: number, raw: number, tick: number): void {
    const c = this.channels[index];
    const n = c.bcd ? fromBcd(raw) || 10000 : raw || 0x10000;
    c.cr = n;
    c.hasCount = true;
    switch (c.mode) {
      case 0:
      case 4:
        // Loaded on the next clock; counting restarts from the new count.
        c.idleValue = this.ceValue(c, tick);
        c.count = n;
        c.loadTick = tick + 1;
        c.armed = true;
        c.pausedElapsed = c.gate ? -1 : 0;
        c.nullUntilTick = tick + 1;
        break;
      case 1:
      case 5:
        // Waits for a GATE trigger; a count written during a one-shot does not disturb it.
        c.nullUntilTick = Infinity;
        break;
      default: // 2, 3
        if (c.armed && c.gate && tick >= c.loadTick) {
          // Counting: the new count takes effect at the end of the current period.
          const d = tick - c.loadTick;
          c.nextCount = n;
          c.switchTick = c.loadTick + (Math.floor(d / c.count) + 1) * c.count;
          c.nullUntilTick = c.switchTick;
        } else {
          c.idleValue = this.ceValue(c, tick);
          c.count = n;
          c.nextCount = -1;
          c.switchTick = Infinity;
          c.loadTick = tick + 1;
          c.armed = c.gate;
          c.idleOut = true;
          c.nullUntilTick = c.gate ? tick + 1 : Infinity;
        }
    }
  }

  /** Channel 2's gate is port 0x61 bit 0; channels 0 and 1 have theirs tied high. */
  setGate(index: number, level: boolean): void {
    this.deadlineValid = false;
    const c = this.channels[index];
    if (c.gate === level) return;
    const tick = this.tick();
    this.updateIrq(tick);
    this.sync(c, tick);
    if (level) {
      switch (c.mode) {
        case 0:
        case 4:
          if (c.armed && c.pausedElapsed >= 0) {
            c.loadTick = tick - c.pausedElapsed;
            c.pausedElapsed = -1;
          }
          break;
        default:
          // Modes 1, 5 trigger and modes 2, 3 restart: the count is loaded on the next clock.
          if (c.hasCount) {
            c.idleValue = this.ceValue(c, tick);
            c.count = c.cr;
            c.nextCount = -1;
            c.switchTick = Infinity;
            c.loadTick = tick + 1;
            c.armed = true;
            c.nullUntilTick = tick + 1;
          }
      }
    } else {
      switch (c.mode) {
        case 0:
        case 4:
          if (c.armed && c.pausedElapsed < 0) c.pausedElapsed = Math.max(0, tick - c.loadTick);
          break;
        case 2:
        case 3:
          // GATE low stops counting and forces OUT high at once.
          c.idleValue = this.ceValue(c, tick);
          c.armed = false;
          c.idleOut = true;
          break;
        default:
          break; // modes 1, 5: only the rising edge matters
      }
    }
    c.gate = level;
    this.updateIrq(tick);
  }

  // ---- channel arithmetic ----

  /** Applies a pending mode 2/3 count once its reload tick has passed. */
  private sync(c: PitChannel, tick: number): void {
    if (c.nextCount >= 0 && tick >= c.switchTick) {
      c.loadTick = c.switchTick;
      c.count = c.nextCount;
      c.nextCount = -1;
      c.switchTick = Infinity;
    }
  }

  /** Ticks counted since the CE was loaded; negative before the load, -Infinity when not armed. */
  private elapsed(c: PitChannel, tick: number): number {
    if (!c.armed) return -Infinity;
    if (c.pausedElapsed >= 0) return c.pausedElapsed;
    return tick - c.loadTick;
  }

  /** OUT of channel `index` at `tick` (after sync). */
  out(index: number, tick: number): boolean {
    const c = this.channels[index];
    const d = this.elapsed(c, tick);
    if (d === -Infinity) return c.idleOut;
    const n = c.count;
    switch (c.mode) {
      case 0: return d >= n;
      case 1: return d < 0 || d >= n;
      case 2: return d < 0 || d % n !== n - 1;
      case 3: return d < 0 || d % n < Math.ceil(n / 2);
      default: return d !== n; // 4, 5: low for the one clock at which the count reaches 0
    }
  }

  /** Counting element contents at `tick`, as a number of ticks (0..0x10000). */
  private ceValue(c: PitChannel, tick: number): number {
    this.sync(c, tick);
    const d = this.elapsed(c, tick);
    if (d < 0) return c.idleValue;
    const n = c.count;
    const wrap = c.bcd ? 10000 : 0x10000;
    switch (c.mode) {
      case 2:
        return n - (d % n);
      case 3: {
        // Decrements by two; OUT high for ceil(n/2) clocks, low for floor(n/2).
        const p = d % n;
        const hi = Math.ceil(n / 2);
        return (n & ~1) - 2 * (p < hi ? p : p - hi);
      }
      default:
        return (((n - d) % wrap) + wrap) % wrap;
    }
  }

  /** The counter value as the guest reads it: 16 bits, or 4 BCD digits. */
  private registerValue(c: PitChannel, tick: number): number {
    const v = this.ceValue(c, tick);
    return c.bcd ? toBcd(v % 10000) : v & 0xffff;
  }

  /** Read-back status byte: OUT, NULL COUNT, RW1-0, M2-M0, BCD (datasheet figure 8). */
  status(index: number, tick: number): number {
    const c = this.channels[index];
    return (this.out(index, tick) ? 0x80 : 0) | (tick < c.nullUntilTick ? 0x40 : 0)
      | (c.rwMode << 4) | (c.mode << 1) | (c.bcd ? 1 : 0);
  }

  /** The first tick after `tick` at which channel `index`'s OUT changes; Infinity if never. */
  nextTransition(index: number, tick: number): number {
    const c = this.channels[index];
    if (!c.armed || c.pausedElapsed >= 0) return Infinity;
    const n = c.count;
    const base = c.loadTick;
    let t = Infinity;
    switch (c.mode) {
      case 0:
      case 1:
        t = base + n > tick ? base + n : Infinity;
        break;
      case 4:
      case 5:
        t = base + n > tick ? base + n : base + n + 1 > tick ? base + n + 1 : Infinity;
        break;
      case 2:
      case 3: {
        const low = c.mode === 2 ? 1 : Math.floor(n / 2); // clocks per period with OUT low
        if (low === 0 || low === n) break; // OUT never changes
        const fall = n - low;
        const d = tick - base;
        const k = d < 0 ? 0 : Math.floor(d / n);
        const start = base + k * n;
        t = start + fall > tick ? start + fall : start + n;
        break;
      }
    }
    return Math.min(t, c.switchTick > tick ? c.switchTick : Infinity);
  }

  /** Port 0x61 bit 5. */
  out2(): boolean {
    const tick = this.tick();
    this.sync(this.channels[2], tick);
    return this.out(2, tick);
  }

  // ---- IRQ 0 ----

  /**
   * nextDeadlineNs() as last computed, while deadlineValid: it depends only on channel 0 and
   * irqTick, which change only in the methods that clear deadlineValid (port accesses, the
   * gate, fire). The scheduler asks twice per round; this is the costly one of its devices.
   */
  private deadlineNs = Infinity;
  private deadlineValid = false;

  nextDeadlineNs(): number {
    if (this.deadlineValid) return this.deadlineNs;
    const t = this.nextTransition(0, this.irqTick);
    this.deadlineNs = t === Infinity ? Infinity : Pit.nsOfTick(t);
    this.deadlineValid = true;
    return this.deadlineNs;
  }

  fire(nowNs: number): void {
    this.deadlineValid = false;
    this.updateIrq(Pit.ticksAt(nowNs));
  }

  /**
   * Reflects channel 0's OUT on IRQ 0 at `tick`. If OUT rose since the last update but
   * is low again (the scheduler stepped over a short high or low phase), the rising edge
   * is still delivered as a pulse, so no timer interrupt is lost to a coarse time step.
   */
  private updateIrq(tick: number): void {
    const c = this.channels[0];
    let rose = false;
    for (let t = this.nextTransition(0, this.irqTick), i = 0; t <= tick && i < 3; i++) {
      this.sync(c, t);
      if (this.out(0, t)) { rose = true; break; }
      t = this.nextTransition(0, t);
    }
    this.sync(c, tick);
    const level = this.out(0, tick);
    if (rose) {
      if (this.irqLevel) this.irqLines.setIrq(PIT_IRQ, false);
      this.irqLines.setIrq(PIT_IRQ, true);
      this.irqLevel = true;
    }
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irqLines.setIrq(PIT_IRQ, level);
    }
    this.irqTick = Math.max(this.irqTick, tick);
  }
}

function fromBcd(v: number): number {
  return ((v >> 12) & 0xf) * 1000 + ((v >> 8) & 0xf) * 100 + ((v >> 4) & 0xf) * 10 + (v & 0xf);
}

function toBcd(v: number): number {
  return ((Math.floor(v / 1000) % 10) << 12) | ((Math.floor(v / 100) % 10) << 8) | ((Math.floor(v / 10) % 10) << 4) | (v % 10);
}
