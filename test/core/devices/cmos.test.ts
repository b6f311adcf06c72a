import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cmos, UIP_HOLD_NS } from '../../../core/devices/cmos';
import { FakeClock, IrqRecorder, runUntil } from './helpers';

const MiB = 1024 * 1024;
function make(opts: { vcpus?: number; ramBytes?: number; epochMs?: number } = {}) {
  const clock = new FakeClock();
  const irq = new IrqRecorder();
  const cmos = new Cmos({ irqLines: irq, clock, vcpus: opts.vcpus ?? 1, ramBytes: opts.ramBytes ?? 128 * MiB, epochMs: opts.epochMs });
  const rd = (i: number) => { cmos.portWrite(0x70, 1, i); return cmos.portRead(0x71, 1); };
  const wr = (i: number, v: number) => { cmos.portWrite(0x70, 1, i); cmos.portWrite(0x71, 1, v); };
  return { clock, irq, cmos, rd, wr };
}

test('memory and configuration bytes match QEMU 7.2 + SeaBIOS', () => {
  // probe.c dumps: -m 128 -smp 1, -m 32 -smp 4, -m 2048 -smp 2, -m 3072 -smp 8
  const cases: [number, number, number[]][] = [
    [128, 1, [0xff, 0xff, 0xff, 0xff, 0x00, 0x07, 0]],
    [32, 4, [0x00, 0x7c, 0x00, 0x7c, 0x00, 0x01, 3]],
    [2048, 2, [0xff, 0xff, 0xff, 0xff, 0x00, 0x7f, 1]],
    [3072, 8, [0xff, 0xff, 0xff, 0xff, 0x00, 0xbf, 7]],
  ];
  for (const [mib, vcpus, want] of cases) {
    const { rd } = make({ ramBytes: mib * MiB, vcpus });
    assert.deepEqual([0x17, 0x18, 0x30, 0x31, 0x34, 0x35, 0x5f].map(rd), want, `-m ${mib} -smp ${vcpus}`);
    assert.deepEqual([0x15, 0x16, 0x14, 0x10, 0x12, 0x37, 0x38, 0x3d].map(rd), [0x80, 0x02, 0x06, 0, 0, 0x20, 0x30, 0x12]);
    assert.deepEqual([0x5b, 0x5c, 0x5d].map(rd), [0, 0, 0]);
    assert.deepEqual([0x0a, 0x0b, 0x0c, 0x0d].map(rd), [0x26, 0x02, 0x00, 0x80]);
  }
  assert.equal(make({ vcpus: 1024 }).rd(0x5f), 0xff, 'truncated to a byte');
});

test('index port: write-only (reads 0xFF), bit 7 is the NMI disable', () => {
  const { cmos, rd } = make();
  cmos.portWrite(0x70, 1, 0x8f);
  assert.equal(cmos.nmiDisabled, true);
  assert.equal(cmos.portRead(0x70, 1), 0xff);
  assert.equal(cmos.portRead(0x71, 1), 0x00, 'index 0x0F');
  rd(0x0f);
  assert.equal(cmos.nmiDisabled, false);
  rd(0x50);
  cmos.portWrite(0x71, 1, 0x42);
  assert.equal(rd(0x50), 0x42, 'CMOS RAM is read/write');
});

test('the clock starts at the epoch and advances with virtual time only', () => {
  const { rd, clock } = make();
  assert.deepEqual([0, 2, 4, 6, 7, 8, 9, 0x32].map(rd), [0x00, 0x00, 0x00, 0x05, 0x01, 0x01, 0x26, 0x20], '2026-01-01 00:00:00, Thursday');
  clock.ns = (86400 + 3600 * 13 + 60 * 59 + 58) * 1e9 + 999;
  assert.deepEqual([0, 2, 4, 6, 7, 8, 9].map(rd), [0x58, 0x59, 0x13, 0x06, 0x02, 0x01, 0x26]);
});

test('binary and 12-hour modes re-encode the time registers', () => {
  const { rd, wr, clock } = make({ epochMs: Date.UTC(1999, 11, 31, 23, 59, 30) });
  assert.deepEqual([9, 0x32, 4].map(rd), [0x99, 0x19, 0x23]);
  wr(0x0b, 0x06);
  assert.equal(rd(4), 23, 'binary 24-hour');
  wr(0x0b, 0x00);
  assert.equal(rd(4), 0x91, 'BCD 12-hour: 11 PM');
  clock.ns = 31e9;
  assert.deepEqual([0, 4, 7, 8, 9, 0x32].map(rd), [0x01, 0x12, 0x01, 0x01, 0x00, 0x20], 'midnight, 2000-01-01: 12 AM');
});

test('setting the time with SET, and writes while running', () => {
  const { rd, wr, clock, cmos } = make();
  wr(0x0b, 0x82); // SET, 24h, BCD
  wr(0, 0x30); wr(2, 0x15); wr(4, 0x10); wr(7, 0x29); wr(8, 0x02); wr(9, 0x28);
  clock.ns = 5e9;
  assert.equal(rd(0), 0x30, 'frozen in SET mode');
  wr(0x0b, 0x02);
  assert.equal(cmos.now().toISOString(), '2028-02-29T10:15:30.000Z');
  clock.ns = 7e9;
  assert.equal(rd(0), 0x32);
  wr(2, 0x45);
  assert.deepEqual([0, 2, 4].map(rd), [0x32, 0x45, 0x10]);
});

test('register A: UIP during the last 244 us of each second; UIP read-only', () => {
  const { rd, wr, clock } = make();
  assert.equal(rd(0x0a) & 0x80, 0);
  clock.ns = 1e9 - UIP_HOLD_NS;
  assert.equal(rd(0x0a) & 0x80, 0x80);
  clock.ns = 1e9;
  assert.equal(rd(0x0a) & 0x80, 0);
  wr(0x0a, 0xff);
  assert.equal(rd(0x0a), 0x7f);
  wr(0x0c, 0xff);
  wr(0x0d, 0x00);
  assert.equal(rd(0x0c) & 0x90, 0x10, 'C ignores writes; UF is latched, no IRQF without enables');
  assert.equal(rd(0x0d), 0x80, 'D ignores writes');
});

test('periodic interrupt on IRQ 8 at the register A rate; C read clears it', () => {
  const { rd, wr, clock, cmos, irq } = make();
  wr(0x0b, 0x42); // PIE
  const period = 1e9 / 1024; // rate 6
  assert.equal(cmos.nextDeadlineNs(), Math.ceil(period));
  runUntil(cmos, clock, 0.5e6);
  assert.equal(irq.level(8), false);
  runUntil(cmos, clock, 1e6);
  assert.equal(irq.level(8), true);
  assert.equal(cmos.nextDeadlineNs(), Infinity, 'the line stays high until C is read');
  assert.equal(rd(0x0c), 0xc0, 'IRQF | PF');
  assert.equal(irq.level(8), false);
  assert.equal(rd(0x0c), 0x00);
  runUntil(cmos, clock, 10e6);
  assert.equal(irq.risingEdges(8), 2);
  wr(0x0a, 0x2f); // rate 15: 2 Hz
  rd(0x0c);
  const next = cmos.nextDeadlineNs();
  assert.equal(next, 0.5e9);
});

test('update-ended and alarm interrupts', () => {
  const { rd, wr, clock, cmos, irq } = make();
  wr(0x0b, 0x12); // UIE
  assert.equal(cmos.nextDeadlineNs(), 1e9);
  runUntil(cmos, clock, 1e9);
  assert.equal(irq.level(8), true);
  assert.equal(rd(0x0c) & 0xb0, 0x90, 'IRQF | UF (PF is latched too: the datasheet sets it without PIE)');
  wr(0x0b, 0x22); // AIE only
  wr(0x01, 0x05); wr(0x03, 0xc0); wr(0x05, 0xc0); // alarm at second 5 of any minute and hour
  runUntil(cmos, clock, 4.5e9);
  assert.equal(irq.level(8), false);
  runUntil(cmos, clock, 5e9);
  assert.equal(irq.level(8), true);
  assert.equal(rd(0x0c) & 0xb0, 0xb0, 'IRQF | AF | UF');
});

test('PF is latched even with PIE off (datasheet), and raises IRQ 8 once PIE is set', () => {
  const { rd, wr, clock, irq } = make();
  clock.ns = 2e6;
  wr(0x0b, 0x42);
  assert.equal(irq.level(8), true);
  assert.equal(rd(0x0c) & 0xc0, 0xc0);
});
