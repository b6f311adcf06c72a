// What the adapter knows about the guest program: ELF symbols (function names, data
// addresses) and, when the image was built with -g, DWARF line tables and call frame
// information (core/loader/dwarf). Addresses are linear (what RIP plus CS base gives).
import { readFileSync } from 'node:fs';
import { readElfSymbols, SymbolInfo } from '../core/loader';

/** Source position of an address. */
export interface SourceLine {
  /** Absolute path when the file was found, else as recorded. */
  path: string;
  line: number;
  column: number;
}

/** Line information, provided by a DWARF reader when the image has one. */
export interface LineInfo {
  lineAt(address: number): SourceLine | null;
  /** Addresses where code for `line` of `path` (or the next line that has code) starts; the line actually used. */
  addressesForLine(path: string, line: number): { line: number; addresses: number[] } | null;
  /** Whether a line-table row with is_stmt starts exactly at the address (a statement boundary). */
  isStatement(address: number): boolean;
  sourceFiles(): string[];
  /** Caller frames from call frame information (return addresses and stack pointers), innermost first. */
  unwind?(regs: UnwindRegisters, read: (address: number, size: number) => number | null, is64: boolean, max: number): { pc: number; sp: number; fp: number }[];
}

export interface UnwindRegisters { pc: number; sp: number; fp: number; [dwarfRegister: number]: number }

export class Program {
  /** Functions and objects sorted by address. */
  readonly symbols: SymbolInfo[];
  private readonly byName = new Map<string, SymbolInfo>();
  private readonly functions: SymbolInfo[];

  constructor(symbols: SymbolInfo[], readonly lines: LineInfo | null = null) {
    this.symbols = symbols.filter((s) => s.name !== '').sort((a, b) => a.address - b.address);
    for (const s of this.symbols) if (!this.byName.has(s.name)) this.byName.set(s.name, s);
    this.functions = this.symbols.filter((s) => s.kind === 'func' || s.kind === 'other');
  }

  static fromFile(path: string | undefined, extraSymbols: SymbolInfo[] = [], lines: LineInfo | null = null): Program {
    let symbols = extraSymbols;
    if (path !== undefined) {
      try {
        symbols = symbols.concat(readElfSymbols(readFileSync(path)));
      } catch {
        // No symbols: the adapter still works on addresses.
      }
    }
    return new Program(symbols, lines);
  }

  lookup(name: string): SymbolInfo | undefined {
    return this.byName.get(name);
  }

  /** The function (or nearest preceding code symbol) containing an address. */
  functionAt(address: number): SymbolInfo | null {
    const f = this.functions;
    let lo = 0, hi = f.length - 1, best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (f[mid].address <= address) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (best < 0) return null;
    const s = f[best];
    // A sized symbol must contain the address; an unsized one (assembly label) covers up to 64 KiB.
    if (s.size > 0 ? address >= s.address + s.size : address - s.address > 0x10000) return null;
    return s;
  }

  /** "name+0x12" (or "name"), or null when no symbol covers the address. */
  describe(address: number): string | null {
    const s = this.functionAt(address);
    if (s === null) return null;
    const off = address - s.address;
    return off === 0 ? s.name : `${s.name}+0x${off.toString(16)}`;
  }

  /** Symbols whose names start with a prefix (completion). */
  complete(prefix: string, max = 50): string[] {
    const out: string[] = [];
    for (const s of this.byName.keys()) {
      if (s.startsWith(prefix)) out.push(s);
      if (out.length >= max) break;
    }
    return out;
  }
}
