// Completion: mnemonics (iced-x86's table) and directives where an op goes; registers,
// the file's symbols (with its includes) and named hardware constants (LAPIC registers,
// MSRs, ICR fields, CR0/CR4/EFER bits: each inserts its number) where operands go.
import { CompletionItem, CompletionItemKind, InsertTextFormat, MarkupKind, Range, TextEdit } from 'vscode-languageserver';
import { usesCpp } from '../documents/dialect';
import { DIALECT_OF_CODE } from '../documents/model';
import { hex } from '../documents/numbers';
import { lineTokens } from '../documents/tokens';
import { GAS_DIRECTIVES, NASM_DIRECTIVES, CPP_DIRECTIVES } from '../isa/directives';
import { describeMnemonic } from '../isa/descriptions';
import { mnemonicTable, PREFIXES } from '../isa/instructions';
import { allRegisters } from '../isa/registers';
import { apicRegisterAt, describeApicRegister, displayName, LAPIC_PAGE } from '../hardware/apic';
import { allMsrs, describeMsr } from '../hardware/msrs';
import { bitNames, BitRegister } from '../hardware/control-registers';
import { explainIcr } from '../hardware/apic-values';
import { DM_FIXED, DM_INIT, DM_LOWEST, DM_NMI, DM_SMI, DM_STARTUP, ICR_DEST_LOGICAL, ICR_LEVEL_ASSERT, ICR_TRIGGER_LEVEL, ICR_SHORTHAND_SHIFT, SVR_ENABLE, LVT_MASKED } from '../../core/apic/registers';
import type { SourceFile } from '../workspace/store';
import type { Project } from './project';

/** Upper bound on items returned (the client filters further). */
const MAX_ITEMS = 5000;

export function complete(project: Project, file: SourceFile, line: number, col: number): CompletionItem[] {
  const lines = project.lines(file);
  const text = lines[line];
  if (text === undefined) return [];
  const dialect = DIALECT_OF_CODE[file.parsed.lineDialect[line] ?? 0];
  const nasm = dialect === 'nasm';
  // The word being typed: identifier characters plus AT&T's % and directive dots.
  let start = col;
  while (start > 0 && /[\w.%$@#]/.test(text[start - 1])) start--;
  const word = text.slice(start, col);
  const range = Range.create(line, start, line, col);
  // Inside a comment or a string: nothing.
  const before = lineTokens(file.parsed, lines, line, usesCpp(file.key)).filter((t) => t.end <= start);
  const codeEnd = Math.max(0, ...lineTokens(file.parsed, lines, line, usesCpp(file.key)).map((t) => t.end));
  if (col > codeEnd && /(^|[^'"])(#|\/\/|;|\/\*)/.test(text.slice(codeEnd, col)) && !(file.language !== 'nasm' && /^\s*#\w*$/.test(text.slice(0, col)))) return [];
  if (before.length && before[before.length - 1].kind === 'string' && before[before.length - 1].end > col) return [];
  // Op position: nothing but labels and prefixes before the word.
  let k = 0;
  while (k + 1 < before.length && (before[k].kind === 'ident' || before[k].kind === 'number') && before[k + 1].kind === 'punct' && before[k + 1].text === ':') k += 2;
  while (k < before.length && before[k].kind === 'ident' && PREFIXES.has(before[k].text.toLowerCase())) k++;
  const opPosition = k === before.length;
  const items: CompletionItem[] = [];
  const edit = (newText: string) => TextEdit.replace(range, newText);

  if (opPosition) {
    if (!nasm && /^\s*#/.test(text.slice(0, start)) || word.startsWith('#')) {
      for (const [d, doc] of Object.entries(CPP_DIRECTIVES)) items.push({ label: d, kind: CompletionItemKind.Keyword, detail: doc, textEdit: edit(word.startsWith('#') ? d : d.slice(1)) });
      return items;
    }
    const directives = nasm ? NASM_DIRECTIVES : GAS_DIRECTIVES;
    for (const [d, doc] of Object.entries(directives)) items.push({ label: d, kind: CompletionItemKind.Keyword, detail: doc, textEdit: edit(d) });
    if (!word.startsWith('.') || nasm) {
      for (const m of mnemonicTable().keys()) {
        const what = describeMnemonic(m);
        items.push({ label: m, kind: CompletionItemKind.Function, detail: what ? what.split('. ')[0] : 'instruction', textEdit: edit(m), data: { mnemonic: m } });
      }
      for (const p of PREFIXES) items.push({ label: p, kind: CompletionItemKind.Keyword, detail: 'prefix', textEdit: edit(p) });
    }
    for (const d of visibleDefinitions(project, file)) if (d.kind === 'macro') items.push({ label: d.name, kind: CompletionItemKind.Snippet, detail: 'macro', textEdit: edit(d.name) });
    return items.slice(0, MAX_ITEMS);
  }

  // Operands.
  const att = dialect === 'att';
  if (!word.startsWith('$') || !nasm) {
    for (const r of allRegisters()) {
      if (r.cls === 'tile' || r.cls === 'bound') continue;
      const label = att ? `%${r.name}` : r.name;
      if (att && word.length && !word.startsWith('%')) continue;
      items.push({ label, kind: CompletionItemKind.Variable, detail: `${r.bits}-bit ${r.cls}`, textEdit: edit(label), sortText: `1${label}` });
    }
  }
  if (word.startsWith('%')) return items;
  const prefix = word.startsWith('$') ? '$' : '';
  const defined = new Set<string>();
  for (const d of visibleDefinitions(project, file)) {
    defined.add(d.name);
    if (d.numeric || d.kind === 'section') continue;
    const kind = d.kind === 'constant' ? CompletionItemKind.Constant : d.kind === 'macro' ? CompletionItemKind.Snippet : d.data ? CompletionItemKind.Field : CompletionItemKind.Function;
    items.push({ label: d.name, kind, detail: d.source ?? d.kind, textEdit: edit(prefix + d.name), filterText: prefix + d.name, sortText: `0${d.name}` });
  }
  for (const h of hardwareConstants()) {
    if (defined.has(h.name)) continue; // the file's own definition of that name wins
    items.push({
      label: h.name, kind: CompletionItemKind.Constant, detail: `${h.detail} = ${h.text}`, filterText: prefix + h.name,
      textEdit: edit(prefix + h.text), sortText: `2${h.name}`, documentation: { kind: MarkupKind.Markdown, value: h.doc },
      insertTextFormat: InsertTextFormat.PlainText,
    });
  }
  return items.slice(0, MAX_ITEMS);
}

function visibleDefinitions(project: Project, file: SourceFile) {
  const out = [];
  const seen = new Set<string>();
  for (const f of project.ws.includeClosure(file)) {
    for (const d of f.parsed.definitions) {
      if (seen.has(d.name) || d.numeric) continue;
      seen.add(d.name);
      out.push(d);
    }
  }
  return out;
}

interface HardwareConstant {
  name: string;
  text: string;
  detail: string;
  doc: string;
}

let hardware: HardwareConstant[] | undefined;

/** Named numbers of the hardware: each completes to its value, documented. */
export function hardwareConstants(): HardwareConstant[] {
  if (hardware) return hardware;
  const out: HardwareConstant[] = [];
  for (let off = 0; off < 0x400; off += 0x10) {
    const reg = apicRegisterAt(off);
    if (!reg) continue;
    const doc = describeApicRegister(reg, LAPIC_PAGE + off);
    out.push({ name: `LAPIC_${reg.name}`, text: hex(LAPIC_PAGE + off, 8), detail: `Local APIC ${displayName(reg)} (MMIO)`, doc });
    out.push({ name: `APIC_${reg.name}`, text: hex(off, 3), detail: `Local APIC ${displayName(reg)} (offset)`, doc });
    if (reg.msr !== undefined) out.push({ name: `X2APIC_${reg.name === 'ICR_LOW' ? 'ICR' : reg.name}`, text: hex(reg.msr, 3), detail: `x2APIC ${displayName(reg)} (MSR)`, doc: describeMsr(reg.msr) });
  }
  for (const m of allMsrs()) if (!m.name.startsWith('x2APIC')) out.push({ name: m.name, text: hex(m.msr), detail: 'MSR', doc: describeMsr(m.msr) });
  const icr: [string, number][] = [
    ['ICR_FIXED', DM_FIXED << 8], ['ICR_LOWEST', DM_LOWEST << 8], ['ICR_SMI', DM_SMI << 8], ['ICR_NMI', DM_NMI << 8], ['ICR_INIT', DM_INIT << 8],
    ['ICR_STARTUP', DM_STARTUP << 8], ['ICR_LOGICAL', ICR_DEST_LOGICAL], ['ICR_ASSERT', ICR_LEVEL_ASSERT], ['ICR_LEVEL', ICR_TRIGGER_LEVEL],
    ['ICR_SELF', 1 << ICR_SHORTHAND_SHIFT], ['ICR_ALL', 2 << ICR_SHORTHAND_SHIFT], ['ICR_ALL_BUT_SELF', 3 << ICR_SHORTHAND_SHIFT],
  ];
  for (const [name, v] of icr) out.push({ name, text: hex(v), detail: 'ICR field', doc: explainIcr(v, undefined, false) });
  out.push({ name: 'SVR_ENABLE', text: hex(SVR_ENABLE), detail: 'SVR APIC software enable', doc: 'SVR bit 8: APIC software enable (SDM 11.9).' });
  out.push({ name: 'LVT_MASKED', text: hex(LVT_MASKED), detail: 'LVT mask bit', doc: 'LVT bit 16: masked (SDM 11.5.1).' });
  for (const reg of ['CR0', 'CR4', 'EFER'] as BitRegister[]) {
    for (const b of bitNames(reg)) out.push({ name: `${reg}_${b.name}`, text: hex(1 << b.bit >>> 0), detail: `${reg} bit ${b.bit}`, doc: `${reg}.${b.name} (bit ${b.bit}): ${b.meaning}` });
  }
  hardware = out;
  return out;
}
