// Bit instructions: BT/BTS/BTR/BTC (register and imm8 offsets), BSF/BSR, TZCNT/LZCNT/POPCNT (when
// the host has them: without BMI1/ABM the F3 forms silently execute as BSF/BSR), and BSWAP.
import { AF, CF, OF, PF, SF } from './cases';
import { gprOf, regName, Size } from './encoder';
import { count, emit, Gen, initialState, pickReg, pickRegs, setOperand, sizeEncoding, wide } from './gen-common';

/** BT*: CF is the selected bit, ZF unaffected, OF SF AF PF undefined (SDM vol. 2, BT). */
const BT_UNDEFINED = OF | SF | AF | PF;

export function genBitTest(g: Gen): void {
  const ops: Array<[string, number, number]> = [['bt', 0xa3, 4], ['bts', 0xab, 5], ['btr', 0xb3, 6], ['btc', 0xbb, 7]];
  for (const [mn, opReg, digit] of ops) {
    for (const size of wide(g)) {
      const se = sizeEncoding(size);
      for (let i = 0; i < count(g, 100); i++) {
        const [rm, reg] = pickRegs(g, size, 2);
        const state = initialState(g);
        // A register bit offset is taken modulo the width for register destinations; large and
        // negative offsets check that nothing else leaks in.
        if (g.rng.chance(0.5)) setOperand(state, reg, BigInt(g.rng.below(256)));
        emit(g, {
          family: mn, form: `${mn} r/m${size}, r${size}`, text: `${mn} ${regName(rm)}, ${regName(reg)}`,
          enc: { ...se, opcode: [0x0f, opReg], reg, rm }, state, regs: [gprOf(rm), gprOf(reg)], undefinedFlags: BT_UNDEFINED,
        });
      }
      for (let i = 0; i < count(g, 60); i++) {
        const rm = pickReg(g, size);
        const imm = g.rng.below(256);
        emit(g, {
          family: mn, form: `${mn} r/m${size}, imm8`, text: `${mn} ${regName(rm)}, ${imm}`,
          enc: { ...se, opcode: [0x0f, 0xba], reg: digit, rm, imm: { value: BigInt(imm), bytes: 1 } }, state: initialState(g),
          regs: [gprOf(rm)], undefinedFlags: BT_UNDEFINED,
        });
      }
    }
  }
}

/** A source value for the bit scans: often zero or a single bit, otherwise any pattern. */
function scanSource(g: Gen, size: Size): bigint {
  switch (g.rng.below(4)) {
    case 0: return 0n;
    case 1: return 1n << BigInt(g.rng.below(size));
    default: return g.rng.value();
  }
}

interface ScanOp { mn: string; opcode: number[]; f3: boolean; undef: number; zeroUndefinedResult: boolean }

export function genBitScan(g: Gen): void {
  const ops: ScanOp[] = [
    // BSF/BSR: ZF says whether the source was zero, the destination is then undefined (Intel leaves
    // it unchanged); CF OF SF AF PF are undefined (SDM vol. 2, BSF/BSR).
    { mn: 'bsf', opcode: [0x0f, 0xbc], f3: false, undef: CF | OF | SF | AF | PF, zeroUndefinedResult: true },
    { mn: 'bsr', opcode: [0x0f, 0xbd], f3: false, undef: CF | OF | SF | AF | PF, zeroUndefinedResult: true },
  ];
  // TZCNT/LZCNT: ZF and CF defined, OF SF PF AF undefined. POPCNT defines all six.
  if (g.features.tzcnt) ops.push({ mn: 'tzcnt', opcode: [0x0f, 0xbc], f3: true, undef: OF | SF | PF | AF, zeroUndefinedResult: false });
  if (g.features.lzcnt) ops.push({ mn: 'lzcnt', opcode: [0x0f, 0xbd], f3: true, undef: OF | SF | PF | AF, zeroUndefinedResult: false });
  if (g.features.popcnt) ops.push({ mn: 'popcnt', opcode: [0x0f, 0xb8], f3: true, undef: 0, zeroUndefinedResult: false });
  for (const op of ops) {
    for (const size of wide(g)) {
      for (let i = 0; i < count(g, 150); i++) {
        const [reg, rm] = pickRegs(g, size, 2);
        const state = initialState(g);
        const src = scanSource(g, size);
        setOperand(state, rm, src);
        const se = sizeEncoding(size);
        // The mandatory F3 may come before or after the 0x66 operand-size prefix.
        const prefixes = op.f3 ? (g.rng.chance(0.5) ? [...se.prefixes, 0xf3] : [0xf3, ...se.prefixes]) : se.prefixes;
        const zero = (src & ((1n << BigInt(size)) - 1n)) === 0n;
        emit(g, {
          family: op.mn, form: `${op.mn} r${size}, r/m${size}`, text: `${op.mn} ${regName(reg)}, ${regName(rm)}`,
          enc: { prefixes, rexW: se.rexW, opcode: op.opcode, reg, rm }, state, regs: [gprOf(reg), gprOf(rm)], undefinedFlags: op.undef,
          undefinedResult: op.zeroUndefinedResult && zero ? 'zero source: destination undefined' : undefined,
        });
      }
    }
  }
}

export function genBswap(g: Gen): void {
  for (const size of [16, ...wide(g).filter((s) => s !== 16)] as Size[]) {
    for (let i = 0; i < count(g, size === 16 ? 40 : 100); i++) {
      const r = pickReg(g, size);
      emit(g, {
        family: 'bswap', form: `bswap r${size}`, text: `bswap ${regName(r)}`,
        enc: { ...sizeEncoding(size), opcode: [0x0f, 0xc8], opcodeReg: r }, state: initialState(g), regs: [gprOf(r)],
        undefinedResult: size === 16 ? 'BSWAP of a 16-bit register is undefined' : undefined,
      });
    }
  }
}
