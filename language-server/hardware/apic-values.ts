// Values written to local APIC registers, decoded field by field and checked. The ICR
// verdict is the core's (core/apic/icr.ts decodeIcr, the SDM's table of valid
// combinations); reserved-bit masks are the core's too (apic.ts). What this file adds is
// the explanation a person reads in a hover and the wording of each finding.
import { decodeIcr, carriesVector } from '../../core/apic/icr';
import {
  APIC_EOI, APIC_ESR, APIC_ICR_HIGH, APIC_ICR_LOW, APIC_SVR, ICR_DELIVERY_STATUS, ICR_HIGH_WRITABLE, ICR_LOW_WRITABLE, LVT_DELIVERY_STATUS, LVT_LINT0, LVT_LINT1,
  LVT_MASKED, LVT_NAMES, LVT_REMOTE_IRR, LVT_TIMER, LVT_ERROR, SVR_ENABLE, SVR_FOCUS_DISABLE,
} from '../../core/apic/registers';
import { hex } from '../documents/numbers';
import type { ApicRegister } from './apic';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  severity: Severity;
  /** Stable diagnostic code, e.g. "icr-illegal". */
  code: string;
  message: string;
}

const ICR_MODES = ['000 fixed', '001 lowest priority', '010 SMI', '011 reserved', '100 NMI', '101 INIT', '110 start-up', '111 reserved (ExtINT)'];
const SHORTHANDS = ['00 no shorthand (use the destination field)', '01 self', '10 all including self', '11 all excluding self'];
const LVT_MODES = ['000 fixed', '001 reserved', '010 SMI', '011 reserved', '100 NMI', '101 INIT', '110 reserved', '111 ExtINT'];
const TABLE_REF = 'SDM vol. 3, 11.6.1, table "Valid Combinations for the Pentium 4 and Intel Xeon Processors\' Local xAPIC Interrupt Command Register"';

const bit = (v: number, b: number) => (v >>> b) & 1;
const bitList = (mask: number) => {
  const bits: number[] = [];
  for (let b = 0; b < 32; b++) if ((mask >>> b) & 1) bits.push(b);
  return bits.length === 1 ? `bit ${bits[0]}` : `bits ${bits.join(', ')}`;
};

/** The lowest 4 KiB page a STARTUP IPI with this vector starts an AP at (SDM 9.4.4.1: CS = VV00h, IP = 0). */
export const sipiAddress = (vector: number) => vector << 12;

/** Markdown: an ICR value decoded field by field, with the SDM table's verdict. */
export function explainIcr(low: number, high: number | undefined, x2apic: boolean): string {
  const lo = low >>> 0;
  const d = decodeIcr(lo, high ?? 0, x2apic);
  const dm = (lo >>> 8) & 7;
  const rows: [string, string, string][] = [
    ['vector', '7:0', hex(lo & 0xff, 2) + (dm === 6 ? ` (start-up page: AP starts at ${hex(sipiAddress(lo & 0xff), 5)}, CS=${hex((lo & 0xff) << 8, 4)} IP=0)` : '')],
    ['delivery mode', '10:8', ICR_MODES[dm]],
    ['destination mode', '11', bit(lo, 11) ? '1 logical' : '0 physical'],
  ];
  if (!x2apic) rows.push(['delivery status', '12', bit(lo, 12) ? '1 send pending (read-only)' : '0 idle']);
  rows.push(
    ['level', '14', bit(lo, 14) ? '1 assert' : '0 de-assert'],
    ['trigger mode', '15', bit(lo, 15) ? '1 level' : '0 edge'],
    ['destination shorthand', '19:18', SHORTHANDS[(lo >>> 18) & 3]],
  );
  if (high !== undefined) {
    const dest = x2apic ? high >>> 0 : (high >>> 24) & 0xff;
    const shorthand = (lo >>> 18) & 3;
    rows.push(['destination', x2apic ? '63:32' : '63:56', hex(dest, 2) + (shorthand ? ' (ignored: shorthand)' : bit(lo, 11) ? ' (logical)' : dest === (x2apic ? 0xffffffff : 0xff) ? ' (broadcast)' : ` (APIC ID ${dest})`)]);
  } else {
    rows.push(['destination', x2apic ? '63:32' : '63:56', x2apic ? 'EDX of the WRMSR' : 'from ICR high (0xFEE00310), written before']);
  }
  const table = ['| field | bits | value |', '|---|---|---|', ...rows.map((r) => `| ${r[0]} | ${r[1]} | ${r[2]} |`)].join('\n');
  let verdict: string;
  if (d.illegal) verdict = `**Invalid:** ${d.illegal} (${TABLE_REF}). The local APIC ignores this write.`;
  else if (d.ipi?.mode === 'init-deassert') verdict = 'INIT level de-assert: P6-era synchronisation message; Pentium 4 and later ignore it (so do QEMU, KVM, bhyve and Hyperstep).';
  else if (d.ipi && bit(lo, 15)) verdict = 'Valid; a level-triggered IPI is sent as edge-triggered (table note 2).';
  else verdict = 'Valid combination.';
  const title = x2apic ? `**x2APIC ICR** (MSR 0x830) = ${hex(high ?? 0, 8)}:${hex(lo, 8)}` : `**ICR low** = ${hex(lo, 8)}`;
  return `${title}\n\n${table}\n\n${verdict}`;
}

/** Problems with an ICR value: the SDM table, reserved bits, vectors. */
export function checkIcr(low: number, high: number | undefined, x2apic: boolean): Finding[] {
  const lo = low >>> 0;
  const out: Finding[] = [];
  const d = decodeIcr(lo, high ?? 0, x2apic);
  if (d.illegal) out.push({ severity: 'error', code: 'icr-illegal', message: `Illegal ICR value ${hex(lo, 8)}: ${d.illegal}. The ${TABLE_REF} rules this combination out; the local APIC will not send it.` });
  // Reserved bits of the low half (delivery status is read-only in xAPIC mode, reserved in x2APIC mode).
  const reserved = lo & ~ICR_LOW_WRITABLE & ~(x2apic ? 0 : ICR_DELIVERY_STATUS);
  if (reserved) out.push({ severity: x2apic ? 'error' : 'warning', code: 'reserved-bits', message: `ICR ${bitList(reserved)} reserved${x2apic ? ' (WRMSR raises #GP)' : ''} (SDM 11.6.1).` });
  if (!x2apic && lo & ICR_DELIVERY_STATUS) out.push({ severity: 'info', code: 'read-only-bits', message: 'ICR bit 12 (delivery status) is read-only: the written 1 is ignored.' });
  const ipi = d.ipi;
  if (ipi && !d.illegal) {
    if (carriesVector(ipi.mode) && ipi.vector < 16) out.push({ severity: 'warning', code: 'illegal-vector', message: `Vector ${hex(ipi.vector, 2)} is illegal for a ${ipi.mode} IPI: vectors 0-15 are not delivered and set ESR "send illegal vector" (SDM 11.5.2, 11.5.3).` });
    if (ipi.mode === 'startup' && ipi.vector >= 0xa0 && ipi.vector <= 0xbf) out.push({ severity: 'warning', code: 'sipi-reserved-vector', message: `STARTUP vector ${hex(ipi.vector, 2)} is in the reserved range A0h-BFh (Intel MultiProcessor Specification 1.4, B.4.2).` });
  }
  return out;
}

/** Markdown: an LVT entry decoded. */
export function explainLvt(index: number, value: number): string {
  const v = value >>> 0;
  const name = LVT_NAMES[index];
  const rows: [string, string, string][] = [['vector', '7:0', hex(v & 0xff, 2)]];
  if (index !== LVT_TIMER && index !== LVT_ERROR) rows.push(['delivery mode', '10:8', LVT_MODES[(v >>> 8) & 7]]);
  rows.push(['delivery status', '12', bit(v, 12) ? '1 send pending (read-only)' : '0 idle']);
  if (index === LVT_LINT0 || index === LVT_LINT1) {
    rows.push(['pin polarity', '13', bit(v, 13) ? '1 active low' : '0 active high'], ['remote IRR', '14', `${bit(v, 14)} (read-only)`], ['trigger mode', '15', bit(v, 15) ? '1 level' : '0 edge']);
  }
  rows.push(['mask', '16', bit(v, 16) ? '1 masked' : '0 not masked']);
  if (index === LVT_TIMER) rows.push(['timer mode', '18:17', ['00 one-shot', '01 periodic', '10 TSC-deadline', '11 reserved'][(v >>> 17) & 3]]);
  return `**${name}** = ${hex(v, 8)}\n\n${['| field | bits | value |', '|---|---|---|', ...rows.map((r) => `| ${r[0]} | ${r[1]} | ${r[2]} |`)].join('\n')}\n\nSDM vol. 3, 11.5.1, figure "Local Vector Table (LVT)".`;
}

export function checkLvt(reg: ApicRegister, value: number, x2apic: boolean): Finding[] {
  const v = value >>> 0;
  const out: Finding[] = [];
  const index = reg.lvt!;
  const reserved = v & (reg.reserved ?? 0);
  if (reserved) out.push({ severity: x2apic ? 'error' : 'warning', code: 'reserved-bits', message: `${LVT_NAMES[index]}: ${bitList(reserved)} reserved${x2apic ? ' (WRMSR raises #GP)' : ''} (SDM 11.5.1).` });
  const readOnly = v & (LVT_DELIVERY_STATUS | ((index === LVT_LINT0 || index === LVT_LINT1) ? LVT_REMOTE_IRR : 0));
  if (readOnly) out.push({ severity: 'info', code: 'read-only-bits', message: `${LVT_NAMES[index]}: ${bitList(readOnly)} read-only; the written value is ignored.` });
  if (index === LVT_TIMER && ((v >>> 17) & 3) === 3) out.push({ severity: 'warning', code: 'reserved-bits', message: 'LVT_TIMER: timer mode 11 is reserved (SDM 11.5.4).' });
  const mode = index === LVT_TIMER || index === LVT_ERROR ? 0 : (v >>> 8) & 7;
  if (mode === 1 || mode === 3 || mode === 6) out.push({ severity: 'warning', code: 'reserved-delivery-mode', message: `${LVT_NAMES[index]}: delivery mode ${LVT_MODES[mode]} is not a valid LVT delivery mode.` });
  if (!(v & LVT_MASKED) && mode === 0 && (v & 0xff) < 16) out.push({ severity: 'warning', code: 'illegal-vector', message: `${LVT_NAMES[index]}: vector ${hex(v & 0xff, 2)} is illegal (0-15): the interrupt is not delivered and ESR records an illegal vector (SDM 11.5.2).` });
  return out;
}

export function explainSvr(value: number): string {
  const v = value >>> 0;
  const rows: [string, string, string][] = [
    ['spurious vector', '7:0', hex(v & 0xff, 2)],
    ['APIC software enable', '8', v & SVR_ENABLE ? '1 enabled' : '0 disabled: no fixed interrupts are accepted, LVT entries stay masked'],
    ['focus processor checking', '9', `${bit(v, 9)} (not supported since the Pentium 4: reserved)`],
    ['EOI-broadcast suppression', '12', `${bit(v, 12)} (only if VER bit 24 says it is supported; Hyperstep and QEMU: not)`],
  ];
  return `**SVR** = ${hex(v, 8)}\n\n${['| field | bits | value |', '|---|---|---|', ...rows.map((r) => `| ${r[0]} | ${r[1]} | ${r[2]} |`)].join('\n')}\n\nSDM vol. 3, 11.9, figure "Spurious-Interrupt Vector Register (SVR)".`;
}

export function checkSvr(reg: ApicRegister, value: number, x2apic: boolean): Finding[] {
  const v = value >>> 0;
  const out: Finding[] = [];
  const reserved = v & (reg.reserved ?? 0);
  if (reserved) out.push({ severity: x2apic ? 'error' : 'warning', code: 'reserved-bits', message: `SVR: ${bitList(reserved)} reserved${x2apic ? ' (WRMSR raises #GP)' : ''}${reserved & 0x1000 ? '; bit 12 (EOI-broadcast suppression) exists only when VER bit 24 is set' : ''} (SDM 11.9).` });
  if (v & SVR_FOCUS_DISABLE) out.push({ severity: 'info', code: 'reserved-bits', message: 'SVR bit 9 (focus processor checking) is not supported since the Pentium 4; it is ignored.' });
  return out;
}

/** Everything wrong with writing `value` (and `high`, for ICR) to a local APIC register. */
export function checkApicWrite(reg: ApicRegister, value: number, high: number | undefined, x2apic: boolean): Finding[] {
  if (reg.readOnly) return [{ severity: x2apic ? 'error' : 'warning', code: 'read-only-register', message: `${reg.name} is read-only: ${x2apic ? 'WRMSR raises #GP' : 'the write is ignored'}.` }];
  if (reg.offset === APIC_ICR_LOW) return checkIcr(value, high, x2apic);
  if (reg.offset === APIC_ICR_HIGH) return !x2apic && value & ~ICR_HIGH_WRITABLE ? [{ severity: 'warning', code: 'reserved-bits', message: `ICR high ${bitList(value & ~ICR_HIGH_WRITABLE)} reserved: the xAPIC destination is bits 63:56 only.` }] : [];
  if (reg.lvt !== undefined) return checkLvt(reg, value, x2apic);
  if (reg.offset === APIC_SVR) return checkSvr(reg, value, x2apic);
  if (x2apic && (reg.offset === APIC_EOI || reg.offset === APIC_ESR) && value !== 0) return [{ severity: 'error', code: 'reserved-bits', message: `${reg.name}: in x2APIC mode only 0 may be written (WRMSR of a non-zero value raises #GP).` }];
  const reserved = (value >>> 0) & (reg.reserved ?? 0);
  if (reserved) return [{ severity: x2apic ? 'error' : 'warning', code: 'reserved-bits', message: `${reg.name}: ${bitList(reserved)} reserved${x2apic ? ' (WRMSR raises #GP)' : ''}.` }];
  return [];
}

/** Markdown: a value as the register it is written to reads it; undefined when nothing to decode. */
export function explainApicValue(reg: ApicRegister, value: number, high: number | undefined, x2apic: boolean): string | undefined {
  if (reg.offset === APIC_ICR_LOW) return explainIcr(value, high, x2apic);
  if (reg.offset === APIC_ICR_HIGH) return `**ICR high** = ${hex(value >>> 0, 8)}: destination ${hex((value >>> 24) & 0xff, 2)} (bits 63:56)`;
  if (reg.lvt !== undefined) return explainLvt(reg.lvt, value);
  if (reg.offset === APIC_SVR) return explainSvr(value);
  return undefined;
}
