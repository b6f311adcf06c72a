// Which definition a name at a position means, and every place that means it. Scoping:
// GNU as numeric labels (`1:`) are found by direction (1b, 1f) in their own file; NASM
// `.local` labels are qualified by the label above them (the parser already did that);
// other names resolve in the file, then in the files it includes, then anywhere in the
// workspace (a label another object file exports, as the linker would find it).
import type { Definition, Reference, Span } from '../documents/model';
import type { SourceFile, Workspace } from './store';

export interface Located<T> {
  file: SourceFile;
  item: T;
}

/** What sits at a position: a definition or a reference of a symbol. */
export type SymbolAt =
  | { kind: 'definition'; def: Definition; span: Span }
  | { kind: 'reference'; ref: Reference; span: Span };

const within = (s: Span, line: number, col: number) => s.line === line && col >= s.start && col <= s.end;

export function symbolAt(file: SourceFile, line: number, col: number): SymbolAt | undefined {
  for (const def of file.parsed.definitions) if (within(def.span, line, col)) return { kind: 'definition', def, span: def.span };
  for (const ref of file.parsed.references) if (within(ref.span, line, col)) return { kind: 'reference', ref, span: ref.span };
  return undefined;
}

const before = (a: Span, b: Span) => a.line < b.line || (a.line === b.line && a.start <= b.start);

/** The `1:` a `1b` / `1f` reference jumps to. */
export function resolveNumeric(file: SourceFile, ref: Reference): Definition | undefined {
  const defs = file.parsed.definitions.filter((d) => d.numeric && d.name === ref.name);
  if (ref.direction === 'b') {
    let best: Definition | undefined;
    for (const d of defs) if (before(d.span, ref.span)) best = d;
    return best;
  }
  return defs.find((d) => !before(d.span, ref.span));
}

/** Definitions of `name` as seen from `from`: own file, its includes, then the workspace. */
export function resolveName(ws: Workspace, from: SourceFile, name: string, allFiles?: () => SourceFile[]): Located<Definition>[] {
  const local = (f: SourceFile) => f.parsed.definitions.filter((d) => d.name === name && !d.numeric).map((item) => ({ file: f, item }));
  const own = local(from);
  if (own.length) return own;
  for (const f of ws.includeClosure(from).slice(1)) {
    const found = local(f);
    if (found.length) return found;
  }
  // Elsewhere: labels (prefer the exported one) and constants of other files.
  const everywhere = (allFiles ? allFiles() : ws.allFiles()).filter((f) => f.key !== from.key).flatMap(local);
  const globals = everywhere.filter((l) => l.item.global);
  return globals.length ? globals : everywhere;
}

/** The definitions meant by the symbol at a position. */
export function definitionsAt(ws: Workspace, file: SourceFile, line: number, col: number): Located<Definition>[] {
  const at = symbolAt(file, line, col);
  if (!at) return [];
  if (at.kind === 'definition') {
    return at.def.numeric ? [{ file, item: at.def }] : resolveName(ws, file, at.def.name);
  }
  if (at.ref.direction) {
    const d = resolveNumeric(file, at.ref);
    return d ? [{ file, item: d }] : [];
  }
  return resolveName(ws, file, at.ref.name);
}

export interface Occurrence {
  file: SourceFile;
  span: Span;
  isDefinition: boolean;
}

/** Every occurrence (definitions and references) of the symbol at a position. */
export function occurrencesAt(ws: Workspace, file: SourceFile, line: number, col: number): Occurrence[] {
  const at = symbolAt(file, line, col);
  if (!at) return [];
  // Numeric labels: this file only, references resolving to the same `N:`.
  const numericDef = at.kind === 'definition' ? (at.def.numeric ? at.def : undefined) : at.ref.direction ? resolveNumeric(file, at.ref) : undefined;
  if (numericDef) {
    const out: Occurrence[] = [{ file, span: numericDef.span, isDefinition: true }];
    for (const r of file.parsed.references) if (r.direction && r.name === numericDef.name && resolveNumeric(file, r) === numericDef) out.push({ file, span: r.span, isDefinition: false });
    return out;
  }
  const name = at.kind === 'definition' ? at.def.name : at.ref.name;
  const targets = new Set(definitionsAt(ws, file, line, col).map((l) => l.item));
  const files = ws.allFiles();
  const out: Occurrence[] = [];
  for (const f of files) {
    const defs = f.parsed.definitions.filter((d) => d.name === name && !d.numeric);
    const refs = f.parsed.references.filter((r) => r.name === name && !r.direction);
    if (defs.length === 0 && refs.length === 0) continue;
    // The name means the same symbol here when it resolves to one of the same definitions
    // (or when nothing defines it anywhere: an external symbol is still one name).
    const meaning = resolveName(ws, f, name, () => files).map((l) => l.item);
    const same = targets.size === 0 ? meaning.length === 0 : meaning.some((d) => targets.has(d));
    if (!same) continue;
    for (const d of defs) if (targets.has(d) || targets.size === 0) out.push({ file: f, span: d.span, isDefinition: true });
    for (const r of refs) out.push({ file: f, span: r.span, isDefinition: false });
  }
  return out;
}
