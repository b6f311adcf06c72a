// Values of the constants a file can see (its own .equ/.set/=/#define/%define/equ, then
// those of the files it includes), evaluated on demand with a guard against cycles
// (`.set a, b` / `.set b, a`) and runaway depth.
import { evaluate } from '../documents/expressions';
import type { Definition } from '../documents/model';
import type { AnalysisEnv } from '../analysis/transfer';
import { LabelAddress, nasmLabelAddresses } from '../documents/layout';
import type { SourceFile, Workspace } from './store';

const MAX_DEPTH = 32;

export class Constants implements AnalysisEnv {
  private readonly own = new Map<string, Definition[]>();
  private readonly included = new Map<string, Definition>();
  private readonly cache = new Map<Definition, bigint | null>();
  private readonly active = new Set<Definition>();
  private addresses?: Map<string, LabelAddress>;

  constructor(ws: Workspace, private readonly file: SourceFile) {
    for (const d of file.parsed.definitions) {
      if (d.kind !== 'constant') continue;
      const list = this.own.get(d.name);
      if (list) list.push(d); else this.own.set(d.name, [d]);
    }
    for (const f of ws.includeClosure(file).slice(1)) {
      for (const d of f.parsed.definitions) if (d.kind === 'constant' && !this.included.has(d.name)) this.included.set(d.name, d);
    }
  }

  /** The definition of a constant as seen from a line: the last one above it in the file (`.set` may redefine), else any. */
  definition(name: string, line: number): Definition | undefined {
    const list = this.own.get(name);
    if (list) {
      let best: Definition | undefined;
      for (const d of list) if (d.span.line <= line) best = d;
      return best ?? list[0];
    }
    return this.included.get(name);
  }

  lookup(name: string, line: number): bigint | undefined {
    const d = this.definition(name, line);
    if (d) return this.valueOf(d);
    return this.addressOf(name)?.exact;
  }

  /** Where a label of this file is, when its layout says (NASM after `org`). */
  addressOf(name: string): LabelAddress | undefined {
    if (!this.addresses) {
      this.addresses = new Map();
      if (this.file.language === 'nasm') {
        // Label layout needs constants (times COUNT ...) but not label addresses: no recursion.
        const byDef = nasmLabelAddresses(this.file.parsed, (n, l) => { const d = this.definition(n, l); return d ? this.valueOf(d) : undefined; });
        for (const [d, a] of byDef) this.addresses.set(d.name, a);
      }
    }
    return this.addresses.get(name);
  }

  valueOf(d: Definition): bigint | undefined {
    const hit = this.cache.get(d);
    if (hit !== undefined) return hit ?? undefined;
    if (!d.value || this.active.has(d) || this.active.size > MAX_DEPTH) return undefined;
    this.active.add(d);
    try {
      const v = evaluate(d.value, { lookup: (n) => this.lookup(n, d.span.line - (n === d.name ? 1 : 0)) }, d.dialect);
      this.cache.set(d, v ?? null);
      return v;
    } finally {
      this.active.delete(d);
    }
  }
}
