// The processor priority as software changes it: CR8 is the local APIC's TPR in 64-bit mode
// (SDM vol. 3, "Task Priority in IA-32e Mode": a write sets TPR[7:4] and clears TPR[3:0], a read
// gives TPR[7:4]); an EOI or a TPR write that lets a pending interrupt in makes the vCPU look for it at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../../../core/machine';

function run(code: number[], setup?: (m: Machine) => void): Machine {
  const m = new Machine({ memoryMiB: 16, jit: false });
  m.load(Uint8Array.from(code), { format: 'flat', flatMode: 'long64', flatAddress: 0x100000 });
  setup?.(m);
  m.run(1000);
  return m;
}

test('MOV CR8 writes the TPR through the LAPIC and reads it back', () => {
  // mov eax, 9; mov cr8, rax; mov rbx, cr8; hlt
  const m = run([0xb8, 9, 0, 0, 0, 0x44, 0x0f, 0x22, 0xc0, 0x44, 0x0f, 0x20, 0xc3, 0xf4]);
  assert.equal(m.lapics[0].tpr, 0x90);
  assert.equal(m.lapics[0].ppr(), 0x90);
  assert.equal(m.cpus[0].gpr[3], 9);
});

test('a CR8 read shows a TPR the guest wrote through the xAPIC page, low nibble dropped', () => {
  // mov rbx, cr8; hlt
  const m = run([0x44, 0x0f, 0x20, 0xc3, 0xf4], (mm) => mm.lapics[0].writeTpr(0x5a));
  assert.equal(m.cpus[0].gpr[3], 5);
});

test('an EOI or a TPR write that lets a pending interrupt in makes the vCPU look at the next boundary; one that does not, not (xAPIC and x2APIC)', () => {
  const m = new Machine({ memoryMiB: 16, x2apic: true });
  const c = m.cpus[0], l = m.lapics[0];
  /**
   * Vector 0x30 pending in IRR if `pending`, held back either by vector 0x40 in service
   * (`eoi`: an EOI lets it in) or by TPR 0x50 (a TPR of 0 lets it in).
   */
  const prepare = (pending: boolean, eoi: boolean) => {
    l.isr[2] = eoi ? 1 : 0;
    l.writeTpr(eoi ? 0 : 0x50);
    l.irr[1] = pending ? 1 << 16 : 0;
    assert.equal(l.pendingVector(), -1);
    c.attention = false;
  };
  const writes: [string, boolean, () => void][] = [
    ['MMIO EOI', true, () => m.mmio.write(0, 0xfee00000 + 0xb0, 4, 0)],
    ['MMIO TPR 0', false, () => m.mmio.write(0, 0xfee00000 + 0x80, 4, 0)],
  ];
  for (const [what, eoi, write] of writes) {
    prepare(true, eoi); write();
    assert.equal(c.attention, true, `${what} with 0x30 pending`);
    assert.equal(l.pendingVector(), 0x30);
    prepare(false, eoi); write();
    assert.equal(c.attention, false, `${what} with nothing pending`);
  }
  prepare(true, true);
  m.mmio.write(0, 0xfee00000 + 0xf0, 4, 0x1ff); // SVR: nothing becomes deliverable by itself
  assert.equal(c.attention, false);
  assert.equal(l.writeApicBase(0xfee00000 | 0x800 | 0x400 | 0x100, 0), 'ok');
  for (const [msr, eoi] of [[0x80b, true], [0x808, false]] as const) {
    prepare(true, eoi);
    assert.equal(m.msrWrite(c, msr, 0, 0), 'ok');
    assert.equal(c.attention, true, `WRMSR 0x${msr.toString(16)} with 0x30 pending`);
    prepare(false, eoi);
    assert.equal(m.msrWrite(c, msr, 0, 0), 'ok');
    assert.equal(c.attention, false, `WRMSR 0x${msr.toString(16)} with nothing pending`);
  }
  prepare(true, false);
  m.writeCr8(c, 0);
  assert.equal(c.attention, true, 'MOV CR8 with 0x30 pending');
  prepare(false, false);
  m.writeCr8(c, 0);
  assert.equal(c.attention, false, 'MOV CR8 with nothing pending');
  assert.equal(m.stopInfo, null, 'no invariant broke: every EOI had a vector in service');
});
