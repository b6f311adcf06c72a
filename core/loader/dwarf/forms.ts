// Reading one attribute value by its form (DWARF 5, 7.5.5 and 7.5.6). Every form of DWARF
// 2-5 is known, so a DIE with attributes we do not care about is still stepped over
// exactly; an unknown form makes the rest of the unit unreadable, and says so.
import * as F from './constants';
import { Cursor, DwarfError, hex } from './reader';

export interface UnitEncoding {
  version: number;
  addressSize: number;
  /** 4 for the 32-bit DWARF format, 8 for the 64-bit one. */
  offsetSize: 4 | 8;
}

/** How a value is to be interpreted, whatever its exact form. */
export type FormClass =
  | 'address' // value is an address
  | 'addrx' // value is an index into .debug_addr
  | 'constant' // unsigned constant
  | 'string' // str holds the string
  | 'strp' // value is an offset into .debug_str
  | 'line_strp' // value is an offset into .debug_line_str
  | 'strx' // value is an index into .debug_str_offsets
  | 'unit_ref' // value is an offset from the start of the unit
  | 'section_ref' // value is an offset in .debug_info
  | 'sec_offset' // value is an offset into another section (lines, ranges, ...)
  | 'rnglistx' // value is an index into the unit's range list offsets
  | 'flag'
  | 'other'; // blocks, expressions, signatures, supplementary-file references

export interface AttrValue {
  form: number;
  cls: FormClass;
  value: number;
  str?: string;
}

/** Reads the value of `form` (following DW_FORM_indirect); `implicit` is the abbreviation's DW_FORM_implicit_const value. */
export function readForm(c: Cursor, form: number, u: UnitEncoding, implicit = 0): AttrValue {
  for (let hops = 0; hops < 4; hops++) {
    switch (form) {
      case F.DW_FORM_addr: return { form, cls: 'address', value: c.uN(u.addressSize) };
      case F.DW_FORM_data1: return { form, cls: 'constant', value: c.u8() };
      case F.DW_FORM_data2: return { form, cls: 'constant', value: c.u16() };
      case F.DW_FORM_data4: return { form, cls: 'constant', value: c.u32() };
      case F.DW_FORM_data8: return { form, cls: 'constant', value: c.u64() };
      case F.DW_FORM_udata: return { form, cls: 'constant', value: c.uleb() };
      case F.DW_FORM_sdata: return { form, cls: 'constant', value: c.sleb() };
      case F.DW_FORM_implicit_const: return { form, cls: 'constant', value: implicit };
      case F.DW_FORM_data16: c.skip(16, 'DW_FORM_data16'); return { form, cls: 'other', value: 0 };
      case F.DW_FORM_string: return { form, cls: 'string', value: 0, str: c.cstring() };
      case F.DW_FORM_strp: return { form, cls: 'strp', value: c.uN(u.offsetSize) };
      case F.DW_FORM_line_strp: return { form, cls: 'line_strp', value: c.uN(u.offsetSize) };
      case F.DW_FORM_strp_sup:
      case F.DW_FORM_GNU_strp_alt:
        c.skip(u.offsetSize, 'a supplementary string offset');
        return { form, cls: 'other', value: 0 };
      case F.DW_FORM_strx:
      case F.DW_FORM_GNU_str_index: return { form, cls: 'strx', value: c.uleb() };
      case F.DW_FORM_strx1: return { form, cls: 'strx', value: c.u8() };
      case F.DW_FORM_strx2: return { form, cls: 'strx', value: c.u16() };
      case F.DW_FORM_strx3: return { form, cls: 'strx', value: c.u24() };
      case F.DW_FORM_strx4: return { form, cls: 'strx', value: c.u32() };
      case F.DW_FORM_addrx:
      case F.DW_FORM_GNU_addr_index: return { form, cls: 'addrx', value: c.uleb() };
      case F.DW_FORM_addrx1: return { form, cls: 'addrx', value: c.u8() };
      case F.DW_FORM_addrx2: return { form, cls: 'addrx', value: c.u16() };
      case F.DW_FORM_addrx3: return { form, cls: 'addrx', value: c.u24() };
      case F.DW_FORM_addrx4: return { form, cls: 'addrx', value: c.u32() };
      case F.DW_FORM_ref1: return { form, cls: 'unit_ref', value: c.u8() };
      case F.DW_FORM_ref2: return { form, cls: 'unit_ref', value: c.u16() };
      case F.DW_FORM_ref4: return { form, cls: 'unit_ref', value: c.u32() };
      case F.DW_FORM_ref8: return { form, cls: 'unit_ref', value: c.u64() };
      case F.DW_FORM_ref_udata: return { form, cls: 'unit_ref', value: c.uleb() };
      // DWARF 2 sized DW_FORM_ref_addr like an address; DWARF 3 made it an offset.
      case F.DW_FORM_ref_addr: return { form, cls: 'section_ref', value: c.uN(u.version <= 2 ? u.addressSize : u.offsetSize) };
      case F.DW_FORM_ref_sup4: c.skip(4, 'DW_FORM_ref_sup4'); return { form, cls: 'other', value: 0 };
      case F.DW_FORM_ref_sup8:
      case F.DW_FORM_ref_sig8: c.skip(8, 'an 8-byte reference'); return { form, cls: 'other', value: 0 };
      case F.DW_FORM_GNU_ref_alt: c.skip(u.offsetSize, 'DW_FORM_GNU_ref_alt'); return { form, cls: 'other', value: 0 };
      case F.DW_FORM_sec_offset: return { form, cls: 'sec_offset', value: c.uN(u.offsetSize) };
      case F.DW_FORM_loclistx: c.uleb(); return { form, cls: 'other', value: 0 };
      case F.DW_FORM_rnglistx: return { form, cls: 'rnglistx', value: c.uleb() };
      case F.DW_FORM_flag: return { form, cls: 'flag', value: c.u8() };
      case F.DW_FORM_flag_present: return { form, cls: 'flag', value: 1 };
      case F.DW_FORM_block1: c.skip(c.u8(), 'a DW_FORM_block1'); return { form, cls: 'other', value: 0 };
      case F.DW_FORM_block2: c.skip(c.u16(), 'a DW_FORM_block2'); return { form, cls: 'other', value: 0 };
      case F.DW_FORM_block4: c.skip(c.u32(), 'a DW_FORM_block4'); return { form, cls: 'other', value: 0 };
      case F.DW_FORM_block:
      case F.DW_FORM_exprloc: c.skip(c.uleb(), 'a block'); return { form, cls: 'other', value: 0 };
      case F.DW_FORM_indirect: form = c.uleb(); continue;
      default:
        throw new DwarfError(`${c.section}: unknown attribute form ${hex(form)} at offset ${hex(c.pos)}`);
    }
  }
  throw new DwarfError(`${c.section}: DW_FORM_indirect chain too long at offset ${hex(c.pos)}`);
}
