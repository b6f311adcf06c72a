// xAPIC registers through the MMIO page: reset values, read-only registers, write
// masks, access sizes, reserved offsets, ESR, software disable, IA32_APIC_BASE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as R from '../../../core/apic/registers';
import { GP_FAULT } from '../../../core/apic/types';
import { rig, toX2apic } from './helpers';

const LVTS = [R.APIC_LVT_TIMER, R.APIC_LVT_THERMAL, R.APIC_LVT_PERF, R.APIC_LVT_LINT0, R.APIC_LVT_LINT1, R.APIC_LVT_ERROR];

test('power-up values of every register (SDM "Local APIC State After Power-Up or Reset")', () => {
  const { rd, apic } = rig({ id: 3, enable: false });
  assert.equal(rd(R.APIC_ID), 0x03000000);
  assert.equal(rd(R.APIC_VER), 0x00050014, 'version 0x14, max LVT entry 5, as QEMU 7.2');
  for (const off of [R.APIC_TPR, R.APIC_APR, R.APIC_PPR, R.APIC_RRD, R.APIC_LDR, R.APIC_ESR, R.APIC_ICR_LOW, R.APIC_ICR_HIGH,
    R.APIC_TIMER_ICR, R.APIC_TIMER_CCR, R.APIC_TIMER_DCR]) assert.equal(rd(off), 0, `0x${off.toString(16)}`);
  assert.equal(rd(R.APIC_DFR), 0xffffffff);
  assert.equal(rd(R.APIC_SVR), 0xff, 'software-disabled, spurious vector 0xFF');
  for (let i = 0; i < 8; i++) {
    assert.equal(rd(R.APIC_ISR + 16 * i), 0);
    assert.equal(rd(R.APIC_TMR + 16 * i), 0);
    assert.equal(rd(R.APIC_IRR + 16 * i), 0);
  }
  for (const off of LVTS) assert.equal(rd(off), R.LVT_MASKED, `LVT 0x${off.toString(16)} masked`);
  assert.deepEqual(apic.readApicBase(), [0xfee00900 | 0, 0], 'base 0xFEE00000, EN, BSP');
  assert.equal(apic.mode(), 'xapic');
  assert.equal(apic.mmioBase(), 0xfee00000);
});

test('an AP has no BSP flag; the xAPIC ID register shows the low 8 bits of a wide ID', () => {
  const { rd, apic } = rig({ id: 0x1234, bsp: false, enable: false });
  assert.deepEqual(apic.readApicBase(), [0xfee00800 | 0, 0]);
  assert.equal(rd(R.APIC_ID), 0x34000000);
});

test('LVT CMCI: reserved without the option, present (and counted in VER) with it', () => {
  const a = rig();
  assert.equal(a.rd(R.APIC_LVT_CMCI), 0);
  a.wr(R.APIC_ESR, 0);
  assert.equal(a.rd(R.APIC_ESR), R.ESR_ILLEGAL_REGISTER);
  const b = rig({ cmci: true });
  assert.equal(b.rd(R.APIC_VER), 0x00060014);
  assert.equal(b.rd(R.APIC_LVT_CMCI), R.LVT_MASKED);
  b.wr(R.APIC_LVT_CMCI, 0xffffffff);
  assert.equal(b.rd(R.APIC_LVT_CMCI), 0x000107ff);
});

test('read-only registers ignore writes without an error', () => {
  const { rd, wr, apic } = rig({ id: 2 });
  apic.acceptInterrupt(0x40, 'level');
  for (const off of [R.APIC_ID, R.APIC_VER, R.APIC_APR, R.APIC_PPR, R.APIC_RRD, R.APIC_ISR, R.APIC_TMR + 0x20, R.APIC_IRR + 0x20, R.APIC_TIMER_CCR]) {
    wr(off, 0xffffffff);
  }
  assert.equal(rd(R.APIC_ID), 0x02000000, 'the ID is read-only (Nehalem and later)');
  assert.equal(rd(R.APIC_VER), 0x00050014);
  assert.equal(rd(R.APIC_PPR), 0);
  assert.equal(rd(R.APIC_IRR + 0x20), 1, 'IRR keeps vector 0x40');
  assert.equal(rd(R.APIC_TMR + 0x20), 1);
  wr(R.APIC_ESR, 0);
  assert.equal(rd(R.APIC_ESR), 0);
});

test('write masks: reserved bits read as 0 (DFR reserved bits as 1), read-only bits kept', () => {
  const { rd, wr } = rig();
  const cases: [number, number, number][] = [
    [R.APIC_TPR, 0xfff, 0xff],
    [R.APIC_LDR, 0xffffffff, 0xff000000],
    [R.APIC_DFR, 0x0, 0x0fffffff],
    [R.APIC_DFR, 0xffffffff, 0xffffffff],
    [R.APIC_SVR, 0xffffffff, 0x1ff],
    [R.APIC_ICR_HIGH, 0xffffffff, 0xff000000],
    [R.APIC_LVT_TIMER, 0xffffffff, 0x000700ff],
    [R.APIC_LVT_THERMAL, 0xffffffff, 0x000107ff],
    [R.APIC_LVT_PERF, 0xffffffff, 0x000107ff],
    [R.APIC_LVT_LINT0, 0xffffffff, 0x0001a7ff],
    [R.APIC_LVT_LINT1, 0xffffffff, 0x0001a7ff],
    [R.APIC_LVT_ERROR, 0xffffffff, 0x000100ff],
    [R.APIC_TIMER_DCR, 0xffffffff, 0xb],
    [R.APIC_TIMER_ICR, 0xffffffff, 0xffffffff],
  ];
  for (const [off, value, expect] of cases) {
    wr(off, value);
    assert.equal(rd(off), expect, `0x${off.toString(16)} <- 0x${value.toString(16)}`);
  }
  wr(R.APIC_ICR_LOW, 0xffffffff); // reserved delivery mode: stored, not sent
  assert.equal(rd(R.APIC_ICR_LOW), 0x000ccfff, 'delivery status and reserved bits read 0');
});

test('accesses other than 32 bits at a 16-byte boundary read 0 and are ignored, without an error', () => {
  const { apic, rd, wr } = rig();
  assert.equal(apic.readMmio(R.APIC_VER, 1), 0);
  assert.equal(apic.readMmio(R.APIC_VER, 2), 0);
  assert.equal(apic.readMmio(R.APIC_VER + 4, 4), 0);
  apic.writeMmio(R.APIC_TPR, 1, 0x20);
  apic.writeMmio(R.APIC_TPR + 4, 4, 0x20);
  assert.equal(rd(R.APIC_TPR), 0);
  wr(R.APIC_ESR, 0);
  assert.equal(rd(R.APIC_ESR), 0);
});

test('reserved offsets read 0, ignore writes and set ESR "illegal register address"', () => {
  for (const off of [0x000, 0x010, 0x040, 0x070, 0x290, 0x2e0, 0x3a0, 0x3d0, R.APIC_SELF_IPI, 0x400, 0xff0]) {
    const { rd, wr, log } = rig();
    assert.equal(rd(off), 0);
    wr(R.APIC_ESR, 0);
    assert.equal(rd(R.APIC_ESR), R.ESR_ILLEGAL_REGISTER, `read of 0x${off.toString(16)}`);
    wr(R.APIC_ESR, 0);
    wr(off, 0x12345678);
    wr(R.APIC_ESR, 0);
    assert.equal(rd(R.APIC_ESR), R.ESR_ILLEGAL_REGISTER, `write to 0x${off.toString(16)}`);
    assert.equal(log.of('apic.illegal').filter((e) => e.kind === 'mmio').length, 2);
  }
});

test('ESR: errors become readable at the next ESR write, which also clears them', () => {
  const { rd, wr, apic } = rig();
  apic.acceptInterrupt(5, 'edge'); // receive illegal vector
  assert.equal(rd(R.APIC_ESR), 0, 'not visible before a write');
  assert.equal(apic.esrPending, R.ESR_RECEIVE_ILLEGAL_VECTOR);
  wr(R.APIC_ESR, 0xffffffff); // the value written does not matter
  assert.equal(rd(R.APIC_ESR), R.ESR_RECEIVE_ILLEGAL_VECTOR);
  assert.equal(rd(R.APIC_ESR), R.ESR_RECEIVE_ILLEGAL_VECTOR, 'reads do not clear it');
  apic.sendIcr(0x00040003, 0); // self IPI, vector 3: send and receive illegal vector
  wr(R.APIC_ESR, 0);
  assert.equal(rd(R.APIC_ESR), R.ESR_SEND_ILLEGAL_VECTOR | R.ESR_RECEIVE_ILLEGAL_VECTOR, 'only the errors since the last write');
  wr(R.APIC_ESR, 0);
  assert.equal(rd(R.APIC_ESR), 0);
});

test('an error raises the LVT error vector when unmasked (and an illegal error vector stops there)', () => {
  const { wr, apic, log } = rig();
  apic.acceptInterrupt(1, 'edge');
  assert.equal(apic.pendingVector(), -1, 'masked LVT error: no interrupt');
  wr(R.APIC_LVT_ERROR, 0xfe);
  apic.acceptInterrupt(2, 'edge');
  assert.equal(apic.pendingVector(), 0xfe);
  assert.equal(log.of('ipi.accept').at(-1)!.source, 'error');
  wr(R.APIC_LVT_ERROR, 0x03);
  apic.acceptInterrupt(4, 'edge');
  assert.equal(apic.esrPending & R.ESR_RECEIVE_ILLEGAL_VECTOR, R.ESR_RECEIVE_ILLEGAL_VECTOR);
});

test('software disable: LVT masks forced and stuck, no fixed interrupt accepted, NMI still is, IRR held', () => {
  const { rd, wr, apic, log } = rig();
  wr(R.APIC_LVT_LINT0, 0x700);
  wr(R.APIC_LVT_TIMER, 0x20031);
  assert.equal(apic.acceptInterrupt(0x50, 'edge'), 'accepted');
  wr(R.APIC_SVR, 0x0ff);
  for (const off of LVTS) assert.ok(rd(off) & R.LVT_MASKED, `0x${off.toString(16)} masked`);
  assert.equal(rd(R.APIC_LVT_TIMER), 0x30031, 'other fields kept');
  wr(R.APIC_LVT_TIMER, 0x31);
  assert.equal(rd(R.APIC_LVT_TIMER), 0x10031, 'the mask cannot be cleared');
  assert.equal(apic.acceptInterrupt(0x60, 'edge'), 'sw-disabled');
  assert.equal(log.of('apic.reject').at(-1)!.reason, 'sw-disabled');
  assert.equal(apic.acceptNmi(), 'accepted');
  assert.equal(apic.pendingVector(), 0x50, 'a vector already in IRR is still delivered');
  apic.acceptWhileSoftwareDisabled = true; // the accept-while-disabled quirk hook
  assert.equal(apic.acceptInterrupt(0x61, 'edge'), 'accepted');
  apic.acceptWhileSoftwareDisabled = false;
  wr(R.APIC_SVR, 0x1ff);
  assert.ok(rd(R.APIC_LVT_LINT0) & R.LVT_MASKED, 're-enabling leaves the LVTs masked');
  assert.equal(apic.acceptInterrupt(0x60, 'edge'), 'accepted');
});

test('INIT resets every register but the ID and keeps the mode; RESET goes back to xAPIC', () => {
  const { apic, rd, wr } = rig({ id: 5 });
  wr(R.APIC_TPR, 0x20);
  wr(R.APIC_LDR, 0x01000000);
  wr(R.APIC_DFR, 0);
  apic.acceptInterrupt(0x40, 'edge');
  apic.reset('init');
  assert.equal(rd(R.APIC_ID), 0x05000000);
  assert.equal(rd(R.APIC_TPR), 0);
  assert.equal(rd(R.APIC_LDR), 0);
  assert.equal(rd(R.APIC_DFR), 0xffffffff);
  assert.equal(rd(R.APIC_SVR), 0xff);
  assert.equal(apic.pendingVector(), -1);
  toX2apic(apic);
  apic.writeMsr(0x808, 0x30, 0);
  apic.reset('init');
  assert.equal(apic.mode(), 'x2apic', 'INIT keeps x2APIC mode');
  assert.deepEqual(apic.readMsr(0x808), [0, 0]);
  assert.deepEqual(apic.readMsr(0x802), [5, 0]);
  apic.reset('power');
  assert.equal(apic.mode(), 'xapic');
});

test('IA32_APIC_BASE: the legal and illegal transitions of the SDM state diagram', () => {
  const EN = 0x800, EXTD = 0x400, BASE = 0xfee00000 | 0;
  const rows: [string, number, string, 'ok' | typeof GP_FAULT][] = [
    ['xapic', EN | EXTD, 'x2apic', 'ok'],
    ['xapic', 0, 'disabled', 'ok'],
    ['xapic', EXTD, 'xapic', GP_FAULT], // EN=0 EXTD=1 is invalid
    ['x2apic', EN, 'x2apic', GP_FAULT], // x2APIC -> xAPIC
    ['x2apic', 0, 'disabled', 'ok'],
    ['x2apic', EN | EXTD, 'x2apic', 'ok'],
    ['disabled', EN | EXTD, 'disabled', GP_FAULT], // disabled -> x2APIC
    ['disabled', EN, 'xapic', 'ok'],
    ['disabled', EXTD, 'disabled', GP_FAULT],
  ];
  for (const [from, bits, to, verdict] of rows) {
    const { apic } = rig();
    if (from === 'x2apic') toX2apic(apic);
    if (from === 'disabled') assert.equal(apic.writeApicBase(BASE, 0), 'ok');
    assert.equal(apic.mode(), from);
    assert.equal(apic.writeApicBase(BASE | bits, 0), verdict, `${from} -> bits 0x${bits.toString(16)}`);
    assert.equal(apic.mode(), to);
  }
});

test('IA32_APIC_BASE: reserved bits fault, BSP is read-only, the base relocates', () => {
  const { apic, log } = rig();
  for (const bit of [0, 7, 9]) assert.equal(apic.writeApicBase(0xfee00800 | (1 << bit), 0), GP_FAULT, `bit ${bit}`);
  assert.equal(apic.writeApicBase(0xfee00800, 0x100), GP_FAULT, 'bit 40 with MAXPHYADDR 40');
  assert.equal(log.of('apic.illegal').filter((e) => e.kind === 'apic-base').length, 4);
  assert.equal(apic.writeApicBase(0xfee00800, 0xff), 'ok');
  assert.equal(apic.mmioBase(), 0xfffee00000);
  assert.deepEqual(apic.readApicBase(), [0xfee00900 | 0, 0xff], 'BSP flag stays set');
  assert.equal(apic.writeApicBase(0xfed00800, 0), 'ok');
  assert.equal(apic.mmioBase(), 0xfed00000);
  const ap = rig({ bsp: false }).apic;
  ap.writeApicBase(0xfee00900, 0);
  assert.deepEqual(ap.readApicBase(), [0xfee00800 | 0, 0], 'an AP cannot set BSP');
});

test('disabling resets the APIC; re-enabling comes back in xAPIC mode with reset registers', () => {
  const { apic, rd, wr, log } = rig();
  wr(R.APIC_TPR, 0x40);
  wr(R.APIC_LVT_LINT0, 0x700);
  apic.acceptInterrupt(0x80, 'edge');
  toX2apic(apic);
  apic.writeApicBase(0xfee00000, 0);
  assert.equal(apic.mmioEnabled(), false);
  assert.equal(apic.acceptInterrupt(0x81, 'edge'), 'hw-disabled');
  assert.equal(apic.readMsr(0x808), GP_FAULT);
  apic.writeApicBase(0xfee00800, 0);
  assert.equal(apic.mode(), 'xapic');
  assert.equal(rd(R.APIC_TPR), 0);
  assert.equal(rd(R.APIC_SVR), 0xff);
  assert.equal(rd(R.APIC_LVT_LINT0), R.LVT_MASKED);
  assert.equal(apic.pendingVector(), -1);
  assert.deepEqual(log.of('apic.mode').map((e) => `${e.from}->${e.to}`), ['xapic->x2apic', 'x2apic->disabled', 'disabled->xapic']);
});

test('xAPIC -> x2APIC keeps register state except ICR high; the page is no longer decoded', () => {
  const { apic, wr } = rig({ id: 0x23 });
  wr(R.APIC_TPR, 0x30);
  wr(R.APIC_LVT_TIMER, 0x40);
  wr(R.APIC_LDR, 0x80000000);
  wr(R.APIC_ICR_HIGH, 0x05000000);
  toX2apic(apic);
  assert.deepEqual(apic.readMsr(0x808), [0x30, 0]);
  assert.deepEqual(apic.readMsr(0x832), [0x40, 0]);
  assert.deepEqual(apic.readMsr(0x830), [0, 0]);
  assert.deepEqual(apic.readMsr(0x80d), [(2 << 16) | (1 << 3), 0], 'LDR derived from ID 0x23: cluster 2, bit 3');
  assert.equal(apic.mmioEnabled(), false);
  assert.equal(apic.readMmio(R.APIC_TPR, 4), 0);
});
