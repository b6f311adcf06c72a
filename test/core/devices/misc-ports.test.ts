import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PostPort, SystemControlPortA, SystemControlPortB, REFRESH_PERIOD_TICKS } from '../../../core/devices/misc-ports';
import { Pit } from '../../../core/devices/pit';
import { FakeClock, IrqRecorder } from './helpers';

test('port 0x80 accepts writes and reads 0xFF', () => {
  const p = new PostPort();
  p.portWrite(0x80, 1, 0x55);
  assert.equal(p.lastCode, 0x55);
  assert.equal(p.portRead(0x80, 1), 0xff);
});

test('port 0x92 reads back as written and resets on a rising bit 0', () => {
  let resets = 0;
  const p = new SystemControlPortA(() => resets++);
  assert.equal(p.portRead(0x92, 1), 0x02, 'A20 enabled by SeaBIOS');
  p.portWrite(0x92, 1, 0xfe);
  assert.equal(p.portRead(0x92, 1), 0xfe);
  assert.equal(resets, 0);
  p.portWrite(0x92, 1, 0x00);
  assert.equal(p.a20(), false, 'the bit is reflected (A20 itself stays on)');
  p.portWrite(0x92, 1, 0x03);
  assert.equal(resets, 1);
  p.portWrite(0x92, 1, 0x03);
  assert.equal(resets, 1, 'only the 0 -> 1 transition resets');
});

test('port 0x61: gate and speaker bits, OUT2, refresh toggling with virtual time', () => {
  const clock = new FakeClock();
  const pit = new Pit(new IrqRecorder(), clock);
  const p = new SystemControlPortB(pit, clock);
  // Channel 2 is in mode 3 with its gate low: OUT2 is held high (82C54 datasheet).
  assert.equal(p.portRead(0x61, 1), 0x20);
  p.portWrite(0x61, 1, 0xff);
  assert.equal(p.portRead(0x61, 1) & 0x0f, 0x03, 'only bits 0-1 are kept');
  p.portWrite(0x61, 1, 0x01);
  // Channel 2, mode 0, count 16: OUT2 low, then high 16 clocks after the load.
  pit.portWrite(0x43, 1, 0xb0);
  pit.portWrite(0x42, 1, 16);
  pit.portWrite(0x42, 1, 0);
  assert.equal(p.portRead(0x61, 1) & 0x20, 0);
  clock.ns = Pit.nsOfTick(Pit.ticksAt(clock.ns) + 17);
  assert.equal(p.portRead(0x61, 1) & 0x20, 0x20);
  // Refresh: bit 4 flips every 18 PIT clocks and not on reads.
  clock.ns = Pit.nsOfTick(REFRESH_PERIOD_TICKS * 10);
  const a = p.portRead(0x61, 1) & 0x10;
  assert.equal(p.portRead(0x61, 1) & 0x10, a);
  clock.ns = Pit.nsOfTick(REFRESH_PERIOD_TICKS * 11);
  assert.notEqual(p.portRead(0x61, 1) & 0x10, a);
});
