import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventStream, HsEvent } from '../../../core/trace/events';
import { Uart16550, IIR_NO_INT, IIR_THRI, IIR_RDI, IIR_CTI, IIR_RLSI } from '../../../core/devices/uart16550';
import { FakeClock, IrqRecorder } from './helpers';

const BASE = 0x3f8;
function make() {
  const clock = new FakeClock();
  const irq = new IrqRecorder();
  const events = new EventStream();
  const seen: HsEvent[] = [];
  events.on((e) => seen.push(e));
  const out: number[] = [];
  const uart = new Uart16550({ irqLines: irq, clock, events, onTransmit: (b) => out.push(b) });
  const rd = (r: number) => uart.portRead(BASE + r, 1);
  const wr = (r: number, v: number) => uart.portWrite(BASE + r, 1, v);
  return { clock, irq, uart, out, seen, rd, wr };
}

test('registers after SeaBIOS read as on QEMU 7.2', () => {
  const { rd, wr } = make();
  // probe.c/probe2.c: IER 00, IIR 01, LCR 00, MCR 08, LSR 60, MSR b0, SCR 00
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(rd), [0x00, 0x01, 0x00, 0x08, 0x60, 0xb0, 0x00]);
  wr(3, 0x80);
  assert.equal(rd(0), 0x0c, 'DLL: divisor 12 (9600 baud)');
  assert.equal(rd(1), 0x00, 'DLM');
  assert.equal(rd(2), 0x01, 'IIR is still readable with DLAB');
  wr(0, 0x01);
  assert.equal(rd(0), 0x01);
  wr(3, 0x03);
  assert.equal(rd(1), 0x00, 'IER unchanged by the divisor write');
  wr(1, 0xff);
  assert.equal(rd(1), 0x0f, 'IER keeps 4 bits');
  wr(4, 0xff);
  assert.equal(rd(4), 0x1f, 'MCR keeps 5 bits');
  wr(5, 0xff);
  wr(6, 0xff);
  assert.equal(rd(5) & 0x60, 0x60, 'LSR is read-only');
  wr(4, 0x08);
  assert.equal(rd(6), 0xb0, 'MSR is read-only');
  wr(7, 0x5a);
  assert.equal(rd(7), 0x5a, 'scratch register');
});

test('transmission is instant, emits serial.out and calls the sink', () => {
  const { rd, wr, out, seen, uart } = make();
  for (const c of 'hi') wr(0, c.charCodeAt(0));
  assert.deepEqual(out, [0x68, 0x69]);
  assert.equal(rd(5), 0x60, 'THRE|TEMT right after a write');
  const serial = seen.filter((e) => e.type === 'serial.out').map((e) => e.data);
  assert.deepEqual(serial, [{ port: 0x3f8, byte: 0x68 }, { port: 0x3f8, byte: 0x69 }]);
  assert.equal(uart.txCount, 2);
});

test('FIFO enable shows in IIR bits 6-7', () => {
  const { rd, wr } = make();
  wr(2, 0x07);
  assert.equal(rd(2), 0xc1);
  wr(2, 0xc7);
  assert.equal(rd(2), 0xc1);
  wr(2, 0x00);
  assert.equal(rd(2), 0x01);
});

test('THRE interrupt: raised on enabling, cleared by reading IIR, re-raised by a THR write', () => {
  const { rd, wr, irq } = make();
  wr(1, 0x02);
  assert.equal(irq.level(4), true, 'IRQ 4 raised');
  assert.equal(rd(2), IIR_THRI);
  assert.equal(irq.level(4), false, 'reading IIR acknowledged it');
  assert.equal(rd(2), IIR_NO_INT);
  wr(0, 0x41);
  assert.equal(irq.level(4), true);
  assert.equal(rd(2), IIR_THRI);
  const edges = irq.risingEdges(4);
  wr(0, 0x42); // line drops while THR is "full", then rises again: a new edge for the 8259
  assert.equal(irq.risingEdges(4), edges + 1);
  wr(1, 0x00);
  assert.equal(irq.level(4), false);
  assert.equal(rd(2), IIR_NO_INT);
});

test('loopback: MSR mirrors MCR, bytes come back, nothing is transmitted', () => {
  const { rd, wr, out } = make();
  wr(4, 0x1f);
  assert.equal(rd(6), 0xf0);
  wr(4, 0x10);
  assert.equal(rd(6), 0x00);
  wr(4, 0x1d);
  assert.equal(rd(6), 0xe0);
  wr(0, 0x5a);
  assert.deepEqual(out, []);
  assert.equal(rd(5), 0x61, 'data ready');
  assert.equal(rd(2), IIR_NO_INT, 'RX interrupt not enabled');
  wr(1, 0x01);
  assert.equal(rd(2), IIR_RDI);
  assert.equal(rd(0), 0x5a);
  assert.equal(rd(5), 0x60);
  assert.equal(rd(2), IIR_NO_INT);
  wr(4, 0x03);
  assert.equal(rd(6), 0xb0, 'back to the fixed modem lines');
});

test('non-FIFO receive: a second byte overruns and RBR keeps the last byte', () => {
  const { rd, wr } = make();
  wr(4, 0x10);
  wr(0, 0x61);
  wr(0, 0x62);
  assert.equal(rd(0), 0x62);
  assert.equal(rd(0), 0x62, 'RBR is sticky without the FIFO (as QEMU)');
  assert.equal(rd(5), 0x62, 'OE set');
  assert.equal(rd(5), 0x60, 'OE cleared by reading LSR');
});

test('FIFO receive: trigger level, overrun keeps the FIFO, empty reads 0', () => {
  const { rd, wr, irq } = make();
  wr(4, 0x10);
  wr(1, 0x01);
  wr(2, 0xc7); // trigger level 14
  wr(0, 0x64);
  assert.equal(rd(2), 0xc1, 'one byte is below the trigger level');
  for (let i = 0; i < 20; i++) wr(0, 0x41 + i);
  assert.equal(rd(5), 0x63, 'overrun');
  assert.equal(rd(5), 0x61);
  assert.equal(rd(2), 0xc0 | IIR_RDI);
  assert.equal(irq.level(4), true);
  const got: number[] = [];
  for (let i = 0; i < 16; i++) got.push(rd(0));
  assert.deepEqual(got, [0x64, ...Array.from({ length: 15 }, (_, i) => 0x41 + i)]);
  assert.equal(rd(5), 0x60);
  assert.equal(rd(0), 0, 'empty FIFO reads 0');
  wr(0, 0x30);
  wr(2, 0x03); // reset the receiver FIFO
  assert.equal(rd(5), 0x60);
});

test('receiver line status interrupt has the highest priority', () => {
  const { rd, wr } = make();
  wr(4, 0x10);
  wr(1, 0x07);
  wr(0, 1);
  wr(0, 2); // overrun
  assert.equal(rd(2), IIR_RLSI);
  rd(5);
  assert.equal(rd(2), IIR_RDI);
});

test('character timeout fires four character times after the last byte', () => {
  const { rd, wr, uart, clock, irq } = make();
  wr(3, 0x03); // 8N1: 10-bit frames at 9600 baud
  wr(4, 0x10);
  wr(1, 0x01);
  wr(2, 0xc7);
  wr(0, 0x41);
  const char = Math.floor((1e9 / 9600) * 10);
  assert.equal(uart.charTimeNs, char);
  assert.equal(uart.nextDeadlineNs(), 4 * char);
  clock.ns = 4 * char;
  uart.fire(clock.ns);
  assert.equal(rd(2), 0xc0 | IIR_CTI);
  assert.equal(irq.level(4), true);
  assert.equal(rd(0), 0x41);
  assert.equal(rd(2), 0xc1, 'reading RBR clears the timeout');
  assert.equal(uart.nextDeadlineNs(), Infinity);
});

test('pushInput never overruns: bytes wait until the guest makes room', () => {
  const { rd, wr, uart } = make();
  uart.pushInput([1, 2, 3]);
  assert.equal(rd(5) & 0x03, 0x01, 'data ready, no overrun');
  assert.equal(rd(0), 1);
  assert.equal(rd(0), 2);
  assert.equal(rd(0), 3);
  assert.equal(rd(5) & 1, 0);
  wr(2, 0x01);
  uart.pushInput(Array.from({ length: 20 }, (_, i) => i));
  assert.equal(uart.rxCount, 16);
  assert.equal(uart.pendingInput.length, 4);
  for (let i = 0; i < 20; i++) assert.equal(rd(0), i);
  assert.equal(rd(5) & 0x03, 0);
});

test('wide accesses split into byte accesses on consecutive registers', () => {
  const { uart } = make();
  uart.portWrite(0x3fb, 1, 0x80);
  uart.portWrite(0x3f8, 2, 0x0201);
  assert.equal(uart.divisor, 0x0201);
  assert.equal(uart.portRead(0x3f8, 2), 0x0201);
});
