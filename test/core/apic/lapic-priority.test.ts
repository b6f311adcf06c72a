// Acceptance, priorities, delivery and EOI (SDM "Task and Processor Priorities",
// "Interrupt Acceptance for Fixed Interrupts", "Signaling Interrupt Servicing
// Completion"), NMI/SMI/ExtINT and the LINT0/LINT1 inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as R from '../../../core/apic/registers';
import { rig, vectors } from './helpers';

test('PPR = TPR when its class is at least the in-service class, else the in-service class', () => {
  const rows: [number, number, number][] = [ // TPR, vector in service (-1: none), PPR
    [0x00, -1, 0x00], [0x35, -1, 0x35], [0x35, 0x31, 0x35], [0x35, 0x3f, 0x35],
    [0x35, 0x41, 0x40], [0x00, 0xfe, 0xf0], [0xf0, 0x81, 0xf0],
  ];
  for (const [tpr, inService, ppr] of rows) {
    const { apic, rd, wr } = rig();
    if (inService >= 0) { apic.acceptInterrupt(inService, 'edge'); apic.acknowledge(); }
    wr(R.APIC_TPR, tpr);
    assert.equal(rd(R.APIC_PPR), ppr, `TPR 0x${tpr.toString(16)}, ISR 0x${inService.toString(16)}`);
  }
});

test('delivery: highest IRR vector first, only if its class is above the PPR class', () => {
  const { apic, wr } = rig();
  for (const v of [0x31, 0x5f, 0x42]) apic.acceptInterrupt(v, 'edge');
  assert.equal(apic.pendingVector(), 0x5f);
  wr(R.APIC_TPR, 0x50);
  assert.equal(apic.pendingVector(), -1, 'class 5 is not above TPR class 5');
  assert.equal(apic.acknowledge(), -1);
  assert.deepEqual(vectors(apic.irr), [0x31, 0x42, 0x5f], 'nothing moved');
  wr(R.APIC_TPR, 0x4f);
  assert.equal(apic.acknowledge(), 0x5f);
  assert.deepEqual(vectors(apic.isr), [0x5f]);
  assert.deepEqual(vectors(apic.irr), [0x31, 0x42]);
  wr(R.APIC_TPR, 0);
  assert.equal(apic.pendingVector(), -1, 'class 4 is below the in-service class 5');
  apic.acceptInterrupt(0x65, 'edge');
  assert.equal(apic.acknowledge(), 0x65, 'a higher class nests');
  assert.deepEqual(vectors(apic.isr), [0x5f, 0x65]);
  apic.acceptInterrupt(0x60, 'edge');
  assert.equal(apic.pendingVector(), -1, 'same class as the highest in service: held');
  assert.equal(apic.eoi(), 0x65);
  assert.equal(apic.acknowledge(), 0x60);
  assert.equal(apic.eoi(), 0x60);
  assert.equal(apic.eoi(), 0x5f);
  assert.equal(apic.acknowledge(), 0x42);
  assert.equal(apic.eoi(), 0x42);
  assert.equal(apic.acknowledge(), 0x31);
});

test('EOI: clears the highest ISR bit; a level-triggered vector goes to the IOAPIC', () => {
  const { apic, bus, log, wr } = rig();
  apic.acceptInterrupt(0x40, 'level', 'ioapic');
  apic.acceptInterrupt(0x30, 'edge');
  assert.deepEqual(vectors(apic.tmr), [0x40]);
  assert.equal(apic.acknowledge(), 0x40);
  wr(R.APIC_EOI, 0x12345); // the value is ignored in xAPIC mode
  assert.deepEqual(bus.eois, [{ src: 0, vector: 0x40 }]);
  assert.deepEqual(vectors(apic.tmr), [0x40], 'TMR keeps the bit until the next acceptance');
  assert.equal(apic.acknowledge(), 0x30);
  wr(R.APIC_EOI, 0);
  assert.equal(bus.eois.length, 1, 'edge: no EOI message');
  assert.equal(apic.eoi(), -1, 'empty ISR');
  assert.deepEqual(log.of('eoi'), [{ vector: 0x40, level: true }, { vector: 0x30, level: false }, { vector: -1, level: false }]);
});

test('acceptance: illegal vectors, collapse, TMR per trigger, kicks only on a new IRR bit', () => {
  const { apic, bus, log } = rig();
  for (let v = 0; v < 16; v++) assert.equal(apic.acceptInterrupt(v, 'edge'), 'illegal-vector');
  assert.deepEqual(vectors(apic.irr), []);
  assert.equal(apic.acceptInterrupt(0x80, 'edge'), 'accepted');
  assert.equal(apic.acceptInterrupt(0x80, 'level'), 'collapsed');
  assert.deepEqual(vectors(apic.tmr), [0x80], 'the later trigger mode wins');
  assert.equal(apic.acceptInterrupt(0x80, 'edge'), 'collapsed');
  assert.deepEqual(vectors(apic.tmr), []);
  assert.deepEqual(bus.kicks, [0]);
  assert.equal(log.of('ipi.accept').length, 1);
  assert.equal(log.of('ipi.collapse').length, 2);
  assert.equal(log.of('apic.reject').length, 16);
  assert.equal(apic.acceptInterrupt(0x180, 'edge'), 'collapsed', 'vector taken modulo 256');
});

test('APR (arbitration priority) per the SDM formula; the APR register itself reads 0', () => {
  const { apic, rd, wr } = rig();
  wr(R.APIC_TPR, 0x35);
  assert.equal(apic.arbitrationPriority(), 0x35);
  apic.acceptInterrupt(0x41, 'edge');
  assert.equal(apic.arbitrationPriority(), 0x40, 'IRR class above TPR class');
  apic.acknowledge();
  assert.equal(apic.arbitrationPriority(), 0x40, 'ISR class');
  wr(R.APIC_TPR, 0x50);
  assert.equal(apic.arbitrationPriority(), 0x50);
  assert.equal(rd(R.APIC_APR), 0);
});

test('NMI, SMI and ExtINT messages', () => {
  const { apic, bus, wr } = rig();
  assert.equal(apic.acceptNmi(), 'accepted');
  assert.equal(apic.acceptNmi(), 'collapsed');
  assert.equal(apic.takeNmi(), true);
  assert.equal(apic.takeNmi(), false);
  apic.acceptSmi();
  assert.equal(apic.smiCount, 1);
  assert.equal(apic.extIntPending(), false);
  apic.acceptExtInt();
  assert.equal(apic.extIntPending(), true);
  apic.ackExtInt();
  assert.equal(apic.extIntPending(), false);
  assert.deepEqual(bus.kicks, [0, 0]);
  wr(R.APIC_SVR, 0xff);
  assert.equal(apic.acceptNmi(), 'accepted', 'software disable does not block NMI');
  assert.equal(apic.spuriousVector(), 0xff);
});

test('LINT0 in virtual-wire mode (ExtINT): pending while asserted and unmasked, polarity honoured', () => {
  const { apic, wr } = rig();
  wr(R.APIC_LVT_LINT0, 0x8700); // as SeaBIOS leaves the BSP
  apic.setLint(0, true);
  assert.equal(apic.extIntPending(), true);
  assert.equal(apic.pendingVector(), -1, 'ExtINT does not use the IRR');
  apic.setLint(0, false);
  assert.equal(apic.extIntPending(), false);
  apic.setLint(0, true);
  wr(R.APIC_LVT_LINT0, 0x18700);
  assert.equal(apic.extIntPending(), false, 'masked');
  wr(R.APIC_LVT_LINT0, 0x2700); // active low
  assert.equal(apic.extIntPending(), false);
  apic.setLint(0, false);
  assert.equal(apic.extIntPending(), true);
});

test('LINT1 NMI: one NMI per asserting edge', () => {
  const { apic, wr } = rig();
  wr(R.APIC_LVT_LINT1, 0x400);
  apic.setLint(1, true);
  assert.equal(apic.takeNmi(), true);
  apic.setLint(1, true);
  assert.equal(apic.takeNmi(), false, 'no new edge');
  apic.setLint(1, false);
  apic.setLint(1, true);
  assert.equal(apic.takeNmi(), true);
  wr(R.APIC_LVT_LINT1, 0x10400);
  apic.setLint(1, false);
  apic.setLint(1, true);
  assert.equal(apic.takeNmi(), false, 'masked');
});

test('LINT0 fixed: edge latches once per edge; level sets remote IRR and re-delivers after EOI', () => {
  const { apic, bus, rd, wr } = rig();
  wr(R.APIC_LVT_LINT0, 0x0051); // fixed, edge
  apic.setLint(0, true);
  apic.setLint(0, true);
  assert.equal(apic.acknowledge(), 0x51);
  assert.equal(apic.acknowledge(), -1);
  apic.eoi();
  apic.setLint(0, false);
  wr(R.APIC_LVT_LINT0, 0x8052); // fixed, level
  apic.setLint(0, true);
  assert.equal(rd(R.APIC_LVT_LINT0), 0xc052, 'remote IRR set');
  assert.deepEqual(vectors(apic.tmr), [0x52]);
  assert.equal(apic.acknowledge(), 0x52);
  apic.eoi();
  assert.deepEqual(bus.eois.map((e) => e.vector), [0x52], 'level EOI also goes out to the IOAPIC');
  assert.equal(apic.acknowledge(), 0x52, 'still asserted: delivered again');
  apic.setLint(0, false);
  apic.eoi();
  assert.equal(rd(R.APIC_LVT_LINT0), 0x8052, 'remote IRR clear');
  assert.equal(apic.pendingVector(), -1);
});

test('LINT with delivery modes SMI and INIT', () => {
  const { apic, bus, wr } = rig();
  wr(R.APIC_LVT_LINT0, 0x200);
  apic.setLint(0, true);
  assert.equal(apic.smiCount, 1);
  wr(R.APIC_LVT_LINT1, 0x500);
  apic.setLint(1, true);
  assert.deepEqual(bus.inits, [0]);
});

test('globally disabled APIC: LINT0 is INTR and LINT1 is NMI, nothing else is accepted', () => {
  const { apic } = rig();
  apic.writeApicBase(0xfee00000, 0);
  assert.equal(apic.acceptNmi(), 'hw-disabled');
  apic.setLint(0, true);
  assert.equal(apic.extIntPending(), true);
  apic.setLint(1, true);
  assert.equal(apic.takeNmi(), true);
  assert.equal(apic.acceptInterrupt(0x40, 'edge'), 'hw-disabled');
});
