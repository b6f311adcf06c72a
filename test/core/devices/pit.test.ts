import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pit, PIT_HZ } from '../../../core/devices/pit';
import { FakeClock, IrqRecorder, runUntil } from './helpers';

function make() {
  const clock = new FakeClock();
  const irq = new IrqRecorder();
  const pit = new Pit(irq, clock);
  const at = (tick: number) => { clock.ns = Pit.nsOfTick(tick); };
  const out = (port: number, v: number) => pit.portWrite(port, 1, v);
  const inb = (port: number) => pit.portRead(port, 1);
  const status = (ch: number) => { out(0x43, 0xe0 | (2 << ch)); return inb(0x40 + ch); };
  const latch = (ch: number) => { out(0x43, ch << 6); return inb(0x40 + ch) | (inb(0x40 + ch) << 8); };
  return { clock, irq, pit, at, out, inb, status, latch };
}

test('tick arithmetic is exact: ticksAt(nsOfTick(t)) = t', () => {
  for (const t of [0, 1, 17, PIT_HZ - 1, PIT_HZ, 123456789, 2 ** 40 + 3]) {
    assert.equal(Pit.ticksAt(Pit.nsOfTick(t)), t);
    if (t > 0) assert.equal(Pit.ticksAt(Pit.nsOfTick(t) - 1), t - 1, 'nsOfTick is the first ns of the tick');
  }
  assert.equal(Pit.ticksAt(1e9), PIT_HZ);
});

test('initial state as SeaBIOS leaves it: channel 0 mode 2 lo/hi count 65536', () => {
  const { status, latch, at } = make();
  assert.equal(status(0), 0x34 | 0x80, 'OUT high (mode 2), lo/hi, mode 2, binary');
  assert.equal(status(1), 0x06 | 0x80, 'mode 3, access mode 0 as QEMU reports');
  assert.equal(status(2), 0x06 | 0x80, 'mode 3, gate low: OUT held high');
  at(1000);
  assert.equal(latch(0), 0x10000 - 1000);
});

test('IRQ 0 at 18.2 Hz from channel 0 mode 2, one rising edge per period', () => {
  const { pit, clock, irq } = make();
  assert.equal(pit.nextDeadlineNs(), Pit.nsOfTick(65535), 'OUT falls one clock before the reload');
  runUntil(pit, clock, Pit.nsOfTick(65536 * 5) + 1);
  assert.equal(irq.risingEdges(0), 5);
  assert.equal(irq.level(0), true);
});

test('a coarse time step still delivers the rising edge', () => {
  const { pit, irq } = make();
  pit.fire(Pit.nsOfTick(65536 * 3 + 10));
  assert.equal(irq.risingEdges(0), 1);
  assert.equal(irq.level(0), true);
});

test('mode 0 on channel 0: OUT low after the write, high at terminal count, no repeat', () => {
  const { out, pit, clock, irq, at, latch, status } = make();
  at(100);
  out(0x43, 0x30); // ch0, lo/hi, mode 0
  assert.equal(irq.level(0), false);
  out(0x40, 100);
  out(0x40, 0);
  assert.equal(status(0) & 0xc0, 0x40, 'OUT low, NULL COUNT until the load');
  at(101);
  assert.equal(status(0) & 0xc0, 0x00);
  at(150);
  assert.equal(latch(0), 51);
  assert.equal(pit.nextDeadlineNs(), Pit.nsOfTick(201));
  runUntil(pit, clock, Pit.nsOfTick(10000));
  assert.equal(irq.risingEdges(0), 1);
  assert.equal(irq.level(0), true);
  at(201 + 10);
  assert.equal(latch(0), 0x10000 - 10, 'the counter wraps and keeps counting');
  assert.equal(pit.nextDeadlineNs(), Infinity);
});

test('lo/hi write in mode 0: the first byte stops counting', () => {
  const { out, at, latch, status } = make();
  out(0x43, 0x30);
  out(0x40, 0x10);
  out(0x40, 0x00);
  at(5);
  out(0x40, 0x20); // first byte of a new count
  at(50);
  assert.equal(status(0) & 0x80, 0, 'OUT low');
  assert.equal(latch(0), 0x10 - 4, 'CE frozen at the value when the first byte came');
  out(0x40, 0x00);
  at(52);
  assert.equal(latch(0), 0x20 - 1);
});

test('mode 3 square wave: high for ceil(N/2), low for floor(N/2)', () => {
  const { pit, out, at, status } = make();
  at(0);
  out(0x43, 0x36); // ch0 lo/hi mode 3
  out(0x40, 11);
  out(0x40, 0);
  const levels: number[] = [];
  for (let t = 1; t < 1 + 22; t++) { at(t); levels.push(status(0) >> 7); }
  assert.deepEqual(levels, [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
  at(1);
  assert.equal(pit.nextTransition(0, 1), 7);
});

test('mode 2: a new count takes effect at the next reload', () => {
  const { out, at, latch } = make();
  out(0x43, 0x34);
  out(0x40, 100);
  out(0x40, 0);
  at(31);
  assert.equal(latch(0), 70);
  out(0x40, 10);
  out(0x40, 0);
  at(100);
  assert.equal(latch(0), 1);
  at(101);
  assert.equal(latch(0), 10, 'reloaded with the new count');
  at(111);
  assert.equal(latch(0), 10);
});

test('mode 4 strobe: OUT low for exactly one clock', () => {
  const { out, at, status } = make();
  out(0x43, 0x38);
  out(0x40, 5);
  out(0x40, 0);
  const levels: number[] = [];
  for (let t = 0; t < 9; t++) { at(t); levels.push(status(0) >> 7); }
  assert.deepEqual(levels, [1, 1, 1, 1, 1, 1, 0, 1, 1]);
});

test('channel 2 gate: mode 0 pauses, mode 1 triggers, mode 2 restarts', () => {
  const { pit, out, at, latch, status } = make();
  pit.setGate(2, true);
  out(0x43, 0xb0); // ch2 mode 0
  out(0x42, 100);
  out(0x42, 0);
  at(11);
  assert.equal(latch(2), 90);
  pit.setGate(2, false);
  at(500);
  assert.equal(latch(2), 90, 'paused while the gate is low');
  pit.setGate(2, true);
  at(510);
  assert.equal(latch(2), 80);

  out(0x43, 0xb2); // ch2 mode 1
  out(0x42, 50);
  out(0x42, 0);
  assert.equal(status(2) & 0xc0, 0xc0, 'OUT high, NULL COUNT until triggered');
  pit.setGate(2, false);
  pit.setGate(2, true);
  at(512);
  assert.equal(status(2) & 0xc0, 0x00, 'triggered: OUT low, count loaded');
  at(561);
  assert.equal(status(2) >> 7, 1, 'one-shot over');

  out(0x43, 0xb4); // ch2 mode 2
  out(0x42, 20);
  out(0x42, 0);
  at(570);
  pit.setGate(2, false);
  assert.equal(status(2) >> 7, 1);
  at(600);
  pit.setGate(2, true);
  at(601);
  assert.equal(latch(2), 20, 'reloaded on the gate rising edge');
});

test('counter latch holds the value until read; read-back latches status then count', () => {
  const { out, inb, at } = make();
  at(1000);
  out(0x43, 0x00);
  at(2000);
  assert.equal(inb(0x40) | (inb(0x40) << 8), 0x10000 - 1000);
  out(0x43, 0xc2); // latch count and status of channel 0
  out(0x43, 0xc2); // a second latch before reading changes nothing
  at(3000);
  assert.equal(inb(0x40), 0xb4);
  assert.equal(inb(0x40) | (inb(0x40) << 8), 0x10000 - 2000);
  assert.equal(inb(0x43), 0, 'the control port reads 0, as QEMU');
});

test('BCD counting and the BCD status bit', () => {
  const { out, at, latch, status } = make();
  out(0x43, 0x71); // ch1 lo/hi mode 0 BCD
  assert.equal(status(1), 0x31, 'as QEMU reports after the same control word');
  out(0x41, 0x00);
  out(0x41, 0x10); // 1000 decimal
  at(1 + 25);
  assert.equal(latch(1), 0x0975);
});

test('lo-only and hi-only access modes', () => {
  const { out, inb, at } = make();
  out(0x43, 0x90); // ch2 lo only mode 0
  out(0x42, 0x40);
  at(1);
  assert.equal(inb(0x42), 0x40);
  out(0x43, 0xa0); // ch2 hi only mode 0
  out(0x42, 0x02);
  at(3);
  assert.equal(inb(0x42), 0x02, 'reads the high byte of 0x0200');
});
