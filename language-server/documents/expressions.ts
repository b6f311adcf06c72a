// Assembler expressions: parsed from tokens into a small tree and evaluated exactly
// (bigint, wrapped to 64 bits as the assemblers compute). Precedence is the assembler's,
// not C's: GNU as binds `|` tighter than `+` ("Infix Operators" in the GNU as manual),
// NASM follows C's order.
import type { Dialect } from './dialect';
import type { Token } from './lexer';

export type Expr =
  | { k: 'num'; v: bigint | undefined; tok: Token }
  | { k: 'sym'; name: string; tok: Token }
  | { k: 'reg'; name: string; tok: Token }
  | { k: 'local'; tok: Token }
  | { k: 'here'; tok: Token }
  | { k: 'un'; op: string; e: Expr; tok: Token }
  | { k: 'bin'; op: string; l: Expr; r: Expr; tok: Token }
  | { k: 'bad'; tok?: Token };

const GAS_LEVELS = [['||', '&&'], ['+', '-', '==', '<>', '!=', '<', '>', '>=', '<='], ['|', '&', '^', '!'], ['*', '/', '%', '<<', '>>']];
const NASM_LEVELS = [['||', '^^'], ['&&'], ['=', '==', '<>', '!=', '<', '>', '<=', '>='], ['|'], ['^'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/', '//', '%', '%%']];

/** Parses tokens[from, to) as one expression; unparsable input yields a 'bad' node, never throws. */
export function parseExpression(tokens: readonly Token[], dialect: Dialect, from = 0, to = tokens.length): Expr {
  const levels = dialect === 'nasm' ? NASM_LEVELS : GAS_LEVELS;
  let pos = from;
  let depth = 0;
  const peek = (): Token | undefined => (pos < to ? tokens[pos] : undefined);

  const primary = (): Expr => {
    const t = peek();
    if (!t) return { k: 'bad' };
    if (++depth > 200) return { k: 'bad', tok: t }; // pathological nesting
    try {
      if (t.kind === 'punct' && (t.text === '-' || t.text === '~' || t.text === '+' || t.text === '!')) {
        pos++;
        return { k: 'un', op: t.text, e: primary(), tok: t };
      }
      if (t.kind === 'punct' && (t.text === '(' || t.text === '[')) {
        pos++;
        const e = binary(0);
        const close = peek();
        if (close && close.kind === 'punct' && (close.text === ')' || close.text === ']')) pos++;
        return e;
      }
      pos++;
      switch (t.kind) {
        case 'number': case 'char': return { k: 'num', v: t.value, tok: t };
        case 'register': return { k: 'reg', name: t.text.replace(/^%/, '').toLowerCase(), tok: t };
        case 'local-ref': return { k: 'local', tok: t };
        case 'ident':
          if (t.text === '.' && dialect !== 'nasm') return { k: 'here', tok: t };
          return { k: 'sym', name: t.text, tok: t };
        case 'punct':
          if (t.text === '$' || t.text === '$$') return { k: 'here', tok: t };
          return { k: 'bad', tok: t };
        default: return { k: 'bad', tok: t };
      }
    } finally {
      depth--;
    }
  };

  const binary = (level: number): Expr => {
    if (level >= levels.length) return primary();
    let l = binary(level + 1);
    for (;;) {
      const t = peek();
      if (!t || t.kind !== 'punct' || !levels[level].includes(t.text)) return l;
      pos++;
      const r = binary(level + 1);
      l = { k: 'bin', op: t.text, l, r, tok: t };
    }
  };

  const e = binary(0);
  return pos < to ? { k: 'bad', tok: tokens[pos] } : e;
}

export interface EvalEnv {
  /** The value of a symbol, or undefined when it is not an absolute constant. */
  lookup(name: string): bigint | undefined;
}

const MASK64 = (1n << 64n) - 1n;

/** The value of an expression, or undefined when any part is unknown (a label, a register, `.`). */
export function evaluate(e: Expr, env: EvalEnv, dialect: Dialect): bigint | undefined {
  switch (e.k) {
    case 'num': return e.v;
    case 'sym': return env.lookup(e.name);
    case 'un': {
      const v = evaluate(e.e, env, dialect);
      if (v === undefined) return undefined;
      if (e.op === '-') return BigInt.asIntN(64, -v);
      if (e.op === '~') return BigInt.asIntN(64, ~v);
      if (e.op === '!') return v === 0n ? (dialect === 'nasm' ? 1n : -1n) : 0n;
      return v;
    }
    case 'bin': {
      const l = evaluate(e.l, env, dialect);
      if (l === undefined) return undefined;
      const r = evaluate(e.r, env, dialect);
      if (r === undefined) return undefined;
      return binop(e.op, l, r, dialect);
    }
    default: return undefined;
  }
}

function binop(op: string, l: bigint, r: bigint, dialect: Dialect): bigint | undefined {
  // GNU as yields -1 for a true comparison, NASM 1.
  const truth = (b: boolean) => (b ? (dialect === 'nasm' ? 1n : -1n) : 0n);
  const u = (v: bigint) => v & MASK64;
  switch (op) {
    case '+': return BigInt.asIntN(64, l + r);
    case '-': return BigInt.asIntN(64, l - r);
    case '*': return BigInt.asIntN(64, l * r);
    case '/': return r === 0n ? undefined : dialect === 'nasm' ? BigInt.asIntN(64, u(l) / u(r)) : l / r;
    case '//': return r === 0n ? undefined : l / r;
    case '%': return r === 0n ? undefined : dialect === 'nasm' ? BigInt.asIntN(64, u(l) % u(r)) : l % r;
    case '%%': return r === 0n ? undefined : l % r;
    case '<<': return r < 0n || r > 63n ? 0n : BigInt.asIntN(64, l << r);
    case '>>': return r < 0n || r > 63n ? 0n : dialect === 'nasm' ? u(l) >> r : l >> r;
    case '|': return l | r;
    case '&': return l & r;
    case '^': return l ^ r;
    case '!': return l | ~r; // GNU as "or not"
    case '==': case '=': return truth(l === r);
    case '!=': case '<>': return truth(l !== r);
    case '<': return truth(l < r);
    case '>': return truth(l > r);
    case '<=': return truth(l <= r);
    case '>=': return truth(l >= r);
    case '&&': return truth(l !== 0n && r !== 0n);
    case '||': return truth(l !== 0n || r !== 0n);
    case '^^': return truth((l !== 0n) !== (r !== 0n));
  }
  return undefined;
}

/** Every symbol named in an expression, in source order. */
export function symbolsOf(e: Expr, out: { name: string; tok: Token }[] = []): { name: string; tok: Token }[] {
  if (e.k === 'sym') out.push({ name: e.name, tok: e.tok });
  else if (e.k === 'un') symbolsOf(e.e, out);
  else if (e.k === 'bin') { symbolsOf(e.l, out); symbolsOf(e.r, out); }
  return out;
}

/**
 * The value X when the expression computes a page number `X >> 12` (or `X / 4096`),
 * the way a STARTUP IPI vector is made from a trampoline's address.
 */
export function pageShiftSource(e: Expr): Expr | undefined {
  if (e.k === 'bin') {
    if ((e.op === '>>' && e.r.k === 'num' && e.r.v === 12n) || (e.op === '/' && e.r.k === 'num' && e.r.v === 4096n)) return e.l;
    return pageShiftSource(e.l) ?? pageShiftSource(e.r);
  }
  if (e.k === 'un') return pageShiftSource(e.e);
  return undefined;
}
