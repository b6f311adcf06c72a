// The JIT (core/cpu/jit) changes nothing observable: self-modifying code runs its new bytes,
// a fault in the middle of a compiled block is as precise as in the interpreter, interrupts
// reach a vCPU spinning in a compiled loop at the same instruction, budgets are exact, and
// the switch that turns it off works. Each scenario runs twice, interpreted and compiled.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bareCpu, Bare, CODE, DATA, HANDLERS } from '../bare-cpu';
import { both, snapshot } from './helpers';
import type { CpuHost } from '../../../../core/cpu/cpu';
import type { MmioDevice } from '../../../../core/memory/bus';

const hex = (s: string) => s.trim().split(/\s+/).map((b) => parseInt(b, 16));

function sameState(a: Bare, b: Bare): void {
  assert.deepEqual(snapshot(b), snapshot(a));
  assert.equal(b.cpu.activity, a.cpu.activity);
  assert.equal(b.cpu.cr2, a.cpu.cr2);
  assert.equal(b.cpu.lastException, a.cpu.lastException);
  assert.deepEqual(b.peek(0x7ff00, 0x100), a.peek(0x7ff00, 0x100), 'stack (exception frames) differ');
  assert.ok(b.cpu.host.decodeCache.blocks.compiled > 0, 'the JIT compiled nothing: the test proves nothing');
  assert.equal(a.cpu.host.decodeCache.blocks.compiled, 0);
}

/**
 * A bare vCPU, JIT on or off, with `code` loaded and an interrupt line: raise(n) makes vector
 * 0x30 pending for the next n acknowledgements.
 */
function withLine(mode: 32 | 64, jitOn: boolean, code: ArrayLike<number>): { b: Bare; raise: (n?: number) => void } {
  const b = bareCpu(mode);
  b.cpu.host.decodeCache.blocks.enabled = jitOn;
  b.load(code);
  let pending = 0;
  const host = b.cpu.host as { -readonly [K in keyof CpuHost]: CpuHost[K] };
  host.hasExtInt = () => pending > 0;
  host.ackExtInt = () => { pending--; return 0x30; };
  return { b, raise: (n = 1) => { pending = n; } };
}

describe('self-modifying code', () => {
  test('a hot loop patched by another block runs the new instruction', () => {
    // mov ecx, 5000; xor eax, eax; loop: add eax, 1 (patched to add eax, 2 when ecx = 1000);
    // cmp ecx, 1000; jne skip; mov byte [loop+2], 2; skip: dec ecx; jnz loop; hlt
    const code = hex('b9 88 13 00 00 31 c0 83 c0 01 81 f9 e8 03 00 00 75 07 c6 05 09 00 01 00 02 49 75 eb f4');
    const { interp, jit } = both(32, code, () => {}, 100000);
    assert.equal(jit.cpu.gpr[0], 4001 + 999 * 2);
    assert.equal(jit.cpu.activity, 'hlt');
    sameState(interp, jit);
    assert.ok(jit.cpu.host.decodeCache.blocks.invalidated > 0, 'the patch did not kill a compiled block');
  });

  test('a block that rewrites one of its own later instructions sees the new bytes at once', () => {
    // mov ecx, 3000; xor esi, esi; loop: mov eax, ecx; and eax, 0x7f; mov [ins+2], al;
    // ins: add esi, 0 (immediate rewritten just before); dec ecx; jnz loop; hlt
    const code = hex('b9 b8 0b 00 00 31 f6 89 c8 83 e0 7f a2 13 00 01 00 83 c6 00 49 75 f0 f4');
    const { interp, jit } = both(32, code, () => {}, 100000);
    let sum = 0;
    for (let c = 1; c <= 3000; c++) sum += c & 0x7f;
    assert.equal(jit.cpu.gpr[6], sum);
    sameState(interp, jit);
  });
});

describe('faults in the middle of a compiled block', () => {
  test('#PF on a load: RIP, CR2, registers, pending flags and the exception frame are precise (64-bit)', () => {
    // loop: add rsi, 8; mov rdx, [rsi]; add rax, rdx; cmp rsi, rdi; jne loop; hlt
    const code = hex('48 83 c6 08 48 8b 16 48 01 d0 48 39 fe 75 f1 f4');
    const prepare = (b: Bare) => {
      for (let k = 0; k < 0x3000; k += 8) b.poke(DATA + k, [k & 0xff, 1, 0, 0, 0, 0, 0, 0x80]);
      b.unmap(DATA + 0x3000);
      b.cpu.gpr[6] = DATA - 8; b.cpu.gpr[7] = DATA + 0x8000;
    };
    const { interp, jit } = both(64, code, prepare, 100000);
    assert.equal(jit.cpu.lastException, 14);
    assert.equal(jit.cpu.cr2, DATA + 0x3000);
    assert.equal(jit.cpu.rip, HANDLERS + 16 * 14 + 1, 'the #PF handler ran');
    // The frame: error code, then RIP of the faulting MOV.
    const frame = jit.peek(jit.cpu.gpr[4], 16);
    assert.equal(frame[8] | (frame[9] << 8) | (frame[10] << 16), CODE + 4);
    assert.equal(jit.cpu.gpr[6], DATA + 0x3000, 'the ADD before the fault retired');
    sameState(interp, jit);
  });

  test('#DE raised by an interpreter handler inside a block (32-bit)', () => {
    // mov ebx, 2000; loop: inc ecx; mov eax, 100; xor edx, edx; div ebx; add esi, eax; dec ebx; jmp loop
    const code = hex('bb d0 07 00 00 41 b8 64 00 00 00 31 d2 f7 f3 01 c6 4b eb f1');
    const { interp, jit } = both(32, code, () => {}, 100000);
    assert.equal(jit.cpu.lastException, 0);
    assert.equal(jit.cpu.gpr[1], 2001, 'INC before the faulting DIV retired');
    const frame = jit.peek(jit.cpu.gpr[4], 4);
    assert.equal(frame[0] | (frame[1] << 8) | (frame[2] << 16), CODE + 13, 'EIP of the DIV');
    sameState(interp, jit);
  });
});

describe('interrupts and budgets', () => {
  // sti; xor eax, eax; xor ebx, ebx; loop: inc eax; mov [0xfec00000], eax; add ebx, eax; jmp loop; spin: jmp spin
  const code = hex('fb 31 c0 31 db 40 a3 00 00 c0 fe 01 c3 eb f6 eb fe');
  const SPIN = CODE + 15;

  /** A device at 0xFEC00000 whose write of `trigger` raises vector 0x30; it records instret at each write. */
  function withDevice(b: Bare, trigger: number): { seen: number[] } {
    let pending = false;
    const seen: number[] = [];
    const host = b.cpu.host as { -readonly [K in keyof CpuHost]: CpuHost[K] };
    host.hasExtInt = () => pending;
    host.ackExtInt = () => { pending = false; return 0x30; };
    const dev: MmioDevice = {
      name: 'trigger',
      mmioRead: () => 0,
      mmioWrite: (_off, _size, value) => {
        seen.push(b.cpu.instret);
        if (value === trigger) { pending = true; b.cpu.attention = true; }
      },
    };
    b.phys.mmio.register(0xfec00000, 0x1000, dev);
    return { seen };
  }

  test('an MMIO write inside a compiled loop raises an interrupt taken at the next instruction', () => {
    const seen: number[][] = [];
    const { interp, jit } = both(32, code, (b) => { seen.push(withDevice(b, 3000).seen); }, 1_000_000);
    assert.equal(jit.cpu.activity, 'hlt', 'the handler (HLT) ran');
    assert.equal(jit.cpu.gpr[0], 3000);
    assert.equal(jit.cpu.gpr[3], (2999 * 3000) / 2, 'the ADD after the triggering store did not run');
    const frame = jit.peek(jit.cpu.gpr[4], 4);
    assert.equal(frame[0] | (frame[1] << 8) | (frame[2] << 16), CODE + 11, 'EIP of the interrupted ADD');
    assert.deepEqual(seen[1], seen[0], 'the device saw different instruction counts (virtual time)');
    sameState(interp, jit);
  });

  test('an interrupt raised between slices reaches a vCPU spinning in a compiled self-loop', () => {
    const run = (jitOn: boolean) => {
      const { b, raise } = withLine(32, jitOn, code);
      b.cpu.gpr[0] = 0;
      b.cpu.rip = SPIN;
      b.cpu.flags |= 0x200;
      // Budgets are exact in both: every slice retires what it was given.
      for (let k = 0; k < 1000; k++) assert.equal(b.cpu.run(997), 997);
      raise(); b.cpu.attention = true;
      b.cpu.run(10);
      return b;
    };
    const interp = run(false), jit = run(true);
    assert.equal(jit.cpu.activity, 'hlt');
    assert.equal(jit.cpu.instret, 997 * 1000 + 1);
    const frame = jit.peek(jit.cpu.gpr[4], 4);
    assert.equal(frame[0] | (frame[1] << 8) | (frame[2] << 16), SPIN);
    sameState(interp, jit);
  });
});

test('turning the JIT on in the middle of a run takes effect at once and changes nothing', () => {
  // mov ecx, 3000; xor esi, esi; loop: mov eax, ecx; and eax, 0x7f; ... (the self-modifying loop above)
  const code = hex('b9 b8 0b 00 00 31 f6 89 c8 83 e0 7f a2 13 00 01 00 83 c6 00 49 75 f0 f4');
  const interp = bareCpu(32), jit = bareCpu(32);
  interp.cpu.host.decodeCache.blocks.enabled = false;
  jit.cpu.host.decodeCache.blocks.enabled = false;
  for (const b of [interp, jit]) { b.load(code); b.cpu.run(5000); }
  jit.cpu.host.decodeCache.blocks.enabled = true;
  for (const b of [interp, jit]) b.cpu.run(100000);
  assert.ok(jit.cpu.host.decodeCache.blocks.compiled > 0);
  assert.deepEqual(snapshot(jit), snapshot(interp));
});

test('code run at two linear addresses (one physical page, two mappings) gets a block for each RIP', () => {
  // A block's code has its RIP as a constant: at the other alias it must not run, and the
  // RIP-relative operands must be the alias's. The bare 64-bit machine maps 0xffffff80_00000000 to 0.
  // loop: lea rdx, [rip]; add rbx, rdx; add rbx, [rip + data]; dec ecx; jnz loop; hlt; data: dq 0x1234
  const code = hex('48 8d 15 00 00 00 00 48 01 d3 48 03 1d 05 00 00 00 ff c9 75 eb f4 34 12 00 00 00 00 00 00');
  const HIGH = -(2 ** 39) + CODE;
  const run = (jit: boolean) => {
    const b = bareCpu(64);
    b.cpu.host.decodeCache.blocks.enabled = jit;
    b.load(code);
    const compiled: number[] = [];
    for (const rip of [CODE, HIGH, CODE]) {
      b.cpu.rip = rip;
      b.cpu.gpr[1] = 5000;
      b.cpu.activity = 'active';
      b.cpu.run(1_000_000);
      assert.equal(b.cpu.activity, 'hlt');
      assert.equal(b.cpu.rip, rip + 22);
      compiled.push(b.cpu.host.decodeCache.blocks.compiled);
    }
    return { b, compiled };
  };
  const interp = run(false), jit = run(true);
  assert.deepEqual(snapshot(jit.b), snapshot(interp.b));
  // RBX: each pass adds (its RIP + 7) + 0x1234 per iteration, as 64-bit sums.
  const want = BigInt.asUintN(64, 5000n * (2n * BigInt(CODE + 7) + BigInt(HIGH + 7) + 3n * 0x1234n));
  assert.equal((BigInt(jit.b.cpu.gpr[3 + 16] >>> 0) << 32n) | BigInt(jit.b.cpu.gpr[3] >>> 0), want);
  // Compiled at the low address, again at the high one, and again at the low one.
  assert.ok(jit.compiled[0] > 0 && jit.compiled[1] > jit.compiled[0] && jit.compiled[2] > jit.compiled[1], `compiled ${jit.compiled}`);
});

test('two machines running the same code run one compiled function, each with its own instructions and block', () => {
  // mov ecx, 4000; xor eax, eax; loop: add eax, ecx; add [rel data], eax; dec ecx; jnz loop; hlt; data: dd 0
  const code = hex('b9 a0 0f 00 00 31 c0 01 c8 01 05 05 00 00 00 ff c9 75 f4 f4 00 00 00 00');
  const a = bareCpu(64), b = bareCpu(64);
  a.load(code); b.load(code);
  a.cpu.run(100000);
  b.cpu.run(100000);
  const blockA = a.cpu.host.decodeCache.blocks.page(CODE).blocks[7], blockB = b.cpu.host.decodeCache.blocks.page(CODE).blocks[7];
  assert.ok(blockA?.fn && blockB?.fn && blockA !== blockB);
  assert.equal(blockA.fn, blockB.fn, 'the same source compiled twice is one function');
  assert.notEqual(blockA.k, blockB.k);
  // Its page and instructions: each machine's own objects.
  assert.ok(blockA.k.length > 0 && blockA.k.every((v, k) => v !== blockB.k[k]));
  let eax = 0, data = 0;
  for (let ecx = 4000; ecx > 0; ecx--) { eax = (eax + ecx) | 0; data = (data + eax) | 0; }
  for (const m of [a, b]) {
    assert.equal(m.cpu.activity, 'hlt');
    assert.equal(m.cpu.gpr[0], eax);
    assert.deepEqual([...m.peek(CODE + 20, 4)], [data & 255, (data >>> 8) & 255, (data >>> 16) & 255, data >>> 24]);
  }
  // Rewriting the code in one machine kills its block, not the other machine's.
  b.poke(CODE + 7, [0x29]); // add eax, ecx -> sub eax, ecx
  assert.ok(blockB.dead && !blockA.dead);
  a.cpu.rip = CODE; a.cpu.activity = 'active'; a.cpu.run(100000);
  assert.equal(a.cpu.gpr[0], eax);
});

test('STI; HLT compiles into one block: the HLT runs in the shadow, and an interrupt that wakes it returns after the HLT', () => {
  // loop: cli; inc eax; sti; hlt; jmp loop. Each pass halts; the test wakes the vCPU, and on
  // pass 700 wakes it with an interrupt (vector 0x30, whose handler is a HLT).
  const code = hex('fa 40 fb f4 eb fa');
  const run = (jitOn: boolean) => {
    const { b, raise } = withLine(32, jitOn, code);
    const halts: number[] = [];
    for (let k = 0; k < 1000 && b.cpu.rip !== HANDLERS + 16 * 0x30 + 1; k++) {
      b.cpu.run(100);
      halts.push(b.cpu.instret);
      if (k === 700) raise();
      b.cpu.wake();
    }
    return { b, halts };
  };
  const interp = run(false), jit = run(true);
  assert.deepEqual(jit.halts, interp.halts);
  // Passes 0..700 halt at the HLT (4 instructions each, then the JMP); the interrupt then runs its handler's HLT.
  assert.equal(jit.halts[0], 4);
  assert.equal(jit.halts[700], 4 + 700 * 5);
  assert.equal(jit.b.cpu.rip, HANDLERS + 16 * 0x30 + 1);
  assert.equal(jit.b.cpu.gpr[0], 701);
  const frame = jit.b.peek(jit.b.cpu.gpr[4], 4);
  assert.equal(frame[0] | (frame[1] << 8) | (frame[2] << 16), CODE + 4, 'EIP after the HLT');
  const blk = jit.b.cpu.host.decodeCache.blocks.page(CODE).blocks[0];
  assert.equal(blk?.n, 4, 'cli; inc; sti; hlt in one block');
  sameState(interp.b, jit.b);
});

test('a trace follows the IRETQ of an interrupt handler back into the idle loop it always returns to, and leaves where it returns elsewhere', () => {
  // Idle loop at CODE: sti; hlt; cli; inc rax; jmp CODE. Vector 0x30: inc rbx; iretq.
  // Another idle loop at CODE + 0x100: sti; hlt; cli; inc rcx; jmp CODE + 0x100.
  const idle = hex('fb f4 fa 48 ff c0 eb f8');
  const other = hex('fb f4 fa 48 ff c1 eb f8');
  const HANDLER = HANDLERS + 16 * 0x30;
  const run = (jitOn: boolean) => {
    const { b, raise } = withLine(64, jitOn, idle);
    b.poke(CODE + 0x100, other);
    b.poke(HANDLER, hex('48 ff c3 48 cf'));
    const halts: string[] = [];
    for (let k = 0; k < 2000; k++) {
      // From interrupt 1500 on, the vCPU idles in the other loop: the IRETQ returns there.
      if (k === 1500) { b.cpu.rip = CODE + 0x100; b.cpu.activity = 'active'; }
      b.cpu.run(1000);
      halts.push(`${b.cpu.instret}@${b.cpu.rip.toString(16)}`);
      // Interrupt 1700 is pending again when its handler's IRETQ sets IF: delivered at once,
      // before the trace that follows the IRETQ runs any of the idle loop.
      raise(k === 1700 ? 2 : 1);
      b.cpu.wake();
    }
    return { b, halts };
  };
  const interp = run(false), jit = run(true);
  assert.deepEqual(jit.halts, interp.halts);
  assert.ok(jit.b.cpu.gpr[3] >= 1990, `the handler ran ${jit.b.cpu.gpr[3]} times`);
  assert.ok(jit.b.cpu.gpr[0] > 1400 && jit.b.cpu.gpr[1] > 400, 'both loops ran');
  // The handler's trace: inc, iretq, then cli; inc rax; jmp; sti; hlt of the loop it returned to.
  const blk = jit.b.cpu.host.decodeCache.blocks.page(HANDLER - (HANDLER % 4096)).blocks[HANDLER % 4096];
  assert.ok(blk?.fn);
  assert.ok(blk.n >= 7, `the handler's trace has ${blk.n} instructions`);
  sameState(interp.b, jit.b);
});

test('a trace follows a JMP through a register to where it always went, and leaves where it goes elsewhere', () => {
  // loop (CODE): inc rax; jmp rdx. At CODE + 0x40: inc rbx; dec ecx; jnz loop; hlt.
  // At CODE + 0x80: inc rsi; dec ecx; jnz loop; hlt. RDX switches between them mid-run.
  const code = new Array<number>(0xa0).fill(0x90);
  code.splice(0, 5, ...hex('48 ff c0 ff e2'));
  code.splice(0x40, 12, ...hex('48 ff c3 ff c9 0f 85 b5 ff ff ff f4'));
  code.splice(0x80, 12, ...hex('48 ff c6 ff c9 0f 85 75 ff ff ff f4'));
  const run = (jitOn: boolean) => {
    const b = bareCpu(64);
    b.cpu.host.decodeCache.blocks.enabled = jitOn;
    b.load(code);
    b.cpu.gpr[1] = 3000;
    b.cpu.gpr[2] = CODE + 0x40;
    b.cpu.run(6000);
    const mid = b.cpu.host.decodeCache.blocks.page(CODE).live.filter((x) => x.follows.includes(CODE + 0x40)).length;
    b.cpu.gpr[2] = CODE + 0x80;
    b.cpu.run(100_000);
    return { b, mid };
  };
  const interp = run(false), jit = run(true);
  assert.equal(jit.b.cpu.activity, 'hlt');
  assert.equal(jit.b.cpu.gpr[0], 3000);
  assert.equal(jit.b.cpu.gpr[3] + jit.b.cpu.gpr[6], 3000);
  assert.ok(jit.b.cpu.gpr[6] > 1000, 'the second target ran');
  assert.ok(jit.mid > 0, 'a trace followed the JMP');
  sameState(interp.b, jit.b);
});
