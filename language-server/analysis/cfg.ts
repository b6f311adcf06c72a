// Basic blocks of one file's code and the edges between them that the file itself shows:
// fall-through, and direct jumps to its own labels. A label that something else can
// reach (exported, called, taken as an address, or jumped to from elsewhere) is an entry
// where nothing is known.
import type { Definition, Directive, Instruction, ParsedDocument } from '../documents/model';
import { isBranch, normalizeMnemonic } from '../isa/instructions';

export interface Block {
  insns: Instruction[];
  labels: Definition[];
  succ: number[];
  /** Reachable from outside this file's visible edges: starts with nothing known. */
  externalEntry: boolean;
}

const SECTION_DIRECTIVES = /^(\.text|\.data|\.bss|\.section|\.pushsection|\.popsection|\.previous|section|segment|absolute)$/i;
const DATA_DIRECTIVES = /^(\.(byte|short|word|hword|long|int|quad|octa|ascii|asciz|string|zero|space|skip|fill|single|float|double|value)|d[bwdqtoyz]|res[bwdqtoyz]|incbin)$/i;
const NO_FALLTHROUGH = new Set(['jmp', 'ret', 'retf', 'iret', 'iretd', 'iretq', 'sysret', 'sysretq', 'sysexit', 'ud2', 'vmlaunch', 'vmresume']);

/** The `N:` a `Nb` / `Nf` at (line, col) means, from N's definitions in line order (binary search). */
export function nearestNumeric(defs: Definition[], line: number, col: number, direction: 'b' | 'f'): Definition | undefined {
  const before = (d: Definition) => d.span.line < line || (d.span.line === line && d.span.start < col);
  let lo = 0, hi = defs.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (before(defs[mid])) lo = mid + 1; else hi = mid; }
  return direction === 'b' ? defs[lo - 1] : defs[lo];
}

export function buildBlocks(doc: ParsedDocument): Block[] {
  const blocks: Block[] = [];
  let cur: Block = { insns: [], labels: [], succ: [], externalEntry: true };
  /** Per block: whether control falls from its end into the next block. */
  const fallsInto: boolean[] = [];
  const close = (fallsThrough: boolean) => {
    if (cur.insns.length || cur.labels.length) {
      blocks.push(cur);
      fallsInto.push(fallsThrough);
    }
    cur = { insns: [], labels: [], succ: [], externalEntry: !fallsThrough };
  };
  for (const st of doc.statements) {
    if ((st.kind === 'instruction' || st.kind === 'directive') && st.inMacro) continue;
    if (st.kind === 'label') {
      if (st.def.kind !== 'label') continue;
      if (cur.insns.length) close(true);
      cur.labels.push(st.def);
      continue;
    }
    if (st.kind === 'directive') {
      const name = (st as Directive).name.text;
      // Code after a section switch or after data is not reached by falling through.
      if (SECTION_DIRECTIVES.test(name) || DATA_DIRECTIVES.test(name)) close(false);
      continue;
    }
    cur.insns.push(st);
    const base = normalizeMnemonic(st.mnemonic.text, st.dialect)?.base;
    if (base && (NO_FALLTHROUGH.has(base) || (isBranch(base) && base !== 'call'))) close(!(base && NO_FALLTHROUGH.has(base)));
  }
  close(false);
  // Edges: fall-through, then direct jumps to labels of this file.
  const blockOfLabel = new Map<Definition, number>();
  blocks.forEach((b, i) => b.labels.forEach((d) => blockOfLabel.set(d, i)));
  blocks.forEach((b, i) => {
    if (fallsInto[i] && i + 1 < blocks.length) b.succ.push(i + 1);
  });
  // Which labels only this file's direct jumps reach.
  const jumpedFrom = new Map<Definition, number[]>();
  const exposed = new Set<Definition>();
  const numericByName = new Map<string, Definition[]>();
  const byName = new Map<string, Definition[]>();
  for (const d of doc.definitions) {
    if (d.kind !== 'label') continue;
    const map = d.numeric ? numericByName : byName;
    const list = map.get(d.name);
    if (list) list.push(d); else map.set(d.name, [d]);
  }
  const lineBlock = (line: number) => {
    let lo = 0, hi = blocks.length - 1, found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const first = blocks[mid].labels[0]?.span.line ?? blocks[mid].insns[0]?.line ?? 0;
      if (first <= line) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return found;
  };
  for (const r of doc.references) {
    let targets: Definition[] = [];
    if (r.direction) {
      const t = nearestNumeric(numericByName.get(r.name) ?? [], r.span.line, r.span.start, r.direction);
      if (t) targets = [t];
    } else {
      targets = byName.get(r.name) ?? [];
    }
    for (const t of targets) {
      if (r.use === 'jump') jumpedFrom.set(t, [...(jumpedFrom.get(t) ?? []), lineBlock(r.span.line)]);
      else if (r.use !== 'declaration') exposed.add(t); // called, or its address taken
    }
  }
  for (const d of doc.definitions) if (d.global) exposed.add(d);
  blocks.forEach((b) => {
    for (const d of b.labels) {
      if (exposed.has(d)) b.externalEntry = true;
    }
  });
  for (const [def, froms] of jumpedFrom) {
    const to = blockOfLabel.get(def);
    if (to === undefined) continue;
    for (const from of froms) if (!blocks[from].succ.includes(to)) blocks[from].succ.push(to);
  }
  // A labelled block nobody in this file reaches is an entry point (e.g. a local label used by a macro).
  const reached = new Set<number>();
  blocks.forEach((b) => b.succ.forEach((s) => reached.add(s)));
  blocks.forEach((b, i) => {
    if (!reached.has(i)) b.externalEntry = true;
    // A labelled block after a JMP/RET is entered only through its labels: from outside only
    // if one is exposed (global, called, address taken) or nothing here reaches it.
    else if (i > 0 && b.labels.length > 0 && !b.labels.some((d) => exposed.has(d))) b.externalEntry = false;
  });
  return blocks;
}
