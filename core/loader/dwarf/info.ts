// .debug_info and .debug_abbrev (DWARF 5, 7.5): every unit is walked DIE by DIE, all
// attributes read by form, and only what the debugger needs is kept: each compilation
// unit's line table offset and paths, each subprogram's name and address ranges, and
// each inlined call (DW_TAG_inlined_subroutine: what was inlined, where it was called).
// Out-of-line copies of inlined or specialised functions (f.isra.0) carry no name of their
// own but point at the DIE that has one (DW_AT_abstract_origin / DW_AT_specification).
import * as C from './constants';
import { AttrValue, readForm, UnitEncoding } from './forms';
import { UnitPaths } from './line';
import { Cursor, DwarfError, eachUnit, hex, stringAt } from './reader';
import { readRanges, AddressRange } from './ranges';

export interface InfoSections {
  info: Uint8Array;
  abbrev?: Uint8Array;
  str?: Uint8Array;
  lineStr?: Uint8Array;
  strOffsets?: Uint8Array;
  addr?: Uint8Array;
  rnglists?: Uint8Array;
  ranges?: Uint8Array;
}

export interface FunctionRange {
  name: string;
  low: number;
  /** One past the last byte. */
  high: number;
}

/** One address range of an inlined call. */
export interface InlinedRange {
  name: string;
  low: number;
  high: number;
  /** Nesting depth of the DIE in its unit: a deeper range is inlined into a shallower one. */
  depth: number;
  /** DW_AT_call_file, an index into the file list of the unit's line table (at `stmtList`). */
  callFile: number;
  callLine: number;
  callColumn: number;
  stmtList: number | undefined;
}

export interface InfoResult {
  /** Keyed by DW_AT_stmt_list: what a DWARF 2-4 line table needs from its unit. */
  unitPaths: Map<number, UnitPaths>;
  functions: FunctionRange[];
  inlined: InlinedRange[];
}

type Names = Map<number, { name?: string; origin?: number }>;

/** What the walk over the units gathers; names are resolved once every unit is read. */
interface Collected {
  unitPaths: Map<number, UnitPaths>;
  /** Per subprogram DIE (by .debug_info offset): its own name and the DIE it refers to. */
  names: Names;
  subprograms: { die: number; ranges: AddressRange[] }[];
  inlined: (Omit<InlinedRange, 'name'> & { origin: number })[];
}

interface Abbrev {
  tag: number;
  hasChildren: boolean;
  attrs: { name: number; form: number; implicit: number }[];
}

/** Unit state the attribute values are resolved against. */
interface Unit extends UnitEncoding {
  offset: number;
  strOffsetsBase: number;
  addrBase: number;
  rnglistsBase: number;
  baseAddress: number;
  stmtList: number | undefined;
}

/** The attributes kept from one DIE, unresolved (a unit's bases may come later in its first DIE). */
type Kept = Map<number, AttrValue>;

const KEPT_ATTRIBUTES = new Set([
  C.DW_AT_name, C.DW_AT_linkage_name, C.DW_AT_MIPS_linkage_name, C.DW_AT_low_pc, C.DW_AT_high_pc, C.DW_AT_ranges,
  C.DW_AT_abstract_origin, C.DW_AT_specification, C.DW_AT_stmt_list, C.DW_AT_comp_dir, C.DW_AT_str_offsets_base,
  C.DW_AT_addr_base, C.DW_AT_GNU_addr_base, C.DW_AT_rnglists_base, C.DW_AT_call_file, C.DW_AT_call_line, C.DW_AT_call_column,
]);

export function parseInfo(s: InfoSections, warnings: string[]): InfoResult {
  const got: Collected = { unitPaths: new Map(), names: new Map(), subprograms: [], inlined: [] };
  const abbrevCache = new Map<number, Map<number, Abbrev>>();
  eachUnit(new Cursor(s.info, '.debug_info'), warnings, {
    entry: 'unit', skipped: (offset, e) => `.debug_info unit at ${hex(offset)} skipped from the point of error: ${e.message}`,
  }, (body, offset, offsetSize) => parseUnit(body, offset, offsetSize, s, abbrevCache, got));
  const functions: FunctionRange[] = [];
  for (const p of got.subprograms) {
    const name = functionName(got.names, p.die);
    if (name === undefined) continue;
    for (const r of p.ranges) functions.push({ name, low: r.low, high: r.high });
  }
  const inlined: InlinedRange[] = [];
  for (const { origin, ...rest } of got.inlined) {
    const name = functionName(got.names, origin);
    if (name !== undefined) inlined.push({ name, ...rest });
  }
  return { unitPaths: got.unitPaths, functions, inlined };
}

function functionName(names: Names, die: number): string | undefined {
  let d: number | undefined = die;
  // Origins chain at most a couple of times in practice; the cap stops reference cycles.
  for (let hops = 0; hops < 8 && d !== undefined; hops++) {
    const n = names.get(d);
    if (!n) return undefined;
    if (n.name !== undefined) return n.name;
    d = n.origin;
  }
  return undefined;
}

function parseUnit(
  c: Cursor,
  offset: number,
  offsetSize: 4 | 8,
  s: InfoSections,
  abbrevCache: Map<number, Map<number, Abbrev>>,
  got: Collected,
): void {
  const version = c.u16();
  if (version < 2 || version > 5) throw new DwarfError(`version ${version}, expected 2 to 5`);
  let addressSize: number;
  let abbrevOffset: number;
  if (version >= 5) {
    const unitType = c.u8();
    addressSize = c.u8();
    abbrevOffset = c.uN(offsetSize);
    if (unitType === C.DW_UT_skeleton || unitType === C.DW_UT_split_compile) c.skip(8, 'dwo_id');
    else if (unitType === C.DW_UT_type || unitType === C.DW_UT_split_type) c.skip(8 + offsetSize, 'type signature and offset');
    else if (unitType !== C.DW_UT_compile && unitType !== C.DW_UT_partial) throw new DwarfError(`unknown unit type ${hex(unitType)}`);
  } else {
    abbrevOffset = c.uN(offsetSize);
    addressSize = c.u8();
  }
  if (addressSize !== 4 && addressSize !== 8) throw new DwarfError(`address size ${addressSize}, expected 4 or 8`);
  let abbrevs = abbrevCache.get(abbrevOffset);
  if (!abbrevs) {
    abbrevs = parseAbbrevs(s.abbrev, abbrevOffset);
    abbrevCache.set(abbrevOffset, abbrevs);
  }
  // DWARF 5 7.3.2: without DW_AT_*_base the single contribution starts after its header.
  const headerSize = offsetSize === 8 ? 16 : 8;
  const unit: Unit = {
    version, addressSize, offsetSize, offset,
    strOffsetsBase: headerSize, addrBase: headerSize, rnglistsBase: headerSize + 4, baseAddress: 0, stmtList: undefined,
  };
  let depth = 0;
  let first = true;
  while (c.remaining > 0) {
    const die = c.pos;
    const code = c.uleb();
    if (code === 0) {
      depth--;
      if (depth <= 0) break; // the unit DIE's children are done (padding may follow)
      continue;
    }
    const abbrev = abbrevs.get(code);
    if (!abbrev) throw new DwarfError(`DIE at ${hex(die)} uses abbreviation ${code}, which the table at .debug_abbrev ${hex(abbrevOffset)} lacks`);
    const kept: Kept = new Map();
    for (const a of abbrev.attrs) {
      const v = readForm(c, a.form, unit, a.implicit);
      if (KEPT_ATTRIBUTES.has(a.name)) kept.set(a.name, v);
    }
    const dieDepth = depth;
    if (abbrev.hasChildren) depth++;
    if (first) {
      first = false;
      readUnitDie(kept, unit, s, got.unitPaths);
      if (!abbrev.hasChildren) break;
      continue;
    }
    const ref = kept.get(C.DW_AT_abstract_origin) ?? kept.get(C.DW_AT_specification);
    const origin = ref ? (ref.cls === 'unit_ref' ? offset + ref.value : ref.cls === 'section_ref' ? ref.value : undefined) : undefined;
    if (abbrev.tag === C.DW_TAG_subprogram) {
      const name = kept.get(C.DW_AT_name) ?? kept.get(C.DW_AT_linkage_name) ?? kept.get(C.DW_AT_MIPS_linkage_name);
      got.names.set(die, { name: name ? resolveString(name, unit, s) : undefined, origin });
      const ranges = dieRanges(kept, unit, s);
      if (ranges.length > 0) got.subprograms.push({ die, ranges });
    } else if (abbrev.tag === C.DW_TAG_inlined_subroutine && origin !== undefined) {
      const call = {
        origin, depth: dieDepth, stmtList: unit.stmtList, callFile: kept.get(C.DW_AT_call_file)?.value ?? -1,
        callLine: kept.get(C.DW_AT_call_line)?.value ?? 0, callColumn: kept.get(C.DW_AT_call_column)?.value ?? 0,
      };
      for (const r of dieRanges(kept, unit, s)) got.inlined.push({ ...call, low: r.low, high: r.high });
    }
  }
}

function readUnitDie(kept: Kept, unit: Unit, s: InfoSections, unitPaths: Map<number, UnitPaths>): void {
  const num = (at: number) => kept.get(at)?.value;
  unit.strOffsetsBase = num(C.DW_AT_str_offsets_base) ?? unit.strOffsetsBase;
  unit.addrBase = num(C.DW_AT_addr_base) ?? num(C.DW_AT_GNU_addr_base) ?? unit.addrBase;
  unit.rnglistsBase = num(C.DW_AT_rnglists_base) ?? unit.rnglistsBase;
  const low = kept.get(C.DW_AT_low_pc);
  if (low) unit.baseAddress = resolveAddress(low, unit, s);
  const stmt = kept.get(C.DW_AT_stmt_list);
  unit.stmtList = stmt?.value;
  if (stmt) {
    const str = (at: number) => {
      const v = kept.get(at);
      return v ? resolveString(v, unit, s) : undefined;
    };
    unitPaths.set(stmt.value, { compDir: str(C.DW_AT_comp_dir), name: str(C.DW_AT_name) });
  }
}

/** A subprogram's code: [low_pc, high_pc) or its DW_AT_ranges list. */
function dieRanges(kept: Kept, unit: Unit, s: InfoSections): AddressRange[] {
  const low = kept.get(C.DW_AT_low_pc);
  const high = kept.get(C.DW_AT_high_pc);
  if (low && high) {
    const l = resolveAddress(low, unit, s);
    // DWARF 4+: a constant-class high_pc is the length.
    const h = high.cls === 'address' || high.cls === 'addrx' ? resolveAddress(high, unit, s) : l + high.value;
    return isLive(l, unit) && h > l ? [{ low: l, high: h }] : [];
  }
  const ranges = kept.get(C.DW_AT_ranges);
  if (ranges) {
    return readRanges(ranges, unit, s, (index) => readAddrIndex(index, unit, s)).filter((r) => isLive(r.low, unit) && r.high > r.low);
  }
  return [];
}

/** Code the linker discarded keeps its debug info with a tombstone address (0 or all ones). */
function isLive(address: number, unit: Unit): boolean {
  return address !== 0 && !(unit.addressSize === 4 ? address === 0xffffffff : address >= 2 ** 53);
}

function resolveString(v: AttrValue, unit: Unit, s: InfoSections): string | undefined {
  switch (v.cls) {
    case 'string': return v.str;
    case 'strp': return stringAt(s.str, '.debug_str', v.value);
    case 'line_strp': return stringAt(s.lineStr, '.debug_line_str', v.value);
    case 'strx': {
      if (!s.strOffsets) throw new DwarfError('DW_FORM_strx used but the image has no .debug_str_offsets');
      const c = new Cursor(s.strOffsets, '.debug_str_offsets', 0);
      c.skip(unit.strOffsetsBase + v.value * unit.offsetSize, 'string offsets before the index');
      return stringAt(s.str, '.debug_str', c.uN(unit.offsetSize));
    }
    default: return undefined;
  }
}

function resolveAddress(v: AttrValue, unit: Unit, s: InfoSections): number {
  return v.cls === 'addrx' ? readAddrIndex(v.value, unit, s) : v.value;
}

function readAddrIndex(index: number, unit: Unit, s: InfoSections): number {
  if (!s.addr) throw new DwarfError('DW_FORM_addrx used but the image has no .debug_addr');
  const c = new Cursor(s.addr, '.debug_addr', 0);
  c.skip(unit.addrBase + index * unit.addressSize, 'addresses before the index');
  return c.uN(unit.addressSize);
}

/** One abbreviation table (DWARF 5, 7.5.3), up to its terminating 0 code. */
function parseAbbrevs(section: Uint8Array | undefined, offset: number): Map<number, Abbrev> {
  if (!section) throw new DwarfError('.debug_info is present but .debug_abbrev is not');
  const c = new Cursor(section, '.debug_abbrev', 0);
  c.skip(offset, 'the abbreviation table offset');
  const out = new Map<number, Abbrev>();
  for (;;) {
    const code = c.uleb();
    if (code === 0) return out;
    const tag = c.uleb();
    const hasChildren = c.u8() !== 0;
    const attrs: Abbrev['attrs'] = [];
    for (;;) {
      const name = c.uleb();
      const form = c.uleb();
      if (name === 0 && form === 0) break;
      attrs.push({ name, form, implicit: form === C.DW_FORM_implicit_const ? c.sleb() : 0 });
    }
    out.set(code, { tag, hasChildren, attrs });
  }
}
