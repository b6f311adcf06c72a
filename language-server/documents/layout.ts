// Where NASM places labels in a flat binary: after `org X`, a label's address is X plus
// the size of what precedes it, as long as that is data of a known size (db/dw/dd/dq,
// times, resb..., align). After an instruction only a lower bound is left (code only
// grows), which still says whether a label is above 1 MiB. This is what makes "the
// trampoline label" known for the SIPI checks in flat images.
import { evaluate, parseExpression } from './expressions';
import type { Token } from './lexer';
import type { Definition, ParsedDocument } from './model';

export interface LabelAddress {
  exact?: bigint;
  /** A lower bound when the exact address is lost (code of unknown size before it). */
  min?: bigint;
}

const DATA_SIZES: Record<string, number> = { db: 1, dw: 2, dd: 4, dq: 8, dt: 10, do: 16, dy: 32, dz: 64 };
const RES_SIZES: Record<string, number> = { resb: 1, resw: 2, resd: 4, resq: 8, rest: 10, reso: 16, resy: 32, resz: 64 };

export function nasmLabelAddresses(doc: ParsedDocument, lookup: (name: string, line: number) => bigint | undefined): Map<Definition, LabelAddress> {
  const out = new Map<Definition, LabelAddress>();
  if (doc.language !== 'nasm') return out;
  let exact: bigint | undefined;
  let min: bigint | undefined;
  const value = (tokens: Token[], line: number) => {
    if (tokens.length === 0) return undefined;
    return evaluate(parseExpression(tokens, 'nasm'), { lookup: (n) => lookup(n, line) }, 'nasm');
  };
  const advance = (n: bigint | undefined) => {
    if (n === undefined) { if (exact !== undefined) min = exact; exact = undefined; return; }
    if (exact !== undefined) exact += n;
    if (min !== undefined) min += n;
  };
  for (const st of doc.statements) {
    if (st.kind === 'label') {
      if (exact !== undefined || min !== undefined) out.set(st.def, { exact, min: exact ?? min });
      continue;
    }
    if (st.kind === 'instruction') {
      if (st.inMacro) continue;
      // Code: at least one byte, size unknown.
      if (exact !== undefined) min = exact + 1n; else if (min !== undefined) min += 1n;
      exact = undefined;
      continue;
    }
    const name = st.name.text.toLowerCase();
    const args = st.operands;
    if (name === 'org') {
      exact = args[0] ? value(args[0].tokens, st.line) : undefined;
      min = exact;
    } else if (name === 'section' || name === 'segment' || name === 'absolute') {
      exact = undefined; min = undefined;
    } else if (name === 'align' || name === 'alignb') {
      const n = args[0] ? value(args[0].tokens, st.line) : undefined;
      if (n !== undefined && n > 0n && exact !== undefined) exact = ((exact + n - 1n) / n) * n;
      else if (n !== undefined && n > 0n && min !== undefined) min = ((min + n - 1n) / n) * n;
    } else if (DATA_SIZES[name] !== undefined) {
      let n = 0n;
      for (const a of args) {
        const t = a.tokens;
        n += t.length === 1 && t[0].kind === 'string' ? BigInt(Math.max(0, t[0].text.length - 2)) : BigInt(DATA_SIZES[name]);
      }
      advance(n);
    } else if (RES_SIZES[name] !== undefined) {
      const count = args[0] ? value(args[0].tokens, st.line) : undefined;
      advance(count === undefined ? undefined : count * BigInt(RES_SIZES[name]));
    } else if (name === 'times') {
      // times N db ...: the parser keeps `N db ...` as the operand text.
      const toks = args[0]?.tokens ?? [];
      const unit = toks.findIndex((t) => t.kind === 'ident' && DATA_SIZES[t.text.toLowerCase()] !== undefined);
      const count = unit > 0 ? value(toks.slice(0, unit), st.line) : undefined;
      const items = args.length;
      advance(count === undefined || unit < 0 ? undefined : count * BigInt(DATA_SIZES[toks[unit].text.toLowerCase()] * items));
    }
  }
  return out;
}
