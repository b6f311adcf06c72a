import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MmioBus, PortBus } from '../../../core/memory/bus';
import { PhysicalMemory } from '../../../core/memory/physical';
import { EventStream } from '../../../core/trace/events';
import { installPlatform } from '../../../core/devices/platform';
import { FakeClock, runUntil } from './helpers';

function boot(vcpus = 1, ramBytes = 128 * 1024 * 1024) {
  const events = new EventStream();
  const ports = new PortBus(events);
  const ram = new PhysicalMemory(ramBytes, new MmioBus(events));
  const clock = new FakeClock();
  const serial: number[] = [];
  const exits: number[] = [];
  let resets = 0;
  const platform = installPlatform(ports, ram, events, {
    vcpus, ramBytes, clock,
    onSerialByte: (b) => serial.push(b),
    onDebugExit: (s) => exits.push(s),
    onReset: () => resets++,
  });
  const inb = (p: number) => ports.read(0, p, 1);
  const outb = (p: number, v: number) => ports.write(0, p, 1, v);
  return { events, ports, ram, clock, serial, exits, resets: () => resets, platform, inb, outb };
}

test('what a -kernel guest reads first matches QEMU 7.2 after SeaBIOS', () => {
  const { inb, outb, ports } = boot();
  // probe.c, -m 128 -smp 1: port -> value (time-dependent bits excluded)
  assert.equal(inb(0x92), 0x02);
  assert.equal(inb(0x80), 0xff);
  assert.equal(ports.read(0, 0xf4, 4), 0);
  assert.equal(inb(0x21), 0xb8);
  assert.equal(inb(0xa1), 0x8e);
  assert.equal(inb(0x20), 0x10);
  assert.equal(inb(0x4d0), 0x00);
  assert.equal(inb(0x4d1), 0x0c);
  assert.equal(inb(0x3fd), 0x60);
  assert.equal(inb(0x3fa), 0x01);
  assert.equal(inb(0x3fe), 0xb0);
  assert.equal(inb(0x3fc), 0x08);
  assert.equal(inb(0x70), 0xff);
  outb(0x43, 0xe2);
  assert.equal(inb(0x40) & 0x3f, 0x34, 'PIT channel 0: lo/hi, mode 2');
  assert.equal(inb(0x43), 0);
  outb(0x70, 0x35);
  assert.equal(inb(0x71), 0x07);
  ports.write(0, 0x510, 2, 0);
  assert.equal(String.fromCharCode(inb(0x511), inb(0x511), inb(0x511), inb(0x511)), 'QEMU');
  ports.write(0, 0x510, 2, 5);
  assert.equal(inb(0x511), 1);
});

test('serial output and debug exit reach the sinks and the event stream', () => {
  const { outb, ports, serial, exits, events } = boot();
  const types: string[] = [];
  events.on((e) => types.push(e.type));
  for (const c of 'ok\n') outb(0x3f8, c.charCodeAt(0));
  ports.write(0, 0xf4, 4, 0x10);
  assert.equal(String.fromCharCode(...serial), 'ok\n');
  assert.deepEqual(exits, [0x21]);
  assert.deepEqual(types.filter((t) => t === 'serial.out').length, 3);
});

test('port 0x92 bit 0 requests a reset', () => {
  const b = boot();
  b.outb(0x92, 0x03);
  assert.equal(b.resets(), 1);
});

test('the ACPI tables are in guest memory where the layout says', () => {
  const { ram, platform } = boot(4);
  const rsdp = ram.readBytes(platform.acpi.rsdp, 20);
  assert.equal(String.fromCharCode(...rsdp.slice(0, 8)), 'RSD PTR ');
  assert.equal(new DataView(rsdp.buffer).getUint32(16, true), platform.acpi.rsdt);
  const madt = ram.readBytes(platform.acpi.madt, 8);
  assert.equal(String.fromCharCode(...madt.slice(0, 4)), 'APIC');
  assert.equal(new DataView(madt.buffer).getUint32(4, true), 0x90);
  // The guest sees them as ROM: its writes are ignored.
  ram.write8(platform.acpi.rsdp, 0);
  assert.equal(ram.read8(platform.acpi.rsdp), 0x52);
});

test('timer interrupts flow from the PIT through the PIC to the CPU side', () => {
  const { platform, clock } = boot();
  const { pic, pit, timedDevices } = platform;
  assert.ok(timedDevices.includes(pit));
  assert.equal(pic.hasInterrupt(), false);
  runUntil(pit, clock, 60e6); // one 18.2 Hz period
  assert.equal(pic.hasInterrupt(), true);
  assert.equal(pic.acknowledge(), 0x08);
  assert.equal(pic.hasInterrupt(), false);
});

test('fw_cfg DMA writes into guest RAM', () => {
  const { ram, ports } = boot(2);
  const desc = new Uint8Array(16);
  const dv = new DataView(desc.buffer);
  dv.setUint32(0, (5 << 16) | 0x0a, false);
  dv.setUint32(4, 2, false);
  dv.setUint32(12, 0x3000, false);
  ram.writeBytes(0x2000, desc);
  ports.write(0, 0x514, 4, 0);
  ports.write(0, 0x518, 4, 0x00200000); // 0x2000 byte-swapped, as a guest's outl sends it
  assert.deepEqual(Array.from(ram.readBytes(0x3000, 2)), [2, 0]);
  assert.equal(ram.read32(0x2000), 0);
});
