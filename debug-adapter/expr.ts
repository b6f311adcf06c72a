// The expression language of the Debug Console, watch expressions, breakpoint conditions
// and event-filter conditions: C-like integer arithmetic on 64-bit values, registers and
// symbols by name, memory through `*(u32*)ADDR` or `[ADDR]`, strings for comparisons
// (`mode == "init"`). Values are BigInt (exact 64-bit); parsing is separate from evaluation
// so a condition is parsed once and evaluated at every hit.

export type Value = bigint | string;

export interface Env {
  /** A register, symbol or event field; undefined when the name is unknown. */
  lookup(name: string): Value | undefined;
  /** Reads `size` bytes (little-endian) at a guest address; throws with a message if it cannot. */
  read(address: bigint, size: number): bigint;
  /** Pointer size for `[addr]` (8 in 64-bit mode, else 4). */
  pointerSize(): number;
}

export class ExprError extends Error {}

type Node =
  | { k: 'num'; v: bigint }
  | { k: 'str'; v: string }
  | { k: 'name'; v: string }
  | { k: 'un'; op: string; a: Node }
  | { k: 'bin'; op: string; a: Node; b: Node }
  | { k: 'deref'; size: number; signed: boolean; a: Node }
  | { k: 'cast'; size: number; signed: boolean; a: Node };

const TYPES: Record<string, [number, boolean]> = {
  u8: [1, false], u16: [2, false], u32: [4, false], u64: [8, false],
  i8: [1, true], i16: [2, true], i32: [4, true], i64: [8, true],
  uint8_t: [1, false], uint16_t: [2, false], uint32_t: [4, false], uint64_t: [8, false],
  int8_t: [1, true], int16_t: [2, true], int32_t: [4, true], int64_t: [8, true],
  char: [1, true], short: [2, true], int: [4, true], long: [8, true], byte: [1, false], word: [2, false], dword: [4, false], qword: [8, false],
};

const MASK64 = (1n << 64n) - 1n;

function tokenize(src: string): string[] {
  const out: string[] = [];
  const re = /\s*(0x[0-9a-fA-F_]+|0b[01_]+|\d[\d_]*|[A-Za-z_.$][\w.$@]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%()[\]<>!~&|^:])/y;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(src);
    if (m === null) throw new ExprError(`unexpected '${src.slice(pos).trim()[0]}' at column ${pos + 1}`);
    out.push(m[1]);
    pos = re.lastIndex;
  }
  return out;
}

const BINARY: [string[], number][] = [
  [['||'], 1], [['&&'], 2], [['|'], 3], [['^'], 4], [['&'], 5], [['==', '!='], 6],
  [['<', '<=', '>', '>='], 7], [['<<', '>>'], 8], [['+', '-'], 9], [['*', '/', '%'], 10],
];
const PRECEDENCE = new Map<string, number>(BINARY.flatMap(([ops, p]) => ops.map((o) => [o, p] as [string, number])));

/** Parses an expression; throws ExprError naming what is wrong. */
export function parse(src: string): Node {
  if (src.length > 4096) throw new ExprError('expression too long');
  const t = tokenize(src);
  if (t.length === 0) throw new ExprError('empty expression');
  let i = 0;
  const peek = (): string | undefined => t[i];
  const expect = (s: string): void => {
    if (t[i] !== s) throw new ExprError(`expected '${s}'${t[i] === undefined ? ' at the end' : ` before '${t[i]}'`}`);
    i++;
  };
  let depth = 0;
  const binary = (min: number): Node => {
    let a = unary();
    for (;;) {
      const op = peek();
      const p = op === undefined ? undefined : PRECEDENCE.get(op);
      if (p === undefined || p < min) return a;
      i++;
      a = { k: 'bin', op: op!, a, b: binary(p + 1) };
    }
  };
  const typeAt = (j: number): [number, boolean] | null => (t[j] !== undefined && Object.prototype.hasOwnProperty.call(TYPES, t[j]) ? TYPES[t[j]] : null);
  const unary = (): Node => {
    if (++depth > 200) throw new ExprError('expression nested too deeply');
    try {
      const s = peek();
      if (s === undefined) throw new ExprError('expression ends too early');
      if (s === '-' || s === '!' || s === '~' || s === '+') { i++; return { k: 'un', op: s, a: unary() }; }
      if (s === '*') {
        i++;
        // *(u32*)expr
        const ty = t[i] === '(' ? typeAt(i + 1) : null;
        if (ty && t[i + 2] === '*' && t[i + 3] === ')') { i += 4; return { k: 'deref', size: ty[0], signed: ty[1], a: unary() }; }
        return { k: 'deref', size: 0, signed: false, a: unary() };
      }
      if (s === '(') {
        const ty = typeAt(i + 1);
        if (ty && t[i + 2] === ')') { i += 3; return { k: 'cast', size: ty[0], signed: ty[1], a: unary() }; }
        i++;
        const e = binary(1);
        expect(')');
        return e;
      }
      if (s === '[') {
        i++;
        const e = binary(1);
        expect(']');
        return { k: 'deref', size: 0, signed: false, a: e };
      }
      i++;
      if (/^0x/i.test(s)) return { k: 'num', v: BigInt(s.replace(/_/g, '')) };
      if (/^0b/i.test(s)) return { k: 'num', v: BigInt(s.replace(/_/g, '')) };
      if (/^\d/.test(s)) return { k: 'num', v: BigInt(s.replace(/_/g, '')) };
      if (s[0] === '"' || s[0] === "'") return { k: 'str', v: s.slice(1, -1).replace(/\\(.)/g, '$1') };
      if (/^[A-Za-z_.$]/.test(s)) return { k: 'name', v: s };
      throw new ExprError(`unexpected '${s}'`);
    } finally {
      depth--;
    }
  };
  const e = binary(1);
  if (i < t.length) throw new ExprError(`unexpected '${t[i]}'`);
  return e;
}

function truncate(v: bigint, size: number, signed: boolean): bigint {
  const bits = BigInt(size * 8);
  return signed ? BigInt.asIntN(size * 8, v) : v & ((1n << bits) - 1n);
}

function num(v: Value, what: string): bigint {
  if (typeof v !== 'bigint') throw new ExprError(`${what} is a string, not a number`);
  return v;
}

/** Evaluates a parsed expression. Integer results wrap to 64 bits (unsigned). */
export function evaluate(n: Node, env: Env): Value {
  switch (n.k) {
    case 'num': return n.v & MASK64;
    case 'str': return n.v;
    case 'name': {
      const v = env.lookup(n.v);
      if (v === undefined) throw new ExprError(`unknown name '${n.v}'`);
      return v;
    }
    case 'un': {
      const a = evaluate(n.a, env);
      if (n.op === '!') return truthy(a) ? 0n : 1n;
      const x = num(a, `the operand of '${n.op}'`);
      if (n.op === '-') return (-x) & MASK64;
      if (n.op === '~') return ~x & MASK64;
      return x;
    }
    case 'deref': {
      const addr = num(evaluate(n.a, env), 'an address');
      const size = n.size || env.pointerSize();
      return truncate(env.read(addr, size), size, n.signed) & MASK64;
    }
    case 'cast': return truncate(num(evaluate(n.a, env), 'a cast operand'), n.size, n.signed) & MASK64;
    case 'bin': {
      if (n.op === '&&') return truthy(evaluate(n.a, env)) && truthy(evaluate(n.b, env)) ? 1n : 0n;
      if (n.op === '||') return truthy(evaluate(n.a, env)) || truthy(evaluate(n.b, env)) ? 1n : 0n;
      const a = evaluate(n.a, env), b = evaluate(n.b, env);
      if (n.op === '==' || n.op === '!=') {
        return (a === b) === (n.op === '==') ? 1n : 0n;
      }
      const x = num(a, `the left operand of '${n.op}'`), y = num(b, `the right operand of '${n.op}'`);
      switch (n.op) {
        case '+': return (x + y) & MASK64;
        case '-': return (x - y) & MASK64;
        case '*': return (x * y) & MASK64;
        case '/': if (y === 0n) throw new ExprError('division by zero'); return x / y;
        case '%': if (y === 0n) throw new ExprError('division by zero'); return x % y;
        case '&': return x & y;
        case '|': return x | y;
        case '^': return x ^ y;
        case '<<': return (x << (y & 63n)) & MASK64;
        case '>>': return x >> (y & 63n);
        case '<': return x < y ? 1n : 0n;
        case '<=': return x <= y ? 1n : 0n;
        case '>': return x > y ? 1n : 0n;
        case '>=': return x >= y ? 1n : 0n;
      }
      throw new ExprError(`unknown operator '${n.op}'`);
    }
  }
}

export function truthy(v: Value): boolean {
  return typeof v === 'bigint' ? v !== 0n : v.length > 0;
}

/** Parses and evaluates in one go (the Debug Console). */
export function evaluateString(src: string, env: Env): Value {
  return evaluate(parse(src), env);
}

export type Expr = Node;

/**
 * Compiles a parsed expression into a closure (conditions run at every matching event, so
 * the tree is walked once here rather than at each evaluation). Same semantics as evaluate().
 */
export function compile(n: Node): (env: Env) => Value {
  switch (n.k) {
    case 'num': { const v = n.v & MASK64; return () => v; }
    case 'str': { const v = n.v; return () => v; }
    case 'name': {
      const name = n.v;
      return (env) => {
        const v = env.lookup(name);
        if (v === undefined) throw new ExprError(`unknown name '${name}'`);
        return v;
      };
    }
    case 'bin': {
      const a = compile(n.a), b = compile(n.b);
      if (n.op === '&&') return (env) => (truthy(a(env)) && truthy(b(env)) ? 1n : 0n);
      if (n.op === '||') return (env) => (truthy(a(env)) || truthy(b(env)) ? 1n : 0n);
      if (n.op === '==' || n.op === '!=') {
        const want = n.op === '==';
        // A number never equals a string here (no conversions at every event).
        return (env) => ((a(env) === b(env)) === want ? 1n : 0n);
      }
      const op = n.op;
      return (env) => evaluate({ k: 'bin', op, a: { k: 'num', v: num(a(env), `the left operand of '${op}'`) }, b: { k: 'num', v: num(b(env), `the right operand of '${op}'`) } }, env);
    }
    default: return (env) => evaluate(n, env);
  }
}

export type Scalar = number | string | undefined;

/**
 * Conditions over plain fields (names, integer and string constants, comparisons, !, && and
 * ||) as JavaScript source on JS numbers, for filters that generate one function per event
 * type (so V8 compiles the conditions like any other code). `ref(name)` gives the source that reads a name; comparisons go through the helpers eq, ne, lt, le, gt,
 * ge and truth t, which the generated function receives. Null outside the subset. Constants
 * are emitted with JSON.stringify or as integers, never spliced in raw.
 */
export function predicateSource(n: Node, ref: (name: string, numeric: boolean) => string): string | null {
  const value = (m: Node): string | null => {
    switch (m.k) {
      case 'num': return m.v > BigInt(Number.MAX_SAFE_INTEGER) ? null : String(Number(m.v));
      case 'str': return JSON.stringify(m.v);
      case 'name': return ref(m.v, false);
      default: return null;
    }
  };
  const pred = (m: Node): string | null => {
    // name == number: a name can only equal a number as a number, so `numeric` lets ref skip the
    // bare-word fallback and read the field straight (the commonest condition, at every event).
    if (m.k === 'bin' && m.op === '==') {
      const [name, num] = m.a.k === 'name' && m.b.k === 'num' ? [m.a, m.b] : m.b.k === 'name' && m.a.k === 'num' ? [m.b, m.a] : [null, null];
      if (name !== null && num !== null && num.v <= BigInt(Number.MAX_SAFE_INTEGER)) return `(${ref(name.v, true)} === ${Number(num.v)})`;
    }
    if (m.k === 'un' && m.op === '!') { const a = pred(m.a); return a && `!(${a})`; }
    if (m.k !== 'bin') { const v = value(m); return v && `t(${v})`; }
    if (m.op === '&&' || m.op === '||') {
      const a = pred(m.a), b = pred(m.b);
      return a && b && `(${a} ${m.op} ${b})`;
    }
    const helper = ({ '==': 'eq', '!=': 'ne', '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge' } as Record<string, string>)[m.op];
    const a = value(m.a), b = value(m.b);
    return helper && a && b ? `${helper}(${a}, ${b})` : null;
  };
  return pred(n);
}

/** The helpers predicateSource's code calls, in the order of the generated function's parameters. */
export const PREDICATE_HELPERS = {
  eq: (x: Scalar, y: Scalar): boolean => x !== undefined && x === y,
  ne: (x: Scalar, y: Scalar): boolean => x !== undefined && x !== y,
  lt: (x: Scalar, y: Scalar): boolean => typeof x === 'number' && typeof y === 'number' && x < y,
  le: (x: Scalar, y: Scalar): boolean => typeof x === 'number' && typeof y === 'number' && x <= y,
  gt: (x: Scalar, y: Scalar): boolean => typeof x === 'number' && typeof y === 'number' && x > y,
  ge: (x: Scalar, y: Scalar): boolean => typeof x === 'number' && typeof y === 'number' && x >= y,
  t: (x: Scalar): boolean => x !== undefined && x !== 0 && x !== '',
};
