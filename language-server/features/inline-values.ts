// Inline values while debugging: which registers each assembly line reads, so that the
// editor can show their values for the selected vCPU next to the line. The core of it is
// a pure function of one line of text (registersRead) that the extension's
// InlineValuesProvider can call directly; the server answers textDocument/inlineValue with
// the same data for any LSP client.
import { InlineValue, InlineValueVariableLookup, Range } from 'vscode-languageserver';
import type { Dialect } from '../documents/dialect';
import { parseDocument } from '../documents/parser';
import { registerUses } from '../analysis/access';
import type { SourceFile } from '../workspace/store';

export interface RegisterRead {
  /** Lowercase register name as the line names it ("ecx"); implicit ones at this mode's width. */
  register: string;
  /** Columns on the line: the register as written, or for an implicit read the mnemonic. */
  start: number;
  end: number;
  /** Read without being written in the line (RDMSR reads ECX; REP MOVSB reads ECX, ESI, EDI). */
  implicit: boolean;
}

/**
 * The registers an assembly line reads, in the order they appear, then the implicit ones.
 * `syntax`: 'att' (GNU as default), 'intel' (GNU as after .intel_syntax), 'nasm'.
 * `bits`: the code size (16, 32, 64); by default, guessed from the registers on the line.
 */
export function registersRead(line: string, syntax: Dialect, bits?: 16 | 32 | 64): RegisterRead[] {
  const doc = parseDocument(line, syntax === 'nasm' ? 'nasm' : 'gas', false, syntax);
  const out: RegisterRead[] = [];
  for (const st of doc.statements) {
    if (st.kind !== 'instruction') continue;
    for (const u of registerUses(st, bits ?? doc.defaultBits)) {
      if (!u.read) continue;
      if (out.some((o) => o.register === u.name && o.start === u.start)) continue;
      out.push({ register: u.name, start: u.start, end: u.end, implicit: u.implicit });
    }
  }
  return out;
}

/** LSP inline values for lines [fromLine, toLine] of a file (register lookups by name). */
export function inlineValues(file: SourceFile, fromLine: number, toLine: number): InlineValue[] {
  const out: InlineValue[] = [];
  const defaultBits = file.parsed.defaultBits;
  for (const st of file.parsed.statements) {
    if (st.kind !== 'instruction' || st.line < fromLine || st.line > toLine || st.inMacro) continue;
    const seen = new Set<string>();
    for (const u of registerUses(st, defaultBits)) {
      if (!u.read || seen.has(u.name)) continue;
      seen.add(u.name);
      out.push(InlineValueVariableLookup.create(Range.create(st.line, u.start, st.line, u.end), u.name, false));
      if (out.length >= 2000) return out;
    }
  }
  return out;
}
