// Debug information of an ELF guest image, for the debugger: source lines <-> addresses
// (.debug_line), function names and ranges (.debug_info, else the symbol table), inlined
// calls, and stack unwinding (.debug_frame). Everything is parsed once, up front; a unit
// that cannot be read is skipped and described in `warnings`, so one bad unit costs only
// its own lines.
//
// A stack trace, for example:
//   const info = DebugInfo.fromElf(imageBytes);             // null: no DWARF at all
//   const regs = unwindRegistersFromGprs(rip, gprs, is64);  // gprs in encoding order
//   for (const pc of [rip, ...info.unwind(regs, readGuest, is64).map((f) => f.callSite)]) {
//     // info.inlinedAt(pc), info.functionAt(pc), info.lineAt(pc) -> frames to show
//   }
// Recorded paths are relative to where the image was built (guests/...): resolveSource()
// finds them on disk from the image's directory.
import { readElfSymbols } from '../elf';
import { LoaderError, SymbolInfo } from '../types';
import { Fde, parseDebugFrame, unwindRowAt, UnwindRow } from './frame';
import { InfoResult, InlinedRange, parseInfo } from './info';
import { LineRow, LineSequence, LineTable, parseLineSection } from './line';
import { matchRecordedPaths } from './paths';
import { RangeIndex } from './range-index';
import { DwarfError } from './reader';
import { readElfSections } from './sections';
import { FrameTable, ReadMemory, UnwindRegisters, UnwoundFrame, unwindStack } from './unwind';

export { DwarfError } from './reader';
export { resolveSource, matchRecordedPaths, normalizePath } from './paths';
export {
  X86_64_DWARF_REGISTERS, I386_DWARF_REGISTERS, UnwindRegisters, UnwoundFrame, ReadMemory, unwindRegistersFromGprs,
} from './unwind';
export { LineRow, LineTable, LineSequence } from './line';
export { UnwindRow, RegisterRule, CfaRule } from './frame';
export { readElfSections, ElfSection, ElfSections } from './sections';

export interface SourceLocation {
  /** The path as recorded in the line table, joined with its directory (e.g. guests/cprog/cprog.c). */
  file: string;
  /** 0 for code the compiler attributes to no source line. */
  line: number;
  /** 0 when the compiler did not say. */
  column: number;
  /** The address of the row, the first byte of the range that maps to this line. */
  address: number;
}

export interface LineAddresses {
  /** The line that has code: the one asked for, or the next one after it that has. */
  line: number;
  /** Every is_stmt address of that line, sorted, without duplicates. */
  addresses: number[];
  /** The recorded paths the file matched. */
  files: string[];
}

export interface FunctionInfo {
  name: string;
  low: number;
  /** One past the last byte. */
  high: number;
  source: 'dwarf' | 'symbols';
}

export interface InlinedCall {
  /** The inlined function. */
  name: string;
  /** The range of its inlined code that contains the address asked about. */
  low: number;
  high: number;
  /** Where it was called from (recorded path, as in lineAt); undefined if the unit does not say. */
  callFile: string | undefined;
  callLine: number;
  callColumn: number;
}

interface SequenceRange {
  low: number;
  high: number;
  sequence: LineSequence;
}

export class DebugInfo {
  private tablesByOffset: Map<number, LineTable> | null = null;
  private statementsByFile: Map<string, { line: number; address: number }[]> | null = null;

  private constructor(
    /** Every line table read, in .debug_line order (rows and file lists, for inspection). */
    readonly lineTables: LineTable[],
    private readonly sequences: RangeIndex<SequenceRange>,
    private readonly functions: RangeIndex<FunctionInfo>,
    private readonly inlined: RangeIndex<InlinedRange>,
    private readonly frameTable: FrameTable | null,
    /** Problems met while reading (units skipped, sections unusable). */
    readonly warnings: string[],
  ) {}

  /**
   * Reads the debug information of an ELF file. Null when it has none of .debug_line,
   * .debug_info and .debug_frame; DwarfError when the file is not a readable ELF.
   */
  static fromElf(bytes: Uint8Array): DebugInfo | null {
    const sections = readElfSections(bytes);
    const warnings = [...sections.warnings];
    const sec = (name: string) => sections.byName(name);
    const line = sec('.debug_line');
    const info = sec('.debug_info');
    const frame = sec('.debug_frame');
    if (!line && !info && !frame) return null;
    // A section whose structure breaks down costs that section, not the others.
    const guarded = <T>(what: string, fallback: T, f: () => T): T => {
      try {
        return f();
      } catch (e) {
        if (!(e instanceof DwarfError)) throw e;
        warnings.push(`${what}: ${e.message}`);
        return fallback;
      }
    };
    const noInfo: InfoResult = { unitPaths: new Map(), functions: [], inlined: [] };
    const infoResult = info
      ? guarded('.debug_info', noInfo, () =>
          parseInfo({
            info, abbrev: sec('.debug_abbrev'), str: sec('.debug_str'), lineStr: sec('.debug_line_str'),
            strOffsets: sec('.debug_str_offsets'), addr: sec('.debug_addr'), rnglists: sec('.debug_rnglists'), ranges: sec('.debug_ranges'),
          }, warnings))
      : noInfo;
    const tables = line
      ? guarded('.debug_line', [] as LineTable[], () =>
          parseLineSection({ line, lineStr: sec('.debug_line_str'), str: sec('.debug_str') }, infoResult.unitPaths, warnings))
      : [];
    let frameTable: FrameTable | null = null;
    if (frame) {
      const fdes = guarded('.debug_frame', [] as Fde[], () => parseDebugFrame(frame, sections.elfClass, warnings));
      frameTable = { section: frame, fdes: new RangeIndex(fdes) };
    }
    const functions: FunctionInfo[] = infoResult.functions.map((f) => ({ ...f, source: 'dwarf' as const }));
    const sequences = sequenceIndex(tables);
    functions.push(...symbolFunctions(bytes, new RangeIndex(functions), sequences, warnings));
    return new DebugInfo(tables, sequences, new RangeIndex(functions), new RangeIndex(infoResult.inlined), frameTable, warnings);
  }

  /** The line table row covering `address` (the last row at or before it in its sequence). */
  lineAt(address: number): SourceLocation | null {
    const r = this.rowAt(address);
    if (!r) return null;
    const file = r.sequence.table.files[r.row.file];
    if (file === undefined) return null;
    return { file, line: r.row.line, column: r.row.column, address: r.row.address };
  }

  /** The raw row covering `address` and its sequence. */
  rowAt(address: number): { row: LineRow; sequence: LineSequence } | null {
    const s = this.sequences.find(address);
    if (!s) return null;
    const rows = s.sequence.rows;
    // Binary search for the last row whose address is <= address (the end row is excluded).
    let lo = 0;
    let hi = rows.length - 2;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (rows[mid].address <= address) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? null : { row: rows[found], sequence: s.sequence };
  }

  /**
   * Where a breakpoint on `file`:`line` goes: the is_stmt addresses of that line, or, when
   * the line has no code, of the next line after it that has (as debuggers move a
   * breakpoint). `file` may be an absolute path ending in a recorded one, a recorded path,
   * or a base name that only one recorded path has. Null if the file is unknown or no line
   * at or after `line` has code.
   */
  addressesForLine(file: string, line: number): LineAddresses | null {
    const byFile = this.statementIndex();
    const files = matchRecordedPaths(file, byFile.keys());
    let best = Infinity;
    for (const f of files) {
      for (const s of byFile.get(f) ?? []) if (s.line >= line && s.line < best) best = s.line;
    }
    if (best === Infinity) return null;
    const addresses = new Set<number>();
    for (const f of files) for (const s of byFile.get(f) ?? []) if (s.line === best) addresses.add(s.address);
    return { line: best, addresses: [...addresses].sort((a, b) => a - b), files };
  }

  /**
   * Every source file the line tables name, as recorded and joined with its directory,
   * sorted; without the compiler's pseudo-files such as "<built-in>".
   */
  sourceFiles(): string[] {
    const out = new Set<string>();
    for (const t of this.lineTables) {
      for (const f of t.files) if (f !== undefined && f !== '' && !/(^|\/)<[^/]*>$/.test(f)) out.add(f);
    }
    return [...out].sort();
  }

  /**
   * The function containing `address`: a DWARF subprogram range, else a sized STT_FUNC
   * symbol, else (in code the line tables cover) the nearest symbol before it, up to the
   * next symbol, which is how assembly functions without sizes are found.
   */
  functionAt(address: number): FunctionInfo | null {
    return this.functions.find(address);
  }

  /**
   * The calls inlined at `address`, innermost first: each names the inlined function and
   * where it was called from, which is inside the next one out, the last inside
   * functionAt(address). Empty when no inlined code covers the address.
   */
  inlinedAt(address: number): InlinedCall[] {
    const ranges = this.inlined.findAll(address).sort((a, b) => b.depth - a.depth);
    return ranges.map((r) => {
      const table = r.stmtList === undefined ? undefined : this.tableAt(r.stmtList);
      return { name: r.name, low: r.low, high: r.high, callFile: table?.files[r.callFile], callLine: r.callLine, callColumn: r.callColumn };
    });
  }

  private tableAt(offset: number): LineTable | undefined {
    if (!this.tablesByOffset) this.tablesByOffset = new Map(this.lineTables.map((t) => [t.offset, t]));
    return this.tablesByOffset.get(offset);
  }

  /** Every function range known (DWARF subprograms and symbol fallbacks), sorted by address. */
  allFunctions(): readonly FunctionInfo[] {
    return this.functions.all();
  }

  /**
   * The caller frames of the frame in `regs` (see UnwindRegisters), innermost caller first:
   * CFI from .debug_frame where it covers the pc, else the frame-pointer chain when it
   * looks sane. `is64`: the code runs in 64-bit mode (8-byte words, x86-64 registers).
   */
  unwind(regs: UnwindRegisters, readMemory: ReadMemory, is64: boolean, maxFrames = 64): UnwoundFrame[] {
    return unwindStack(this.frameTable, regs, readMemory, is64, maxFrames);
  }

  /** Whether .debug_frame has an FDE covering `address`. */
  hasFrameInfo(address: number): boolean {
    return this.frameTable?.fdes.find(address) != null;
  }

  /**
   * The call frame information at `address`: its FDE's range, the return address column
   * and the unwind row that applies. Null without an FDE; DwarfError if its instructions
   * are malformed.
   */
  frameRowAt(address: number): { low: number; high: number; raColumn: number; row: UnwindRow } | null {
    const fde = this.frameTable?.fdes.find(address);
    if (!this.frameTable || !fde) return null;
    return { low: fde.low, high: fde.high, raColumn: fde.cie.raColumn, row: unwindRowAt(this.frameTable.section, fde, address) };
  }

  private statementIndex(): Map<string, { line: number; address: number }[]> {
    if (this.statementsByFile) return this.statementsByFile;
    const m = new Map<string, { line: number; address: number }[]>();
    for (const t of this.lineTables) {
      for (const s of t.sequences) {
        for (let i = 0; i < s.rows.length - 1; i++) {
          const r = s.rows[i];
          const f = t.files[r.file];
          if (!r.isStmt || f === undefined || r.line === 0) continue;
          let list = m.get(f);
          if (!list) m.set(f, (list = []));
          list.push({ line: r.line, address: r.address });
        }
      }
    }
    this.statementsByFile = m;
    return m;
  }
}

function sequenceIndex(tables: LineTable[]): RangeIndex<SequenceRange> {
  const seqs: SequenceRange[] = [];
  for (const t of tables) for (const s of t.sequences) seqs.push({ low: s.start, high: s.end, sequence: s });
  return new RangeIndex(seqs);
}

/**
 * Functions from the symbol table where no subprogram covers the symbol: sized STT_FUNC
 * symbols as they are, and, in code a line table covers, unsized symbols (assembly labels)
 * up to the next symbol or the end of their sequence.
 */
function symbolFunctions(
  bytes: Uint8Array,
  dwarf: RangeIndex<FunctionInfo>,
  sequences: RangeIndex<SequenceRange>,
  warnings: string[],
): FunctionInfo[] {
  let symbols: SymbolInfo[];
  try {
    symbols = readElfSymbols(bytes);
  } catch (e) {
    if (!(e instanceof LoaderError)) throw e;
    warnings.push(`symbols not read: ${e.message}`);
    return [];
  }
  const sized: FunctionInfo[] = [];
  for (const s of symbols) {
    if (s.kind === 'func' && s.size > 0 && !dwarf.find(s.address)) {
      sized.push({ name: s.name, low: s.address, high: s.address + s.size, source: 'symbols' });
    }
  }
  const covered = new RangeIndex([...dwarf.all(), ...sized]);
  // readElfSymbols sorts by address, then name: the next symbol start is a forward scan
  // away, and of several labels at one address the first by name is taken (a typed
  // function before a plain label).
  const starts = [...new Set(symbols.map((s) => s.address))];
  const labels = symbols
    .filter((s) => s.kind !== 'object' && !(s.kind === 'func' && s.size > 0))
    .sort((a, b) => a.address - b.address || (a.kind === 'func' ? 0 : 1) - (b.kind === 'func' ? 0 : 1));
  const out = sized;
  let k = 0;
  let lastLow = -1;
  for (const s of labels) {
    while (k < starts.length && starts[k] <= s.address) k++;
    if (s.address === lastLow || covered.find(s.address)) continue;
    const seq = sequences.find(s.address);
    if (!seq) continue;
    out.push({ name: s.name, low: s.address, high: Math.min(starts[k] ?? seq.high, seq.high), source: 'symbols' });
    lastLow = s.address;
  }
  return out;
}
