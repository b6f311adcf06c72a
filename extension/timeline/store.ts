// The timeline's rows in typed-array columns: hundreds of thousands of events cost a few
// bytes each, and the renderer finds the visible ones by binary search on time. Pure and
// DOM-free; the extension keeps one per session (to replay into a newly opened panel) and
// the webview keeps its own copy to draw from.
import { EncodedBatch, KIND, MODE, emptyBatch } from './encoding';

/** Rows kept at most; later ones are counted in `overflow` and not drawn. */
export const MAX_ROWS = 4_000_000;

export interface RendezvousSpan {
  begin: number;
  /** Row of the end, or -1 while in progress. */
  end: number;
  /** Lanes covered. */
  lo: number;
  hi: number;
}

export class TimelineStore {
  count = 0;
  overflow = 0;
  vcpus = 0;
  time = new Float64Array(1024);
  vcpu = new Int32Array(1024);
  kind = new Uint8Array(1024);
  vector = new Int32Array(1024);
  mode = new Int32Array(1024);
  target = new Int32Array(1024);
  label = new Int32Array(1024);
  /** For arrival rows: the send row they answer; else -1. */
  linkFrom = new Int32Array(1024);
  /** For send rows: how many arrivals were paired with it. */
  arrivals = new Uint16Array(1024);
  labels: string[] = [];
  /** Per lane: the rows of its state changes, in time order. */
  stateRows: number[][] = [];
  spans: RendezvousSpan[] = [];
  /** Rows that must be drawn even when the view samples (lost IPIs, INIT/SIPI, invariants, stops), in time order. */
  notable: number[] = [];
  private openSpan = -1;

  append(b: EncodedBatch): void {
    if (b.first !== this.count + this.overflow) {
      throw new Error(`timeline batch starts at row ${b.first}, expected ${this.count + this.overflow}`);
    }
    this.labels.push(...b.labels);
    this.vcpus = Math.max(this.vcpus, b.vcpus);
    while (this.stateRows.length < this.vcpus) this.stateRows.push([]);
    const n = Math.min(b.time.length, MAX_ROWS - this.count);
    this.overflow += b.time.length - n;
    this.reserve(this.count + n);
    for (let k = 0; k < n; k++) {
      const row = this.count++;
      this.time[row] = b.time[k];
      this.vcpu[row] = b.vcpu[k];
      const kind = b.kind[k];
      this.kind[row] = kind;
      this.vector[row] = b.vector[k];
      this.mode[row] = b.mode[k];
      this.target[row] = b.target[k];
      this.label[row] = b.label[k];
      this.linkFrom[row] = -1;
      this.arrivals[row] = 0;
      if (isNotable(kind, b.mode[k])) this.notable.push(row);
      if (kind === KIND.STATE && b.vcpu[k] >= 0) this.stateRows[b.vcpu[k]].push(row);
      else if (kind === KIND.RENDEZVOUS_BEGIN) {
        this.openSpan = this.spans.length;
        this.spans.push({ begin: row, end: -1, lo: b.vector[k], hi: b.mode[k] });
      } else if (kind === KIND.RENDEZVOUS_END && this.openSpan >= 0) {
        this.spans[this.openSpan].end = row;
        this.openSpan = -1;
      }
    }
    for (let k = 0; k + 1 < b.links.length; k += 2) {
      const send = b.links[k];
      const arrival = b.links[k + 1];
      if (arrival < this.count && send < this.count) {
        this.linkFrom[arrival] = send;
        if (this.arrivals[send] < 0xffff) this.arrivals[send]++;
      }
    }
  }

  /** Rows [from, to) as one batch (with every label and link), to replay into a new view. */
  toBatch(from = 0, to = this.count, withLabels = true): EncodedBatch {
    const b = emptyBatch(from, this.vcpus);
    for (let row = from; row < to; row++) {
      b.time.push(this.time[row]);
      b.vcpu.push(this.vcpu[row]);
      b.kind.push(this.kind[row]);
      b.vector.push(this.vector[row]);
      b.mode.push(this.mode[row]);
      b.target.push(this.target[row]);
      b.label.push(this.label[row]);
      if (this.linkFrom[row] >= 0) b.links.push(this.linkFrom[row], row);
    }
    if (withLabels) b.labels = this.labels.slice();
    return b;
  }

  /** First row with time >= t. */
  lowerBound(t: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.time[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First row with time > t. */
  upperBound(t: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.time[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Activity state code of a lane at time t (from its state changes), or `fallback` if it never changed. */
  stateAt(lane: number, t: number, fallback: number): number {
    const rows = this.stateRows[lane];
    if (!rows || rows.length === 0) return fallback;
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.time[rows[mid]] <= t) lo = mid + 1;
      else hi = mid;
    }
    // Before the first change the lane was in that change's `from` state.
    return lo === 0 ? this.mode[rows[0]] : this.vector[rows[lo - 1]];
  }

  /** The row nearest to time t on `lane` within [t0, t1], scanning at most `budget` rows; -1 if none. */
  nearest(lane: number, t: number, t0: number, t1: number, budget = 50_000): number {
    const start = this.lowerBound(t0);
    const end = Math.min(this.upperBound(t1), start + budget);
    let best = -1;
    let bestDistance = Infinity;
    for (let row = start; row < end; row++) {
      if (this.vcpu[row] !== lane) continue;
      const distance = Math.abs(this.time[row] - t);
      if (distance < bestDistance) {
        bestDistance = distance;
        best = row;
      }
    }
    return best;
  }

  get firstTime(): number {
    return this.count ? this.time[0] : 0;
  }

  get lastTime(): number {
    return this.count ? this.time[this.count - 1] : 0;
  }

  private reserve(n: number): void {
    if (n <= this.time.length) return;
    let size = this.time.length;
    while (size < n) size *= 2;
    const grow = <T extends Float64Array | Int32Array | Uint8Array | Uint16Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.time = grow(this.time, (k) => new Float64Array(k));
    this.vcpu = grow(this.vcpu, (k) => new Int32Array(k));
    this.kind = grow(this.kind, (k) => new Uint8Array(k));
    this.vector = grow(this.vector, (k) => new Int32Array(k));
    this.mode = grow(this.mode, (k) => new Int32Array(k));
    this.target = grow(this.target, (k) => new Int32Array(k));
    this.label = grow(this.label, (k) => new Int32Array(k));
    this.linkFrom = grow(this.linkFrom, (k) => new Int32Array(k));
    this.arrivals = grow(this.arrivals, (k) => new Uint16Array(k));
  }
}

/** Rare rows a person looks for: never sampled away when many rows share a pixel. */
export function isNotable(kind: number, mode: number): boolean {
  switch (kind) {
    case KIND.INIT: case KIND.SIPI: case KIND.IPI_COLLAPSE: case KIND.IPI_REJECT: case KIND.INVARIANT: case KIND.STOP:
      return true;
    case KIND.IPI_SEND:
      return mode === MODE.INIT || mode === MODE.STARTUP || mode === MODE.NMI || mode === MODE.SMI;
    default:
      return false;
  }
}
