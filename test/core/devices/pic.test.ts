import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DualPic } from '../../../core/devices/pic';

function make() {
  const pic = new DualPic();
  const out = (port: number, v: number) => pic.portWrite(port, 1, v);
  const inb = (port: number) => pic.portRead(port, 1);
  const pulse = (irq: number) => { pic.setIrq(irq, true); pic.setIrq(irq, false); };
  /** The usual remap: master 0x20, slave 0x28, ICW4 8086 mode. */
  const init = (icw4 = 0x01) => {
    out(0x20, 0x11); out(0x21, 0x20); out(0x21, 0x04); out(0x21, icw4);
    out(0xa0, 0x11); out(0xa1, 0x28); out(0xa1, 0x02); out(0xa1, icw4);
  };
  return { pic, out, inb, pulse, init };
}

test('state after SeaBIOS matches QEMU 7.2', () => {
  const { pic, out, inb } = make();
  assert.equal(inb(0x21), 0xb8);
  assert.equal(inb(0xa1), 0x8e);
  assert.equal(inb(0x20), 0x10, 'IRR by default: IRQ 4 latched by SeaBIOS');
  out(0x20, 0x0b);
  assert.equal(inb(0x20), 0x00, 'ISR');
  assert.equal(inb(0x4d0), 0x00);
  assert.equal(inb(0x4d1), 0x0c);
  assert.equal(pic.hasInterrupt(), false, 'IRQ 4 is masked');
  pic.setIrq(0, true);
  assert.equal(pic.acknowledge(), 0x08, 'master vector base 0x08');
  out(0x20, 0x20);
  pic.setIrq(8, true);
  assert.equal(pic.acknowledge(), 0x70, 'slave vector base 0x70');
});

test('ICW1 clears IMR, ISR and edge requests; poll after unmasking IRQ 4 (as QEMU)', () => {
  const { pic, out, inb, init } = make();
  out(0x21, 0xa8);
  out(0x20, 0x0c);
  assert.equal(inb(0x20), 0x84, 'poll: request on IR4');
  out(0x20, 0x0b);
  assert.equal(inb(0x20), 0x10, 'the poll acknowledged it into ISR');
  out(0x20, 0x0a);
  assert.equal(inb(0x20), 0x00);
  init();
  assert.equal(inb(0x21), 0x00);
  assert.equal(pic.master.isr, 0);
  out(0x20, 0x0c);
  assert.equal(inb(0x20), 0x00, 'poll with nothing pending');
});

test('priority: lower IR wins, nesting by ISR, non-specific EOI', () => {
  const { pic, out, pulse, init } = make();
  init();
  pulse(5);
  pulse(3);
  assert.equal(pic.hasInterrupt(), true);
  assert.equal(pic.acknowledge(), 0x23);
  assert.equal(pic.hasInterrupt(), false, 'IR5 waits while IR3 is in service');
  pulse(1);
  assert.equal(pic.acknowledge(), 0x21, 'a higher priority nests');
  out(0x20, 0x20); // EOI clears the highest in service: IR1
  assert.equal(pic.master.isr, 0x08);
  out(0x20, 0x20);
  assert.equal(pic.acknowledge(), 0x25);
  out(0x20, 0x65); // specific EOI for IR5
  assert.equal(pic.master.isr, 0);
});

test('masking holds a request in IRR until unmasked', () => {
  const { pic, out, pulse, init } = make();
  init();
  out(0x21, 0x01);
  pulse(0);
  assert.equal(pic.hasInterrupt(), false);
  assert.equal(pic.master.irr, 0x01);
  out(0x21, 0x00);
  assert.equal(pic.acknowledge(), 0x20);
});

test('edge-triggered: a held line interrupts once; level-triggered (ELCR): while high', () => {
  const { pic, out, init } = make();
  init();
  pic.setIrq(4, true);
  assert.equal(pic.acknowledge(), 0x24);
  out(0x20, 0x20);
  pic.setIrq(4, true);
  assert.equal(pic.hasInterrupt(), false, 'no new edge');
  pic.setIrq(11, true); // IRQ 11 is level-triggered (ELCR 0x0C on the slave)
  assert.equal(pic.acknowledge(), 0x2b);
  out(0xa0, 0x20); out(0x20, 0x20);
  assert.equal(pic.hasInterrupt(), true, 'still high: requests again');
  assert.equal(pic.acknowledge(), 0x2b);
  out(0xa0, 0x20); out(0x20, 0x20);
  // The slave's INT rose again after its EOI and the master latched that edge on IR2;
  // the line drops before INTA, so the slave answers with its spurious vector (as QEMU).
  pic.setIrq(11, false);
  assert.equal(pic.acknowledge(), 0x2f);
  out(0x20, 0x20);
  assert.equal(pic.hasInterrupt(), false);
  out(0x4d0, 0xff);
  assert.equal(pic.portRead(0x4d0, 1), 0xf8, 'IRQ 0-2 cannot be level-triggered');
  out(0x4d1, 0xff);
  assert.equal(pic.portRead(0x4d1, 1), 0xde, 'nor IRQ 8 and 13');
});

test('spurious IRQ 7 and 15 when a level request vanishes before INTA', () => {
  const { pic, out, init } = make();
  init();
  out(0x4d0, 0x20); // IRQ 5 level
  pic.setIrq(5, true);
  assert.equal(pic.hasInterrupt(), true);
  pic.setIrq(5, false);
  assert.equal(pic.acknowledge(), 0x27, 'master spurious: IR7 vector');
  assert.equal(pic.master.isr, 0, 'no ISR bit for a spurious interrupt');
  pic.setIrq(10, true); // level on the slave
  assert.equal(pic.hasInterrupt(), true);
  pic.setIrq(10, false);
  assert.equal(pic.acknowledge(), 0x2f, 'slave spurious: IR15 vector');
  assert.equal(pic.slave.isr, 0);
  assert.equal(pic.master.isr, 0x04, 'the master acknowledged its cascade input');
});

test('cascade: slave interrupts arrive through master IR2 and need two EOIs', () => {
  const { pic, out, pulse, init } = make();
  init();
  pulse(12);
  assert.equal(pic.acknowledge(), 0x2c);
  assert.equal(pic.master.isr, 0x04);
  assert.equal(pic.slave.isr, 0x10);
  pulse(9);
  assert.equal(pic.hasInterrupt(), false, 'fully nested: IR2 in service blocks the slave');
  out(0xa0, 0x20);
  out(0x20, 0x20);
  assert.equal(pic.acknowledge(), 0x29);
});

test('special fully nested mode lets a higher slave request nest', () => {
  const { pic, pulse, init } = make();
  init(0x11);
  pulse(12);
  assert.equal(pic.acknowledge(), 0x2c);
  pulse(9);
  assert.equal(pic.acknowledge(), 0x29);
});

test('auto-EOI and rotation', () => {
  const { pic, out, pulse, init } = make();
  init(0x03); // AEOI
  pulse(3);
  assert.equal(pic.acknowledge(), 0x23);
  assert.equal(pic.master.isr, 0, 'no ISR bit in auto-EOI mode');
  init();
  out(0x20, 0xc4); // set priority: IR4 lowest, IR5 highest
  pulse(1);
  pulse(6);
  assert.equal(pic.acknowledge(), 0x26);
  out(0x20, 0xa0); // rotate on non-specific EOI: IR6 becomes lowest
  assert.equal(pic.master.priorityAdd, 7);
  assert.equal(pic.acknowledge(), 0x21);
  out(0x20, 0xe1); // rotate on specific EOI 1
  assert.equal(pic.master.priorityAdd, 2);
});

test('special mask mode: a lower request may interrupt a masked in-service level', () => {
  const { pic, out, pulse, init } = make();
  init();
  pulse(1);
  assert.equal(pic.acknowledge(), 0x21);
  pulse(5);
  assert.equal(pic.hasInterrupt(), false);
  out(0x21, 0x02); // mask IR1 (in service)
  out(0x20, 0x68); // OCW3: set special mask mode
  assert.equal(pic.acknowledge(), 0x25);
  out(0x20, 0x48); // reset special mask mode
  assert.equal(pic.master.specialMask, false);
});

test('ICW sequence without ICW4 and in single mode', () => {
  const { pic, out } = make();
  out(0x20, 0x12); // ICW1: single, no ICW4
  out(0x21, 0x40); // ICW2
  out(0x21, 0xfe); // OCW1 right away
  assert.equal(pic.master.vectorBase, 0x40);
  assert.equal(pic.master.imr, 0xfe);
  pic.setIrq(0, true);
  assert.equal(pic.acknowledge(), 0x40);
});
