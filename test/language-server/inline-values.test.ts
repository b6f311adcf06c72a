// Inline values while debugging: which registers an assembly line reads, per syntax
// (the pure function the extension's InlineValuesProvider calls), and the same through
// the protocol's textDocument/inlineValue.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { registersRead } from '../../language-server';
import { find, LspClient, readText, WS } from './client';

const names = (line: string, syntax: 'att' | 'intel' | 'nasm', bits?: 16 | 32 | 64) =>
  registersRead(line, syntax, bits).map((r) => (r.implicit ? `(${r.register})` : r.register));

describe('language server: inline values (registers a line reads)', () => {
  it('reads sources and addresses, not destinations (AT&T)', () => {
    assert.deepEqual(names('        mov     %eax, %cr0', 'att'), ['eax']);
    assert.deepEqual(names('        mov     %cr0, %eax', 'att'), ['cr0']);
    assert.deepEqual(names('        add     %ebx, %eax', 'att'), ['ebx', 'eax'], 'ADD reads its destination too');
    assert.deepEqual(names('        movl    $1, 4(%esp,%ecx,2)', 'att'), ['esp', 'ecx']);
    assert.deepEqual(names('1:      testl   $0x1000, 0x300(%ebx)    # wait', 'att'), ['ebx']);
    assert.deepEqual(names('        out     %al, %dx', 'att'), ['al', 'dx']);
    assert.deepEqual(names('        in      %dx, %al', 'att'), ['dx']);
    assert.deepEqual(names('        xor     %eax, %eax', 'att'), [], 'the zeroing idiom reads nothing');
    assert.deepEqual(names('        xor     %ebx, %eax', 'att'), ['ebx', 'eax']);
    assert.deepEqual(names('        call    *%eax', 'att'), ['eax', '(esp)']);
    assert.deepEqual(names('        mov     (%rsi), %rax', 'att'), ['rsi']);
  });

  it('adds the implicit registers of the instruction, at the code size', () => {
    assert.deepEqual(names('        rdmsr', 'att'), ['(ecx)']);
    assert.deepEqual(names('        wrmsr', 'att'), ['(eax)', '(ecx)', '(edx)']);
    assert.deepEqual(names('        cpuid', 'att'), ['(ecx)', '(eax)']);
    assert.deepEqual(names('        rep movsb', 'att', 32), ['(ecx)', '(edi)', '(esi)']);
    assert.deepEqual(names('        rep movsb', 'att', 64), ['(rcx)', '(rdi)', '(rsi)']);
    assert.deepEqual(names('        push    %ebx', 'att', 32), ['ebx', '(esp)']);
    assert.deepEqual(names('        mul     %ebx', 'att'), ['ebx', '(eax)']);
  });

  it('reads Intel and NASM syntax the same way', () => {
    assert.deepEqual(names('        mov     dword ptr [eax + 0x300], 0x000C4608', 'intel'), ['eax']);
    assert.deepEqual(names('        mov     eax, [ebx+esi*4+8]', 'nasm'), ['ebx', 'esi']);
    assert.deepEqual(names('.wait:  cmp     dword [flag], ecx   ; comment', 'nasm'), ['ecx']);
    assert.deepEqual(names('        mov     ecx, 0x1B', 'nasm'), []);
  });

  it('gives the columns of each register as written', () => {
    const line = '        movl    %eax, 0x300(%ebx)';
    const r = registersRead(line, 'att');
    assert.deepEqual(r.map((x) => line.slice(x.start, x.end)), ['%eax', '%ebx']);
    const implicit = registersRead('   rdmsr   # read it', 'att')[0];
    assert.deepEqual([implicit.start, implicit.end], [3, 8], 'an implicit read points at the mnemonic');
  });

  it('is quiet for comments, labels, directives, garbage', () => {
    for (const line of ['', '   # just a comment', 'label:', '        .long 0xFEE00300', '\u0000\u0001garbage(((', '        mov     %eax,']) {
      assert.ok(Array.isArray(registersRead(line, 'att')), line);
    }
    assert.deepEqual(names('   # just a comment', 'att'), []);
    assert.deepEqual(names('        .long 0xFEE00300', 'att'), []);
  });

  describe('through textDocument/inlineValue', () => {
    let lsp: LspClient;
    before(async () => { lsp = await LspClient.start({ root: WS }); });
    after(async () => { assert.deepEqual(lsp.errors, []); await lsp.stop(); });

    it('looks up the registers of the lines up to the stop', async () => {
      const path = join(WS, 'boot.S');
      const text = readText(path);
      const uri = await lsp.open(path, text);
      const first = find(text, 'mov     $IA32_APIC_BASE_MSR').line;
      const stop = find(text, 'mov     $X2APIC_ICR').line;
      const values = await lsp.inlineValues(uri, { start: { line: first, character: 0 }, end: { line: first + 20, character: 0 } }, { start: { line: stop, character: 8 }, end: { line: stop, character: 8 } });
      const got = values.map((v) => ('variableName' in v ? `${v.range.start.line - first}:${v.variableName}` : '?'));
      assert.deepEqual(got, ['1:ecx', '2:eax', '3:eax', '3:ecx', '3:edx']);
    });
  });
});
