// Line information and call frame information for the adapter, from the image's DWARF
// (core/loader/dwarf): source paths resolved against the image's folder and its parents
// (the guests record paths relative to the repository), statement boundaries for line
// stepping, CFI unwinding with a frame-pointer fallback. Null when the file has no DWARF.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DebugInfo, resolveSource, unwindRegistersFromGprs, DwarfError } from '../core/loader/dwarf';
import type { LineInfo, SourceLine } from './program';

class DwarfLineInfo implements LineInfo {
  private readonly resolved = new Map<string, string>();

  constructor(private readonly dwarf: DebugInfo, private readonly searchDirs: string[]) {}

  /** The recorded path as a file on this machine when it can be found, else as recorded. */
  private path(recorded: string): string {
    let p = this.resolved.get(recorded);
    if (p === undefined) {
      p = resolveSource(recorded, this.searchDirs) ?? recorded;
      this.resolved.set(recorded, p);
    }
    return p;
  }

  lineAt(address: number): SourceLine | null {
    const l = this.dwarf.lineAt(address);
    if (l === null || l.line === 0) return null;
    return { path: this.path(l.file), line: l.line, column: l.column };
  }

  addressesForLine(path: string, line: number): { line: number; addresses: number[] } | null {
    const r = this.dwarf.addressesForLine(path, line);
    return r === null ? null : { line: r.line, addresses: r.addresses };
  }

  isStatement(address: number): boolean {
    const r = this.dwarf.rowAt(address);
    return r !== null && r.row.address === address && r.row.isStmt && r.row.line !== 0;
  }

  sourceFiles(): string[] {
    return [...new Set(this.dwarf.sourceFiles().map((f) => this.path(f)))].filter((p) => existsSync(p));
  }

  unwindFrom(pc: number, gprs: number[], read: (address: number, size: number) => number | null, is64: boolean, max: number): { pc: number; sp: number; fp: number }[] {
    const frames = this.dwarf.unwind(unwindRegistersFromGprs(pc, gprs, is64), (a, size) => read(a, size), is64, max);
    return frames.map((f) => ({ pc: f.pc, sp: f.sp, fp: f.registers.fp ?? 0 }));
  }
}

/**
 * Reads the DWARF of `elfPath` (the program, or the `symbols` ELF of a flat image). Sources
 * are looked for beside the image and in its parent folders.
 */
export function loadLineInfo(elfPath: string, imagePath: string): LineInfo | null {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(elfPath);
  } catch {
    return null;
  }
  let dwarf: DebugInfo | null;
  try {
    dwarf = DebugInfo.fromElf(bytes);
  } catch (e) {
    if (e instanceof DwarfError) return null;
    throw e;
  }
  if (dwarf === null) return null;
  return new DwarfLineInfo(dwarf, [dirname(resolve(imagePath)), dirname(resolve(elfPath)), process.cwd()]);
}
