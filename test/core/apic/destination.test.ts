// Destination matching (SDM "Determining IPI Destination", "Logical Destination Mode in
// x2APIC Mode") and lowest-priority arbitration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as R from '../../../core/apic/registers';
import { arbitrateLowestPriority, isIpiTarget, matchesDestination, unicastPhysicalId } from '../../../core/apic/destination';
import { decodeIcr } from '../../../core/apic/icr';
import { rigs, toX2apic, vectors } from './helpers';

test('physical, xAPIC: the 8-bit ID, and 0xFF for all', () => {
  const { apics } = rigs(3, [0, 5, 0x105]);
  const match = (dest: number) => apics.map((a) => matchesDestination(a, dest, 'physical', false));
  assert.deepEqual(match(5), [false, true, true], 'xAPIC mode compares the low 8 bits of the ID');
  assert.deepEqual(match(0), [true, false, false]);
  assert.deepEqual(match(0xff), [true, true, true]);
  assert.deepEqual(match(7), [false, false, false]);
});

test('physical, x2APIC: the 32-bit ID, and 0xFFFFFFFF for all', () => {
  const { apics } = rigs(3, [0, 5, 0x105]);
  apics.forEach(toX2apic);
  const match = (dest: number) => apics.map((a) => matchesDestination(a, dest, 'physical', true));
  assert.deepEqual(match(0x105), [false, false, true]);
  assert.deepEqual(match(5), [false, true, false]);
  assert.deepEqual(match(0xff), [false, false, false], '0xFF is an ordinary ID in x2APIC format');
  assert.deepEqual(match(0xffffffff), [true, true, true]);
});

test('logical flat: a bit per APIC in LDR[31:24], any common bit matches, 0xFF for all', () => {
  const { apics } = rigs(3);
  apics.forEach((a, i) => a.writeMmio(R.APIC_LDR, 4, (1 << i) << 24));
  const match = (dest: number) => apics.map((a) => matchesDestination(a, dest, 'logical', false));
  assert.deepEqual(match(0b001), [true, false, false]);
  assert.deepEqual(match(0b110), [false, true, true]);
  assert.deepEqual(match(0b1000), [false, false, false]);
  assert.deepEqual(match(0xff), [true, true, true]);
});

test('logical cluster: cluster in bits 7:4, members in 3:0; cluster 15 is every cluster', () => {
  const { apics } = rigs(4);
  const ldrs = [0x11, 0x12, 0x21, 0x24];
  apics.forEach((a, i) => {
    a.writeMmio(R.APIC_DFR, 4, 0x0fffffff);
    a.writeMmio(R.APIC_LDR, 4, ldrs[i] << 24);
  });
  const match = (dest: number) => apics.map((a) => matchesDestination(a, dest, 'logical', false));
  assert.deepEqual(match(0x13), [true, true, false, false]);
  assert.deepEqual(match(0x21), [false, false, true, false]);
  assert.deepEqual(match(0x31), [false, false, false, false]);
  assert.deepEqual(match(0xf1), [true, false, true, false]);
  assert.deepEqual(match(0xff), [true, true, true, true]);
});

test('x2APIC cluster: LDR derived from the ID, destination = cluster << 16 | member bits', () => {
  const ids = [0x00, 0x01, 0x10, 0x1f, 0x123];
  const { apics } = rigs(ids.length, ids);
  apics.forEach(toX2apic);
  assert.deepEqual(apics.map((a) => a.logicalId()), [0x00001, 0x00002, 0x10001, 0x18000, 0x120008]);
  const match = (dest: number) => apics.map((a) => matchesDestination(a, dest, 'logical', true));
  assert.deepEqual(match(0x00003), [true, true, false, false, false]);
  assert.deepEqual(match(0x18001), [false, false, true, true, false]);
  assert.deepEqual(match(0x120008), [false, false, false, false, true]);
  assert.deepEqual(match(0x020008), [false, false, false, false, false]);
  assert.deepEqual(match(0xffffffff), [true, true, true, true, true]);
});

test('xAPIC-format messages (IOAPIC) to APICs in x2APIC mode: physical by ID, 0xFF broadcast', () => {
  const { apics } = rigs(2, [0, 7]);
  apics.forEach(toX2apic);
  assert.deepEqual(apics.map((a) => matchesDestination(a, 7, 'physical', false)), [false, true]);
  assert.deepEqual(apics.map((a) => matchesDestination(a, 0xff, 'physical', false)), [true, true]);
  assert.deepEqual(apics.map((a) => matchesDestination(a, 0xff, 'logical', false)), [true, true]);
  assert.deepEqual(apics.map((a) => matchesDestination(a, 0x01, 'logical', false)), [false, false]);
});

test('a globally disabled APIC matches nothing, shorthands included', () => {
  const { apics } = rigs(2);
  apics[1].writeApicBase(0xfee00000, 0);
  const all = decodeIcr(0x000840f0, 0, false).ipi!;
  assert.deepEqual(apics.map((a) => isIpiTarget(a, apics[0], all)), [true, false]);
  assert.equal(matchesDestination(apics[1], 0xff, 'physical', false), false);
});

test('shorthands: self, all including self, all excluding self', () => {
  const { apics } = rigs(3);
  const [a] = apics;
  const targets = (lo: number) => apics.map((t) => isIpiTarget(t, a, decodeIcr(lo, 0x02000000, false).ipi!));
  assert.deepEqual(targets(0x000440f0), [true, false, false]);
  assert.deepEqual(targets(0x000840f0), [true, true, true]);
  assert.deepEqual(targets(0x000c40f0), [false, true, true]);
  assert.deepEqual(targets(0x000040f0), [false, false, true], 'no shorthand: the destination field');
});

test('unicastPhysicalId: the one ID to look up, or -1', () => {
  assert.equal(unicastPhysicalId(5, 'physical', false), 5);
  assert.equal(unicastPhysicalId(0x1ff, 'physical', false), -1, 'only the low 8 bits count');
  assert.equal(unicastPhysicalId(0xff, 'physical', false), -1);
  assert.equal(unicastPhysicalId(0xff, 'physical', true), 0xff);
  assert.equal(unicastPhysicalId(0xffffffff, 'physical', true), -1);
  assert.equal(unicastPhysicalId(1, 'logical', false), -1);
});

test('lowest priority: lowest arbitration priority wins, ties go to the lowest APIC ID', () => {
  const { apics } = rigs(4, [3, 1, 2, 0]);
  assert.equal(arbitrateLowestPriority(apics)!.apicId, 0, 'all equal: lowest ID');
  apics[3].writeMmio(R.APIC_TPR, 4, 0x20);
  apics[1].writeMmio(R.APIC_TPR, 4, 0x10);
  assert.equal(arbitrateLowestPriority(apics)!.apicId, 2);
  apics[2].acceptInterrupt(0x80, 'edge');
  assert.equal(arbitrateLowestPriority(apics)!.apicId, 3, 'a pending interrupt raises the arbitration priority');
  assert.equal(arbitrateLowestPriority([apics[1], apics[3]])!.apicId, 1);
  assert.equal(arbitrateLowestPriority([]), null);
});

test('end to end: logical broadcast and lowest-priority IPIs through a bus using the helpers', () => {
  const { apics, bus } = rigs(3);
  apics.forEach((a, i) => a.writeMmio(R.APIC_LDR, 4, (1 << i) << 24));
  apics[0].writeMmio(R.APIC_ICR_HIGH, 4, 0x06000000);
  apics[0].writeMmio(R.APIC_ICR_LOW, 4, 0x00004850); // fixed, logical, dest 0b110
  assert.deepEqual(apics.map((a) => vectors(a.irr)), [[], [0x50], [0x50]]);
  apics[1].writeMmio(R.APIC_TPR, 4, 0x60); // APR 0x60 against vCPU 2's 0x50 (its pending 0x50)
  apics[0].writeMmio(R.APIC_ICR_LOW, 4, 0x00004960); // lowest priority, logical, dest 0b110
  assert.deepEqual(apics.map((a) => vectors(a.irr)), [[], [0x50], [0x50, 0x60]]);
  assert.equal(bus.sent.length, 2);
});
