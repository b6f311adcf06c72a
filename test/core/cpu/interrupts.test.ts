// 64-bit interrupt delivery and IRETQ at CPL 0 (SDM vol. 3, 6.14 "Exception and Interrupt
// Handling in 64-bit Mode", IRET in vol. 2): the frame, RSP alignment, IF by gate type, the
// accessed bits, and the state IRETQ restores. The first delivery and return find the GDT's
// code and data descriptors not yet accessed and take the general path (which sets the
// bits); later ones take the kernel fast path (interrupts.ts deliverLongKernel/iretqKernel);
// an IST gate and a misaligned stack keep the general path. Every case must end the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bareCpu, Bare, CODE, GDT, HANDLERS, IDT, STACK_TOP } from './bare-cpu';
import type { CpuHost } from '../../../core/cpu/cpu';

const hex = (s: string) => s.trim().split(/\s+/).map((b) => parseInt(b, 16));
const VEC = 0x30;
const HANDLER = HANDLERS + 16 * VEC;

/** A bare 64-bit vCPU running `sti; nop x6; hlt` with `count` interrupts of vector VEC pending; the handler is NOP, IRETQ. */
function setup(count: number): Bare {
  const b = bareCpu(64);
  b.load(hex('fb 90 90 90 90 90 90 f4'));
  b.poke(HANDLER, hex('90 48 cf'));
  let pending = count;
  const host = b.cpu.host as { -readonly [K in keyof CpuHost]: CpuHost[K] };
  host.hasExtInt = () => pending > 0;
  host.ackExtInt = () => { pending--; return VEC; };
  b.cpu.host.decodeCache.blocks.enabled = false;
  return b;
}

function quad(b: Bare, at: number): number {
  const v = b.peek(at, 8);
  let x = 0;
  for (let k = 7; k >= 0; k--) x = x * 256 + v[k];
  return x;
}

/**
 * Runs into the handler (past its NOP: a run of one instruction takes the interrupt and
 * runs the first instruction) and checks the frame an interrupt at `retRip` with RSP
 * `oldRsp` pushes.
 */
function enterHandler(b: Bare, retRip: number, oldRsp: number, ifInHandler: boolean): void {
  assert.ok(b.runTo(HANDLER + 1, 50) < 50, 'the interrupt was not taken');
  const rsp = b.cpu.reg64(4);
  const aligned = oldRsp - (oldRsp % 16);
  assert.equal(rsp, aligned - 40, 'RSP aligned to 16, then five quadwords');
  assert.equal(quad(b, rsp), retRip, 'RIP');
  assert.equal(quad(b, rsp + 8), 0x08, 'CS');
  assert.equal(quad(b, rsp + 16), 0x202, 'RFLAGS');
  assert.equal(quad(b, rsp + 24), oldRsp, 'RSP');
  assert.equal(quad(b, rsp + 32), 0x10, 'SS');
  assert.equal((b.cpu.flags & 0x200) !== 0, ifInHandler, 'IF in the handler');
  assert.equal(b.cpu.segSel[1], 0x08);
  assert.equal(b.peek(GDT + 8 + 5, 1)[0] & 1, 1, 'CS descriptor accessed');
}

function returnFromHandler(b: Bare, retRip: number, oldRsp: number): void {
  b.cpu.run(1); // IRETQ
  assert.equal(b.cpu.rip, retRip);
  assert.equal(b.cpu.reg64(4), oldRsp);
  assert.equal(b.cpu.flags & 0x200, 0x200, 'IF restored');
  assert.equal(b.cpu.segSel[2], 0x10);
  assert.equal(b.peek(GDT + 16 + 5, 1)[0] & 1, 1, 'SS descriptor accessed');
}

test('interrupt gate, then IRETQ: general path first, then the kernel fast path, same results', () => {
  const b = setup(3);
  assert.equal(b.peek(GDT + 8 + 5, 1)[0] & 1, 0, 'the test starts with the CS descriptor not accessed');
  // STI's shadow covers the first NOP: the interrupt comes before the second.
  for (let k = 0; k < 3; k++) {
    enterHandler(b, CODE + 2, STACK_TOP, false);
    returnFromHandler(b, CODE + 2, STACK_TOP);
  }
  b.cpu.run(10);
  assert.equal(b.cpu.activity, 'hlt');
});

test('trap gate keeps IF set in the handler', () => {
  const b = setup(1);
  b.poke(IDT + 16 * VEC + 5, [0x8f]);
  enterHandler(b, CODE + 2, STACK_TOP, true);
  returnFromHandler(b, CODE + 2, STACK_TOP);
});

test('a misaligned RSP is aligned down before the frame, and IRETQ gives it back', () => {
  const b = setup(2);
  b.cpu.gpr[4] = STACK_TOP - 8;
  for (let k = 0; k < 2; k++) {
    enterHandler(b, CODE + 2, STACK_TOP - 8, false);
    returnFromHandler(b, CODE + 2, STACK_TOP - 8);
  }
});

test('an IST gate switches to the TSS stack (general path)', () => {
  const b = setup(2);
  const IST1 = 0x60000;
  b.poke(IDT + 16 * VEC + 4, [1]); // IST 1
  b.poke(0x30000 + 0x24, [0x00, 0x00, 0x06, 0, 0, 0, 0, 0]); // TSS.IST1 = 0x60000
  for (let k = 0; k < 2; k++) {
    assert.ok(b.runTo(HANDLER + 1, 50) < 50);
    assert.equal(b.cpu.reg64(4), IST1 - 40);
    assert.equal(quad(b, IST1 - 16), STACK_TOP, 'old RSP in the frame');
    returnFromHandler(b, CODE + 2, STACK_TOP);
  }
});
