// .debug_frame (DWARF 5, 6.4): Common Information Entries and Frame Description Entries,
// and the call frame instructions that build the unwind table row for an address.
//
// Address size. CIE versions 1 and 3 do not record it (version 4 does), and the guests'
// mixed images put 8-byte FDE addresses (x86-64 code) into an ELF32 file, which readelf
// then misreads. The CIE's return address column tells the architecture apart: 16 (RIP)
// is x86-64, 8 (EIP) is i386; other columns fall back to the ELF class.
import * as C from './constants';
import { Cursor, DwarfError, eachUnit, hex } from './reader';

export interface Cie {
  offset: number;
  version: number;
  augmentation: string;
  addressSize: number;
  codeAlign: number;
  dataAlign: number;
  raColumn: number;
  /** The initial instructions: [start, end) in the section. */
  instructions: [number, number];
}

export interface Fde {
  offset: number;
  cie: Cie;
  low: number;
  high: number;
  instructions: [number, number];
}

export type RegisterRule =
  | { kind: 'undefined' }
  | { kind: 'same' }
  | { kind: 'offset'; offset: number } // saved at CFA+offset
  | { kind: 'val_offset'; offset: number } // the value is CFA+offset
  | { kind: 'register'; register: number } // saved in another register
  | { kind: 'expression' }; // a DWARF expression this reader does not evaluate

export type CfaRule = { kind: 'register'; register: number; offset: number } | { kind: 'expression' };

export interface UnwindRow {
  /** The address the row starts at. */
  location: number;
  cfa: CfaRule;
  /** Registers with a rule; the others keep their value ("same value", as on x86). */
  registers: Map<number, RegisterRule>;
}

/** Parses every CIE and FDE; broken entries are reported in `warnings` and skipped. */
export function parseDebugFrame(section: Uint8Array, elfClass: 32 | 64, warnings: string[]): Fde[] {
  const cies = new Map<number, Cie>();
  const fdeHeads: { offset: number; ciePointer: number; body: Cursor }[] = [];
  // A zero length is padding or a terminator.
  eachUnit(new Cursor(section, '.debug_frame'), warnings, {
    entry: 'entry', padding: true, skipped: (offset, e) => `.debug_frame entry at ${hex(offset)} skipped: ${e.message}`,
  }, (body, offset, offsetSize) => {
    const idLo = body.u32();
    const idHi = offsetSize === 8 ? body.u32() : 0;
    const isCie = idLo === 0xffffffff && (offsetSize === 4 || idHi === 0xffffffff);
    if (isCie) cies.set(offset, parseCie(body, offset, elfClass));
    else fdeHeads.push({ offset, ciePointer: idHi * 0x100000000 + idLo, body });
  });
  const fdes: Fde[] = [];
  for (const h of fdeHeads) {
    const cie = cies.get(h.ciePointer);
    if (!cie) {
      warnings.push(`.debug_frame: the FDE at ${hex(h.offset)} points at ${hex(h.ciePointer)}, which is not a CIE; skipped`);
      continue;
    }
    try {
      const b = h.body;
      const low = b.uN(cie.addressSize);
      const range = b.uN(cie.addressSize);
      if (cie.augmentation.startsWith('z')) b.skip(b.uleb(), 'FDE augmentation data');
      fdes.push({ offset: h.offset, cie, low, high: low + range, instructions: [b.pos, b.end] });
    } catch (e) {
      if (!(e instanceof DwarfError)) throw e;
      warnings.push(`.debug_frame FDE at ${hex(h.offset)} skipped: ${e.message}`);
    }
  }
  return fdes;
}

function parseCie(b: Cursor, offset: number, elfClass: 32 | 64): Cie {
  const version = b.u8();
  if (version !== 1 && version !== 3 && version !== 4) throw new DwarfError(`CIE version ${version}, expected 1, 3 or 4`);
  const augmentation = b.cstring();
  // Only "" and GCC's "z..." family (a length lets us skip the data) can be read safely.
  if (augmentation !== '' && !augmentation.startsWith('z')) throw new DwarfError(`CIE augmentation "${augmentation}" is not supported`);
  let addressSize = 0;
  if (version >= 4) {
    addressSize = b.u8();
    const segmentSize = b.u8();
    if (segmentSize !== 0) throw new DwarfError(`CIE segment selector size ${segmentSize}, which x86 never uses`);
  }
  const codeAlign = b.uleb();
  const dataAlign = b.sleb();
  const raColumn = version === 1 ? b.u8() : b.uleb();
  if (augmentation.startsWith('z')) b.skip(b.uleb(), 'CIE augmentation data');
  if (addressSize === 0) addressSize = raColumn === 16 ? 8 : raColumn === 8 ? 4 : elfClass / 8;
  if (addressSize !== 4 && addressSize !== 8) throw new DwarfError(`CIE address size ${addressSize}, expected 4 or 8`);
  return { offset, version, augmentation, addressSize, codeAlign, dataAlign, raColumn, instructions: [b.pos, b.end] };
}

/** remember_state nesting deeper than this is corrupt data, not a real function. */
const MAX_STATE_STACK = 64;

/**
 * The unwind row that applies at `pc` in `fde`: the CIE's initial instructions, then the
 * FDE's up to the last location not after `pc`. Throws DwarfError on malformed instructions.
 */
export function unwindRowAt(section: Uint8Array, fde: Fde, pc: number): UnwindRow {
  const cie = fde.cie;
  const row: UnwindRow = { location: fde.low, cfa: { kind: 'register', register: 0, offset: 0 }, registers: new Map() };
  execute(new Cursor(section, '.debug_frame', cie.instructions[0], cie.instructions[1]), cie, row, null, Infinity);
  const initial = new Map(row.registers);
  execute(new Cursor(section, '.debug_frame', fde.instructions[0], fde.instructions[1]), cie, row, initial, pc);
  return row;
}

function execute(c: Cursor, cie: Cie, row: UnwindRow, initial: Map<number, RegisterRule> | null, pc: number): void {
  const stack: { cfa: CfaRule; registers: Map<number, RegisterRule> }[] = [];
  const restore = (reg: number) => {
    const r = initial?.get(reg);
    if (r) row.registers.set(reg, r);
    else row.registers.delete(reg);
  };
  const setCfaOffset = (offset: number) => {
    if (row.cfa.kind === 'register') row.cfa = { ...row.cfa, offset };
  };
  // Moves the location; false when the new location is past `pc` (the row is complete).
  const advanceTo = (location: number) => {
    if (location > pc) return false;
    row.location = location;
    return true;
  };
  while (c.remaining > 0) {
    const op = c.u8();
    const high = op & 0xc0;
    const low = op & 0x3f;
    if (high === C.DW_CFA_advance_loc) {
      if (!advanceTo(row.location + low * cie.codeAlign)) return;
      continue;
    }
    if (high === C.DW_CFA_offset) {
      row.registers.set(low, { kind: 'offset', offset: c.uleb() * cie.dataAlign });
      continue;
    }
    if (high === C.DW_CFA_restore) {
      restore(low);
      continue;
    }
    switch (op) {
      case C.DW_CFA_nop: break;
      case C.DW_CFA_set_loc: if (!advanceTo(c.uN(cie.addressSize))) return; break;
      case C.DW_CFA_advance_loc1: if (!advanceTo(row.location + c.u8() * cie.codeAlign)) return; break;
      case C.DW_CFA_advance_loc2: if (!advanceTo(row.location + c.u16() * cie.codeAlign)) return; break;
      case C.DW_CFA_advance_loc4: if (!advanceTo(row.location + c.u32() * cie.codeAlign)) return; break;
      case C.DW_CFA_MIPS_advance_loc8: if (!advanceTo(row.location + c.u64() * cie.codeAlign)) return; break;
      case C.DW_CFA_offset_extended: { const r = c.uleb(); row.registers.set(r, { kind: 'offset', offset: c.uleb() * cie.dataAlign }); break; }
      case C.DW_CFA_offset_extended_sf: { const r = c.uleb(); row.registers.set(r, { kind: 'offset', offset: c.sleb() * cie.dataAlign }); break; }
      case C.DW_CFA_GNU_negative_offset_extended: { const r = c.uleb(); row.registers.set(r, { kind: 'offset', offset: -c.uleb() * cie.dataAlign }); break; }
      case C.DW_CFA_val_offset: { const r = c.uleb(); row.registers.set(r, { kind: 'val_offset', offset: c.uleb() * cie.dataAlign }); break; }
      case C.DW_CFA_val_offset_sf: { const r = c.uleb(); row.registers.set(r, { kind: 'val_offset', offset: c.sleb() * cie.dataAlign }); break; }
      case C.DW_CFA_restore_extended: restore(c.uleb()); break;
      case C.DW_CFA_undefined: row.registers.set(c.uleb(), { kind: 'undefined' }); break;
      case C.DW_CFA_same_value: row.registers.set(c.uleb(), { kind: 'same' }); break;
      case C.DW_CFA_register: { const r = c.uleb(); row.registers.set(r, { kind: 'register', register: c.uleb() }); break; }
      case C.DW_CFA_remember_state:
        if (stack.length >= MAX_STATE_STACK) throw new DwarfError(`.debug_frame: DW_CFA_remember_state nested deeper than ${MAX_STATE_STACK} at ${hex(c.pos - 1)}`);
        stack.push({ cfa: row.cfa, registers: new Map(row.registers) });
        break;
      case C.DW_CFA_restore_state: {
        const s = stack.pop();
        if (!s) throw new DwarfError(`.debug_frame: DW_CFA_restore_state without remember_state at ${hex(c.pos - 1)}`);
        // The CFA rule comes back too, as GDB and libgcc do it: GCC emits remember_state
        // before an epilogue in mid-function and relies on the CFA being restored after it.
        row.cfa = s.cfa;
        row.registers = s.registers;
        break;
      }
      case C.DW_CFA_def_cfa: { const r = c.uleb(); row.cfa = { kind: 'register', register: r, offset: c.uleb() }; break; }
      case C.DW_CFA_def_cfa_sf: { const r = c.uleb(); row.cfa = { kind: 'register', register: r, offset: c.sleb() * cie.dataAlign }; break; }
      case C.DW_CFA_def_cfa_register: {
        const r = c.uleb();
        row.cfa = row.cfa.kind === 'register' ? { ...row.cfa, register: r } : { kind: 'register', register: r, offset: 0 };
        break;
      }
      case C.DW_CFA_def_cfa_offset: setCfaOffset(c.uleb()); break;
      case C.DW_CFA_def_cfa_offset_sf: setCfaOffset(c.sleb() * cie.dataAlign); break;
      case C.DW_CFA_def_cfa_expression: row.cfa = trivialCfaExpression(c.sub(c.uleb())); break;
      case C.DW_CFA_expression:
      case C.DW_CFA_val_expression: { const r = c.uleb(); c.skip(c.uleb(), 'a register rule expression'); row.registers.set(r, { kind: 'expression' }); break; }
      case C.DW_CFA_GNU_args_size: c.uleb(); break;
      case C.DW_CFA_GNU_window_save: break; // SPARC only
      default:
        throw new DwarfError(`.debug_frame: unknown call frame instruction ${hex(op)} at ${hex(c.pos - 1)}`);
    }
  }
}

/** A CFA expression that is just DW_OP_bregN offset is a register rule; anything else is not evaluated. */
function trivialCfaExpression(e: Cursor): CfaRule {
  if (e.remaining === 0) return { kind: 'expression' };
  const op = e.u8();
  if (op >= C.DW_OP_breg0 && op <= C.DW_OP_breg31) {
    const offset = e.sleb();
    if (e.remaining === 0) return { kind: 'register', register: op - C.DW_OP_breg0, offset };
  }
  return { kind: 'expression' };
}
