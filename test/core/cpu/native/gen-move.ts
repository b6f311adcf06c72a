// Data movement and the flag-free families: XADD/CMPXCHG, MOVZX/MOVSX/MOVSXD, CBW..CQO, SETcc,
// CMOVcc, LEA (every ModRM/SIB shape, 64- and 32-bit address size), XCHG, MOV, and the flag
// instructions LAHF/SAHF/CMC/CLC/STC/CLD/STD.
import { gprOf, memParts, MemOp, memText, regName, RegOp, Size } from './encoder';
import {
  count, emit, Gen, getOperand, hex, initialState, pickReg, pickRegs, setOperand, sizes, sizeEncoding, wide,
} from './gen-common';

const CONDITIONS = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

export function genExchangeArith(g: Gen): void {
  for (const [mn, opcode] of [['xadd', 0xc0], ['cmpxchg', 0xb0]] as Array<[string, number]>) {
    for (const size of sizes(g)) {
      for (let i = 0; i < count(g, mn === 'xadd' ? 100 : 150); i++) {
        const [rm, reg] = pickRegs(g, size, 2);
        const state = initialState(g);
        // CMPXCHG compares the accumulator with the destination: make them equal half the time.
        if (mn === 'cmpxchg' && g.rng.chance(0.5)) setOperand(state, { size, n: 0 }, getOperand(state, rm));
        emit(g, {
          family: mn, form: `${mn} r/m${size}, r${size}`, text: `${mn} ${regName(rm)}, ${regName(reg)}`,
          enc: { ...sizeEncoding(size), opcode: [0x0f, opcode + (size === 8 ? 0 : 1)], reg, rm }, state,
          regs: mn === 'cmpxchg' ? [0, gprOf(rm), gprOf(reg)] : [gprOf(rm), gprOf(reg)],
        });
      }
    }
  }
}

export function genExtend(g: Gen): void {
  const forms: Array<[string, number, Size, Size]> = [];
  for (const [mn, op8, op16] of [['movzx', 0xb6, 0xb7], ['movsx', 0xbe, 0xbf]] as Array<[string, number, number]>) {
    for (const dst of wide(g)) {
      forms.push([mn, op8, dst, 8]);
      forms.push([mn, op16, dst, 16]);
    }
  }
  for (const [mn, opcode, dst, src] of forms) {
    for (let i = 0; i < count(g, 60); i++) {
      const reg = pickReg(g, dst);
      const rm = pickReg(g, src, dst === 64 || reg.n >= 8);
      emit(g, {
        family: mn, form: `${mn} r${dst}, r/m${src}`, text: `${mn} ${regName(reg)}, ${regName(rm)}`,
        enc: { ...sizeEncoding(dst), opcode: [0x0f, opcode], reg, rm }, state: initialState(g), regs: [gprOf(reg), gprOf(rm)],
      });
    }
  }
  // MOVSXD: 63 /r. With REX.W it sign-extends r/m32; without it, it moves 32 (or 16) bits like MOV.
  // (Outside 64-bit mode 63 is ARPL.)
  for (const dst of g.bits === 64 ? [16, 32, 64] as Size[] : []) {
    for (let i = 0; i < count(g, dst === 64 ? 120 : 40); i++) {
      const reg = pickReg(g, dst);
      const rm = pickReg(g, dst === 16 ? 16 : 32);
      emit(g, {
        family: 'movsxd', form: `movsxd r${dst}, r/m${dst === 16 ? 16 : 32}`, text: `movsxd ${regName(reg)}, ${regName(rm)}`,
        enc: { ...sizeEncoding(dst), opcode: [0x63], reg, rm }, state: initialState(g), regs: [gprOf(reg), gprOf(rm)],
      });
    }
  }
  const acc: Array<[string, number, Size]> = [
    ['cbw', 0x98, 16], ['cwde', 0x98, 32], ['cdqe', 0x98, 64], ['cwd', 0x99, 16], ['cdq', 0x99, 32], ['cqo', 0x99, 64],
  ];
  for (const [mn, opcode, size] of acc.filter(([, , size]) => size !== 64 || g.bits === 64)) {
    for (let i = 0; i < count(g, 50); i++) {
      emit(g, {
        family: 'cbw-cqo', form: mn, text: mn, enc: { ...sizeEncoding(size), opcode: [opcode] }, state: initialState(g),
        regs: opcode === 0x98 ? [0] : [0, 2],
      });
    }
  }
}

export function genConditional(g: Gen): void {
  CONDITIONS.forEach((cc, n) => {
    for (let i = 0; i < count(g, 40); i++) {
      const rm = pickReg(g, 8);
      emit(g, {
        family: 'setcc', form: `set${cc} r/m8`, text: `set${cc} ${regName(rm)}`,
        enc: { opcode: [0x0f, 0x90 + n], reg: 0, rm }, state: initialState(g), regs: [gprOf(rm)],
      });
    }
    for (const size of wide(g)) {
      for (let i = 0; i < count(g, 20); i++) {
        const [reg, rm] = pickRegs(g, size, 2);
        emit(g, {
          family: 'cmovcc', form: `cmov${cc} r${size}, r/m${size}`, text: `cmov${cc} ${regName(reg)}, ${regName(rm)}`,
          enc: { ...sizeEncoding(size), opcode: [0x0f, 0x40 + n], reg, rm }, state: initialState(g), regs: [gprOf(reg), gprOf(rm)],
        });
      }
    }
  });
}

/**
 * A memory operand from random raw ModRM/SIB fields. RIP-relative forms are skipped (the snippet's
 * address differs between native and interpreter) and so are RSP-based ones (RSP is not the case's).
 */
function randomMem(g: Gen, addrSize: 16 | 32 | 64): MemOp {
  const rex = g.bits === 64;
  for (;;) {
    const mod = g.rng.below(3) as 0 | 1 | 2;
    const rm = g.rng.below(8);
    const m: MemOp = { mod, rm, rexB: rex && g.rng.chance(0.5), disp: 0n, addrSize, mode: g.bits };
    if (rm === 4 && addrSize !== 16) {
      m.sib = { scale: g.rng.below(4), index: g.rng.below(8), base: g.rng.below(8) };
      m.rexX = rex && g.rng.chance(0.5);
    }
    const parts = memParts(m);
    if (parts.ripRelative || parts.base === 4) continue;
    m.disp = g.rng.chance(0.5) ? g.rng.edge(32) : g.rng.bits(32);
    return m;
  }
}

export function genLea(g: Gen): void {
  for (const size of wide(g)) {
    for (const addrSize of (g.bits === 64 ? [64, 32] : [32, 16]) as Array<16 | 32 | 64>) {
      const prefixed = addrSize !== g.bits;
      for (let i = 0; i < count(g, 250); i++) {
        const reg = pickReg(g, size);
        const mem = randomMem(g, addrSize);
        const parts = memParts(mem);
        const se = sizeEncoding(size);
        const regs = [gprOf(reg)];
        if (parts.base !== null) regs.push(parts.base);
        if (parts.index !== null) regs.push(parts.index);
        emit(g, {
          family: 'lea', form: `lea r${size}, m (a${addrSize}, ${describeShape(mem)})`, text: `lea ${regName(reg)}, ${memText(mem)}`,
          enc: { prefixes: prefixed ? [...se.prefixes, 0x67] : se.prefixes, rexW: se.rexW, opcode: [0x8d], reg, rm: mem },
          state: initialState(g), regs,
        });
      }
    }
  }
}

function describeShape(m: MemOp): string {
  const wide = m.addrSize === 16 ? 'disp16' : 'disp32';
  const disp = m.mod === 1 ? 'disp8' : m.mod === 2 ? wide : '';
  if (m.addrSize === 16) return m.mod === 0 && m.rm === 6 ? 'disp16' : `rm${m.rm}${disp ? `+${disp}` : ''}`;
  if (m.rm === 5 && m.mod === 0) return 'disp32';
  if (m.rm !== 4) return disp ? `base+${disp}` : 'base';
  const p = memParts(m);
  const shape = [p.base !== null ? 'base' : '', p.index !== null ? 'index' : ''].filter((s) => s).join('+');
  return `sib ${shape || 'none'}${p.base === null ? '+disp32' : disp ? `+${disp}` : ''}`;
}

export function genMoves(g: Gen): void {
  for (const size of sizes(g)) {
    const se = sizeEncoding(size);
    const wide = size === 8 ? 0 : 1;
    for (let i = 0; i < count(g, 40); i++) {
      const [a, b] = pickRegs(g, size, 2);
      emit(g, {
        family: 'xchg', form: `xchg r/m${size}, r${size}`, text: `xchg ${regName(a)}, ${regName(b)}`,
        enc: { ...se, opcode: [0x86 + wide], reg: b, rm: a }, state: initialState(g), regs: [gprOf(a), gprOf(b)],
      });
      const dir = g.rng.chance(0.5) ? 0 : 2;
      emit(g, {
        family: 'mov', form: `mov (${hex(BigInt(0x88 + dir + wide))}) r${size}, r${size}`,
        text: dir === 0 ? `mov ${regName(a)}, ${regName(b)}` : `mov ${regName(b)}, ${regName(a)}`,
        enc: { ...se, opcode: [0x88 + dir + wide], reg: b, rm: a }, state: initialState(g), regs: [gprOf(a), gprOf(b)],
      });
    }
    for (let i = 0; i < count(g, 30); i++) {
      const r = pickReg(g, size);
      const immBytes = size === 8 ? 1 : size === 16 ? 2 : size === 32 ? 4 : 8;
      const imm = g.rng.edge(immBytes * 8);
      emit(g, {
        family: 'mov', form: `mov r${size}, imm${immBytes * 8} (B0/B8+r)`, text: `mov ${regName(r)}, ${hex(imm)}`,
        enc: { ...se, opcode: [size === 8 ? 0xb0 : 0xb8], opcodeReg: r, imm: { value: imm, bytes: immBytes } },
        state: initialState(g), regs: [gprOf(r)],
      });
      const cBytes = size === 8 ? 1 : size === 16 ? 2 : 4;
      const cImm = g.rng.edge(cBytes * 8);
      emit(g, {
        family: 'mov', form: `mov r/m${size}, imm${cBytes * 8} (C6/C7)`, text: `mov ${regName(r)}, ${hex(cImm)}`,
        enc: { ...se, opcode: [0xc6 + wide], reg: 0, rm: r, imm: { value: cImm, bytes: cBytes } }, state: initialState(g), regs: [gprOf(r)],
      });
    }
    if (size === 8) continue;
    // 90+r exchanges with the accumulator; 90 itself (also with 66 or REX.W) is NOP, so
    // "xchg eax, eax" as 90 must not clear RAX's upper half while 87 C0 does.
    for (let i = 0; i < count(g, 40); i++) {
      const r: RegOp = { size, n: g.rng.pick(g.bits === 64 ? [0, 0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] : [0, 1, 2, 3, 5, 6, 7]) };
      const nop = r.n === 0;
      emit(g, {
        family: 'xchg', form: nop ? `nop (90, ${size})` : `xchg r${size}, acc (90+r)`,
        text: nop && size === 32 ? 'nop' : `xchg ${regName(r)}, ${regName({ size, n: 0 })}`,
        enc: { ...se, opcode: [0x90], opcodeReg: r }, state: initialState(g), regs: [0, gprOf(r)],
      });
    }
  }
}

export function genFlagOps(g: Gen): void {
  const ops: Array<[string, number]> = [['cmc', 0xf5], ['clc', 0xf8], ['stc', 0xf9], ['cld', 0xfc], ['std', 0xfd]];
  // LAHF/SAHF exist in 64-bit mode only when CPUID.80000001H:ECX.LAHF-SAHF[bit 0] says so.
  if (g.features.lahf64 || g.bits === 32) ops.push(['lahf', 0x9f], ['sahf', 0x9e]);
  for (const [mn, opcode] of ops) {
    for (let i = 0; i < count(g, mn === 'sahf' || mn === 'lahf' ? 100 : 30); i++) {
      emit(g, {
        family: mn === 'sahf' || mn === 'lahf' ? mn : 'flagops', form: mn, text: mn, enc: { opcode: [opcode] }, state: initialState(g),
        regs: mn === 'sahf' || mn === 'lahf' ? [0] : [],
      });
    }
  }
}
