// Document symbols (sections, labels with NASM .local labels nested under theirs,
// constants, macros), workspace symbols, and the rename of a label.
import { DocumentSymbol, Location, Range, SymbolInformation, SymbolKind, TextEdit, WorkspaceEdit } from 'vscode-languageserver';
import type { Definition, Span } from '../documents/model';
import { occurrencesAt, symbolAt, definitionsAt } from '../workspace/symbols';
import type { SourceFile, Workspace } from '../workspace/store';

const range = (s: Span) => Range.create(s.line, s.start, s.line, s.end);

function kindOf(d: Definition): SymbolKind {
  if (d.kind === 'constant') return SymbolKind.Constant;
  if (d.kind === 'macro') return SymbolKind.Method;
  if (d.kind === 'section') return SymbolKind.Namespace;
  return d.data ? SymbolKind.Variable : SymbolKind.Function;
}

function detailOf(d: Definition): string {
  if (d.kind === 'constant') return d.source ?? 'constant';
  if (d.kind === 'macro') return 'macro';
  return [d.global ? 'global' : '', d.fn ? 'function' : d.data ? 'data' : 'label'].filter(Boolean).join(' ');
}

export function documentSymbols(file: SourceFile): DocumentSymbol[] {
  const doc = file.parsed;
  const lastLine = Math.max(0, doc.lineCount - 1);
  // A symbol's range ends at the end of its last line, so it contains its name (clients reject it otherwise).
  const lineEnds: number[] = [];
  for (const m of file.text.matchAll(/[^\n]*(\n|$)/g)) { lineEnds.push(m[0].replace(/\r?\n$/, '').length); if (m[0] === '') break; }
  const endOf = (line: number): number => lineEnds[line] ?? 0;
  const defs = doc.definitions.filter((d) => !d.numeric).sort((a, b) => a.span.line - b.span.line || a.span.start - b.span.start);
  const sections = doc.sections.slice().sort((a, b) => a.span.line - b.span.line);
  const top: DocumentSymbol[] = [];
  const sectionSymbols: DocumentSymbol[] = sections.map((s, i) => {
    const end = i + 1 < sections.length ? Math.max(s.span.line, sections[i + 1].span.line - 1) : lastLine;
    return DocumentSymbol.create(s.name, 'section', SymbolKind.Namespace, Range.create(s.span.line, 0, end, endOf(end)), range(s.span), []);
  });
  // Definitions are in line order: walk the sections and labels along with them.
  let section = -1;
  const labels = defs.filter((d) => d.kind === 'label');
  let nextLabel = 0;
  let parent: { def: Definition; sym: DocumentSymbol } | undefined;
  for (const d of defs) {
    while (section + 1 < sectionSymbols.length && sectionSymbols[section + 1].range.start.line <= d.span.line) section++;
    while (nextLabel < labels.length && labels[nextLabel].span.line <= d.span.line) nextLabel++;
    const next = labels[nextLabel];
    const endLine = d.kind === 'macro' && d.endLine !== undefined ? d.endLine : d.kind === 'label' && next ? Math.max(d.span.line, next.span.line - 1) : d.span.line;
    const local = d.dialect === 'nasm' && d.kind === 'label' && parent && d.name.startsWith(parent.def.name + '.');
    const sym = DocumentSymbol.create(local ? d.name.slice(parent!.def.name.length) : d.name, detailOf(d), kindOf(d), Range.create(d.span.line, 0, endLine, endOf(endLine)), range(d.span), []);
    if (local) {
      parent!.sym.children!.push(sym);
      if (parent!.sym.range.end.line < endLine) parent!.sym.range.end = { line: endLine, character: endOf(endLine) };
      continue;
    }
    if (d.kind === 'label') parent = { def: d, sym };
    const c = section >= 0 ? sectionSymbols[section] : undefined;
    if (c) {
      c.children!.push(sym);
      if (c.range.end.line < endLine) c.range.end = { line: endLine, character: endOf(endLine) };
    } else top.push(sym);
  }
  return [...top, ...sectionSymbols];
}

/** Case-insensitive subsequence match, as editors filter symbol lists. */
function matches(query: string, name: string): boolean {
  if (!query) return true;
  const q = query.toLowerCase();
  const n = name.toLowerCase();
  let i = 0;
  for (const ch of n) if (ch === q[i]) i++;
  return i === q.length;
}

export function workspaceSymbols(ws: Workspace, query: string, limit = 500): SymbolInformation[] {
  const out: SymbolInformation[] = [];
  for (const f of ws.allFiles()) {
    for (const d of f.parsed.definitions) {
      if (d.numeric || !matches(query, d.name)) continue;
      out.push(SymbolInformation.create(d.name, kindOf(d), range(d.span), f.uri, f.key.split(/[\\/]/).pop()));
      if (out.length >= limit) return out;
    }
  }
  return out;
}

export function references(ws: Workspace, file: SourceFile, line: number, col: number, includeDeclaration: boolean): Location[] {
  return occurrencesAt(ws, file, line, col).filter((o) => includeDeclaration || !o.isDefinition).map((o) => Location.create(o.file.uri, range(o.span)));
}

export class RenameError extends Error {}

/** The span to rename at a position, or an error saying why this cannot be renamed. */
export function prepareRename(ws: Workspace, file: SourceFile, line: number, col: number): Span {
  const at = symbolAt(file, line, col);
  if (!at) throw new RenameError('Only labels (and constants and macros) can be renamed.');
  const numeric = at.kind === 'definition' ? at.def.numeric : at.ref.direction !== undefined;
  if (numeric) throw new RenameError('Numeric local labels (1:, 1b, 1f) are not renamed: they are reused by design.');
  const defs = definitionsAt(ws, file, line, col);
  if (defs.length === 0) throw new RenameError(`'${at.kind === 'definition' ? at.def.name : at.ref.name}' is not defined in the workspace (external symbol).`);
  return at.span;
}

const NAME = /^[A-Za-z_.$?@][\w.$@?#~]*$/;

export function rename(ws: Workspace, file: SourceFile, line: number, col: number, newName: string): WorkspaceEdit {
  prepareRename(ws, file, line, col);
  if (!NAME.test(newName) || /^\d/.test(newName)) throw new RenameError(`'${newName}' is not a valid symbol name.`);
  const changes: Record<string, TextEdit[]> = {};
  const occurrences = occurrencesAt(ws, file, line, col);
  const lines = new Map<SourceFile, string[]>();
  for (const o of occurrences) {
    let l = lines.get(o.file);
    if (!l) { l = o.file.text.split(/\r?\n|\r/); lines.set(o.file, l); }
    const written = l[o.span.line]?.slice(o.span.start, o.span.end) ?? '';
    // NASM local labels are written `.name` but known as `parent.name`.
    const text = written.startsWith('.') && !newName.startsWith('.') && newName.includes('.') ? newName.slice(newName.lastIndexOf('.')) : newName;
    (changes[o.file.uri] ??= []).push(TextEdit.replace(range(o.span), text));
  }
  return { changes };
}
