// Instructions that exist only outside 64-bit mode: the BCD adjustments (DAA DAS AAA AAS AAM AAD)
// and the one-byte INC/DEC r16/r32 (40+r, 48+r, which are REX prefixes in 64-bit mode).
import { AF, CF, OF, PF, SF, ZF } from './cases';
import { regName, Size } from './encoder';
import { count, emit, Gen, initialState, setOperand } from './gen-common';

interface BcdOp { mn: string; opcode: number; undef: number; imm?: boolean }

// Undefined flags from each instruction's "Flags Affected" (SDM vol. 2): DAA/DAS leave OF,
// AAA/AAS OF SF ZF PF, AAM/AAD OF AF CF.
const BCD: BcdOp[] = [
  { mn: 'daa', opcode: 0x27, undef: OF },
  { mn: 'das', opcode: 0x2f, undef: OF },
  { mn: 'aaa', opcode: 0x37, undef: OF | SF | ZF | PF },
  { mn: 'aas', opcode: 0x3f, undef: OF | SF | ZF | PF },
  { mn: 'aam', opcode: 0xd4, undef: OF | AF | CF, imm: true },
  { mn: 'aad', opcode: 0xd5, undef: OF | AF | CF, imm: true },
];

export function genBcd(g: Gen): void {
  if (g.bits !== 32) return;
  for (const op of BCD) {
    for (let i = 0; i < count(g, 1500); i++) {
      const state = initialState(g);
      // AL (and AH) over the whole byte range: valid BCD digits, values needing adjustment, junk.
      setOperand(state, { size: 16, n: 0 }, g.rng.chance(0.5) ? BigInt(g.rng.below(0x10000)) : g.rng.bits(16) & 0x0f9fn);
      // Base 10 mostly; other bases, and 0, which makes AAM raise #DE (SDM vol. 2, AAM).
      const base = g.rng.chance(0.6) ? 10 : g.rng.chance(0.15) ? 0 : g.rng.below(256);
      emit(g, {
        family: 'bcd', form: op.imm ? `${op.mn} imm8` : op.mn, text: op.imm ? `${op.mn} ${base}` : op.mn,
        enc: { opcode: [op.opcode], imm: op.imm ? { value: BigInt(base), bytes: 1 } : undefined }, state, regs: [0], undefinedFlags: op.undef,
      });
    }
  }
}

export function genShortIncDec(g: Gen): void {
  if (g.bits !== 32) return;
  for (const [mn, opcode] of [['inc', 0x40], ['dec', 0x48]] as Array<[string, number]>) {
    for (const size of [16, 32] as Size[]) {
      for (let i = 0; i < count(g, 400); i++) {
        const r = { size, n: g.rng.pick([0, 1, 2, 3, 5, 6, 7]) };
        emit(g, {
          family: mn, form: `${mn} r${size} (${mn === 'inc' ? '40' : '48'}+r)`, text: `${mn} ${regName(r)}`,
          enc: { prefixes: size === 16 ? [0x66] : [], opcode: [opcode], opcodeReg: r }, state: initialState(g), regs: [r.n],
        });
      }
    }
  }
}
