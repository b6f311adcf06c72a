// Splits one source line into tokens, per dialect. Comments are dropped; a `/* */`
// comment may span lines, so the caller threads `LexState` from line to line.
// Positions are UTF-16 columns on the line (what LSP positions count).
import type { Dialect } from './dialect';
import { parseNumber } from './numbers';
import { isRegister } from '../isa/registers';

export type TokenKind =
  | 'ident'        // symbol, mnemonic, directive or keyword (the parser decides which)
  | 'number'
  | 'local-ref'    // GNU as numeric local label reference: 1b, 2f
  | 'register'
  | 'string'
  | 'char'
  | 'macro-param'  // \arg (GNU as), %1 %%x %$x (NASM)
  | 'punct';

export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
  /** Numbers and characters. */
  value?: bigint;
}

export interface LexState {
  inBlockComment: boolean;
}

export interface LexOptions {
  dialect: Dialect;
  /** The line goes through cpp: C integer suffixes and // comments. */
  cpp: boolean;
  /** `#` does not start a comment (cpp directive bodies). */
  noHashComment?: boolean;
}

const PUNCT2 = ['<<', '>>', '<=', '>=', '==', '!=', '<>', '&&', '||', '//', '%%'];
const IDENT_START_GAS = /[A-Za-z_.]/;
const IDENT_PART_GAS = /[A-Za-z0-9_.$@]/;
const IDENT_START_NASM = /[A-Za-z_.?@]/;
const IDENT_PART_NASM = /[A-Za-z0-9_.$#@~?]/;

/** Longest line the lexer looks at: beyond it, text is ignored (a pasted binary must not stall the server). */
export const MAX_LINE = 4000;

export function lexLine(line: string, opts: LexOptions, state: LexState): Token[] {
  const text = line.length > MAX_LINE ? line.slice(0, MAX_LINE) : line;
  const nasm = opts.dialect === 'nasm';
  const out: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    if (state.inBlockComment) {
      const close = text.indexOf('*/', i);
      if (close < 0) return out;
      state.inBlockComment = false;
      i = close + 2;
      continue;
    }
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') { i++; continue; }
    // Comments.
    if (!nasm && c === '/' && text[i + 1] === '*') { state.inBlockComment = true; i += 2; continue; }
    if (nasm && c === ';') return out;
    if (!nasm && c === '#' && !opts.noHashComment) return out;
    if (!nasm && opts.cpp && c === '/' && text[i + 1] === '/') return out;
    const start = i;
    // Strings and characters.
    if (c === '"' || (nasm && (c === "'" || c === '`'))) {
      i++;
      while (i < n && text[i] !== c) i += text[i] === '\\' && c !== "'" ? 2 : 1;
      i = Math.min(n, i + 1);
      out.push({ kind: 'string', text: text.slice(start, i), start, end: i });
      continue;
    }
    if (c === "'") {
      // GNU as: 'c' or 'c (the closing quote is optional), with C escapes.
      let j = i + 1;
      let ch: number | undefined;
      if (text[j] === '\\' && j + 1 < n) {
        const e = text[j + 1];
        ch = ({ n: 10, t: 9, r: 13, '0': 0, '\\': 92, "'": 39, '"': 34, b: 8, f: 12 } as Record<string, number>)[e] ?? e.charCodeAt(0);
        j += 2;
      } else if (j < n) {
        ch = text.charCodeAt(j);
        j += 1;
      }
      if (text[j] === "'") j++;
      out.push({ kind: 'char', text: text.slice(start, j), start, end: j, value: ch === undefined ? undefined : BigInt(ch) });
      i = j;
      continue;
    }
    // AT&T registers: %eax, %st(1) keeps "(1)" as separate tokens.
    if (!nasm && c === '%' && /[A-Za-z]/.test(text[i + 1] ?? '')) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9]/.test(text[j])) j++;
      out.push({ kind: isRegister(text.slice(i + 1, j)) ? 'register' : 'ident', text: text.slice(start, j), start, end: j });
      i = j;
      continue;
    }
    // Macro parameters.
    if (!nasm && c === '\\' && /[A-Za-z_@()]/.test(text[i + 1] ?? '')) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_@()]/.test(text[j])) j++;
      out.push({ kind: 'macro-param', text: text.slice(start, j), start, end: j });
      i = j;
      continue;
    }
    if (nasm && c === '%' && /[0-9%$+\-]/.test(text[i + 1] ?? '') && !(out.length > 0 && isOperandEnd(out[out.length - 1]))) {
      let j = i + 1;
      if (text[j] === '%' || text[j] === '$') j++;
      if (text[j] === '$') j++;
      while (j < n && IDENT_PART_NASM.test(text[j])) j++;
      if (j === i + 1 && /[+\-]/.test(text[j] ?? '')) { j++; while (j < n && /[0-9]/.test(text[j])) j++; }
      out.push({ kind: 'macro-param', text: text.slice(start, j), start, end: j });
      i = j;
      continue;
    }
    // Numbers (and GNU as local label references 1b / 1f).
    if (/[0-9]/.test(c) || (nasm && c === '$' && /[0-9]/.test(text[i + 1] ?? ''))) {
      let j = i + 1;
      while (j < n && /[0-9A-Za-z_]/.test(text[j])) j++;
      const word = text.slice(start, j);
      if (!nasm && /^[0-9]+[bf]$/.test(word)) {
        out.push({ kind: 'local-ref', text: word, start, end: j });
      } else {
        out.push({ kind: 'number', text: word, start, end: j, value: parseNumber(word, opts.dialect, opts.cpp) });
      }
      i = j;
      continue;
    }
    // Identifiers (symbols, mnemonics, directives, registers in Intel syntax).
    const identStart = nasm ? IDENT_START_NASM : IDENT_START_GAS;
    const identPart = nasm ? IDENT_PART_NASM : IDENT_PART_GAS;
    if (identStart.test(c) || (nasm && c === '$' && identStart.test(text[i + 1] ?? '')) || (nasm && c === '%' && /[A-Za-z]/.test(text[i + 1] ?? ''))) {
      let j = i + 1;
      while (j < n && identPart.test(text[j])) j++;
      const word = text.slice(start, j);
      const regName = nasm && word.startsWith('$') ? undefined : word;
      const kind: TokenKind = opts.dialect !== 'att' && regName !== undefined && isRegister(regName) ? 'register' : 'ident';
      out.push({ kind, text: word, start, end: j });
      i = j;
      continue;
    }
    if (nasm && c === '$') {
      const j = text[i + 1] === '$' ? i + 2 : i + 1;
      out.push({ kind: 'punct', text: text.slice(start, j), start, end: j });
      i = j;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (PUNCT2.includes(two) && !(two === '//' && !nasm) && !(two === '%%' && !nasm)) {
      out.push({ kind: 'punct', text: two, start, end: i + 2 });
      i += 2;
      continue;
    }
    out.push({ kind: 'punct', text: c, start, end: i + 1 });
    i++;
  }
  return out;
}

/** A token after which `%` is the modulo operator, not a macro parameter. */
function isOperandEnd(t: Token): boolean {
  return t.kind === 'number' || t.kind === 'ident' || t.kind === 'register' || (t.kind === 'punct' && (t.text === ')' || t.text === ']'));
}
