// Host-side remapping of guest-physical memory (EPT): hardware-correct invalidation waits for
// every vCPU, so none sees the old page; ept-invalidate-no-wait lets a vCPU use its stale
// translation, which breaks the stale-translation invariant and stops the VM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../../../core/machine';

// loop: mov eax, [0x200000]; jmp loop (no exits: the vCPU never leaves the guest)
const SPIN = [0xa1, 0x00, 0x00, 0x20, 0x00, 0xeb, 0xf9];

function machine(quirks: string[] = []) {
  const m = new Machine({ memoryMiB: 16, quirks, quantum: 100 });
  m.load(Uint8Array.from(SPIN), { format: 'flat' });
  m.phys.writeBytes(0x200000, Uint8Array.of(0x11, 0x11, 0x11, 0x11));
  m.run(1000);
  assert.equal(m.cpus[0].gpr[0] >>> 0, 0x11111111);
  return m;
}

const page = (b: number) => new Uint8Array(4096).fill(b);

test('after a host remap the running vCPU reads the new page at once (invalidation waited for it)', () => {
  const m = machine();
  const gen = m.vmm.eptGeneration;
  m.remapGuestPage(0x200000, page(0x22));
  assert.equal(m.vmm.eptGeneration, gen + 1);
  m.run(1000);
  assert.equal(m.stopInfo, null);
  assert.equal(m.cpus[0].gpr[0] >>> 0, 0x22222222);
});

test('ept-invalidate-no-wait: the vCPU uses its stale translation and the invariant stops the VM', () => {
  const m = machine(['ept-invalidate-no-wait']);
  m.remapGuestPage(0x200000, page(0x22));
  const stop = m.run(1000);
  assert.equal(stop?.reason, 'invariant');
  assert.match(stop!.message, /stale-translation/);
  assert.match(stop!.message, /page 0x200000/);
  assert.equal(m.cpus[0].gpr[0] >>> 0, 0x11111111, 'it read the old contents');
});

test('a host write to a register of a running vCPU breaks the register-write invariant; between slices it is fine', () => {
  const m = new Machine({ memoryMiB: 16 });
  // out 0x3f8, al (a serial byte: the host's callback runs while vCPU 0 is in the guest); then spin.
  m.load(Uint8Array.of(0xb0, 0x41, 0x66, 0xba, 0xf8, 0x03, 0xee, 0xeb, 0xfe), { format: 'flat' });
  let during: boolean | null = null;
  m.onSerial = () => { during = m.writeRegister(0, 3, 7); };
  const stop = m.run(1000);
  assert.equal(during, false);
  assert.equal(stop?.reason, 'invariant');
  assert.match(stop!.message, /register-write-while-running/);
  const idle = new Machine({ memoryMiB: 16 });
  idle.load(Uint8Array.of(0xeb, 0xfe), { format: 'flat' });
  idle.run(100);
  assert.equal(idle.writeRegister(0, 3, 7), true);
  assert.equal(idle.cpus[0].gpr[3], 7);
});

test('IA32_TSC_DEADLINE reads back the TSC value written, after the guest moved its TSC', () => {
  const m = new Machine({ memoryMiB: 16 });
  const code = [
    0xc7, 0x05, 0x20, 0x03, 0xe0, 0xfe, 0x40, 0x00, 0x05, 0x00, // LVT timer: TSC-deadline mode, masked, vector 0x40
    0xb9, 0x10, 0, 0, 0, 0x31, 0xc0, 0xba, 1, 0, 0, 0, 0x0f, 0x30, // IA32_TSC = 2^32
    0xb9, 0xe0, 0x06, 0, 0, 0xb8, 0, 0x10, 0, 0, 0xba, 1, 0, 0, 0, 0x0f, 0x30, // IA32_TSC_DEADLINE = 2^32 + 0x1000
    0x31, 0xc0, 0x31, 0xd2, 0x0f, 0x32, // rdmsr it back
    0xeb, 0xfe,
  ];
  m.load(Uint8Array.from(code), { format: 'flat' });
  m.run(100);
  assert.equal(m.stopInfo, null);
  assert.equal(m.cpus[0].gpr[0] >>> 0, 0x1000);
  assert.equal(m.cpus[0].gpr[2] >>> 0, 1);
});
