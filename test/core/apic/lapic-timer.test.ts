// The LAPIC timer against a hand-driven clock (bus clock 1 GHz: one count per ns / divisor):
// one-shot, periodic, TSC-deadline, divide configuration, masking and mode changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as R from '../../../core/apic/registers';
import { LocalApic } from '../../../core/apic/lapic';
import { FakeClock, rig, vectors } from './helpers';

const ONE_SHOT = 0x00000, PERIODIC = 0x20000, DEADLINE = 0x40000;

/** Runs the timer the way the scheduler does; each delivered vector is taken and EOI'd. Returns the times of delivery. */
function run(apic: LocalApic, clock: FakeClock, untilNs: number): number[] {
  const taken: number[] = [];
  for (let guard = 0; guard < 100_000; guard++) {
    const d = apic.nextDeadlineNs();
    if (d > untilNs) break;
    clock.ns = Math.max(clock.ns, d);
    apic.fire(clock.ns);
    if (apic.acknowledge() >= 0) { taken.push(clock.ns); apic.eoi(); }
  }
  clock.ns = untilNs;
  return taken;
}

function timer(lvt: number, dcr = 0xb) {
  const r = rig();
  r.wr(R.APIC_TIMER_DCR, dcr);
  r.wr(R.APIC_LVT_TIMER, lvt);
  return r;
}

test('divide configuration: the eight encodings', () => {
  const rows: [number, number][] = [[0x0, 2], [0x1, 4], [0x2, 8], [0x3, 16], [0x8, 32], [0x9, 64], [0xa, 128], [0xb, 1]];
  for (const [dcr, div] of rows) {
    assert.equal(R.timerDivisor(dcr), div);
    const { apic, clock, wr, rd } = timer(0x30, dcr);
    wr(R.APIC_TIMER_ICR, 1000);
    assert.equal(apic.nextDeadlineNs(), 1000 * div);
    clock.ns = 10 * div + div - 1;
    assert.equal(rd(R.APIC_TIMER_CCR), 990, `DCR 0x${dcr.toString(16)}`);
  }
});

test('one-shot: counts down once, interrupts at zero, then stays at zero', () => {
  const { apic, clock, wr, rd, log } = timer(ONE_SHOT | 0x30);
  clock.ns = 100;
  wr(R.APIC_TIMER_ICR, 1000);
  assert.equal(rd(R.APIC_TIMER_CCR), 1000);
  assert.equal(rd(R.APIC_TIMER_ICR), 1000);
  clock.ns = 350;
  assert.equal(rd(R.APIC_TIMER_CCR), 750);
  assert.deepEqual(run(apic, clock, 10_000), [1100]);
  assert.equal(rd(R.APIC_TIMER_CCR), 0);
  assert.equal(rd(R.APIC_TIMER_ICR), 1000, 'the initial count register keeps its value');
  assert.equal(apic.nextDeadlineNs(), Infinity);
  assert.deepEqual(log.of('apic.timer'), [{ mode: 'one-shot', vector: 0x30, masked: false }]);
  assert.equal(log.of('ipi.accept')[0].source, 'timer');
});

test('periodic: reloads from the initial count and interrupts every period', () => {
  const { apic, clock, wr, rd } = timer(PERIODIC | 0x31, 0x0); // divide by 2
  wr(R.APIC_TIMER_ICR, 100);
  clock.ns = 150;
  assert.equal(rd(R.APIC_TIMER_CCR), 25);
  assert.deepEqual(run(apic, clock, 1000), [200, 400, 600, 800, 1000]);
  clock.ns = 1001;
  assert.equal(rd(R.APIC_TIMER_CCR), 100, 'reloaded at the expiry');
  clock.ns = 1199;
  assert.equal(rd(R.APIC_TIMER_CCR), 1);
});

test('periodic: a coarse time step collapses the missed periods into one interrupt', () => {
  const { apic, clock, wr } = timer(PERIODIC | 0x32);
  wr(R.APIC_TIMER_ICR, 100);
  clock.ns = 1050;
  apic.fire(clock.ns);
  assert.deepEqual(vectors(apic.irr), [0x32]);
  assert.equal(apic.nextDeadlineNs(), 1100);
});

test('writing 0 to the initial count stops the timer; a new count restarts it', () => {
  const { apic, clock, wr, rd } = timer(PERIODIC | 0x33);
  wr(R.APIC_TIMER_ICR, 100);
  clock.ns = 50;
  wr(R.APIC_TIMER_ICR, 0);
  assert.equal(rd(R.APIC_TIMER_CCR), 0);
  assert.equal(apic.nextDeadlineNs(), Infinity);
  clock.ns = 500;
  wr(R.APIC_TIMER_ICR, 1000);
  assert.equal(apic.nextDeadlineNs(), 1500);
  clock.ns = 900;
  wr(R.APIC_TIMER_ICR, 1000);
  assert.equal(apic.nextDeadlineNs(), 1900, 'rewriting restarts the count');
});

test('masked: the count runs, expiries raise nothing, unmasking resumes at the next period', () => {
  const { apic, clock, wr, rd, log } = timer(PERIODIC | R.LVT_MASKED | 0x34);
  wr(R.APIC_TIMER_ICR, 100);
  assert.equal(apic.nextDeadlineNs(), Infinity, 'no wake-ups needed while masked');
  clock.ns = 250;
  assert.equal(rd(R.APIC_TIMER_CCR), 50);
  wr(R.APIC_LVT_TIMER, PERIODIC | 0x34);
  assert.deepEqual(vectors(apic.irr), [], 'the masked expiries are lost');
  assert.equal(apic.nextDeadlineNs(), 300);
  assert.deepEqual(run(apic, clock, 400), [300, 400]);
  assert.ok(log.of('apic.timer').some((e) => e.masked), 'masked expiries are reported');
});

test('software-disabled: the timer counts but its LVT is masked', () => {
  const { apic, clock, wr } = timer(ONE_SHOT | 0x35);
  wr(R.APIC_SVR, 0xff);
  wr(R.APIC_TIMER_ICR, 100);
  clock.ns = 200;
  apic.fire(200);
  assert.deepEqual(vectors(apic.irr), []);
  assert.equal(apic.timerCurrentCount(), 0);
});

test('a divide change keeps the current count and counts on at the new rate', () => {
  const { apic, clock, wr, rd } = timer(ONE_SHOT | 0x36);
  wr(R.APIC_TIMER_ICR, 1000);
  clock.ns = 400;
  wr(R.APIC_TIMER_DCR, 0x0); // divide by 2
  assert.equal(rd(R.APIC_TIMER_CCR), 600);
  clock.ns = 600;
  assert.equal(rd(R.APIC_TIMER_CCR), 500);
  assert.equal(apic.nextDeadlineNs(), 400 + 600 * 2);
});

test('a timer mode change disarms the timer (SDM "TSC-Deadline Mode")', () => {
  const { apic, clock, wr, rd } = timer(ONE_SHOT | 0x37);
  wr(R.APIC_TIMER_ICR, 1000);
  clock.ns = 100;
  wr(R.APIC_LVT_TIMER, PERIODIC | 0x37);
  assert.equal(rd(R.APIC_TIMER_CCR), 0);
  assert.equal(apic.nextDeadlineNs(), Infinity);
  wr(R.APIC_LVT_TIMER, PERIODIC | 0x38);
  wr(R.APIC_TIMER_ICR, 10);
  wr(R.APIC_LVT_TIMER, PERIODIC | R.LVT_MASKED | 0x38);
  assert.equal(rd(R.APIC_TIMER_CCR), 10, 'changing other fields does not disarm');
});

test('TSC-deadline: arms on a non-zero deadline, interrupts at it and clears itself', () => {
  const { apic, clock, wr, rd, log } = timer(DEADLINE | 0x40);
  wr(R.APIC_TIMER_ICR, 1234);
  assert.equal(rd(R.APIC_TIMER_ICR), 0, 'initial-count writes are ignored');
  assert.equal(rd(R.APIC_TIMER_CCR), 0);
  apic.writeTscDeadline(5000);
  assert.equal(apic.readTscDeadline(), 5000);
  assert.equal(apic.nextDeadlineNs(), 5000);
  clock.ns = 4999;
  apic.fire(4999);
  assert.deepEqual(vectors(apic.irr), []);
  assert.deepEqual(run(apic, clock, 10_000), [5000]);
  assert.equal(apic.readTscDeadline(), 0);
  assert.equal(apic.nextDeadlineNs(), Infinity);
  apic.writeTscDeadline(20_000);
  apic.writeTscDeadline(0);
  assert.equal(apic.nextDeadlineNs(), Infinity, '0 disarms');
  apic.writeTscDeadline(3000);
  assert.equal(apic.nextDeadlineNs(), 3000, 'a deadline in the past fires at once');
  assert.deepEqual(run(apic, clock, 10_000), [10_000]);
  assert.equal(log.of('apic.timer').at(-1)!.mode, 'tsc-deadline');
});

test('TSC-deadline: masked still clears the deadline; other modes ignore the MSR; leaving the mode disarms', () => {
  const { apic, clock, wr } = timer(DEADLINE | R.LVT_MASKED | 0x41);
  apic.writeTscDeadline(100);
  assert.equal(apic.nextDeadlineNs(), 100);
  clock.ns = 100;
  apic.fire(100);
  assert.equal(apic.readTscDeadline(), 0);
  assert.deepEqual(vectors(apic.irr), []);
  wr(R.APIC_LVT_TIMER, DEADLINE | 0x41);
  apic.writeTscDeadline(500);
  wr(R.APIC_LVT_TIMER, ONE_SHOT | 0x41);
  assert.equal(apic.readTscDeadline(), 0);
  assert.equal(apic.nextDeadlineNs(), Infinity);
  apic.writeTscDeadline(700);
  assert.equal(apic.readTscDeadline(), 0, 'ignored outside TSC-deadline mode');
  wr(R.APIC_LVT_TIMER, DEADLINE | 0x41);
  assert.equal(apic.readTscDeadline(), 0);
});

test('the timer through x2APIC MSRs', () => {
  const { apic, clock } = rig();
  apic.writeApicBase(0xfee00c00, 0);
  assert.equal(apic.writeMsr(0x83e, 0xb, 0), 'ok');
  assert.equal(apic.writeMsr(0x832, 0x20050, 0), 'ok');
  assert.equal(apic.writeMsr(0x838, 300, 0), 'ok');
  clock.ns = 100;
  assert.deepEqual(apic.readMsr(0x839), [200, 0]);
  assert.deepEqual(run(apic, clock, 900), [300, 600, 900]);
});
