// Non-contiguous address ranges (DW_AT_ranges): DWARF 5 range lists in .debug_rnglists
// (DWARF 5, 2.17.3 and 7.25) and the older address pairs of .debug_ranges (DWARF 4, 2.17.3).
// GCC uses them for functions split into hot and cold parts (f and f.cold).
import * as C from './constants';
import { AttrValue } from './forms';
import { Cursor, DwarfError } from './reader';

export interface AddressRange {
  low: number;
  high: number;
}

export interface RangeUnit {
  version: number;
  addressSize: number;
  offsetSize: 4 | 8;
  rnglistsBase: number;
  baseAddress: number;
}

/** More entries than any real list has: stops a corrupt list that never ends before the section does. */
const MAX_ENTRIES = 1 << 16;

export function readRanges(
  v: AttrValue,
  unit: RangeUnit,
  s: { rnglists?: Uint8Array; ranges?: Uint8Array },
  addrx: (index: number) => number,
): AddressRange[] {
  if (unit.version < 5) {
    if (v.cls !== 'sec_offset' && v.cls !== 'constant') return [];
    return readDebugRanges(s.ranges, v.value, unit);
  }
  if (!s.rnglists) throw new DwarfError('DW_AT_ranges used but the image has no .debug_rnglists');
  let offset: number;
  if (v.cls === 'rnglistx') {
    // The offsets table at rnglists_base holds offsets relative to rnglists_base.
    const c = new Cursor(s.rnglists, '.debug_rnglists', 0);
    c.skip(unit.rnglistsBase + v.value * unit.offsetSize, 'range list offsets before the index');
    offset = unit.rnglistsBase + c.uN(unit.offsetSize);
  } else if (v.cls === 'sec_offset') {
    offset = v.value;
  } else {
    return [];
  }
  return readRangeList(s.rnglists, offset, unit, addrx);
}

function readRangeList(section: Uint8Array, offset: number, unit: RangeUnit, addrx: (index: number) => number): AddressRange[] {
  const c = new Cursor(section, '.debug_rnglists', 0);
  c.skip(offset, 'the range list offset');
  const out: AddressRange[] = [];
  let base = unit.baseAddress;
  const addr = () => c.uN(unit.addressSize);
  for (let n = 0; n < MAX_ENTRIES; n++) {
    const kind = c.u8();
    switch (kind) {
      case C.DW_RLE_end_of_list: return out;
      case C.DW_RLE_base_addressx: base = addrx(c.uleb()); break;
      case C.DW_RLE_startx_endx: { const lo = addrx(c.uleb()); out.push({ low: lo, high: addrx(c.uleb()) }); break; }
      case C.DW_RLE_startx_length: { const lo = addrx(c.uleb()); out.push({ low: lo, high: lo + c.uleb() }); break; }
      case C.DW_RLE_offset_pair: { const lo = c.uleb(); out.push({ low: base + lo, high: base + c.uleb() }); break; }
      case C.DW_RLE_base_address: base = addr(); break;
      case C.DW_RLE_start_end: { const lo = addr(); out.push({ low: lo, high: addr() }); break; }
      case C.DW_RLE_start_length: { const lo = addr(); out.push({ low: lo, high: lo + c.uleb() }); break; }
      default: throw new DwarfError(`.debug_rnglists: unknown entry kind ${kind} at offset ${c.pos - 1}`);
    }
  }
  throw new DwarfError(`.debug_rnglists: the list at offset ${offset} has more than ${MAX_ENTRIES} entries`);
}

function readDebugRanges(section: Uint8Array | undefined, offset: number, unit: RangeUnit): AddressRange[] {
  if (!section) throw new DwarfError('DW_AT_ranges used but the image has no .debug_ranges');
  const c = new Cursor(section, '.debug_ranges', 0);
  c.skip(offset, 'the range list offset');
  const allOnes = unit.addressSize === 4 ? 0xffffffff : 2 ** 64 - 1;
  const out: AddressRange[] = [];
  let base = unit.baseAddress;
  for (let n = 0; n < MAX_ENTRIES; n++) {
    const a = c.uN(unit.addressSize);
    const b = c.uN(unit.addressSize);
    if (a === 0 && b === 0) return out;
    if (a === allOnes) base = b; // a base address selection entry
    else out.push({ low: base + a, high: base + b });
  }
  throw new DwarfError(`.debug_ranges: the list at offset ${offset} has more than ${MAX_ENTRIES} entries`);
}
