// What an operand is: a register, an immediate, a memory reference (segment, base,
// index, scale, displacement) or a branch target, decoded per dialect. AT&T:
// `$imm`, `%reg`, `seg:disp(base,index,scale)`, `*op` for indirect branches; Intel and
// NASM: `reg`, `[base + index*scale + disp]` with size keywords, bare expressions.
import type { Dialect } from './dialect';
import { Expr, parseExpression } from './expressions';
import type { Token } from './lexer';
import type { Operand } from './model';
import { registerInfo, RegisterInfo } from '../isa/registers';

export interface RegisterRef {
  reg: RegisterInfo;
  tok: Token;
}

export type OperandInfo =
  | { kind: 'reg'; reg: RegisterInfo; tok: Token; indirect: boolean; start: number; end: number }
  | { kind: 'imm'; expr: Expr; start: number; end: number }
  | {
      kind: 'mem'; seg?: RegisterRef; base?: RegisterRef; index?: RegisterRef; scale: number;
      /** Displacement terms (added together); each keeps its sign. */
      disp: { expr: Expr; negate: boolean }[];
      /** The displacement's columns, for hover and diagnostics; undefined when there is none. */
      dispStart?: number; dispEnd?: number;
      /** Width from a size keyword (dword ptr) when written. */
      sizeBits?: number;
      indirect: boolean;
      start: number; end: number;
    }
  | { kind: 'target'; expr: Expr; start: number; end: number }
  | { kind: 'other'; start: number; end: number };

const SIZE_KEYWORDS: Record<string, number> = {
  byte: 8, word: 16, dword: 32, qword: 64, fword: 48, tword: 80, tbyte: 80, oword: 128, xmmword: 128, yword: 256, ymmword: 256, zword: 512, zmmword: 512,
};
const SKIP = new Set(['ptr', 'short', 'near', 'far', 'strict', 'rel', 'abs', 'nosplit']);

const isPunct = (t: Token | undefined, text: string) => t !== undefined && t.kind === 'punct' && t.text === text;

export function decodeOperand(op: Operand, dialect: Dialect, branch: boolean): OperandInfo {
  const toks = op.tokens;
  if (toks.length === 0) return { kind: 'other', start: op.start, end: op.end };
  try {
    return dialect === 'att' ? decodeAtt(toks, op, branch) : decodeIntel(toks, op, dialect, branch);
  } catch {
    return { kind: 'other', start: op.start, end: op.end };
  }
}

function decodeAtt(toks: Token[], op: Operand, branch: boolean): OperandInfo {
  let i = 0;
  let indirect = false;
  if (isPunct(toks[0], '*')) { indirect = true; i = 1; }
  if (isPunct(toks[i], '$')) {
    return { kind: 'imm', expr: parseExpression(toks, 'att', i + 1), start: toks[Math.min(i + 1, toks.length - 1)].start, end: op.end };
  }
  // %st(1)
  if (toks[i]?.kind === 'register' && i === toks.length - 1 || (toks[i]?.kind === 'register' && toks[i].text.toLowerCase() === '%st' && isPunct(toks[i + 1], '('))) {
    const reg = registerInfo(toks[i].text)!;
    return { kind: 'reg', reg, tok: toks[i], indirect, start: toks[i].start, end: op.end };
  }
  let seg: RegisterRef | undefined;
  if (toks[i]?.kind === 'register' && isPunct(toks[i + 1], ':')) {
    seg = { reg: registerInfo(toks[i].text)!, tok: toks[i] };
    i += 2;
  }
  // disp(base, index, scale): the last top-level parenthesis holding registers or commas.
  let open = -1;
  if (isPunct(toks[toks.length - 1], ')')) {
    let depth = 0;
    for (let k = toks.length - 1; k >= i; k--) {
      if (isPunct(toks[k], ')')) depth++;
      else if (isPunct(toks[k], '(')) { depth--; if (depth === 0) { open = k; break; } }
    }
    if (open >= 0) {
      const inner = toks[open + 1];
      if (!(inner && (inner.kind === 'register' || isPunct(inner, ',')))) open = -1;
    }
  }
  const dispEnd = open >= 0 ? open : toks.length;
  const disp = dispEnd > i ? [{ expr: parseExpression(toks, 'att', i, dispEnd), negate: false }] : [];
  const mem = {
    kind: 'mem' as const, seg, scale: 1, disp, indirect, start: op.start, end: op.end,
    dispStart: dispEnd > i ? toks[i].start : undefined, dispEnd: dispEnd > i ? toks[dispEnd - 1].end : undefined,
    base: undefined as RegisterRef | undefined, index: undefined as RegisterRef | undefined,
  };
  if (open >= 0) {
    const parts: Token[][] = [[]];
    for (let k = open + 1; k < toks.length - 1; k++) {
      if (isPunct(toks[k], ',')) parts.push([]); else parts[parts.length - 1].push(toks[k]);
    }
    const regOf = (p: Token[] | undefined) => (p && p[0]?.kind === 'register' ? { reg: registerInfo(p[0].text)!, tok: p[0] } : undefined);
    mem.base = regOf(parts[0]);
    mem.index = regOf(parts[1]);
    const s = parts[2]?.[0]?.value;
    if (s !== undefined) mem.scale = Number(s);
  } else if (branch && !indirect && !seg) {
    return { kind: 'target', expr: disp[0]?.expr ?? { k: 'bad' }, start: op.start, end: op.end };
  }
  return mem;
}

function decodeIntel(toks: Token[], op: Operand, dialect: Dialect, branch: boolean): OperandInfo {
  let i = 0;
  let sizeBits: number | undefined;
  let offset = false;
  // Leading keywords: size, ptr, short/near/far, offset.
  while (i < toks.length && toks[i].kind === 'ident') {
    const w = toks[i].text.toLowerCase();
    if (SIZE_KEYWORDS[w] !== undefined) { sizeBits = SIZE_KEYWORDS[w]; i++; continue; }
    if (SKIP.has(w)) { i++; continue; }
    if (w === 'offset') { offset = true; i++; continue; }
    break;
  }
  const rest = toks.slice(i);
  if (rest.length === 0) return { kind: 'other', start: op.start, end: op.end };
  const start = rest[0].start;
  if (rest.length === 1 && rest[0].kind === 'register') {
    return { kind: 'reg', reg: registerInfo(rest[0].text)!, tok: rest[0], indirect: false, start, end: op.end };
  }
  const bracket = rest.findIndex((t) => isPunct(t, '['));
  if (bracket < 0) {
    // seg:disp (GNU as Intel: fs:0x28) is memory; anything else an immediate or a target.
    if (rest[0].kind === 'register' && isPunct(rest[1], ':')) {
      const e = parseExpression(rest, dialect, 2);
      return {
        kind: 'mem', seg: { reg: registerInfo(rest[0].text)!, tok: rest[0] }, scale: 1, disp: [{ expr: e, negate: false }],
        dispStart: rest[2]?.start, dispEnd: op.end, sizeBits, indirect: false, start, end: op.end,
      };
    }
    const expr = parseExpression(rest, dialect);
    if (branch && !offset) return { kind: 'target', expr, start, end: op.end };
    return { kind: 'imm', expr, start, end: op.end };
  }
  // [ ... ], with an optional segment before or inside, and GNU as's disp[base] form.
  let close = rest.length - 1;
  while (close > bracket && !isPunct(rest[close], ']')) close--;
  let inner = rest.slice(bracket + 1, close > bracket ? close : rest.length);
  let seg: RegisterRef | undefined;
  const outerSeg = bracket >= 2 && rest[bracket - 2].kind === 'register' && isPunct(rest[bracket - 1], ':');
  if (outerSeg) seg = { reg: registerInfo(rest[bracket - 2].text)!, tok: rest[bracket - 2] };
  if (inner[0]?.kind === 'register' && isPunct(inner[1], ':')) {
    seg = { reg: registerInfo(inner[0].text)!, tok: inner[0] };
    inner = inner.slice(2);
  }
  const mem: Extract<OperandInfo, { kind: 'mem' }> = { kind: 'mem', seg, scale: 1, disp: [], sizeBits, indirect: false, start, end: op.end };
  const outerDisp = outerSeg ? [] : rest.slice(0, bracket);
  if (outerDisp.length) addDisp(mem, parseExpression(outerDisp, dialect), false, outerDisp[0].start, outerDisp[outerDisp.length - 1].end);
  // Terms of the top-level sum inside the brackets.
  let from = 0;
  let negate = false;
  let depth = 0;
  const flush = (to: number, nextNegate: boolean) => {
    const term = inner.slice(from, to);
    if (term.length) classifyTerm(mem, term, negate, dialect);
    from = to + 1;
    negate = nextNegate;
  };
  for (let k = 0; k < inner.length; k++) {
    const t = inner[k];
    if (isPunct(t, '(')) depth++;
    else if (isPunct(t, ')')) depth--;
    else if (depth === 0 && t.kind === 'punct' && (t.text === '+' || t.text === '-') && k > from) flush(k, t.text === '-');
    else if (depth === 0 && t.kind === 'punct' && t.text === '-' && k === from) { negate = !negate; from = k + 1; }
  }
  flush(inner.length, false);
  return mem;
}

function addDisp(mem: Extract<OperandInfo, { kind: 'mem' }>, expr: Expr, negate: boolean, start: number, end: number): void {
  mem.disp.push({ expr, negate });
  mem.dispStart = mem.dispStart === undefined ? start : Math.min(mem.dispStart, start);
  mem.dispEnd = mem.dispEnd === undefined ? end : Math.max(mem.dispEnd, end);
}

function classifyTerm(mem: Extract<OperandInfo, { kind: 'mem' }>, term: Token[], negate: boolean, dialect: Dialect): void {
  if (term.length === 1 && term[0].kind === 'register') {
    const ref = { reg: registerInfo(term[0].text)!, tok: term[0] };
    if (!mem.base) mem.base = ref; else mem.index = ref;
    return;
  }
  // reg*scale or scale*reg
  if (term.length === 3 && isPunct(term[1], '*')) {
    const [a, , b] = term;
    if (a.kind === 'register' && b.value !== undefined) { mem.index = { reg: registerInfo(a.text)!, tok: a }; mem.scale = Number(b.value); return; }
    if (b.kind === 'register' && a.value !== undefined) { mem.index = { reg: registerInfo(b.text)!, tok: b }; mem.scale = Number(a.value); return; }
  }
  addDisp(mem, parseExpression(term, dialect), negate, term[0].start, term[term.length - 1].end);
}

/** Operands in Intel order (destination first): AT&T lists the source first. */
export function intelOrder<T>(ops: T[], dialect: Dialect): T[] {
  return dialect === 'att' ? [...ops].reverse() : ops;
}
