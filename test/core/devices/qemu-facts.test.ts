// Differential check of the device models' guest-visible state against the real QEMU:
// builds probes/probe.c, runs it under qemu-system-x86_64 the way Hyperstep guests are
// run, and compares what it printed with what our devices return for the same reads.
// Skipped when QEMU or the 32-bit toolchain is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MmioBus, PortBus } from '../../../core/memory/bus';
import { PhysicalMemory } from '../../../core/memory/physical';
import { EventStream } from '../../../core/trace/events';
import { installPlatform } from '../../../core/devices/platform';
import { FakeClock } from './helpers';

// Sources live beside the compiled test's source: out/test/core/devices -> test/core/devices/probes.
const PROBES = path.resolve(__dirname, '../../../../test/core/devices/probes');

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function buildProbe(): string | null {
  if (!['qemu-system-x86_64', 'gcc', 'as', 'ld'].every(have)) return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-probe-'));
  const cflags = ['-m32', '-ffreestanding', '-fno-pic', '-fno-stack-protector', '-nostdlib', '-O1'];
  execFileSync('gcc', [...cflags, '-c', '-o', path.join(dir, 'probe.o'), path.join(PROBES, 'probe.c')]);
  execFileSync('as', ['--32', '-o', path.join(dir, 'start.o'), path.join(PROBES, 'start.S')]);
  execFileSync('ld', ['-m', 'elf_i386', '-T', path.join(PROBES, 'link.ld'), '-o', path.join(dir, 'probe.elf'),
    path.join(dir, 'start.o'), path.join(dir, 'probe.o')], { stdio: 'pipe' });
  return path.join(dir, 'probe.elf');
}

/** Runs the probe and returns its "key=value" lines and "name:" dumps. */
function runQemu(elf: string, vcpus: number, mib: number) {
  const r = spawnSync('qemu-system-x86_64', ['-nodefaults', '-display', 'none', '-serial', 'stdio',
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x4', '-m', String(mib), '-smp', String(vcpus), '-kernel', elf],
  { encoding: 'latin1', timeout: 60_000 });
  assert.equal(r.status, 1, `probe exit status (stderr: ${r.stderr})`);
  const values = new Map<string, number>();
  const dumps = new Map<string, string>();
  let dump: string | null = null;
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith(' ') && dump) {
      dumps.set(dump, (dumps.get(dump) ?? '') + line.trim());
      continue;
    }
    dump = null;
    const m = /^([\w]+)=([0-9a-f]+)$/.exec(line);
    if (m) values.set(m[1], parseInt(m[2], 16));
    const d = /^([\w]+):$/.exec(line);
    if (d) dump = d[1];
  }
  return { values, dumps };
}

function ours(vcpus: number, mib: number) {
  const events = new EventStream();
  const ports = new PortBus(events);
  const ramBytes = mib * 1024 * 1024;
  const ram = new PhysicalMemory(ramBytes, new MmioBus(events));
  const p = installPlatform(ports, ram, events, { vcpus, ramBytes, clock: new FakeClock(), onSerialByte: () => {}, onDebugExit: () => {}, onReset: () => {} });
  return { ports, ram, p };
}

const elf = buildProbe();

for (const [vcpus, mib] of [[1, 128], [4, 32]]) {
  test(`device state after SeaBIOS equals QEMU's (-smp ${vcpus} -m ${mib})`, { skip: elf ? false : 'qemu-system-x86_64 or the 32-bit toolchain is missing' }, () => {
    const q = runQemu(elf!, vcpus, mib);
    const { ports, ram, p } = ours(vcpus, mib);
    const inb = (port: number) => ports.read(0, port, 1);
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

    // Plain port reads, in the probe's order (misc(), pic(), uart()).
    const expect: [string, number][] = [
      ['p92', inb(0x92)], ['p80', inb(0x80)], ['pF4b', inb(0xf4)], ['pF4w', ports.read(0, 0xf4, 2)], ['pF4l', ports.read(0, 0xf4, 4)],
      ['pic_m_mask', inb(0x21)], ['pic_s_mask', inb(0xa1)], ['pic_m_irr', inb(0x20)],
      ['elcr0', inb(0x4d0)], ['elcr1', inb(0x4d1)],
      ...[1, 2, 3, 4, 5, 6, 7].map((r): [string, number] => [`uart${r}`, inb(0x3f8 + r)]),
      ['p70', inb(0x70)],
    ];
    for (const [k, v] of expect) assert.equal(v, q.values.get(k), k);

    // CMOS: everything but the clock (0x00-0x09, C, the century, and 0x37 which QEMU sets from the host date).
    const cmosQemu = Buffer.from(q.dumps.get('cmos')!, 'hex');
    for (let i = 0x0a; i < 0x80; i++) {
      if (i === 0x0c || i === 0x32 || i === 0x37) continue;
      assert.equal(p.cmos.readRegister(i), cmosQemu[i], `CMOS 0x${i.toString(16)}`);
    }

    // fw_cfg items.
    const item = (key: number, n: number) => {
      ports.write(0, 0x510, 2, key);
      return Buffer.from(Array.from({ length: n }, () => inb(0x511))).toString('hex');
    };
    assert.equal(item(0, 8), q.dumps.get('fw_sig'));
    assert.equal(item(1, 8), q.dumps.get('fw_id'));
    assert.equal(item(3, 12), q.dumps.get('fw_ram'));
    assert.equal(item(5, 4), q.dumps.get('fw_cpus'));
    assert.equal(item(0x0f, 4), q.dumps.get('fw_maxcpus'));
    assert.equal(ports.read(0, 0x514, 4), q.values.get('fw_dma_hi'));
    assert.equal(ports.read(0, 0x518, 4), q.values.get('fw_dma_lo'));

    // ACPI: same RSDP address, same MADT bytes (QEMU's RSDT lists more tables and lives elsewhere).
    assert.equal(p.acpi.rsdp, q.values.get('rsdp_at'));
    const madt = ram.readBytes(p.acpi.madt, ram.read32(p.acpi.madt + 4));
    assert.equal(hex(madt), q.dumps.get('madt'));
  });
}
