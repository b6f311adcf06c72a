// String instructions (core/cpu/ops/string.ts): MOVS/STOS/LODS/CMPS/SCAS/INS/OUTS with REP
// prefixes, every address size, DF=1, segment overrides, precise faults in the middle of a REP,
// port permission checks, and writes that must go through PhysicalMemory (code pages, MMIO, ROM).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bareCpu, Bare, faultOnce, BareMode, CODE, DATA, HANDLERS, STACK_TOP, TSS, RecordingPort } from './bare-cpu';
import { CHUNK } from '../../../core/cpu/ops/string';
import { CF, DF, FS, IOPL, OF, PF, SF, SS, ZF, AF, CS } from '../../../core/cpu/regs';

const RCX = 1, RDX = 2, RSI = 6, RDI = 7, RAX = 0;
const FLAGS6 = CF | PF | AF | ZF | SF | OF;

function setup(mode: BareMode, code: number[]): Bare {
  const b = bareCpu(mode);
  b.load(code);
  return b;
}

/** Runs the single instruction at CODE to completion (REP chunks included). */
function exec(b: Bare, len: number, max = 1000): number {
  const n = b.runTo(CODE + len, max);
  assert.deepEqual(b.stops, []);
  assert.equal(b.cpu.rip, CODE + len, 'instruction completed');
  return n;
}

function fill(b: Bare, pa: number, len: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(len);
  let x = seed;
  for (let k = 0; k < len; k++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; bytes[k] = x >>> 24; }
  b.poke(pa, bytes);
  return bytes;
}

const u32 = (v: number) => v >>> 0;
const reg64 = (b: Bare, r: number) => BigInt.asUintN(64, (BigInt(b.cpu.gpr[r + 16]) << 32n) | BigInt(b.cpu.gpr[r] >>> 0));
function set64(b: Bare, r: number, v: bigint): void {
  const u = BigInt.asUintN(64, v);
  b.cpu.gpr[r] = Number(u & 0xffffffffn) | 0;
  b.cpu.gpr[r + 16] = Number(u >> 32n) | 0;
}

/** Element-by-element model of MOVS on a byte array (what the SDM's Operation section does). */
function modelMovs(mem: Uint8Array, src: number, dst: number, count: number, size: number, down: boolean): void {
  for (let k = 0; k < count; k++) {
    const tmp = mem.slice(src, src + size);
    mem.set(tmp, dst);
    src += down ? -size : size; dst += down ? -size : size;
  }
}

describe('MOVS', () => {
  test('rep movsb copies, advances ESI/EDI and clears ECX (32-bit flat)', () => {
    const b = setup(32, [0xf3, 0xa4]);
    const src = fill(b, DATA, 100, 1);
    b.cpu.gpr[RSI] = DATA; b.cpu.gpr[RDI] = DATA + 0x1000; b.cpu.gpr[RCX] = 100;
    exec(b, 2);
    assert.deepEqual(b.peek(DATA + 0x1000, 100), src);
    assert.equal(b.cpu.gpr[RSI], DATA + 100);
    assert.equal(b.cpu.gpr[RDI], DATA + 0x1000 + 100);
    assert.equal(b.cpu.gpr[RCX], 0);
    assert.equal(b.peek(DATA + 0x1000 + 100, 1)[0], 0, 'no byte past the count');
  });

  test('rep movsd with unaligned addresses crossing pages on both sides', () => {
    const b = setup('32paged', [0xf3, 0xa5]);
    const src = fill(b, DATA + 0xffe, 4000, 2);
    b.cpu.gpr[RSI] = DATA + 0xffe; b.cpu.gpr[RDI] = DATA + 0x3ffd; b.cpu.gpr[RCX] = 1000;
    exec(b, 2);
    assert.deepEqual(b.peek(DATA + 0x3ffd, 4000), src);
    assert.equal(b.cpu.gpr[RSI], DATA + 0xffe + 4000);
    assert.equal(b.cpu.gpr[RCX], 0);
  });

  for (const [name, size, op, delta, down] of [
    ['movsb forward, dst = src + 1 (pattern replication)', 1, 0xa4, 1, false],
    ['movsd forward, dst = src + 2 (element reads its own bytes first)', 4, 0xa5, 2, false],
    ['movsw backward, dst = src - 1', 2, 0xa5, -1, true],
    ['movsd forward, dst = src - 3 (memmove-like)', 4, 0xa5, -3, false],
    ['movsb backward, dst = src + 5 (memmove-like)', 1, 0xa4, 5, true],
  ] as [string, number, number, number, boolean][]) {
    test(`overlapping ${name} matches the element-by-element model`, () => {
      const code = size === 2 ? [0x66, 0xf3, op] : [0xf3, op];
      const b = setup(32, code);
      if (down) b.cpu.setFlags(DF, DF);
      const count = 300;
      const base = DATA + 0x400;
      const mem = new Uint8Array(0x1000);
      mem.set(fill(b, DATA, 0x1000, 3));
      const src = base + (down ? (count - 1) * size : 0), dst = src + delta;
      b.cpu.gpr[RSI] = src; b.cpu.gpr[RDI] = dst; b.cpu.gpr[RCX] = count;
      exec(b, code.length);
      modelMovs(mem, src - DATA, dst - DATA, count, size, down);
      assert.deepEqual(b.peek(DATA, 0x1000), mem);
      const step = down ? -size : size;
      assert.equal(b.cpu.gpr[RSI], src + step * count);
      assert.equal(b.cpu.gpr[RDI], dst + step * count);
    });
  }

  test('DF=1 copies downwards', () => {
    const b = setup(32, [0xf3, 0xa5]);
    b.cpu.setFlags(DF, DF);
    const src = fill(b, DATA, 40, 4);
    b.cpu.gpr[RSI] = DATA + 36; b.cpu.gpr[RDI] = DATA + 0x2024; b.cpu.gpr[RCX] = 10;
    exec(b, 2);
    assert.deepEqual(b.peek(DATA + 0x2000, 40), src);
    assert.equal(b.cpu.gpr[RSI], DATA - 4);
    assert.equal(b.cpu.gpr[RDI], DATA + 0x2000 - 4);
  });

  test('count 0 does nothing but advance rip', () => {
    const b = setup(32, [0xf3, 0xa4]);
    fill(b, DATA, 16, 5);
    b.cpu.gpr[RSI] = DATA; b.cpu.gpr[RDI] = DATA + 0x100; b.cpu.gpr[RCX] = 0;
    assert.equal(exec(b, 2), 1);
    assert.deepEqual(b.peek(DATA + 0x100, 16), new Uint8Array(16));
    assert.equal(b.cpu.gpr[RSI], DATA);
    assert.equal(b.cpu.gpr[RDI], DATA + 0x100);
  });

  test('a long REP runs in chunks of CHUNK iterations, re-executing at the same rip', () => {
    const b = setup(32, [0xf3, 0xa4]);
    const n = 2 * CHUNK + 1808;
    const src = fill(b, DATA, n, 6);
    b.cpu.gpr[RSI] = DATA; b.cpu.gpr[RDI] = DATA + 0x10000; b.cpu.gpr[RCX] = n;
    b.cpu.run(1);
    assert.equal(b.cpu.rip, CODE, 'not finished: rip stays on the instruction');
    assert.equal(b.cpu.gpr[RCX], n - CHUNK);
    assert.equal(b.cpu.gpr[RSI], DATA + CHUNK);
    assert.equal(exec(b, 2), 2);
    assert.equal(b.cpu.instret, 3);
    assert.deepEqual(b.peek(DATA + 0x10000, n), src);
  });

  test('16-bit address size wraps SI/DI/CX and keeps their upper halves', () => {
    const b = setup(32, [0x67, 0xf3, 0xa4]); // addr16 rep movsb
    b.poke(0xfffe, [0x11, 0x22]); b.poke(0, [0x33, 0x44]);
    b.cpu.gpr[RSI] = 0x1230fffe; b.cpu.gpr[RDI] = 0x45602000; b.cpu.gpr[RCX] = 0x789a0004;
    exec(b, 3);
    assert.deepEqual([...b.peek(0x2000, 4)], [0x11, 0x22, 0x33, 0x44]);
    assert.equal(u32(b.cpu.gpr[RSI]), 0x12300002);
    assert.equal(u32(b.cpu.gpr[RDI]), 0x45602004);
    assert.equal(u32(b.cpu.gpr[RCX]), 0x789a0000);
  });

  test('real mode: rep movsw with DS:SI -> ES:DI segments', () => {
    const b = bareCpu('real');
    b.poke(0x10000, [0xf3, 0xa5]);
    b.cpu.setSegReal(CS, 0x1000);
    b.cpu.rip = 0;
    b.cpu.setSegReal(3, 0x2000); // DS
    b.cpu.setSegReal(0, 0x3000); // ES
    const src = fill(b, 0x20010, 64, 7);
    b.cpu.gpr[RSI] = 0x10; b.cpu.gpr[RDI] = 0x20; b.cpu.gpr[RCX] = 32;
    b.runTo(2);
    assert.deepEqual(b.stops, []);
    assert.deepEqual(b.peek(0x30020, 64), src);
    assert.equal(b.cpu.gpr[RSI] & 0xffff, 0x50);
  });

  test('segment override applies to the source only (FS in 32-bit mode)', () => {
    const b = setup(32, [0x64, 0xf3, 0xa4]);
    b.cpu.setSegment(FS, 0x10, DATA, 0xffff, 0x4093);
    const src = fill(b, DATA + 0x10, 8, 8);
    b.cpu.gpr[RSI] = 0x10; b.cpu.gpr[RDI] = DATA + 0x800; b.cpu.gpr[RCX] = 8;
    exec(b, 3);
    assert.deepEqual(b.peek(DATA + 0x800, 8), src);
  });

  test('source past the DS limit: #GP after the iterations that fit, registers precise', () => {
    const b = setup(32, [0xf3, 0xa4]);
    b.cpu.setSegment(3, 0x10, 0, DATA + 9, 0x4093); // DS limit: 10 bytes from DATA are readable
    const src = fill(b, DATA, 16, 9);
    b.cpu.gpr[RSI] = DATA; b.cpu.gpr[RDI] = DATA + 0x100; b.cpu.gpr[RCX] = 16;
    faultOnce(b);
    assert.equal(b.cpu.lastException, 13);
    assert.equal(b.cpu.gpr[RCX], 6);
    assert.equal(b.cpu.gpr[RSI], DATA + 10);
    assert.deepEqual(b.peek(DATA + 0x100, 16), Uint8Array.from([...src.slice(0, 10), 0, 0, 0, 0, 0, 0]));
    // The frame: error code 0, then the return EIP = the REP instruction.
    const sp = b.cpu.gpr[4] >>> 0;
    assert.deepEqual([...b.peek(sp, 8)], [0, 0, 0, 0, ...le32(CODE)]);
  });

  for (const mode of ['32paged', 64] as const) {
    test(`#PF in the middle of rep movsd (${mode}): precise state, CR2, restart completes`, () => {
      const code = [0xf3, 0xa5];
      const b = setup(mode, code);
      const src = fill(b, DATA, 0x3000, 10);
      // Destination runs from DATA+0x4800 into DATA+0x5000, which is not present.
      b.unmap(DATA + 0x5000);
      b.cpu.gpr[RSI] = DATA; b.cpu.gpr[RDI] = DATA + 0x4800; b.cpu.gpr[RCX] = 0x1000 / 4;
      faultOnce(b);
      assert.equal(b.cpu.lastException, 14);
      assert.equal(b.cpu.cr2, DATA + 0x5000);
      assert.equal(b.cpu.gpr[RCX], 0x400 - 0x200);
      assert.equal(b.cpu.gpr[RSI], DATA + 0x800);
      assert.equal(b.cpu.gpr[RDI], DATA + 0x5000);
      assert.deepEqual(b.peek(DATA + 0x4800, 0x800), src.slice(0, 0x800));
      const sp = mode === 64 ? Number(reg64(b, 4)) : b.cpu.gpr[4] >>> 0;
      const w = mode === 64 ? 8 : 4;
      assert.equal(b.peek(sp, 1)[0], 2, 'error code: write to a not-present page');
      assert.deepEqual([...b.peek(sp + w, 4)], le32(CODE), 'return address is the REP instruction');
      const h = HANDLERS + 16 * 14;
      assert.ok(b.cpu.rip === h || b.cpu.rip === h + 1, 'in the #PF handler (before or after its HLT)');
      // Map the page back and return to the instruction, as the handler's IRET would.
      b.poke(mode === 64 ? 0x4000 + 8 * ((DATA + 0x5000) >>> 12) : 0x4000 + 4 * ((DATA + 0x5000) >>> 12), le32(DATA + 0x5000 + 3));
      b.cpu.rip = CODE;
      exec(b, 2);
      assert.deepEqual(b.peek(DATA + 0x4800, 0x1000), src.slice(0, 0x1000));
    });
  }

  test('an element straddling into a missing page is not partially written', () => {
    const b = setup('32paged', [0xa5]); // movsd
    b.unmap(DATA + 0x2000);
    b.poke(DATA, [1, 2, 3, 4]);
    b.cpu.gpr[RSI] = DATA; b.cpu.gpr[RDI] = DATA + 0x1ffe;
    faultOnce(b);
    assert.equal(b.cpu.lastException, 14);
    assert.deepEqual([...b.peek(DATA + 0x1ffe, 2)], [0, 0]);
    assert.equal(b.cpu.gpr[RDI], DATA + 0x1ffe);
  });

  test('64-bit: rep movsq with RSI/RDI in the upper canonical half and RCX 64-bit', () => {
    const b = setup(64, [0xf3, 0x48, 0xa5]);
    const src = fill(b, DATA, 80, 11);
    const high = 0xffffff8000000000n;
    set64(b, RSI, high + BigInt(DATA)); set64(b, RDI, high + BigInt(DATA + 0x1000)); set64(b, RCX, 10n);
    exec(b, 3);
    assert.deepEqual(b.peek(DATA + 0x1000, 80), src);
    assert.equal(reg64(b, RSI), high + BigInt(DATA + 80));
    assert.equal(reg64(b, RDI), high + BigInt(DATA + 0x1000 + 80));
    assert.equal(reg64(b, RCX), 0n);
  });

  test('64-bit with address-size prefix: ESI/EDI/ECX, upper halves cleared', () => {
    const b = setup(64, [0x67, 0xf3, 0xa4]);
    const src = fill(b, DATA, 5, 12);
    set64(b, RSI, 0x1234_0000_0000n + BigInt(DATA)); set64(b, RDI, 0x5678_0000_0000n + BigInt(DATA + 0x100));
    set64(b, RCX, 0x9_0000_0005n);
    exec(b, 3);
    assert.deepEqual(b.peek(DATA + 0x100, 5), src);
    assert.equal(reg64(b, RSI), BigInt(DATA + 5));
    assert.equal(reg64(b, RDI), BigInt(DATA + 0x105));
    assert.equal(reg64(b, RCX), 0n);
  });

  test('64-bit: FS override adds the FS base; ES stays flat', () => {
    const b = setup(64, [0x64, 0xa4]); // movsb fs:[rsi] -> es:[rdi]
    b.cpu.segBase[FS] = DATA;
    b.poke(DATA + 0x20, [0x5a]);
    b.cpu.segBase[0] = 0x1000; // a stale ES base is ignored in 64-bit mode
    set64(b, RSI, 0x20n); set64(b, RDI, BigInt(DATA + 0x300));
    exec(b, 2);
    assert.equal(b.peek(DATA + 0x300, 1)[0], 0x5a);
  });

  test('F2 (REPNE) on MOVS repeats like REP', () => {
    const b = setup(32, [0xf2, 0xa4]);
    const src = fill(b, DATA, 9, 13);
    b.cpu.gpr[RSI] = DATA; b.cpu.gpr[RDI] = DATA + 0x40; b.cpu.gpr[RCX] = 9;
    exec(b, 2);
    assert.deepEqual(b.peek(DATA + 0x40, 9), src);
  });

  test('writing over decoded code invalidates it', () => {
    // At CODE+0x10: LODSB (AC), executed once so it is decoded and cached; then a rep movsb
    // overwrites it with STOSB (AA); executing CODE+0x10 again must store, not load.
    const b = setup(32, [0xf3, 0xa4]);
    b.poke(CODE + 0x10, [0xac]);
    b.poke(DATA, [0xaa, 0, 0, 0, 0, 0, 0, 0]);
    b.cpu.rip = CODE + 0x10; b.cpu.gpr[RSI] = DATA; b.cpu.run(1);
    assert.equal(b.cpu.gpr[RAX] & 0xff, 0xaa, 'lodsb ran');
    b.cpu.rip = CODE; b.cpu.gpr[RSI] = DATA; b.cpu.gpr[RDI] = CODE + 0x10; b.cpu.gpr[RCX] = 8;
    exec(b, 2);
    b.cpu.rip = CODE + 0x10; b.cpu.gpr[RDI] = DATA + 0x80; b.cpu.gpr[RAX] = 0x77;
    b.cpu.run(1);
    assert.equal(b.peek(DATA + 0x80, 1)[0], 0x77, 'stosb ran');
  });
});

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

describe('STOS and LODS', () => {
  for (const [size, prefix, op, value] of [
    [1, [], 0xaa, 0xab], [2, [0x66], 0xab, 0x1234], [4, [], 0xab, 0x89abcdef | 0], [4, [], 0xab, 0],
  ] as [number, number[], number, number][]) {
    test(`rep stos size ${size} value 0x${(value >>> 0).toString(16)}`, () => {
      const code = [...prefix, 0xf3, op];
      const b = setup(32, code);
      b.cpu.gpr[RAX] = value; b.cpu.gpr[RDI] = DATA + 0xffd; b.cpu.gpr[RCX] = 1500;
      b.poke(DATA + 0xffd, new Uint8Array(1500 * size).fill(0xee));
      exec(b, code.length);
      const got = b.peek(DATA + 0xffd, 1500 * size + 1);
      for (let k = 0; k < 1500 * size; k++) assert.equal(got[k], (value >>> (8 * (k % size))) & 0xff, `byte ${k}`);
      assert.equal(got[1500 * size], 0);
      assert.equal(b.cpu.gpr[RDI], DATA + 0xffd + 1500 * size);
    });
  }

  test('64-bit rep stosq with a non-uniform RAX, DF=1', () => {
    const b = setup(64, [0xf3, 0x48, 0xab]);
    b.cpu.setFlags(DF, DF);
    set64(b, RAX, 0x0102030405060708n); set64(b, RDI, BigInt(DATA + 0x1000 + 8 * 99)); set64(b, RCX, 100n);
    exec(b, 3);
    const got = b.peek(DATA + 0x1000, 800);
    for (let k = 0; k < 800; k++) assert.equal(got[k], 8 - (k % 8));
    assert.equal(reg64(b, RDI), BigInt(DATA + 0x1000 - 8));
  });

  test('rep stosw into ROM is ignored, into the VGA window goes to the MMIO bus', () => {
    const b = setup(32, [0x66, 0xf3, 0xab]);
    const writes: [number, number, number][] = [];
    b.phys.mmio.register(0xa0000, 0x20000, { name: 'vga', mmioRead: () => 0, mmioWrite: (o, s, v) => { writes.push([o, s, v]); } });
    b.cpu.gpr[RAX] = 0x0741; b.cpu.gpr[RDI] = 0xb8000; b.cpu.gpr[RCX] = 4;
    exec(b, 3);
    assert.deepEqual(writes, [[0x18000, 2, 0x741], [0x18002, 2, 0x741], [0x18004, 2, 0x741], [0x18006, 2, 0x741]]);
    const rom = b.peek(0xf0000, 8);
    b.cpu.rip = CODE; b.cpu.gpr[RDI] = 0xf0000; b.cpu.gpr[RCX] = 4;
    exec(b, 3);
    assert.deepEqual(b.peek(0xf0000, 8), rom);
  });

  test('lodsb, lodsd, rep lodsw (last element wins), DF=1', () => {
    const b = setup(32, [0xac]);
    b.poke(DATA, [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80]);
    b.cpu.gpr[RAX] = 0x11223344; b.cpu.gpr[RSI] = DATA;
    exec(b, 1);
    assert.equal(u32(b.cpu.gpr[RAX]), 0x11223310);
    b.load([0xad]); b.cpu.gpr[RSI] = DATA + 1;
    exec(b, 1);
    assert.equal(u32(b.cpu.gpr[RAX]), 0x50403020);
    b.load([0x66, 0xf3, 0xad]); b.cpu.setFlags(DF, DF); b.cpu.gpr[RSI] = DATA + 6; b.cpu.gpr[RCX] = 3;
    exec(b, 3);
    assert.equal(u32(b.cpu.gpr[RAX]), 0x50404030);
    assert.equal(b.cpu.gpr[RSI], DATA);
  });
});

describe('CMPS and SCAS', () => {
  const flags = (b: Bare) => b.cpu.getFlags() & FLAGS6;

  test('repe cmpsb stops after the first difference, flags from that comparison', () => {
    const b = setup(32, [0xf3, 0xa6]);
    b.poke(DATA, [...Buffer.from('hello world')]);
    b.poke(DATA + 0x100, [...Buffer.from('hello there')]);
    b.cpu.gpr[RSI] = DATA; b.cpu.gpr[RDI] = DATA + 0x100; b.cpu.gpr[RCX] = 11;
    exec(b, 2);
    // 'w' (0x77) - 't' (0x74) = 3: no CF, no ZF; the count includes the mismatching iteration.
    assert.equal(b.cpu.gpr[RCX], 11 - 7);
    assert.equal(b.cpu.gpr[RSI], DATA + 7);
    assert.equal(flags(b), parity(3));
  });

  test('repe cmpsd over equal memory runs out the count with ZF=1', () => {
    const b = setup(32, [0xf3, 0xa7]);
    const data = fill(b, DATA, 400, 14);
    b.poke(DATA + 0x1ff0, data);
    b.cpu.gpr[RSI] = DATA; b.cpu.gpr[RDI] = DATA + 0x1ff0; b.cpu.gpr[RCX] = 100;
    exec(b, 2);
    assert.equal(b.cpu.gpr[RCX], 0);
    assert.equal(flags(b) & ZF, ZF);
  });

  test('repne cmpsb stops at the first equal pair', () => {
    const b = setup(32, [0xf2, 0xa6]);
    b.poke(DATA, [1, 2, 3, 4, 5]); b.poke(DATA + 0x10, [9, 9, 9, 4, 9]);
    b.cpu.gpr[RSI] = DATA; b.cpu.gpr[RDI] = DATA + 0x10; b.cpu.gpr[RCX] = 5;
    exec(b, 2);
    assert.equal(b.cpu.gpr[RCX], 1);
    assert.equal(flags(b), ZF | PF);
  });

  test('cmpsb flags are those of [rSI] - [rDI] (CF, SF, OF)', () => {
    const b = setup(32, [0xa6]);
    b.poke(DATA, [0x80]); b.poke(DATA + 0x10, [0x01]);
    b.cpu.gpr[RSI] = DATA; b.cpu.gpr[RDI] = DATA + 0x10;
    exec(b, 1);
    // 0x80 - 0x01 = 0x7f: signed overflow, no borrow, AF (0 - 1 in the low nibble).
    assert.equal(flags(b), OF | AF);
    assert.equal(b.cpu.gpr[RSI], DATA + 1);
  });

  test('repne scasb as strlen with RCX = -1 (64-bit)', () => {
    const b = setup(64, [0xf2, 0xae]);
    b.poke(DATA + 0x1ff8, [...Buffer.from('abcdefghijklmnop'), 0]); // crosses a page
    set64(b, RAX, 0n); set64(b, RDI, BigInt(DATA + 0x1ff8)); set64(b, RCX, -1n);
    exec(b, 2);
    // strlen = ~RCX - 1
    assert.equal(reg64(b, RCX), BigInt.asUintN(64, -1n - 17n));
    assert.equal(reg64(b, RDI), BigInt(DATA + 0x1ff8 + 17));
    assert.equal(flags(b) & ZF, ZF);
  });

  test('std; repne scasb searches downwards (strrchr idiom)', () => {
    const b = setup(32, [0xf2, 0xae]);
    b.cpu.setFlags(DF, DF);
    b.poke(DATA + 0xff0, [...Buffer.from('a/b/cdefghijklmnopqrstuvwxyz')]); // crosses a page going down
    b.cpu.gpr[RAX] = 0x2f; b.cpu.gpr[RDI] = DATA + 0xff0 + 27; b.cpu.gpr[RCX] = 28;
    exec(b, 2);
    // The last '/' is at offset 3: 25 bytes compared (offsets 27 down to 3), EDI one below it.
    assert.equal(b.cpu.gpr[RCX], 3);
    assert.equal(b.cpu.gpr[RDI], DATA + 0xff0 + 2);
    assert.equal(flags(b) & ZF, ZF);
  });

  test('repe scasd stops on the first different dword; SUB flags', () => {
    const b = setup(32, [0xf3, 0xaf]);
    b.poke(DATA, [...le32(7), ...le32(7), ...le32(9), ...le32(7)]);
    b.cpu.gpr[RAX] = 7; b.cpu.gpr[RDI] = DATA; b.cpu.gpr[RCX] = 4;
    exec(b, 2);
    assert.equal(b.cpu.gpr[RCX], 1);
    assert.equal(b.cpu.gpr[RDI], DATA + 12);
    // 7 - 9 = -2: CF, SF, AF (7 < 9 in the low nibble).
    assert.equal(flags(b), CF | SF | AF | parity(0xfe));
  });

  test('cmpsq compares 64-bit values (difference only in the high half)', () => {
    const b = setup(64, [0x48, 0xa7]);
    b.poke(DATA, [0, 0, 0, 0, 1, 0, 0, 0]); b.poke(DATA + 8, [0, 0, 0, 0, 2, 0, 0, 0]);
    set64(b, RSI, BigInt(DATA)); set64(b, RDI, BigInt(DATA + 8));
    exec(b, 2);
    assert.equal(flags(b), CF | SF | PF);
  });

  test('REPE CMPS with count 0 leaves the flags alone', () => {
    const b = setup(32, [0xf3, 0xa6]);
    b.cpu.setFlags(CF | ZF, FLAGS6);
    b.cpu.gpr[RCX] = 0;
    exec(b, 2);
    assert.equal(flags(b), CF | ZF);
  });

  test('16-bit address size: repne scasw wraps DI', () => {
    const b = setup(32, [0x67, 0x66, 0xf2, 0xaf]);
    b.poke(0xfffc, [1, 0, 2, 0]); b.poke(0, [3, 0]);
    b.cpu.gpr[RAX] = 3; b.cpu.gpr[RDI] = 0xabcdfffc; b.cpu.gpr[RCX] = 0x10;
    exec(b, 4);
    assert.equal(u32(b.cpu.gpr[RDI]), 0xabcd0002);
    assert.equal(b.cpu.gpr[RCX], 0x10 - 3);
  });
});

function parity(v: number): number {
  let p = 1;
  for (let k = 0; k < 8; k++) p ^= (v >> k) & 1;
  return p ? PF : 0;
}

describe('INS and OUTS', () => {
  test('rep outsb writes each byte to DX in order; rep insw stores what the port returns', () => {
    const b = setup(32, [0xf3, 0x6e]);
    const dev = new RecordingPort('uart', [0x1111, 0x2222, 0x3333]);
    b.ports.register(0x3f8, 8, dev);
    b.poke(DATA, [...Buffer.from('Hi!')]);
    b.cpu.gpr[RDX] = 0x3f8; b.cpu.gpr[RSI] = DATA; b.cpu.gpr[RCX] = 3;
    exec(b, 2);
    assert.deepEqual(dev.writes, [{ port: 0x3f8, size: 1, value: 0x48 }, { port: 0x3f8, size: 1, value: 0x69 }, { port: 0x3f8, size: 1, value: 0x21 }]);
    b.load([0x66, 0xf3, 0x6d]);
    b.cpu.gpr[RDI] = DATA + 0x100; b.cpu.gpr[RCX] = 3;
    exec(b, 3);
    assert.deepEqual([...b.peek(DATA + 0x100, 6)], [0x11, 0x11, 0x22, 0x22, 0x33, 0x33]);
    assert.equal(b.cpu.gpr[RCX], 0);
  });

  test('insb with DF=1 and an ES segment base', () => {
    const b = setup(32, [0x6c]);
    const dev = new RecordingPort('dev', [0x5a]);
    b.ports.register(0x60, 1, dev);
    b.cpu.setSegment(0, 0x10, DATA, 0xffff, 0x4093);
    b.cpu.setFlags(DF, DF);
    b.cpu.gpr[RDX] = 0x60; b.cpu.gpr[RDI] = 0x40;
    exec(b, 1);
    assert.equal(b.peek(DATA + 0x40, 1)[0], 0x5a);
    assert.equal(b.cpu.gpr[RDI], 0x3f);
  });

  test('insd into a missing page faults before the port is read', () => {
    const b = setup('32paged', [0x6d]);
    const dev = new RecordingPort('dev', [1, 2]);
    b.ports.register(0x1f0, 8, dev);
    b.unmap(DATA);
    b.cpu.gpr[RDX] = 0x1f0; b.cpu.gpr[RDI] = DATA;
    faultOnce(b);
    assert.equal(b.cpu.lastException, 14);
    assert.deepEqual(dev.reads, []);
  });

  /** Drops to ring 3 with the given IOPL (flat ring-3 segments, paging off). */
  function ring3(b: Bare, iopl: number): void {
    b.cpu.setSegment(SS, 0x23, 0, 0xffffffff, 0xc0f3);
    b.cpu.setSegment(CS, 0x1b, 0, 0xffffffff, 0xc0fb);
    b.cpu.setFlags(iopl << 12, IOPL);
    b.cpu.gpr[4] = STACK_TOP - 0x1000;
  }

  test('CPL 3 > IOPL: the TSS I/O bitmap decides, per port byte', () => {
    const b = setup(32, [0xf3, 0x66, 0x6f]); // rep outsw
    const dev = new RecordingPort('dev');
    b.ports.register(0x80, 4, dev);
    ring3(b, 0);
    assert.equal(b.cpu.cpl, 3);
    b.poke(DATA, [1, 0, 2, 0]);
    b.cpu.gpr[RDX] = 0x80; b.cpu.gpr[RSI] = DATA; b.cpu.gpr[RCX] = 2;
    exec(b, 3);
    assert.equal(dev.writes.length, 2, 'bitmap bits clear: allowed');
    // Forbid port 0x81: a word access to 0x80 touches it.
    b.poke(TSS + 0x68 + 0x10, [0x02]);
    b.load([0xf3, 0x66, 0x6f]);
    b.cpu.gpr[RSI] = DATA; b.cpu.gpr[RCX] = 2;
    faultOnce(b);
    assert.equal(b.cpu.lastException, 13);
    assert.equal(dev.writes.length, 2, 'no port access after #GP');
    assert.equal(b.cpu.gpr[RCX], 2);
  });

  test('CPL 3 with IOPL 3 ignores the bitmap; a port beyond the TSS limit faults', () => {
    const b = setup(32, [0x6e]); // outsb
    const dev = new RecordingPort('dev');
    b.ports.register(0x80, 1, dev);
    b.poke(TSS + 0x68 + 0x10, [0xff]);
    ring3(b, 3);
    b.cpu.gpr[RDX] = 0x80; b.cpu.gpr[RSI] = DATA;
    exec(b, 1);
    assert.equal(dev.writes.length, 1);
    // IOPL 0 and a TSS limit that ends the bitmap before port 0x80.
    b.cpu.setFlags(0, IOPL);
    b.poke(TSS + 0x68 + 0x10, [0]);
    b.cpu.trLimit = 0x68 + 0x0f;
    b.load([0x6e]);
    faultOnce(b);
    assert.equal(b.cpu.lastException, 13);
    assert.equal(dev.writes.length, 1);
  });
});
