// Scale: guests/smp-boot starts every AP with INIT-SIPI-SIPI and each checks in from 64-bit
// mode, on the largest machines Hyperstep builds: 255 vCPUs in xAPIC mode (IDs 0..254, the most
// an 8-bit xAPIC ID addresses, 255 being broadcast) and 1024 in x2APIC mode (IDs above 254 need
// x2APIC and local x2APIC MADT entries: ACPI 6.x 5.2.12.12; SDM vol. 3, 10.12). Correctness
// only: nothing here is timed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '../../../core/machine';

const IMAGE = join(__dirname, '../../../../guests/smp-boot/smp-boot.elf');

function bootAll(vcpus: number, x2apic: boolean): { m: Machine; output: string } {
  const m = new Machine({ vcpus, memoryMiB: 64, x2apic });
  m.load(readFileSync(IMAGE), { imagePath: IMAGE });
  let output = '';
  m.onSerial = (b) => { output += String.fromCharCode(b); };
  const stop = m.run();
  assert.equal(stop?.reason, 'debug-exit', `${stop?.message}\n${output}`);
  assert.equal(stop?.exitCode, 1, `the guest reported failure:\n${output}`);
  return { m, output };
}

/** The IDs the guest printed as checked in from 64-bit mode (it parenthesises those that did not). */
function checkedInIds(output: string): string[] {
  const lines = output.split('\n');
  const first = lines.findIndex((l) => l.startsWith('smp-boot: APIC IDs'));
  assert.ok(first >= 0, output);
  const ids: string[] = [];
  for (let k = first; k < lines.length && !lines[k].includes('trampoline'); k++) {
    ids.push(...lines[k].replace(/^smp-boot:( APIC IDs)?/, '').trim().split(/\s+/));
  }
  return ids;
}

function expectBooted(m: Machine, output: string, vcpus: number, mode: 'xapic' | 'x2apic'): void {
  const lapicEntries = Math.min(vcpus, 255);
  assert.match(output, new RegExp(`MADT: ${lapicEntries} local APIC entries, ${vcpus - lapicEntries} local x2APIC entries, ${vcpus} CPUs enabled`));
  assert.match(output, new RegExp(`BSP is APIC 0, ${mode === 'x2apic' ? 'x2APIC' : 'xAPIC'} mode`));
  assert.match(output, new RegExp(`${vcpus} CPUs from the MADT, fw_cfg says ${vcpus}, ${vcpus} checked in`));
  assert.match(output, new RegExp(`trampoline entered ${vcpus - 1} times for ${vcpus - 1} APs, 0 unknown APs, 0 not in 64-bit mode on their stack`));
  assert.deepEqual(checkedInIds(output), Array.from({ length: vcpus }, (_, k) => String(k)));
  assert.ok(output.endsWith('PASS\n'), output);
  // What the guest saw agrees with the machine: every vCPU left wait-for-SIPI, runs 64-bit code,
  // and has its LAPIC in the mode the guest chose.
  const notLong = m.cpus.filter((c) => c.mode !== 'long64').map((c) => c.index);
  assert.deepEqual(notLong, []);
  const waiting = m.cpus.filter((c) => c.activity === 'wait-for-sipi' || c.activity === 'shutdown').map((c) => c.index);
  assert.deepEqual(waiting, []);
  const otherMode = m.lapics.filter((l) => l.mode() !== mode).length;
  assert.equal(otherMode, 0, `${otherMode} LAPICs not in ${mode} mode`);
}

test('smp-boot starts 255 vCPUs in xAPIC mode and all 255 check in', () => {
  const { m, output } = bootAll(255, false);
  expectBooted(m, output, 255, 'xapic');
});

test('smp-boot starts 1024 vCPUs in x2APIC mode and all 1024 check in', () => {
  const { m, output } = bootAll(1024, true);
  expectBooted(m, output, 1024, 'x2apic');
  assert.equal(m.cpus.length, 1024);
});
