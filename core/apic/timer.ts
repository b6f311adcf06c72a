// The local APIC timer (SDM vol. 3, "APIC Timer" and "TSC-Deadline Mode"), described
// analytically from virtual time rather than stepped: the count is loaded at baseNs
// with baseCount and decrements once per `divisor` ns (the bus clock is 1 GHz, as in
// QEMU), so the current count and the next expiry follow from the time alone.
//
// Plain state only (snapshots copy the fields). The owning LocalApic passes the timer
// mode and mask from its LVT timer entry, and delivers the interrupt when expire()
// reports an expiry.
//
// Choices where the SDM is silent or QEMU differs:
//  - A one-shot or periodic count of N expires N * divisor ns after the write (the
//    count reaches zero); QEMU 7.2 expires one tick later ((N + 1) << shift).
//  - Any write to the LVT timer that changes the mode disarms the timer, as the SDM
//    says ("A write to the LVT Timer Register that changes the timer mode disarms the
//    local APIC timer"); QEMU keeps counting across one-shot <-> periodic. Entering
//    TSC-deadline mode also clears the initial count (as KVM does); leaving it clears
//    the deadline.
//  - A divide-configuration write while counting keeps the current count and counts
//    on at the new rate from the time of the write (QEMU recomputes from the load time).
//  - Expiries that pass while the scheduler is not asked (a coarse time step) collapse
//    into one interrupt: the IRR has one bit per vector anyway.
import { TIMER_ONE_SHOT, TIMER_PERIODIC, TIMER_TSC_DEADLINE, timerDivisor } from './registers';

export class ApicTimer {
  /** TIMER_ICR as written. */
  initialCount = 0;
  /** TIMER_DCR (bits 0, 1, 3). */
  dcr = 0;
  /** Counting in one-shot or periodic mode. */
  armed = false;
  /** Virtual time the count was (re)loaded, and the count loaded then. */
  baseNs = 0;
  baseCount = 0;
  /** Next expiry of the count (one-shot/periodic), Infinity when none. */
  nextNs = Infinity;
  /** TSC-deadline mode: the deadline in virtual ns, 0 when disarmed (IA32_TSC_DEADLINE reads 0). */
  deadlineNs = 0;

  reset(): void {
    this.initialCount = 0;
    this.dcr = 0;
    this.armed = false;
    this.baseNs = 0;
    this.baseCount = 0;
    this.nextNs = Infinity;
    this.deadlineNs = 0;
  }

  divisor(): number {
    return timerDivisor(this.dcr);
  }

  /** TIMER_CCR at `now`: always 0 in TSC-deadline mode and when stopped. */
  currentCount(now: number, mode: number): number {
    if (!this.armed || mode === TIMER_TSC_DEADLINE) return 0;
    const ticks = Math.floor((now - this.baseNs) / this.divisor());
    if (ticks < this.baseCount) return this.baseCount - ticks;
    if (mode !== TIMER_PERIODIC) return 0;
    return this.initialCount - ((ticks - this.baseCount) % this.initialCount);
  }

  /** TIMER_ICR write: (re)starts counting, 0 stops; ignored in TSC-deadline mode. */
  writeInitialCount(now: number, mode: number, value: number): void {
    if (mode === TIMER_TSC_DEADLINE) return;
    this.initialCount = value >>> 0;
    if (this.initialCount === 0) {
      this.armed = false;
      this.nextNs = Infinity;
      return;
    }
    this.armed = true;
    this.baseNs = now;
    this.baseCount = this.initialCount;
    this.nextNs = now + this.initialCount * this.divisor();
  }

  /** TIMER_DCR write: the count goes on from its current value at the new rate. */
  writeDivide(now: number, mode: number, value: number): void {
    const count = this.currentCount(now, mode);
    this.dcr = value & 0xb;
    if (!this.armed || count === 0) return;
    this.baseNs = now;
    this.baseCount = count;
    this.nextNs = now + count * this.divisor();
  }

  /** The LVT timer mode changed from `from` to `to`: the timer is disarmed. */
  changeMode(from: number, to: number): void {
    if (from === to) return;
    this.armed = false;
    this.nextNs = Infinity;
    this.deadlineNs = 0;
    if (to === TIMER_TSC_DEADLINE) this.initialCount = 0;
  }

  /** IA32_TSC_DEADLINE write (in ns): 0 disarms; ignored outside TSC-deadline mode. */
  writeDeadline(mode: number, ns: number): void {
    if (mode !== TIMER_TSC_DEADLINE) return;
    this.deadlineNs = ns > 0 ? ns : 0;
  }

  /** IA32_TSC_DEADLINE read (in ns): 0 when disarmed or outside TSC-deadline mode. */
  readDeadline(mode: number): number {
    return mode === TIMER_TSC_DEADLINE ? this.deadlineNs : 0;
  }

  /**
   * When the owner needs to be called next. A masked count needs no wake-up: its
   * current count is computed from time and its expiries deliver nothing (the owner
   * settles the timer before it unmasks). A TSC deadline fires even masked, because
   * it must clear IA32_TSC_DEADLINE at the deadline.
   */
  nextDeadline(mode: number, masked: boolean): number {
    if (mode === TIMER_TSC_DEADLINE) return this.deadlineNs > 0 ? this.deadlineNs : Infinity;
    if (!this.armed || masked) return Infinity;
    return this.nextNs;
  }

  /** Advances the timer to `now`; true if it expired at least once since the last call. */
  expire(now: number, mode: number): boolean {
    if (mode === TIMER_TSC_DEADLINE) {
      if (this.deadlineNs === 0 || this.deadlineNs > now) return false;
      this.deadlineNs = 0; // "When the timer generates an interrupt, it disarms itself and clears IA32_TSC_DEADLINE"
      return true;
    }
    if (!this.armed || this.nextNs > now) return false;
    if (mode === TIMER_PERIODIC) {
      const period = this.initialCount * this.divisor();
      this.nextNs += (Math.floor((now - this.nextNs) / period) + 1) * period;
    } else {
      this.armed = false;
      this.nextNs = Infinity;
    }
    return true;
  }
}

/** The LVT timer mode field; the reserved value 11b counts as one-shot. */
export function lvtTimerMode(lvtTimer: number): number {
  const m = (lvtTimer >>> 17) & 3;
  return m === 3 ? TIMER_ONE_SHOT : m;
}
