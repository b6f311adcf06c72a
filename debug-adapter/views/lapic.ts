// A local APIC as a person reads it: every register by its SDM name and offset, decoded
// field by field (vector lists for ISR/TMR/IRR, ICR and LVT fields by name). Used by the
// Variables view, the `lapic` REPL command and the `hyperstep/lapic` request.
import type { LocalApic } from '../../core/apic/lapic';
import {
  APIC_APR, APIC_DFR, APIC_ESR, APIC_ICR_LOW, APIC_ID, APIC_IRR, APIC_ISR, APIC_LDR, APIC_PPR, APIC_RRD, APIC_SVR,
  APIC_TIMER_CCR, APIC_TIMER_DCR, APIC_TIMER_ICR, APIC_TMR, APIC_TPR, APIC_VER, LVT_CMCI, LVT_COUNT, LVT_NAMES,
  LVT_OFFSETS, LVT_TIMER, LVT_LINT0, LVT_LINT1, LVT_ERROR, timerDivisor,
} from '../../core/apic/registers';
import type { LapicRegisterView, LapicResponseBody } from '../protocol';

const DELIVERY = ['fixed', 'lowest', 'SMI', 'reserved(3)', 'NMI', 'INIT', 'start-up', 'ExtINT'];
const SHORTHAND = ['none', 'self', 'all-including-self', 'all-excluding-self'];
const TIMER_MODES = ['one-shot', 'periodic', 'TSC-deadline', 'reserved(3)'];
const ESR_BITS = ['send checksum', 'receive checksum', 'send accept', 'receive accept', 'redirectable IPI', 'send illegal vector', 'receive illegal vector', 'illegal register address'];

export const hex = (v: number, digits = 8): string => '0x' + (v >>> 0).toString(16).padStart(digits, '0');
export const hexByte = (v: number): string => '0x' + v.toString(16).padStart(2, '0');

/** The vectors set in a 256-bit register (ISR, TMR, IRR), ascending. */
export function vectorList(bits: Uint32Array): number[] {
  const out: number[] = [];
  for (let w = 0; w < 8; w++) {
    let x = bits[w] >>> 0;
    while (x !== 0) {
      const b = 31 - Math.clz32(x & -x);
      out.push(w * 32 + b);
      x &= x - 1;
    }
  }
  return out;
}

export function formatVectors(v: number[]): string {
  return v.length === 0 ? '(none)' : v.map(hexByte).join(' ');
}

/** ICR fields (SDM figure "Interrupt Command Register (ICR)"). */
export function decodeIcrFields(lo: number, hi: number, x2apic: boolean): string {
  const dm = (lo >>> 8) & 7;
  const dest = x2apic ? hi >>> 0 : hi >>> 24;
  return [
    `vector=${hexByte(lo & 0xff)}`,
    `mode=${DELIVERY[dm]}`,
    `destMode=${lo & (1 << 11) ? 'logical' : 'physical'}`,
    ...(x2apic ? [] : [`status=${lo & (1 << 12) ? 'send-pending' : 'idle'}`]),
    `level=${lo & (1 << 14) ? 'assert' : 'de-assert'}`,
    `trigger=${lo & (1 << 15) ? 'level' : 'edge'}`,
    `shorthand=${SHORTHAND[(lo >>> 18) & 3]}`,
    `dest=${hex(dest, x2apic ? 8 : 2)}`,
  ].join(' ');
}

/** One LVT entry's fields (SDM figure "Local Vector Table (LVT)"). */
export function decodeLvt(index: number, v: number): string {
  const f = [`vector=${hexByte(v & 0xff)}`];
  if (index === LVT_TIMER) f.push(`timer=${TIMER_MODES[(v >>> 17) & 3]}`);
  else if (index !== LVT_ERROR) f.push(`mode=${DELIVERY[(v >>> 8) & 7]}`);
  f.push(`status=${v & (1 << 12) ? 'send-pending' : 'idle'}`);
  if (index === LVT_LINT0 || index === LVT_LINT1) {
    f.push(`polarity=${v & (1 << 13) ? 'active-low' : 'active-high'}`, `remoteIRR=${(v >>> 14) & 1}`, `trigger=${v & (1 << 15) ? 'level' : 'edge'}`);
  }
  f.push(v & (1 << 16) ? 'masked' : 'unmasked');
  return f.join(' ');
}

export function decodeEsr(v: number): string {
  const set = ESR_BITS.filter((_, b) => v & (1 << b));
  return set.length === 0 ? '(no errors)' : set.join(', ');
}

export function decodeSvr(v: number): string {
  return `vector=${hexByte(v & 0xff)} ${v & 0x100 ? 'software-enabled' : 'software-disabled'}${v & 0x200 ? ' focus-check-off' : ''}${v & 0x1000 ? ' eoi-broadcast-suppressed' : ''}`;
}

/** Every register of a LAPIC, read without side effects (no ESR latch, no timer change). */
export function lapicRegisters(l: LocalApic, nowNs: number): LapicRegisterView[] {
  const x2 = l.mode() === 'x2apic';
  const out: LapicRegisterView[] = [];
  const add = (name: string, offset: number, value: string, decoded: string): void => { out.push({ name, offset, value, decoded }); };
  const id = x2 ? l.apicId >>> 0 : ((l.apicId & 0xff) << 24) >>> 0;
  add('ID', APIC_ID, hex(id), `APIC ID ${x2 ? l.apicId : l.apicId & 0xff}`);
  add('VER', APIC_VER, hex(l.version()), `version=${hexByte(l.version() & 0xff)} maxLVT=${(l.version() >>> 16) & 0xff}`);
  add('TPR', APIC_TPR, hex(l.tpr), `class=${(l.tpr >>> 4) & 15} sub-class=${l.tpr & 15}`);
  add('APR', APIC_APR, hex(0), `arbitration priority ${hexByte(l.arbitrationPriority())} (the register reads 0 on this version)`);
  const ppr = l.ppr();
  add('PPR', APIC_PPR, hex(ppr), `class=${(ppr >>> 4) & 15}: vectors above ${hexByte((ppr & 0xf0) | 0xf)} can be delivered`);
  add('RRD', APIC_RRD, hex(0), 'remote read (not supported)');
  const ldr = l.logicalId();
  add('LDR', APIC_LDR, hex(ldr), x2 ? `cluster=${ldr >>> 16} mask=${hex(ldr & 0xffff, 4)} (derived from the ID)` : `logical ID=${hexByte(ldr >>> 24)}`);
  if (!x2) add('DFR', APIC_DFR, hex(l.dfr), (l.dfr >>> 28) === 0xf ? 'model=flat' : (l.dfr >>> 28) === 0 ? 'model=cluster' : `model=${hex(l.dfr >>> 28, 1)} (reserved)`);
  add('SVR', APIC_SVR, hex(l.svr), decodeSvr(l.svr));
  const isr = vectorList(l.isr), tmr = vectorList(l.tmr), irr = vectorList(l.irr);
  add('ISR', APIC_ISR, isr.length ? hexByte(isr[isr.length - 1]) : '-', formatVectors(isr));
  add('TMR', APIC_TMR, tmr.length ? hexByte(tmr[tmr.length - 1]) : '-', formatVectors(tmr));
  add('IRR', APIC_IRR, irr.length ? hexByte(irr[irr.length - 1]) : '-', formatVectors(irr));
  add('ESR', APIC_ESR, hex(l.esr), `${decodeEsr(l.esr)}${l.esrPending ? `; since the last ESR write: ${decodeEsr(l.esrPending)}` : ''}`);
  const icr = x2 ? '0x' + (l.icrHigh >>> 0).toString(16).padStart(8, '0') + (l.icrLow >>> 0).toString(16).padStart(8, '0') : hex(l.icrLow);
  add('ICR', APIC_ICR_LOW, x2 ? icr : `${hex(l.icrHigh)}:${hex(l.icrLow)}`, decodeIcrFields(l.icrLow, l.icrHigh, x2));
  for (let k = 0; k < LVT_COUNT; k++) {
    if (k === LVT_CMCI && !l.hasCmci) continue;
    add(LVT_NAMES[k], LVT_OFFSETS[k], hex(l.lvt[k]), decodeLvt(k, l.lvt[k]));
  }
  add('TIMER_ICR', APIC_TIMER_ICR, hex(l.timer.initialCount), `initial count ${l.timer.initialCount}`);
  const ccr = l.timerCurrentCount();
  const next = l.nextDeadlineNs();
  add('TIMER_CCR', APIC_TIMER_CCR, hex(ccr), next === Infinity ? 'not counting' : `fires in ${Math.max(0, next - nowNs)} ns (virtual)`);
  add('TIMER_DCR', APIC_TIMER_DCR, hex(l.timer.dcr), `divide by ${timerDivisor(l.timer.dcr)}`);
  return out;
}

export function lapicView(l: LocalApic, nowNs: number): LapicResponseBody {
  const registers = lapicRegisters(l, nowNs);
  const mode = l.mode();
  const header = `vCPU ${l.vcpuIndex} LAPIC: ${mode === 'disabled' ? 'hardware-disabled' : mode === 'x2apic' ? 'x2APIC (MSRs 0x800-0x8FF)' : `xAPIC at ${hex(l.mmioBase())}`}${l.isBsp ? ', BSP' : ''}`;
  const width = Math.max(...registers.map((r) => r.name.length));
  const text = [header, ...registers.map((r) => `  ${r.name.padEnd(width)}  ${r.value.padEnd(19)} ${r.decoded}`)].join('\n');
  return { vcpu: l.vcpuIndex, mode, registers, text };
}

/** A LAPIC register's value by SDM name, as a number (ISR/TMR/IRR as 256-bit bitmaps); undefined if unknown. */
export function lapicValue(l: LocalApic, name: string, nowNs: number): bigint | undefined {
  const bitmap = (r: Uint32Array): bigint => vectorList(r).reduce((acc, v) => acc | (1n << BigInt(v)), 0n);
  const n = name.toUpperCase();
  const lvt = (LVT_NAMES as readonly string[]).indexOf(n);
  if (lvt >= 0) return BigInt(l.lvt[lvt] >>> 0);
  switch (n) {
    case 'ID': return BigInt(l.mode() === 'x2apic' ? l.apicId >>> 0 : ((l.apicId & 0xff) << 24) >>> 0);
    case 'VER': return BigInt(l.version() >>> 0);
    case 'TPR': return BigInt(l.tpr);
    case 'PPR': return BigInt(l.ppr());
    case 'APR': return 0n;
    case 'LDR': return BigInt(l.logicalId() >>> 0);
    case 'DFR': return BigInt(l.dfr >>> 0);
    case 'SVR': return BigInt(l.svr >>> 0);
    case 'ESR': return BigInt(l.esr >>> 0);
    case 'ISR': return bitmap(l.isr);
    case 'TMR': return bitmap(l.tmr);
    case 'IRR': return bitmap(l.irr);
    case 'ICR': return (BigInt(l.icrHigh >>> 0) << 32n) | BigInt(l.icrLow >>> 0);
    case 'TIMER_ICR': return BigInt(l.timer.initialCount >>> 0);
    case 'TIMER_CCR': return BigInt(l.timerCurrentCount() >>> 0);
    case 'TIMER_DCR': return BigInt(l.timer.dcr >>> 0);
  }
  void nowNs;
  return undefined;
}
