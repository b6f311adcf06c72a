// The hypervisor layer on real guests: exits counted per vCPU and reason, both INIT/SIPI
// paths (in-kernel and the ipi-exit capability), HLT exits, rendezvous, run states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine, MachineConfig } from '../../../core/machine';
import type { HsEvent } from '../../../core/trace/events';

const GUESTS = join(__dirname, '../../../../guests');

function boot(guest: string, config: MachineConfig, cmdline?: string) {
  const m = new Machine({ memoryMiB: 64, maxInstructions: 100_000_000, ...config });
  const image = join(GUESTS, guest, `${guest}.elf`);
  m.load(readFileSync(image), { imagePath: image, cmdline });
  const events: HsEvent[] = [];
  m.onEvent((e) => { if (e.type !== 'port.read' && e.type !== 'port.write' && e.type !== 'serial.out') events.push(e); });
  let out = '';
  m.onSerial = (b) => { out += String.fromCharCode(b); };
  const stop = m.run();
  return { m, events, out, stop };
}

test('smp-boot: every AP takes one INIT exit and two SIPI exits, in-kernel, with identical output with ipi-exit', () => {
  const plain = boot('smp-boot', { vcpus: 4 });
  const withCap = boot('smp-boot', { vcpus: 4, capabilities: ['ipi-exit'] });
  assert.equal(plain.stop?.reason, 'debug-exit');
  assert.equal(plain.out, withCap.out);
  for (const r of [plain, withCap]) {
    for (let v = 1; v < 4; v++) {
      assert.equal(r.m.vmm.exitCount(v, 'INIT'), 1, `vCPU ${v} INIT exits`);
      assert.equal(r.m.vmm.exitCount(v, 'SIPI'), 2, `vCPU ${v} SIPI exits`);
    }
  }
  // Without the capability INIT/SIPI never reach userspace; with it, each INIT and STARTUP IPI is an IPI exit of the sender.
  assert.equal(plain.m.vmm.exitCount(0, 'IPI'), 0);
  assert.equal(withCap.m.vmm.exitCount(0, 'IPI'), 9);
  const ipiExits = withCap.events.filter((e) => e.type === 'exit' && (e.data as { reason: string }).reason === 'IPI').map((e) => (e.data as { ipiMode?: string }).ipiMode);
  assert.deepEqual(ipiExits.sort(), ['init', 'init', 'init', 'startup', 'startup', 'startup', 'startup', 'startup', 'startup']);
});

test('an AP started by SIPI begins in real mode at vector << 12, and its state changes are events', () => {
  const r = boot('smp-boot', { vcpus: 2 });
  const states = r.events.filter((e) => e.type === 'vcpu.state' && e.vcpu === 1).map((e) => `${(e.data as { from: string }).from}->${(e.data as { to: string }).to}`);
  assert.ok(states.includes('wait-for-sipi->active'), states.join(' '));
  const firstMode = r.events.find((e) => e.type === 'mode.change' && e.vcpu === 1);
  assert.ok(firstMode, 'the AP changes mode after starting');
  assert.equal((firstMode!.data as { from: string }).from, 'real');
});

test('HLT exits only with the hlt-exit capability; exit events carry their qualification', () => {
  const off = boot('lapic-timer', { vcpus: 1 });
  const on = boot('lapic-timer', { vcpus: 1, capabilities: ['hlt-exit'] });
  assert.equal(off.out, on.out);
  assert.equal(off.m.vmm.exitCount(0, 'HLT'), 0);
  assert.ok(on.m.vmm.exitCount(0, 'HLT') > 0);
  const mmio = on.events.find((e) => e.type === 'exit' && (e.data as { reason: string }).reason === 'MMIO' && (e.data as { register?: string }).register === 'TIMER_ICR');
  assert.ok(mmio, 'a write to the LAPIC timer initial count is an MMIO exit naming the register');
  assert.ok(on.m.vmm.exitCount(0, 'INOUT') > 0, 'serial output is port I/O exits');
});

test('a trigger-mode change of an IOAPIC entry runs a TMR-update rendezvous with begin, arrive and end', () => {
  const r = boot('ioapic', { vcpus: 1 });
  assert.equal(r.stop?.reason, 'debug-exit');
  const kinds = r.events.filter((e) => e.type.startsWith('rendezvous.')).map((e) => e.type);
  assert.ok(kinds.length >= 3, `rendezvous events: ${kinds.join(' ')}`);
  assert.deepEqual(kinds.slice(0, 3), ['rendezvous.begin', 'rendezvous.arrive', 'rendezvous.end']);
  assert.ok(r.m.vmm.exitCount(0, 'RENDEZVOUS') > 0);
  assert.equal(r.m.vmm.rendezvous, null, 'nothing left in progress');
});

test('run states: sleeping APs, idle BSP between slices', () => {
  const m = new Machine({ memoryMiB: 16, vcpus: 3 });
  assert.deepEqual([0, 1, 2].map((v) => m.vmm.runState(v)), ['IDLE', 'SLEEPING', 'SLEEPING']);
});

test('the xAPIC page: the same exits, output and LAPIC state whether or not anyone listens to events', () => {
  // Unheard, each access takes PhysicalMemory's direct road to the LAPIC (ApicMmio.read32/write32),
  // from the compiled handlers too (mmu.ts PAGE32); heard, the MMIO bus's, which records it.
  // Both must be one exit each, with the same effects. 2000 round trips: the handlers compile.
  const heard = boot('ipi-pingpong', { vcpus: 2 }, 'rounds=2000');
  const m = new Machine({ memoryMiB: 64, maxInstructions: 100_000_000, vcpus: 2 });
  const image = join(GUESTS, 'ipi-pingpong', 'ipi-pingpong.elf');
  m.load(readFileSync(image), { imagePath: image, cmdline: 'rounds=2000' });
  let out = '';
  m.onSerial = (b) => { out += String.fromCharCode(b); };
  assert.equal(m.run()?.reason, 'debug-exit');
  assert.equal(out, heard.out);
  assert.match(out, /2000 round trips[^]*PASS/);
  assert.ok(m.decodeCache.blocks.traces > 0 && heard.m.decodeCache.blocks.traces > 0, 'the handlers ran compiled');
  // Exits name the register as the LAPIC's own events do: vectors 0x50 and 0x51 are in ISR bits 95:64.
  const named = (r: string) => heard.events.some((e) => e.type === 'exit' && (e.data as { register?: string }).register === r);
  assert.ok(named('ISR2') && named('PPR') && named('ICR_LOW') && named('EOI'));
  assert.ok(heard.events.some((e) => e.type === 'apic.write' && (e.data as { register: string }).register === 'ICR_LOW'));
  for (let v = 0; v < 2; v++) {
    const mmio = m.vmm.exitCount(v, 'MMIO');
    // Every handler reads ISR, PPR and the ICR and writes the ICR twice and EOI: at least 5 per round trip.
    assert.ok(mmio > 2000 * 5, `vCPU ${v}: ${mmio} MMIO exits`);
    assert.equal(mmio, heard.m.vmm.exitCount(v, 'MMIO'));
    assert.equal(heard.events.filter((e) => e.type === 'exit' && e.vcpu === v && (e.data as { reason: string }).reason === 'MMIO').length, mmio);
    assert.deepEqual(m.vmm.lastExitOf(v)?.reason, heard.m.vmm.lastExitOf(v)?.reason);
    assert.deepEqual([...m.lapics[v].isr, ...m.lapics[v].irr], [...heard.m.lapics[v].isr, ...heard.m.lapics[v].irr]);
  }
});
