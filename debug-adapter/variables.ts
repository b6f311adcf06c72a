// The Variables view of a stopped vCPU: scopes (registers; segments, control registers and
// MSRs; Local APIC; last exit; pending events; rendezvous; TLB; the stop's event) and their
// variables, built lazily behind variablesReference handles that live until the VM resumes.
import { Handles, Scope } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Machine } from '../core/machine';
import type { Cpu } from '../core/cpu/cpu';
import { SEG_NAMES } from '../core/cpu/regs';
import { EXIT_REASONS } from '../core/vmm/types';
import { highestVector } from '../core/apic/lapic';
import { readRegister, generalRegisterNames, decodeFlags, hex, addr64, tlbEntries, rendezvousState } from './cpu-state';
import { lapicRegisters, vectorList, hexByte, decodeIcrFields, decodeLvt } from './views/lapic';
import { LVT_NAMES } from '../core/apic/registers';
import type { HsEvent } from '../core/trace/events';
import { exitDetail } from './filters';

type Provider = () => DebugProtocol.Variable[];

/** What a variable's value can be written through (setVariable). */
export interface Writable { kind: 'register' | 'lapic'; vcpu: number; name: string }

const CR0_BITS: [string, number][] = [['PE', 0], ['MP', 1], ['EM', 2], ['TS', 3], ['ET', 4], ['NE', 5], ['WP', 16], ['AM', 18], ['NW', 29], ['CD', 30], ['PG', 31]];
const CR4_BITS: [string, number][] = [['VME', 0], ['PVI', 1], ['TSD', 2], ['DE', 3], ['PSE', 4], ['PAE', 5], ['MCE', 6], ['PGE', 7], ['PCE', 8], ['OSFXSR', 9], ['OSXMMEXCPT', 10], ['UMIP', 11], ['LA57', 12], ['VMXE', 13], ['FSGSBASE', 16], ['PCIDE', 17], ['OSXSAVE', 18], ['SMEP', 20], ['SMAP', 21]];
const EFER_BITS: [string, number][] = [['SCE', 0], ['LME', 8], ['LMA', 10], ['NXE', 11]];
const bitNames = (v: number, bits: [string, number][]): string => bits.filter(([, b]) => (v >>> b) & 1).map(([n]) => n).join(' ') || '-';

export class VariableStore {
  private readonly handles = new Handles<Provider>();
  /** variablesReference -> how its children are written (for setVariable). */
  private readonly writable = new Map<number, Map<string, Writable>>();
  private readonly lapicScopes = new Map<number, number>();

  constructor(private readonly m: Machine) {}

  reset(): void {
    this.handles.reset();
    this.writable.clear();
    this.lapicScopes.clear();
  }

  variables(ref: number): DebugProtocol.Variable[] | null {
    const p = this.handles.get(ref);
    return p ? p() : null;
  }

  /** The vCPU whose Local APIC scope `ref` is (data breakpoints on LAPIC registers), or undefined. */
  lapicScopeVcpu(ref: number): number | undefined {
    return this.lapicScopes.get(ref);
  }

  writableIn(ref: number, name: string): Writable | undefined {
    return this.writable.get(ref)?.get(name);
  }

  private ref(p: Provider, writable?: Map<string, Writable>): number {
    const r = this.handles.create(p);
    if (writable) this.writable.set(r, writable);
    return r;
  }

  private v(name: string, value: string, children?: Provider, extra: Partial<DebugProtocol.Variable> = {}): DebugProtocol.Variable {
    return { name, value, variablesReference: children ? this.ref(children) : 0, ...extra };
  }

  scopes(vcpu: number, event: HsEvent | null): DebugProtocol.Scope[] {
    const c = this.m.cpus[vcpu];
    const out: DebugProtocol.Scope[] = [];
    const regsW = new Map<string, Writable>();
    for (const n of generalRegisterNames(c)) regsW.set(n, { kind: 'register', vcpu, name: n });
    out.push({ ...new Scope('Registers', this.ref(() => this.registers(c), regsW), false), presentationHint: 'registers' });
    out.push(new Scope('Segments, control registers, MSRs', this.ref(() => this.system(c)), false));
    const lapicW = new Map<string, Writable>();
    for (const n of ['TPR', 'SVR', 'ESR', 'ICR', 'LDR', 'DFR', 'TIMER_ICR', 'TIMER_DCR', ...LVT_NAMES]) lapicW.set(n, { kind: 'lapic', vcpu, name: n });
    const lapicRef = this.ref(() => this.lapic(vcpu), lapicW);
    this.lapicScopes.set(lapicRef, vcpu);
    out.push(new Scope(`Local APIC (vCPU ${vcpu})`, lapicRef, false));
    out.push(new Scope('Last VM exit', this.ref(() => this.lastExit(vcpu)), false));
    out.push(new Scope('Pending events', this.ref(() => this.pending(c)), false));
    out.push(new Scope('Rendezvous', this.ref(() => this.rendezvous()), false));
    out.push(new Scope('TLB', this.ref(() => this.tlb(c)), true));
    if (event) out.unshift(new Scope(`Event: ${event.type}`, this.ref(() => this.event(event)), false));
    return out;
  }

  private registers(c: Cpu): DebugProtocol.Variable[] {
    return generalRegisterNames(c).map((n) => {
      const v = readRegister(c, n)!;
      const width = c.mode64 ? 16 : 8;
      if (n.endsWith('flags')) return this.v(n, `${hex(v, 8)}  ${decodeFlags(Number(v))}`, undefined, { memoryReference: undefined });
      const isPointer = n.endsWith('sp') || n.endsWith('bp') || n.endsWith('ip');
      return this.v(n, hex(v, width), undefined, { ...(isPointer ? { memoryReference: `v${c.index}:${hex(v)}` } : {}), type: c.mode64 ? 'u64' : 'u32' });
    });
  }

  private system(c: Cpu): DebugProtocol.Variable[] {
    const seg = SEG_NAMES.map((n, s) => this.v(n, `${hex(c.segSel[s], 4)}  base=${hex(addr64(c.segBase[s]), 8)} limit=${hex(c.segLimit[s], 8)} attr=${hex(c.segAttr[s], 4)}`, () => [
      this.v('selector', hex(c.segSel[s], 4)), this.v('base', hex(addr64(c.segBase[s]), 8)), this.v('limit', hex(c.segLimit[s], 8)),
      this.v('attributes', `${hex(c.segAttr[s], 4)} type=${c.segAttr[s] & 15} S=${(c.segAttr[s] >> 4) & 1} DPL=${(c.segAttr[s] >> 5) & 3} P=${(c.segAttr[s] >> 7) & 1} L=${(c.segAttr[s] >> 13) & 1} D/B=${(c.segAttr[s] >> 14) & 1} G=${(c.segAttr[s] >> 15) & 1}`),
    ]));
    const msrs = [...c.msrs.entries()].sort((a, b) => a[0] - b[0]).map(([k, [lo, hi]]) => this.v(`MSR ${hex(k, 8)}`, `${hex(hi >>> 0, 8)}:${hex(lo >>> 0, 8)}`));
    return [
      this.v('mode', `${c.mode} (CPL ${c.cpl}, ${c.bits}-bit code)`),
      ...seg,
      this.v('cr0', `${hex(c.cr0 >>> 0, 8)}  ${bitNames(c.cr0, CR0_BITS)}`),
      this.v('cr2', hex(addr64(c.cr2), 8)),
      this.v('cr3', hex(addr64(c.cr3), 8)),
      this.v('cr4', `${hex(c.cr4 >>> 0, 8)}  ${bitNames(c.cr4, CR4_BITS)}`),
      this.v('cr8', `${hex(readRegister(c, 'cr8')!, 1)}  (the LAPIC's TPR[7:4])`),
      this.v('efer', `${hex(c.efer >>> 0, 8)}  ${bitNames(c.efer, EFER_BITS)}`),
      this.v('gdtr', `base=${hex(addr64(c.gdtBase), 8)} limit=${hex(c.gdtLimit, 4)}`),
      this.v('idtr', `base=${hex(addr64(c.idtBase), 8)} limit=${hex(c.idtLimit, 4)}`),
      this.v('tr', `${hex(c.trSel, 4)} base=${hex(addr64(c.trBase), 8)} limit=${hex(c.trLimit, 4)}`),
      this.v('ldtr', `${hex(c.ldtSel, 4)} base=${hex(addr64(c.ldtBase), 8)} limit=${hex(c.ldtLimit, 4)}`),
      this.v('IA32_APIC_BASE', hex(this.m.lapics[c.index].apicBaseLo >>> 0, 8)),
      this.v('IA32_KERNEL_GS_BASE', hex(addr64(c.kernelGsBase), 8)),
      this.v('TSC', String(c.tsc())),
      this.v('dr7', hex(addr64(c.dr[7]), 8)),
      ...msrs,
    ];
  }

  private lapic(vcpu: number): DebugProtocol.Variable[] {
    const l = this.m.lapics[vcpu];
    const regs = lapicRegisters(l, this.m.time.nowNs());
    const out = [this.v('mode', l.mode() === 'x2apic' ? 'x2APIC' : l.mode() === 'xapic' ? `xAPIC at ${hex(l.mmioBase(), 8)}` : 'disabled (IA32_APIC_BASE.EN = 0)')];
    for (const r of regs) {
      const df = { name: r.name, evaluateName: `lapic.${r.name}` };
      if (r.name === 'ISR' || r.name === 'IRR' || r.name === 'TMR') {
        const bits = r.name === 'ISR' ? l.isr : r.name === 'IRR' ? l.irr : l.tmr;
        const vs = vectorList(bits);
        out.push(this.v(r.name, vs.length ? `[${vs.map(hexByte).join(', ')}]` : '[]', vs.length ? () => vs.map((x, k) => this.v(`[${k}]`, hexByte(x))) : undefined, df));
      } else if (r.name === 'ICR') {
        out.push(this.v('ICR', r.value, () => decodeIcrFields(l.icrLow, l.icrHigh, l.mode() === 'x2apic').split(' ').map((f) => { const [k, val] = f.split('='); return this.v(k, val); }), df));
      } else if (r.name.startsWith('LVT_')) {
        const k = LVT_NAMES.indexOf(r.name as typeof LVT_NAMES[number]);
        out.push(this.v(r.name, `${r.value}  ${r.decoded}`, () => decodeLvt(k, l.lvt[k]).split(' ').map((f) => { const [a, b] = f.split('='); return this.v(a, b ?? 'yes'); }), df));
      } else {
        out.push(this.v(r.name, `${r.value}  ${r.decoded}`, undefined, df));
      }
    }
    const pv = l.pendingVector();
    out.push(this.v('next interrupt', pv >= 0 ? `vector ${hexByte(pv)} (highest IRR above PPR)` : '(none deliverable)'));
    out.push(this.v('highest in service', highestVector(l.isr) >= 0 ? hexByte(highestVector(l.isr)) : '(none)'));
    return out;
  }

  private lastExit(vcpu: number): DebugProtocol.Variable[] {
    const e = this.m.vmm.lastExitOf(vcpu);
    const out: DebugProtocol.Variable[] = [];
    if (e === null) out.push(this.v('reason', '(no exit yet)'));
    else {
      out.push(this.v('reason', `${e.reason}${exitDetail({ reason: e.reason, ...e.qualification })}`));
      for (const [k, v] of Object.entries(e.qualification)) if (v !== undefined) out.push(this.v(k, typeof v === 'number' ? hex(v >>> 0) : JSON.stringify(v)));
    }
    const counts = EXIT_REASONS.map((r) => [r, this.m.vmm.exitCount(vcpu, r)] as const).filter(([, n]) => n > 0);
    out.push(this.v('exit counts', counts.map(([r, n]) => `${r}=${n}`).join(' ') || '(none)', counts.length ? () => counts.map(([r, n]) => this.v(r, String(n))) : undefined));
    return out;
  }

  private pending(c: Cpu): DebugProtocol.Variable[] {
    const l = this.m.lapics[c.index];
    const irr = vectorList(l.irr);
    const pv = l.pendingVector();
    return [
      this.v('activity', c.activity),
      this.v('run state', this.m.vmm.runState(c.index)),
      this.v('interrupts (IRR)', irr.length ? irr.map(hexByte).join(' ') : '(none)'),
      this.v('deliverable now', pv >= 0 ? `${hexByte(pv)}${c.flags & (1 << 9) ? '' : ' (held: EFLAGS.IF = 0)'}` : '(none above PPR)'),
      this.v('ExtINT (8259)', l.extIntLatched || this.m.hasExtInt(c.index) && pv < 0 ? 'pending' : 'no'),
      this.v('NMI', c.nmiPending || l.nmiPending ? 'pending' : c.nmiBlocked ? 'blocked (until IRET)' : 'none'),
      this.v('INIT', this.m.vmm.pendingInit[c.index] ? 'pending (deferred to the next exit)' : 'none'),
      this.v('SIPI', c.activity === 'wait-for-sipi' ? 'waiting for one' : 'not waiting'),
      this.v('SMIs received', String(l.smiCount)),
      this.v('interrupt shadow', c.shadowUntil >= c.instret ? 'yes (STI or MOV SS just executed)' : 'no'),
      this.v('EFLAGS.IF', c.flags & (1 << 9) ? '1' : '0'),
    ];
  }

  private rendezvous(): DebugProtocol.Variable[] {
    const r = rendezvousState(this.m);
    if (r === null) return [this.v('in progress', 'none')];
    return [
      this.v('name', r.name),
      this.v('initiator', r.initiator),
      this.v('requested', r.requested.join(', ')),
      this.v('done', r.done.join(', ') || '(none)'),
      this.v('blocking', r.blocking.map((k) => `vCPU ${k} (${this.m.cpus[k].activity})`).join(', ') || '(none)'),
    ];
  }

  private tlb(c: Cpu): DebugProtocol.Variable[] {
    const out = tlbEntries(c).map((t) => this.v(t.lin, `-> ${t.pa} ${t.rights}${t.largeKiB ? ` (from a ${t.largeKiB} KiB page)` : ''}`));
    if (out.length === 0) out.push(this.v('entries', '(empty)'));
    return out;
  }

  private event(e: HsEvent): DebugProtocol.Variable[] {
    const out = [this.v('type', e.type), this.v('vcpu', String(e.vcpu)), this.v('time', `${e.time} ns`), this.v('seq', String(e.seq))];
    for (const [k, v] of Object.entries(e.data as object)) {
      out.push(this.v(k, typeof v === 'number' ? (k === 'vector' || k === 'icrLow' || k === 'icrHigh' || k === 'address' || k === 'value' ? hex(v >>> 0) : String(v)) : typeof v === 'string' ? v : JSON.stringify(v)));
    }
    if (e.type === 'ipi.send') {
      const d = e.data as { icrLow: number; icrHigh: number; x2apic: boolean };
      out.push(this.v('ICR decoded', decodeIcrFields(d.icrLow, d.icrHigh, d.x2apic)));
    }
    return out;
  }
}
