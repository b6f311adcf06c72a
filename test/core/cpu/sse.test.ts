// SSE/SSE2 integer and move instructions, MXCSR, FXSAVE/FXRSTOR and x87 control
// (core/cpu/ops/sse.ts). Register forms are checked against this machine's own CPU on edge and
// random values (sse-native.ts); memory forms, alignment, exceptions and the FXSAVE layout by hand.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bareCpu, Bare, CODE, DATA, faultOnce } from './bare-cpu';
import { runSseNative, sseNativeUnavailable, SseCase, SseState } from './sse-native';
import { CR0_EM, CR0_MP, CR0_TS, CR4_OSFXSR } from '../../../core/cpu/regs';
import { MXCSR_MASK } from '../../../core/cpu/ops/sse';

const RAX = 0, RBX = 3;

// ---- differential: register forms against the host CPU -------------------------------------------

/** [name, encoding with ModRM for xmm0 <- xmm1 (or rax), whether an imm8 follows, shift-count source]. */
type Form = [string, number[], boolean?, boolean?];

const P66 = (op: number): number[] => [0x66, 0x0f, op, 0xc1];
const BINARY: Form[] = ([
  ['paddb', 0xfc], ['paddw', 0xfd], ['paddd', 0xfe], ['paddq', 0xd4], ['psubb', 0xf8], ['psubw', 0xf9], ['psubd', 0xfa], ['psubq', 0xfb],
  ['paddusb', 0xdc], ['paddusw', 0xdd], ['psubusb', 0xd8], ['psubusw', 0xd9], ['paddsb', 0xec], ['paddsw', 0xed], ['psubsb', 0xe8], ['psubsw', 0xe9],
  ['pcmpeqb', 0x74], ['pcmpeqw', 0x75], ['pcmpeqd', 0x76], ['pcmpgtb', 0x64], ['pcmpgtw', 0x65], ['pcmpgtd', 0x66],
  ['pminub', 0xda], ['pmaxub', 0xde], ['pminsw', 0xea], ['pmaxsw', 0xee], ['pavgb', 0xe0], ['pavgw', 0xe3],
  ['pmullw', 0xd5], ['pmulhw', 0xe5], ['pmulhuw', 0xe4], ['pmuludq', 0xf4], ['pmaddwd', 0xf5], ['psadbw', 0xf6],
  ['pand', 0xdb], ['pandn', 0xdf], ['por', 0xeb], ['pxor', 0xef],
  ['punpcklbw', 0x60], ['punpcklwd', 0x61], ['punpckldq', 0x62], ['packsswb', 0x63], ['packuswb', 0x67], ['punpckhbw', 0x68],
  ['punpckhwd', 0x69], ['punpckhdq', 0x6a], ['packssdw', 0x6b], ['punpcklqdq', 0x6c], ['punpckhqdq', 0x6d],
  ['andpd', 0x54], ['andnpd', 0x55], ['orpd', 0x56], ['xorpd', 0x57], ['unpcklpd', 0x14], ['unpckhpd', 0x15],
] as [string, number][]).map(([n, op]) => [n, P66(op)] as Form);

const FORMS: Form[] = [
  ...BINARY,
  ['andps', [0x0f, 0x54, 0xc1]], ['andnps', [0x0f, 0x55, 0xc1]], ['orps', [0x0f, 0x56, 0xc1]], ['xorps', [0x0f, 0x57, 0xc1]],
  ['unpcklps', [0x0f, 0x14, 0xc1]], ['unpckhps', [0x0f, 0x15, 0xc1]],
  ['psrlw xmm', P66(0xd1), false, true], ['psrld xmm', P66(0xd2), false, true], ['psrlq xmm', P66(0xd3), false, true],
  ['psraw xmm', P66(0xe1), false, true], ['psrad xmm', P66(0xe2), false, true],
  ['psllw xmm', P66(0xf1), false, true], ['pslld xmm', P66(0xf2), false, true], ['psllq xmm', P66(0xf3), false, true],
  ['psrlw imm', [0x66, 0x0f, 0x71, 0xd0], true], ['psraw imm', [0x66, 0x0f, 0x71, 0xe0], true], ['psllw imm', [0x66, 0x0f, 0x71, 0xf0], true],
  ['psrld imm', [0x66, 0x0f, 0x72, 0xd0], true], ['psrad imm', [0x66, 0x0f, 0x72, 0xe0], true], ['pslld imm', [0x66, 0x0f, 0x72, 0xf0], true],
  ['psrlq imm', [0x66, 0x0f, 0x73, 0xd0], true], ['psrldq', [0x66, 0x0f, 0x73, 0xd8], true],
  ['psllq imm', [0x66, 0x0f, 0x73, 0xf0], true], ['pslldq', [0x66, 0x0f, 0x73, 0xf8], true],
  ['pshufd', [0x66, 0x0f, 0x70, 0xc1], true], ['pshuflw', [0xf2, 0x0f, 0x70, 0xc1], true], ['pshufhw', [0xf3, 0x0f, 0x70, 0xc1], true],
  ['shufps', [0x0f, 0xc6, 0xc1], true], ['shufpd', [0x66, 0x0f, 0xc6, 0xc1], true],
  ['pmovmskb eax', [0x66, 0x0f, 0xd7, 0xc1]], ['movmskps eax', [0x0f, 0x50, 0xc1]], ['movmskpd eax', [0x66, 0x0f, 0x50, 0xc1]],
  ['pextrw eax', [0x66, 0x0f, 0xc5, 0xc1], true], ['pinsrw xmm0, eax', [0x66, 0x0f, 0xc4, 0xc0], true],
  ['movd xmm0, eax', [0x66, 0x0f, 0x6e, 0xc0]], ['movq xmm0, rax', [0x66, 0x48, 0x0f, 0x6e, 0xc0]],
  ['movd eax, xmm1', [0x66, 0x0f, 0x7e, 0xc8]], ['movq rax, xmm1', [0x66, 0x48, 0x0f, 0x7e, 0xc8]],
  ['movq xmm0, xmm1 (F3 7E)', [0xf3, 0x0f, 0x7e, 0xc1]], ['movq xmm0, xmm1 (66 D6)', [0x66, 0x0f, 0xd6, 0xc8]],
  ['movss xmm0, xmm1', [0xf3, 0x0f, 0x10, 0xc1]], ['movsd xmm0, xmm1', [0xf2, 0x0f, 0x10, 0xc1]],
  ['movss xmm0, xmm1 (store form)', [0xf3, 0x0f, 0x11, 0xc8]], ['movsd xmm0, xmm1 (store form)', [0xf2, 0x0f, 0x11, 0xc8]],
  ['movhlps', [0x0f, 0x12, 0xc1]], ['movlhps', [0x0f, 0x16, 0xc1]],
  ['movdqa', [0x66, 0x0f, 0x6f, 0xc1]], ['movdqa (store form)', [0x66, 0x0f, 0x7f, 0xc8]], ['movdqu', [0xf3, 0x0f, 0x6f, 0xc1]],
  ['movaps', [0x0f, 0x28, 0xc1]], ['movaps (store form)', [0x0f, 0x29, 0xc8]], ['movups', [0x0f, 0x10, 0xc1]], ['movupd', [0x66, 0x0f, 0x10, 0xc1]],
  ['movapd', [0x66, 0x0f, 0x28, 0xc1]],
];

/** Deterministic PRNG (xorshift32). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
}

const EDGE_BYTES = [0x00, 0x01, 0x7f, 0x80, 0x81, 0xfe, 0xff];
const IMMS = [0, 1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 0x1b, 0x4e, 0xb1, 0xe4, 0xff];
const COUNTS = [0, 1, 4, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 0x10000];

function makeCases(perForm: number): SseCase[] {
  const r = rng(0x55e2);
  const vec = (): Uint8Array => {
    const v = new Uint8Array(16);
    const style = r() % 4;
    for (let k = 0; k < 16; k++) {
      if (style === 0) v[k] = r() & 0xff;
      else if (style === 1) v[k] = EDGE_BYTES[r() % EDGE_BYTES.length];
      else v[k] = r() % 3 === 0 ? r() & 0xff : EDGE_BYTES[r() % EDGE_BYTES.length];
    }
    if (style === 3) v.set(v.subarray(0, 8), 8); // equal halves exercise the compares
    return v;
  };
  const cases: SseCase[] = [];
  for (const [name, enc, imm, countFromXmm] of FORMS) {
    for (let n = 0; n < perForm; n++) {
      const xmm0 = vec(), xmm1 = r() % 5 === 0 ? Uint8Array.from(xmm0) : vec();
      if (countFromXmm) {
        const count = COUNTS[r() % COUNTS.length];
        xmm1.fill(0, 0, 8);
        new DataView(xmm1.buffer).setUint32(0, count, true);
        if (r() % 8 === 0) xmm1[4] = 1; // a count with high bits set
      }
      const rax = (BigInt(r()) << 32n) | BigInt(r());
      const code = imm ? [...enc, n < IMMS.length ? IMMS[n] : r() & 0xff] : enc;
      cases.push({ name: imm ? `${name}, ${code[code.length - 1]}` : name, code, input: { xmm0, xmm1, rax } });
    }
  }
  return cases;
}

function runInterpreter(b: Bare, c: SseCase): SseState {
  const cpu = b.cpu;
  b.load(c.code);
  const x = new Int32Array(8);
  new Uint8Array(x.buffer).set(c.input.xmm0, 0);
  new Uint8Array(x.buffer).set(c.input.xmm1, 16);
  cpu.xmm.set(x, 0);
  const u = BigInt.asUintN(64, c.input.rax);
  cpu.gpr[RAX] = Number(u & 0xffffffffn) | 0;
  cpu.gpr[RAX + 16] = Number(u >> 32n) | 0;
  cpu.run(1);
  const out = new Uint8Array(Int32Array.from(cpu.xmm.subarray(0, 8)).buffer);
  const rax = (BigInt(cpu.gpr[RAX + 16] >>> 0) << 32n) | BigInt(cpu.gpr[RAX] >>> 0);
  return { xmm0: out.slice(0, 16), xmm1: out.slice(16, 32), rax };
}

const hex = (v: Uint8Array) => Array.from(v).reverse().map((x) => x.toString(16).padStart(2, '0')).join('');

describe('SSE register forms against the host CPU', () => {
  const why = sseNativeUnavailable();
  test('every form on edge and random values', { skip: why ?? false }, () => {
    const cases = makeCases(40);
    const native = runSseNative(cases);
    const b = bareCpu(64);
    const failures: string[] = [];
    cases.forEach((c, k) => {
      const got = runInterpreter(b, c);
      const want = native[k];
      if (b.stops.length) { failures.push(`${c.name}: ${b.stops[0]}`); b.stops.length = 0; return; }
      if (hex(got.xmm0) !== hex(want.xmm0) || hex(got.xmm1) !== hex(want.xmm1) || got.rax !== want.rax) {
        failures.push(`${c.name}: in xmm0=${hex(c.input.xmm0)} xmm1=${hex(c.input.xmm1)} rax=${c.input.rax.toString(16)}\n` +
          `  want xmm0=${hex(want.xmm0)} rax=${want.rax.toString(16)}\n  got  xmm0=${hex(got.xmm0)} rax=${got.rax.toString(16)}`);
      }
    });
    assert.equal(failures.length, 0, `${failures.length} of ${cases.length} cases differ:\n${failures.slice(0, 10).join('\n')}`);
  });
});

// ---- memory forms, alignment and exceptions -------------------------------------------------------

function xmmBytes(b: Bare, reg: number): number[] {
  return [...new Uint8Array(Int32Array.from(b.cpu.xmm.subarray(reg * 4, reg * 4 + 4)).buffer)];
}

function setXmmBytes(b: Bare, reg: number, bytes: ArrayLike<number>): void {
  const u = new Uint8Array(16);
  u.set(Array.from(bytes).slice(0, 16));
  b.cpu.xmm.set(new Int32Array(u.buffer), reg * 4);
}

const seq = (n: number, from = 1) => Array.from({ length: n }, (_, k) => (from + k) & 0xff);

/** Runs the instruction at CODE; asserts it completed. */
function exec(b: Bare, code: number[]): void {
  b.load(code);
  b.cpu.run(1);
  assert.deepEqual(b.stops, []);
  assert.equal(b.cpu.rip, CODE + code.length);
}

describe('SSE memory operands', () => {
  test('movdqa load needs 16-byte alignment; movdqu does not', () => {
    const b = bareCpu(64);
    b.poke(DATA, seq(32));
    b.cpu.gpr[RBX] = DATA;
    exec(b, [0x66, 0x0f, 0x6f, 0x03]); // movdqa xmm0, [rbx]
    assert.deepEqual(xmmBytes(b, 0), seq(16));
    b.cpu.gpr[RBX] = DATA + 4;
    b.load([0x66, 0x0f, 0x6f, 0x03]);
    faultOnce(b);
    assert.equal(b.cpu.lastException, 13);
    assert.deepEqual(xmmBytes(b, 0), seq(16), 'destination unchanged');
    exec(b, [0xf3, 0x0f, 0x6f, 0x03]); // movdqu xmm0, [rbx]
    assert.deepEqual(xmmBytes(b, 0), seq(16, 5));
  });

  test('movups store across a page boundary; #PF on the second page writes nothing', () => {
    const b = bareCpu('32paged');
    setXmmBytes(b, 2, seq(16, 0x41));
    b.cpu.gpr[RBX] = DATA + 0xff8;
    exec(b, [0x0f, 0x11, 0x13]); // movups [ebx], xmm2
    assert.deepEqual([...b.peek(DATA + 0xff8, 16)], seq(16, 0x41));
    b.unmap(DATA + 0x2000);
    b.cpu.gpr[RBX] = DATA + 0x1ff8;
    b.load([0x0f, 0x11, 0x13]);
    faultOnce(b);
    assert.equal(b.cpu.lastException, 14);
    assert.equal(b.cpu.cr2, DATA + 0x2000);
    assert.deepEqual([...b.peek(DATA + 0x1ff8, 8)], new Array(8).fill(0));
  });

  test('aligned-only forms: movaps/movntdq stores and paddb with a misaligned m128 raise #GP(0)', () => {
    const b = bareCpu(32);
    for (const code of [[0x0f, 0x29, 0x03], [0x66, 0x0f, 0xe7, 0x03], [0x66, 0x0f, 0xfc, 0x03], [0x66, 0x0f, 0x70, 0x03, 0x1b]]) {
      b.cpu.gpr[RBX] = DATA + 8;
      b.load(code);
      faultOnce(b);
      assert.equal(b.cpu.lastException, 13, code.map((x) => x.toString(16)).join(' '));
    }
    b.poke(DATA, seq(16, 0x10));
    setXmmBytes(b, 0, new Array(16).fill(1));
    b.cpu.gpr[RBX] = DATA;
    exec(b, [0x66, 0x0f, 0xfc, 0x03]); // paddb xmm0, [ebx]
    assert.deepEqual(xmmBytes(b, 0), seq(16, 0x11));
  });

  test('movq/movd/movss/movsd loads from memory clear the rest; register forms and stores', () => {
    const b = bareCpu(64);
    b.poke(DATA, seq(16, 0xa0));
    b.cpu.gpr[RBX] = DATA;
    const ones = new Array(16).fill(0xff);
    for (const [code, keep] of [
      [[0xf3, 0x0f, 0x7e, 0x03], 8], // movq xmm0, [rbx]
      [[0x66, 0x0f, 0x6e, 0x03], 4], // movd xmm0, [rbx]
      [[0xf3, 0x0f, 0x10, 0x03], 4], // movss xmm0, [rbx]
      [[0xf2, 0x0f, 0x10, 0x03], 8], // movsd xmm0, [rbx]
      [[0x66, 0x48, 0x0f, 0x6e, 0x03], 8], // movq xmm0, [rbx] (REX.W 6E)
    ] as [number[], number][]) {
      setXmmBytes(b, 0, ones);
      exec(b, code);
      assert.deepEqual(xmmBytes(b, 0), [...seq(keep, 0xa0), ...new Array(16 - keep).fill(0)], code.join(' '));
    }
    setXmmBytes(b, 1, seq(16, 0x30));
    b.poke(DATA + 0x100, new Array(16).fill(0xee));
    b.cpu.gpr[RBX] = DATA + 0x100;
    exec(b, [0x66, 0x0f, 0xd6, 0x0b]); // movq [rbx], xmm1
    exec(b, [0x66, 0x0f, 0x7e, 0x4b, 0x08]); // movd [rbx+8], xmm1
    assert.deepEqual([...b.peek(DATA + 0x100, 16)], [...seq(8, 0x30), ...seq(4, 0x30), 0xee, 0xee, 0xee, 0xee]);
    exec(b, [0xf3, 0x0f, 0x11, 0x4b, 0x0c]); // movss [rbx+12], xmm1
    assert.deepEqual([...b.peek(DATA + 0x10c, 4)], seq(4, 0x30));
  });

  test('movlps/movhps/movlpd/movhpd load one half and keep the other; stores write one half', () => {
    const b = bareCpu(64);
    b.poke(DATA, seq(8, 0x50));
    b.cpu.gpr[RBX] = DATA;
    setXmmBytes(b, 0, seq(16, 0));
    exec(b, [0x0f, 0x12, 0x03]); // movlps xmm0, [rbx]
    assert.deepEqual(xmmBytes(b, 0), [...seq(8, 0x50), ...seq(8, 8)]);
    exec(b, [0x66, 0x0f, 0x16, 0x03]); // movhpd xmm0, [rbx]
    assert.deepEqual(xmmBytes(b, 0), [...seq(8, 0x50), ...seq(8, 0x50)]);
    setXmmBytes(b, 3, seq(16, 0x70));
    b.cpu.gpr[RBX] = DATA + 0x40;
    exec(b, [0x0f, 0x17, 0x1b]); // movhps [rbx], xmm3
    exec(b, [0x66, 0x0f, 0x13, 0x5b, 0x08]); // movlpd [rbx+8], xmm3
    assert.deepEqual([...b.peek(DATA + 0x40, 16)], [...seq(8, 0x78), ...seq(8, 0x70)]);
  });

  test('pinsrw from m16 and movnti stores', () => {
    const b = bareCpu(64);
    b.poke(DATA, [0x34, 0x12]);
    b.cpu.gpr[RBX] = DATA;
    setXmmBytes(b, 0, new Array(16).fill(0));
    exec(b, [0x66, 0x0f, 0xc4, 0x03, 0x05]); // pinsrw xmm0, [rbx], 5
    assert.deepEqual(xmmBytes(b, 0), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x34, 0x12, 0, 0, 0, 0]);
    b.cpu.gpr[RAX] = 0x11223344; b.cpu.gpr[RAX + 16] = 0x55667788;
    exec(b, [0x48, 0x0f, 0xc3, 0x43, 0x10]); // movnti [rbx+16], rax
    assert.deepEqual([...b.peek(DATA + 16, 8)], [0x44, 0x33, 0x22, 0x11, 0x88, 0x77, 0x66, 0x55]);
  });

  test('xmm8-15 through REX in 64-bit mode', () => {
    const b = bareCpu(64);
    setXmmBytes(b, 9, seq(16, 1));
    setXmmBytes(b, 14, new Array(16).fill(1));
    exec(b, [0x66, 0x45, 0x0f, 0xfc, 0xf1]); // paddb xmm14, xmm9
    assert.deepEqual(xmmBytes(b, 14), seq(16, 2));
  });
});

describe('SSE exceptions', () => {
  const PXOR = [0x66, 0x0f, 0xef, 0xc1];

  test('#UD when CR4.OSFXSR = 0 or CR0.EM = 1; #NM when CR0.TS = 1; #UD wins over #NM', () => {
    const b = bareCpu(32);
    b.cpu.cr4 &= ~CR4_OSFXSR;
    b.load(PXOR); faultOnce(b);
    assert.equal(b.cpu.lastException, 6);
    b.cpu.cr4 |= CR4_OSFXSR;
    b.cpu.cr0 |= CR0_EM;
    b.load(PXOR); faultOnce(b);
    assert.equal(b.cpu.lastException, 6);
    b.cpu.cr0 |= CR0_TS;
    b.load(PXOR); faultOnce(b);
    assert.equal(b.cpu.lastException, 6);
    b.cpu.cr0 &= ~CR0_EM;
    b.load(PXOR); faultOnce(b);
    assert.equal(b.cpu.lastException, 7);
    b.cpu.cr0 &= ~CR0_TS;
    exec(b, PXOR);
  });

  test('floating-point arithmetic and MMX forms stop as unsupported instead of guessing', () => {
    for (const code of [[0xf3, 0x0f, 0x58, 0xc1], [0xf2, 0x0f, 0x2a, 0xc0], [0x0f, 0xfc, 0xc1]]) { // addss, cvtsi2sd, paddb mm
      const b = bareCpu(64);
      b.load(code);
      b.cpu.run(1);
      assert.equal(b.stops.length, 1);
      assert.match(b.stops[0], /unsupported instruction/);
    }
  });

  test('#NM comes before a memory fault', () => {
    const b = bareCpu(32);
    b.cpu.cr0 |= CR0_TS;
    b.cpu.gpr[RBX] = DATA + 1; // misaligned too
    b.load([0x66, 0x0f, 0x6f, 0x03]);
    faultOnce(b);
    assert.equal(b.cpu.lastException, 7);
  });
});

describe('MXCSR, FXSAVE/FXRSTOR and x87 control', () => {
  test('ldmxcsr/stmxcsr; reserved bits (beyond MXCSR_MASK) raise #GP(0)', () => {
    const b = bareCpu(32);
    b.poke(DATA, [0x80, 0x7f, 0, 0]); // 0x7f80: all masked, RC = 3
    b.cpu.gpr[RBX] = DATA;
    exec(b, [0x0f, 0xae, 0x13]); // ldmxcsr [ebx]
    assert.equal(b.cpu.mxcsr, 0x7f80);
    exec(b, [0x0f, 0xae, 0x5b, 0x10]); // stmxcsr [ebx+16]
    assert.deepEqual([...b.peek(DATA + 16, 4)], [0x80, 0x7f, 0, 0]);
    for (const bad of [0x1f80 | 0x10000, 0x1f80 | 0x40]) {
      b.poke(DATA, [bad & 0xff, (bad >> 8) & 0xff, bad >> 16, 0]);
      b.load([0x0f, 0xae, 0x13]);
      faultOnce(b);
      assert.equal(b.cpu.lastException, 13);
      assert.equal(b.cpu.mxcsr, 0x7f80);
    }
    assert.equal(MXCSR_MASK, 0xffbf);
  });

  for (const mode of [32, 64] as const) {
    test(`fxsave layout and fxrstor round trip (${mode}-bit)`, () => {
      const b = bareCpu(mode);
      exec(b, [0xdb, 0xe3]); // fninit
      b.poke(DATA, [0x7f, 0x02]); b.cpu.gpr[RBX] = DATA;
      exec(b, [0xd9, 0x2b]); // fldcw [ebx] = 0x027f
      b.cpu.mxcsr = 0x1fa0;
      for (let r = 0; r < 16; r++) setXmmBytes(b, r, seq(16, r * 16));
      const area = DATA + 0x200;
      b.poke(area, new Array(512).fill(0xcc));
      b.cpu.gpr[RBX] = area;
      exec(b, mode === 64 ? [0x48, 0x0f, 0xae, 0x03] : [0x0f, 0xae, 0x03]); // fxsave(64) [rbx]
      const img = b.peek(area, 512);
      const dv = new DataView(img.buffer);
      assert.equal(dv.getUint16(0, true), 0x027f, 'FCW');
      assert.equal(dv.getUint16(2, true), 0, 'FSW');
      assert.equal(img[4], 0, 'abridged FTW: all empty');
      assert.equal(dv.getUint32(24, true), 0x1fa0, 'MXCSR');
      assert.equal(dv.getUint32(28, true), MXCSR_MASK, 'MXCSR_MASK');
      const nregs = mode === 64 ? 16 : 8;
      for (let r = 0; r < nregs; r++) assert.deepEqual([...img.subarray(160 + 16 * r, 176 + 16 * r)], seq(16, r * 16), `XMM${r}`);
      if (mode === 32) assert.deepEqual([...img.subarray(288, 512)], new Array(224).fill(0xcc), 'XMM8-15 area not written');
      assert.deepEqual([...img.subarray(464, 512)], new Array(48).fill(0xcc), 'software-available bytes untouched');
      // Scramble the state, then restore it.
      b.cpu.mxcsr = 0x1f80; b.cpu.fcw = 0x37f; b.cpu.xmm.fill(0);
      exec(b, mode === 64 ? [0x48, 0x0f, 0xae, 0x0b] : [0x0f, 0xae, 0x0b]); // fxrstor(64) [rbx]
      assert.equal(b.cpu.mxcsr, 0x1fa0);
      assert.equal(b.cpu.fcw, 0x027f);
      for (let r = 0; r < 16; r++) assert.deepEqual(xmmBytes(b, r), r < nregs ? seq(16, r * 16) : new Array(16).fill(0), `XMM${r}`);
    });
  }

  test('fxsave/fxrstor: misaligned area and a bad MXCSR image raise #GP(0) without changing state', () => {
    const b = bareCpu(64);
    b.cpu.gpr[RBX] = DATA + 8;
    b.load([0x0f, 0xae, 0x03]);
    faultOnce(b);
    assert.equal(b.cpu.lastException, 13);
    const area = DATA + 0x400;
    b.poke(area, new Array(512).fill(0));
    b.poke(area + 24, [0x80, 0x1f, 0x01, 0]); // MXCSR bit 16 set
    b.poke(area + 160, new Array(16).fill(0x42));
    setXmmBytes(b, 0, seq(16));
    b.cpu.gpr[RBX] = area;
    b.load([0x0f, 0xae, 0x0b]);
    faultOnce(b);
    assert.equal(b.cpu.lastException, 13);
    assert.deepEqual(xmmBytes(b, 0), seq(16));
    assert.equal(b.cpu.mxcsr, 0x1f80);
  });

  test('fxsave with CR0.TS raises #NM', () => {
    const b = bareCpu(32);
    b.cpu.cr0 |= CR0_TS;
    b.cpu.gpr[RBX] = DATA;
    b.load([0x0f, 0xae, 0x03]);
    faultOnce(b);
    assert.equal(b.cpu.lastException, 7);
  });

  test('fninit, fldcw/fnstcw (reserved bits as hardware reads them), fnstsw, fnclex, emms', () => {
    const b = bareCpu(32);
    b.cpu.fsw = 0x80ff; b.cpu.ftw = 0xff;
    b.cpu.gpr[RBX] = DATA;
    exec(b, [0xdb, 0xe2]); // fnclex
    assert.equal(b.cpu.fsw, 0);
    exec(b, [0xdb, 0xe3]); // fninit
    assert.equal(b.cpu.fcw, 0x37f);
    assert.equal(b.cpu.ftw, 0);
    exec(b, [0xd9, 0x3b]); // fnstcw [ebx]
    assert.deepEqual([...b.peek(DATA, 2)], [0x7f, 0x03]);
    for (const [value, reads] of [[0, 0x40], [0xffff, 0x1f7f]]) {
      b.poke(DATA + 4, [value & 0xff, value >> 8]);
      exec(b, [0xd9, 0x6b, 0x04]); // fldcw [ebx+4]
      exec(b, [0xd9, 0x7b, 0x08]); // fnstcw [ebx+8]
      assert.equal(b.peek(DATA + 8, 1)[0] | (b.peek(DATA + 9, 1)[0] << 8), reads);
    }
    b.cpu.fsw = 0x3800; b.cpu.gpr[RAX] = 0x12345678;
    exec(b, [0xdf, 0xe0]); // fnstsw ax
    assert.equal(b.cpu.gpr[RAX] >>> 0, 0x12343800);
    exec(b, [0xdd, 0x7b, 0x0c]); // fnstsw [ebx+12]
    assert.deepEqual([...b.peek(DATA + 12, 2)], [0x00, 0x38]);
    b.cpu.ftw = 0x0f;
    exec(b, [0x0f, 0x77]); // emms
    assert.equal(b.cpu.ftw, 0);
  });

  test('x87 control with CR0.TS: #NM; fwait only with MP and TS both set', () => {
    const b = bareCpu(32);
    b.cpu.cr0 |= CR0_TS;
    b.cpu.gpr[RBX] = DATA;
    b.load([0xd9, 0x3b]); faultOnce(b); // fnstcw
    assert.equal(b.cpu.lastException, 7);
    exec(b, [0x9b]); // fwait: TS without MP is fine
    b.cpu.cr0 |= CR0_MP;
    b.load([0x9b]); faultOnce(b);
    assert.equal(b.cpu.lastException, 7);
  });
});
