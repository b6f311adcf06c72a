// Completion through the real protocol: mnemonics from iced-x86's tables and directives
// where an op goes; registers, the file's own and included constants, and named hardware
// numbers (LAPIC registers, MSRs, ICR fields, CR bits) where operands go; nothing in comments.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { CompletionItem, TextEdit } from 'vscode-languageserver-protocol/node';
import { LspClient, WS } from './client';

const labels = (items: CompletionItem[]) => new Set(items.map((i) => i.label));
const insert = (items: CompletionItem[], label: string) => (items.find((i) => i.label === label)?.textEdit as TextEdit | undefined)?.newText;

describe('language server: completion', () => {
  let lsp: LspClient;
  before(async () => { lsp = await LspClient.start({ root: WS }); });
  after(async () => {
    assert.deepEqual(lsp.errors, [], 'the server logged no errors');
    await lsp.stop();
  });

  const gas = [
    '#include "smp-defs.h"',      // 0
    '        .include "apic.inc"', // 1
    '        .code32',            // 2
    '        wr',                 // 3: op position
    '        mov     $',          // 4: immediate
    '        mov     %e',         // 5: register
    '        nop                  # comment wr', // 6
    '#inc',                       // 7
    'here:   lo',                 // 8: op after a label
    '',
  ].join('\n');

  it('offers mnemonics (iced-x86\'s table), directives, prefixes and macros where an op goes', async () => {
    const uri = await lsp.open(join(WS, 'complete.S'), gas);
    const items = await lsp.completion(uri, 3, 10);
    const l = labels(items);
    for (const m of ['wrmsr', 'rdmsr', 'mov', 'hlt', 'vmcall', 'xsetbv', 'lgdt', '.equ', '.globl', '.intel_syntax', 'lock', 'apic_eoi']) assert.ok(l.has(m), m);
    assert.ok(items.filter((i) => i.kind === 3).length > 1500, 'every mnemonic iced-x86 knows');
    assert.deepEqual((items.find((i) => i.label === 'wrmsr')!.textEdit as TextEdit).range, { start: { line: 3, character: 8 }, end: { line: 3, character: 10 } });
    assert.ok(labels(await lsp.completion(uri, 8, 10)).has('lock'), 'after a label too');
  });

  it('offers constants and hardware numbers after $, registers after %', async () => {
    const uri = await lsp.open(join(WS, 'complete.S'), gas);
    const imm = await lsp.completion(uri, 4, 17);
    assert.equal(insert(imm, 'LAPIC_ICR_LO'), '$LAPIC_ICR_LO', 'a #define of the included header');
    assert.equal(insert(imm, 'X2APIC_ICR'), '$X2APIC_ICR', 'an .equ of the .include (the file\'s own name wins)');
    assert.equal(insert(imm, 'IA32_APIC_BASE'), '$0x1B', 'an MSR by name inserts its number');
    assert.equal(insert(imm, 'LAPIC_ICR_HIGH'), '$0xFEE00310');
    assert.equal(insert(imm, 'APIC_LVT_TIMER'), '$0x320');
    assert.equal(insert(imm, 'X2APIC_SELF_IPI'), '$0x83F');
    assert.equal(insert(imm, 'ICR_ALL_BUT_SELF'), '$0xC0000');
    assert.equal(imm.filter((i) => i.label === 'ICR_STARTUP').length, 1, 'smp-defs.h defines it: no second, hardware item');
    assert.equal(insert(imm, 'ICR_STARTUP'), '$ICR_STARTUP');
    assert.equal(insert(imm, 'CR0_PG'), '$0x80000000');
    assert.equal(insert(imm, 'EFER_LME'), '$EFER_LME', 'defined in apic.inc');
    assert.match((imm.find((i) => i.label === 'IA32_APIC_BASE')!.documentation as { value: string }).value, /x2APIC enable EXTD \(bit 10\)/);
    const regs = await lsp.completion(uri, 5, 18);
    assert.ok(regs.length > 0 && regs.every((i) => String(i.label).startsWith('%')), 'AT&T registers only');
    assert.ok(labels(regs).has('%eax') && labels(regs).has('%cr0'));
  });

  it('offers nothing in a comment, and cpp directives after #', async () => {
    const uri = await lsp.open(join(WS, 'complete.S'), gas);
    assert.deepEqual(await lsp.completion(uri, 6, 38), []);
    assert.ok(labels(await lsp.completion(uri, 7, 4)).has('#include'));
  });

  it('completes NASM operands: registers without %, %include\'d constants, hardware numbers', async () => {
    const text = '%include "apic.mac"\n        bits 32\n        mov     ecx, \n        res\n';
    const uri = await lsp.open(join(WS, 'complete.asm'), text, 'hyperstep-nasm');
    const items = await lsp.completion(uri, 2, 21);
    assert.equal(insert(items, 'eax'), 'eax');
    assert.equal(insert(items, 'LAPIC_BASE'), 'LAPIC_BASE');
    assert.equal(insert(items, 'APIC_SVR'), 'APIC_SVR', 'the %define wins over the hardware name');
    assert.equal(insert(items, 'X2APIC_ICR'), '0x830');
    const op = labels(await lsp.completion(uri, 3, 11));
    assert.ok(op.has('resb') && op.has('rdmsr') && op.has('section') && !op.has('.equ'));
  });
});
