// Traces (core/cpu/jit/cache.ts): 64-bit blocks that follow calls into other pages, the
// returns to them, jumps, biased conditional branches and code running on into the next
// page. They change nothing observable: each scenario runs interpreted and compiled and
// ends in the same state, including when the way a trace was built stops being the way
// execution goes (a return address changed, a branch going the other way, the other
// page's bytes rewritten or its translation changed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bareCpu, Bare, CODE } from '../bare-cpu';
import { both as bothModes, snapshot } from './helpers';

const hex = (s: string) => s.trim().split(/\s+/).map((b) => parseInt(b, 16));
/** A function in another page than CODE (0x10000). */
const FN = 0x12000;

/** helpers.ts both() in 64-bit mode with `fn` at FN. */
function both(code: number[], fn: number[], budget: number, prepare: (b: Bare) => void = () => {}): { interp: Bare; jit: Bare } {
  return bothModes(64, code, (b) => { b.poke(FN, fn); prepare(b); }, budget);
}

function sameState(a: Bare, b: Bare): void {
  assert.deepEqual(snapshot(b), snapshot(a));
  assert.equal(b.cpu.activity, a.cpu.activity);
  assert.deepEqual(b.peek(0x7ff00, 0x100), a.peek(0x7ff00, 0x100), 'stacks differ');
  assert.ok(b.cpu.host.decodeCache.blocks.traces > 0, 'no trace was compiled: the test proves nothing');
}

// mov ecx, 20000; loop: call FN; add rbx, rax; dec ecx; jnz loop; hlt
const LOOP = hex('b9 20 4e 00 00 e8 f6 1f 00 00 48 01 c3 ff c9 75 f4 f4');

test('a trace through a call into another page and its return runs as the interpreter', () => {
  // FN: mov rax, rcx; imul eax, eax, 3; ret
  const { interp, jit } = both(LOOP, hex('48 89 c8 6b c0 03 c3'), 1_000_000);
  assert.equal(jit.cpu.activity, 'hlt');
  assert.equal(jit.cpu.gpr[3], 3 * (20000 * 20001) / 2);
  sameState(interp, jit);
});

test('a return address changed by the callee leaves the trace where the interpreter goes', () => {
  // FN: mov rax, rcx; add qword [rsp], 3; ret (skips the ADD after the call)
  const { interp, jit } = both(LOOP, hex('48 89 c8 48 83 04 24 03 c3'), 1_000_000);
  assert.equal(jit.cpu.activity, 'hlt');
  assert.equal(jit.cpu.gpr[3], 0, 'the ADD after the call never ran');
  sameState(interp, jit);
});

test('a biased branch that later goes the other way leaves the trace by its side exit', () => {
  // FN: cmp ecx, 5000; jb low; mov eax, 1; ret; low: mov eax, 2; ret
  const fn = hex('81 f9 88 13 00 00 72 06 b8 01 00 00 00 c3 b8 02 00 00 00 c3');
  const { interp, jit } = both(LOOP, fn, 1_000_000);
  assert.equal(jit.cpu.gpr[3], 15001 * 1 + 4999 * 2);
  sameState(interp, jit);
});

test('rewriting the other page of a running trace kills it: the new bytes run', () => {
  // loop: call FN; add rbx, rax; cmp ecx, 10000; jne skip; mov byte [FN+5], 5; skip: dec ecx; jnz loop; hlt
  const code = hex('b9 20 4e 00 00 e8 f6 1f 00 00 48 01 c3 81 f9 10 27 00 00 75 08 c6 04 25 05 20 01 00 05 ff c9 75 e4 f4');
  const { interp, jit } = both(code, hex('48 89 c8 6b c0 03 c3'), 1_000_000);
  let want = 0;
  for (let c = 20000; c >= 1; c--) want += c * (c >= 10000 ? 3 : 5);
  assert.equal(jit.cpu.gpr[3], want | 0);
  assert.ok(jit.cpu.host.decodeCache.blocks.invalidated > 0, 'the patch killed no block');
  sameState(interp, jit);
});

test('a new translation of the other page (PTE write, INVLPG) makes the trace leave at its page check', () => {
  // loop: call FN; add rbx, rax; cmp ecx, 10000; jne skip; mov qword [PT + 8 * 0x12], 0x13003; invlpg [FN]; skip: dec ecx; jnz loop; hlt
  const code = hex('b9 20 4e 00 00 e8 f6 1f 00 00 48 01 c3 81 f9 10 27 00 00 75 14 48 c7 04 25 90 40 00 00 03 30 01 00 0f 01 3c 25 00 20 01 00 ff c9 75 d8 f4');
  // The page FN is remapped to: FN with imul by 7.
  const { interp, jit } = both(code, hex('48 89 c8 6b c0 03 c3'), 1_000_000, (b) => b.poke(0x13000, hex('48 89 c8 6b c0 07 c3')));
  let want = 0;
  for (let c = 20000; c >= 1; c--) want += c * (c >= 10000 ? 3 : 7);
  assert.equal(jit.cpu.gpr[3], want | 0);
  sameState(interp, jit);
});

test('code running on into the next page is one trace, and budgets stay exact', () => {
  // At 0x10ff8: loop: add rbx, rcx; add rbx, 1; nop; (0x11000) dec ecx; jnz loop; hlt
  const at = 0x10ff8;
  const code = hex('48 01 cb 48 83 c3 01 90 ff c9 75 f4 f4');
  const run = (jit: boolean) => {
    const b = bareCpu(64);
    b.cpu.host.decodeCache.blocks.enabled = jit;
    b.load(code, at);
    b.cpu.gpr[1] = 30000;
    for (let k = 0; k < 100; k++) assert.equal(b.cpu.run(997), 997);
    return b;
  };
  const interp = run(false), jit = run(true);
  sameState(interp, jit);
});

test('a RET that has always returned to one place is followed, and leaves the trace the one time it goes elsewhere', () => {
  // mov ecx, 20000; mov edx, FN; loop: cmp ecx, 10000; jne skip; call rdx; add rsi, 1;
  // skip: call rdx; add rbx, rax; dec ecx; jnz loop; hlt. The indirect calls end their
  // traces, so a trace starts at FN and its RET is followed on what it has seen.
  const code = hex('b9 20 4e 00 00 ba 00 20 01 00 81 f9 10 27 00 00 75 06 ff d2 48 83 c6 01 ff d2 48 01 c3 ff c9 75 e9 f4');
  // FN: mov rax, rcx; imul eax, eax, 3; ret
  const { interp, jit } = both(code, hex('48 89 c8 6b c0 03 c3'), 1_000_000);
  assert.equal(jit.cpu.activity, 'hlt');
  assert.equal(jit.cpu.gpr[6], 1, 'the extra call returned to its own call site');
  assert.equal(jit.cpu.gpr[3], 3 * (20000 * 20001) / 2);
  // Returns a trace follows are not noted (Insn.retTarget): the last one noted is the trace's
  // exit on the extra call's return, not one of the 10000 returns to the loop's call after it.
  const ret = jit.cpu.host.decodeCache.page(0x12000)![6]!;
  assert.equal(ret.retTarget, CODE + 20, 'FN\'s RET was not followed into the loop');
  assert.equal(interp.cpu.host.decodeCache.page(0x12000)![6]!.retTarget, CODE + 26);
  sameState(interp, jit);
});

test('a stack in the upper half (RSP[63:32] all ones) pushes, pops, calls and returns as the interpreter does', () => {
  // The bare machine maps 0xffffff80_00000000 to 0: the same stack memory, through the alias.
  const { interp, jit } = both(LOOP, hex('41 50 48 89 c8 6b c0 03 41 58 c3'), 1_000_000, (b) => {
    // FN: push r8; mov rax, rcx; imul eax, eax, 3; pop r8; ret
    const rsp = -(2 ** 39) + b.cpu.gpr[4];
    b.cpu.gpr[4] = rsp | 0;
    b.cpu.gpr[20] = Math.floor(rsp / 2 ** 32);
  });
  assert.equal(jit.cpu.activity, 'hlt');
  assert.equal(jit.cpu.gpr[3], 3 * (20000 * 20001) / 2);
  assert.equal(jit.cpu.gpr[20], -128, 'RSP stayed in the upper half');
  sameState(interp, jit);
});
