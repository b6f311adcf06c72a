// Event breakpoints: the exception filters of the adapter (vmexit, ipi-send, ipi-deliver,
// init, sipi, eoi, rendezvous, tlb-flush, triple-fault, invariant, unsupported-instruction),
// each with an optional condition over the event's fields, turned into core event watches.
// Also the words a stop uses to name its event ("IPI INIT from vCPU 0 to vCPU 1").
import type { Machine } from '../core/machine';
import type { HsEvent, EventName, EventMap } from '../core/trace/events';
import type { EventWatch } from '../core/debug/controller';
import type { Ipi } from '../core/apic/types';
import { isIpiTarget } from '../core/apic/destination';
import { EVENT_FILTERS, EventFilterId } from './protocol';
import { parse, compile, predicateSource, PREDICATE_HELPERS, truthy, Env, ExprError, Value, Scalar, Expr } from './expr';

export interface FilterHit { filter: EventFilterId; text: string; event: HsEvent }

interface Armed {
  id: EventFilterId;
  condition: ((env: Env) => Value) | null;
  tree: Expr | null;
  conditionText?: string;
}

/** The filters VS Code shows, with their labels, defaults and what a condition can use. */
export const FILTER_INFO: Record<EventFilterId, { label: string; description: string; default: boolean; conditionDescription?: string }> = {
  vmexit: { label: 'VM exit', description: 'Every VM exit (bhyve VM_EXITCODE_* names)', default: false, conditionDescription: 'e.g. reason == "MMIO" && register == "ICR_LOW"; fields: reason, vcpu, port, msr, address, region, register, direction, value, vector' },
  'ipi-send': { label: 'IPI sent', description: 'An IPI leaves a local APIC (ICR write or x2APIC SELF IPI)', default: false, conditionDescription: 'e.g. vector == 0x40 && dst == 1; fields: src, dst, vector, mode, shorthand, destMode, trigger' },
  'ipi-deliver': { label: 'IPI delivered', description: 'An IPI reaches its destination (IRR set, INIT or SIPI taken)', default: false, conditionDescription: 'e.g. dst == 1; fields: src, dst, vector, mode' },
  init: { label: 'INIT', description: 'An INIT IPI is sent', default: false, conditionDescription: 'fields: src, dst, shorthand' },
  sipi: { label: 'SIPI', description: 'A STARTUP IPI is sent', default: false, conditionDescription: 'e.g. vector == 0x08; fields: src, dst, vector' },
  eoi: { label: 'EOI', description: 'A local APIC receives an EOI', default: false, conditionDescription: 'fields: vcpu, vector, level' },
  rendezvous: { label: 'Rendezvous', description: 'A vmm rendezvous begins', default: false, conditionDescription: 'fields: initiator, name' },
  'tlb-flush': { label: 'TLB flush', description: 'INVLPG, CR3 load, paging change or a host EPT invalidation', default: false, conditionDescription: 'fields: vcpu, kind, address' },
  'triple-fault': { label: 'Triple fault', description: 'A vCPU shuts down', default: false },
  invariant: { label: 'Invariant broken', description: 'A hypervisor invariant broke (a quirk made the hardware behaviour impossible)', default: true },
  'unsupported-instruction': { label: 'Unsupported instruction', description: 'The guest ran an instruction Hyperstep does not implement', default: true },
};


const MODE_NAMES: Record<string, string> = { fixed: 'fixed', lowest: 'lowest-priority', smi: 'SMI', nmi: 'NMI', init: 'INIT', 'init-deassert': 'INIT de-assert', startup: 'STARTUP' };

const hx = (v: number, d = 2): string => '0x' + (v >>> 0).toString(16).padStart(d, '0');

export class FilterError extends Error {}

export class EventFilters {
  /** Armed filters; one id may appear several times with different conditions (any one matching stops). */
  private armed: Armed[] = [];
  /** The IPI being delivered (deliveries are synchronous with their ipi.send). */
  private lastSend: HsEvent<'ipi.send'> | null = null;

  /** The event the generated test is looking at, and its field getter (one closure for all events). */
  private current: HsEvent | null = null;
  private readonly getField = (name: string): Scalar => this.field(this.current!, name);

  constructor(private readonly m: Machine, private readonly changed: () => void) {
    for (const id of EVENT_FILTERS) if (FILTER_INFO[id].default) this.armed.push({ id, condition: null, tree: null });
  }

  /** Arms exactly these filters. Throws FilterError naming a bad filter id or condition. */
  set(list: { filterId: string; condition?: string }[]): void {
    const next: Armed[] = [];
    for (const f of list) {
      if (!(EVENT_FILTERS as readonly string[]).includes(f.filterId)) throw new FilterError(`unknown exception filter '${f.filterId}' (filters: ${EVENT_FILTERS.join(', ')})`);
      let condition: ((env: Env) => Value) | null = null;
      let tree: Expr | null = null;
      if (f.condition !== undefined && f.condition.trim() !== '') {
        try {
          tree = parse(f.condition);
          condition = compile(tree);
        } catch (e) {
          throw new FilterError(`condition of '${f.filterId}': ${(e as Error).message}`);
        }
      }
      next.push({ id: f.filterId as EventFilterId, condition, tree, conditionText: f.condition });
    }
    this.armed = next;
    this.changed();
  }

  enabled(id: EventFilterId): boolean {
    return this.armed.some((a) => a.id === id);
  }

  list(): { id: EventFilterId; condition?: string }[] {
    return this.armed.map((a) => ({ id: a.id, ...(a.conditionText ? { condition: a.conditionText } : {}) }));
  }

  /** One watch per event type, checking every armed filter that uses it. */
  watches(): [EventName, EventWatch][] {
    const byType = new Map<EventName, Armed[]>();
    for (const a of this.armed) {
      for (const t of Object.keys(GATES[a.id] ?? {}) as EventName[]) {
        const l = byType.get(t);
        if (l) l.push(a); else byType.set(t, [a]);
      }
    }
    return [...byType].map(([t, list]) => [t, this.compileWatch(t, list)]);
  }

  /**
   * One generated function per event type tests every armed filter's gate and condition on
   * the event's fields (conditions outside the simple subset count as candidates); only a
   * candidate goes through check(), which decides exactly as before. With 20 filters armed
   * and none hit, this is a few property reads per filter and event.
   */
  private compileWatch(type: EventName, list: Armed[]): EventWatch {
    const special = new Set(['vcpu', 'type', 'src', 'dst', 'mode', 'vector']);
    const ref = (name: string, numeric: boolean): string => {
      if (name === 'vcpu') return 'e.vcpu';
      if (special.has(name)) return `g(${JSON.stringify(name)})`;
      return numeric ? `n(d[${JSON.stringify(name)}])` : `v(d[${JSON.stringify(name)}], ${JSON.stringify(name)})`;
    };
    const lines = list.map((a, k) => {
      const gate = GATES[a.id]?.[type] ?? 'false';
      const cond = a.tree === null ? 'true' : predicateSource(a.tree, ref) ?? 'true';
      return `if ((${gate}) && (${cond})) return ${k};`;
    });
    const H = PREDICATE_HELPERS;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const test = new Function('e', 'g', 'v', 'n', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 't', `const d = e.data;\n${lines.join('\n')}\nreturn -1;`) as
      (e: HsEvent, g: (n: string) => Scalar, v: (x: unknown, n: string) => Scalar, n: (x: unknown) => unknown, ...h: unknown[]) => number;
    const v = (x: unknown, name: string): Scalar => (typeof x === 'number' || typeof x === 'string' ? x : typeof x === 'boolean' ? (x ? 1 : 0) : bareWord(name));
    const n = (x: unknown): unknown => (typeof x === 'boolean' ? (x ? 1 : 0) : x);
    return (e: HsEvent) => {
      if (e.type === 'ipi.send') this.lastSend = e as HsEvent<'ipi.send'>;
      this.current = e;
      const k = test(e, this.getField, v, n, H.eq, H.ne, H.lt, H.le, H.gt, H.ge, H.t);
      return k < 0 ? null : this.check(e, list.slice(k));
    };
  }

  private check(e: HsEvent, list: Armed[]): { vcpu: number; detail: FilterHit } | null {
    if (e.type === 'ipi.send') this.lastSend = e as HsEvent<'ipi.send'>;
    let env: Env | null = null;
    for (const a of list) {
      const vcpu = this.matches(a.id, e);
      if (vcpu === null) continue;
      if (a.condition !== null) {
        // A condition that cannot be evaluated on this event (a field it compares is not one of
        // this event's, so a name reads as a word) does not match it, as in the generated test.
        let ok = false;
        try {
          env ??= this.env(e);
          ok = truthy(a.condition(env));
        } catch {
          ok = false;
        }
        if (!ok) continue;
      }
      return { vcpu, detail: { filter: a.id, text: this.describeEvent(e), event: e } };
    }
    return null;
  }

  /** The vCPU to report if filter `id` matches event `e`, else null (the gates of GATES, compiled once). */
  private matches(id: EventFilterId, e: HsEvent): number | null {
    const gate = GATE_TESTS[id]?.[e.type];
    return gate !== undefined && gate(e.data) ? (e.vcpu >= 0 ? e.vcpu : 0) : null;
  }


  /** What a condition sees: the event's fields, vcpu, src/dst for IPIs; bare words are strings (mode == init). Looked up lazily. */
  env(e: HsEvent): Env {
    return {
      lookup: (name) => {
        const v = this.field(e, name);
        return typeof v === 'number' ? BigInt.asUintN(64, BigInt(Math.trunc(v))) : v;
      },
      read: () => { throw new ExprError('memory is not available in event conditions'); },
      pointerSize: () => 8,
    };
  }


  /** A field as a plain number or string, with the same names and defaults as env(). */
  private field(e: HsEvent, name: string): Scalar {
    const send = this.lastSend;
    switch (name) {
      case 'vcpu': return e.vcpu;
      case 'type': return e.type;
      case 'src':
        if (e.type === 'ipi.send') return e.vcpu;
        if ((e.type === 'ipi.accept' || e.type === 'exit') && send) return send.vcpu;
        break;
      case 'dst':
        if (e.type === 'ipi.send') {
          const d = e.data as EventMap['ipi.send'];
          if (d.shorthand === 'none' && d.destMode === 'physical') return d.dest;
          const t = this.targets(e as HsEvent<'ipi.send'>);
          return t.length === 1 ? t[0] : d.dest;
        }
        if (e.type === 'ipi.accept' || e.type === 'exit') return e.vcpu;
        break;
      case 'mode': case 'vector':
        if (e.type === 'exit' && send && (e.data as unknown as Record<string, unknown>)[name] === undefined) return (send.data as unknown as Record<string, Scalar>)[name];
        break;
    }
    const v = (e.data as unknown as Record<string, unknown>)[name];
    if (typeof v === 'number' || typeof v === 'string') return v;
    if (typeof v === 'boolean') return v ? 1 : 0;
    return bareWord(name);
  }

  /** vCPUs an ipi.send reaches (computed when the event happens, before anything else changes). */
  targets(e: HsEvent<'ipi.send'>): number[] {
    const src = this.m.lapics[e.vcpu];
    if (!src) return [];
    const ipi = e.data as unknown as Ipi;
    const out: number[] = [];
    for (const t of this.m.lapics) if (isIpiTarget(t, src, ipi)) out.push(t.vcpuIndex);
    return out;
  }

  private describeTargets(e: HsEvent<'ipi.send'>): string {
    const d = e.data;
    const t = this.targets(e);
    const list = t.length === 0 ? 'no vCPU' : t.length === 1 ? `vCPU ${t[0]}` : t.length <= 8 ? `vCPUs ${t.join(', ')}` : `${t.length} vCPUs`;
    if (d.shorthand === 'self') return 'itself';
    if (d.shorthand === 'all') return `all (${list})`;
    if (d.shorthand === 'all-but-self') return `all but itself (${list})`;
    return d.destMode === 'logical' ? `logical ${hx(d.dest)} (${list})` : list;
  }

  /** One line naming an event, as a stop's description. */
  describeEvent(e: HsEvent): string {
    const on = `vCPU ${e.vcpu}`;
    switch (e.type) {
      case 'ipi.send': {
        const d = (e as HsEvent<'ipi.send'>).data;
        const what = d.mode === 'startup' ? `SIPI (vector ${hx(d.vector)}: start at ${hx(d.vector << 12, 5)})` : d.mode === 'fixed' || d.mode === 'lowest' ? `${MODE_NAMES[d.mode]} vector ${hx(d.vector)}` : MODE_NAMES[d.mode];
        return `IPI ${what} from vCPU ${e.vcpu} to ${this.describeTargets(e as HsEvent<'ipi.send'>)}`;
      }
      case 'ipi.accept': {
        const d = e.data as EventMap['ipi.accept'];
        const from = d.source === 'ipi' && this.lastSend ? ` from vCPU ${this.lastSend.vcpu}` : ` (${d.source})`;
        return `IPI vector ${hx(d.vector)} delivered to vCPU ${e.vcpu}${from}: IRR bit set`;
      }
      case 'exit': {
        const d = e.data as EventMap['exit'];
        return `VM exit ${d.reason}${exitDetail(d)} on ${on}`;
      }
      case 'eoi': {
        const d = e.data as EventMap['eoi'];
        return d.vector < 0 ? `EOI with nothing in service on ${on}` : `EOI of vector ${hx(d.vector)} on ${on}${d.level ? ' (level-triggered: EOI broadcast to the IOAPIC)' : ''}`;
      }
      case 'rendezvous.begin': {
        const d = e.data as EventMap['rendezvous.begin'];
        return `Rendezvous "${d.name}" begun by ${d.initiator >= 0 ? `vCPU ${d.initiator}` : 'the host'} for vCPUs ${d.requested.join(', ')}`;
      }
      case 'tlb.flush': {
        const d = e.data as EventMap['tlb.flush'];
        return `TLB flush (${d.kind}${d.address !== undefined ? ` ${hx(d.address, 8)}` : ''}) ${e.vcpu >= 0 ? `on ${on}` : 'by the host'}`;
      }
      default: return `${e.type} on ${on}`;
    }
  }

  /** The vmm frame topping the stack when stopped at this event. */
  vmmFrame(e: HsEvent): string {
    switch (e.type) {
      case 'ipi.send': {
        const d = (e as HsEvent<'ipi.send'>).data;
        const userspace = (d.mode === 'init' || d.mode === 'startup') && this.m.vmm.hasCapability('ipi-exit');
        return `vmm: ${userspace ? 'IPI exit (VM_EXITCODE_IPI)' : 'vlapic ICR write'} - ${MODE_NAMES[d.mode]}${d.mode === 'startup' || d.mode === 'fixed' || d.mode === 'lowest' ? ` ${hx(d.vector)}` : ''} to ${this.describeTargets(e as HsEvent<'ipi.send'>)}`;
      }
      case 'exit': {
        const d = e.data as EventMap['exit'];
        return `vmm: ${d.reason} exit${exitDetail(d)}`;
      }
      case 'ipi.accept': return `vmm: vlapic_set_intr_ready - vector ${hx((e.data as EventMap['ipi.accept']).vector)} into IRR`;
      case 'eoi': return `vmm: vlapic EOI - vector ${hx((e.data as EventMap['eoi']).vector)}`;
      case 'rendezvous.begin': return `vmm: vm_smp_rendezvous - ${(e.data as EventMap['rendezvous.begin']).name}`;
      case 'tlb.flush': return `vmm: TLB/EPT invalidation - ${(e.data as EventMap['tlb.flush']).kind}`;
      default: return `vmm: ${e.type}`;
    }
  }
}

/** When filter id applies to an event type, as JavaScript over `d` (the event's data); the event types a filter watches are its keys. */
const GATES: Partial<Record<EventFilterId, Partial<Record<EventName, string>>>> = {
  vmexit: { exit: 'true' },
  'ipi-send': { 'ipi.send': 'true' },
  init: { 'ipi.send': 'd.mode === "init"' },
  sipi: { 'ipi.send': 'd.mode === "startup"' },
  // ipi-deliver watches ipi.send only to remember the sender of the deliveries that follow.
  'ipi-deliver': { 'ipi.send': 'false', 'ipi.accept': 'd.source === "ipi"', exit: '(d.reason === "INIT" || d.reason === "SIPI")' },
  eoi: { eoi: 'true' },
  rendezvous: { 'rendezvous.begin': 'true' },
  'tlb-flush': { 'tlb.flush': 'true' },
};

/** GATES as functions, for check() (the generated per-type tests inline the same source). */
const GATE_TESTS: Partial<Record<EventFilterId, Partial<Record<string, (d: unknown) => boolean>>>> = Object.fromEntries(
  Object.entries(GATES).map(([id, byType]) => [id, Object.fromEntries(Object.entries(byType).map(([t, src]) => [t, new Function('d', `return ${src};`) as (d: unknown) => boolean]))]),
);

const BARE = new Map<string, string | undefined>();
/** A name that is no field of this event reads as itself (`mode == init`); cached, this runs at every event. */
function bareWord(name: string): string | undefined {
  let w = BARE.get(name);
  if (w === undefined && !BARE.has(name)) {
    w = /^[A-Za-z][\w-]*$/.test(name) ? name : undefined;
    if (BARE.size < 1000) BARE.set(name, w);
  }
  return w;
}

/** " write LAPIC ICR_LOW", " out port 0x3f8 value 0x41", ... */
export function exitDetail(d: EventMap['exit']): string {
  switch (d.reason) {
    case 'MMIO': return ` ${d.direction ?? ''} ${(d.region ?? '').toUpperCase()} ${d.register ?? (d.address !== undefined ? hx(d.address, 8) : '')}`.replace(/\s+/g, ' ').trimEnd();
    case 'INOUT': return ` ${d.direction} port ${hx(d.port ?? 0, 4)}${d.value !== undefined ? ` value ${hx(d.value)}` : ''}`;
    case 'RDMSR': case 'WRMSR': return ` MSR ${hx(d.msr ?? 0, 8)}${d.register ? ` (${d.register})` : ''}${d.reason === 'WRMSR' && d.value !== undefined ? ` value ${hx(d.valueHigh ?? 0, 8)}:${hx(d.value, 8)}` : ''}`;
    case 'CPUID': return ` leaf ${hx(d.leaf ?? 0, 8)}`;
    case 'EXCEPTION': return ` vector ${d.vector}${d.errorCode !== undefined && d.errorCode !== null ? ` error code ${hx(d.errorCode, 4)}` : ''}`;
    case 'SIPI': return ` vector ${hx(d.sipiVector ?? 0)}`;
    case 'IPI': return ` ${d.ipiMode ?? ''}${d.destinations ? ` to vCPUs ${d.destinations.join(', ')}` : ''}`;
    case 'RENDEZVOUS': return d.register ? ` (${d.register})` : '';
    default: return '';
  }
}

export { ExprError };
