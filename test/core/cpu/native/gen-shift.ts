// Shifts and rotates (group 2: D0-D3, C0/C1) by 1, by CL and by imm8, and the double shifts
// SHLD/SHRD. Counts cover the masking edges: 0, the operand width and its neighbours, 31/32/33,
// 63/64/65 and 255, plus random bytes.
import { AF, ARITH, CF, OF } from './cases';
import { gprOf, regName, Size } from './encoder';
import { count, emit, Gen, initialState, pickReg, pickRegs, setOperand, sizes, sizeEncoding, wide } from './gen-common';

/** Group 2 operations by /digit; /6 is an undocumented alias Intel executes as SHL. */
const GROUP2 = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];
const EDGE_COUNTS = [0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255];

function pickCount(g: Gen): number {
  return g.rng.chance(0.7) ? g.rng.pick(EDGE_COUNTS) : g.rng.below(256);
}

/** The processor masks the count to 5 bits, or 6 with REX.W (SDM vol. 2, SAL/SAR/SHL/SHR). */
function maskedCount(size: Size, n: number): number {
  return n & (size === 64 ? 0x3f : 0x1f);
}

/**
 * Flags the SDM leaves undefined for a group 2 op: none if the masked count is 0 (flags
 * unaffected); OF unless the masked count is 1; for shifts AF, and CF for SHL/SHR when the count is
 * at least the operand width (SDM vol. 2, SAL/SAR/SHL/SHR and RCL/RCR/ROL/ROR "Flags Affected").
 */
function group2Undefined(op: string, size: Size, n: number): number {
  const c = maskedCount(size, n);
  if (c === 0) return 0;
  let undef = c === 1 ? 0 : OF;
  if (op === 'shl' || op === 'shr' || op === 'sal' || op === 'sar') undef |= AF;
  if ((op === 'shl' || op === 'sal' || op === 'shr') && c >= size) undef |= CF;
  return undef;
}

export function genGroup2(g: Gen): void {
  GROUP2.forEach((mn, digit) => {
    const family = mn === 'sal' ? 'shl' : mn;
    const scale = mn === 'sal' ? 0.25 : 1;
    for (const size of sizes(g)) {
      const wide = size === 8 ? 0 : 1;
      const se = sizeEncoding(size);
      const tag = `r/m${size}`;
      const alias = mn === 'sal' ? ' (/6 alias)' : '';
      for (let i = 0; i < count(g, 30 * scale); i++) {
        const rm = pickReg(g, size);
        emit(g, {
          family, form: `${mn} ${tag}, 1${alias}`, text: `${mn} ${regName(rm)}, 1`,
          enc: { ...se, opcode: [0xd0 + wide], reg: digit, rm }, state: initialState(g), regs: [gprOf(rm)],
          undefinedFlags: group2Undefined(mn, size, 1),
        });
      }
      for (let i = 0; i < count(g, 120 * scale); i++) {
        const rm = pickReg(g, size);
        const state = initialState(g);
        const n = pickCount(g);
        setOperand(state, { size: 8, n: 1 }, BigInt(n));
        emit(g, {
          family, form: `${mn} ${tag}, cl${alias}`, text: `${mn} ${regName(rm)}, cl`,
          enc: { ...se, opcode: [0xd2 + wide], reg: digit, rm }, state, regs: [gprOf(rm), 1],
          // The destination may be CL itself; the count is what CL held before.
          undefinedFlags: group2Undefined(mn, size, n),
        });
      }
      for (let i = 0; i < count(g, 120 * scale); i++) {
        const rm = pickReg(g, size);
        const n = pickCount(g);
        emit(g, {
          family, form: `${mn} ${tag}, imm8${alias}`, text: `${mn} ${regName(rm)}, ${n}`,
          enc: { ...se, opcode: [0xc0 + wide], reg: digit, rm, imm: { value: BigInt(n), bytes: 1 } }, state: initialState(g),
          regs: [gprOf(rm)], undefinedFlags: group2Undefined(mn, size, n),
        });
      }
    }
  });
}

/**
 * SHLD/SHRD flags: unaffected for a zero masked count; otherwise AF undefined and OF undefined
 * beyond 1. A count above the operand width (only possible at 16 bits) leaves the result and all
 * flags undefined (SDM vol. 2, SHLD and SHRD).
 */
function doubleShiftUndefined(size: Size, n: number): { flags: number; result?: string } {
  const c = maskedCount(size, n);
  if (c === 0) return { flags: 0 };
  if (c > size) return { flags: ARITH, result: `count ${c} > operand size ${size}` };
  return { flags: AF | (c === 1 ? 0 : OF) };
}

export function genDoubleShift(g: Gen): void {
  for (const [mn, opImm] of [['shld', 0xa4], ['shrd', 0xac]] as Array<[string, number]>) {
    for (const size of wide(g)) {
      const se = sizeEncoding(size);
      for (const byCl of [false, true]) {
        for (let i = 0; i < count(g, 150); i++) {
          const [rm, reg] = pickRegs(g, size, 2);
          const state = initialState(g);
          const n = pickCount(g);
          if (byCl) setOperand(state, { size: 8, n: 1 }, BigInt(n));
          const u = doubleShiftUndefined(size, n);
          emit(g, {
            family: mn, form: `${mn} r/m${size}, r${size}, ${byCl ? 'cl' : 'imm8'}`,
            text: `${mn} ${regName(rm)}, ${regName(reg)}, ${byCl ? 'cl' : n}`,
            enc: byCl ? { ...se, opcode: [0x0f, opImm + 1], reg, rm } : { ...se, opcode: [0x0f, opImm], reg, rm, imm: { value: BigInt(n), bytes: 1 } },
            state, regs: byCl ? [gprOf(rm), gprOf(reg), 1] : [gprOf(rm), gprOf(reg)], undefinedFlags: u.flags, undefinedResult: u.result,
          });
        }
      }
    }
  }
}
