// The JIT's inlined semantics against the interpreter's: the generated single-instruction
// cases of the native differential suite (test/core/cpu/native) run through compiled blocks,
// and every flag-producing form followed by the flag readers the compiler fuses with it
// (SETcc, CMOVcc, Jcc), across sizes and edge-value operands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateCases, DEFAULT_SEED } from '../native/generator';
import { encode, RegOp, Size } from '../native/encoder';
import { runSnippet as interpretSnippet } from '../../../../core/cpu/testing';
import { runSnippet as jitSnippet, runBlockOnce, snapshot } from './helpers';
import { bareCpu, Bare, CODE, DATA } from '../bare-cpu';
import { L_NONE } from '../../../../core/cpu/flags';

/** HYPERSTEP_JIT_STRIDE=1 runs every generated case (default: every third). */
const STRIDE = Number(process.env.HYPERSTEP_JIT_STRIDE ?? 3);

const hex = (o: unknown) => JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v));

test('generated semantics cases: compiled blocks leave what the interpreter leaves', () => {
  const cases = generateCases({ seed: DEFAULT_SEED, scale: 1, features: { lzcnt: true, tzcnt: true, popcnt: true, lahf64: true, compat32: true } });
  const bad: string[] = [];
  let n = 0;
  for (let k = 0; k < cases.length; k += STRIDE) {
    const c = cases[k];
    n++;
    const a = interpretSnippet(c.code, c.bits, { gpr: [...c.input.gpr], rflags: c.input.rflags });
    const b = jitSnippet(c.code, c.bits, { gpr: [...c.input.gpr], rflags: c.input.rflags });
    if (hex(a) !== hex(b) && bad.length < 5) bad.push(`${c.bits}-bit ${c.text}:\n  interpreter ${hex(a)}\n  JIT         ${hex(b)}`);
  }
  assert.ok(n > 10000, `only ${n} cases`);
  assert.deepEqual(bad, []);
});

// ---- flag producers followed by flag readers ------------------------------------------------

const R = (size: Size, n: number): RegOp => ({ size, n });
const sizeEnc = (size: Size) => ({ prefixes: size === 16 ? [0x66] : [], rexW: size === 64 });
const ALU = { add: 0x00, or: 0x08, adc: 0x10, sbb: 0x18, and: 0x20, sub: 0x28, xor: 0x30, cmp: 0x38, test: 0x84 } as const;

/** `op dst, src` on (RAX or AH, RBX) parts of `size` bits. */
function producer(op: string, size: Size, high: boolean, count: number): Uint8Array {
  const w = size === 8 ? 0 : 1;
  const dst = size === 8 && high ? R(8, 16) : R(size, 0);
  const src = R(size, 3);
  const se = sizeEnc(size);
  if (op in ALU) return encode({ ...se, opcode: [ALU[op as keyof typeof ALU] + w], reg: src, rm: dst });
  switch (op) {
    case 'inc': return encode({ ...se, opcode: [0xfe + w], reg: 0, rm: dst });
    case 'dec': return encode({ ...se, opcode: [0xfe + w], reg: 1, rm: dst });
    case 'neg': return encode({ ...se, opcode: [0xf6 + w], reg: 3, rm: dst });
    case 'shl': return encode({ ...se, opcode: [0xc0 + w], reg: 4, rm: dst, imm: { value: BigInt(count), bytes: 1 } });
    case 'shr': return encode({ ...se, opcode: [0xc0 + w], reg: 5, rm: dst, imm: { value: BigInt(count), bytes: 1 } });
    case 'sar': return encode({ ...se, opcode: [0xc0 + w], reg: 7, rm: dst, imm: { value: BigInt(count), bytes: 1 } });
    default: return encode({ ...se, opcode: [0x0f, 0xaf], reg: R(size, 0), rm: src }); // imul
  }
}

const EDGES = [0n, 1n, 2n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn,
  0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn, 0x123456789abcdef0n, 0xfedcba9876543210n];

let seed = 12345;
function rnd(n: number): number { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; }
function value(): bigint {
  const e = EDGES[rnd(EDGES.length)];
  return rnd(4) === 0 ? e + BigInt(rnd(3)) - 1n : e;
}

function sequence(op: string, size: Size, high: boolean, a: bigint, b: bigint, ccBase: number, cc2: number, cc3: number, viaMemory: boolean): number[] {
  const out: number[] = [];
  const put = (x: Uint8Array) => out.push(...x);
  put(encode({ rexW: true, opcode: [0xb8], opcodeReg: R(64, 0), imm: { value: BigInt.asUintN(64, a), bytes: 8 } }));
  put(encode({ rexW: true, opcode: [0xb8], opcodeReg: R(64, 3), imm: { value: BigInt.asUintN(64, b), bytes: 8 } }));
  put(producer(op, size, high, rnd(size === 64 ? 64 : 32)));
  // Sometimes INC/DEC of RCX next: it keeps the producer's CF, which the compiler must carry over.
  if (rnd(2) === 0) {
    const s2 = ([8, 16, 32, 64] as Size[])[rnd(4)];
    put(encode({ ...sizeEnc(s2), opcode: [s2 === 8 ? 0xfe : 0xff], reg: rnd(2), rm: R(s2, 1) }));
  }
  // A load between producer and readers: a fault point while the flags are still pending.
  if (viaMemory) put(encode({ rexW: true, opcode: [0x8b], reg: R(64, 1), rm: { mod: 0, rm: 7, disp: 0n, addrSize: 64, mode: 64 } }));
  for (let k = 0; k < 8; k++) put(encode({ opcode: [0x0f, 0x90 + ccBase + k], reg: 0, rm: R(8, 8 + k) }));
  put(encode({ rexW: true, opcode: [0x0f, 0x40 + cc2], reg: R(64, 2), rm: R(64, 6) }));
  out.push(0x70 + cc3, 0x10);
  return out;
}

test('flag readers after every flag producer: compiled block = interpreter', () => {
  const interp = bareCpu(64), jit = bareCpu(64);
  interp.cpu.host.decodeCache.blocks.enabled = false;
  const ops = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp', 'test', 'inc', 'dec', 'neg', 'shl', 'shr', 'sar', 'imul'];
  const bad: string[] = [];
  let runs = 0;
  for (const op of ops) {
    for (const size of [8, 16, 32, 64] as Size[]) {
      if (op === 'imul' && size === 8) continue;
      for (let k = 0; k < 48; k++) {
        const high = size === 8 && rnd(3) === 0;
        const x = value(), y = rnd(4) === 0 ? x : value();
        const code = sequence(op, size, high, x, y, rnd(2) * 8, rnd(16), rnd(16), rnd(2) === 0);
        const flags = (rnd(0x1000) & 0x8d5) | 2;
        const start = (b: Bare) => {
          b.poke(CODE, new Uint8Array(128));
          b.load(code);
          b.cpu.gpr.fill(0);
          b.cpu.gpr[6] = 0x5a5a; b.cpu.gpr[7] = DATA; b.cpu.gpr[4] = 0x80000;
          b.cpu.flags = flags; b.cpu.lop = L_NONE;
          b.cpu.instret = 0;
        };
        start(interp); start(jit);
        for (let s = 0; s < 15 && interp.cpu.rip < CODE + code.length; s++) interp.cpu.run(1);
        const vector = runBlockOnce(jit);
        runs++;
        const a = snapshot(interp), b = snapshot(jit);
        if ((hex(a) !== hex(b) || vector !== null) && bad.length < 5) {
          bad.push(`${op} size ${size}${high ? ' (AH)' : ''} code ${Buffer.from(code).toString('hex')}\n  interpreter ${hex(a)}\n  JIT         ${hex(b)} fault ${vector}`);
        }
      }
    }
  }
  assert.ok(runs > 1000);
  assert.deepEqual(bad, []);
});
