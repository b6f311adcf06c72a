// Hover through the real protocol: what each kind of number means where it is used
// (LAPIC MMIO addresses and offsets, MSR numbers in ECX before RDMSR/WRMSR, ICR values
// field by field, CR0/CR4/EFER masks, I/O ports), mnemonics and registers; on the
// fixtures and on the repository's real bring-up code (guests/common).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { find, LspClient, readText, REPO, WS } from './client';

const GUESTS = join(REPO, 'guests');

describe('language server: hover', () => {
  let lsp: LspClient;
  const docs = new Map<string, { uri: string; text: string }>();

  async function at(file: string, needle: string, offset = 0, occurrence = 0): Promise<string> {
    let d = docs.get(file);
    if (!d) {
      const path = join(WS, file);
      const text = readText(path);
      d = { uri: await lsp.open(path, text, file.endsWith('.asm') ? 'hyperstep-nasm' : 'hyperstep-gas'), text };
      docs.set(file, d);
    }
    const p = find(d.text, needle, offset, occurrence);
    return lsp.hoverText(d.uri, p.line, p.character);
  }

  before(async () => { lsp = await LspClient.start({ root: WS }); });
  after(async () => {
    assert.deepEqual(lsp.errors, [], 'the server logged no errors');
    await lsp.stop();
  });

  it('names a local APIC MMIO address', async () => {
    const h = await at('boot.S', '0xFEE00300', 2);
    assert.match(h, /Local APIC ICR low/);
    assert.match(h, /MMIO 0xFEE00300/);
    assert.match(h, /x2APIC MSR 0x830/);
  });

  it('names a local APIC offset from a base register (AT&T, NASM and GNU as Intel syntax)', async () => {
    const att = await at('boot.S', 'LAPIC_ICR_HI(%ebx)', 3);
    assert.match(att, /Local APIC ICR high/);
    assert.match(att, /xAPIC offset 0x310/);
    assert.match(att, /#define LAPIC_ICR_HI {4}0x310/, 'and where the constant comes from (smp-defs.h)');
    assert.match(await at('ap.asm', 'APIC_SVR]', 2), /Local APIC SVR/);
    assert.match(await at('ap.asm', 'APIC_ICR_LO]', 2), /Local APIC ICR low/);
    assert.match(await at('intel.s', '0x300', 2), /Local APIC ICR low/);
  });

  it('names the MSR in ECX before RDMSR and WRMSR', async () => {
    const x2 = await at('boot.S', '$0x830', 2);
    assert.match(x2, /MSR 0x830: x2APIC ICR/);
    const base = await at('boot.S', '$IA32_APIC_BASE_MSR', 3);
    assert.match(base, /MSR 0x1B: IA32_APIC_BASE/);
    assert.match(base, /\.equ IA32_APIC_BASE_MSR, 0x1B/, 'the constant from the .include');
    assert.match(await at('boot.S', '$IA32_EFER', 3), /IA32_EFER/);
    assert.match(await at('ap.asm', '0x1B', 1), /IA32_APIC_BASE/);
    assert.match(await at('intel.s', '0x1B', 1), /IA32_APIC_BASE/);
  });

  it('decodes an ICR value field by field, with the destination written before', async () => {
    const h = await at('boot.S', 'ICR_INIT | ICR_ASSERT', 2);
    for (const row of [
      '| vector | 7:0 | 0x00 |', '| delivery mode | 10:8 | 101 INIT |', '| destination mode | 11 | 0 physical |',
      '| level | 14 | 1 assert |', '| trigger mode | 15 | 0 edge |', '| destination shorthand | 19:18 | 00 no shorthand',
      '| destination | 63:56 | 0x01 (APIC ID 1) |',
    ]) assert.ok(h.includes(row), `${row} in\n${h}`);
    assert.match(h, /Valid combination/);
    const sipi = await at('boot.S', 'AP_TRAMPOLINE >> 12', 0);
    assert.match(sipi, /110 start-up/);
    assert.match(sipi, /AP starts at 0x08000/);
  });

  it('decodes an x2APIC ICR written with WRMSR (EDX:EAX)', async () => {
    const h = await at('boot.S', '$0x000C4500, %eax', 3);
    assert.match(h, /x2APIC ICR/);
    assert.match(h, /\| destination shorthand \| 19:18 \| 11 all excluding self \|/);
    assert.match(h, /\| destination \| 63:32 \| 0x01/);
    assert.doesNotMatch(h, /delivery status/, 'no delivery status bit in x2APIC mode');
  });

  it('decodes SVR and LVT values', async () => {
    assert.match(await at('ap.asm', '0x1FF', 1), /\| APIC software enable \| 8 \| 1 enabled \|/);
    assert.match(await at('boot.S', '$0x00120040', 3), /\*\*LVT_TIMER\*\* = 0x00120040/);
  });

  it('names the CR0, CR4 and EFER bits a mask sets', async () => {
    const cr0 = await at('boot.S', '$0x80000001', 3);
    assert.match(cr0, /Written to CR0/);
    assert.match(cr0, /\*\*PG\*\* \(bit 31\)/);
    assert.match(cr0, /\*\*PE\*\* \(bit 0\)/);
    assert.match(await at('boot.S', '$0x20', 2), /\*\*PAE\*\* \(bit 5\)/);
    const efer = await at('boot.S', '$EFER_LME', 3);
    assert.match(efer, /Written to IA32_EFER/);
    assert.match(efer, /\*\*LME\*\* \(bit 8\)/);
    assert.match(await at('boot.S', '$0xC00', 2), /EXTD x2APIC \(10\), EN global enable \(11\)/);
  });

  it('names well-known ports: UART, debug exit, fw_cfg, PIC, PIT', async () => {
    assert.match(await at('boot.S', '$COM1', 2), /COM1 \+ 0\*\* \(port 0x3F8\)/);
    assert.match(await at('boot.S', '$0xF4', 2), /isa-debug-exit/);
    assert.match(await at('boot.S', '$0x510', 2), /fw_cfg selector/);
    assert.match(await at('boot.S', '$0x21', 2), /8259 PIC master data/);
    assert.match(await at('boot.S', '$0x43', 2), /8254 PIT mode\/command/);
    assert.match(await at('boot.S', '%dx', 1, 1), /COM1 \+ 0/, 'the DX of the OUT too');
  });

  it('explains mnemonics from iced-x86\'s tables, and registers', async () => {
    const rdmsr = await at('boot.S', 'rdmsr', 1);
    assert.match(rdmsr, /\*\*RDMSR\*\*/);
    assert.match(rdmsr, /`0F 32`/);
    assert.match(rdmsr, /numbered ECX into EDX:EAX/);
    const test = await at('boot.S', 'testl', 1);
    assert.match(test, /TEST \(written `testl`, 32-bit operands\)/);
    assert.match(test, /`TEST r\/m32, imm32` - `o32 F7 \/0 id` \(this one\)/);
    assert.match(test, /writes SF ZF PF; clears OF CF; leaves undefined AF/);
    assert.match(await at('boot.S', 'jnz', 1), /Jumps if not equal \(ZF=0\)/);
    assert.match(await at('boot.S', '%ecx', 2), /RDMSR\/WRMSR MSR number/);
    assert.match(await at('boot.S', 'apic_eoi', 2), /macro\*\* `apic_eoi` \(apic.inc, line 7\)/);
    assert.match(await at('boot.S', '.code32', 2), /\*\*\.code32\*\* - Assemble 32-bit code/);
    assert.match(await at('boot.S', '#include', 2), /\*\*#include\*\*/);
    assert.match(await at('ap.asm', '%include', 2), /\*\*%include\*\*/);
    assert.match(await at('boot.S', '1:', 0), /local label\*\* `1:` \(reached by 1/);
    assert.match(await at('main.S', 'start_aps', 2), /function\*\* `start_aps` \(global\) \(boot\.S, line 17\)/);
  });

  it('works on the real AP trampoline (guests/common/trampoline.S)', async () => {
    const guests = await LspClient.start({ root: GUESTS });
    try {
      const path = join(GUESTS, 'common/trampoline.S');
      const text = readText(path);
      const uri = await guests.open(path, text);
      const h = async (needle: string, offset: number) => { const p = find(text, needle, offset); return guests.hoverText(uri, p.line, p.character); };
      assert.match(await h('$EFER, %ecx', 2), /MSR 0xC0000080: IA32_EFER/);
      assert.match(await h('$EFER_LME', 2), /\*\*LME\*\* \(bit 8\)/);
      const cr0 = await h('$0x80000002', 3);
      assert.match(cr0, /\*\*PG\*\* \(bit 31\)/);
      assert.match(cr0, /\*\*MP\*\* \(bit 1\)/);
      assert.match(await h('$~0x4', 2), /clears[\s\S]*\*\*EM\*\* \(bit 2\)/);
      assert.match(await h('$SEL_CODE32', 3), /#define SEL_CODE32 {3}0x08/, 'a constant of gdt.h, found although only the build\'s -Icommon says where');
      const serialPath = join(GUESTS, 'common/serial.S');
      const serial = readText(serialPath);
      const su = await guests.open(serialPath, serial);
      const p = find(serial, 'COM1 + 5', 2);
      assert.match(await guests.hoverText(su, p.line, p.character), /COM1 \+ 5\*\* \(port 0x3FD\): 16550 UART LSR/);
      assert.deepEqual(guests.errors, []);
    } finally {
      await guests.stop();
    }
  });
});
