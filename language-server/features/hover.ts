// Hover: what the thing under the cursor is. For numbers and constants, first what the
// hardware will make of them where they end up (the analysis' facts: an ICR write decoded,
// a WRMSR's MSR, the bits set in CR0, the port of an OUT), then the value itself; for
// mnemonics, the forms and flags from iced-x86's tables; for registers and directives, a
// summary; for labels and constants, where and how they are defined.
import type { Definition } from '../documents/model';
import { usesCpp } from '../documents/dialect';
import { hex } from '../documents/numbers';
import { lineTokens, tokenAt } from '../documents/tokens';
import type { Token } from '../documents/lexer';
import { describeDirective } from '../isa/directives';
import { describeMnemonic } from '../isa/descriptions';
import { flagsOf, mnemonicTable, normalizeMnemonic, PREFIXES, isBranch } from '../isa/instructions';
import { describeRegister, registerInfo } from '../isa/registers';
import { matchForm } from '../analysis/access';
import { decodeOperand, intelOrder } from '../documents/operands';
import { apicAddress, apicRegisterAt, describeApicAddress, describeApicRegister } from '../hardware/apic';
import { explainIcr } from '../hardware/apic-values';
import { describeBits } from '../hardware/control-registers';
import { describeMsr, msrInfo } from '../hardware/msrs';
import { describePort } from '../hardware/ports';
import { definitionsAt, symbolAt, resolveNumeric } from '../workspace/symbols';
import type { SourceFile } from '../workspace/store';
import type { Project } from './project';

export interface HoverResult {
  markdown: string;
  line: number;
  start: number;
  end: number;
}

export function hover(project: Project, file: SourceFile, line: number, col: number): HoverResult | undefined {
  const lines = project.lines(file);
  if (line < 0 || line >= lines.length) return undefined;
  const tokens = lineTokens(file.parsed, lines, line, usesCpp(file.key) || file.language === 'c-header');
  const tok = tokenAt(tokens, col);
  if (!tok) return undefined;
  const parts: string[] = [];
  // The analysis' facts for spans under the cursor (an immediate, an address, a port).
  const facts = project.analysis(file).facts.filter((f) => f.line === line && col >= f.start && col <= f.end && tok.start >= f.start - 1 && tok.end <= f.end + 1);
  for (const f of facts) if (!parts.includes(f.markdown)) parts.push(f.markdown);
  let range = { start: tok.start, end: tok.end };
  if (facts.length) range = { start: Math.min(...facts.map((f) => f.start)), end: Math.max(...facts.map((f) => f.end)) };

  // The value's meaning by name is a guess: only when the analysis has nothing better.
  const own = describeToken(project, file, line, col, tok, facts.length === 0);
  if (own) parts.push(own);
  if (!parts.length) return undefined;
  return { markdown: parts.join('\n\n---\n\n'), line, ...range };
}

function describeToken(project: Project, file: SourceFile, line: number, col: number, tok: Token, hints: boolean): string | undefined {
  const st = file.parsed.statements.find((s) => s.line === line && ((s.kind === 'instruction' && (s.mnemonic.start === tok.start || s.prefixes.some((p) => p.start === tok.start))) || (s.kind === 'directive' && s.name.start === tok.start)));
  if (st?.kind === 'instruction') {
    if (PREFIXES.has(tok.text.toLowerCase()) && st.mnemonic.start !== tok.start) return `**${tok.text.toUpperCase()}** prefix`;
    if (st.macroCall) {
      const defs = definitionsAt(project.ws, file, line, col);
      return defs.length ? defs.map((d) => definitionText(project, d.file, d.item, file, false)).join('\n\n') : `**${tok.text}**: not an instruction, and no macro of that name is defined here or in the includes`;
    }
    return describeInstruction(file, st);
  }
  if (st?.kind === 'directive') return directiveText(tok.text, st.dialect === 'nasm');
  // Preprocessor words: `#include` (lexed as # and include) and NASM's `%include`.
  const lineText = project.lines(file)[line] ?? '';
  const cpp = /^\s*#\s*([a-z]+)/.exec(lineText);
  if (cpp && file.language !== 'nasm' && tok.start <= lineText.indexOf(cpp[1]) + cpp[1].length && (tok.text === '#' || tok.text === cpp[1])) return directiveText(`#${cpp[1]}`, false);
  if (tok.kind === 'ident' && tok.text.startsWith('%') && file.language === 'nasm') return directiveText(tok.text, true);
  // A numeric local label's definition (`1:`).
  if (tok.kind === 'number') {
    const at = symbolAt(file, line, col);
    if (at?.kind === 'definition' && at.def.numeric) {
      const uses = file.parsed.references.filter((r) => r.direction && r.name === at.def.name && resolveNumeric(file, r) === at.def).length;
      return `**local label** \`${at.def.name}:\` (reached by ${uses} \`${at.def.name}b\`/\`${at.def.name}f\` reference${uses === 1 ? '' : 's'})`;
    }
  }
  switch (tok.kind) {
    case 'register': {
      const r = registerInfo(tok.text);
      return r ? describeRegister(r) : undefined;
    }
    case 'number': case 'char':
      // '' = no name and no context-free guesses (the analysis already said what it is).
      return tok.value === undefined ? undefined : numberText(tok.value, hints ? undefined : '');
    case 'local-ref': {
      const at = symbolAt(file, line, col);
      const d = at?.kind === 'reference' ? resolveNumeric(file, at.ref) : undefined;
      return d ? `Local label \`${d.name}:\` at line ${d.span.line + 1} (${tok.text.endsWith('b') ? 'backward' : 'forward'})` : `No \`${tok.text.slice(0, -1)}:\` ${tok.text.endsWith('b') ? 'before' : 'after'} this line`;
    }
    case 'string': {
      const inc = file.parsed.includes.find((i) => i.span.line === line && i.span.start === tok.start);
      if (!inc) return undefined;
      const target = project.ws.resolveInclude(file, inc);
      return target ? `Includes \`${target.key}\`` : `\`${inc.path}\` not found (next to this file, in the include paths, or in the workspace)`;
    }
    case 'ident': {
      const defs = definitionsAt(project.ws, file, line, col);
      if (defs.length) return defs.slice(0, 3).map((d) => definitionText(project, d.file, d.item, file, hints)).join('\n\n');
      if (symbolAt(file, line, col)) return `\`${tok.text}\`: not defined in this file, its includes or the workspace (external)`;
      return undefined;
    }
  }
  return undefined;
}

function directiveText(name: string, nasm: boolean): string | undefined {
  const d = describeDirective(name.replace(/^#\s*/, '#'), nasm);
  return d ? `**${name}** - ${d}` : undefined;
}

/** A mnemonic: summary, the matching and other forms, flags. */
function describeInstruction(file: SourceFile, insn: import('../documents/model').Instruction): string | undefined {
  const name = normalizeMnemonic(insn.mnemonic.text, insn.dialect);
  if (!name) {
    return insn.macroCall ? `**${insn.mnemonic.text}**: macro invocation` : undefined;
  }
  const forms = mnemonicTable().get(name.base) ?? [];
  const bits = insn.bits ?? file.parsed.defaultBits;
  const ops = intelOrder(insn.operands.map((o) => decodeOperand(o, insn.dialect, isBranch(name.base))), insn.dialect);
  const form = matchForm(name.base, ops, bits, name.bits);
  const lines: string[] = [];
  const title = name.base.toUpperCase() + (insn.mnemonic.text.toLowerCase() !== name.base ? ` (written \`${insn.mnemonic.text}\`${name.bits ? `, ${name.bits}-bit operands` : ''})` : '');
  lines.push(`**${title}**`);
  const what = describeMnemonic(name.base);
  if (what) lines.push(what);
  const shown = form ? [form, ...forms.filter((f) => f !== form && f.legacy)] : forms.filter((f) => f.legacy);
  const list = (shown.length ? shown : forms).slice(0, 10).map((f, i) => `- \`${f.instruction}\` - \`${f.opcode}\`${i === 0 && form ? ' (this one)' : ''}${f.mode64 ? '' : ' (not in 64-bit mode)'}`);
  if (forms.length > list.length) list.push(`- ... ${forms.length - list.length} more forms`);
  lines.push(`Forms (Intel operand order):\n${list.join('\n')}`);
  const fl = flagsOf((form ?? forms[0]).code);
  const flagParts = [
    fl.read.length ? `reads ${fl.read.join(' ')}` : '',
    fl.modified.filter((f) => !fl.set.includes(f) && !fl.cleared.includes(f) && !fl.undefined.includes(f)).length ? `writes ${fl.modified.filter((f) => !fl.set.includes(f) && !fl.cleared.includes(f) && !fl.undefined.includes(f)).join(' ')}` : '',
    fl.set.length ? `sets ${fl.set.join(' ')}` : '', fl.cleared.length ? `clears ${fl.cleared.join(' ')}` : '', fl.undefined.length ? `leaves undefined ${fl.undefined.join(' ')}` : '',
  ].filter(Boolean);
  lines.push(`Flags: ${flagParts.length ? flagParts.join('; ') : 'none affected'}`);
  lines.push('Forms and flags: iced-x86 op-code tables; see the SDM vol. 2 instruction reference.');
  return lines.join('\n\n');
}

/** A number: its value in the bases people use, and what it is if it is an APIC address. */
export function numberText(v: bigint, name: string | undefined): string {
  const u = BigInt.asUintN(64, v);
  const lines = [`\`${hex(u)}\` = ${u.toString(10)}${u < 0x10000n && u > 1n ? ` = 0b${u.toString(2)}` : ''}${v < 0n ? ` (${v.toString(10)})` : ''}`];
  const n = Number(u);
  const a = u < 0x100000000n && name !== '' ? apicAddress(n) : undefined;
  if (a) lines.push(describeApicAddress(a));
  if (name) {
    const hint = meaningByName(name, u);
    if (hint) lines.push(hint);
  }
  return lines.join('\n\n');
}

/** What a named constant probably is, from the words in its name (LAPIC_ICR_LO, MSR_APIC_BASE, CR0_PG, COM1). */
function meaningByName(name: string, v: bigint): string | undefined {
  const n = Number(v & 0xffffffffn);
  const upper = name.toUpperCase();
  if (/APIC|LAPIC/.test(upper) && !/MSR/.test(upper) && v < 0x400n) {
    const reg = apicRegisterAt(n);
    if (reg && /_(ID|VER|TPR|APR|PPR|EOI|RRD|LDR|DFR|SVR|ISR|TMR|IRR|ESR|ICR|LVT|TIMER|SELF|CMCI)/.test(upper)) return `As a local APIC register offset:\n\n${describeApicRegister(reg)}`;
  }
  if (/MSR|IA32_/.test(upper) && msrInfo(n)) return describeMsr(n);
  if (/^ICR_|_ICR_/.test(upper) && !/_(LO|HI|LOW|HIGH)$/.test(upper)) return `As ICR low bits:\n\n${explainIcr(n, undefined, false)}`;
  const cr = /^(CR0|CR4|EFER)_/.exec(upper);
  if (cr) return describeBits(cr[1] as 'CR0' | 'CR4' | 'EFER', v, 'or');
  if (/COM\d|UART|SERIAL|PORT|PIC|PIT|DEBUG_EXIT|FW_CFG/.test(upper)) return describePort(n);
  return undefined;
}

function definitionText(project: Project, file: SourceFile, d: Definition, from: SourceFile, hints: boolean): string {
  const where = `${file.key === from.key ? 'line' : `${file.key.split(/[\\/]/).pop()}, line`} ${d.span.line + 1}`;
  switch (d.kind) {
    case 'constant': {
      const v = project.constants(file).valueOf(d);
      const head = `\`\`\`\n${d.source ?? d.name}\n\`\`\`\n(${where})`;
      return v === undefined ? `${head}\n\nValue not constant here (refers to a label or an unknown symbol).` : `${head}\n\n${numberText(v, hints ? d.name : undefined)}`;
    }
    case 'macro':
      return `**macro** \`${d.name}\` (${where})${d.params ? `\n\n\`\`\`\n${d.params}\n\`\`\`` : ''}`;
    case 'section':
      return `**section** \`${d.name}\``;
    default: {
      const kind = d.numeric ? 'local label' : d.fn ? 'function' : d.data ? 'data label' : 'label';
      const at = project.constants(file).addressOf(d.name);
      const address = at?.exact !== undefined ? ` at ${hex(at.exact)}` : at?.min !== undefined ? ` at or above ${hex(at.min)}` : '';
      return `**${kind}** \`${d.name}\`${d.global ? ' (global)' : ''}${address} (${where})`;
    }
  }
}
