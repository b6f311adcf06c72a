// What the analysis knows about a register at a point of the program: its value when
// every path agrees on it, and where its value came from (the immediates that flowed into
// it), so that an immediate can be explained by where it ends up: an ICR write, a WRMSR
// to EFER, a MOV to CR0, an OUT to port 0x3F8.
import type { Expr } from '../documents/expressions';

export type OriginOp = 'mov' | 'or' | 'and' | 'xor' | 'add' | 'sub' | 'shl' | 'shr' | 'bts' | 'btr';

/** An immediate (or constant expression) in the source that contributed to a value. */
export interface Origin {
  line: number;
  start: number;
  end: number;
  op: OriginOp;
  expr?: Expr;
  /** The immediate's own value, when known. */
  value?: bigint;
}

export interface RegValue {
  /** Known value (64-bit, unsigned), when all paths agree. */
  value?: bigint;
  /** How many low bits of `value` are known (a 16-bit write to an unknown register: 16); default all. */
  knownBits?: number;
  /** The value is the local APIC base (from IA32_APIC_BASE) plus this offset. */
  apicBase?: bigint;
  /** Read by RDMSR from this MSR (then perhaps modified). */
  fromMsr?: number;
  /** Read from this control register (then perhaps modified). */
  fromCr?: number;
  /** The value is a page number: `page.value >> 12` (a SIPI vector made from an address). */
  page?: { value: bigint; origin?: Origin };
  origins: Origin[];
}

/** Register file: family name ("rax") -> what is known; absent = nothing known. */
export type State = Map<string, RegValue>;

/** Pseudo-register holding the last value written to the xAPIC ICR high half. */
export const ICR_HIGH_SLOT = '@icr-high';

export const MAX_ORIGINS = 6;

export function mergeOrigins(a: Origin[], b: Origin[]): Origin[] {
  if (b.length === 0) return a;
  const out = a.slice();
  for (const o of b) {
    if (out.length >= MAX_ORIGINS) break;
    if (!out.some((x) => x.line === o.line && x.start === o.start)) out.push(o);
  }
  return out;
}

function sameValue(a: RegValue, b: RegValue): boolean {
  return a.value === b.value && a.knownBits === b.knownBits && a.apicBase === b.apicBase && a.fromMsr === b.fromMsr && a.fromCr === b.fromCr && a.page?.value === b.page?.value;
}

/** What holds on every path: values only where all agree, origins from any path. */
export function meet(states: State[]): State {
  if (states.length === 0) return new Map();
  if (states.length === 1) return new Map(states[0]);
  const out: State = new Map();
  const [first, ...rest] = states;
  const families = new Set<string>();
  for (const s of states) for (const k of s.keys()) families.add(k);
  for (const fam of families) {
    const vals = states.map((s) => s.get(fam));
    let origins: Origin[] = [];
    for (const v of vals) if (v) origins = mergeOrigins(origins, v.origins);
    const a = first.get(fam);
    const agree = a !== undefined && rest.every((s) => { const b = s.get(fam); return b !== undefined && sameValue(a, b); });
    if (agree) out.set(fam, { ...a, origins });
    else if (origins.length) out.set(fam, { origins });
  }
  return out;
}

export function statesEqual(a: State, b: State): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w || !sameValue(v, w) || v.origins.length !== w.origins.length) return false;
  }
  return true;
}
