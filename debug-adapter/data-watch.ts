// Data breakpoints: guest-physical memory (reads, writes) through page intercepts, so every
// access path (interpreter, compiled blocks, string instructions, devices' DMA excepted)
// sees them; and changes of a vCPU's LAPIC register, checked after each event that can
// change a LAPIC. Both break after the instruction that did it, as hardware watchpoints do.
import type { Machine } from '../core/machine';
import type { HsEvent, EventName } from '../core/trace/events';
import type { EventWatch } from '../core/debug/controller';
import type { PageIntercept } from '../core/memory/physical';
import type { LocalApic } from '../core/apic/lapic';
import { LVT_NAMES } from '../core/apic/registers';
import { vectorList, hexByte, hex } from './views/lapic';
import { parse, evaluate, truthy, Expr } from './expr';

export type MemoryAccess = 'read' | 'write' | 'readWrite';

interface MemoryWatch { id: number; pa: number; size: number; access: MemoryAccess; condition?: Expr }
interface LapicWatch { id: number; vcpu: number; register: string; condition: Expr | null; conditionText?: string; last: bigint | Uint32Array }

/** LAPIC registers a data breakpoint can watch, and how to read each without side effects. */
const LAPIC_SCALARS: Record<string, (l: LocalApic) => number> = {
  TPR: (l) => l.tpr, PPR: (l) => l.ppr(), LDR: (l) => l.logicalId(), DFR: (l) => l.dfr, SVR: (l) => l.svr, ESR: (l) => l.esr,
  ICR: (l) => l.icrLow, ICR_HIGH: (l) => l.icrHigh, TIMER_ICR: (l) => l.timer.initialCount, TIMER_DCR: (l) => l.timer.dcr,
  APIC_BASE: (l) => l.apicBaseLo,
  ...Object.fromEntries(LVT_NAMES.map((n, k) => [n, (l: LocalApic) => l.lvt[k]])),
};
const LAPIC_VECTORS: Record<string, (l: LocalApic) => Uint32Array> = { IRR: (l) => l.irr, ISR: (l) => l.isr, TMR: (l) => l.tmr };
const LAPIC_EVENTS: EventName[] = ['ipi.accept', 'ipi.collapse', 'eoi', 'apic.write', 'apic.mode', 'apic.timer', 'apic.error', 'apic.illegal', 'apic.reject', 'interrupt', 'exit', 'vcpu.state', 'rendezvous.arrive'];

export function isWatchableLapicRegister(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(LAPIC_SCALARS, name) || Object.prototype.hasOwnProperty.call(LAPIC_VECTORS, name);
}

export class DataWatches {
  private memory: MemoryWatch[] = [];
  private lapic: LapicWatch[] = [];
  /** Intercepts we installed, and what was there before (the vmm's EPT quirk may intercept a page too). */
  private readonly pages = new Map<number, PageIntercept | undefined>();

  constructor(private readonly m: Machine) {}

  /** Replaces every data breakpoint. Throws with a message for a bad one. */
  set(mem: { id: number; pa: number; size: number; access: MemoryAccess; condition?: string }[], lapic: { id: number; vcpu: number; register: string; condition?: string }[]): void {
    for (const w of lapic) {
      if (!isWatchableLapicRegister(w.register)) throw new Error(`LAPIC register ${w.register} cannot be watched (it changes with time or is constant)`);
      if (w.vcpu < 0 || w.vcpu >= this.m.cpus.length) throw new Error(`no vCPU ${w.vcpu}`);
    }
    this.memory = mem.map((w) => ({ id: w.id, pa: w.pa, size: w.size, access: w.access, ...(w.condition ? { condition: parse(w.condition) } : {}) }));
    this.lapic = lapic.map((w) => ({ id: w.id, vcpu: w.vcpu, register: w.register, condition: w.condition ? parse(w.condition) : null, conditionText: w.condition, last: this.read(w.vcpu, w.register) }));
    this.installPages();
  }

  private read(vcpu: number, register: string): bigint | Uint32Array {
    const l = this.m.lapics[vcpu];
    const v = LAPIC_VECTORS[register];
    return v ? v(l).slice() : BigInt(LAPIC_SCALARS[register](l) >>> 0);
  }

  private installPages(): void {
    const phys = this.m.phys;
    const want = new Set<number>();
    for (const w of this.memory) for (let p = Math.floor(w.pa / 4096); p <= Math.floor((w.pa + w.size - 1) / 4096); p++) want.add(p);
    for (const [pfn, prev] of this.pages) {
      if (want.has(pfn)) continue;
      if (prev) phys.interceptPage(pfn, prev); else phys.releasePage(pfn);
      this.pages.delete(pfn);
    }
    for (const pfn of want) {
      if (this.pages.has(pfn) || pfn * 4096 >= phys.size) continue;
      const prev = phys.intercepts.get(pfn);
      this.pages.set(pfn, prev);
      phys.interceptPage(pfn, this.intercept(prev));
    }
  }

  /** Performs the access as RAM would (or as the previous intercept would), then checks the watches. */
  private intercept(prev: PageIntercept | undefined): PageIntercept {
    const phys = this.m.phys;
    return {
      read: (pa, size) => {
        let v: number;
        if (prev) v = prev.read(pa, size);
        else { v = 0; for (let k = size - 1; k >= 0; k--) v = (v << 8) | phys.u8[pa + k]; v >>>= 0; }
        this.hit(pa, size, 'read', v);
        return v;
      },
      write: (pa, size, value) => {
        if (prev) prev.write(pa, size, value);
        else {
          for (let k = 0; k < size; k++) phys.u8[pa + k] = (value >>> (8 * k)) & 0xff;
          phys.written[pa >>> 12] = 1;
          phys.onCodeWrite(pa, size);
        }
        this.hit(pa, size, 'write', value);
      },
    };
  }

  private hit(pa: number, size: number, kind: 'read' | 'write', value: number): void {
    for (const w of this.memory) {
      if (pa + size <= w.pa || pa >= w.pa + w.size) continue;
      if (w.access !== 'readWrite' && w.access !== kind) continue;
      if (w.condition) {
        try {
          if (!truthy(evaluate(w.condition, { lookup: (n) => (n === 'value' ? BigInt(value >>> 0) : n === 'address' ? BigInt(pa) : undefined), read: () => 0n, pointerSize: () => 8 }))) continue;
        } catch { /* a failing condition stops */ }
      }
      const vcpu = this.m.phys.vcpu;
      const text = `vCPU ${vcpu} ${kind === 'write' ? 'wrote' : 'read'} ${hex(value >>> 0, size * 2)} ${kind === 'write' ? 'to' : 'from'} guest-physical ${hex(pa)} (${size} byte${size > 1 ? 's' : ''}; watched ${hex(w.pa)}+${w.size})`;
      this.m.requestBreak(vcpu, 'event', { data: { id: w.id, text } });
      return;
    }
  }

  watches(): [EventName, EventWatch][] {
    if (this.lapic.length === 0) return [];
    const watch: EventWatch = (e) => this.checkLapic(e);
    return LAPIC_EVENTS.map((t) => [t, watch]);
  }

  private checkLapic(e: HsEvent): { vcpu: number; detail: unknown } | null {
    for (const w of this.lapic) {
      const now = this.read(w.vcpu, w.register);
      const before = w.last;
      let text: string | null = null;
      let env: Record<string, bigint> = {};
      if (now instanceof Uint32Array && before instanceof Uint32Array) {
        let same = true;
        for (let k = 0; k < 8; k++) if (now[k] !== before[k]) same = false;
        if (same) continue;
        const gained = vectorList(now.map((x, k) => x & ~before[k]) as Uint32Array);
        const lost = vectorList(before.map((x, k) => x & ~now[k]) as Uint32Array);
        const vector = gained.length ? gained[0] : lost[0];
        env = { vector: BigInt(vector), gained: gained.length ? 1n : 0n, lost: lost.length ? 1n : 0n };
        text = `vCPU ${w.vcpu} ${w.register} ${gained.length ? `gained ${gained.map(hexByte).join(', ')}` : ''}${gained.length && lost.length ? ' and ' : ''}${lost.length ? `lost ${lost.map(hexByte).join(', ')}` : ''} (now ${vectorList(now).map(hexByte).join(' ') || 'empty'})`;
      } else if (typeof now === 'bigint' && typeof before === 'bigint') {
        if (now === before) continue;
        env = { old: before, new: now, value: now };
        text = `vCPU ${w.vcpu} ${w.register} changed from ${hex(Number(before))} to ${hex(Number(now))}`;
      }
      w.last = now;
      if (text === null) continue;
      if (w.condition) {
        try {
          if (!truthy(evaluate(w.condition, { lookup: (n) => env[n], read: () => 0n, pointerSize: () => 8 }))) continue;
        } catch (err) {
          text += ` (condition '${w.conditionText}' failed: ${(err as Error).message})`;
        }
      }
      return { vcpu: w.vcpu, detail: { data: { id: w.id, text, event: e } } };
    }
    return null;
  }

  dispose(): void {
    this.memory = [];
    this.installPages();
  }
}
