// Paging and the software TLB (SDM vol. 3, ch. 4): translations survive until INVLPG, a CR3
// write (global entries even that, with CR4.PGE) or a paging-mode change, so a guest that
// forgets to invalidate sees the stale mapping as it would on hardware; A/D bits; #PF codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bareCpu, CODE, DATA, HANDLERS, STACK_TOP } from './bare-cpu';
import { CR0_WP, CR4_PGE } from '../../../core/cpu/regs';
import { flushTlb } from '../../../core/cpu/mmu';

const PT = 0x4000; // the 32-bit page table bare-cpu builds for 0..4 MiB (identity, P|RW)
const pteOf = (lin: number) => PT + 4 * (lin >>> 12);
const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

/** mov r32, [abs32] */
const load = (reg: number, addr: number) => [0x8b, 0x05 | (reg << 3), ...le32(addr)];
/** mov dword [abs32], imm32 */
const store = (addr: number, v: number) => [0xc7, 0x05, ...le32(addr), ...le32(v)];
const invlpg = (addr: number) => [0x0f, 0x01, 0x3d, ...le32(addr)];
const movCr3Eax = [0x0f, 0x20, 0xd8, 0x0f, 0x22, 0xd8]; // mov eax, cr3; mov cr3, eax

function setup() {
  const b = bareCpu('32paged');
  b.poke(DATA, le32(0xaaaaaaaa));
  b.poke(DATA + 0x1000, le32(0xbbbbbbbb));
  return b;
}

test('a changed PTE is not seen until INVLPG: the stale translation is used, as hardware may', () => {
  const b = setup();
  const code = [
    ...load(0, DATA),                              // eax <- A (fills the TLB)
    ...store(pteOf(DATA), (DATA + 0x1000) | 3),    // remap DATA's page to the B page
    ...load(3, DATA),                              // ebx <- still A: stale TLB entry
    ...invlpg(DATA),
    ...load(1, DATA),                              // ecx <- B
  ];
  b.load(code);
  b.runTo(CODE + code.length);
  assert.equal(b.cpu.gpr[0] >>> 0, 0xaaaaaaaa);
  assert.equal(b.cpu.gpr[3] >>> 0, 0xaaaaaaaa);
  assert.equal(b.cpu.gpr[1] >>> 0, 0xbbbbbbbb);
});

test('a CR3 write flushes non-global entries; global ones survive it with CR4.PGE', () => {
  for (const global of [false, true]) {
    const b = setup();
    b.cpu.cr4 |= CR4_PGE;
    b.poke(pteOf(DATA), le32(DATA | 3 | (global ? 0x100 : 0)));
    const code = [
      ...load(0, DATA),
      ...store(pteOf(DATA), (DATA + 0x1000) | 3 | (global ? 0x100 : 0)),
      ...movCr3Eax,
      ...load(1, DATA),
    ];
    b.load(code);
    b.runTo(CODE + code.length);
    assert.equal(b.cpu.gpr[1] >>> 0, global ? 0xaaaaaaaa : 0xbbbbbbbb, `global=${global}`);
  }
});

test('accessed and dirty bits are set in the PTE by reads and writes', () => {
  const b = setup();
  const code = [...load(0, DATA), ...store(DATA + 0x1000, 5)];
  b.load(code);
  b.runTo(CODE + code.length);
  const pte = (lin: number) => new DataView(b.peek(pteOf(lin), 4).buffer).getUint32(0, true);
  assert.equal(pte(DATA) & 0x60, 0x20, 'read: A set, D clear');
  assert.equal(pte(DATA + 0x1000) & 0x60, 0x60, 'write: A and D set');
});

function pageFault(setupFn: (b: ReturnType<typeof setup>) => number[]) {
  const b = setup();
  const code = setupFn(b);
  b.load(code);
  b.runTo(HANDLERS + 16 * 14, 50);
  const sp = b.cpu.gpr[4] >>> 0;
  const err = new DataView(b.peek(sp, 8).buffer);
  return { b, errorCode: err.getUint32(0, true), eip: err.getUint32(4, true) };
}

test('#PF error codes and CR2: not present, write to read-only with CR0.WP, and the faulting EIP', () => {
  const np = pageFault((b) => { b.unmap(DATA); return [0x90, ...load(0, DATA + 0x10)]; });
  assert.equal(np.b.cpu.lastException, 14);
  assert.equal(np.b.cpu.activity, "hlt", "the #PF handler (a HLT stub) ran");
  assert.equal(np.errorCode, 0);
  assert.equal(np.b.cpu.cr2, DATA + 0x10);
  assert.equal(np.eip, CODE + 1);

  const ro = pageFault((b) => { b.poke(pteOf(DATA), le32(DATA | 1)); b.cpu.cr0 |= CR0_WP; return store(DATA + 4, 1); });
  assert.equal(ro.errorCode, 3);
  assert.equal(ro.b.cpu.cr2, DATA + 4);
  assert.equal(ro.eip, CODE);
  assert.equal(new DataView(ro.b.peek(DATA + 4, 4).buffer).getUint32(0, true), 0, 'nothing written');

  // Without CR0.WP a supervisor write to a read-only page succeeds.
  const b = setup();
  b.poke(pteOf(DATA), le32(DATA | 1));
  const code = store(DATA + 4, 7);
  b.load(code);
  b.runTo(CODE + code.length);
  assert.equal(new DataView(b.peek(DATA + 4, 4).buffer).getUint32(0, true), 7);
  void STACK_TOP;
});

test('the last page of the address space (page number -1) is translated again after a flush', () => {
  // An empty TLB entry used to be tagged -1, the last page's number: a flush left its old
  // translation looking valid for 0xffffffff_fffff000. The bare 64-bit machine maps that page
  // through PML4[511] -> PDPT[511] -> PD[511] -> the second page table's last entry.
  const b = bareCpu(64);
  const le64 = (v: number) => [...le32(v), 0, 0, 0, 0];
  const PDPT = 0x2000, PD = 0x3000, PT2 = 0x5000;
  b.poke(PDPT + 511 * 8, le64(PD | 3));
  b.poke(PD + 511 * 8, le64(PT2 | 3));
  b.poke(PT2 + 511 * 8, le64(0x3ff000 | 3));
  flushTlb(b.cpu, true);
  assert.equal(b.cpu.translate(-4096 + 0x10, 0), 0x3ff010);
  b.poke(PT2 + 511 * 8, le64(0x100000 | 3));
  flushTlb(b.cpu, true); // as a CR3 write
  assert.equal(b.cpu.translate(-4096 + 0x10, 0), 0x100010);
});
