// Each quirk reproduces a real hypervisor bug: with it off the demo guest shows hardware
// behaviour (its expected.out, also what QEMU or the SDM gives); with it on the bug happens,
// and the invariant that hardware keeps stops the VM, naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine, StopInfo } from '../../../core/machine';

const GUESTS = join(__dirname, '../../../../guests');

function run(guest: string, vcpus: number, quirks: string[] = [], seed = 0): { m: Machine; out: string; stop: StopInfo | null } {
  const image = join(GUESTS, guest, `${guest}.elf`);
  const m = new Machine({ memoryMiB: 64, vcpus, quirks, seed, maxInstructions: 200_000_000 });
  m.load(readFileSync(image), { imagePath: image });
  let out = '';
  m.onSerial = (b) => { out += String.fromCharCode(b); };
  const stop = m.run();
  return { m, out, stop };
}

function expected(guest: string): string {
  return readFileSync(join(GUESTS, guest, 'expected.out'), 'latin1');
}

const CASES: [quirk: string, vcpus: number, stop: StopInfo['reason'], message: RegExp][] = [
  ['deferred-irr-ack', 2, 'invariant', /invariant ipi-lost broken: interrupt vector 0x50 to vCPU 1 collapsed/],
  ['accept-while-disabled', 2, 'invariant', /invariant irr-while-disabled broken: vector 0x50 latched into the IRR of vCPU 1/],
  ['init-broadcast-self', 4, 'init-bsp', /INIT delivered to the BSP \(vCPU 0\) by vCPU 0 \(INIT to all including self, init-broadcast-self\)/],
  ['async-init-suspend', 2, 'invariant', /invariant sipi-lost broken: STARTUP \(vector 0x8\) to vCPU 1 found it still running/],
];

for (const [quirk, vcpus, reason, message] of CASES) {
  const guest = `quirk-${quirk}`;
  test(`${quirk}: off, the demo shows hardware behaviour; on, the bug happens and is named`, () => {
    const off = run(guest, vcpus);
    assert.equal(off.stop?.reason, 'debug-exit', off.stop?.message);
    assert.equal(off.out, expected(guest));
    const on = run(guest, vcpus, [quirk]);
    assert.equal(on.stop?.reason, reason);
    assert.match(on.stop!.message, message);
    assert.ok(expected(guest).startsWith(on.out), 'the output up to the bug is the hardware one');
  });
}

test('spurious-rendezvous: vCPUs outside the requested set take rendezvous exits only with the quirk', () => {
  const off = run('quirk-spurious-rendezvous', 4);
  assert.equal(off.out, expected('quirk-spurious-rendezvous'));
  const counts = (r: { m: Machine }) => [0, 1, 2, 3].map((v) => r.m.vmm.exitCount(v, 'RENDEZVOUS'));
  assert.deepEqual(counts(off), [0, 8, 0, 0]);
  const on = run('quirk-spurious-rendezvous', 4, ['spurious-rendezvous']);
  assert.equal(on.out, off.out, 'the guest cannot tell');
  const c = counts(on);
  assert.equal(c[1], 8);
  assert.ok(c[2] > 0 && c[3] > 0, `spurious exits on vCPUs 2 and 3: ${c.join(' ')}`);
});

/** The host side of quirk-ept-invalidate-no-wait: remap the data page once the readers are in their loop. */
function eptRun(quirks: string[]): { out: string; stop: StopInfo | null } {
  const image = join(GUESTS, 'quirk-ept-invalidate-no-wait', 'quirk-ept-invalidate-no-wait.elf');
  const m = new Machine({ memoryMiB: 64, vcpus: 4, quirks });
  m.load(readFileSync(image), { imagePath: image });
  let out = '';
  m.onSerial = (b) => { out += String.fromCharCode(b); };
  const word = (pa: number) => new DataView(m.phys.readBytes(pa, 4).buffer).getUint32(0, true);
  let remapped = false;
  let stop: StopInfo | null = null;
  for (let k = 0; k < 10_000 && !stop; k++) {
    stop = m.run(20_000);
    if (!remapped && word(0x401000) === 0x31545045 && word(0x401010) === word(0x40100c) && word(0x40100c) > 0) {
      const page = new Uint8Array(4096).fill(0x5a);
      m.remapGuestPage(0x400000, page);
      m.phys.writeBytes(0x401008, Uint8Array.of(1, 0, 0, 0));
      remapped = true;
    }
  }
  assert.ok(remapped, 'the readers reached their loop');
  return { out, stop };
}

test('ept-invalidate-no-wait: after a host remap no reader sees the old page; with the quirk one does and the VM stops', () => {
  const off = eptRun([]);
  assert.equal(off.stop?.reason, 'debug-exit', off.stop?.message);
  assert.match(off.out, /host remap seen by 3 of 3 readers/);
  assert.match(off.out, /of the old contents: 0\b/);
  const on = eptRun(['ept-invalidate-no-wait']);
  assert.equal(on.stop?.reason, 'invariant');
  assert.match(on.stop!.message, /stale-translation/);
});
