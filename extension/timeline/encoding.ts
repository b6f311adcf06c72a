// The IPI timeline's compact event encoding. The adapter sends core events as JSON objects
// (`hyperstep/events`); the timeline keeps hundreds of thousands of them, so the extension
// turns each into one row of a few numbers (TimelineStore's typed-array columns) plus an
// interned label for the hover text, and pairs each IPI sent with its arrival(s) as it goes.
// Pure and DOM-free: the extension encodes, the webview (webview/timeline.ts) stores and draws.
import type { TimelineEvent } from '../../debug-adapter/protocol';

/** What a row is; decides how it is drawn. */
export const KIND = {
  EXIT: 0,
  IPI_SEND: 1,
  IPI_ACCEPT: 2,
  /** The vector's IRR bit was already set: two requests became one. */
  IPI_COLLAPSE: 3,
  /** Refused (disabled LAPIC, illegal vector): lost. */
  IPI_REJECT: 4,
  EOI: 5,
  RENDEZVOUS_BEGIN: 6,
  RENDEZVOUS_ARRIVE: 7,
  RENDEZVOUS_END: 8,
  STATE: 9,
  INVARIANT: 10,
  TLB_FLUSH: 11,
  /** The INIT exit of the vCPU an INIT reached. */
  INIT: 12,
  /** The SIPI exit of the vCPU a STARTUP reached. */
  SIPI: 13,
  STOP: 14,
  OTHER: 15,
} as const;
export type Kind = (typeof KIND)[keyof typeof KIND];

/** ipi.send delivery modes, as the `vector` column's companion `peer` code of a send row. */
export const IPI_MODES = ['fixed', 'lowest', 'smi', 'nmi', 'init', 'init-deassert', 'startup'] as const;
export const MODE = { FIXED: 0, LOWEST: 1, SMI: 2, NMI: 3, INIT: 4, INIT_DEASSERT: 5, STARTUP: 6 } as const;

/** Activity states (core/cpu Activity) as STATE rows carry them. */
export const STATES = ['active', 'hlt', 'wait-for-sipi', 'shutdown', 'other'] as const;
export function stateCode(s: unknown): number {
  const k = (STATES as readonly unknown[]).indexOf(s);
  return k >= 0 ? k : STATES.length - 1;
}

/** `target` column of a send row when it is not one vCPU. */
export const TARGET = { UNKNOWN: -1, ALL: -2, ALL_BUT_SELF: -3 } as const;

/**
 * One batch of rows, JSON-safe (it crosses into the webview with postMessage). Rows are
 * numbered from `first`; `labels` are appended to the label table; `links` pairs
 * [sendRow, receiveRow] for IPIs that arrived.
 */
export interface EncodedBatch {
  first: number;
  time: number[];
  vcpu: number[];
  kind: number[];
  /** IPI vector, SIPI vector, exception vector, new state code, first lane of a rendezvous; -1 if none. */
  vector: number[];
  /** Send rows: delivery mode code. STATE rows: previous state code. Rendezvous begin: last lane. */
  mode: number[];
  /** Send rows: the vCPU addressed, or a TARGET code. Other rows: -1. */
  target: number[];
  /** Index into the label table (the hover text). */
  label: number[];
  labels: string[];
  links: number[];
  /** Number of vCPUs known so far. */
  vcpus: number;
}

export function emptyBatch(first: number, vcpus: number): EncodedBatch {
  return { first, time: [], vcpu: [], kind: [], vector: [], mode: [], target: [], label: [], labels: [], links: [], vcpus };
}

interface Pending {
  row: number;
  /** 0: fixed/lowest (arrives in IRR), 1: NMI, 2: INIT, 3: STARTUP. */
  kind: number;
  vector: number;
}

/** Sends still waiting for their arrival on one vCPU; older ones are forgotten. */
const PENDING_PER_VCPU = 32;
/** Beyond this many distinct labels, new rows get their kind's generic label. */
const LABEL_LIMIT = 100_000;

const hex = (n: number, digits = 2): string => `0x${(n >>> 0).toString(16).padStart(digits, '0')}`;

/** Turns adapter events into rows, keeping what pairing and label interning need. */
export class TimelineEncoder {
  private rows = 0;
  private readonly labelIds = new Map<string, number>();
  private pending: Pending[][] = [];
  private vcpuCount = 0;
  /** APIC ID -> vCPU, for physical destinations (identity until the adapter says otherwise). */
  private apicToVcpu = new Map<number, number>();
  private lastTime = 0;

  constructor(vcpus = 0) {
    this.setVcpuCount(vcpus);
  }

  get count(): number {
    return this.rows;
  }

  setVcpuCount(n: number): void {
    while (this.pending.length < n) this.pending.push([]);
    this.vcpuCount = Math.max(this.vcpuCount, n);
  }

  setApicIds(apicIdOfVcpu: readonly number[]): void {
    this.apicToVcpu = new Map(apicIdOfVcpu.map((id, vcpu) => [id, vcpu]));
  }

  encode(events: readonly TimelineEvent[]): EncodedBatch {
    for (const e of events) if (e.vcpu >= this.vcpuCount) this.setVcpuCount(e.vcpu + 1);
    const b = emptyBatch(this.rows, this.vcpuCount);
    for (const e of events) this.encodeOne(e, b);
    b.vcpus = this.vcpuCount;
    return b;
  }

  private labelOf(text: string, fallback: string, b: EncodedBatch): number {
    let id = this.labelIds.get(text);
    if (id !== undefined) return id;
    if (this.labelIds.size >= LABEL_LIMIT && text !== fallback) return this.labelOf(fallback, fallback, b);
    id = this.labelIds.size;
    this.labelIds.set(text, id);
    b.labels.push(text);
    return id;
  }

  private push(b: EncodedBatch, e: TimelineEvent, kind: Kind, vector: number, mode: number, target: number, text: string, generic: string): number {
    // Rows are kept in time order (binary search by time); the core's clock never goes back,
    // but a batch from a restarted session could: clamp rather than break the order.
    const t = Math.max(this.lastTime, e.time);
    this.lastTime = t;
    b.time.push(t);
    b.vcpu.push(e.vcpu);
    b.kind.push(kind);
    b.vector.push(vector);
    b.mode.push(mode);
    b.target.push(target);
    b.label.push(this.labelOf(text, generic, b));
    return this.rows++;
  }

  private encodeOne(e: TimelineEvent, b: EncodedBatch): void {
    const d = e.data;
    const num = (k: string): number => (typeof d[k] === 'number' ? (d[k] as number) : -1);
    const str = (k: string): string => (typeof d[k] === 'string' ? (d[k] as string) : '');
    switch (e.type) {
      case 'ipi.send': {
        const modeName = str('mode');
        const mode = Math.max(0, IPI_MODES.indexOf(modeName as (typeof IPI_MODES)[number]));
        const vector = num('vector');
        const targets = this.targetsOf(e.vcpu, d);
        const target = targets.code;
        const to = target >= 0 ? `vCPU ${target}` : target === TARGET.ALL ? 'all vCPUs' : target === TARGET.ALL_BUT_SELF ? 'all other vCPUs' : `${str('destMode')} destination ${hex(num('dest'))}`;
        const what = mode === MODE.STARTUP ? `STARTUP (SIPI) vector ${hex(vector)} (start at ${hex(vector << 12, 5)})`
          : mode === MODE.INIT ? 'INIT' : mode === MODE.INIT_DEASSERT ? 'INIT level de-assert' : `${modeName} vector ${hex(vector)}`;
        const row = this.push(b, e, KIND.IPI_SEND, vector, mode, target, `IPI ${what} from vCPU ${e.vcpu} to ${to}`, 'IPI sent');
        const pk = pendingKind(mode);
        if (pk >= 0) {
          for (const t of targets.vcpus) {
            const q = this.pending[t];
            if (q.length >= PENDING_PER_VCPU) q.shift();
            q.push({ row, kind: pk, vector: pk === 2 ? -1 : vector });
          }
        }
        return;
      }
      case 'ipi.accept':
      case 'ipi.collapse':
      case 'apic.reject': {
        const vector = num('vector');
        const source = str('source');
        const kind = e.type === 'ipi.accept' ? KIND.IPI_ACCEPT : e.type === 'ipi.collapse' ? KIND.IPI_COLLAPSE : KIND.IPI_REJECT;
        const verb = kind === KIND.IPI_ACCEPT ? 'accepted into IRR' : kind === KIND.IPI_COLLAPSE ? 'collapsed: IRR bit already set, one interrupt lost' : `rejected (${str('reason')}): lost`;
        const row = this.push(b, e, kind, vector, -1, -1, `vector ${hex(vector)} from ${source || 'unknown'} ${verb} on vCPU ${e.vcpu}`, 'interrupt arrival');
        if (source === 'ipi') this.link(b, e.vcpu, 0, vector, row);
        return;
      }
      case 'exit': {
        const reason = str('reason');
        if (reason === 'INIT') {
          const row = this.push(b, e, KIND.INIT, -1, -1, -1, `INIT reached vCPU ${e.vcpu}: it now waits for SIPI`, 'INIT');
          this.link(b, e.vcpu, 2, -1, row);
          return;
        }
        if (reason === 'SIPI') {
          const v = num('sipiVector');
          const row = this.push(b, e, KIND.SIPI, v, -1, -1, `SIPI reached vCPU ${e.vcpu}: starts in real mode at ${hex(v << 12, 5)}`, 'SIPI');
          this.link(b, e.vcpu, 3, v, row);
          return;
        }
        this.push(b, e, KIND.EXIT, num('vector'), -1, -1, exitText(e.vcpu, d), `VM exit ${reason}`);
        return;
      }
      case 'eoi': {
        const v = num('vector');
        this.push(b, e, KIND.EOI, v, -1, -1, v < 0 ? `EOI on vCPU ${e.vcpu} with an empty ISR` : `EOI of vector ${hex(v)} on vCPU ${e.vcpu}${d.level ? ' (level: EOI to the IOAPIC)' : ''}`, 'EOI');
        return;
      }
      case 'vcpu.state':
        this.push(b, e, KIND.STATE, stateCode(d.to), stateCode(d.from), -1, `vCPU ${e.vcpu}: ${str('from')} -> ${str('to')}`, 'state change');
        return;
      case 'rendezvous.begin': {
        const requested = Array.isArray(d.requested) ? (d.requested as number[]) : [];
        const lo = requested.length ? Math.min(...requested) : e.vcpu;
        const hi = requested.length ? Math.max(...requested) : e.vcpu;
        this.push(b, e, KIND.RENDEZVOUS_BEGIN, lo, hi, -1, `rendezvous ${str('name')} begins: initiator vCPU ${num('initiator')}, requested {${requested.join(', ')}}`, 'rendezvous begins');
        return;
      }
      case 'rendezvous.arrive':
        this.push(b, e, KIND.RENDEZVOUS_ARRIVE, -1, -1, -1, `vCPU ${e.vcpu} arrives at rendezvous ${str('name')}`, 'rendezvous arrival');
        return;
      case 'rendezvous.end':
        this.push(b, e, KIND.RENDEZVOUS_END, -1, -1, -1, `rendezvous ${str('name')} ends`, 'rendezvous ends');
        return;
      case 'invariant':
        this.push(b, e, KIND.INVARIANT, -1, -1, -1, `invariant broken: ${str('name')}: ${str('message')}`, 'invariant broken');
        return;
      case 'tlb.flush':
        this.push(b, e, KIND.TLB_FLUSH, -1, -1, -1, `TLB flush (${str('kind')})${typeof d.address === 'number' ? ` ${hex(d.address as number, 8)}` : ''}${e.vcpu >= 0 ? ` on vCPU ${e.vcpu}` : ''}`, 'TLB flush');
        return;
      case 'stop':
        this.push(b, e, KIND.STOP, -1, -1, -1, `stop: ${str('reason')}${str('message') ? `: ${str('message')}` : ''}`, 'stop');
        return;
      default:
        this.push(b, e, KIND.OTHER, -1, -1, -1, `${e.type} ${JSON.stringify(d)}`, e.type);
    }
  }

  /** Pairs an arrival on `vcpu` with the oldest matching send waiting for it. */
  private link(b: EncodedBatch, vcpu: number, kind: number, vector: number, row: number): void {
    const q = this.pending[vcpu];
    if (!q) return;
    const k = q.findIndex((p) => p.kind === kind && (p.vector === vector || p.vector < 0 || vector < 0));
    if (k < 0) return;
    b.links.push(q[k].row, row);
    q.splice(k, 1);
  }

  /** Who an ICR addresses (SDM 10.6.2): the vCPUs to expect arrivals on, and the `target` code. */
  private targetsOf(src: number, d: Record<string, unknown>): { code: number; vcpus: number[] } {
    const all = [...Array(this.vcpuCount).keys()];
    switch (d.shorthand) {
      case 'self': return { code: src, vcpus: [src] };
      case 'all': return { code: TARGET.ALL, vcpus: all };
      case 'all-but-self': return { code: TARGET.ALL_BUT_SELF, vcpus: all.filter((v) => v !== src) };
    }
    const dest = typeof d.dest === 'number' ? d.dest : -1;
    if (d.destMode === 'physical') {
      if (dest === 0xff || dest === 0xffffffff) return { code: TARGET.ALL, vcpus: all };
      const v = this.apicToVcpu.size ? this.apicToVcpu.get(dest) : dest < this.vcpuCount ? dest : undefined;
      return v === undefined ? { code: TARGET.UNKNOWN, vcpus: [] } : { code: v, vcpus: [v] };
    }
    // Logical destinations depend on every LDR/DFR: expect an arrival anywhere, pair by vector.
    return { code: TARGET.UNKNOWN, vcpus: all };
  }
}

function pendingKind(mode: number): number {
  switch (mode) {
    case MODE.FIXED: case MODE.LOWEST: return 0;
    case MODE.NMI: return 1;
    case MODE.INIT: return 2;
    case MODE.STARTUP: return 3;
    default: return -1;
  }
}

/** "VM exit MMIO write LAPIC ICR_LOW on vCPU 0", as the adapter names exits. */
export function exitText(vcpu: number, d: Record<string, unknown>): string {
  const parts = [`VM exit ${String(d.reason)}`];
  if (typeof d.direction === 'string') parts.push(d.direction);
  if (typeof d.region === 'string') parts.push(d.region === 'lapic' ? 'LAPIC' : d.region === 'ioapic' ? 'IOAPIC' : d.region);
  if (typeof d.register === 'string') parts.push(d.register);
  if (typeof d.port === 'number') parts.push(`port ${hex(d.port, 4)}`);
  if (typeof d.msr === 'number') parts.push(`MSR ${hex(d.msr, 8)}`);
  if (typeof d.leaf === 'number') parts.push(`leaf ${hex(d.leaf, 8)}`);
  if (typeof d.ipiMode === 'string') parts.push(d.ipiMode);
  if (d.reason === 'EXCEPTION' && typeof d.vector === 'number') parts.push(`vector ${d.vector}`);
  if (Array.isArray(d.destinations)) parts.push(`to vCPU ${(d.destinations as number[]).join(', ')}`);
  parts.push(`on vCPU ${vcpu}`);
  return parts.join(' ');
}
