import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAcpiTables, buildMadt } from '../../../core/devices/acpi';

// MADTs dumped from QEMU 7.2 `-M pc` by probes/probe.c (-smp 1 and -smp 4): ours must be identical.
const QEMU_MADT_SMP1 =
  '4150494378000000018a424f4348532042585043202020200100000042585043010000000000e0fe01000000' +
  '0008000001000000010c00000000c0fe00000000020a0000020000000000020a0005050000000d00020a0009' +
  '090000000d00020a000a0a0000000d00020a000b0b0000000d000406ff000001';
const QEMU_MADT_SMP4 =
  '4150494390000000014b424f4348532042585043202020200100000042585043010000000000e0fe01000000' +
  '000800000100000000080101010000000008020201000000000803030100000001' +
  '0c00000000c0fe00000000020a0000020000000000020a0005050000000d00020a0009090000000d00020a00' +
  '0a0a0000000d00020a000b0b0000000d000406ff000001';

function memory() {
  const u8 = new Uint8Array(0x100000);
  return { u8, writeBytes: (pa: number, b: Uint8Array) => u8.set(b, pa) };
}

const sum = (b: Uint8Array) => b.reduce((s, x) => (s + x) & 0xff, 0);
const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const sig = (b: Uint8Array, at: number) => String.fromCharCode(...b.slice(at, at + 4));

/** Finds and checks the tables the way a guest does: RSDP scan, RSDT, MADT. */
function walk(u8: Uint8Array) {
  let rsdp = -1;
  for (let a = 0xe0000; a < 0x100000; a += 16) {
    if (String.fromCharCode(...u8.slice(a, a + 8)) === 'RSD PTR ') { rsdp = a; break; }
  }
  assert.notEqual(rsdp, -1, 'RSDP found in 0xE0000-0xFFFFF');
  assert.equal(sum(u8.slice(rsdp, rsdp + 20)), 0, 'RSDP checksum');
  assert.equal(u8[rsdp + 15], 0, 'revision 0');
  const rsdtAt = u32(u8, rsdp + 16);
  const rsdt = u8.slice(rsdtAt, rsdtAt + u32(u8, rsdtAt + 4));
  assert.equal(sig(rsdt, 0), 'RSDT');
  assert.equal(sum(rsdt), 0, 'RSDT checksum');
  const tables = [];
  for (let i = 36; i < rsdt.length; i += 4) tables.push(u32(rsdt, i));
  assert.equal(tables.length, 1, 'only the MADT is listed');
  const madt = u8.slice(tables[0], tables[0] + u32(u8, tables[0] + 4));
  assert.equal(sig(madt, 0), 'APIC');
  assert.equal(sum(madt), 0, 'MADT checksum');
  assert.ok(tables[0] + madt.length <= rsdp || tables[0] >= rsdp + 20, 'no overlap with the RSDP');
  return { rsdp, rsdtAt, madtAt: tables[0], madt };
}

function entries(madt: Uint8Array) {
  const out: { type: number; bytes: Uint8Array }[] = [];
  for (let at = 44; at < madt.length; at += madt[at + 1]) out.push({ type: madt[at], bytes: madt.slice(at, at + madt[at + 1]) });
  return out;
}

test('MADT bytes are identical to QEMU 7.2 for -smp 1 and -smp 4', () => {
  assert.equal(Buffer.from(buildMadt(1)).toString('hex'), QEMU_MADT_SMP1);
  assert.equal(Buffer.from(buildMadt(4)).toString('hex'), QEMU_MADT_SMP4);
});

test('tables are placed where a guest finds them, with valid checksums', () => {
  const m = memory();
  const layout = buildAcpiTables(m, { vcpus: 4, ramBytes: 128 << 20 });
  const w = walk(m.u8);
  assert.deepEqual(layout, { rsdp: w.rsdp, rsdt: w.rsdtAt, madt: w.madtAt });
  assert.equal(w.rsdp, 0xf59d0, 'where SeaBIOS puts it on QEMU');
  assert.equal(u32(w.madt, 36), 0xfee00000, 'local APIC address');
  assert.equal(u32(w.madt, 40), 1, 'PCAT_COMPAT');
  const e = entries(w.madt);
  assert.deepEqual(e.filter((x) => x.type === 0).map((x) => [x.bytes[2], x.bytes[3], u32(x.bytes, 4)]),
    [[0, 0, 1], [1, 1, 1], [2, 2, 1], [3, 3, 1]]);
  const ioapic = e.filter((x) => x.type === 1);
  assert.equal(ioapic.length, 1);
  assert.deepEqual([ioapic[0].bytes[2], u32(ioapic[0].bytes, 4), u32(ioapic[0].bytes, 8)], [0, 0xfec00000, 0]);
  const overrides = e.filter((x) => x.type === 2).map((x) => [x.bytes[3], u32(x.bytes, 4), x.bytes[8] | (x.bytes[9] << 8)]);
  assert.deepEqual(overrides, [[0, 2, 0], [5, 5, 0xd], [9, 9, 0xd], [10, 10, 0xd], [11, 11, 0xd]]);
  const nmi = e.filter((x) => x.type === 4);
  assert.deepEqual(Array.from(nmi[0].bytes), [4, 6, 0xff, 0, 0, 1], 'LINT1, all processors');
});

test('1024 vCPUs: xAPIC entries below 255, x2APIC entries above, all below 1 MiB', () => {
  const m = memory();
  buildAcpiTables(m, { vcpus: 1024, ramBytes: 128 << 20 });
  const w = walk(m.u8);
  assert.ok(w.madtAt + w.madt.length < 0x100000);
  const e = entries(w.madt);
  const xapic = e.filter((x) => x.type === 0);
  const x2apic = e.filter((x) => x.type === 9);
  assert.equal(xapic.length, 255);
  assert.equal(x2apic.length, 1024 - 255);
  xapic.forEach((x, i) => assert.deepEqual([x.bytes[2], x.bytes[3], u32(x.bytes, 4)], [i, i, 1]));
  x2apic.forEach((x, i) => {
    const id = 255 + i;
    assert.deepEqual([x.bytes[1], u32(x.bytes, 4), u32(x.bytes, 8), u32(x.bytes, 12)], [16, id, 1, id]);
  });
  assert.equal(e.filter((x) => x.type === 1).length, 1);
  assert.equal(e.filter((x) => x.type === 2).length, 5);
  assert.equal(e.filter((x) => x.type === 4).length, 0);
  const nmi = e.filter((x) => x.type === 0x0a);
  assert.equal(nmi.length, 1, 'Local x2APIC NMI replaces the Local APIC NMI, as QEMU does');
  assert.equal(u32(nmi[0].bytes, 4), 0xffffffff);
  assert.equal(nmi[0].bytes[8], 1);
});

test('rejects a vCPU count whose MADT cannot fit', () => {
  assert.throws(() => buildAcpiTables(memory(), { vcpus: 6000, ramBytes: 128 << 20 }), /does not fit/);
  assert.throws(() => buildMadt(0), RangeError);
});
