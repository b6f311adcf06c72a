// The deterministic scheduler: one thread runs every vCPU in turn, in quanta of
// instructions, in an order drawn from a seeded PRNG each round. Virtual time advances
// with retired instructions; when every vCPU is halted, it jumps to the next timer
// deadline. Same image + config + seed = the same interleaving, every run.

/** mulberry32: small, fast, good enough to order vCPUs; its whole state is one number. */
export class SeededRandom {
  constructor(public state: number) {}
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Fisher-Yates shuffle in place. */
  shuffle<T>(a: T[]): T[] {
    for (let k = a.length - 1; k > 0; k--) {
      const j = Math.floor(this.next() * (k + 1));
      const t = a[k]; a[k] = a[j]; a[j] = t;
    }
    return a;
  }
}

/** Virtual time: nanoseconds since power-on. */
export class VirtualTime {
  /** Start of the current round. */
  roundStartNs = 0;
  /** The vCPU running now (its retired-instruction count) and its count when the round began. */
  running: { instret: number } | null = null;
  runningStart = 0;
  constructor(readonly nsPerInstruction: number) {}
  /** Round start plus the running vCPU's own progress within the round. */
  nowNs(): number {
    const r = this.running;
    return r === null ? this.roundStartNs : this.roundStartNs + (r.instret - this.runningStart) * this.nsPerInstruction;
  }
}
