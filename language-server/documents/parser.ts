// Parses a whole file into statements, symbol definitions, references, includes and
// sections. One pass, line by line; never throws on bad input (unknown text becomes
// an unknown statement or is skipped), and work per line is bounded (see lexer MAX_LINE).
import { Dialect, Language, initialDialect } from './dialect';
import { parseExpression } from './expressions';
import { lexLine, LexState, Token } from './lexer';
import {
  DIALECT_CODE, Definition, Directive, Include, Instruction, Operand, ParsedDocument, Reference, ReferenceUse, SectionMark, Statement,
} from './model';
import { isBranch, isMnemonicOrPrefix, normalizeMnemonic, PREFIXES } from '../isa/instructions';
import { registerInfo } from '../isa/registers';

/** Words inside operands that are keywords, not symbols. */
const OPERAND_KEYWORDS = new Set([
  'byte', 'word', 'dword', 'qword', 'tword', 'oword', 'yword', 'zword', 'fword', 'tbyte', 'xmmword', 'ymmword', 'zmmword', 'ptr', 'offset',
  'short', 'near', 'far', 'strict', 'rel', 'abs', 'seg', 'wrt', 'flat', 'nosplit', 'to', 'dup',
]);

/** NASM directives and pseudo-instructions (no dot). */
const NASM_DIRECTIVES = new Set([
  'section', 'segment', 'global', 'extern', 'common', 'static', 'required', 'bits', 'use16', 'use32', 'use64', 'org', 'align', 'alignb',
  'times', 'db', 'dw', 'dd', 'dq', 'dt', 'do', 'dy', 'dz', 'resb', 'resw', 'resd', 'resq', 'rest', 'reso', 'resy', 'resz', 'incbin',
  'equ', 'struc', 'endstruc', 'istruc', 'at', 'iend', 'absolute', 'default', 'cpu', 'float', 'warning', 'sectalign',
]);
const NASM_DATA = /^(d[bwdqtoyz]|res[bwdqtoyz]|times|incbin|istruc|at|iend)$/i;
const GAS_DATA = /^\.(byte|short|word|hword|long|int|quad|octa|ascii|asciz|string|zero|space|skip|fill|single|float|double|value|2byte|4byte|8byte|dc.*|ds.*)$/i;

const GAS_SET = new Set(['.set', '.equ', '.equiv', '.eqv']);

interface Ctx {
  lang: Language;
  cpp: boolean;
  dialect: Dialect;
  bits?: 16 | 32 | 64;
  macroDepth: number;
  macroDef?: Definition;
  /** NASM: last non-local label, to qualify `.local`. */
  scope?: string;
  scopes: { line: number; name: string }[];
  out: Omit<ParsedDocument, 'scopeAt'>;
  macros: Set<string>;
  saw64: boolean;
  saw16: boolean;
  /** `.type NAME, @function` / `.globl NAME` seen before NAME's label. */
  pendingFn: Set<string>;
  pendingGlobal: Set<string>;
  /** The latest definition of each name (for .globl / .type after the label). */
  latest: Map<string, Definition>;
}

export function parseDocument(text: string, lang: Language, cpp: boolean, startDialect?: Dialect): ParsedDocument {
  const lines = text.split(/\r?\n|\r/);
  const out: Omit<ParsedDocument, 'scopeAt'> = {
    language: lang, lineCount: lines.length, statements: [], definitions: [], references: [], includes: [], sections: [],
    defaultBits: 32, lineDialect: new Uint8Array(lines.length), lineInComment: new Uint8Array(lines.length),
  };
  const ctx: Ctx = { lang, cpp: cpp || lang === 'c-header', dialect: startDialect ?? initialDialect(lang), macroDepth: 0, scopes: [], out, macros: new Set(), saw64: false, saw16: false,
    pendingFn: new Set(), pendingGlobal: new Set(), latest: new Map() };
  const state: LexState = { inBlockComment: false };
  for (let ln = 0; ln < lines.length; ln++) {
    out.lineDialect[ln] = DIALECT_CODE[ctx.dialect];
    out.lineInComment[ln] = state.inBlockComment ? 1 : 0;
    let line = lines[ln];
    // cpp directive lines (and their backslash continuations) in .S files and headers;
    // in NASM and plain .s files `#` lines are comments anyway, except GNU as line markers.
    if (lang !== 'nasm' && !state.inBlockComment && /^\s*#\s*[a-z]/.test(line)) {
      let last = ln;
      while (line.endsWith('\\') && last + 1 < lines.length) {
        last++;
        out.lineDialect[last] = DIALECT_CODE[ctx.dialect];
        line = line.slice(0, -1) + ' ' + lines[last];
      }
      preprocessorLine(ctx, line, ln, state);
      ln = last;
      continue;
    }
    if (lang === 'c-header') {
      lexLine(line, { dialect: 'att', cpp: true, noHashComment: true }, state); // only to follow /* */ comments
      continue;
    }
    const tokens = lexLine(line, { dialect: ctx.dialect, cpp: ctx.cpp }, state);
    if (tokens.length === 0) continue;
    // GNU as: `;` separates statements.
    let from = 0;
    for (let k = 0; k <= tokens.length; k++) {
      if (k === tokens.length || (ctx.dialect !== 'nasm' && tokens[k].kind === 'punct' && tokens[k].text === ';')) {
        if (k > from) statement(ctx, tokens.slice(from, k), ln, line);
        from = k + 1;
      }
    }
  }
  // Default code size when no directive says: the registers decide.
  out.defaultBits = ctx.saw64 ? 64 : lang === 'nasm' && ctx.saw16 && !ctx.saw64 ? 16 : 32;
  const scopes = ctx.scopes;
  return {
    ...out,
    scopeAt(line: number): string | undefined {
      let lo = 0, hi = scopes.length - 1, found: string | undefined;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (scopes[mid].line <= line) { found = scopes[mid].name; lo = mid + 1; } else hi = mid - 1;
      }
      return found;
    },
  };
}

// --- statements -------------------------------------------------------------------------------

function statement(ctx: Ctx, tokens: Token[], ln: number, lineText: string): void {
  let i = 0;
  const nasm = ctx.dialect === 'nasm';
  // Labels: `name:` (several may precede one statement), GNU as numeric `1:`.
  for (;;) {
    const t = tokens[i];
    const next = tokens[i + 1];
    if (!t) return;
    if (next && next.kind === 'punct' && next.text === ':' && (t.kind === 'ident' || (t.kind === 'number' && !nasm && /^[0-9]+$/.test(t.text)))
      && !(nasm && tokens[i + 2]?.kind === 'punct' && tokens[i + 2].text === '[')) {
      // `es:` before a memory operand is a segment, not a label (registers are not idents, so fine here).
      addLabel(ctx, t, ln, t.kind === 'number');
      i += 2;
      continue;
    }
    break;
  }
  const op = tokens[i];
  if (!op) return;
  // name = expr (GNU as), name equ expr (NASM), name: equ expr.
  if (!nasm && op.kind === 'ident' && tokens[i + 1]?.kind === 'punct' && (tokens[i + 1].text === '=' || tokens[i + 1].text === '==')) {
    addConstant(ctx, op, ln, tokens, i + 2, lineText.trim());
    return;
  }
  if (nasm && op.kind === 'ident' && tokens[i + 1]?.kind === 'ident' && tokens[i + 1].text.toLowerCase() === 'equ') {
    addConstant(ctx, op, ln, tokens, i + 2, lineText.trim());
    return;
  }
  if (nasm && op.kind === 'ident' && op.text.toLowerCase() === 'equ' && i > 0) {
    const label = ctx.out.definitions[ctx.out.definitions.length - 1];
    if (label && label.span.line === ln) {
      label.kind = 'constant';
      label.value = parseExpression(tokens, 'nasm', i + 1);
      label.source = lineText.trim();
      refsIn(ctx, tokens, i + 1, tokens.length, ln, 'data');
    }
    return;
  }
  if (nasm && op.kind === 'punct' && op.text === '[') {
    nasmBracketDirective(ctx, tokens, i, ln);
    return;
  }
  if (op.kind === 'ident' && nasm && op.text.startsWith('%')) {
    nasmPreprocessor(ctx, tokens, i, ln, lineText);
    return;
  }
  if (op.kind !== 'ident' && op.kind !== 'macro-param') {
    refsIn(ctx, tokens, i, tokens.length, ln, 'data');
    return;
  }
  const name = op.text;
  const lower = name.toLowerCase();
  // NASM label without a colon: an identifier that is not an op, followed by an op or nothing.
  if (nasm && !NASM_DIRECTIVES.has(lower) && !isMnemonicOrPrefix(name, 'nasm') && !ctx.macros.has(name) && op.kind === 'ident') {
    const next = tokens[i + 1];
    if (!next || (next.kind === 'ident' && (NASM_DIRECTIVES.has(next.text.toLowerCase()) || isMnemonicOrPrefix(next.text, 'nasm') || ctx.macros.has(next.text)))) {
      addLabel(ctx, op, ln, false);
      i++;
      if (!tokens[i]) return;
      statementOp(ctx, tokens, i, ln, lineText);
      return;
    }
  }
  statementOp(ctx, tokens, i, ln, lineText);
}

function statementOp(ctx: Ctx, tokens: Token[], i: number, ln: number, lineText: string): void {
  const op = tokens[i];
  const lower = op.text.toLowerCase();
  const nasm = ctx.dialect === 'nasm';
  if (nasm && lower === 'equ') return; // handled by statement()
  if ((!nasm && op.text.startsWith('.')) || (nasm && NASM_DIRECTIVES.has(lower))) {
    directive(ctx, tokens, i, ln, lineText);
    return;
  }
  // Prefixes, then the mnemonic.
  const prefixes: Token[] = [];
  while (tokens[i] && tokens[i].kind === 'ident' && PREFIXES.has(tokens[i].text.toLowerCase()) && tokens[i + 1] && tokens[i + 1].kind === 'ident') prefixes.push(tokens[i++]);
  const mnemonic = tokens[i];
  if (!mnemonic) return;
  const operands = splitOperands(tokens, i + 1);
  const known = normalizeMnemonic(mnemonic.text, ctx.dialect) !== undefined || PREFIXES.has(mnemonic.text.toLowerCase());
  const macroCall = !known && mnemonic.kind === 'ident';
  const insn: Instruction = {
    kind: 'instruction', line: ln, mnemonic, prefixes, operands, dialect: ctx.dialect, bits: ctx.bits,
    inMacro: ctx.macroDepth > 0, macroCall, end: tokens[tokens.length - 1].end,
  };
  ctx.out.statements.push(insn);
  if (macroCall) ctx.out.references.push({ name: mnemonic.text, span: span(ln, mnemonic), use: 'macro' });
  const base = normalizeMnemonic(mnemonic.text, ctx.dialect)?.base ?? '';
  const use: ReferenceUse = base === 'call' ? 'call' : isBranch(base) ? 'jump' : 'data';
  operands.forEach((o, k) => {
    // Only a direct operand is a code address (jmp label); `jmp *table(,%eax,4)` reads data,
    // and the selector of a far jump (`ljmp $SEL, $label`, `jmp SEL:label`) is data too.
    const direct = o.tokens[0] && !(o.tokens[0].kind === 'punct' && (o.tokens[0].text === '*' || o.tokens[0].text === '['));
    const selector = use !== 'data' && k < operands.length - 1;
    refsIn(ctx, o.tokens, 0, o.tokens.length, ln, direct && !selector ? use : 'data');
    for (const t of o.tokens) noteRegister(ctx, t);
  });
}

function noteRegister(ctx: Ctx, t: Token): void {
  if (t.kind !== 'register') return;
  const r = registerInfo(t.text);
  if (!r || r.cls !== 'gpr') return;
  if (r.bits === 64 || /^r\d/.test(r.name) || /^(spl|bpl|sil|dil)$/.test(r.name)) ctx.saw64 = true;
  if (r.bits === 16) ctx.saw16 = true;
}

export function splitOperands(tokens: Token[], from: number, to = tokens.length): Operand[] {
  const ops: Operand[] = [];
  let depth = 0;
  let start = from;
  for (let k = from; k <= to; k++) {
    const t = tokens[k];
    if (k === to || (depth === 0 && t.kind === 'punct' && t.text === ',')) {
      if (k > start) ops.push({ tokens: tokens.slice(start, k), start: tokens[start].start, end: tokens[k - 1].end });
      start = k + 1;
      continue;
    }
    if (t.kind === 'punct' && (t.text === '(' || t.text === '[' || t.text === '{')) depth++;
    else if (t.kind === 'punct' && (t.text === ')' || t.text === ']' || t.text === '}')) depth = Math.max(0, depth - 1);
  }
  return ops;
}

// --- directives --------------------------------------------------------------------------------

function directive(ctx: Ctx, tokens: Token[], i: number, ln: number, lineText: string): void {
  const op = tokens[i];
  const name = op.text.toLowerCase();
  const operands = splitOperands(tokens, i + 1);
  const dir: Directive = { kind: 'directive', line: ln, name: op, operands, dialect: ctx.dialect, inMacro: ctx.macroDepth > 0 };
  ctx.out.statements.push(dir);
  const first = tokens[i + 1];
  const nasm = ctx.dialect === 'nasm';
  switch (name) {
    case '.intel_syntax': ctx.dialect = 'intel'; return;
    case '.att_syntax': ctx.dialect = 'att'; return;
    case '.code16': case '.code16gcc': ctx.bits = 16; ctx.saw16 = true; return;
    case '.code32': ctx.bits = 32; return;
    case '.code64': ctx.bits = 64; ctx.saw64 = true; return;
    case 'use16': ctx.bits = 16; return;
    case 'use32': ctx.bits = 32; return;
    case 'use64': ctx.bits = 64; return;
    case 'bits': {
      const v = first?.value;
      if (v === 16n || v === 32n || v === 64n) ctx.bits = Number(v) as 16 | 32 | 64;
      if (v === 64n) ctx.saw64 = true;
      return;
    }
    case '.text': case '.data': case '.bss':
      ctx.out.sections.push({ name, span: span(ln, op) });
      return;
    case '.section': case '.pushsection': case 'section': case 'segment':
      if (first) {
        const end = operands[0]?.end ?? first.end;
        ctx.out.sections.push({ name: lineTextSlice(tokens, i + 1, first.start, end), span: { line: ln, start: first.start, end } });
      }
      return;
    case '.globl': case '.global': case 'global': case '.extern': case 'extern': case '.weak': case '.hidden': case 'common': case 'static': case '.local':
      for (const o of operands) {
        const t = o.tokens[0];
        if (t && t.kind === 'ident') {
          const full = qualify(ctx, t.text);
          ctx.out.references.push({ name: full, span: span(ln, t), use: 'declaration' });
          if (name.includes('glob')) markGlobal(ctx, full);
        }
      }
      return;
    case '.type':
      if (first && first.kind === 'ident') {
        ctx.out.references.push({ name: first.text, span: span(ln, first), use: 'declaration' });
        if (/function/.test(lineText)) {
          const d = findDef(ctx, first.text);
          if (d) d.fn = true; else ctx.pendingFn.add(first.text);
        }
      }
      return;
    case '.size':
      refsIn(ctx, tokens, i + 1, tokens.length, ln, 'declaration');
      return;
    case '.comm': case '.lcomm':
      if (first && first.kind === 'ident') {
        addLabel(ctx, first, ln, false);
        ctx.out.definitions[ctx.out.definitions.length - 1].data = true;
        refsIn(ctx, tokens, i + 2, tokens.length, ln, 'data');
      }
      return;
    case '.macro': case '%macro': case '%imacro':
      if (first && first.kind === 'ident') {
        const d: Definition = { name: first.text, kind: 'macro', span: span(ln, first), dialect: ctx.dialect, params: lineText.trim() };
        define(ctx, d);
        ctx.macros.add(first.text);
        if (ctx.macroDepth === 0) ctx.macroDef = d;
      }
      ctx.macroDepth++;
      return;
    case '.endm': case '.endmacro':
      ctx.macroDepth = Math.max(0, ctx.macroDepth - 1);
      if (ctx.macroDepth === 0 && ctx.macroDef) { ctx.macroDef.endLine = ln; ctx.macroDef = undefined; }
      return;
    case '.include':
      if (first && first.kind === 'string') addInclude(ctx, first, ln, '.include');
      return;
    case 'struc':
      if (first && first.kind === 'ident') {
        addLabel(ctx, first, ln, false);
        ctx.out.definitions[ctx.out.definitions.length - 1].data = true;
      }
      return;
    case 'istruc':
      refsIn(ctx, tokens, i + 1, tokens.length, ln, 'data');
      return;
  }
  if (GAS_SET.has(name) && first && first.kind === 'ident') {
    const comma = tokens.findIndex((t, k) => k > i + 1 && t.kind === 'punct' && t.text === ',');
    addConstant(ctx, first, ln, tokens, comma < 0 ? tokens.length : comma + 1, lineText.trim());
    return;
  }
  if ((GAS_DATA.test(name) || (nasm && NASM_DATA.test(name))) && ctx.out.statements.length >= 2) {
    const prev = ctx.out.statements[ctx.out.statements.length - 2];
    if (prev.kind === 'label' && !prev.def.fn) prev.def.data = true;
  }
  refsIn(ctx, tokens, i + 1, tokens.length, ln, 'data');
}

function lineTextSlice(tokens: Token[], from: number, start: number, end: number): string {
  return tokens.slice(from).filter((t) => t.start >= start && t.end <= end).map((t) => t.text).join('');
}

function nasmBracketDirective(ctx: Ctx, tokens: Token[], i: number, ln: number): void {
  const inner = tokens[i + 1];
  if (!inner || inner.kind !== 'ident') return;
  const close = tokens.findIndex((t, k) => k > i && t.kind === 'punct' && t.text === ']');
  const body = tokens.slice(i + 1, close < 0 ? tokens.length : close);
  directive(ctx, body, 0, ln, body.map((t) => t.text).join(' '));
}

function nasmPreprocessor(ctx: Ctx, tokens: Token[], i: number, ln: number, lineText: string): void {
  const op = tokens[i];
  const name = op.text.toLowerCase();
  const first = tokens[i + 1];
  switch (name) {
    case '%define': case '%xdefine': case '%idefine': case '%xidefine': case '%assign': case '%iassign':
      if (first && first.kind === 'ident') {
        const fnLike = tokens[i + 2]?.kind === 'punct' && tokens[i + 2].text === '(' && tokens[i + 2].start === first.end;
        if (fnLike) {
          define(ctx, { name: first.text, kind: 'macro', span: span(ln, first), dialect: 'nasm', params: lineText.trim() });
        } else {
          addConstant(ctx, first, ln, tokens, i + 2, lineText.trim());
        }
      }
      return;
    case '%macro': case '%imacro':
      directive(ctx, tokens, i, ln, lineText);
      return;
    case '%endmacro': case '%endm':
      ctx.macroDepth = Math.max(0, ctx.macroDepth - 1);
      if (ctx.macroDepth === 0 && ctx.macroDef) { ctx.macroDef.endLine = ln; ctx.macroDef = undefined; }
      return;
    case '%include':
      if (first && first.kind === 'string') addInclude(ctx, first, ln, '%include');
      return;
    case '%ifdef': case '%ifndef': case '%elifdef': case '%elifndef': case '%undef':
      if (first && first.kind === 'ident') ctx.out.references.push({ name: first.text, span: span(ln, first), use: 'declaration' });
      return;
    default:
      refsIn(ctx, tokens, i + 1, tokens.length, ln, 'data');
  }
}

// --- the C preprocessor (.S files and headers) --------------------------------------------------

function preprocessorLine(ctx: Ctx, line: string, ln: number, state: LexState): void {
  const m = /^(\s*#\s*)([a-z]+)/.exec(line);
  if (!m) return;
  const keyword = m[2];
  const tokens = lexLine(line, { dialect: 'att', cpp: true, noHashComment: true }, state);
  // tokens[0] is '#', tokens[1] the keyword.
  const first = tokens[2];
  switch (keyword) {
    case 'define': {
      if (!first || first.kind !== 'ident') return;
      const fnLike = tokens[3]?.kind === 'punct' && tokens[3].text === '(' && tokens[3].start === first.end;
      if (fnLike) {
        const close = tokens.findIndex((t, k) => k > 3 && t.kind === 'punct' && t.text === ')');
        define(ctx, { name: first.text, kind: 'macro', span: span(ln, first), dialect: 'att', params: line.trim() });
        refsIn(ctx, tokens, close < 0 ? tokens.length : close + 1, tokens.length, ln, 'data');
      } else {
        addConstant(ctx, first, ln, tokens, 3, line.trim().replace(/\s*\/\*.*?\*\/\s*$/, '').replace(/\s*\/\/.*$/, ''));
      }
      return;
    }
    case 'include':
      if (first && first.kind === 'string') addInclude(ctx, first, ln, '#include');
      else if (first && first.kind === 'punct' && first.text === '<') {
        const close = line.indexOf('>', first.end);
        if (close > 0) {
          ctx.out.includes.push({ path: line.slice(first.end, close), span: { line: ln, start: first.start, end: close + 1 }, how: '#include', system: true });
        }
      }
      return;
    case 'ifdef': case 'ifndef': case 'undef':
      if (first && first.kind === 'ident') ctx.out.references.push({ name: first.text, span: span(ln, first), use: 'declaration' });
      return;
    case 'if': case 'elif':
      refsIn(ctx, tokens, 2, tokens.length, ln, 'data');
      return;
  }
}

// --- definitions and references ---------------------------------------------------------------

function span(line: number, t: Token): { line: number; start: number; end: number } {
  return { line, start: t.start, end: t.end };
}

/** NASM: `.local` belongs to the last non-local label. */
function qualify(ctx: Ctx, name: string): string {
  if (ctx.dialect === 'nasm' && name.startsWith('.') && !name.startsWith('..') && ctx.scope) return ctx.scope + name;
  return name;
}

function addLabel(ctx: Ctx, t: Token, ln: number, numeric: boolean): void {
  let name = t.text;
  if (ctx.dialect === 'nasm' && !numeric) {
    if (name.startsWith('.') && !name.startsWith('..')) name = qualify(ctx, name);
    else if (!name.startsWith('..@')) { ctx.scope = name; ctx.scopes.push({ line: ln, name }); }
  }
  const def: Definition = { name, kind: 'label', span: span(ln, t), dialect: ctx.dialect, numeric: numeric || undefined };
  if (ctx.pendingFn.delete(name)) def.fn = true;
  if (ctx.pendingGlobal.delete(name)) def.global = true;
  define(ctx, def);
  ctx.out.statements.push({ kind: 'label', line: ln, def });
}

function addConstant(ctx: Ctx, t: Token, ln: number, tokens: Token[], from: number, source: string): void {
  const dialect = ctx.dialect;
  define(ctx, { name: t.text, kind: 'constant', span: span(ln, t), dialect, value: parseExpression(tokens, dialect, from), source });
  refsIn(ctx, tokens, from, tokens.length, ln, 'data');
}

function addInclude(ctx: Ctx, t: Token, ln: number, how: '.include' | '%include' | '#include'): void {
  const path = t.text.slice(1, t.text.endsWith(t.text[0]) && t.text.length > 1 ? -1 : undefined);
  ctx.out.includes.push({ path, span: span(ln, t), how, system: false });
}

function markGlobal(ctx: Ctx, name: string): void {
  const d = findDef(ctx, name);
  if (d) d.global = true; else ctx.pendingGlobal.add(name);
}

function findDef(ctx: Ctx, name: string): Definition | undefined {
  return ctx.latest.get(name);
}

function define(ctx: Ctx, d: Definition): void {
  ctx.out.definitions.push(d);
  ctx.latest.set(d.name, d);
}

/** Symbol references among tokens[from, to). */
function refsIn(ctx: Ctx, tokens: Token[], from: number, to: number, ln: number, use: ReferenceUse): void {
  for (let k = from; k < to; k++) {
    const t = tokens[k];
    if (t.kind === 'local-ref') {
      ctx.out.references.push({ name: t.text.slice(0, -1), span: span(ln, t), use, direction: t.text.endsWith('b') ? 'b' : 'f' });
      continue;
    }
    if (t.kind !== 'ident') continue;
    const lower = t.text.toLowerCase();
    if (OPERAND_KEYWORDS.has(lower) || t.text.startsWith('@') || t.text === '.' || t.text.startsWith('%')) continue;
    // A segment name before ':' in Intel syntax is a register; `sym@PLT` names sym.
    const at = t.text.indexOf('@');
    const name = at > 0 ? t.text.slice(0, at) : t.text;
    const ref: Reference = { name: qualify(ctx, name), span: { line: ln, start: t.start, end: t.start + name.length }, use };
    ctx.out.references.push(ref);
  }
}

export type { Statement };
