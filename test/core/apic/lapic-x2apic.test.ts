// x2APIC MSR interface: the table of MSRs, read-only and write-only registers, reserved
// bits, the 64-bit ICR, SELF IPI and the read-only LDR/ID (SDM "x2APIC Register Address
// Space", "Reserved Bit Checking").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GP_FAULT } from '../../../core/apic/types';
import { rig, toX2apic, vectors } from './helpers';

function x2(id = 0x12345, opts: { cmci?: boolean } = {}) {
  const r = rig({ id, ...opts });
  toX2apic(r.apic);
  r.bus.sent.length = 0;
  r.log.clear();
  return r;
}

test('every x2APIC MSR is #GP outside x2APIC mode', () => {
  const { apic } = rig();
  for (const msr of [0x802, 0x803, 0x808, 0x830, 0x83f, 0x8ff, 0xbff]) {
    assert.equal(apic.readMsr(msr), GP_FAULT, `rdmsr 0x${msr.toString(16)}`);
    assert.equal(apic.writeMsr(msr, 0, 0), GP_FAULT, `wrmsr 0x${msr.toString(16)}`);
  }
});

test('readable MSRs and their values', () => {
  const { apic } = x2();
  const expect: [number, number][] = [
    [0x802, 0x12345], // full 32-bit ID
    [0x803, 0x00050014],
    [0x808, 0], [0x80a, 0],
    [0x80d, (0x1234 << 16) | (1 << 5)], // LDR: cluster ID[19:4], bit ID[3:0]
    [0x80f, 0x1ff], [0x828, 0], [0x830, 0],
    [0x832, 0x10000], [0x833, 0x10000], [0x834, 0x10000], [0x835, 0x10000], [0x836, 0x10000], [0x837, 0x10000],
    [0x838, 0], [0x839, 0], [0x83e, 0],
  ];
  for (let i = 0; i < 8; i++) expect.push([0x810 + i, 0], [0x818 + i, 0], [0x820 + i, 0]);
  for (const [msr, lo] of expect) assert.deepEqual(apic.readMsr(msr), [lo | 0, 0], `rdmsr 0x${msr.toString(16)}`);
});

test('#GP for MSRs outside the table, write-only reads and read-only writes', () => {
  const { apic, log } = x2();
  // APR, RRD, DFR, ICR high and the unused addresses are not x2APIC registers.
  for (const msr of [0x800, 0x801, 0x804, 0x809, 0x80c, 0x80e, 0x829, 0x82f, 0x831, 0x83a, 0x83d, 0x840, 0x8ff, 0xbff]) {
    assert.equal(apic.readMsr(msr), GP_FAULT, `rdmsr 0x${msr.toString(16)}`);
    assert.equal(apic.writeMsr(msr, 0, 0), GP_FAULT, `wrmsr 0x${msr.toString(16)}`);
  }
  assert.equal(apic.readMsr(0x80b), GP_FAULT, 'EOI is write-only');
  assert.equal(apic.readMsr(0x83f), GP_FAULT, 'SELF IPI is write-only');
  for (const msr of [0x802, 0x803, 0x80a, 0x80d, 0x810, 0x817, 0x818, 0x81f, 0x820, 0x827, 0x839]) {
    assert.equal(apic.writeMsr(msr, 0, 0), GP_FAULT, `wrmsr read-only 0x${msr.toString(16)}`);
  }
  assert.ok(log.of('apic.illegal').every((e) => e.kind === 'msr-read' || e.kind === 'msr-write'));
});

test('LVT CMCI MSR 0x82F exists only with the option', () => {
  const { apic } = x2(1, { cmci: true });
  assert.deepEqual(apic.readMsr(0x82f), [0x10000, 0]);
  assert.equal(apic.writeMsr(0x82f, 0x000000f0, 0), 'ok');
  assert.equal(apic.writeMsr(0x82f, 0x00000800, 0), GP_FAULT, 'bit 11 reserved');
});

test('reserved bits: a write with any of them set raises #GP and changes nothing', () => {
  const { apic } = x2();
  const rows: [number, number, number][] = [ // msr, a legal value, a value with a reserved bit
    [0x808, 0xff, 0x100],
    [0x80f, 0x1ff, 0x1000], // EOI-broadcast suppression is not supported
    [0x832, 0x700ff, 0x100], // timer: no delivery mode
    [0x833, 0x107ff, 0x800],
    [0x834, 0x107ff, 0x20000],
    [0x835, 0x1a7ff, 0x800],
    [0x836, 0x1a7ff, 0x80000],
    [0x837, 0x100ff, 0x700],
    [0x83e, 0xb, 0x4],
  ];
  for (const [msr, ok, bad] of rows) {
    const before = apic.readMsr(msr);
    assert.equal(apic.writeMsr(msr, bad, 0), GP_FAULT, `0x${msr.toString(16)} <- 0x${bad.toString(16)}`);
    assert.deepEqual(apic.readMsr(msr), before);
    assert.equal(apic.writeMsr(msr, ok, 0), 'ok', `0x${msr.toString(16)} <- 0x${ok.toString(16)}`);
    assert.equal(apic.writeMsr(msr, ok, 1), GP_FAULT, 'bits 63:32 are reserved');
  }
  assert.equal(apic.writeMsr(0x80f, 0x3ff, 0), 'ok', 'SVR bit 9 (focus) is tolerated');
  assert.deepEqual(apic.readMsr(0x80f), [0x1ff, 0], '... but not stored');
  assert.equal(apic.writeMsr(0x838, 0xffffffff, 0), 'ok', 'initial count: all 32 bits');
  assert.deepEqual(apic.readMsr(0x832), [0x700ff, 0], 'RO delivery status bit accepted but reads 0');
});

test('EOI and ESR: only zero may be written', () => {
  const { apic } = x2();
  apic.acceptInterrupt(0x40, 'edge');
  apic.acknowledge();
  assert.equal(apic.writeMsr(0x80b, 1, 0), GP_FAULT);
  assert.deepEqual(vectors(apic.isr), [0x40], 'the faulting EOI did nothing');
  assert.equal(apic.writeMsr(0x80b, 0, 0), 'ok');
  assert.deepEqual(vectors(apic.isr), []);
  apic.acceptInterrupt(7, 'edge');
  assert.equal(apic.writeMsr(0x828, 1, 0), GP_FAULT);
  assert.equal(apic.writeMsr(0x828, 0, 0), 'ok');
  assert.deepEqual(apic.readMsr(0x828), [0x40, 0], 'receive illegal vector latched by the write');
});

test('ICR is one 64-bit MSR: 32-bit destination, delivery-status bit reserved, sends on write', () => {
  const { apic, bus } = x2();
  assert.equal(apic.writeMsr(0x830, 0x000040f0, 0x00000456), 'ok');
  assert.deepEqual(apic.readMsr(0x830), [0x000040f0, 0x456]);
  assert.equal(bus.sent.length, 1);
  const ipi = bus.sent[0].ipi;
  assert.equal(ipi.dest, 0x456);
  assert.equal(ipi.x2apic, true);
  assert.equal(ipi.vector, 0xf0);
  for (const bad of [1 << 12, 1 << 13, 1 << 16, 1 << 17, 1 << 20, 1 << 31]) {
    assert.equal(apic.writeMsr(0x830, 0x40f0 | bad, 0), GP_FAULT, `ICR bit ${Math.log2(bad)}`);
  }
  assert.equal(bus.sent.length, 1, 'faulting writes send nothing');
  bus.reply = 'pending';
  apic.writeMsr(0x830, 0x40f0, 1);
  assert.deepEqual(apic.readMsr(0x830), [0x40f0, 1], 'no delivery-status bit in x2APIC mode');
});

test('SELF IPI: fixed, edge, to self; reserved bits fault; vectors below 16 set ESR', () => {
  const { apic, bus } = x2();
  assert.equal(apic.writeMsr(0x83f, 0x61, 0), 'ok');
  assert.equal(bus.sent[0].ipi.shorthand, 'self');
  assert.equal(bus.sent[0].ipi.mode, 'fixed');
  assert.equal(bus.sent[0].ipi.trigger, 'edge');
  assert.deepEqual(vectors(apic.irr), [0x61]);
  assert.equal(apic.writeMsr(0x83f, 0x161, 0), GP_FAULT);
  assert.equal(apic.writeMsr(0x83f, 0x0e, 0), 'ok');
  apic.writeMsr(0x828, 0, 0);
  assert.deepEqual(apic.readMsr(0x828), [0x60, 0], 'send and receive illegal vector');
});

test('writes go through the same handlers as MMIO and are reported', () => {
  const { apic, log } = x2();
  apic.writeMsr(0x808, 0x20, 0);
  assert.deepEqual(apic.readMsr(0x80a), [0x20, 0], 'PPR follows TPR');
  apic.writeMsr(0x80f, 0xff, 0);
  assert.deepEqual(apic.readMsr(0x835), [0x10000, 0], 'software disable masks the LVT');
  assert.deepEqual(log.of('apic.write').map((e) => [e.register, e.value, e.x2apic]), [['TPR', 0x20, true], ['SVR', 0xff, true]]);
});
