// Address lookup over [low, high) ranges that are sorted by start and may overlap (two
// copies of a function, discarded code left at a tombstone address, nested scopes).

export interface Ranged {
  low: number;
  high: number;
}

export class RangeIndex<T extends Ranged> {
  private readonly items: T[];
  /** maxHigh[i]: the largest `high` among items[0..i], so a backwards walk knows when to stop. */
  private readonly maxHigh: number[];

  constructor(items: Iterable<T>) {
    this.items = [...items].filter((r) => r.high > r.low).sort((a, b) => a.low - b.low || b.high - a.high);
    this.maxHigh = [];
    let m = -Infinity;
    for (const r of this.items) {
      m = Math.max(m, r.high);
      this.maxHigh.push(m);
    }
  }

  get size(): number {
    return this.items.length;
  }

  all(): readonly T[] {
    return this.items;
  }

  /** The containing range that starts last (the innermost, when ranges nest); null if none. */
  find(address: number): T | null {
    const last = this.lastStartingAtOrBefore(address);
    for (let i = last; i >= 0 && this.maxHigh[i] > address; i--) {
      if (this.items[i].high > address) return this.items[i];
    }
    return null;
  }

  /** Every range containing `address`, latest start first. */
  findAll(address: number): T[] {
    const out: T[] = [];
    for (let i = this.lastStartingAtOrBefore(address); i >= 0 && this.maxHigh[i] > address; i--) {
      if (this.items[i].high > address) out.push(this.items[i]);
    }
    return out;
  }

  private lastStartingAtOrBefore(address: number): number {
    let lo = 0;
    let hi = this.items.length - 1;
    let last = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.items[mid].low <= address) {
        last = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return last;
  }
}
