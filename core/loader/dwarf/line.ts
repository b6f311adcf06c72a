// .debug_line: line number programs of DWARF 2 to 5 (DWARF 5, 6.2), run through the state
// machine into rows, grouped into sequences (a run of contiguous code ending with
// DW_LNE_end_sequence). The header formats differ by version: v4 added
// maximum_operations_per_instruction, v5 added address/segment sizes and self-describing
// directory and file tables (entry formats, DW_FORM_line_strp into .debug_line_str).
import * as C from './constants';
import { readForm, UnitEncoding } from './forms';
import { joinPath } from './paths';
import { Cursor, DwarfError, eachUnit, hex, stringAt } from './reader';

export interface LineRow {
  address: number;
  /** Index into the table's file list as the program uses it (v5: 0-based, v2-4: 1-based). */
  file: number;
  line: number;
  column: number;
  isStmt: boolean;
  basicBlock: boolean;
  endSequence: boolean;
  prologueEnd: boolean;
  epilogueBegin: boolean;
  isa: number;
  discriminator: number;
  opIndex: number;
}

export interface LineSequence {
  /** Address of the first row and of the end_sequence row (one past the last byte). */
  start: number;
  end: number;
  /** Every row, the end_sequence row last. */
  rows: LineRow[];
  table: LineTable;
}

export interface LineTable {
  /** Offset of the unit in .debug_line (what DW_AT_stmt_list names). */
  offset: number;
  version: number;
  addressSize: number;
  /** Directory paths, each joined with directory 0 when relative. */
  directories: string[];
  /** File paths as recorded, joined with their directory, indexed as rows index them. */
  files: (string | undefined)[];
  sequences: LineSequence[];
}

/** What the line tables need from .debug_info for DWARF 2-4, whose directory 0 and file 0 are the unit's. */
export interface UnitPaths {
  compDir?: string;
  name?: string;
}

export interface LineSections {
  line: Uint8Array;
  lineStr?: Uint8Array;
  str?: Uint8Array;
}

/** Parses every line table of .debug_line; a broken unit is reported in `warnings` and skipped. */
export function parseLineSection(s: LineSections, units: Map<number, UnitPaths>, warnings: string[]): LineTable[] {
  const tables: LineTable[] = [];
  eachUnit(new Cursor(s.line, '.debug_line'), warnings, {
    entry: 'unit', skipped: (offset, e) => `line table at ${hex(offset)} skipped: ${e.message}`,
  }, (unit, offset, offsetSize) => { tables.push(parseLineTable(unit, offset, offsetSize, s, units.get(offset) ?? {})); });
  return tables;
}

function parseLineTable(c: Cursor, offset: number, offsetSize: 4 | 8, s: LineSections, unit: UnitPaths): LineTable {
  const version = c.u16();
  if (version < 2 || version > 5) throw new DwarfError(`.debug_line: unit at ${hex(offset)} has version ${version}, expected 2 to 5`);
  let addressSize = 0;
  if (version >= 5) {
    addressSize = c.u8();
    const segmentSize = c.u8();
    if (segmentSize !== 0) throw new DwarfError(`.debug_line: unit at ${hex(offset)} has segment selectors (size ${segmentSize}), which x86 never uses`);
    if (addressSize !== 4 && addressSize !== 8) throw new DwarfError(`.debug_line: unit at ${hex(offset)} has address size ${addressSize}, expected 4 or 8`);
  }
  const headerLength = c.uN(offsetSize);
  const header = c.sub(headerLength);
  const program = c; // the program runs from the end of the header to the end of the unit
  const minInstLength = header.u8();
  const maxOps = version >= 4 ? header.u8() : 1;
  const defaultIsStmt = header.u8() !== 0;
  const lineBase = header.i8();
  const lineRange = header.u8();
  const opcodeBase = header.u8();
  if (maxOps === 0) throw new DwarfError(`.debug_line: unit at ${hex(offset)} has maximum_operations_per_instruction 0`);
  if (lineRange === 0) throw new DwarfError(`.debug_line: unit at ${hex(offset)} has line_range 0`);
  if (opcodeBase === 0) throw new DwarfError(`.debug_line: unit at ${hex(offset)} has opcode_base 0`);
  const argCounts = [0];
  for (let i = 1; i < opcodeBase; i++) argCounts.push(header.u8());

  let directories: string[];
  let files: (string | undefined)[];
  if (version >= 5) {
    const enc: UnitEncoding = { version, addressSize, offsetSize };
    const dirEntries = readEntryTable(header, enc, s);
    const dir0 = dirEntries[0]?.path ?? '';
    directories = dirEntries.map((d, i) => (i === 0 ? dir0 : joinPath(dir0, d.path ?? '')));
    files = readEntryTable(header, enc, s).map((f) => joinPath(directories[f.dir] ?? '', f.path ?? ''));
  } else {
    // Directory 0 and file 0 are the compilation unit's own (DW_AT_comp_dir, DW_AT_name).
    const compDir = unit.compDir ?? '';
    directories = [compDir];
    for (let dir = header.cstring(); dir !== ''; dir = header.cstring()) directories.push(joinPath(compDir, dir));
    files = [unit.name !== undefined ? joinPath(compDir, unit.name) : undefined];
    for (let name = header.cstring(); name !== ''; name = header.cstring()) {
      const dir = header.uleb();
      header.uleb(); // modification time
      header.uleb(); // length
      files.push(joinPath(directories[dir] ?? '', name));
    }
  }
  if (addressSize === 0) addressSize = 4; // v2-4: set_address operands say the size; this is only a default
  const table: LineTable = { offset, version, addressSize, directories, files, sequences: [] };
  runProgram(program, table, { minInstLength, maxOps, defaultIsStmt, lineBase, lineRange, opcodeBase, argCounts });
  return table;
}

interface EntryFields {
  path?: string;
  dir: number;
}

/** A v5 directory or file table: a format (content type, form pairs), a count, the entries. */
function readEntryTable(c: Cursor, enc: UnitEncoding, s: LineSections): EntryFields[] {
  const formatCount = c.u8();
  const format: [number, number][] = [];
  for (let i = 0; i < formatCount; i++) format.push([c.uleb(), c.uleb()]);
  const count = c.uleb();
  // Each entry takes at least one byte per field: a count beyond that is corrupt, not big.
  if (count > c.remaining) throw new DwarfError(`.debug_line: ${count} entries announced at ${hex(c.pos)} but only ${c.remaining} header bytes remain`);
  const out: EntryFields[] = [];
  for (let i = 0; i < count; i++) {
    const e: EntryFields = { dir: 0 };
    for (const [type, form] of format) {
      const v = readForm(c, form, enc);
      if (type === C.DW_LNCT_path) {
        if (v.cls === 'string') e.path = v.str;
        else if (v.cls === 'line_strp') e.path = stringAt(s.lineStr, '.debug_line_str', v.value);
        else if (v.cls === 'strp') e.path = stringAt(s.str, '.debug_str', v.value);
        else throw new DwarfError(`.debug_line: DW_LNCT_path in form ${hex(form)} is not supported`);
      } else if (type === C.DW_LNCT_directory_index) {
        e.dir = v.value;
      }
      // DW_LNCT_timestamp, DW_LNCT_size, DW_LNCT_MD5 and vendor types are read and ignored.
    }
    out.push(e);
  }
  return out;
}

interface ProgramParams {
  minInstLength: number;
  maxOps: number;
  defaultIsStmt: boolean;
  lineBase: number;
  lineRange: number;
  opcodeBase: number;
  argCounts: number[];
}

/** The line number state machine (DWARF 5, 6.2.2 and 6.2.5). */
function runProgram(c: Cursor, table: LineTable, p: ProgramParams): void {
  const fresh = (): LineRow => ({
    address: 0, file: 1, line: 1, column: 0, isStmt: p.defaultIsStmt, basicBlock: false, endSequence: false,
    prologueEnd: false, epilogueBegin: false, isa: 0, discriminator: 0, opIndex: 0,
  });
  let st = fresh();
  let rows: LineRow[] = [];
  const emit = () => {
    rows.push({ ...st });
    st.discriminator = 0;
    st.basicBlock = st.prologueEnd = st.epilogueBegin = false;
  };
  const advance = (operationAdvance: number) => {
    if (p.maxOps === 1) {
      st.address += p.minInstLength * operationAdvance;
    } else {
      const ops = st.opIndex + operationAdvance;
      st.address += p.minInstLength * Math.floor(ops / p.maxOps);
      st.opIndex = ops % p.maxOps;
    }
  };
  while (c.remaining > 0) {
    const op = c.u8();
    if (op >= p.opcodeBase) {
      const adjusted = op - p.opcodeBase;
      advance(Math.floor(adjusted / p.lineRange));
      st.line += p.lineBase + (adjusted % p.lineRange);
      emit();
    } else if (op === 0) {
      const len = c.uleb();
      const ext = c.sub(len);
      if (len === 0) continue;
      const sub = ext.u8();
      switch (sub) {
        case C.DW_LNE_end_sequence:
          st.endSequence = true;
          emit();
          closeSequence(table, rows);
          rows = [];
          st = fresh();
          break;
        case C.DW_LNE_set_address:
          st.address = ext.uN(len - 1);
          st.opIndex = 0;
          break;
        case C.DW_LNE_define_file: {
          const name = ext.cstring();
          const dir = ext.uleb();
          table.files.push(joinPath(table.directories[dir] ?? '', name));
          break;
        }
        case C.DW_LNE_set_discriminator:
          st.discriminator = ext.uleb();
          break;
        default:
          break; // vendor extended opcodes: their length lets us step over them
      }
    } else {
      switch (op) {
        case C.DW_LNS_copy: emit(); break;
        case C.DW_LNS_advance_pc: advance(c.uleb()); break;
        case C.DW_LNS_advance_line: st.line += c.sleb(); break;
        case C.DW_LNS_set_file: st.file = c.uleb(); break;
        case C.DW_LNS_set_column: st.column = c.uleb(); break;
        case C.DW_LNS_negate_stmt: st.isStmt = !st.isStmt; break;
        case C.DW_LNS_set_basic_block: st.basicBlock = true; break;
        case C.DW_LNS_const_add_pc: advance(Math.floor((255 - p.opcodeBase) / p.lineRange)); break;
        case C.DW_LNS_fixed_advance_pc: st.address += c.u16(); st.opIndex = 0; break;
        case C.DW_LNS_set_prologue_end: st.prologueEnd = true; break;
        case C.DW_LNS_set_epilogue_begin: st.epilogueBegin = true; break;
        case C.DW_LNS_set_isa: st.isa = c.uleb(); break;
        default:
          // An opcode below opcode_base that this version does not define: skip its
          // operands, whose count the header gives.
          for (let i = 0; i < p.argCounts[op]; i++) c.uleb();
      }
    }
  }
}

/** Rows after the last end_sequence (a truncated program) are dropped: they have no end address. */
function closeSequence(table: LineTable, rows: LineRow[]): void {
  const start = rows[0].address;
  const end = rows[rows.length - 1].address;
  // Empty sequences and those the linker left at a tombstone (discarded code) cover nothing.
  if (end <= start || start >= 2 ** 53 || (table.addressSize === 4 && start === 0xffffffff)) return;
  table.sequences.push({ start, end, rows, table });
}
