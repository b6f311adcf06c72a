// Differential check of the LAPIC and IOAPIC models against QEMU 7.2: builds
// probes/apic-probe.c, runs it under qemu-system-x86_64 as a -kernel guest, replays the
// same accesses on our models, and compares. Where we follow the SDM or the 82093AA
// datasheet instead of QEMU, the difference is listed (and so checked both ways).
// Skipped when QEMU or the 32-bit toolchain is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EventStream } from '../../../core/trace/events';
import { IoApic } from '../../../core/apic/ioapic';
import { rig } from './helpers';

const HERE = path.resolve(__dirname, '../../../../test/core/apic/probes');
const SHARED = path.resolve(__dirname, '../../../../test/core/devices/probes');

/** Keys where we differ on purpose: [QEMU 7.2, ours, why]. */
const DIFFERENCES: Record<string, [number, number, string]> = {
  id_w: [0x05000000, 0, 'APIC ID read-only (SDM: since Nehalem)'],
  lvt_error_ff: [0xffffffff, 0x000100ff, 'reserved and read-only LVT bits not stored'],
  lvt_timer_ff: [0xffffffff, 0x000700ff, 'reserved and read-only LVT bits not stored'],
  icr_high_ff: [0xffffffff, 0xff000000, 'ICR bits 55:32 reserved'],
  ver_plus4: [0x00050014, 0, 'bytes 4-15 of a register: undefined (SDM), we read 0'],
  irr0_after_self5: [0x20, 0, 'vectors 0-15 are not latched (SDM "Valid Interrupt Vectors")'],
  tmr7_after_level_self: [0x00010000, 0, 'the xAPIC issues level-triggered IPIs as edge (ICR table note 2)'],
  io_rte20_lo_ff: [0xffffafff, 0x0001afff, 'reserved redirection-entry bits not stored'],
  io_rte20_hi_ff: [0xffffffff, 0xff000000, 'reserved redirection-entry bits not stored'],
};

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function qemuFacts(): Map<string, number> | null {
  if (!['qemu-system-x86_64', 'gcc', 'as', 'ld'].every(have)) return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-apic-probe-'));
  const o = (n: string) => path.join(dir, n);
  execFileSync('gcc', ['-m32', '-ffreestanding', '-fno-pic', '-fno-stack-protector', '-nostdlib', '-O1', '-c', '-o', o('p.o'), path.join(HERE, 'apic-probe.c')], { stdio: 'pipe' });
  execFileSync('as', ['--32', '-o', o('start.o'), path.join(SHARED, 'start.S')]);
  execFileSync('ld', ['-m', 'elf_i386', '-T', path.join(SHARED, 'link.ld'), '-o', o('p.elf'), o('start.o'), o('p.o')], { stdio: 'pipe' });
  const r = spawnSync('qemu-system-x86_64', ['-nodefaults', '-display', 'none', '-serial', 'stdio', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x4',
    '-m', '32', '-smp', '2', '-kernel', o('p.elf')], { encoding: 'latin1', timeout: 60_000 });
  assert.equal(r.status, 1, `probe exit status (stderr: ${r.stderr})`);
  const values = new Map<string, number>();
  for (const line of r.stdout.split('\n')) {
    const m = /^(\w+)=([0-9a-f]+)$/.exec(line.trim());
    if (m) values.set(m[1], parseInt(m[2], 16));
  }
  return values;
}

/** The probe's accesses replayed on our models, from the state SeaBIOS leaves on the BSP. */
function ourFacts(): Map<string, number> {
  const v = new Map<string, number>();
  const { apic, rd, wr } = rig({ bsp: true });
  // What SeaBIOS does before a -kernel guest runs (see the probe's first lines): the
  // vmm will have to start the BSP in this state.
  wr(0xf0, 0x1ff);
  wr(0x350, 0x8700);
  wr(0x360, 0x8400);
  const kv = (k: string, x: number) => v.set(k, x >>> 0);
  const mask = (k: string, off: number, value: number, restore: number) => { wr(off, value); kv(k, rd(off)); wr(off, restore); };
  kv('apic_base', apic.readApicBase()[0]);
  kv('svr', rd(0xf0)); kv('lint0', rd(0x350)); kv('lint1', rd(0x360));
  kv('lvt_timer', rd(0x320)); kv('lvt_error', rd(0x370));
  kv('dfr', rd(0xe0)); kv('ldr', rd(0xd0)); kv('tpr', rd(0x80));
  kv('ver', rd(0x30));
  mask('tpr_fff', 0x80, 0xfff, 0);
  mask('ldr_ff', 0xd0, 0xffffffff, 0);
  mask('dfr_0', 0xe0, 0, 0xffffffff);
  mask('svr_ff', 0xf0, 0xffffffff, 0x1ff);
  mask('dcr_ff', 0x3e0, 0xffffffff, 0);
  mask('id_w', 0x20, 0x05000000, 0);
  mask('lvt_error_ff', 0x370, 0xffffffff, 0x10000);
  mask('lvt_timer_ff', 0x320, 0xffffffff, 0x10000);
  mask('icr_high_ff', 0x310, 0xffffffff, 0);
  wr(0x80, 0x35); kv('apr_tpr35', rd(0x90)); kv('ppr_tpr35', rd(0xa0)); wr(0x80, 0);
  kv('ver_b', apic.readMmio(0x30, 1));
  kv('ver_w', apic.readMmio(0x30, 2));
  kv('ver_plus4', apic.readMmio(0x34, 4));
  kv('rsvd_3f0', rd(0x3f0));
  kv('rsvd_2f0', rd(0x2f0));
  wr(0x300, 0x00040005);
  kv('irr0_after_self5', rd(0x200));
  wr(0x300, 0x0004c0f0);
  kv('tmr7_after_level_self', rd(0x1f0));
  kv('irr7_after_level_self', rd(0x270));
  const io = new IoApic({ deliver: () => {} }, new EventStream());
  const ioRd = (i: number) => { io.mmioWrite(0, 4, i); return io.mmioRead(0x10, 4); };
  const ioWr = (i: number, x: number) => { io.mmioWrite(0, 4, i); io.mmioWrite(0x10, 4, x); };
  kv('io_id', ioRd(0)); kv('io_ver', ioRd(1)); kv('io_arb', ioRd(2));
  let loOr = 0, loAnd = 0xffffffff, hiOr = 0;
  for (let pin = 0; pin < 24; pin++) { const lo = ioRd(0x10 + 2 * pin); loOr |= lo; loAnd &= lo; hiOr |= ioRd(0x11 + 2 * pin); }
  kv('io_rte_lo_or', loOr); kv('io_rte_lo_and', loAnd); kv('io_rte_hi_or', hiOr);
  ioWr(0, 0xffffffff); kv('io_id_ff', ioRd(0)); ioWr(0, 0);
  ioWr(0x10 + 40, 0xffffffff); kv('io_rte20_lo_ff', ioRd(0x10 + 40)); ioWr(0x10 + 40, 0x10000);
  ioWr(0x11 + 40, 0xffffffff); kv('io_rte20_hi_ff', ioRd(0x11 + 40)); ioWr(0x11 + 40, 0);
  io.mmioWrite(0, 4, 0xfffffff1); kv('io_regsel', io.mmioRead(0, 4));
  return v;
}

test('LAPIC and IOAPIC registers as QEMU 7.2 shows them, except the listed differences', (t) => {
  const qemu = qemuFacts();
  if (!qemu) { t.skip('qemu-system-x86_64 or the 32-bit toolchain is not installed'); return; }
  const ours = ourFacts();
  assert.deepEqual([...qemu.keys()].sort(), [...ours.keys()].sort(), 'same keys');
  for (const [k, q] of qemu) {
    const o = ours.get(k)!;
    const diff = DIFFERENCES[k];
    if (diff) {
      assert.equal(q, diff[0], `${k}: QEMU value as documented (${diff[2]})`);
      assert.equal(o, diff[1], `${k}: our value as documented (${diff[2]})`);
    } else {
      assert.equal(o, q, `${k}: ours 0x${o.toString(16)}, QEMU 0x${q.toString(16)}`);
    }
  }
});
