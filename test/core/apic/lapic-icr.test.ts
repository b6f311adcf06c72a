// The ICR: the SDM's table of valid combinations row by row, decoding, illegal
// vectors, the delivery-status bit and INIT level de-assert.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as R from '../../../core/apic/registers';
import { decodeIcr } from '../../../core/apic/icr';
import { rig, rigs, vectors } from './helpers';

const SH = { none: 0, self: 1, all: 2, 'all-but-self': 3 } as const;
const MODE_NAMES = ['fixed', 'lowest', 'smi', 'reserved3', 'nmi', 'init', 'startup', 'extint'];
const ALL = [0, 1, 2, 4, 5, 6];
type Verdict = 'valid' | 'sent as edge' | 'invalid';

/**
 * SDM table "Valid Combinations for the Pentium 4 and Intel Xeon Processors' Local xAPIC
 * Interrupt Command Register" (X = any trigger), restated independently of icr.ts.
 */
const TABLE: [keyof typeof SH, 'edge' | 'level' | 'X', number[], Verdict][] = [
  ['none', 'edge', ALL, 'valid'],
  ['none', 'level', ALL, 'sent as edge'],
  ['self', 'edge', [0], 'valid'],
  ['self', 'level', [0], 'sent as edge'],
  ['self', 'X', [1, 2, 4, 5, 6], 'invalid'],
  ['all', 'edge', [0], 'valid'],
  ['all', 'level', [0], 'sent as edge'],
  ['all', 'X', [1, 2, 4, 5, 6], 'invalid'],
  ['all-but-self', 'edge', ALL, 'valid'],
  ['all-but-self', 'level', ALL, 'sent as edge'],
];

function icrLow(dm: number, sh: number, level: boolean, levelBit: boolean, logical: boolean, vector = 0x40): number {
  return vector | (dm << 8) | (logical ? R.ICR_DEST_LOGICAL : 0) | (levelBit ? R.ICR_LEVEL_ASSERT : 0) | (level ? R.ICR_TRIGGER_LEVEL : 0) | (sh << 18);
}

for (const [shorthand, trigger, modes, verdict] of TABLE) {
  test(`ICR table: ${shorthand} / ${trigger} / ${modes.map((m) => MODE_NAMES[m]).join(', ')} -> ${verdict}`, () => {
    for (const dm of modes) {
      for (const level of trigger === 'X' ? [false, true] : [trigger === 'level']) {
        for (const logical of [false, true]) {
          // INIT with trigger=level and level=0 is the de-assert message, tested below.
          for (const levelBit of dm === 5 && level ? [true] : [true, false]) {
            const { apic, bus, log, wr } = rig();
            wr(R.APIC_ICR_HIGH, 0x01000000);
            wr(R.APIC_ICR_LOW, icrLow(dm, SH[shorthand], level, levelBit, logical));
            const what = `${MODE_NAMES[dm]} level=${level} levelBit=${levelBit} logical=${logical}`;
            if (verdict === 'invalid') {
              assert.equal(bus.sent.length, 0, `${what}: ignored`);
              assert.equal(log.of('apic.illegal').length, 1, `${what}: reported`);
              assert.equal(bus.illegal.length, 1, `${what}: offered to the vmm's quirks`);
              assert.equal(bus.illegal[0].ipi?.shorthand, shorthand);
              continue;
            }
            assert.equal(bus.sent.length, 1, `${what}: sent`);
            const ipi = bus.sent[0].ipi;
            assert.equal(ipi.mode, MODE_NAMES[dm]);
            assert.equal(ipi.shorthand, shorthand);
            assert.equal(ipi.trigger, 'edge', `${what}: the xAPIC issues it edge-triggered`);
            assert.equal(ipi.destMode, logical ? 'logical' : 'physical');
            assert.equal(ipi.dest, 1);
            assert.equal(ipi.level, levelBit);
            assert.equal(log.of('apic.illegal').length, 0);
            assert.equal(log.of('ipi.send').length, 1);
            if (dm === 0 && shorthand !== 'all-but-self' && shorthand !== 'none') {
              assert.deepEqual(vectors(apic.irr), [0x40], 'self-directed fixed IPI latched');
              assert.deepEqual(vectors(apic.tmr), [], 'as edge');
            }
          }
        }
      }
    }
  });
}

test('ICR: reserved delivery modes 011 and 111 are ignored with every shorthand', () => {
  for (const dm of [3, 7]) {
    for (const sh of [0, 1, 2, 3]) {
      const { bus, log, wr } = rig();
      wr(R.APIC_ICR_LOW, icrLow(dm, sh, false, true, false));
      assert.equal(bus.sent.length, 0);
      assert.equal(log.of('apic.illegal')[0].kind, 'icr');
      assert.equal(bus.illegal[0].ipi, null);
    }
  }
});

test('ICR: INIT level de-assert (INIT, trigger level, level 0) is sent as its own message', () => {
  for (const sh of [0, 1, 2, 3]) {
    const { bus, wr } = rig();
    wr(R.APIC_ICR_LOW, icrLow(5, sh, true, false, false, 0));
    assert.equal(bus.sent.length, 1, `shorthand ${sh}`);
    assert.equal(bus.sent[0].ipi.mode, 'init-deassert');
    assert.equal(bus.sent[0].ipi.trigger, 'level');
  }
  // The sequence Linux sends: INIT assert (level), INIT de-assert, SIPI, SIPI.
  const d = [0x0000c500, 0x00008500, 0x00000608].map((lo) => decodeIcr(lo, 0x01000000, false).ipi!.mode);
  assert.deepEqual(d, ['init', 'init-deassert', 'startup']);
});

test('ICR: writing the high half does not send; the low half sends with the destination byte', () => {
  const { bus, wr } = rig();
  wr(R.APIC_ICR_HIGH, 0xab000000);
  assert.equal(bus.sent.length, 0);
  wr(R.APIC_ICR_LOW, 0x000046f0);
  assert.equal(bus.sent[0].ipi.dest, 0xab);
  assert.equal(bus.sent[0].ipi.icrHigh, 0xab000000);
  assert.equal(bus.sent[0].ipi.icrLow, 0x46f0);
});

test('ICR: a fixed or lowest-priority vector below 16 sets send illegal vector; the receiver refuses it', () => {
  const { apics, bus, log } = rigs(2);
  const [a, b] = apics;
  for (const dm of [0, 1]) {
    a.writeMmio(R.APIC_ICR_HIGH, 4, 0x01000000);
    a.writeMmio(R.APIC_ICR_LOW, 4, 0x0000400f | (dm << 8));
    a.writeMmio(R.APIC_ESR, 4, 0);
    assert.equal(a.readMmio(R.APIC_ESR, 4), R.ESR_SEND_ILLEGAL_VECTOR);
    b.writeMmio(R.APIC_ESR, 4, 0);
    assert.equal(b.readMmio(R.APIC_ESR, 4), R.ESR_RECEIVE_ILLEGAL_VECTOR);
    assert.deepEqual(vectors(b.irr), []);
  }
  assert.equal(bus.sent.length, 2, 'still sent');
  assert.equal(log.of('apic.reject').length, 2);
  // Vectors of NMI, INIT and start-up are not interrupt vectors: no error (a SIPI to page 8 is normal).
  for (const lo of [0x00004400, 0x00004500, 0x00004608]) {
    a.writeMmio(R.APIC_ICR_LOW, 4, lo);
    a.writeMmio(R.APIC_ESR, 4, 0);
    assert.equal(a.readMmio(R.APIC_ESR, 4), 0, `ICR 0x${lo.toString(16)}`);
  }
});

test('ICR: delivery status is set while the vmm reports the IPI pending', () => {
  const { apic, bus, rd, wr } = rig();
  wr(R.APIC_ICR_LOW, 0x000040f0);
  assert.equal(rd(R.APIC_ICR_LOW) & R.ICR_DELIVERY_STATUS, 0, 'completed synchronously: idle');
  bus.reply = 'pending';
  wr(R.APIC_ICR_LOW, 0x000040f0);
  assert.equal(rd(R.APIC_ICR_LOW), 0x000050f0, 'send pending');
  apic.ipiDelivered();
  assert.equal(rd(R.APIC_ICR_LOW), 0x000040f0);
});

test('ICR: a software-disabled APIC can still send IPIs', () => {
  const { apics, bus } = rigs(2);
  apics[0].writeMmio(R.APIC_SVR, 4, 0xff);
  apics[0].writeMmio(R.APIC_ICR_HIGH, 4, 0x01000000);
  apics[0].writeMmio(R.APIC_ICR_LOW, 4, 0x00004070);
  assert.equal(bus.sent.length, 1);
  assert.deepEqual(vectors(apics[1].irr), [0x70]);
});

test('ipi.send reports the decoded ICR', () => {
  const { log, wr } = rig();
  wr(R.APIC_ICR_HIGH, 0x03000000);
  wr(R.APIC_ICR_LOW, 0x0000c9f0); // lowest priority, logical, level-triggered
  assert.deepEqual(log.of('ipi.send')[0], {
    vector: 0xf0, mode: 'lowest', destMode: 'logical', level: true, trigger: 'edge', shorthand: 'none',
    dest: 3, x2apic: false, icrLow: 0xc9f0, icrHigh: 0x03000000,
  });
});
