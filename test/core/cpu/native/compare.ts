// Compares native and interpreter outcomes case by case and writes the report: per family, how
// many cases differ, in which flags or registers, whether only in what the SDM leaves undefined,
// and the first few examples in full.
import { Case, COMPARED_FLAGS, flagNames, FLAG_LIST, Outcome } from './cases';
import { GPR_NAMES, RSP } from './encoder';
import { InterpOutcome } from './interpreter';

export interface Mismatch {
  c: Case;
  native: Outcome;
  interp: InterpOutcome;
  /** GPRs whose values differ. */
  regs: number[];
  /** Compared RFLAGS bits that differ. */
  flags: number;
  faultDiffers: boolean;
  /** True when every difference is in a flag or result the SDM leaves undefined for this case. */
  undefinedOnly: boolean;
  /** What differs, one item each ("OF(u)", "result", "fault native=#0 interp=none"...). */
  parts: string[];
  /** The parts joined: groups similar mismatches. */
  signature: string;
}

export interface FamilyReport {
  family: string;
  cases: number;
  mismatches: Mismatch[];
}

export function compareCase(c: Case, native: Outcome, interp: InterpOutcome): Mismatch | null {
  const regs: number[] = [];
  // In 32-bit mode only EAX..EDI exist; their upper halves are undefined after leaving
  // compatibility mode natively, so they are not compared.
  const count = c.bits === 32 ? 8 : 16;
  const width = c.bits === 32 ? 0xffffffffn : (1n << 64n) - 1n;
  for (let r = 0; r < count; r++) if ((native.state.gpr[r] & width) !== (interp.state.gpr[r] & width)) regs.push(r);
  const flags = Number((native.state.rflags ^ interp.state.rflags) & BigInt(COMPARED_FLAGS));
  const faultDiffers = native.fault !== interp.fault;
  if (!regs.length && !flags && !faultDiffers && !interp.error) return null;
  const undefinedOnly = !interp.error && !faultDiffers && (flags & ~c.undefinedFlags) === 0
    && (regs.length === 0 || (!!c.undefinedResult && regs.every((r) => c.regs.includes(r))));
  // When the interpreter threw, its state means nothing: the error is the only difference.
  if (interp.error) {
    const parts = [`threw "${errorKind(interp.error)}"`];
    return { c, native, interp, regs: [], flags: 0, faultDiffers: false, undefinedOnly: false, parts, signature: parts[0] };
  }
  const parts: string[] = [];
  if (faultDiffers) parts.push(`fault native=${vec(native.fault)} interp=${vec(interp.fault)}`);
  if (regs.length) {
    const outside = regs.filter((r) => !c.regs.includes(r));
    if (native.fault !== null) parts.push('regs at fault');
    else if (outside.length) parts.push(`other regs (${outside.map((r) => GPR_NAMES[r]).join(',')})`);
    else parts.push(c.undefinedResult && undefinedOnly ? 'result(u)' : 'result');
  }
  for (const [name, bit] of FLAG_LIST) if (flags & bit) parts.push(c.undefinedFlags & bit ? `${name}(u)` : name);
  return { c, native, interp, regs, flags, faultDiffers, undefinedOnly, parts, signature: parts.join(' ') };
}

/** An error message without its case-specific details (quoted text, numbers), for grouping. */
function errorKind(msg: string): string {
  return msg.replace(/`[^`]*`|'[^']*'|"[^"]*"/g, '...').replace(/\([^)]*\)/g, '(...)').replace(/0x[0-9a-f]+|\b\d+\b/gi, '#').slice(0, 100);
}

function vec(v: number | null): string {
  return v === null ? 'none' : `#${v}`;
}

export function compareAll(cases: readonly Case[], native: readonly Outcome[], interp: readonly InterpOutcome[]): FamilyReport[] {
  const byFamily = new Map<string, FamilyReport>();
  cases.forEach((c, i) => {
    let rep = byFamily.get(c.family);
    if (!rep) byFamily.set(c.family, (rep = { family: c.family, cases: 0, mismatches: [] }));
    rep.cases++;
    const m = compareCase(c, native[i], interp[i]);
    if (m) rep.mismatches.push(m);
  });
  return [...byFamily.values()];
}

const hex64 = (v: bigint): string => v.toString(16).padStart(16, '0');
const hexBytes = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');

function regLine(label: string, o: Outcome, shown: number[]): string {
  const regs = shown.map((r) => `${GPR_NAMES[r]}=${hex64(o.state.gpr[r])}`).join(' ');
  return `      ${label.padEnd(7)}${regs}${regs ? '  ' : ''}flags[${flagNames(Number(o.state.rflags) & COMPARED_FLAGS)}]`
    + (o.fault !== null && o.fault !== undefined ? `  fault #${o.fault}` : '');
}

export function formatExample(m: Mismatch, n: number): string {
  const shown = [...new Set([...m.c.regs, ...m.regs])].filter((r) => r !== RSP || m.regs.includes(RSP)).sort((a, b) => a - b);
  const lines = [
    `   #${n} ${m.c.text}   [${hexBytes(m.c.code)}]${m.c.bits === 32 ? ' (32-bit mode)' : ''}   form "${m.c.form}"`,
    regLine('in', { state: m.c.input, fault: null }, shown),
    regLine('native', m.native, shown),
    m.interp.error ? `      interp threw: ${m.interp.error}` : regLine('interp', m.interp, shown),
  ];
  const diffs: string[] = [];
  for (const [name, bit] of FLAG_LIST) {
    if (m.flags & bit) diffs.push(`${name} (${m.c.undefinedFlags & bit ? 'SDM-undefined here' : 'defined'})`);
  }
  for (const r of m.regs) diffs.push(`${GPR_NAMES[r]}${m.c.undefinedResult ? ` (SDM: ${m.c.undefinedResult})` : ''}`);
  if (m.faultDiffers) diffs.push(`fault: native ${vec(m.native.fault)}, interp ${vec(m.interp.fault)}`);
  lines.push(`      differs: ${diffs.join(', ') || 'interpreter error'}`);
  return lines.join('\n');
}

/** Signature histogram per form, most frequent first. */
function formSummary(rep: FamilyReport): string[] {
  const forms = new Map<string, Map<string, number>>();
  for (const m of rep.mismatches) {
    const sigs = forms.get(m.c.form) ?? new Map<string, number>();
    sigs.set(m.signature, (sigs.get(m.signature) ?? 0) + 1);
    forms.set(m.c.form, sigs);
  }
  return [...forms.entries()].map(([form, sigs]) => {
    const total = [...sigs.values()].reduce((a, b) => a + b, 0);
    return `   ${form}: ${total} (${topList(sigs, 4, '; ')})`;
  });
}

/** "a x3, b x2, ... (+5 more)": the most frequent entries of a histogram. */
function topList(counts: Map<string, number>, n: number, sep = ', '): string {
  const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  const shown = sorted.slice(0, n).map(([k, v]) => `${k} x${v}`).join(sep);
  return sorted.length > n ? `${shown}${sep}... (+${sorted.length - n} more)` : shown;
}

/** The first mismatch of each distinct kind first, so a few examples show as much variety as possible. */
function pickExamples(all: readonly Mismatch[], n: number): Mismatch[] {
  const picked: Mismatch[] = [];
  const seen = new Set<string>();
  for (const m of all) {
    if (picked.length >= n) break;
    if (!seen.has(m.signature)) { seen.add(m.signature); picked.push(m); }
  }
  for (const m of all) {
    if (picked.length >= n) break;
    if (!picked.includes(m)) picked.push(m);
  }
  return picked;
}

export function formatFamily(rep: FamilyReport, examples = 3): string {
  const undef = rep.mismatches.filter((m) => m.undefinedOnly).length;
  const lines = [`-- ${rep.family}: ${rep.mismatches.length} of ${rep.cases} cases differ `
    + `(${rep.mismatches.length - undef} in defined state, ${undef} only in SDM-undefined flags/results)`];
  const forms = formSummary(rep);
  lines.push(...forms.slice(0, 16));
  if (forms.length > 16) lines.push(`   ... and ${forms.length - 16} more forms`);
  pickExamples(rep.mismatches, examples).forEach((m, i) => lines.push(formatExample(m, i + 1)));
  return lines.join('\n');
}

export function formatSummary(reports: readonly FamilyReport[]): string {
  const total = reports.reduce((a, r) => a + r.cases, 0);
  const bad = reports.filter((r) => r.mismatches.length);
  const lines = [`${total} cases in ${reports.length} families; ${bad.length} families differ from the host CPU`];
  if (bad.length) {
    lines.push(`${'family'.padEnd(10)}${'cases'.padStart(7)}${'differ'.padStart(8)}${'defined'.padStart(9)}${'undef'.padStart(7)}  differing (x cases)`);
    for (const r of bad) {
      const undef = r.mismatches.filter((m) => m.undefinedOnly).length;
      const what = new Map<string, number>();
      for (const m of r.mismatches) for (const part of m.parts) what.set(part, (what.get(part) ?? 0) + 1);
      const detail = topList(what, 6);
      lines.push(`${r.family.padEnd(10)}${String(r.cases).padStart(7)}${String(r.mismatches.length).padStart(8)}`
        + `${String(r.mismatches.length - undef).padStart(9)}${String(undef).padStart(7)}  ${detail}`);
    }
  }
  return lines.join('\n');
}
