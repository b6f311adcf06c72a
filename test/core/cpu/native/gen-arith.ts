// Integer arithmetic and logic: the eight ALU ops and TEST in every encoding, INC/DEC/NEG/NOT,
// MUL/IMUL (1, 2 and 3 operands) and DIV/IDIV with dividends built to hit valid quotients, overflow
// and division by zero (#DE).
import { AF, ARITH, PF, SF, ZF } from './cases';
import { gprOf, regName, Size } from './encoder';
import { count, emit, Gen, hex, immBytes, initialState, pickReg, pickRegs, setOperand, sizes, sizeEncoding, wide } from './gen-common';
import { mask } from './prng';

/** ALU operations by their /digit in 80/81/83 (SDM vol. 2, table A-6 group 1). */
const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
/** AND, OR, XOR and TEST leave only AF undefined (SDM vol. 2, "Flags Affected" of each). */
const LOGIC_UNDEFINED = AF;

function sizeTag(size: Size): string {
  return `r/m${size}`;
}

function immText(v: bigint): string {
  return hex(v);
}

export function genAlu(g: Gen): void {
  ALU.forEach((mn, digit) => {
    const undef = mn === 'and' || mn === 'or' || mn === 'xor' ? LOGIC_UNDEFINED : 0;
    for (const size of sizes(g)) {
      const wide = size === 8 ? 0 : 1;
      const se = sizeEncoding(size);
      // r/m, reg and reg, r/m
      for (const dir of [0, 2]) {
        for (let i = 0; i < count(g, 60); i++) {
          const [rm, reg] = pickRegs(g, size, 2);
          const state = initialState(g);
          const [dst, src] = dir === 0 ? [rm, reg] : [reg, rm];
          emit(g, {
            family: mn, form: dir === 0 ? `${mn} ${sizeTag(size)}, r${size}` : `${mn} r${size}, ${sizeTag(size)}`,
            text: `${mn} ${regName(dst)}, ${regName(src)}`,
            enc: { ...se, opcode: [digit * 8 + dir + wide], reg, rm }, state, regs: [gprOf(rm), gprOf(reg)], undefinedFlags: undef,
          });
        }
      }
      // accumulator, imm (04/05 + 8*digit)
      for (let i = 0; i < count(g, 20); i++) {
        const state = initialState(g);
        const bytes = immBytes(size);
        const imm = g.rng.edge(bytes * 8);
        emit(g, {
          family: mn, form: `${mn} ${regName({ size, n: 0 })}, imm${bytes * 8}`,
          text: `${mn} ${regName({ size, n: 0 })}, ${immText(imm)}`,
          enc: { ...se, opcode: [digit * 8 + 4 + wide], imm: { value: imm, bytes } }, state, regs: [0], undefinedFlags: undef,
        });
      }
      // 80/81 /digit with a full-size immediate, 83 /digit with a sign-extended imm8
      for (const opcode of size === 8 ? [0x80] : [0x81, 0x83]) {
        for (let i = 0; i < count(g, 40); i++) {
          const rm = pickReg(g, size);
          const state = initialState(g);
          const bytes = opcode === 0x81 ? immBytes(size) : 1;
          const imm = g.rng.edge(bytes * 8);
          emit(g, {
            family: mn, form: `${mn} ${sizeTag(size)}, imm${bytes * 8} (${hex(BigInt(opcode))})`,
            text: `${mn} ${regName(rm)}, ${immText(imm)}`,
            enc: { ...se, opcode: [opcode], reg: digit, rm, imm: { value: imm, bytes } }, state, regs: [gprOf(rm)], undefinedFlags: undef,
          });
        }
      }
    }
  });
}

export function genTest(g: Gen): void {
  for (const size of sizes(g)) {
    const wide = size === 8 ? 0 : 1;
    const se = sizeEncoding(size);
    for (let i = 0; i < count(g, 50); i++) {
      const [rm, reg] = pickRegs(g, size, 2);
      emit(g, {
        family: 'test', form: `test ${sizeTag(size)}, r${size}`, text: `test ${regName(rm)}, ${regName(reg)}`,
        enc: { ...se, opcode: [0x84 + wide], reg, rm }, state: initialState(g), regs: [gprOf(rm), gprOf(reg)], undefinedFlags: LOGIC_UNDEFINED,
      });
    }
    const bytes = immBytes(size);
    for (let i = 0; i < count(g, 20); i++) {
      const imm = g.rng.edge(bytes * 8);
      emit(g, {
        family: 'test', form: `test acc${size}, imm`, text: `test ${regName({ size, n: 0 })}, ${immText(imm)}`,
        enc: { ...se, opcode: [0xa8 + wide], imm: { value: imm, bytes } }, state: initialState(g), regs: [0], undefinedFlags: LOGIC_UNDEFINED,
      });
    }
    // F6/F7 /0, and /1: an alias Intel decodes as TEST too (SDM vol. 2, table A-6 note on group 3).
    for (const digit of [0, 1]) {
      for (let i = 0; i < count(g, digit ? 10 : 25); i++) {
        const rm = pickReg(g, size);
        const imm = g.rng.edge(bytes * 8);
        emit(g, {
          family: 'test', form: `test ${sizeTag(size)}, imm (F6/F7 /${digit})`, text: `test ${regName(rm)}, ${immText(imm)}`,
          enc: { ...se, opcode: [0xf6 + wide], reg: digit, rm, imm: { value: imm, bytes } }, state: initialState(g), regs: [gprOf(rm)],
          undefinedFlags: LOGIC_UNDEFINED,
        });
      }
    }
  }
}

/** INC/DEC (FE/FF /0 /1), NOT/NEG (F6/F7 /2 /3): one register operand. */
export function genUnary(g: Gen): void {
  const ops: Array<[string, number, number]> = [['inc', 0xfe, 0], ['dec', 0xfe, 1], ['not', 0xf6, 2], ['neg', 0xf6, 3]];
  for (const [mn, base, digit] of ops) {
    for (const size of sizes(g)) {
      for (let i = 0; i < count(g, 150); i++) {
        const rm = pickReg(g, size);
        emit(g, {
          family: mn, form: `${mn} ${sizeTag(size)}`, text: `${mn} ${regName(rm)}`,
          enc: { ...sizeEncoding(size), opcode: [base + (size === 8 ? 0 : 1)], reg: digit, rm }, state: initialState(g), regs: [gprOf(rm)],
        });
      }
    }
  }
}

/** MUL and IMUL leave SF, ZF, AF and PF undefined (SDM vol. 2, MUL and IMUL "Flags Affected"). */
const MUL_UNDEFINED = SF | ZF | AF | PF;

export function genMul(g: Gen): void {
  for (const [mn, digit] of [['mul', 4], ['imul', 5]] as Array<[string, number]>) {
    for (const size of sizes(g)) {
      for (let i = 0; i < count(g, 120); i++) {
        const rm = pickReg(g, size);
        const regs = size === 8 ? [0, gprOf(rm)] : [0, 2, gprOf(rm)];
        emit(g, {
          family: mn, form: `${mn} ${sizeTag(size)}`, text: `${mn} ${regName(rm)}`,
          enc: { ...sizeEncoding(size), opcode: [size === 8 ? 0xf6 : 0xf7], reg: digit, rm }, state: initialState(g), regs,
          undefinedFlags: MUL_UNDEFINED,
        });
      }
    }
  }
  for (const size of wide(g)) {
    for (let i = 0; i < count(g, 120); i++) {
      const [reg, rm] = pickRegs(g, size, 2);
      emit(g, {
        family: 'imul', form: `imul r${size}, ${sizeTag(size)}`, text: `imul ${regName(reg)}, ${regName(rm)}`,
        enc: { ...sizeEncoding(size), opcode: [0x0f, 0xaf], reg, rm }, state: initialState(g), regs: [gprOf(reg), gprOf(rm)],
        undefinedFlags: MUL_UNDEFINED,
      });
    }
    for (const opcode of [0x69, 0x6b]) {
      for (let i = 0; i < count(g, 80); i++) {
        const [reg, rm] = pickRegs(g, size, 2);
        const bytes = opcode === 0x6b ? 1 : immBytes(size);
        const imm = g.rng.edge(bytes * 8);
        emit(g, {
          family: 'imul', form: `imul r${size}, ${sizeTag(size)}, imm${bytes * 8}`, text: `imul ${regName(reg)}, ${regName(rm)}, ${immText(imm)}`,
          enc: { ...sizeEncoding(size), opcode: [opcode], reg, rm, imm: { value: imm, bytes } }, state: initialState(g),
          regs: [gprOf(reg), gprOf(rm)], undefinedFlags: MUL_UNDEFINED,
        });
      }
    }
  }
}

/**
 * DIV/IDIV: the dividend is AX (8-bit) or rDX:rAX. Most cases build dividend = q*d + r with q in
 * range, so the quotient fits; the rest divide by zero or take a random dividend (mostly overflow,
 * which raises #DE like division by zero, SDM vol. 2 DIV/IDIV). All six flags are undefined.
 */
export function genDiv(g: Gen): void {
  for (const [mn, digit, signed] of [['div', 6, false], ['idiv', 7, true]] as Array<[string, number, boolean]>) {
    for (const size of sizes(g)) {
      for (let i = 0; i < count(g, 250); i++) {
        const rm = pickReg(g, size);
        const state = initialState(g);
        const n = BigInt(size);
        const kind = g.rng.below(10);
        let divisor: bigint;
        let dividend: bigint;
        if (kind === 0) {
          divisor = 0n;
          dividend = g.rng.bits(2 * size);
        } else if (kind === 1) {
          divisor = g.rng.value() & mask(size);
          dividend = g.rng.bits(2 * size);
        } else if (signed && kind === 2) {
          // Quotients at the edge of the signed range: MIN/-1 of the double-width dividend and
          // 2^(n-1)/1 overflow; 2^(n-1)/-1 and -2^(n-1)/1 give exactly the most negative quotient.
          const half = 1n << (n - 1n);
          const options: Array<[bigint, bigint]> = [[-(1n << (2n * n - 1n)), -1n], [half, 1n], [half, -1n], [-half, 1n]];
          const [a, b] = g.rng.pick(options);
          dividend = BigInt.asUintN(2 * size, a);
          divisor = BigInt.asUintN(size, b);
        } else if (signed) {
          const d = BigInt.asIntN(size, nonZero(g, size));
          const q = BigInt.asIntN(size, g.rng.chance(0.3) ? g.rng.edge(size) : g.rng.bits(g.rng.below(size) + 1));
          const prod = q * d;
          const absD = d < 0n ? -d : d;
          let r = absD > 1n ? g.rng.u64() % absD : 0n;
          // The remainder takes the dividend's sign (SDM vol. 2, IDIV).
          if (prod < 0n || (prod === 0n && g.rng.chance(0.5))) r = -r;
          divisor = BigInt.asUintN(size, d);
          dividend = BigInt.asUintN(2 * size, prod + r);
        } else {
          const d = nonZero(g, size);
          const q = g.rng.chance(0.3) ? g.rng.edge(size) : g.rng.bits(g.rng.below(size) + 1);
          const r = d > 1n ? g.rng.u64() % d : 0n;
          divisor = d;
          dividend = q * d + r;
        }
        if (size === 8) {
          setOperand(state, { size: 16, n: 0 }, dividend);
        } else {
          setOperand(state, { size, n: 0 }, dividend & mask(size));
          setOperand(state, { size, n: 2 }, dividend >> n);
        }
        setOperand(state, rm, divisor);
        const regs = size === 8 ? [0, gprOf(rm)] : [0, 2, gprOf(rm)];
        emit(g, {
          family: mn, form: `${mn} ${sizeTag(size)}`, text: `${mn} ${regName(rm)}`,
          enc: { ...sizeEncoding(size), opcode: [size === 8 ? 0xf6 : 0xf7], reg: digit, rm }, state, regs, undefinedFlags: ARITH,
        });
      }
    }
  }
}

function nonZero(g: Gen, size: number): bigint {
  for (;;) {
    const v = g.rng.chance(0.5) ? g.rng.edge(size) : g.rng.bits(g.rng.below(size) + 1);
    if (v !== 0n) return v;
  }
}
