// MC146818A real-time clock and CMOS RAM at ports 0x70 (index) / 0x71 (data), IRQ 8
// (Motorola MC146818A datasheet; initial contents as QEMU 7.2 + SeaBIOS leave them,
// checked with probes/probe.c at several -m/-smp).
//
// The clock starts at a fixed, configurable date (default 2026-01-01 00:00:00 UTC) at
// virtual time 0 and advances with virtual time only, so every run reads the same
// dates. Time registers are computed when read; the flags in register C (PF, UF, AF)
// are computed lazily from the boundaries crossed since C was last read, and the
// scheduler is only asked to wake the RTC when an enabled flag will raise IRQ 8.
import { AccessSize, PortDevice } from '../memory/bus';
import { IrqLines, TimedDevice, VirtualClock } from './types';

export const CMOS_PORT_INDEX = 0x70;
export const CMOS_PORT_DATA = 0x71;
export const RTC_IRQ = 8;

export const RTC_SECONDS = 0x00;
export const RTC_SECONDS_ALARM = 0x01;
export const RTC_MINUTES = 0x02;
export const RTC_MINUTES_ALARM = 0x03;
export const RTC_HOURS = 0x04;
export const RTC_HOURS_ALARM = 0x05;
export const RTC_DAY_OF_WEEK = 0x06;
export const RTC_DAY_OF_MONTH = 0x07;
export const RTC_MONTH = 0x08;
export const RTC_YEAR = 0x09;
export const RTC_REG_A = 0x0a;
export const RTC_REG_B = 0x0b;
export const RTC_REG_C = 0x0c;
export const RTC_REG_D = 0x0d;
export const CMOS_CENTURY = 0x32;

export const REG_A_UIP = 0x80;
export const REG_B_SET = 0x80;
export const REG_B_PIE = 0x40;
export const REG_B_AIE = 0x20;
export const REG_B_UIE = 0x10;
export const REG_B_DM = 0x04;   // binary (not BCD) data mode
export const REG_B_24H = 0x02;
export const REG_C_IRQF = 0x80;
export const REG_C_PF = 0x40;
export const REG_C_AF = 0x20;
export const REG_C_UF = 0x10;
export const REG_D_VRT = 0x80;

const NS_PER_S = 1e9;
/** The update cycle takes 244 us before each second boundary: UIP is set then (datasheet, "UIP"). */
export const UIP_HOLD_NS = 244140;
const RTC_HZ = 32768;
const SECONDS_PER_DAY = 86400;

/** 2026-01-01 00:00:00 UTC. */
export const DEFAULT_RTC_EPOCH_MS = Date.UTC(2026, 0, 1, 0, 0, 0);

export interface CmosOptions {
  irqLines: IrqLines;
  clock: VirtualClock;
  vcpus: number;
  ramBytes: number;
  /** The date the clock shows at virtual time 0, in milliseconds since 1970 (UTC). */
  epochMs?: number;
}

export class Cmos implements PortDevice, TimedDevice {
  readonly name = 'mc146818-rtc';
  /** The 128 bytes of the chip: clock registers 0x00-0x0D and CMOS RAM. */
  readonly data = new Uint8Array(128);
  /** Selected byte (index port bits 0-6). */
  index = 0;
  /** Index port bit 7: NMI disabled (routed to the CPU's NMI gate on a PC; remembered here). */
  nmiDisabled = false;
  /** The RTC time, whole seconds since 1970, at secondStartNs. */
  baseSeconds = 0;
  /** Virtual time when the second baseSeconds began; fixes the sub-second phase. */
  secondStartNs = 0;
  /** Time registers hold a frozen time (SET mode or divider reset): nothing counts. */
  frozen = false;
  /** Flags of register C already latched (PF/AF/UF), not counting those due since flagsSinceNs. */
  latchedFlags = 0;
  /** Lazily computed flags cover boundaries crossed after this time. */
  flagsSinceNs = 0;
  /** Level driven on IRQ 8 (register C IRQF). */
  irqLevel = false;

  private readonly irqLines: IrqLines;
  private readonly clock: VirtualClock;

  constructor(opts: CmosOptions) {
    this.irqLines = opts.irqLines;
    this.clock = opts.clock;
    this.baseSeconds = Math.floor((opts.epochMs ?? DEFAULT_RTC_EPOCH_MS) / 1000);
    const d = this.data;
    d[RTC_REG_A] = 0x26; // 32.768 kHz time base, 1024 Hz periodic rate
    d[RTC_REG_B] = REG_B_24H; // BCD, 24-hour, no interrupts
    d[RTC_REG_D] = REG_D_VRT;
    d[0x14] = 0x06; // equipment: FPU present, PS/2 mouse; no floppy, no display (-nodefaults)
    setWord(d, 0x15, 640); // base memory in KiB
    const kib = Math.floor(opts.ramBytes / 1024);
    const extended = Math.min(Math.max(kib - 1024, 0), 0xffff); // KiB above 1 MiB, capped
    setWord(d, 0x17, extended);
    setWord(d, 0x30, extended);
    const above16 = opts.ramBytes > 16 * 1024 * 1024 ? Math.min(Math.floor((kib - 16 * 1024) / 64), 0xffff) : 0;
    setWord(d, 0x34, above16); // 64 KiB units between 16 MiB and 4 GiB
    // 0x5B-0x5D (64 KiB units above 4 GiB) stay 0: RAM ends below 3 GiB.
    d[0x37] = 0x20; // PS/2 century byte, BCD, set once at power-on
    d[0x38] = 0x30; // boot order third device (CD-ROM) | boot signature check on
    d[0x3d] = 0x12; // boot order: hard disk, then floppy (QEMU's default "cad")
    d[0x5f] = (opts.vcpus - 1) & 0xff; // number of CPUs - 1, truncated to a byte as QEMU does
    this.encodeTime(this.baseSeconds);
  }

  // ---- PortDevice ----

  portRead(port: number, size: AccessSize): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.readByte(port + i) << (8 * i);
    return v >>> 0;
  }

  portWrite(port: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) this.writeByte(port + i, (value >>> (8 * i)) & 0xff);
  }

  private readByte(port: number): number {
    if ((port & 1) === 0) return 0xff; // the index register is write-only (QEMU reads 0xFF)
    return this.readRegister(this.index);
  }

  private writeByte(port: number, v: number): void {
    if ((port & 1) === 0) {
      this.index = v & 0x7f;
      this.nmiDisabled = (v & 0x80) !== 0;
    } else {
      this.writeRegister(this.index, v);
    }
  }

  /** Reads CMOS byte `reg` as the guest would through port 0x71 (with side effects). */
  readRegister(reg: number): number {
    const now = this.clock.nowNs();
    switch (reg) {
      case RTC_SECONDS: case RTC_MINUTES: case RTC_HOURS: case RTC_DAY_OF_WEEK:
      case RTC_DAY_OF_MONTH: case RTC_MONTH: case RTC_YEAR: case CMOS_CENTURY:
        if (!this.frozen) this.encodeTime(this.secondsAt(now));
        return this.data[reg];
      case RTC_REG_A:
        return (this.data[RTC_REG_A] & 0x7f) | (this.updateInProgress(now) ? REG_A_UIP : 0);
      case RTC_REG_C: {
        // Reading C returns and clears every flag and drops IRQ 8 (datasheet, "Register C").
        this.syncFlags(now);
        const v = this.latchedFlags | (this.irqf() ? REG_C_IRQF : 0);
        this.latchedFlags = 0;
        this.updateIrq();
        return v;
      }
      case RTC_REG_D:
        return REG_D_VRT; // the battery is always good
      default:
        return this.data[reg];
    }
  }

  /** Writes CMOS byte `reg` as the guest would through port 0x71. */
  writeRegister(reg: number, v: number): void {
    const now = this.clock.nowNs();
    switch (reg) {
      case RTC_SECONDS: case RTC_MINUTES: case RTC_HOURS: case RTC_DAY_OF_WEEK:
      case RTC_DAY_OF_MONTH: case RTC_MONTH: case RTC_YEAR: case CMOS_CENTURY:
        if (!this.frozen) this.encodeTime(this.secondsAt(now));
        this.data[reg] = v;
        // While the clock runs, a write sets the time at once (keeping the sub-second phase).
        if (!this.frozen) this.restart(now, this.phaseAt(now));
        return;
      case RTC_REG_A:
        this.writeRegA(now, v);
        return;
      case RTC_REG_B:
        this.writeRegB(now, v);
        return;
      case RTC_REG_C:
      case RTC_REG_D:
        return; // read-only
      default:
        this.data[reg] = v;
    }
  }

  // ---- TimedDevice ----

  nextDeadlineNs(): number {
    if (this.irqLevel) return Infinity; // IRQ 8 stays high until C is read: no new edge possible
    const b = this.data[RTC_REG_B];
    let next = Infinity;
    const period = this.periodCycles();
    if ((b & REG_B_PIE) && period > 0) {
      const now = this.flagsSinceNs;
      next = Math.min(next, cycleToNs((Math.floor(nsToCycles(now) / period) + 1) * period));
    }
    if ((b & (REG_B_UIE | REG_B_AIE)) && !this.frozen) {
      const elapsed = this.flagsSinceNs - this.secondStartNs;
      next = Math.min(next, this.secondStartNs + (Math.floor(elapsed / NS_PER_S) + 1) * NS_PER_S);
    }
    return next;
  }

  fire(nowNs: number): void {
    this.syncFlags(nowNs);
    this.updateIrq();
  }

  // ---- time ----

  /** RTC time in whole seconds since 1970 at virtual time `now`. */
  secondsAt(now: number): number {
    if (this.frozen) return this.baseSeconds;
    return this.baseSeconds + Math.floor((now - this.secondStartNs) / NS_PER_S);
  }

  /** The date the clock shows now (for the debugger and tests). */
  now(): Date {
    if (!this.frozen) return new Date(this.secondsAt(this.clock.nowNs()) * 1000);
    return new Date(this.decodeTime() * 1000);
  }

  private phaseAt(now: number): number {
    return ((now - this.secondStartNs) % NS_PER_S + NS_PER_S) % NS_PER_S;
  }

  private running(): boolean {
    // SET stops updates; divider values above 010 are reset or test modes (datasheet table 3).
    return (this.data[RTC_REG_B] & REG_B_SET) === 0 && (this.data[RTC_REG_A] & 0x70) <= 0x20;
  }

  private updateInProgress(now: number): boolean {
    return !this.frozen && this.phaseAt(now) >= NS_PER_S - UIP_HOLD_NS;
  }

  /** Takes the time from the registers and starts counting with the given sub-second phase. */
  private restart(now: number, phaseNs: number): void {
    this.syncFlags(now);
    this.baseSeconds = this.decodeTime();
    this.secondStartNs = now - phaseNs;
    this.frozen = false;
  }

  /** Stops counting with the current time in the registers. */
  private freeze(now: number): void {
    this.syncFlags(now);
    if (!this.frozen) {
      this.baseSeconds = this.secondsAt(now);
      this.encodeTime(this.baseSeconds);
      // Keep the divider phase: leaving SET mode resumes mid-second, as the chain keeps running.
      this.secondStartNs = now - this.phaseAt(now);
    }
    this.frozen = true;
  }

  private writeRegA(now: number, v: number): void {
    const old = this.data[RTC_REG_A];
    this.syncFlags(now);
    const wasRunning = this.running();
    this.data[RTC_REG_A] = v & 0x7f; // UIP is read-only
    if ((v & 0x60) === 0x60) {
      if (wasRunning) this.freeze(now);
    } else if ((old & 0x60) === 0x60 && (v & 0x70) <= 0x20 && !(this.data[RTC_REG_B] & REG_B_SET)) {
      // Leaving divider reset: the first update comes half a second later (datasheet, "DV2-DV0").
      this.restart(now, NS_PER_S / 2);
    }
    this.flagsSinceNs = now; // a new periodic rate counts from here
    this.updateIrq();
  }

  private writeRegB(now: number, v: number): void {
    this.syncFlags(now);
    const old = this.data[RTC_REG_B];
    if (v & REG_B_SET) {
      // SET: updates stop and UIE is cleared (datasheet, "SET").
      v &= ~REG_B_UIE;
      if (!this.frozen) this.freeze(now);
    }
    if (!(v & REG_B_SET) && (old & REG_B_SET)) {
      // The registers were (re)written in the old data mode; decode them with it.
      if ((this.data[RTC_REG_A] & 0x70) <= 0x20) this.restart(now, this.phaseAt(now));
    }
    // Switching BCD/binary or 12/24 h re-encodes the time registers on the next read
    // while running; frozen registers keep their bytes, as on the chip.
    this.data[RTC_REG_B] = v;
    this.updateIrq();
  }

  /** Latches PF, UF and AF for every boundary crossed in (flagsSinceNs, now]. */
  private syncFlags(now: number): void {
    const since = this.flagsSinceNs;
    if (now <= since) return;
    const period = this.periodCycles();
    if (period > 0 && Math.floor(nsToCycles(now) / period) > Math.floor(nsToCycles(since) / period)) {
      this.latchedFlags |= REG_C_PF;
    }
    if (!this.frozen) {
      const from = this.secondsAt(since);
      const to = this.secondsAt(now);
      if (to > from) {
        this.latchedFlags |= REG_C_UF;
        if (!(this.latchedFlags & REG_C_AF) && this.alarmMatchesIn(from + 1, to)) this.latchedFlags |= REG_C_AF;
      }
    }
    this.flagsSinceNs = now;
  }

  /** True when an update to any second in [first, last] matches the alarm registers. */
  private alarmMatchesIn(first: number, last: number): boolean {
    const start = Math.max(first, last - SECONDS_PER_DAY);
    for (let s = start; s <= last; s++) {
      const sod = ((s % SECONDS_PER_DAY) + SECONDS_PER_DAY) % SECONDS_PER_DAY;
      if (this.alarmField(RTC_SECONDS_ALARM, this.toReg(sod % 60))
        && this.alarmField(RTC_MINUTES_ALARM, this.toReg(Math.floor(sod / 60) % 60))
        && this.alarmField(RTC_HOURS_ALARM, this.encodeHour(Math.floor(sod / 3600)))) return true;
    }
    return false;
  }

  /** An alarm byte with its two top bits set is "don't care" (datasheet, "alarm"). */
  private alarmField(reg: number, value: number): boolean {
    const a = this.data[reg];
    return (a & 0xc0) === 0xc0 || a === value;
  }

  /** Periodic interrupt period in 32.768 kHz cycles from RS3-RS0, 0 when off (datasheet table 4). */
  private periodCycles(): number {
    if ((this.data[RTC_REG_A] & 0x60) === 0x60) return 0;
    let rate = this.data[RTC_REG_A] & 0x0f;
    if (rate === 0) return 0;
    if (rate <= 2) rate += 7; // rates 1 and 2 repeat 8 and 9 with the 32.768 kHz time base
    return 1 << (rate - 1);
  }

  private irqf(): boolean {
    return (this.latchedFlags & this.data[RTC_REG_B] & (REG_C_PF | REG_C_AF | REG_C_UF)) !== 0;
  }

  private updateIrq(): void {
    const level = this.irqf();
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irqLines.setIrq(RTC_IRQ, level);
    }
  }

  // ---- register encoding ----

  private toReg(v: number): number {
    return this.data[RTC_REG_B] & REG_B_DM ? v : ((Math.floor(v / 10) << 4) | (v % 10));
  }

  private fromReg(v: number): number {
    return this.data[RTC_REG_B] & REG_B_DM ? v : ((v >> 4) * 10 + (v & 0x0f));
  }

  private encodeHour(h: number): number {
    if (this.data[RTC_REG_B] & REG_B_24H) return this.toReg(h);
    // 12-hour mode: 12 for midnight and noon, bit 7 for PM.
    return this.toReg(h % 12 === 0 ? 12 : h % 12) | (h >= 12 ? 0x80 : 0);
  }

  private encodeTime(seconds: number): void {
    const t = new Date(seconds * 1000);
    const d = this.data;
    d[RTC_SECONDS] = this.toReg(t.getUTCSeconds());
    d[RTC_MINUTES] = this.toReg(t.getUTCMinutes());
    d[RTC_HOURS] = this.encodeHour(t.getUTCHours());
    d[RTC_DAY_OF_WEEK] = this.toReg(t.getUTCDay() + 1); // 1 = Sunday
    d[RTC_DAY_OF_MONTH] = this.toReg(t.getUTCDate());
    d[RTC_MONTH] = this.toReg(t.getUTCMonth() + 1);
    d[RTC_YEAR] = this.toReg(t.getUTCFullYear() % 100);
    d[CMOS_CENTURY] = this.toReg(Math.floor(t.getUTCFullYear() / 100));
  }

  private decodeTime(): number {
    const d = this.data;
    let hour = this.fromReg(d[RTC_HOURS] & 0x7f);
    if (!(d[RTC_REG_B] & REG_B_24H)) {
      hour %= 12;
      if (d[RTC_HOURS] & 0x80) hour += 12;
    }
    const year = this.fromReg(d[CMOS_CENTURY]) * 100 + this.fromReg(d[RTC_YEAR]);
    const ms = Date.UTC(year, this.fromReg(d[RTC_MONTH]) - 1, this.fromReg(d[RTC_DAY_OF_MONTH]),
      hour, this.fromReg(d[RTC_MINUTES]), this.fromReg(d[RTC_SECONDS]));
    return Number.isFinite(ms) ? Math.floor(ms / 1000) : this.baseSeconds;
  }
}

function setWord(d: Uint8Array, at: number, v: number): void {
  d[at] = v & 0xff;
  d[at + 1] = (v >>> 8) & 0xff;
}

/** Whole 32.768 kHz cycles elapsed at `ns` (split to stay exact in doubles). */
function nsToCycles(ns: number): number {
  const s = Math.floor(ns / NS_PER_S);
  return s * RTC_HZ + Math.floor(((ns - s * NS_PER_S) * RTC_HZ) / NS_PER_S);
}

/** The first nanosecond at which `cycles` cycles have elapsed. */
function cycleToNs(cycles: number): number {
  const q = Math.floor(cycles / RTC_HZ);
  return q * NS_PER_S + Math.ceil(((cycles - q * RTC_HZ) * NS_PER_S) / RTC_HZ);
}
