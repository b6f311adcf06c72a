// The IOAPIC (82093AA datasheet; values as QEMU 7.2 reports them): registers, edge and
// level pins, remote IRR, masking, EOI, ISA IRQ routing, and the path to the LAPICs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventStream } from '../../../core/trace/events';
import { IsaIrqRouter } from '../../../core/devices/isa-irq';
import { IoApic, isaIrqToGsi } from '../../../core/apic/ioapic';
import { IoApicMessage } from '../../../core/apic/types';
import { LocalApic } from '../../../core/apic/lapic';
import { matchesDestination } from '../../../core/apic/destination';
import { EventLog, FakeClock, RecordingBus, vectors } from './helpers';

function make() {
  const sent: IoApicMessage[] = [];
  const events = new EventStream();
  const log = new EventLog(events);
  const io = new IoApic({ deliver: (m) => { sent.push(m); } }, events);
  const rd = (index: number) => { io.mmioWrite(0x00, 4, index); return io.mmioRead(0x10, 4); };
  const wr = (index: number, value: number) => { io.mmioWrite(0x00, 4, index); io.mmioWrite(0x10, 4, value); };
  const route = (pin: number, lo: number, dest = 0) => { wr(0x11 + 2 * pin, dest << 24); wr(0x10 + 2 * pin, lo); };
  return { io, sent, log, rd, wr, route };
}

const LEVEL = 0x8000, MASKED = 0x10000, LOW = 0x2000, REMOTE_IRR = 0x4000;

test('reset values: ID 0, VER 0x00170020, ARB 0, every entry masked', () => {
  const { rd } = make();
  assert.equal(rd(0x00), 0);
  assert.equal(rd(0x01), 0x00170020, '24 entries, version 0x20');
  assert.equal(rd(0x02), 0);
  for (let pin = 0; pin < 24; pin++) {
    assert.equal(rd(0x10 + 2 * pin), 0x00010000);
    assert.equal(rd(0x11 + 2 * pin), 0);
  }
  assert.equal(rd(0x03), 0, 'registers that do not exist read 0');
  assert.equal(rd(0x40), 0);
});

test('IOREGSEL keeps 8 bits; ID keeps bits 27:24 and ARB follows it; VER and ARB are read-only', () => {
  const { io, rd, wr } = make();
  io.mmioWrite(0x00, 4, 0xfffffff1);
  assert.equal(io.mmioRead(0x00, 4), 0xf1);
  wr(0x00, 0xffffffff);
  assert.equal(rd(0x00), 0x0f000000);
  assert.equal(rd(0x02), 0x0f000000);
  wr(0x01, 0);
  wr(0x02, 0);
  assert.equal(rd(0x01), 0x00170020);
  assert.equal(rd(0x02), 0x0f000000);
});

test('redirection entry write masks: reserved bits dropped, delivery status and remote IRR read-only', () => {
  const { rd, wr } = make();
  wr(0x10 + 40, 0xffffffff);
  wr(0x11 + 40, 0xffffffff);
  assert.equal(rd(0x10 + 40), 0x0001afff);
  assert.equal(rd(0x11 + 40), 0xff000000);
});

test('edge: one message per asserting edge; an edge on a masked pin is lost', () => {
  const { io, sent, route } = make();
  route(4, 0x31, 1);
  io.setPin(4, true);
  io.setPin(4, true);
  assert.deepEqual(sent, [{ pin: 4, vector: 0x31, mode: 'fixed', destMode: 'physical', dest: 1, trigger: 'edge' }]);
  io.setPin(4, false);
  route(4, 0x31 | MASKED, 1);
  io.setPin(4, true);
  io.setPin(4, false);
  route(4, 0x31, 1);
  assert.equal(sent.length, 1, 'not held pending (82093AA: "ignored")');
  io.setPin(4, true);
  assert.equal(sent.length, 2);
});

test('level: remote IRR blocks re-sending until an EOI; still asserted after the EOI, it is sent again', () => {
  const { io, sent, rd, log, route } = make();
  route(9, LEVEL | 0x49);
  io.setPin(9, true);
  assert.equal(sent.length, 1);
  assert.equal(sent[0].trigger, 'level');
  assert.equal(rd(0x10 + 18) & REMOTE_IRR, REMOTE_IRR);
  io.setPin(9, false);
  io.setPin(9, true);
  assert.equal(sent.length, 1, 'remote IRR set: nothing new');
  assert.equal(io.eoi(0x48), 0, 'another vector: no effect');
  assert.equal(io.eoi(0x49), 1 << 9);
  assert.equal(sent.length, 2, 'still asserted: sent again');
  io.setPin(9, false);
  io.eoi(0x49);
  assert.equal(rd(0x10 + 18) & REMOTE_IRR, 0);
  assert.equal(sent.length, 2, 'deasserted: nothing');
  assert.deepEqual(log.of('ioapic.eoi').map((e) => e.pins), [0, 1 << 9, 1 << 9]);
});

test('level: masked while asserted sends nothing; unmasking sends it', () => {
  const { io, sent, route } = make();
  route(10, LEVEL | MASKED | 0x50);
  io.setPin(10, true);
  assert.equal(sent.length, 0);
  route(10, LEVEL | 0x50);
  assert.equal(sent.length, 1);
});

test('polarity: an active-low pin is asserted when its line is low', () => {
  const { io, sent, route } = make();
  io.setPin(11, true); // idle high
  route(11, LEVEL | LOW | 0x51);
  assert.equal(sent.length, 0);
  io.setPin(11, false);
  assert.equal(sent.length, 1);
  assert.equal(io.asserted(11), true);
});

test('EOI register at 0x40 (version 0x20); switching to edge clears remote IRR', () => {
  const { io, sent, rd, route } = make();
  route(5, LEVEL | 0x45);
  io.setPin(5, true);
  io.mmioWrite(0x40, 4, 0x45);
  assert.equal(sent.length, 2);
  route(5, 0x45);
  assert.equal(rd(0x10 + 10) & REMOTE_IRR, 0);
});

test('delivery modes: NMI/SMI/INIT/ExtINT are edge whatever the trigger bit; reserved modes send nothing', () => {
  const { io, sent, route } = make();
  const modes: [number, string][] = [[1, 'lowest'], [2, 'smi'], [4, 'nmi'], [5, 'init'], [7, 'extint']];
  modes.forEach(([dm, name], i) => {
    route(12 + i, (dm << 8) | (dm === 1 ? 0 : LEVEL) | 0x800 | 0x60, 3);
    io.setPin(12 + i, true);
    assert.equal(sent.at(-1)!.mode, name);
    assert.equal(sent.at(-1)!.destMode, 'logical');
    assert.equal(sent.at(-1)!.trigger, 'edge');
  });
  route(20, 3 << 8);
  route(21, 6 << 8);
  io.setPin(20, true);
  io.setPin(21, true);
  assert.equal(sent.length, modes.length);
});

test('ISA IRQs: IRQ0 -> pin 2 (MADT override), others identity; attaches to the platform IRQ router', () => {
  assert.deepEqual([0, 1, 2, 4, 8, 15].map(isaIrqToGsi), [2, 1, 2, 4, 8, 15]);
  const { io, sent, route } = make();
  route(2, 0x30);
  route(4, 0x34);
  const isa = new IsaIrqRouter();
  isa.attach(io);
  isa.pulse(0);
  isa.pulse(4);
  assert.deepEqual(sent.map((m) => [m.pin, m.vector]), [[2, 0x30], [4, 0x34]]);
  assert.throws(() => io.setPin(24, true), RangeError);
});

test('end to end with local APICs: a level interrupt, EOI broadcast from the LAPIC, re-delivery', () => {
  const clock = new FakeClock();
  const events = new EventStream();
  const bus = new RecordingBus();
  let io: IoApic;
  const lapics = [0, 1].map((i) => new LocalApic(i, i, i === 0, clock, bus, events));
  lapics.forEach((a) => a.writeMmio(0xf0, 4, 0x1ff));
  bus.eoiLevel = (_src, vector) => { io.eoi(vector); };
  io = new IoApic({
    deliver: (m) => {
      for (const a of lapics) if (matchesDestination(a, m.dest, m.destMode, false)) a.acceptInterrupt(m.vector, m.trigger, 'ioapic');
    },
  }, events);
  io.writeRegister(0x10 + 18, LEVEL | 0x59);
  io.writeRegister(0x11 + 18, 1 << 24);
  io.setIrq(9, true);
  const b = lapics[1];
  assert.deepEqual(vectors(b.irr), [0x59]);
  assert.deepEqual(vectors(b.tmr), [0x59]);
  assert.equal(b.acknowledge(), 0x59);
  b.writeMmio(0xb0, 4, 0);
  assert.deepEqual(vectors(b.irr), [0x59], 'line still high: delivered again after the EOI');
  assert.equal(b.acknowledge(), 0x59);
  io.setIrq(9, false);
  b.writeMmio(0xb0, 4, 0);
  assert.deepEqual(vectors(b.irr), []);
  assert.equal(io.entry(9).remoteIrr, false);
  assert.deepEqual(vectors(lapics[0].irr), [], 'physical destination 1 only');
});
