// Runs the constant propagation over a file's basic blocks to a fixed point (values are
// kept only where every path agrees), then replays each block once to collect the
// hardware accesses, and turns them into hover facts and findings.
import type { ParsedDocument } from '../documents/model';
import { evaluate, pageShiftSource } from '../documents/expressions';
import { hex } from '../documents/numbers';
import { apicAddress, describeApicAddress, describeApicRegister, displayName, LAPIC_PAGE } from '../hardware/apic';
import { IOAPIC_BASE } from '../../core/apic/ioapic';
import { checkApicWrite, explainApicValue, Finding, sipiAddress } from '../hardware/apic-values';
import { describeBits } from '../hardware/control-registers';
import { describeMsr, msrInfo } from '../hardware/msrs';
import { describePort } from '../hardware/ports';
import { APIC_ICR_LOW, DM_STARTUP, MSR_IA32_APIC_BASE } from '../../core/apic/registers';
import { IA32_EFER } from '../../core/cpu/msr';
import { buildBlocks } from './cfg';
import { AnalysisEnv, HwEvent, Transfer, Where } from './transfer';
import { meet, Origin, RegValue, State, statesEqual } from './values';

/** What hover shows for a span: the hardware meaning of the value or address there. */
export interface Fact extends Where {
  markdown: string;
}

export interface LocatedFinding {
  where: Where;
  finding: Finding;
}

export interface Analysis {
  events: HwEvent[];
  facts: Fact[];
  findings: LocatedFinding[];
}

/** Upper bound on block visits, relative to the block count (the lattice is shallow; this only guards bad input). */
const VISITS_PER_BLOCK = 8;

export function analyze(doc: ParsedDocument, env: AnalysisEnv): Analysis {
  const blocks = buildBlocks(doc);
  const preds: number[][] = blocks.map(() => []);
  blocks.forEach((b, i) => b.succ.forEach((s) => preds[s].push(i)));
  const transfer = new Transfer(env, doc.defaultBits);
  const inStates: (State | undefined)[] = new Array(blocks.length);
  const outStates: (State | undefined)[] = new Array(blocks.length);
  const queue: number[] = blocks.map((_, i) => i);
  const queued = new Uint8Array(blocks.length).fill(1);
  let budget = blocks.length * VISITS_PER_BLOCK + 100;
  while (queue.length && budget-- > 0) {
    const i = queue.shift()!;
    queued[i] = 0;
    const inputs: State[] = [];
    for (const p of preds[i]) { const o = outStates[p]; if (o) inputs.push(o); }
    if (blocks[i].externalEntry) inputs.push(new Map());
    const input = meet(inputs);
    if (outStates[i] && inStates[i] && statesEqual(input, inStates[i]!)) continue;
    inStates[i] = input;
    const state = new Map(input);
    const stack: RegValue[] = [];
    for (const insn of blocks[i].insns) transfer.step(state, insn, stack);
    outStates[i] = state;
    for (const s of blocks[i].succ) if (!queued[s]) { queued[s] = 1; queue.push(s); }
  }
  const events: HwEvent[] = [];
  blocks.forEach((b, i) => {
    const state = new Map(inStates[i] ?? new Map());
    const stack: RegValue[] = [];
    for (const insn of b.insns) transfer.step(state, insn, stack, (e) => events.push(e));
  });
  return interpret(events, env);
}

function interpret(events: HwEvent[], env: AnalysisEnv): Analysis {
  const facts: Fact[] = [];
  const findings: LocatedFinding[] = [];
  const seen = new Set<string>();
  const fact = (w: Where | undefined, markdown: string | undefined) => {
    if (!w || !markdown) return;
    const key = `${w.line}:${w.start}:${w.end}:${markdown}`;
    if (seen.has(key)) return;
    seen.add(key);
    facts.push({ line: w.line, start: w.start, end: w.end, markdown });
  };
  const found = new Set<string>();
  const find = (where: Where, finding: Finding) => {
    const key = `${where.line}:${where.start}:${finding.code}:${finding.message}`;
    if (found.has(key)) return;
    found.add(key);
    findings.push({ where, finding });
  };
  for (const e of events) {
    switch (e.kind) {
      case 'apic-write': {
        const target = e.reg ? (e.x2apic && e.reg.offset === APIC_ICR_LOW ? 'x2APIC ICR' : `${e.x2apic ? 'x2APIC' : 'Local APIC'} ${displayName(e.reg)}`) : undefined;
        if (!e.x2apic) fact(e.address, e.reg ? describeApicRegister(e.reg, LAPIC_PAGE + e.offset) : describeApicAddress({ kind: 'lapic', address: LAPIC_PAGE + e.offset, offset: e.offset }));
        if (!e.reg) {
          if (e.address) find(e.address, { severity: 'warning', code: 'reserved-register', message: `Offset ${hex(e.offset, 3)} of the local APIC page is not a register: the write is ignored and ESR records an illegal register address (SDM 11.5.3).` });
          break;
        }
        const value = e.value === undefined ? undefined : Number(e.value & 0xffffffffn);
        const high = e.high === undefined ? undefined : Number(e.high & 0xffffffffn);
        if (value !== undefined) {
          const text = explainApicValue(e.reg, value, high, e.x2apic);
          const title = `Written to ${target}${e.x2apic ? ' (WRMSR)' : ''}`;
          for (const o of e.origins) fact(o, `${title}\n\n${text ?? `**${hex(value, 8)}**`}`);
          const where = e.origins.length === 1 ? e.origins[0] : e.insn;
          for (const f of checkApicWrite(e.reg, value, high, e.x2apic)) find(where, f);
        } else {
          for (const o of e.origins) {
            if (o.value === undefined) continue;
            const part = explainApicValue(e.reg, Number(o.value & 0xffffffffn), undefined, e.x2apic);
            fact(o, `Part of the value written to ${target} (${o.op.toUpperCase()})${part ? `\n\n${part}` : ''}`);
          }
        }
        if (e.reg.offset === APIC_ICR_LOW) {
          // The vector may be unknown (a label's page) while the delivery mode is not.
          const icr = value ?? modeProbe(e, env);
          if (icr !== undefined && ((icr >>> 8) & 7) === DM_STARTUP) sipiChecks(e, icr, env, find);
        }
        break;
      }
      case 'apic-read':
        if (!e.x2apic) fact(e.address, e.reg ? describeApicRegister(e.reg, LAPIC_PAGE + e.offset) : describeApicAddress({ kind: 'lapic', address: LAPIC_PAGE + e.offset, offset: e.offset }));
        break;
      case 'ioapic':
        fact(e.address, describeApicAddress(apicAddress(IOAPIC_BASE + e.offset)!));
        break;
      case 'msr': {
        const md = `${describeMsr(e.msr)}\n\n(the MSR number in ECX for RDMSR/WRMSR)`;
        for (const o of e.msrOrigins) fact(o, md);
        if (e.write) for (const o of e.origins) fact(o, msrValueText(e.msr, o, e.value));
        break;
      }
      case 'cr-write':
        for (const o of e.origins) fact(o, crValueText(e.cr, o, e.value));
        break;
      case 'port': {
        const md = describePort(e.port) ?? `**Port ${hex(e.port)}**: nothing Hyperstep models answers it (reads return 0xFF...).`;
        const text = `${md}\n\n${e.write ? 'Written' : 'Read'} at line ${e.insn.line + 1}.`;
        fact(e.portSpan, text);
        for (const o of e.portOrigins) fact(o, text);
        break;
      }
    }
  }
  return { events, facts, findings };
}

function msrValueText(msr: number, o: Origin, total: bigint | undefined): string | undefined {
  const name = msrInfo(msr)?.name ?? hex(msr);
  if (msr === IA32_EFER && o.value !== undefined) return `Written to IA32_EFER (WRMSR)\n\n${describeBits('EFER', o.value, o.op === 'and' || o.op === 'or' || o.op === 'xor' || o.op === 'bts' || o.op === 'btr' ? o.op : 'mov')}`;
  if (msr === MSR_IA32_APIC_BASE && o.value !== undefined) {
    const v = Number(o.value & 0xffffffffn);
    const bits = [v & 0x100 ? 'BSP (8)' : '', v & 0x400 ? 'EXTD x2APIC (10)' : '', v & 0x800 ? 'EN global enable (11)' : ''].filter(Boolean).join(', ');
    return `Written to IA32_APIC_BASE (${o.op.toUpperCase()})\n\n${bits ? `bits: ${bits}` : 'no flag bits'}${v & ~0xfff ? `; base ${hex(v & ~0xfff >>> 0, 8)}` : ''}`;
  }
  if (total !== undefined) return `Written to MSR ${hex(msr)} (${name}): EDX:EAX = ${hex(total, 16)}`;
  return o.value === undefined ? undefined : `Part of the value written to MSR ${hex(msr)} (${name}) (${o.op.toUpperCase()})`;
}

function crValueText(cr: number, o: Origin, total: bigint | undefined): string | undefined {
  if (o.value === undefined) return undefined;
  const op = o.op === 'and' || o.op === 'or' || o.op === 'xor' || o.op === 'bts' || o.op === 'btr' ? o.op : 'mov';
  if (cr === 0 || cr === 4) return `Written to CR${cr}${total !== undefined ? ` = ${hex(total, 8)}` : ''}\n\n${describeBits(cr === 0 ? 'CR0' : 'CR4', o.value, op)}`;
  if (cr === 3) return `Written to CR3: page-table root ${hex(o.value & ~0xfffn)}${o.value & 0xfffn ? `, low bits ${hex(o.value & 0xfffn)} (PWT/PCD or PCID)` : ''}`;
  return `Written to CR${cr}`;
}

/** The ICR value with labels of unknown address taken as 0: enough to read its delivery mode. */
function modeProbe(e: Extract<HwEvent, { kind: 'apic-write' }>, env: AnalysisEnv): number | undefined {
  const o = e.origins.length === 1 ? e.origins[0] : undefined;
  if (!o?.expr) return undefined;
  const v = evaluate(o.expr, { lookup: (n) => env.lookup(n, o.line) ?? (env.addressOf?.(n) ? 0n : undefined) }, 'att');
  return v === undefined ? undefined : Number(BigInt.asUintN(32, v));
}

/** A STARTUP IPI vector is a page number below 1 MiB: check the trampoline address it was made from. */
function sipiChecks(e: Extract<HwEvent, { kind: 'apic-write' }>, icr: number, env: AnalysisEnv, find: (w: Where, f: Finding) => void): void {
  const vector = icr & 0xff;
  const starts = sipiAddress(vector);
  let source: { value: bigint; where: Where } | undefined;
  if (e.page && e.page.origin) source = { value: e.page.value, where: e.page.origin };
  for (const o of e.origins) {
    if (source || !o.expr) break;
    const x = pageShiftSource(o.expr);
    if (!x) continue;
    const v = evaluate(x, { lookup: (n) => env.lookup(n, o.line) }, 'att');
    if (v !== undefined) source = { value: BigInt.asUintN(64, v), where: o };
    // A label whose exact place is unknown, but known to lie at or above 1 MiB (NASM: org 0x100000, then code).
    else if (x.k === 'sym') {
      const min = env.addressOf?.(x.name)?.min;
      if (min !== undefined && min >= 0x100000n) {
        find(o, { severity: 'error', code: 'sipi-above-1mib', message: `${x.name} is at or above ${hex(min)}, above 1 MiB: a STARTUP IPI vector holds address bits 19:12 only (SDM vol. 3, 9.4.4.1 and 11.6.1), so the AP would start at ${hex(starts, 5)} instead.` });
        return;
      }
    }
  }
  if (!source) return;
  const addr = source.value;
  if (addr >= 0x100000n) {
    find(source.where, { severity: 'error', code: 'sipi-above-1mib', message: `The start-up code at ${hex(addr)} is above 1 MiB: a STARTUP IPI vector holds address bits 19:12 only (SDM vol. 3, 9.4.4.1 and 11.6.1), so the AP would start at ${hex(starts, 5)} instead.` });
  } else if (addr & 0xfffn) {
    find(source.where, { severity: 'error', code: 'sipi-unaligned', message: `The start-up code at ${hex(addr)} is not 4 KiB aligned: the AP starts at the page boundary ${hex(starts, 5)} (vector ${hex(vector, 2)}), ${hex(addr - BigInt(starts))} bytes before it (SDM vol. 3, 9.4.4.1).` });
  }
}

